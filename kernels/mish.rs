//! # mish
//!
//! - Forward: x·tanh(softplus(x)). Derivative: tanh(sp) + x·σ(x)·sech²(sp). No derivative from
//!   the output (y does not determine x on x < 0).
//! - Method: no logarithm or tanh is evaluated. With v = e^{−|x|} ∈ (0, 1] (a pair),
//!   tanh(ln(1 + eˣ)) = N/D where for x ≥ 0: N = 1 + 2v, D = N + 2v², and for x < 0:
//!   N = v(v + 2), D = N + 2 — all terms positive, no cancellation, no overflow. The derivative
//!   is (N·D + 4x·K)/D² with K = v²(1 + v) for x ≥ 0 and v(1 + v) for x < 0. For x < 0 the factor
//!   v is applied inside the exponential (as x·v(v + 2) and v·(…)), so results stay accurate
//!   where v alone is subnormal.
//! - Measured max error (exhaustive, every backend): forward 0.953 ULP, derivative 0.652 (all
//!   2³² inputs, `docs/accuracy-exhaustive.md`); near the derivative's zero at x ≈ −1.19 CONTRACT §4's
//!   absolute 2⁻²⁴ applies.

use crate::backend::Vector;
use crate::kernel::Kernel;
use crate::math::{TwoFloat, exp_pair};

crate::kernel_params! {
    /// Mish: `x·tanh(ln(1 + eˣ))`.
    ///
    /// ```
    /// use actkern::{Apply, Mish};
    /// let mut y = [0.0f32; 3];
    /// Mish.forward(&[f32::NEG_INFINITY, 0.0, 20.0], &mut y);
    /// assert_eq!(y, [-0.0, 0.0, 20.0]);
    /// ```
    pub struct Mish;
}

/// Below this x·eˣ is under 2⁻¹⁴⁰: x can stand in for smaller inputs as a factor of eˣ.
const FACTOR_FLOOR: f32 = -104.0;
/// 2³²: keeps e^{−|x|} normal down to x = −104 on the x < 0 side.
const SCALE: f32 = 4_294_967_296.0;

impl Kernel for Mish {
    const NAME: &'static str = "mish";
    const FORMULA: &'static str = "x * tanh(softplus(x)); f'(x) = tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2)";
    const EXAMPLES: &'static [&'static str] = &["mish"];
    const DERIVATIVE_ZERO: Option<f32> = Some(-1.192_4);

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        let (zero, one, two) = (V::splat(0.0), V::splat(1.0), V::splat(2.0));
        let neg_abs = -x.abs();
        // v = e^{−|x|} as a pair, and 2³²·v for the x < 0 side, where x·v may be normal while
        // v is subnormal (x ∈ (−92, −87)); the scaling is undone by an exact final product.
        let TwoFloat { hi: v, lo: v_lo } = exp_pair(TwoFloat::exact(neg_abs), one);
        let TwoFloat { hi: vs, lo: vs_lo } = exp_pair(TwoFloat::exact(neg_abs), V::splat(SCALE));
        // x ≥ 0: x·b / (b + 2v²) with b = 1 + 2v; every piece a pair, one corrected division.
        let TwoFloat { hi: b, lo: b_lo } = TwoFloat::two_sum(one, v + v);
        let b_lo = b_lo + (v_lo + v_lo);
        let vv2 = (v + v) * v;
        let vv2_lo = (v + v).mul_add(v, -vv2);
        let TwoFloat {
            hi: d_pos,
            lo: d_pos_lo,
        } = TwoFloat::two_sum(b, vv2);
        let d_pos_lo = d_pos_lo + (b_lo + vv2_lo);
        let n_pos = x * b;
        let n_pos_lo = x.mul_add(b, -n_pos) + x * b_lo;
        // x < 0: x·p / (p + 2) with p = v·(v + 2), computed at scale 2³².
        let TwoFloat { hi: a, lo: a_lo } = TwoFloat::two_sum(v, two);
        let a_lo = a_lo + v_lo;
        let ps = vs * a;
        let ps_lo = vs.mul_add(a, -ps) + (vs * a_lo + vs_lo * a);
        let p = ps * V::splat(1.0 / SCALE);
        let TwoFloat {
            hi: d_neg,
            lo: d_neg_lo,
        } = TwoFloat::two_sum(p, two);
        let d_neg_lo = d_neg_lo + ps_lo * V::splat(1.0 / SCALE);
        let xc = x.max_keep_nan(V::splat(FACTOR_FLOOR));
        let n_neg = xc * ps;
        let n_neg_lo = xc.mul_add(ps, -n_neg) + xc * ps_lo;
        // NaN fails `x >= 0` and takes the x < 0 side, which is NaN.
        let nonnegative = x.ge(zero);
        let pick = |p: V, n: V| V::select(nonnegative, p, n);
        let d = pick(d_pos, d_neg);
        let numerator = TwoFloat {
            hi: pick(n_pos, n_neg),
            lo: pick(n_pos_lo, n_neg_lo),
        };
        let q = numerator.div(
            TwoFloat {
                hi: d,
                lo: pick(d_pos_lo, d_neg_lo),
            },
            V::splat(1.0) / d,
        );
        // x·tanh(softplus x) has the sign of x; copysign also keeps mish(−0) = −0.
        (q * pick(one, V::splat(1.0 / SCALE))).copysign(x)
    }

    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        let (zero, one, two) = (V::splat(0.0), V::splat(1.0), V::splat(2.0));
        let neg_abs = TwoFloat::exact(-x.abs());
        let v = exp_pair(neg_abs, one);
        let vs = exp_pair(neg_abs, V::splat(SCALE));
        let one_plus_v = TwoFloat::exact(one) + v;
        // x ≥ 0 (v = e^{−x}): (N·D + 4x·K) / D², N = 1 + 2v, D = N + 2v², K = v²·(1 + v).
        // 4x·K vanishes long before 4x overflows; the clamp keeps inf · 0 out.
        let two_v = TwoFloat {
            hi: v.hi + v.hi,
            lo: v.lo + v.lo,
        };
        let n_pos = TwoFloat::exact(one) + two_v;
        let d_pos = n_pos + two_v * v;
        let k_pos = v * v * one_plus_v;
        let four_x_pos = TwoFloat::exact(x.min_keep_nan(V::splat(100.0)) * V::splat(4.0));
        let num_pos = n_pos * d_pos + four_x_pos * k_pos;
        // x < 0 (v = eˣ): v·((v + 2)·D + 4x·(1 + v)) / D², D = v·(v + 2) + 2; the leading factor
        // v is taken at scale 2³² (undone at the end) so a subnormal v loses nothing.
        let v_plus_2 = v + TwoFloat::exact(two);
        let d_neg = v * v_plus_2 + TwoFloat::exact(two);
        let four_x_neg = TwoFloat::exact(x.max_keep_nan(V::splat(FACTOR_FLOOR)) * V::splat(4.0));
        let inner = v_plus_2 * d_neg + four_x_neg * one_plus_v;
        let num_neg = vs * inner;
        // NaN fails `x >= 0` and takes the x < 0 side, which is NaN.
        let nonnegative = x.ge(zero);
        let d = TwoFloat::select(nonnegative, d_pos, d_neg);
        let num = TwoFloat::select(nonnegative, num_pos, num_neg);
        let square = d * d;
        let q = num.div(square, V::splat(1.0) / square.hi);
        q * V::select(nonnegative, one, V::splat(1.0 / SCALE))
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::mish(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::mish_derivative(x)
    }
}
