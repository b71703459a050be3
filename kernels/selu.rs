//! # selu
//!
//! - Forward: λ·(x > 0 ? x : α·(eˣ − 1)) with SPEC's α ≈ 1.6733, λ ≈ 1.0507.
//!   Derivative: x > 0 ? λ : λα·eˣ (λα ≈ 1.7581 at 0). From the output: y > 0 ? λ : y + λα.
//! - Method: as [`Elu`](crate::Elu), with λ and λα rounded once to f32 and λα·eˣ evaluated with
//!   λα as a two-float sum (so it adds no rounding of its own). From the output, y + λα is
//!   computed as (y + hi) + lo: y + hi is exact where y ≈ −λα, so the result keeps its relative
//!   accuracy as it approaches 0.
//! - Measured max error (exhaustive, every backend): forward 1.673 ULP, derivative 1.167, from
//!   the output 0.695 (all 2³² inputs, `docs/accuracy-exhaustive.md`).
#![allow(clippy::excessive_precision)]

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::{TwoFloat, exp_times, expm1, finite_or_zero, keep_nan};

crate::kernel_params! {
    /// Scaled ELU with the self-normalizing constants (no parameters).
    ///
    /// ```
    /// use actkern::{Apply, Selu};
    /// let mut y = [0.0f32; 2];
    /// Selu.forward(&[0.0, 1.0], &mut y);
    /// assert_eq!(y, [0.0, 1.050_701]);
    /// ```
    pub struct Selu;
}

/// λ rounded to f32, and the rest: λ·x = fma(x, λ, x·λ_lo) rounds once, so x just below
/// f32::MAX/λ gives f32::MAX rather than the +inf of x times a rounded-up λ.
const LAMBDA: f32 = 1.050_700_987_355_480_493_419_334_985_294_6;
const LAMBDA_LO: f32 = (1.050_700_987_355_480_493_419_334_985_294_6_f64 - LAMBDA as f64) as f32;
/// λα = 1.758099340847376859... as an unevaluated sum of two f32.
const LAMBDA_ALPHA_HI: f32 = 1.758_099_340_847_376_859;
const LAMBDA_ALPHA_LO: f32 = (1.758_099_340_847_376_859_f64 - LAMBDA_ALPHA_HI as f64) as f32;

impl Kernel for Selu {
    const NAME: &'static str = "selu";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::Always;
    const FORMULA: &'static str =
        "lambda * (x > 0 ? x : alpha * (exp(x) - 1)); f'(x) = x > 0 ? lambda : lambda * alpha * exp(x)";
    const EXAMPLES: &'static [&'static str] = &["selu"];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        // λα · (eˣ − 1) with λα = hi + lo: the product rounds once.
        let e = expm1(x);
        let negative_side = V::splat(LAMBDA_ALPHA_HI).mul_add(e, V::splat(LAMBDA_ALPHA_LO) * e);
        V::select(
            x.gt(V::splat(0.0)),
            x.mul_add(V::splat(LAMBDA), finite_or_zero(x, x * V::splat(LAMBDA_LO))),
            negative_side,
        )
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        V::select(
            x.gt(V::splat(0.0)),
            V::splat(LAMBDA),
            exp_times(
                x,
                TwoFloat {
                    hi: LAMBDA_ALPHA_HI,
                    lo: LAMBDA_ALPHA_LO,
                },
            ),
        )
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        dy * self.derivative(x)
    }
    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        let negative_side = (y + V::splat(LAMBDA_ALPHA_HI)) + V::splat(LAMBDA_ALPHA_LO);
        keep_nan(y, V::select(y.gt(V::splat(0.0)), V::splat(LAMBDA), negative_side))
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::selu(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::selu_derivative(x)
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        Some(crate::reference::selu_derivative_from_output(y))
    }
}
