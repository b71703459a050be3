//! # gelu
//!
//! - Forward, `approximate=none` (default): x·Φ(x), Φ the standard normal CDF. `approximate=tanh`:
//!   ½x(1 + tanh(√(2/π)(x + 0.044715x³))), evaluated as x·σ(2u) — the same function, with no
//!   1 + tanh to cancel for x ≪ 0 (PyTorch's f32 result is off by millions of ULP below −5).
//! - Derivative: Φ(x) + x·φ(x); for the tanh form its exact derivative σ(a) + x·a'·σ'(a),
//!   a = 2u. No derivative from the output (y does not determine x on x < 0).
//! - Method, `none`: with a = |x| and Q(a) = ½·erfc(a/√2) = e^{−a²/2}·G(a), G is a degree-10
//!   polynomial on each of [0, 1.5], [1.5, 3.5], [3.5, 7], [7, 14] (`python3 tools/fit.py gelu`,
//!   coefficients looked up per lane by the lane's interval), its constant term a two-float pair.
//!   a² is an exact pair, e^{−a²/2}·G is formed by [`exp_pair`] with G as its factor, and
//!   gelu = x·Q for x < 0, x·(1 − Q) for x ≥ 0 — never 1 + erf. Φ + xφ sums pairs before its one
//!   rounding. Method, `tanh`: a = k₁x + k₂x³ as a pair (a rounded a would cost |a|·2⁻²⁴ in e^a),
//!   then [`times_logistic`] (forward) and [`sigmoid_plus_bell`].
//! - Measured max error (exhaustive, every backend): see the README's accuracy table; near the
//!   derivative's zero at x ≈ −0.752 SPEC §4's absolute 2⁻²⁴ applies.
#![allow(clippy::excessive_precision)]

use crate::backend::Vector;
use crate::kernel::{Kernel, Param, ParamKind, ParamValue};
use crate::math::{
    add_pair, exp_pair_reduced, fast_two_sum, mul_pair, scale_exp_pair, sigmoid_plus_bell, times_logistic,
};

/// Which formula of gelu (PyTorch's `approximate` argument).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Approximate {
    /// x·Φ(x), exact.
    #[default]
    None,
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
    Tanh,
}

/// Gaussian error linear unit: `x·Φ(x)`, or its tanh approximation.
///
/// ```
/// use actkern::{Apply, Gelu, gelu::Approximate};
/// let mut y = [0.0f32; 3];
/// Gelu::default().forward(&[-1.0, 0.0, 1.0], &mut y);
/// assert!((y[2] - 0.841_344_7).abs() < 1e-7 && (y[0] + 0.158_655_26).abs() < 1e-7);
/// Gelu { approximate: Approximate::Tanh }.forward(&[-1.0, 0.0, 1.0], &mut y);
/// assert!((y[2] - 0.841_192).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Gelu {
    /// `none` (default) or `tanh`.
    pub approximate: Approximate,
}

/// Interval centres and half-widths in a = |x|: [0, 1.5], [1.5, 3.5], [3.5, 7], [7, 14].
const CENTRE: [f32; 4] = [0.75, 2.5, 5.25, 10.5];
const HALF_WIDTH: [f32; 4] = [0.75, 1.0, 1.75, 3.5];
/// G(a) = Q(a)·e^{a²/2} on each interval, in t = (a − centre)/half_width: degree-10
/// coefficients, highest first, without the constant term (tools/fit.py `gelu`).
const G_P: [[f32; 10]; 4] = [
    [
        7.957618777254538e-07,
        -3.998149622930214e-06,
        1.66171867022058e-05,
        -7.344288314925507e-05,
        0.0003106498916167766,
        -0.001230104360729456,
        0.004543603397905827,
        -0.015476169064640999,
        0.047786206007003784,
        -0.13032595813274384,
    ],
    [
        1.6451910767045774e-07,
        -7.96829738192173e-07,
        3.245086418246501e-06,
        -1.4419936633203179e-05,
        6.234274042071775e-05,
        -0.00025746552273631096,
        0.0010176009964197874,
        -0.0038311220705509186,
        0.01364822592586279,
        -0.04561395198106766,
    ],
    [
        2.6401087893646036e-07,
        -1.0459857548994478e-06,
        3.3130781957879663e-06,
        -1.2442977094906382e-05,
        4.663149593397975e-05,
        -0.00016877787129487842,
        0.0005974267842248082,
        -0.0020676981657743454,
        0.006983452010899782,
        -0.022975871339440346,
    ],
    [
        4.830620810025721e-07,
        -1.5937450825731503e-06,
        3.8706934901711065e-06,
        -1.2458043784135953e-05,
        4.118329889024608e-05,
        -0.00013092122389934957,
        0.00041238474659621716,
        -0.0012905127368867397,
        0.0040062908083200455,
        -0.01233492512255907,
    ],
];
/// The constant terms, as hi + lo pairs.
const G_C0: [[f32; 2]; 4] = [
    [0.300232470035553, -7.658917056119208e-09],
    [0.14133132994174957, 1.4429253347714166e-09],
    [0.07348822802305222, 2.834027901243985e-09],
    [0.03765885904431343, -3.2126451499081554e-10],
];
/// 2³², the scale of the x < 0 side.
const SCALE: f32 = 4_294_967_296.0;
/// x·Q(x) is below 2⁻¹⁵⁰ past |x| = 15: a is clamped there (the last interval's fit reaches 14;
/// between 14 and 15 the result is subnormal, where SPEC §4 asks only for 2⁻¹²⁶ absolute).
const A_MAX: f32 = 15.0;
/// 1/√(2π) as a pair.
const INV_SQRT_2PI_HI: f32 = 0.398_942_280_401_432_7;
const INV_SQRT_2PI_LO: f32 = (0.398_942_280_401_432_677_94_f64 - INV_SQRT_2PI_HI as f64) as f32;
/// a = 2u = K1·x + K2·x³ for the tanh form: K1 = 2√(2/π), K2 = K1·0.044715, as pairs.
const K1_HI: f32 = 1.595_769_121_605_730_7;
const K1_LO: f32 = (1.595_769_121_605_730_711_f64 - K1_HI as f64) as f32;
const K2_HI: f32 = 0.071_354_816_272_600_25;
const K2_LO: f32 = (0.071_354_816_272_600_248_776_f64 - K2_HI as f64) as f32;
/// Past |x| = 20 the tanh form is x or 0 to f32 precision; x is clamped there inside a.
const TANH_X_MAX: f32 = 20.0;

