//! A strided sweep over all 2³² f32 bit patterns (every `STRIDE`-th one, a prime, so every
//! exponent, sign and low-bit pattern is visited): every function of every activation instance
//! on every backend, against the reference at CONTRACT §4's bound, and bit identity between the
//! backends (`Scalar` is the bit-exact reference of the vector backends; NaN matches any NaN).
//! A second set, floats with short significands, hunts the exact ties where a double rounding
//! would break bit identity.
//!
//! The exhaustive sweep is `cargo run --release --example accuracy`; this one keeps
//! `cargo test --release` within a few minutes on two cores.

use crate::common::{DYS, Failures, fast_tier_instances, instances, sweep_backward, sweep_function};
use actkern::Tier;
use actkern::accuracy::Function;

/// A prime: 2³² / 1999 ≈ 2.15 million inputs per function, instance and backend (the whole
/// sweep takes about a minute of CPU on the current kernels).
const STRIDE: u64 = 1999;

/// Every `STRIDE`-th bit pattern, starting at `offset`.
fn bit_patterns(offset: u64) -> Vec<f32> {
    (offset..1u64 << 32)
        .step_by(STRIDE as usize)
        .map(|bits| f32::from_bits(bits as u32))
        .collect()
}

/// A gradient per input, cycling through [`DYS`] and a spread of ordinary values.
fn gradients(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| match i % 16 {
            k if k < DYS.len() => DYS[k],
            k => (k as f32 - 12.0) * 0.75,
        })
        .collect()
}

fn sweep(function: Function) {
    let x = bit_patterns(0);
    let mut failures = Failures::default();
    for act in instances() {
        sweep_function(&act, Tier::Accurate, function, &x, true, &mut failures);
    }
    failures.assert_none(&format!("strided sweep of {}", function.label()));
}

/// Floats whose significand has at most 12 leading bits set (k·2ᵉ for k < 2¹², every exponent
/// and sign, ±inf and some NaNs included), every 15th of the 2²¹ of them: their products and
/// sums are often exact or exact ties, where a second rounding shows (the Portable backend's
/// emulated fused multiply-add when the build has no FMA).
fn short_significands() -> Vec<f32> {
    (0u32..1 << 21)
        .step_by(15)
        .map(|i| f32::from_bits((i >> 20) << 31 | (i >> 12 & 0xff) << 23 | (i & 0xfff) << 11))
        .collect()
}

/// Every function on [`short_significands`], within the bound and bit-identical across backends.
#[test]
fn short_significands_are_within_bound_and_identical_on_every_backend() {
    let x = short_significands();
    let dy = gradients(x.len());
    let mut failures = Failures::default();
    for act in instances() {
        for function in [Function::Forward, Function::Derivative, Function::DerivativeFromOutput] {
            sweep_function(&act, Tier::Accurate, function, &x, true, &mut failures);
        }
        sweep_backward(&act, Tier::Accurate, false, &x, &dy, true, &mut failures);
        sweep_backward(&act, Tier::Accurate, true, &x, &dy, true, &mut failures);
    }
    failures.assert_none("short significands");
}

#[test]
fn forward() {
    sweep(Function::Forward);
}

#[test]
fn derivative() {
    sweep(Function::Derivative);
}

#[test]
fn derivative_from_output() {
    sweep(Function::DerivativeFromOutput);
}

#[test]
fn backward() {
    // A different phase from the other functions, so the sweeps together visit more patterns.
    let x = bit_patterns(STRIDE / 2);
    let dy = gradients(x.len());
    let mut failures = Failures::default();
    for act in instances() {
        sweep_backward(&act, Tier::Accurate, false, &x, &dy, true, &mut failures);
    }
    failures.assert_none("strided sweep of the backward");
}

#[test]
fn backward_from_output() {
    let x = bit_patterns(STRIDE / 3);
    let dy = gradients(x.len());
    let mut failures = Failures::default();
    for act in instances() {
        sweep_backward(&act, Tier::Accurate, true, &x, &dy, true, &mut failures);
    }
    failures.assert_none("strided sweep of the backward from the output");
}

/// The fast tier of every activation that has one, on every backend, at its own bounds (4 ULP
/// forward and derivative, 5 backward): a sparser stride, as the backends may differ in bits
/// and each is judged on its own. The exhaustive rows: `--tier fast` of the accuracy example.
#[test]
fn fast_tier() {
    const FAST_STRIDE: usize = 4999;
    let every = |offset: u64| -> Vec<f32> {
        (offset..1u64 << 32)
            .step_by(FAST_STRIDE)
            .map(|bits| f32::from_bits(bits as u32))
            .collect()
    };
    let x = every(0);
    let xb = every(FAST_STRIDE as u64 / 2);
    let dy = gradients(xb.len());
    let mut failures = Failures::default();
    for act in fast_tier_instances() {
        for function in [Function::Forward, Function::Derivative, Function::DerivativeFromOutput] {
            sweep_function(&act, Tier::Fast, function, &x, false, &mut failures);
        }
        sweep_backward(&act, Tier::Fast, false, &xb, &dy, false, &mut failures);
        sweep_backward(&act, Tier::Fast, true, &xb, &dy, false, &mut failures);
    }
    failures.assert_none("strided sweep of the fast tier");
}
