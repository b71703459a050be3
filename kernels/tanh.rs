//! # tanh
//!
//! - Forward: tanh x. Derivative: sech²x = 1 − tanh²x. From the output: 1 − y².
//! - Method: |x| < 0.625: odd minimax polynomial x + x³·P(x²) (Cephes `tanhf`), no cancellation.
//!   Otherwise 1 − 2u/(1 + u) with u = e^{−2|x|}, sign restored; |x| is clamped at 10, past
//!   which tanh rounds to ±1. The derivative is 4·σ'(2x) = 4u/(1 + u)² through
//!   [`logistic_bell`], accurate where it is tiny (PyTorch's 1 − tanh² returns 0 from |x| ≈ 9).
//!   From the output, 1 − y² is one fused multiply-add.
//! - Measured max error (exhaustive, every backend): see the README's accuracy table.
#![allow(clippy::excessive_precision)]

use crate::backend::Vector;
use crate::kernel::Kernel;
use crate::math::{exp, logistic_bell, poly};

/// Hyperbolic tangent: `tanh x`, derivative `1 − tanh²x`.
///
/// ```
/// use actkern::{Apply, Tanh};
/// let mut y = [0.0f32; 3];
/// Tanh.forward(&[-1.0, 0.0, f32::INFINITY], &mut y);
/// assert_eq!(y[1..], [0.0, 1.0]);
/// assert!((y[0] + 0.7615942).abs() < 1e-7);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tanh;

/// Below this |x| the polynomial is used (where 1 − 2u/(1+u) would lose bits to cancellation).
const POLY_LIMIT: f32 = 0.625;
/// tanh x rounds to ±1 in f32 from |x| ≈ 9.01; clamping keeps e^{−2|x|} well inside range.
const SATURATION: f32 = 10.0;
/// tanh x = x + x³·P(x²) on |x| < 0.625 (Cephes `tanhf`).
const TANH_P: [f32; 5] = [
    -5.704_988_727_45e-3,
    2.063_908_879_54e-2,
    -5.373_971_555_31e-2,
    1.333_144_220_36e-1,
    -3.333_328_194_22e-1,
];

impl Kernel for Tanh {
    const NAME: &'static str = "tanh";
    const FORMULA: &'static str = "tanh(x); f'(x) = 1 - tanh(x)^2";
    const EXAMPLES: &'static [&'static str] = &["tanh"];

    fn from_params(_: &[crate::ParamValue]) -> Result<Self, String> {
        Ok(Tanh)
    }
    fn params(&self) -> Vec<crate::ParamValue> {
        Vec::new()
    }

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        let z = x * x;
        let small = (x * z).mul_add(poly(z, &TANH_P), x);
        let a = x.abs().min_keep_nan(V::splat(SATURATION));
        let u = exp(a * V::splat(-2.0));
        let large = V::splat(1.0) - (u + u) / (V::splat(1.0) + u);
        // NaN fails the comparison and takes the polynomial, which propagates it.
        V::select(x.abs().ge(V::splat(POLY_LIMIT)), large, small).copysign(x)
    }

    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        logistic_bell(x + x, 4.0)
    }

    fn has_derivative_from_output(&self) -> bool {
        true
    }

    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        (-y).mul_add(y, V::splat(1.0))
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::tanh(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::tanh_derivative(x)
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        Some(crate::reference::tanh_derivative_from_output(y))
    }
}
