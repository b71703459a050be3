//! # relu6
//!
//! - Forward: min(max(x, 0), 6) (relu6(−0) = −0, NaN stays NaN). Derivative: 0 < x < 6 ? 1 : 0
//!   (0 at both knees). From the output: the same test on y.
//! - Method: two compares and selects; bit-identical to PyTorch. The backward selects `dy` or 0.
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0, from the output 0 ULP (all 2³² inputs, `docs/accuracy-exhaustive.md`).

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::{pass, step};

crate::kernel_params! {
    /// ReLU capped at 6: `min(max(x, 0), 6)`.
    ///
    /// ```
    /// use actkern::{Apply, Relu6};
    /// let mut y = [0.0f32; 3];
    /// Relu6.forward(&[-1.0, 3.0, 7.0], &mut y);
    /// assert_eq!(y, [0.0, 3.0, 6.0]);
    /// ```
    pub struct Relu6;
}

impl Relu6 {
    #[inline(always)]
    fn inside<V: Vector>(x: V) -> V::Mask {
        x.gt(V::splat(0.0)) & x.lt(V::splat(6.0))
    }
}

impl Kernel for Relu6 {
    const NAME: &'static str = "relu6";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::Always;
    const FORMULA: &'static str = "min(max(x, 0), 6); f'(x) = 0 < x < 6 ? 1 : 0";
    const EXAMPLES: &'static [&'static str] = &["relu6"];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        x.max_keep_nan(V::splat(0.0)).min_keep_nan(V::splat(6.0))
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        step(Self::inside(x), x)
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        pass(Self::inside(x), x, dy)
    }
    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        self.derivative(y)
    }
    #[inline(always)]
    fn backward_from_output<V: Vector>(&self, y: V, dy: V) -> V {
        self.backward(y, dy)
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::relu6(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::relu6_derivative(x)
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        Some(crate::reference::relu6_derivative_from_output(y))
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        Some(crate::reference::pytorch::relu6(x))
    }
}
