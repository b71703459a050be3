//! # silu (alias swish)
//!
//! - Forward: x·σ(x). Derivative: σ(x)·(1 + x·(1 − σ(x))). No derivative from the output: y does
//!   not determine x on x < 0.
//! - Method: [`times_logistic`] with c = x: with u = e^{−|x|} = 2ⁿ·m, x·σ(x) is x/(1 + u) for
//!   x ≥ 0 and (x·m)·2ⁿ/(1 + u) for x < 0, x·m formed before the scaling (so silu stays accurate
//!   near x = −88, where PyTorch's x·σ(x) loses σ to underflow), the rounding errors of m and of
//!   x·m carried into the corrected division. The derivative is [`sigmoid_plus_bell`] with
//!   c = x: (1 + u + x·u)/(1 + u)² for x ≥ 0 and u·(1 + u + x)/(1 + u)² for x < 0, numerators
//!   and the square carried as pairs, one corrected division.
//! - Fast tier ([`Fast`](crate::Fast)): the same quotients with their operands rounded, one plain
//!   division each, eˣ one degree shorter.
//! - Measured max error (exhaustive, every backend): forward 1.112 ULP, derivative 0.843; fast
//!   tier forward 3.394, derivative 3.299 (bound 4). All 2³² inputs, `docs/accuracy-exhaustive.md`;
//!   near the derivative's zero at x ≈ −1.278 CONTRACT §4's absolute 2⁻²⁴ applies.

use crate::backend::Vector;
use crate::kernel::Kernel;
use crate::math::{TwoFloat, sigmoid_plus_bell, times_logistic};

crate::kernel_params! {
    /// Sigmoid-weighted linear unit (swish): `x·σ(x)`.
    ///
    /// ```
    /// use actkern::{Apply, Silu};
    /// let mut y = [0.0f32; 3];
    /// Silu.forward(&[f32::NEG_INFINITY, 0.0, 10.0], &mut y);
    /// assert_eq!(y[..2], [-0.0, 0.0]);
    /// assert!((y[2] - 9.999546).abs() < 1e-5);
    /// ```
    pub struct Silu;
}

/// Below this x·eˣ is under 2⁻¹⁴⁰, so x can stand in for any smaller input as the factor of eˣ
/// (keeping −inf · 0 out of the product); symmetrically, above −FACTOR_FLOOR the term x·e^{−x}
/// of the derivative is negligible.
const FACTOR_FLOOR: f32 = -104.0;

impl Kernel for Silu {
    const FAST_TIER: bool = true;
    const NAME: &'static str = "silu";
    const ALIASES: &'static [&'static str] = &["swish"];
    const FORMULA: &'static str = "x * sigmoid(x); f'(x) = sigmoid(x) * (1 + x * (1 - sigmoid(x)))";
    const EXAMPLES: &'static [&'static str] = &["silu"];
    const DERIVATIVE_ZERO: Option<f32> = Some(-1.278_5);

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        // Past x = 89, e^{−x} < 2⁻¹²⁸ and x/(1 + e^{−x}) rounds to x (this also gives silu(+inf)).
        // x·σ(x) has the sign of x; copysign also keeps silu(−0) = −0, which the quotient loses.
        let y = times_logistic(x.max_keep_nan(V::splat(FACTOR_FLOOR)), x);
        V::select(x.gt(V::splat(89.0)), x, y).copysign(x)
    }

    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        // σ(x) + x·σ'(x); the factor x only matters while e^{−|x|} does.
        let c = x
            .max_keep_nan(V::splat(FACTOR_FLOOR))
            .min_keep_nan(V::splat(-FACTOR_FLOOR));
        sigmoid_plus_bell(TwoFloat::exact(c), TwoFloat::exact(x))
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::silu(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::silu_derivative(x)
    }
}
