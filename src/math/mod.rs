//! Elementary functions shared by the kernels, written once over [`Vector`].
//!
//! Everything here is built from operations that round once, so every backend with fused
//! multiply-add computes the same bits. Error figures are for the function alone, measured by
//! the exhaustive sweep (`cargo run --release --example accuracy`) through the kernels that use
//! them.
#![allow(clippy::excessive_precision)]

mod exp;
mod log;
mod logistic;
mod tables;
mod two_float;

pub use exp::{exp, exp_pair, exp_parts, exp_reduced_pair, exp_times, exp_times_v, expm1, expm1_pair};
pub use log::log1p_unit;
pub use logistic::{
    logistic, logistic_bell, logistic_pair, sech_squared, sigmoid_plus_bell, times_logistic, times_logistic_pair,
};
pub use two_float::{TwoFloat, recip_estimate_1_2};

use crate::backend::Vector;

/// Evaluates a polynomial with coefficients from the highest degree down (Horner, with FMA).
#[inline(always)]
pub fn poly<V: Vector>(x: V, coefficients: &[f32]) -> V {
    let mut acc = V::splat(coefficients[0]);
    for &c in &coefficients[1..] {
        acc = acc.mul_add(x, V::splat(c));
    }
    acc
}

/// `v`, or NaN in the lanes where `x` is NaN: derivatives built from comparisons would otherwise
/// turn a NaN input into 0 or a slope (SPEC §3).
#[inline(always)]
pub fn keep_nan<V: Vector>(x: V, v: V) -> V {
    V::select(x.is_nan(), x, v)
}

/// The derivative of a piece of slope 1 inside `inside` and 0 elsewhere; NaN at NaN `x`.
#[inline(always)]
pub fn step<V: Vector>(inside: V::Mask, x: V) -> V {
    keep_nan(x, V::select(inside, V::splat(1.0), V::splat(0.0)))
}

/// The backward of such a piece: exactly `dy` inside, exactly 0 elsewhere (so an infinite `dy`
/// in a flat region gives 0, as in PyTorch); NaN at NaN `x`.
#[inline(always)]
pub fn pass<V: Vector>(inside: V::Mask, x: V, dy: V) -> V {
    keep_nan(x, V::select(inside, dy, V::splat(0.0)))
}

/// `lo` where `hi` is finite, else 0: the low part of an overflowed (or NaN) pair must not turn
/// `hi + lo` into NaN.
#[inline(always)]
pub fn finite_or_zero<V: Vector>(hi: V, lo: V) -> V {
    V::select(hi.abs().lt(V::splat(f32::INFINITY)), lo, V::splat(0.0))
}
