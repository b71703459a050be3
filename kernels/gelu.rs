//! # gelu
//!
//! - Forward, `approximate=none` (default): x·Φ(x), Φ the standard normal CDF. `approximate=tanh`:
//!   ½x(1 + tanh(√(2/π)(x + 0.044715x³))), evaluated as x·σ(2u) — the same function, with no
//!   1 + tanh to cancel for x ≪ 0 (PyTorch's f32 result is off by millions of ULP below −5).
//! - Derivative: Φ(x) + x·φ(x); for the tanh form its exact derivative σ(a) + x·a'·σ'(a),
//!   a = 2u. No derivative from the output (y does not determine x on x < 0).
//! - Method, `none`: everything comes from the negative side, gelu(x) = x + gelu(−x) and
//!   gelu'(x) = 1 − gelu'(−x), so nothing cancels and 1 + erf never appears. With a = |x|,
//!   Q(a) = ½·erfc(a/√2) = e^{−a²/2}·G(a): G is a degree-6 polynomial on each of 16 intervals
//!   (width ½ below a = 3.75, then 1.45; `python3 tools/fit.py gelu`), its coefficients picked
//!   per lane by one permute each ([`Vector::lookup16`]), its constant term a pair. −a²/2 is an
//!   exact pair and e^{−a²/2} = 2ⁿ(1 + q + q_lo) ([`exp_reduced_pair`]); then gelu(−a) = −a·Q(a) and
//!   gelu'(−a) = Q(a) − a·φ(a) = e^{−a²/2}·(G(a) − a/√(2π)) each round once before the scaling
//!   by 2ⁿ, so the subnormal tail is as accurate as the rest. Method, `tanh`: a = k₁x + k₂x³ as
//!   a pair (a rounded a would cost |a|·2⁻²⁴ in e^a), then [`times_logistic_pair`] (forward)
//!   and [`sigmoid_plus_bell`].
//! - Fast tier ([`Fast`](crate::Fast)): the table's constant term and e^{−a²/2} without low parts,
//!   eˣ one degree shorter, G − a/√(2π) rounded once; the tanh form as silu's.
//! - Measured max error (exhaustive, every backend): forward 1.555 ULP, derivative 1.668; tanh
//!   form 1.161 and 1.492. Fast tier: forward 3.180, derivative 3.471; tanh form 3.448 and 3.618
//!   (bound 4). All 2³² inputs, `docs/accuracy-exhaustive.md`; near the derivative's zero at
//!   x ≈ −0.752 CONTRACT §4's absolute 2⁻²⁴ applies.
#![allow(clippy::excessive_precision)]

use crate::backend::Vector;
use crate::kernel::Kernel;
use crate::math::{TwoFloat, exp_reduced_pair, sigmoid_plus_bell, times_logistic_pair};

crate::choice_param! {
    /// Which formula of gelu (PyTorch's `approximate` argument).
    pub enum Approximate {
        /// x·Φ(x), exact.
        None = "none",
        /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
        Tanh = "tanh",
    }
}

crate::kernel_params! {
    /// Gaussian error linear unit: `x·Φ(x)`, or its tanh approximation.
    ///
    /// ```
    /// use actkern::{Apply, Gelu, GeluApproximate};
    /// let mut y = [0.0f32; 3];
    /// Gelu::default().forward(&[-1.0, 0.0, 1.0], &mut y);
    /// assert!((y[2] - 0.841_344_7).abs() < 1e-7 && (y[0] + 0.158_655_26).abs() < 1e-7);
    /// Gelu { approximate: GeluApproximate::Tanh }.forward(&[-1.0, 0.0, 1.0], &mut y);
    /// assert!((y[2] - 0.841_192).abs() < 1e-6);
    /// ```
    pub struct Gelu {
        /// `none` (default) or `tanh`.
        approximate: Approximate = Approximate::None => choice,
    }
}

