//! # hardswish
//!
//! - Forward: x · min(max(x + 3, 0), 6) / 6, evaluated as (x·c)/6 like PyTorch, so it is
//!   bit-identical to it — except hardswish(−inf) = −0 where PyTorch's −inf·0 gives NaN (CONTRACT §3).
//! - Derivative: x ≤ −3 ? 0 : x < 3 ? x/3 + 1/2 : 1 (0 at −3, 1/2 at 0, 1 at 3). Not the seed's
//!   x/6 + 1/2, which is the hardsigmoid slope. No derivative from the output: y does not
//!   determine x on (−3, 0).
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0.500 ULP (all 2³² inputs, `docs/accuracy-exhaustive.md`; CONTRACT §4 allows 2⁻²⁴
//!   absolute near its zero at x = −1.5).
#![allow(clippy::excessive_precision)]

use crate::backend::Vector;
use crate::kernel::Kernel;
use crate::math::{TwoFloat, keep_nan};

crate::kernel_params! {
    /// Hard swish: `x · min(max(x + 3, 0), 6) / 6`.
    ///
    /// ```
    /// use actkern::{Apply, Hardswish};
    /// let mut y = [0.0f32; 3];
    /// Hardswish.forward(&[-4.0, 1.0, 4.0], &mut y);
    /// assert_eq!(y, [-0.0, 1.0 * 4.0 / 6.0, 4.0]);
    /// ```
    pub struct Hardswish;
}

impl Hardswish {
    /// x/3 + 1/2 rounded once: x·(1/3) and the sum carried as pairs, so the result keeps its
    /// relative accuracy as it approaches its zero at x = −1.5.
    #[inline(always)]
    fn ramp<V: Vector>(x: V) -> V {
        let third = TwoFloat::exact(x) * TwoFloat::splat(THIRD_HI, THIRD_LO);
        (third + TwoFloat::splat(0.5, 0.0)).rounded()
    }
}

/// 1/3 as an unevaluated sum of two f32.
const THIRD_HI: f32 = 0.333_333_343;
const THIRD_LO: f32 = (1.0 / 3.0 - THIRD_HI as f64) as f32;

impl Kernel for Hardswish {
    const NAME: &'static str = "hardswish";
    const FORMULA: &'static str = "x * min(max(x + 3, 0), 6) / 6; f'(x) = x <= -3 ? 0 : x < 3 ? x/3 + 1/2 : 1";
    const EXAMPLES: &'static [&'static str] = &["hardswish"];
    const DERIVATIVE_ZERO: Option<f32> = Some(-1.5);

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        let c = (x + V::splat(3.0))
            .max_keep_nan(V::splat(0.0))
            .min_keep_nan(V::splat(6.0));
        // x ≤ −3 gives x·0/6 = −0 in PyTorch; selecting −0 also covers x = −inf.
        V::select(x.le(V::splat(-3.0)), V::splat(-0.0), (x * c) / V::splat(6.0))
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        let ramp = Self::ramp(x);
        let d = V::select(x.lt(V::splat(3.0)), ramp, V::splat(1.0));
        keep_nan(x, V::select(x.le(V::splat(-3.0)), V::splat(0.0), d))
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        let ramp = dy * Self::ramp(x);
        let dx = V::select(x.lt(V::splat(3.0)), ramp, dy);
        keep_nan(x, V::select(x.le(V::splat(-3.0)), V::splat(0.0), dx))
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::hardswish(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::hardswish_derivative(x)
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        Some(crate::reference::pytorch::hardswish(x))
    }
}
