//! The σ family: σ(x) = 1/(1 + e^{−x}) of a plain or a two-float argument, c·σ(x), the bell
//! σ'(x) and sech²x, and σ(a) + c·σ'(a).

use super::exp::{EXP_MIN_X, exp_pair, exp_reduced, exp_times};
use super::tables::{BELL_C0, BELL_CENTRE, BELL_P};
use super::two_float::{add_pair, div_pair, fast_two_sum, mul_pair, quotient_and_corrected, recip_estimate_1_2};
use crate::backend::Vector;

/// `c · e^{−|x|} / (1 + e^{−|x|})²` for a power of two `c`: the bell shared by σ'(x) (c = 1)
/// and, through tanh'(x) = 4·σ'(2x), by tanh' (c = 4).
///
/// u = e^{−|x|} ∈ (0, 1] and 1 + u are carried as pairs, the square is formed with one FMA and
/// the quotient by [`div_pair`], so the result rounds about once. `c` goes in before the scaling
/// by 2ⁿ, so a subnormal u still gives an accurate normal result. Symmetric in x; NaN
/// propagates; ±inf gives +0.
#[inline(always)]
pub fn logistic_bell<V: Vector>(x: V, c: f32) -> V {
    let (cu, cu_lo) = exp_pair(-x.abs(), V::splat(0.0), V::splat(c));
    // Exact for a power-of-two c (a subnormal u loses bits here, which 1 + u cannot feel).
    let inv_c = V::splat(1.0 / c);
    let (u, u_lo) = (cu * inv_c, cu_lo * inv_c);
    let one = V::splat(1.0);
    let d = one + u;
    let d_lo = ((one - d) + u) + u_lo;
    let square = d * d;
    let square_lo = d.mul_add(d, -square) + (d + d) * d_lo;
    let inv_d = recip_estimate_1_2(d);
    div_pair(cu, cu_lo, square, square_lo, inv_d * inv_d)
}

/// [`sech_squared`]'s interval of a = min(|x|, BELL_A_MAX) is k = round(min(BELL_NEAR_SLOPE·a,
/// BELL_FAR_SLOPE·a + BELL_FAR_OFFSET)), 0 to 31: width ¼ up to a = 2, then 1/3.3 up to 9.
const BELL_NEAR_SLOPE: f32 = 4.0;
const BELL_FAR_SLOPE: f32 = 3.3;
const BELL_FAR_OFFSET: f32 = 1.4;
/// Past this, sech²a = 4u/(1 + u)² = 4u·(1 − 2u) to within 3u² (relatively 1e−15), u = e^{−2a}.
const BELL_A_MAX: f32 = 9.0;

/// `c·sech²x` for a power of two `c` in [¼, 1]: tanh'(x) = sech²x (c = 1) and σ'(x) = ¼·sech²(x/2).
///
/// With a = |x|: up to a = 9 a table of 32 intervals, a degree-6 polynomial in t = a − centre on
/// each with its coefficients read through [`Vector::lookup32`] (as tanh's forward), rounded once
/// (the product by c is exact); past 9, 4u·(1 − 2u) with u = e^{−2a}, formed as v − v²/(2c) from
/// v = 4c·e^{−2a} ([`exp_times`], c applied before the scaling, so tiny results stay accurate). No
/// division and no pairs, where [`logistic_bell`] carries 1 + u as a pair through a corrected
/// quotient. Max error 1.083 ULP (tanh', exhaustive). NaN propagates; ±inf gives +0.
#[inline(always)]
pub fn sech_squared<V: Vector>(x: V, c: f32) -> V {
    let a = x.abs();
    // A NaN a gives a NaN index, which reads entry 0, and stays NaN through t.
    let at = a.min_keep_nan(V::splat(BELL_A_MAX));
    let k =
        (at * V::splat(BELL_NEAR_SLOPE)).min_keep_nan(at.mul_add(V::splat(BELL_FAR_SLOPE), V::splat(BELL_FAR_OFFSET)));
    let t = at - V::lookup32(&BELL_CENTRE, k);
    let mut rest = V::lookup32(&BELL_P[0], k);
    for coefficients in &BELL_P[1..] {
        rest = rest.mul_add(t, V::lookup32(coefficients, k));
    }
    let table = t.mul_add(rest, V::lookup32(&BELL_C0, k)) * V::splat(c);
    // 2a is exact; v rounds to 0 at ±inf.
    let v = exp_times(a * V::splat(-2.0), 4.0 * c, 0.0);
    let tail = (v * V::splat(-0.5 / c)).mul_add(v, v);
    // NaN fails the comparison and takes the table's NaN.
    V::select(a.gt(V::splat(BELL_A_MAX)), tail, table)
}

