//! # threshold
//!
//! - Forward: x ≤ threshold ? value : x. Derivative: x ≤ threshold ? 0 : 1. Both parameters are
//!   required, as in PyTorch. No derivative from the output: `value` may equal outputs of the
//!   identity side.
//! - Method: one compare and select; bit-identical to PyTorch. The backward selects `dy` or 0.
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0 ULP, at threshold = 0, value = 0 (all 2³² inputs, `docs/accuracy-exhaustive.md`).

use crate::backend::Vector;
use crate::kernel::Kernel;
use crate::math::{pass, step};

crate::kernel_params! {
    /// Threshold: `x ≤ threshold ? value : x`.
    ///
    /// ```
    /// use actkern::{Apply, Threshold};
    /// let mut y = [0.0f32; 3];
    /// Threshold { threshold: 0.5, value: -1.0 }.forward(&[0.0, 0.5, 2.0], &mut y);
    /// assert_eq!(y, [-1.0, -1.0, 2.0]);
    /// ```
    pub struct Threshold {
        /// Inputs at or below this are replaced (required).
        threshold: f32 => Finite,
        /// What they are replaced with (required).
        value: f32 => Finite,
    }
}

impl Kernel for Threshold {
    const NAME: &'static str = "threshold";
    const FORMULA: &'static str = "x <= threshold ? value : x; f'(x) = x <= threshold ? 0 : 1";
    const EXAMPLES: &'static [&'static str] = &[
        "threshold(threshold=0, value=0)",
        "threshold(threshold=0.5, value=-1)",
        "threshold(threshold=-2, value=3)",
    ];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        V::select(x.le(V::splat(self.threshold)), V::splat(self.value), x)
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        step(x.gt(V::splat(self.threshold)), x)
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        pass(x.gt(V::splat(self.threshold)), x, dy)
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::threshold(x, self.threshold.into(), self.value.into())
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::threshold_derivative(x, self.threshold.into())
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        Some(crate::reference::pytorch::threshold(x, self.threshold, self.value))
    }
}