/// Degree of G on each interval.
const DEGREE: usize = 6;
/// The interval of a = |x| is k = round(min(2a, SLOPE·a + OFFSET)), 0 to 15: width ½ centred on
/// k/2 below a = 3.75, where G curves most, then width 1/SLOPE up to a = 15.
const SLOPE: f32 = 0.6875;
const OFFSET: f32 = 4.921875;
/// Interval centres.
#[rustfmt::skip] // one row per line: the tables are printed by tools/fit.py
const CENTRE: [f32; 16] = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.4772725105285645, 5.931818008422852, 7.386363506317139, 8.840909004211426, 10.295454978942871, 11.75, 13.204545021057129, 14.659090995788574];
/// G(a) = Q(a)·e^{a²/2} = c₀ + t·P(t) on each interval, t = a − centre (exact: a is within a
/// factor of two of the centre, or the centre is 0): P's coefficients, highest first.
/// `python3 tools/fit.py gelu` prints these tables and the error of each interval's f32
/// evaluation.
#[rustfmt::skip] // one row per line: the tables are printed by tools/fit.py
const G_P: [[f32; 16]; DEGREE] = [
    [0.0076053147204220295, 0.0031048650853335857, 0.0010223647113889456, 0.0003709021839313209, 0.00014670311065856367, 6.265448610065505e-05, 2.864252746803686e-05, 1.3907268112234306e-05, 4.0193749555328395e-06, 8.145607921505871e-07, 2.1490573942628544e-07, 6.892359749599564e-08, 2.564590495524044e-08, 1.0716513010322615e-08, 4.912841689019842e-09, 2.6518007789633202e-09],
    [-0.025678636506199837, -0.008813469670712948, -0.003200110048055649, -0.0012775860959663987, -0.0005545305320993066, -0.0002590311341919005, -0.00012904727191198617, -6.802681309636682e-05, -2.2899272153154016e-05, -5.648957085213624e-06, -1.7691905895844684e-06, -6.595617492166639e-07, -2.8040216193403467e-07, -1.319934028742864e-07, -6.737404589785001e-08, -3.652641922258226e-08],
    [0.06234666332602501, 0.02282957173883915, 0.009255295619368553, 0.00411030650138855, 0.0019760250579565763, 0.0010175936622545123, 0.0005562092992477119, 0.0003201524377800524, 0.00012317203800193965, 3.7673999031540006e-05, 1.4164080312184524e-05, 6.1821510826121084e-06, 3.0173507639119634e-06, 1.605409352123388e-06, 9.146102684098878e-07, 5.506799993781897e-07],
    [-0.13296741247177124, -0.05491134524345398, -0.025084538385272026, -0.01249663345515728, -0.0067041483707726, -0.0038310785312205553, -0.0023104692809283733, -0.0014591438230127096, -0.0006627226248383522, -0.00025117851328104734, -0.00011334647570038214, -5.7920355175156146e-05, -3.245615880587138e-05, -1.951950071088504e-05, -1.2412223441060632e-05, -8.255952707258984e-06],
    [0.24999943375587463, 0.11877618730068207, 0.0621071495115757, 0.03518687188625336, 0.02131272293627262, 0.01364822592586279, 0.009156321175396442, 0.006387651897966862, 0.003460729494690895, 0.001640823669731617, 0.0008939242106862366, 0.0005368134006857872, 0.00034622641396708786, 0.00023577833781018853, 0.00016755738761276007, 0.0001232274662470445],
    [-0.3989422619342804, -0.22413289546966553, -0.137364000082016, -0.09027127921581268, -0.06273827701807022, -0.04561395198106766, -0.03440043702721596, -0.0267342422157526, -0.017483312636613846, -0.010486689396202564, -0.006942907813936472, -0.004919684492051601, -0.0036619286984205246, -0.0028289544861763716, -0.0022497561294585466, -0.0018311705207452178],
];
/// c₀ as a pair.
#[rustfmt::skip] // one row per line: the tables are printed by tools/fit.py
const G_C0: [f32; 16] = [0.5, 0.3496188223361969, 0.2615782916545868, 0.20578067004680634, 0.16810199618339539, 0.14133132994174957, 0.12151394784450531, 0.10634515434503555, 0.08519896119832993, 0.06548676639795303, 0.053070686757564545, 0.04456811025738716, 0.03839367628097534, 0.03371177241206169, 0.030042119324207306, 0.02708975039422512];
#[rustfmt::skip] // one row per line: the tables are printed by tools/fit.py
const G_C0_LO: [f32; 16] = [-1.111088221428247e-09, 1.2526375492427633e-08, 2.1054030741041174e-10, -3.0694087271854187e-09, 5.039774819692866e-09, 1.4387553370909245e-09, 5.110568634947299e-10, -7.113297173511057e-10, 2.6025055444023337e-09, 2.1598223209906564e-09, -1.4622212329840067e-09, -1.2780093650022195e-09, -1.352805978349636e-09, 2.352305850106262e-12, 5.455745855087457e-10, -4.251692886647618e-10];
/// Past a = 15, x·Q(x) is below 2⁻¹⁶⁰ and 1 − Q rounds to 1: a is clamped there.
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

