//! # hardshrink
//!
//! - Forward: −λ ≤ x ≤ λ ? 0 : x (x itself on both sides; hardshrink(−0) = +0).
//!   Derivative: x < −λ or x > λ ? 1 : 0 (0 at ±λ). From the output (λ ≥ 0): y ≠ 0 ? 1 : 0.
//! - Method: two compares and a select; bit-identical to PyTorch. The backward selects `dy` or 0.
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0, from the output 0 ULP, at λ = 0.5 (all 2³² inputs,
//!   `docs/accuracy-exhaustive.md`).

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::{pass, step};

crate::kernel_params! {
    /// Hard shrinkage: `0` on `[−λ, λ]`, `x` outside.
    ///
    /// ```
    /// use actkern::{Apply, Hardshrink};
    /// let mut y = [0.0f32; 3];
    /// Hardshrink { lambd: 0.5 }.forward(&[-1.0, 0.25, 1.0], &mut y);
    /// assert_eq!(y, [-1.0, 0.0, 1.0]);
    /// ```
    pub struct Hardshrink {
        /// Half-width λ of the zeroed band (default 0.5), any finite value.
        lambd: f32 = 0.5 => Finite,
    }
}

impl Hardshrink {
    /// The band −λ ≤ x ≤ λ that maps to 0.
    #[inline(always)]
    fn in_band<V: Vector>(&self, x: V) -> V::Mask {
        x.ge(V::splat(-self.lambd)) & x.le(V::splat(self.lambd))
    }
    /// Outside the band (false for NaN, like the band test).
    #[inline(always)]
    fn outside<V: Vector>(&self, x: V) -> V::Mask {
        x.lt(V::splat(-self.lambd)) | x.gt(V::splat(self.lambd))
    }
}

impl Kernel for Hardshrink {
    const NAME: &'static str = "hardshrink";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::When {
        condition: "lambd >= 0",
        holds: |k| k.lambd >= 0.0,
    };
    const FORMULA: &'static str = "-lambd <= x <= lambd ? 0 : x; f'(x) = |x| > lambd ? 1 : 0";
    const EXAMPLES: &'static [&'static str] = &[
        "hardshrink",
        "hardshrink(lambd=1.25)",
        "hardshrink(lambd=0)",
        "hardshrink(lambd=-0.5)",
    ];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        V::select(self.in_band(x), V::splat(0.0), x)
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
        crate::reference::hardshrink(x, self.lambd.into())
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::hardshrink_derivative(x, self.lambd.into())
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        self.has_derivative_from_output()
            .then(|| crate::reference::hardshrink_derivative_from_output(y))
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        Some(crate::reference::pytorch::hardshrink(x, self.lambd))
    }
}
