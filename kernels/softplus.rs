//! # softplus
//!
//! - Forward: β·x > threshold ? x : ln(1 + e^{βx})/β. Derivative: β·x > threshold ? 1 : σ(βx).
//!   From the output: 1 − e^{−βy}.
//! - Method: βx is carried as an exact pair (product plus its FMA residual): rounding it would
//!   cost |βx|·2⁻²⁴ relatively in e^{βx}, dozens of ULP at βx ≈ −80 when β ≠ 1. Then
//!   ln(1 + e^{y}) = max(y, 0) + ln(1 + e^{−|y|}) with [`log1p_unit`]; σ of the pair by
//!   [`logistic_pair`]. The threshold test uses the rounded product, as PyTorch does.
//! - Measured max error (exhaustive, every backend): forward 1.756 ULP, derivative 0.623, from
//!   the output 0.941, at β = 1, threshold 20 (all 2³² inputs, `docs/accuracy-exhaustive.md`).

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::{
    TwoFloat, exp_pair, expm1_pair, finite_or_zero, keep_nan, log1p_unit, logistic_pair, recip_estimate_1_2,
};

crate::kernel_params! {
    /// Softplus: `ln(1 + e^{βx}) / β`, linear above `threshold / β`.
    ///
    /// ```
    /// use actkern::{Apply, Softplus};
    /// let mut y = [0.0f32; 2];
    /// Softplus { beta: 1.0, threshold: 20.0 }.forward(&[0.0, 30.0], &mut y);
    /// assert!((y[0] - std::f32::consts::LN_2).abs() < 1e-7);
    /// assert_eq!(y[1], 30.0);
    /// ```
    pub struct Softplus {
        /// Sharpness β (default 1), β > 0.
        beta: f32 = 1.0 => Positive,
        /// Above β·x > threshold the output is x (default 20).
        threshold: f32 = 20.0 => Finite,
    }
}

/// e^{−17.4} < 2⁻²⁵: above this threshold 1 − e^{−βy} rounds to 1 wherever y = x.
const FROM_OUTPUT_MIN_THRESHOLD: f32 = 17.4;

impl Softplus {
    /// β·x as hi + lo exactly (lo is 0 for β = 1, and for infinite products).
    #[inline(always)]
    fn scaled<V: Vector>(&self, x: V) -> TwoFloat<V> {
        let beta = V::splat(self.beta);
        let hi = beta * x;
        let lo = beta.mul_add(x, -hi);
        // ±inf − ±inf is NaN; the product alone is exact there. (A NaN x stays NaN in hi.)
        TwoFloat {
            hi,
            lo: finite_or_zero(hi, lo),
        }
    }
}

impl Kernel for Softplus {
    const NAME: &'static str = "softplus";
    /// Only when the linear branch starts where σ(βx) already rounds to 1 (e^{−threshold} <
    /// 2⁻²⁵): with a lower threshold the two branches share outputs and y does not determine
    /// f'(x) (PyTorch's own from-output gradient is wrong there).
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::When {
        condition: "threshold >= 17.4",
        holds: |k| k.threshold >= FROM_OUTPUT_MIN_THRESHOLD,
    };
    const FORMULA: &'static str =
        "beta*x > threshold ? x : log1p(exp(beta*x)) / beta; f'(x) = beta*x > threshold ? 1 : sigmoid(beta*x)";
    const EXAMPLES: &'static [&'static str] = &[
        "softplus",
        "softplus(beta=2, threshold=10)",
        "softplus(beta=0.5)",
        "softplus(beta=3, threshold=-1)",
    ];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        let TwoFloat { hi: y, lo: y_lo } = self.scaled(x);
        let nonnegative = y.ge(V::splat(0.0));
        let u = exp_pair(
            TwoFloat {
                hi: -y.abs(),
                lo: V::select(nonnegative, -y_lo, y_lo),
            },
            V::splat(1.0),
        );
        let tail = u.lo.mul_add(recip_estimate_1_2(V::splat(1.0) + u.hi), log1p_unit(u.hi));
        // y ≥ 0: y + ln(1 + e^{−y}); both terms positive.
        let sum = V::select(nonnegative, y + (y_lo + tail), tail);
        let soft = sum / V::splat(self.beta);
        V::select(y.gt(V::splat(self.threshold)), x, soft)
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        let y = self.scaled(x);
        keep_nan(
            x,
            V::select(y.hi.gt(V::splat(self.threshold)), V::splat(1.0), logistic_pair(y)),
        )
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        let y = self.scaled(x);
        keep_nan(
            x,
            V::select(y.hi.gt(V::splat(self.threshold)), dy, dy * logistic_pair(y)),
        )
    }
    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        // 1 − e^{−βy} with −βy as an exact pair (rounding it would cost |βy|·2⁻²⁴ for large |βy|).
        -expm1_pair(self.scaled(-y))
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::softplus(x, self.beta.into(), self.threshold.into())
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::softplus_derivative(x, self.beta.into(), self.threshold.into())
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        self.has_derivative_from_output()
            .then(|| crate::reference::softplus_derivative_from_output(y, self.beta.into()))
    }
}
