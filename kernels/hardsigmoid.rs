//! # hardsigmoid
//!
//! - Forward: min(max(x + 3, 0), 6) / 6. Derivative: −3 < x < 3 ? 1/6 : 0 (0 at ±3).
//!   From the output: 0 < y < 1 ? 1/6 : 0.
//! - Method: PyTorch's operations in PyTorch's order (add, clamp, divide by 6), so the forward is
//!   bit-identical to it; the derivative is `1/6` rounded to f32, as PyTorch's `one_sixth`.
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0.333 ULP (1/6 rounded once), from the output 0.333 (all 2³² inputs,
//!   `docs/accuracy-exhaustive.md`).

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::keep_nan;

crate::kernel_params! {
    /// Hard sigmoid: `min(max(x + 3, 0), 6) / 6`.
    ///
    /// ```
    /// use actkern::{Apply, Hardsigmoid};
    /// let mut y = [0.0f32; 3];
    /// Hardsigmoid.forward(&[-4.0, 0.0, 4.0], &mut y);
    /// assert_eq!(y, [0.0, 0.5, 1.0]);
    /// ```
    pub struct Hardsigmoid;
}

const ONE_SIXTH: f32 = 1.0 / 6.0;

impl Hardsigmoid {
    #[inline(always)]
    fn inside<V: Vector>(x: V) -> V::Mask {
        x.gt(V::splat(-3.0)) & x.lt(V::splat(3.0))
    }
    #[inline(always)]
    fn output_inside<V: Vector>(y: V) -> V::Mask {
        y.gt(V::splat(0.0)) & y.lt(V::splat(1.0))
    }
}

impl Kernel for Hardsigmoid {
    const NAME: &'static str = "hardsigmoid";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::Always;
    const FORMULA: &'static str = "min(max(x + 3, 0), 6) / 6; f'(x) = -3 < x < 3 ? 1/6 : 0";
    const EXAMPLES: &'static [&'static str] = &["hardsigmoid"];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        (x + V::splat(3.0))
            .max_keep_nan(V::splat(0.0))
            .min_keep_nan(V::splat(6.0))
            / V::splat(6.0)
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        keep_nan(x, V::select(Self::inside(x), V::splat(ONE_SIXTH), V::splat(0.0)))
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        keep_nan(x, V::select(Self::inside(x), dy * V::splat(ONE_SIXTH), V::splat(0.0)))
    }
    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        keep_nan(y, V::select(Self::output_inside(y), V::splat(ONE_SIXTH), V::splat(0.0)))
    }
    #[inline(always)]
    fn backward_from_output<V: Vector>(&self, y: V, dy: V) -> V {
        keep_nan(
            y,
            V::select(Self::output_inside(y), dy * V::splat(ONE_SIXTH), V::splat(0.0)),
        )
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::hardsigmoid(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::hardsigmoid_derivative(x)
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        Some(crate::reference::hardsigmoid_derivative_from_output(y))
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        Some(crate::reference::pytorch::hardsigmoid(x))
    }
}
