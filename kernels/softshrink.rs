//! # softshrink
//!
//! - Forward: x > λ ? x − λ : x < −λ ? x + λ : x·0 (so −0 inside the band for negative x).
//!   Derivative: |x| > λ ? 1 : 0 (0 at ±λ). From the output (λ ≥ 0): y ≠ 0 ? 1 : 0.
//! - Method: PyTorch's operations in PyTorch's order; bit-identical to it. The backward selects
//!   `dy` or 0.
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0, from the output 0 ULP, at λ = 0.5 (all 2³² inputs,
//!   `docs/accuracy-exhaustive.md`).

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::{pass, step};

crate::kernel_params! {
    /// Soft shrinkage: moves `x` toward 0 by λ, and is 0 on `[−λ, λ]`.
    ///
    /// ```
    /// use actkern::{Apply, Softshrink};
    /// let mut y = [0.0f32; 3];
    /// Softshrink { lambd: 0.5 }.forward(&[-2.0, 0.25, 2.0], &mut y);
    /// assert_eq!(y, [-1.5, 0.0, 1.5]);
    /// ```
    pub struct Softshrink {
        /// Half-width λ of the zeroed band (default 0.5), λ ≥ 0.
        lambd: f32 = 0.5 => NonNegative,
    }
}

impl Softshrink {
    #[inline(always)]
    fn outside<V: Vector>(&self, x: V) -> V::Mask {
        x.gt(V::splat(self.lambd)) | x.lt(V::splat(-self.lambd))
    }
}

impl Kernel for Softshrink {
    const NAME: &'static str = "softshrink";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::Always;
    const FORMULA: &'static str = "x > lambd ? x - lambd : x < -lambd ? x + lambd : 0; f'(x) = |x| > lambd ? 1 : 0";
    const EXAMPLES: &'static [&'static str] = &["softshrink", "softshrink(lambd=1.5)", "softshrink(lambd=0)"];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        let lambd = V::splat(self.lambd);
        let inner = V::select(x.lt(-lambd), x + lambd, x * V::splat(0.0));
        V::select(x.gt(lambd), x - lambd, inner)
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        step(self.outside(x), x)
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        pass(self.outside(x), x, dy)
    }
    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        step(!y.eq(V::splat(0.0)), y)
    }
    #[inline(always)]
    fn backward_from_output<V: Vector>(&self, y: V, dy: V) -> V {
        pass(!y.eq(V::splat(0.0)), y, dy)
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::softshrink(x, self.lambd.into())
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::softshrink_derivative(x, self.lambd.into())
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        Some(crate::reference::hardshrink_derivative_from_output(y))
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        Some(crate::reference::pytorch::softshrink(x, self.lambd))
    }
}
