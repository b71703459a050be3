//! Elementary functions shared by the kernels, written once over [`Vector`].
//!
//! # What lives where
//!
//! - `two_float.rs`: [`TwoFloat`], a value carried as the unevaluated sum `hi + lo` of two
//!   vectors: TwoSum and FastTwoSum, `+` and `·` of pairs, the corrected quotient
//!   [`TwoFloat::div`] and the reciprocal estimate it takes, [`recip_estimate_1_2`].
//! - `exp.rs`: the exponential family: [`exp`], [`expm1`], c·eˣ ([`exp_times`] for a constant c,
//!   [`exp_times_v`] for a run-time one), the two-float [`exp_pair`] and [`expm1_pair`], the
//!   range reductions [`exp_parts`] and [`exp_reduced_pair`].
//! - `logistic.rs`: the σ family: [`logistic`] and [`logistic_pair`] (σ), [`times_logistic`]
//!   and [`times_logistic_pair`] (c·σ), the bell σ' ([`logistic_bell`], [`sech_squared`]) and
//!   σ + c·σ' ([`sigmoid_plus_bell`]); `tables.rs` holds [`sech_squared`]'s 32-interval tables.
//! - `log.rs`: ln(1 + v) on [0, 1], [`log1p_unit`].
//! - `mod.rs` (here): Horner's rule, [`poly`], and the select helpers of the piecewise kernels,
//!   [`keep_nan`], [`step`], [`pass`], [`finite_or_zero`].
//!
//! A `_pair` suffix means the argument is a [`TwoFloat`] (and, for [`exp_pair`] and
//! [`exp_reduced_pair`], the result too). Which σ to use: [`logistic`]`(x)` for a plain input,
//! the fast one (one exponential, one corrected division: the σ forward); [`logistic_pair`]`(x)`
//! when the argument itself carries a rounding error (softplus's βx, an exact product as a pair)
//! or when its lower error is worth carrying every step as a pair (logsigmoid's derivative, with
//! an exact argument); likewise [`times_logistic`] and [`times_logistic_pair`] for c·σ.
//!
//! # Rounding discipline
//!
//! Everything here is built from [`Vector`] operations that round once (IEEE-754 add, multiply,
//! divide, fused multiply-add, and exact selects and bit manipulation), never from estimates
//! whose bits differ between instruction sets, so every backend with fused multiply-add computes
//! the same bits. Accuracy comes from choosing where the roundings fall: the few that a result
//! would amplify (a reduced argument, the last addition of a polynomial, a rounded argument such
//! as βx or −a²/2, the 1 + u of a denominator) are carried as low parts ([`TwoFloat`]) and
//! folded in at the end, so that most results round about once; factors are applied before the
//! scaling by 2ⁿ, so results stay accurate where eˣ alone would be subnormal. The fast tier
//! ([`Vector::FAST`], [`Fast`](crate::Fast)) drops some of these low parts and shortens eˣ's
//! polynomial; each function says where.
//!
//! # How the errors were measured
//!
//! Errors are in ULPs as [`accuracy::ulp_error`](crate::accuracy::ulp_error) counts them (SPEC
//! §4): against an `f64` reference, in ULPs of the exact result, any error up to 2⁻¹²⁶ being
//! accepted below the normal range. Each figure comes from one of three places, which its
//! function's documentation names:
//!
//! - through a kernel: the exhaustive sweep of all 2³² inputs (`cargo run --release --example
//!   accuracy -- --backend avx512,avx2`, `docs/accuracy-exhaustive.md`) measures a function over
//!   the arguments and factors one kernel passes it ("1.010 ULP, all x (sigmoid's forward)");
//! - on its own: `cargo run --release --example math_accuracy` runs the functions on one lane
//!   (`f32`, whose bits are those of every fused backend) over every `f32` of the stated range,
//!   for the figures no kernel gives (eˣ on its own, factors other than a kernel's, the pairs'
//!   low parts);
//! - by analysis, for the two-float operations, from the roundings they do (not measured).
//!
//! Fast-tier figures are the kernels' (`docs/accuracy-exhaustive.md`, "Fast tier").
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
///
/// Each step rounds once; the error of the result is the caller's to state (its fit and how the
/// roundings grow on its range). Any `x`; `coefficients` must not be empty (panics).
#[inline(always)]
pub fn poly<V: Vector>(x: V, coefficients: &[f32]) -> V {
    let mut acc = V::splat(coefficients[0]);
    for &c in &coefficients[1..] {
        acc = acc.mul_add(x, V::splat(c));
    }
    acc
}

/// `v`, or NaN in the lanes where `x` is NaN: derivatives built from comparisons would otherwise
/// turn a NaN input into 0 or a slope (CONTRACT §3). Exact (a select), for any inputs.
#[inline(always)]
pub fn keep_nan<V: Vector>(x: V, v: V) -> V {
    V::select(x.is_nan(), x, v)
}

/// The derivative of a piece of slope 1 inside `inside` and 0 elsewhere; NaN at NaN `x`. Exact,
/// for any inputs.
#[inline(always)]
pub fn step<V: Vector>(inside: V::Mask, x: V) -> V {
    keep_nan(x, V::select(inside, V::splat(1.0), V::splat(0.0)))
}

/// The backward of such a piece: exactly `dy` inside, exactly 0 elsewhere (so an infinite `dy`
/// in a flat region gives 0, as in PyTorch); NaN at NaN `x`. Exact, for any inputs.
#[inline(always)]
pub fn pass<V: Vector>(inside: V::Mask, x: V, dy: V) -> V {
    keep_nan(x, V::select(inside, dy, V::splat(0.0)))
}

/// `lo` where `hi` is finite, else 0: the low part of an overflowed (or NaN) pair must not turn
/// `hi + lo` into NaN. Exact (a select), for any inputs.
#[inline(always)]
pub fn finite_or_zero<V: Vector>(hi: V, lo: V) -> V {
    V::select(hi.abs().lt(V::splat(f32::INFINITY)), lo, V::splat(0.0))
}