impl Gelu {
    /// Φ(x) and e^{−x²/2} as pairs for the exact form, both multiplied by the returned factor's
    /// inverse: for x < 0 they are taken at scale 2³² so that x·Φ stays accurate where Φ alone is
    /// subnormal (x ∈ (−13.4, −13.0)); the caller multiplies its result by the factor, exactly.
    #[inline(always)]
    fn cdf<V: Vector>(x: V) -> ((V, V), (V, V), V) {
        let a = x.abs().min_keep_nan(V::splat(A_MAX));
        // The interval of each lane, 0 to 3, picks its coefficients from 8-entry tables (a NaN
        // lane reads interval 0 and stays NaN through a).
        let interval = V::select(
            a.ge(V::splat(7.0)),
            V::splat(3.0),
            V::select(
                a.ge(V::splat(3.5)),
                V::splat(2.0),
                V::select(a.ge(V::splat(1.5)), V::splat(1.0), V::splat(0.0)),
            ),
        );
        let pick = |k: [f32; 4]| V::lookup8(&[k[0], k[1], k[2], k[3], 0.0, 0.0, 0.0, 0.0], interval);
        let pick_coefficient = |j: usize| pick([G_P[0][j], G_P[1][j], G_P[2][j], G_P[3][j]]);
        let t = (a - pick(CENTRE)) / pick(HALF_WIDTH);
        let mut rest = pick_coefficient(0);
        for j in 1..10 {
            rest = rest.mul_add(t, pick_coefficient(j));
        }
        let tail = t * rest;
        let tail_lo = t.mul_add(rest, -tail);
        // G = c₀ + t·rest with |c₀| > |t·rest| on every interval (G varies by less than a factor
        // of two across one): Dekker's sum suffices.
        let c0 = pick([G_C0[0][0], G_C0[1][0], G_C0[2][0], G_C0[3][0]]);
        let c0_lo = pick([G_C0[0][1], G_C0[1][1], G_C0[2][1], G_C0[3][1]]);
        let (g, g_lo) = fast_two_sum(c0, tail);
        let g_lo = g_lo + (tail_lo + c0_lo);
        // −a²/2 as an exact pair.
        let z = a * a;
        let exponent = (z * V::splat(-0.5), a.mul_add(a, -z) * V::splat(-0.5));
        let nonnegative = x.ge(V::splat(0.0));
        let scale = V::select(nonnegative, V::splat(1.0), V::splat(SCALE));
        let reduced = exp_pair_reduced(exponent.0, exponent.1);
        let (e, e_lo) = scale_exp_pair(reduced, scale, None);
        let (q, q_lo) = scale_exp_pair(reduced, g * scale, Some(g_lo * scale));
        // Φ = Q for x < 0, 1 − Q for x ≥ 0 (unscaled there; Q ≤ ½, so 1 − Q is an exact
        // Dekker sum). NaN fails `x >= 0` and takes Q.
        let upper = V::splat(1.0) - q;
        let upper_lo = ((V::splat(1.0) - upper) - q) - q_lo;
        let phi = (
            V::select(nonnegative, upper, q),
            V::select(nonnegative, upper_lo, q_lo),
        );
        (
            phi,
            (e, e_lo),
            V::select(nonnegative, V::splat(1.0), V::splat(1.0 / SCALE)),
        )
    }