/// What [`Gelu::tail`] returns for a = min(|x|, 15): G(a), and e^{−a²/2} = 2ⁿ·(1 + q.hi +
/// q.lo). Q(a) = ½·erfc(a/√2) is then 2ⁿ·(g.hi + g.hi·q.hi + g.hi·q.lo + g.lo).
struct Tail<V> {
    /// a = min(|x|, 15).
    a: V,
    /// G(a) = Q(a)·e^{a²/2} (in the fast tier without a low part).
    g: TwoFloat<V>,
    /// e^{−a²/2} = 2ⁿ·(1 + q) ([`exp_reduced_pair`]; in the fast tier without a low part).
    q: TwoFloat<V>,
    /// The exponent n, an integer-valued float.
    n: V,
}

impl Gelu {
    /// G(a) and e^{−a²/2} for a = min(|x|, 15), from which both the forward and the derivative
    /// of the exact form are built ([`Tail`]).
    #[inline(always)]
    fn tail<V: Vector>(x: V) -> Tail<V> {
        let a = x.abs().min_keep_nan(V::splat(A_MAX));
        // `lookup16` rounds the index. A NaN lane gets a NaN index, which reads entry 0, and
        // stays NaN through a.
        let k = (a + a).min_keep_nan(a.mul_add(V::splat(SLOPE), V::splat(OFFSET)));
        let t = a - V::lookup16(&CENTRE, k);
        let mut rest = V::lookup16(&G_P[0], k);
        for coefficients in &G_P[1..] {
            rest = rest.mul_add(t, V::lookup16(coefficients, k));
        }
        let tail = t * rest;
        let g = if V::FAST {
            // G rounded once, without c₀'s low part.
            TwoFloat::exact(t.mul_add(rest, V::lookup16(&G_C0, k)))
        } else {
            // |c₀| > |t·rest| on every interval (G varies by less than a factor of two across
            // one): Dekker's sum suffices.
            let g = TwoFloat::fast_two_sum(V::lookup16(&G_C0, k), tail);
            TwoFloat {
                hi: g.hi,
                lo: g.lo + V::lookup16(&G_C0_LO, k),
            }
        };
        // −a²/2 as an exact pair.
        let square = a * a;
        let h = TwoFloat {
            hi: square * V::splat(-0.5),
            lo: a.mul_add(a, -square) * V::splat(-0.5),
        };
        let (q, n) = exp_reduced_pair(h);
        Tail { a, g, q, n }
    }

    /// a = 2√(2/π)(x + 0.044715x³) as a pair, with x clamped to ±20, and x² as a pair.
    #[inline(always)]
    fn tanh_argument<V: Vector>(x: V) -> (TwoFloat<V>, TwoFloat<V>) {
        let xc = x.max_keep_nan(V::splat(-TANH_X_MAX)).min_keep_nan(V::splat(TANH_X_MAX));
        let square = TwoFloat {
            hi: xc * xc,
            lo: xc.mul_add(xc, -(xc * xc)),
        };
        let xc = TwoFloat::exact(xc);
        let cube = xc * square;
        let a = TwoFloat::splat(K1_HI, K1_LO) * xc + TwoFloat::splat(K2_HI, K2_LO) * cube;
        (a, square)
    }
}

