//! # softsign
//!
//! - Forward: x / (1 + |x|) (softsign(±inf) = ±1). Derivative: 1 / (1 + |x|)².
//!   From the output: (1 − |y|)².
//! - Method: the forward divides by the rounded 1 + |x| (two roundings, ≤ 1 ULP). For the
//!   derivative 1 + |x| is an exact two-float sum, its square rounds once (FMA) and the quotient
//!   is corrected by [`TwoFloat::div`].
//! - Measured max error (exhaustive, every backend): forward 1.499 ULP, derivative 0.500, from
//!   the output 0.500 (all 2³² inputs, `docs/accuracy-exhaustive.md`).

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::{TwoFloat, keep_nan};

crate::kernel_params! {
    /// Softsign: `x / (1 + |x|)`.
    ///
    /// ```
    /// use actkern::{Apply, Softsign};
    /// let mut y = [0.0f32; 3];
    /// Softsign.forward(&[-1.0, 3.0, f32::INFINITY], &mut y);
    /// assert_eq!(y, [-0.5, 0.75, 1.0]);
    /// ```
    pub struct Softsign;
}

impl Kernel for Softsign {
    const NAME: &'static str = "softsign";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::Always;
    const FORMULA: &'static str = "x / (1 + |x|); f'(x) = 1 / (1 + |x|)^2";
    const EXAMPLES: &'static [&'static str] = &["softsign"];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        let a = x.abs();
        // Two roundings (the sum and the quotient): ≤ 1 ULP.
        let q = x / (V::splat(1.0) + a);
        // inf / inf: the limit is ±1.
        V::select(a.eq(V::splat(f32::INFINITY)), V::splat(1.0).copysign(x), q)
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        // Beyond 1.8e19 the square would overflow; the result there is below 2⁻¹²⁶ anyway.
        let TwoFloat { hi: d, lo: d_lo } = TwoFloat::two_sum(V::splat(1.0), x.abs().min_keep_nan(V::splat(1.8e19)));
        let square = d * d;
        let square_lo = d.mul_add(d, -square) + (d + d) * d_lo;
        // 1/(square + square_lo): the quotient s is its own reciprocal estimate.
        let s = V::splat(1.0) / square;
        keep_nan(
            x,
            TwoFloat::exact(V::splat(1.0)).div(
                TwoFloat {
                    hi: square,
                    lo: square_lo,
                },
                s,
            ),
        )
    }
    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        // (1 − |y|)² with 1 − |y| as an exact pair: the square rounds once.
        // |y| is clamped where the square overflows anyway (it keeps the pair finite).
        let TwoFloat { hi: c, lo: c_lo } = TwoFloat::two_sum(V::splat(1.0), -y.abs().min_keep_nan(V::splat(2e19)));
        c.mul_add(c, c * (c_lo + c_lo))
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::softsign(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::softsign_derivative(x)
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        Some(crate::reference::softsign_derivative_from_output(y))
    }
}