/// σ(x_hi + x_lo) = 1 / (1 + e^{−x}), within about 1 ULP.
///
/// With u = e^{−|x|} ∈ (0, 1] as a pair (never overflows), σ = 1/(1 + u) for x ≥ 0 and
/// u/(1 + u) for x < 0 (XNNPACK's reflection), divided with [`div_pair`]. NaN propagates.
#[inline(always)]
pub fn sigmoid<V: Vector>(x_hi: V, x_lo: V) -> V {
    let nonnegative = x_hi.ge(V::splat(0.0));
    let (u, u_lo) = exp_pair(-x_hi.abs(), V::select(nonnegative, -x_lo, x_lo), V::splat(1.0));
    let one = V::splat(1.0);
    let d = one + u;
    let d_lo = ((one - d) + u) + u_lo;
    // NaN fails `x >= 0` and takes u, which is NaN.
    let n = V::select(nonnegative, one, u);
    let n_lo = V::select(nonnegative, V::splat(0.0), u_lo);
    div_pair(n, n_lo, d, d_lo, recip_estimate_1_2(d))
}

/// e^{−|x + x_lo|} = 2ⁿ·(m + m_lo), m ∈ [0.7, 1.42] rounded once and its error kept, returned as
/// `(m, m_lo, n, x ≥ 0)`: the exponential of [`logistic`] and [`times_logistic`].
#[inline(always)]
fn exp_neg_abs<V: Vector>(x: V, x_lo: Option<V>) -> (V, V, V, V::Mask) {
    let one = V::splat(1.0);
    let nonnegative = x.ge(V::splat(0.0));
    // −|x| ≤ 0 needs only the lower clamp of `exp_parts`.
    let (q, n) = exp_reduced((-x.abs()).max_keep_nan(V::splat(EXP_MIN_X)));
    let m = q + one;
    if V::FAST {
        // e^{−|x + x_lo|} = (1 + q)·(1 + s), s = ∓x_lo, rounded once: 1 + (q + s + q·s).
        let m = x_lo.map_or(m, |x_lo| {
            let s = V::select(nonnegative, -x_lo, x_lo);
            one + q.mul_add(s, q + s)
        });
        return (m, V::splat(0.0), n, nonnegative);
    }
    let m_lo = (one - m) + q;
    match x_lo {
        None => (m, m_lo, n, nonnegative),
        Some(x_lo) => {
            // e^{−|x + x_lo|} = e^{−|x|}·(1 ∓ x_lo) to far below an ULP (x_lo ≤ 2⁻¹⁸ wherever
            // u is not 0). Renormalized: the division's correction assumes a low part of
            // about an ULP (its reciprocal estimate is only good to 2 %).
            let (m, m_lo) = fast_two_sum(m, m.mul_add(V::select(nonnegative, -x_lo, x_lo), m_lo));
            (m, m_lo, n, nonnegative)
        }
    }
}

/// `(n + n_lo)/(d + d_lo)` for d ∈ [1, 2] and a finite quotient, rounded about once: [`div_pair`]
/// without its guard for an infinite quotient.
#[inline(always)]
fn corrected_quotient<V: Vector>(n: V, n_lo: V, d: V, d_lo: V) -> V {
    quotient_and_corrected(n, n_lo, d, d_lo, recip_estimate_1_2(d)).1
}

/// σ(x) = 1/(1 + e^{−x}) with one exponential and one corrected division: the σ forward.
///
/// With u = e^{−|x|} = 2ⁿ·m, σ is 1/(1 + u) for x ≥ 0 and u/(1 + u) for x < 0 (XNNPACK's
/// reflection, nothing overflows). u and 1 + u are kept as pairs: a rounded 1 + u would cost up
/// to an ULP of σ near 1. Within about an ULP (exhaustive figures in the README); NaN
/// propagates.
#[inline(always)]
pub fn logistic<V: Vector>(x: V) -> V {
    let one = V::splat(1.0);
    if V::FAST {
        // u and 1 + u rounded, then one division. NaN fails `x >= 0` and takes u/(1 + u),
        // which is NaN.
        let (q, n) = exp_reduced((-x.abs()).max_keep_nan(V::splat(EXP_MIN_X)));
        let u = (q + one).ldexp(n);
        return V::select(x.ge(V::splat(0.0)), one, u) / (one + u);
    }
    let (m, m_lo, n, nonnegative) = exp_neg_abs(x, None);
    let u = m.ldexp(n);
    let u_lo = m_lo.ldexp(n);
    let d = one + u;
    let d_lo = ((one - d) + u) + u_lo;
    // NaN fails `x >= 0` and takes u, which is NaN.
    corrected_quotient(
        V::select(nonnegative, one, u),
        V::select(nonnegative, V::splat(0.0), u_lo),
        d,
        d_lo,
    )
}

