//! # hardtanh
//!
//! - Forward: min(max(x, min_val), max_val) (hardtanh(−0) = −0, NaN stays NaN).
//!   Derivative: min_val < x < max_val ? 1 : 0 (0 at both knees). From the output: the same
//!   test on y.
//! - Method: two compares and selects; bit-identical to PyTorch. The backward selects `dy` or 0.
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0, from the output 0 ULP, at [−1, 1] (all 2³² inputs,
//!   `docs/accuracy-exhaustive.md`).

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::{pass, step};

crate::kernel_params! {
    /// Hard tanh: `min(max(x, min_val), max_val)`, with `min_val ≤ max_val`.
    ///
    /// ```
    /// use actkern::{Apply, Hardtanh};
    /// let mut y = [0.0f32; 3];
    /// Hardtanh { min_val: -2.0, max_val: 2.0 }.forward(&[-3.0, 0.5, 3.0], &mut y);
    /// assert_eq!(y, [-2.0, 0.5, 2.0]);
    /// ```
    pub struct Hardtanh {
        /// Lower bound (default −1).
        min_val: f32 = -1.0 => Finite,
        /// Upper bound (default 1), at least `min_val`.
        max_val: f32 = 1.0 => Finite,
    }
    check = Hardtanh::ordered;
}

impl Hardtanh {
    /// PyTorch's constraint between the parameters.
    fn ordered(&self) -> Result<(), String> {
        if self.min_val > self.max_val {
            return Err(format!(
                "min_val ({}) must not exceed max_val ({})",
                self.min_val, self.max_val
            ));
        }
        Ok(())
    }

    #[inline(always)]
    fn inside<V: Vector>(&self, x: V) -> V::Mask {
        x.gt(V::splat(self.min_val)) & x.lt(V::splat(self.max_val))
    }
}

impl Kernel for Hardtanh {
    const NAME: &'static str = "hardtanh";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::Always;
    const FORMULA: &'static str = "min(max(x, min_val), max_val); f'(x) = min_val < x < max_val ? 1 : 0";
    const EXAMPLES: &'static [&'static str] = &[
        "hardtanh",
        "hardtanh(min_val=-2, max_val=2)",
        "hardtanh(min_val=0, max_val=6)",
        "hardtanh(min_val=-0.5, max_val=-0.5)",
    ];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        x.max_keep_nan(V::splat(self.min_val))
            .min_keep_nan(V::splat(self.max_val))
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        step(self.inside(x), x)
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        pass(self.inside(x), x, dy)
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
        crate::reference::hardtanh(x, self.min_val.into(), self.max_val.into())
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::hardtanh_derivative(x, self.min_val.into(), self.max_val.into())
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        Some(crate::reference::hardtanh_derivative_from_output(
            y,
            self.min_val.into(),
            self.max_val.into(),
        ))
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        Some(crate::reference::pytorch::hardtanh(x, self.min_val, self.max_val))
    }
}
