//! # sigmoid
//!
//! - Forward: σ(x) = 1 / (1 + e^{−x}). Derivative: σ(x)·σ(−x). From the output: y(1 − y) = y − y².
//! - Method: [`logistic`]: with u = e^{−|x|} ∈ (0, 1] (never overflows), σ(x) = 1/(1 + u)
//!   for x ≥ 0 and u/(1 + u) for x < 0 (XNNPACK's reflection); one exponential whose last
//!   rounding is kept as a low part, 1 + u as a pair, one division corrected by its exact
//!   residual (twice the speed of carrying every step as a pair, at about 1 ULP). The
//!   derivative is ¼·sech²(x/2) through [`sech_squared`] (tanh's derivative table, and
//!   e^{−|x|}(1 − 2e^{−|x|}) past |x| = 18), not σ(1 − σ), which is 0 for x > 17 where σ' is
//!   still ≈ 4e−8; it replaced u/(1 + u)² with pairs and a corrected division (backward 1.5× faster).
//! - Fast tier ([`Fast`](crate::Fast)): u and 1 + u rounded, one plain division, eˣ one degree
//!   shorter (in the derivative, only in the tail of [`sech_squared`]).
//! - Measured max error (exhaustive, every backend): forward 1.010 ULP, derivative 1.083 (was
//!   0.680), from the output 0.500; fast tier forward 2.402, derivative 1.107, from the output
//!   0.500 (bound 4). All 2³² inputs, `docs/accuracy-exhaustive.md`.

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::{logistic, sech_squared};

crate::kernel_params! {
    /// Logistic sigmoid: `1 / (1 + e^−x)`, derivative `σ(x)·σ(−x)`.
    ///
    /// ```
    /// use actkern::{Apply, Sigmoid};
    /// let mut y = [0.0f32; 3];
    /// Sigmoid.forward(&[f32::NEG_INFINITY, 0.0, f32::INFINITY], &mut y);
    /// assert_eq!(y, [0.0, 0.5, 1.0]);
    /// ```
    pub struct Sigmoid;
}

impl Kernel for Sigmoid {
    const FAST_TIER: bool = true;
    const NAME: &'static str = "sigmoid";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::Always;
    const FORMULA: &'static str = "1 / (1 + exp(-x)); f'(x) = sigmoid(x) * sigmoid(-x)";
    const EXAMPLES: &'static [&'static str] = &["sigmoid"];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        logistic(x)
    }

    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        // σ'(x) = σ(x)·σ(−x) = ¼·sech²(x/2); x/2 is exact wherever σ' is not ¼ to f32 precision.
        sech_squared(x * V::splat(0.5), 0.25)
    }

    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        // y − y², rounded once (y·(1 − y) would round 1 − y first for y < 1/2).
        // At y = ±inf the limit is −inf (y − y² would be inf − inf).
        V::select(
            y.abs().eq(V::splat(f32::INFINITY)),
            V::splat(f32::NEG_INFINITY),
            (-y).mul_add(y, y),
        )
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::sigmoid(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::sigmoid_derivative(x)
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        Some(crate::reference::sigmoid_derivative_from_output(y))
    }
}