/// `c·σ(x + x_lo)` (x exact when `x_lo` is `None`) with one exponential and one corrected
/// division: the silu and tanh-gelu forwards.
///
/// With u = e^{−|x|} = 2ⁿ·m, c·σ(x) is c/(1 + u) for x ≥ 0 and 2ⁿ·(c·m)/(1 + u) for x < 0: the
/// quotient is taken before the scaling by 2ⁿ, so silu stays accurate near x = −88 where u
/// alone is subnormal, and only the result is scaled. 1 + u is kept as a pair, and the rounding
/// errors of m and of c·m go into the residual that corrects the quotient. Within about an ULP
/// (exhaustive figures in the README). `c` must be finite with |c| ≤ 2⁴⁰ where x < 0; an
/// infinite `c` with x ≥ 0 gives NaN (callers select their limit). NaN `x` propagates.
#[inline(always)]
pub fn times_logistic<V: Vector>(c: V, x: V, x_lo: Option<V>) -> V {
    let one = V::splat(1.0);
    if V::FAST {
        // The operands rounded, u built by one scaling, c·u formed as (c·m)·2ⁿ so that it is
        // as accurate as a normal result needs (silu: 3.394 ULP, exhaustive).
        let (m, _, n, nonnegative) = exp_neg_abs(x, x_lo);
        let numerator = V::select(nonnegative, c, (c * m).ldexp(n));
        return numerator / (one + m.ldexp(n));
    }
    let (m, m_lo, n, nonnegative) = exp_neg_abs(x, x_lo);
    // Below 2⁻¹²⁶, u cannot change 1 + u: n is floored there so that 2ⁿ is a normal float.
    let scale = V::pow2i(n.max_keep_nan(V::splat(-126.0)));
    let u = m * scale;
    let d = one + u;
    let d_lo = m_lo.mul_add(scale, (one - d) + u);
    let p = c * m;
    let p_lo = c.mul_add(m_lo, c.mul_add(m, -p));
    // NaN fails `x >= 0` and takes the x < 0 forms, which are NaN.
    let quotient = corrected_quotient(
        V::select(nonnegative, c, p),
        V::select(nonnegative, V::splat(0.0), p_lo),
        d,
        d_lo,
    );
    // Wherever n < 0 (|x| > ln2/2) the quotient is at least 2⁻¹⁰ or so, which `ldexp` needs;
    // n = 0 scales exactly.
    quotient.ldexp(V::select(nonnegative, V::splat(0.0), n))
}

/// `σ(a) + c·σ'(a)` for pairs `a` and `c`, rounded about once: silu' is σ(x) + x·σ'(x), the
/// derivative of gelu's tanh form is σ(a) + x·a'·σ'(a).
///
/// With u = e^{−|a|}, this is (1 + u·(1 + c))/(1 + u)² for a ≥ 0 and u·(1 + u + c)/(1 + u)² for
/// a < 0: one quotient of pairs, u·(…) formed inside the exponential. The numerator crosses zero
/// where 1 + u + c does (silu' at x ≈ −1.28), and loses relative accuracy only there. `c` must
/// be finite (callers clamp it where the term no longer matters). NaN propagates.
#[inline(always)]
pub fn sigmoid_plus_bell<V: Vector>((c, c_lo): (V, V), a_hi: V, a_lo: V) -> V {
    let (zero, one) = (V::splat(0.0), V::splat(1.0));
    let nonnegative = a_hi.ge(zero);
    let neg_abs = -a_hi.abs();
    let neg_abs_lo = V::select(nonnegative, -a_lo, a_lo);
    if V::FAST {
        // e^{−|a|} = 2ⁿ·(1 + q), the correction folded into q; 1 + u as a pair only to square
        // it; the a < 0 numerator 2ⁿ·(1 + q)·w with one rounding, w = 1 + u + c. One division,
        // before the scaling by 2ⁿ.
        let (q, n) = exp_reduced(neg_abs.max_keep_nan(V::splat(EXP_MIN_X)));
        let q = q.mul_add(neg_abs_lo, q + neg_abs_lo);
        let u = (q + one).ldexp(n);
        let d = one + u;
        let d_lo = (one - d) + u;
        let square = d.mul_add(d, (d + d) * d_lo);
        // 1 + c is exact for c ≤ −1; u + c_lo is far below an ULP of w, so w rounds once.
        let one_c = one + c;
        let w = one_c + (u + c_lo);
        let numerator = V::select(nonnegative, u.mul_add(one_c + c_lo, one), w.mul_add(q, w));
        return (numerator / square).ldexp(V::select(nonnegative, zero, n));
    }
    let (u, u_lo) = exp_pair(neg_abs, neg_abs_lo, one);
    let d = add_pair((one, zero), (u, u_lo));
    let (square, square_lo) = mul_pair(d, d);
    // a ≥ 0: 1 + u·(1 + c)
    let pos = add_pair((one, zero), mul_pair((u, u_lo), add_pair((one, zero), (c, c_lo))));
    // a < 0: u·w with w = 1 + u + c
    let (w, w_lo) = add_pair(add_pair((one, zero), (u, u_lo)), (c, c_lo));
    let (uw, uw_lo) = exp_pair(neg_abs, neg_abs_lo, w);
    let neg = (uw, u.mul_add(w_lo, uw_lo));
    let n = V::select(nonnegative, pos.0, neg.0);
    let n_lo = V::select(nonnegative, pos.1, neg.1);
    let inv_d = recip_estimate_1_2(d.0);
    div_pair(n, n_lo, square, square_lo, inv_d * inv_d)
}