impl Kernel for Gelu {
    const FAST_TIER: bool = true;
    const NAME: &'static str = "gelu";
    const FORMULA: &'static str =
        "x * Phi(x) (approximate=tanh: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))); f'(x) = Phi(x) + x * phi(x)";
    const EXAMPLES: &'static [&'static str] = &["gelu", "gelu(approximate=tanh)"];
    const DERIVATIVE_ZERO: Option<f32> = Some(-0.751_8);

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        match self.approximate {
            Approximate::None => {
                // gelu(−a) = −a·Q(a) = 2ⁿ·(p + p·(q + q_lo) + p_lo), p + p_lo = −a·(g + g_lo): one
                // rounding before the scaling, so a subnormal Q costs nothing.
                let Tail { a, g, q, n } = Self::tail(x);
                let p = -a * g.hi;
                let at_minus_a = if V::FAST {
                    // The fast tier's g and q have no low parts.
                    p.mul_add(q.hi, p).ldexp(n)
                } else {
                    let p_lo = (-a).mul_add(g.lo, (-a).mul_add(g.hi, -p));
                    (p + p.mul_add(q.hi, p.mul_add(q.lo, p_lo))).ldexp(n)
                };
                // gelu(x) = x + gelu(−x) for x ≥ 0 (Φ(x) = 1 − Q(x)); |gelu(−x)| < gelu(x),
                // so nothing cancels. +inf stays +inf; gelu(−inf) is −0 and gelu(−0) = −0
                // through the sign (x·Φ(x) has the sign of x). NaN fails `x >= 0`.
                V::select(x.ge(V::splat(0.0)), x + at_minus_a, at_minus_a).copysign(x)
            }
            Approximate::Tanh => {
                let (a, _) = Self::tanh_argument(x);
                let y = times_logistic_pair(x.max_keep_nan(V::splat(-TANH_X_MAX)), a);
                // Past x = 20, σ(a) rounds to 1 (a > 600): the result is x (also at +inf).
                V::select(x.gt(V::splat(TANH_X_MAX)), x, y).copysign(x)
            }
        }
    }

    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        match self.approximate {
            Approximate::None => {
                // gelu'(−a) = Q(a) − a·φ(a) = 2ⁿ·(h + h·(q + q_lo) + h_lo), h + h_lo = G − a/√(2π),
                // summed exactly (the two cross near a = 0.75, the derivative's zero).
                let Tail { a, g, q, n } = Self::tail(x);
                if V::FAST {
                    // G − a/√(2π) rounded once; near its zero CONTRACT §4's absolute allowance holds.
                    let h = a.mul_add(V::splat(-INV_SQRT_2PI_HI), g.hi);
                    let at_minus_a = h.mul_add(q.hi, h).ldexp(n);
                    return V::select(x.ge(V::splat(0.0)), V::splat(1.0) - at_minus_a, at_minus_a);
                }
                let slope = a * V::splat(INV_SQRT_2PI_HI);
                let slope_lo = a.mul_add(V::splat(INV_SQRT_2PI_LO), a.mul_add(V::splat(INV_SQRT_2PI_HI), -slope));
                let TwoFloat { hi: h, lo: h_lo } = TwoFloat::two_sum(g.hi, -slope);
                let h_lo = h_lo + (g.lo - slope_lo);
                let at_minus_a = (h + h.mul_add(q.hi, h.mul_add(q.lo, h_lo))).ldexp(n);
                // gelu'(x) = 1 − gelu'(−x): Φ(x) + Φ(−x) = 1 and the density terms cancel.
                // gelu'(−a) ∈ (−0.13, 0.5], so 1 − it rounds once with nothing lost. NaN
                // fails `x >= 0` and stays NaN.
                V::select(x.ge(V::splat(0.0)), V::splat(1.0) - at_minus_a, at_minus_a)
            }
            Approximate::Tanh => {
                let (a, square) = Self::tanh_argument(x);
                // c = x·a' with a' = K1 + 3·K2·x², as a pair.
                let slope = TwoFloat::splat(K1_HI, K1_LO) + TwoFloat::splat(3.0 * K2_HI, 3.0 * K2_LO) * square;
                let xc = x.max_keep_nan(V::splat(-TANH_X_MAX)).min_keep_nan(V::splat(TANH_X_MAX));
                sigmoid_plus_bell(TwoFloat::exact(xc) * slope, a)
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
