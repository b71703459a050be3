//! # relu
//!
//! - Forward: `clamp_min(x, 0)` (relu(−0) = −0, NaN stays NaN). Derivative: x > 0 ? 1 : 0.
//!   From the output: y > 0 ? 1 : 0.
//! - Method: one compare and select; bit-identical to PyTorch. The backward selects `dy` or 0.
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0, from the output 0 ULP (all 2³² inputs, `docs/accuracy-exhaustive.md`).

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::{pass, step};

crate::kernel_params! {
    /// Rectified linear unit: `max(x, 0)`.
    ///
    /// ```
    /// use actkern::{Apply, Relu};
    /// let mut y = [0.0f32; 3];
    /// Relu.forward(&[-1.0, -0.0, 2.0], &mut y);
    /// assert_eq!(y, [0.0, -0.0, 2.0]);
    /// ```
    pub struct Relu;
}

impl Kernel for Relu {
    const NAME: &'static str = "relu";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::Always;
    const FORMULA: &'static str = "max(x, 0); f'(x) = x > 0 ? 1 : 0";
    const EXAMPLES: &'static [&'static str] = &["relu"];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        x.max_keep_nan(V::splat(0.0))
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        step(x.gt(V::splat(0.0)), x)
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        pass(x.gt(V::splat(0.0)), x, dy)
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
        crate::reference::relu(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::relu_derivative(x)
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        Some(crate::reference::relu_derivative_from_output(y))
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        Some(crate::reference::pytorch::relu(x))
    }
}
