//! # tanhshrink
//!
//! - Forward: x − tanh x. Derivative: tanh²x. No derivative from the output (CONTRACT §2.3).
//! - Method: x − tanh x cancels near 0 (PyTorch loses all bits there), so for |x| < 1 it is
//!   x³·h(x²) with h a degree-8 fit of (x − tanh x)/x³ (tools/fit.py) and x³ = x·x² with x² as an
//!   exact pair. For |x| ≥ 1, x − tanh x = (|x| − 1) + 2u/(1 + u) with u = e^{−2|x|}: two
//!   positive terms, |x| − 1 exact near 1, the quotient corrected by [`TwoFloat::div`]; sign
//!   restored. The derivative is z·g(z) (z = x², g a degree-8 fit of tanh²x/x²) for |x| < 1 and
//!   1 − sech²x (from [`logistic_bell`], ≤ 0.42 there) above.
//! - Measured max error (exhaustive, every backend): forward 1.745 ULP, derivative 1.867 (all
//!   2³² inputs, `docs/accuracy-exhaustive.md`).
#![allow(clippy::excessive_precision)]

use crate::backend::Vector;
use crate::kernel::Kernel;
use crate::math::{TwoFloat, exp_pair, logistic_bell, poly};

crate::kernel_params! {
    /// Tanh shrinkage: `x − tanh x`.
    ///
    /// ```
    /// use actkern::{Apply, Tanhshrink};
    /// let mut y = [0.0f32; 2];
    /// Tanhshrink.forward(&[1e-3, 10.0], &mut y);
    /// assert!((y[0] - 3.3333322e-10).abs() < 1e-16);
    /// assert_eq!(y[1], 9.0);
    /// ```
    pub struct Tanhshrink;
}

/// (x − tanh x)/x³ as a polynomial in x² on |x| ≤ 1 (max relative error 3.5e−8).
const SHRINK_P: [f32; 9] = [
    4.848_232_856_602_408e-5,
    -3.377_522_516_530_007e-4,
    1.242_262_311_279_773_7e-3,
    -3.478_478_873_148_560_5e-3,
    8.826_295_845_210_552e-3,
    -2.186_258_882_284_164_4e-2,
    5.396_759_882_569_313e-2,
    -1.333_333_104_848_861_7e-1,
    3.333_333_432_674_408e-1,
];
/// tanh²x / x² as a polynomial in x² on |x| ≤ 1 (max relative error 2.2e−8).
const SQUARE_P: [f32; 9] = [
    7.781_687_891_110_778e-4,
    -5.200_846_586_376_429e-3,
    1.780_520_752_072_334_3e-2,
    -4.456_141_591_072_082_5e-2,
    9.680_023_789_405_823e-2,
    -1.966_947_317_123_413e-1,
    3.777_652_382_850_647e-1,
    -6.666_662_096_977_234e-1,
    1.0,
];
/// 1/3 as hi + lo; SHRINK_P's constant term is replaced by this pair.
const THIRD_HI: f32 = 0.333_333_343;
const THIRD_LO: f32 = (1.0 / 3.0 - THIRD_HI as f64) as f32;
/// Sweeps from the polynomials to the exponential forms.
const SPLIT: f32 = 1.0;
/// Beyond this tanh|x| rounds to 1 and |x| − 1 is the answer; clamping keeps e^{−2|x|} finite.
const SATURATION: f32 = 10.0;

impl Kernel for Tanhshrink {
    const NAME: &'static str = "tanhshrink";
    const FORMULA: &'static str = "x - tanh(x); f'(x) = tanh(x)^2";
    const EXAMPLES: &'static [&'static str] = &["tanhshrink"];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        let one = V::splat(1.0);
        let z = x * x;
        let z_lo = x.mul_add(x, -z);
        // x³ as a pair, and h = c₀ + z·h'(z) with c₀ = 1/3 as a pair: the product rounds once.
        let cube = x * z;
        let cube_lo = x.mul_add(z, -cube) + x * z_lo;
        let h_tail = z.mul_add(poly(z, &SHRINK_P[..8]), V::splat(THIRD_LO));
        let small = cube.mul_add(V::splat(THIRD_HI), cube.mul_add(h_tail, cube_lo * V::splat(THIRD_HI)));
        let a = x.abs();
        let TwoFloat { hi: u, lo: u_lo } = exp_pair(
            TwoFloat::exact(a.min_keep_nan(V::splat(SATURATION)) * V::splat(-2.0)),
            one,
        );
        let d = one + u;
        let d_lo = ((one - d) + u) + u_lo;
        // 1/d ≈ 2 − d within (d − 1)² ≤ 2 % for d ∈ [1, 1.14].
        let w = TwoFloat {
            hi: u + u,
            lo: u_lo + u_lo,
        }
        .div(TwoFloat { hi: d, lo: d_lo }, V::splat(2.0) - d);
        let large = ((a - one) + w).copysign(x);
        // NaN fails the comparison and takes the polynomial, which propagates it.
        V::select(a.ge(V::splat(SPLIT)), large, small)
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        let z = x * x;
        let z_lo = x.mul_add(x, -z);
        // tanh²x = z·(1 + t) with t = z·h(z): z + (z·t + z_lo·(1 + t)), the correction rounded
        // once and then the sum, so the result is within about 0.8 ULP.
        let t = z * poly(z, &SQUARE_P[..8]);
        let small = z + z.mul_add(t, z_lo * (V::splat(1.0) + t));
        let large = V::splat(1.0) - logistic_bell(x + x, 4.0);
        V::select(x.abs().ge(V::splat(SPLIT)), large, small)
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::tanhshrink(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::tanhshrink_derivative(x)
    }
}