    /// a = 2√(2/π)(x + 0.044715x³) as a pair, with x clamped to ±20, and x² as a pair.
    #[inline(always)]
    fn tanh_argument<V: Vector>(x: V) -> ((V, V), (V, V)) {
        let xc = x
            .max_keep_nan(V::splat(-TANH_X_MAX))
            .min_keep_nan(V::splat(TANH_X_MAX));
        let square = (xc * xc, xc.mul_add(xc, -(xc * xc)));
        let cube = mul_pair((xc, V::splat(0.0)), square);
        let a = add_pair(
            mul_pair((V::splat(K1_HI), V::splat(K1_LO)), (xc, V::splat(0.0))),
            mul_pair((V::splat(K2_HI), V::splat(K2_LO)), cube),
        );
        (a, square)
    }
}

impl Kernel for Gelu {
    const NAME: &'static str = "gelu";
    const PARAMS: &'static [Param] = &[Param {
        name: "approximate",
        kind: ParamKind::Choice {
            choices: &["none", "tanh"],
            default: 0,
        },
    }];
    const FORMULA: &'static str = "x * Phi(x) (approximate=tanh: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))); f'(x) = Phi(x) + x * phi(x)";
    const EXAMPLES: &'static [&'static str] = &["gelu", "gelu(approximate=tanh)"];
    const DERIVATIVE_ZERO: Option<f32> = Some(-0.751_8);

    fn from_params(values: &[ParamValue]) -> Result<Self, String> {
        let approximate = if values[0].choice() == 1 {
            Approximate::Tanh
        } else {
            Approximate::None
        };
        Ok(Gelu { approximate })
    }
    fn params(&self) -> Vec<ParamValue> {
        vec![ParamValue::Choice(match self.approximate {
            Approximate::None => 0,
            Approximate::Tanh => 1,
        })]
    }

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        match self.approximate {
            Approximate::None => {
                let ((phi, phi_lo), _, unscale) = Self::cdf(x);
                // Below −14 the result is 0 to f32 precision; the clamp keeps −inf · 0 out.
                let xc = x.max_keep_nan(V::splat(-A_MAX));
                let y = xc.mul_add(phi, xc * phi_lo) * unscale;
                // Past 14, Φ rounds to 1: the result is x (and +inf stays +inf, not inf − inf).
                // x·Φ(x) has the sign of x; copysign also keeps gelu(−0) = −0.
                V::select(x.ge(V::splat(A_MAX)), x, y).copysign(x)
            }
            Approximate::Tanh => {
                let ((a, a_lo), _) = Self::tanh_argument(x);
                let y = times_logistic(Some(x.max_keep_nan(V::splat(-TANH_X_MAX))), a, Some(a_lo));
                // Past x = 20, σ(a) rounds to 1 (a > 600): the result is x (also at +inf).
                V::select(x.gt(V::splat(TANH_X_MAX)), x, y).copysign(x)
            }
        }
    }

    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        match self.approximate {
            Approximate::None => {
                let (phi, (e, e_lo), unscale) = Self::cdf(x);
                // x·φ(x) = x·e^{−x²/2}/√(2π); beyond |x| = 14 it is negligible, so x is clamped.
                let xc = x
                    .max_keep_nan(V::splat(-A_MAX))
                    .min_keep_nan(V::splat(A_MAX));
                let x_density = mul_pair(
                    (xc, V::splat(0.0)),
                    mul_pair(
                        (e, e_lo),
                        (V::splat(INV_SQRT_2PI_HI), V::splat(INV_SQRT_2PI_LO)),
                    ),
                );
                let (d, d_lo) = add_pair(phi, x_density);
                (d + d_lo) * unscale
            }
            Approximate::Tanh => {
                let ((a, a_lo), square) = Self::tanh_argument(x);
                // c = x·a' with a' = K1 + 3·K2·x², as a pair.
                let slope = add_pair(
                    (V::splat(K1_HI), V::splat(K1_LO)),
                    mul_pair((V::splat(3.0 * K2_HI), V::splat(3.0 * K2_LO)), square),
                );
                let xc = x
                    .max_keep_nan(V::splat(-TANH_X_MAX))
                    .min_keep_nan(V::splat(TANH_X_MAX));
                sigmoid_plus_bell(mul_pair((xc, V::splat(0.0)), slope), a, a_lo)
            }
        }
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::gelu(x, self.approximate == Approximate::Tanh)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::gelu_derivative(x, self.approximate == Approximate::Tanh)
    }
}
