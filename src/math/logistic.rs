//! The σ family: σ(x) = 1/(1 + e^{−x}) of a plain or a two-float argument, c·σ(x), the bell
//! σ'(x) and sech²x, and σ(a) + c·σ'(a).

use super::exp::{EXP_MIN_X, exp_pair, exp_reduced, exp_times};
use super::tables::{BELL_C0, BELL_CENTRE, BELL_P};
use super::two_float::{TwoFloat, recip_estimate_1_2};
use crate::backend::Vector;

/// `c · e^{−|x|} / (1 + e^{−|x|})²` for a power of two `c`: the bell of σ'(x) (c = 1) and,
/// through tanh'(x) = 4·σ'(2x), of tanh' (c = 4, at 2x: tanhshrink's derivative is 1 − it).
///
/// u = e^{−|x|} ∈ (0, 1] and 1 + u are carried as pairs, the square is formed with one FMA and
/// the quotient by [`TwoFloat::div`], so the result rounds about once. `c` goes in before the
/// scaling by 2ⁿ, so a subnormal u still gives an accurate normal result. Symmetric in x; NaN
/// propagates; ±inf gives +0. [`sech_squared`] is the faster bell of tanh' and σ'.
///
/// Valid for every x and a power of two `c` (1/c exact). Max error, all x: 0.680 ULP with c = 1
/// and with c = 4 (`cargo run --release --example math_accuracy`).
#[inline(always)]
pub fn logistic_bell<V: Vector>(x: V, c: f32) -> V {
    let cu = exp_pair(TwoFloat::exact(-x.abs()), V::splat(c));
    // Exact for a power-of-two c (a subnormal u loses bits here, which 1 + u cannot feel).
    let inv_c = V::splat(1.0 / c);
    let u = cu.hi * inv_c;
    let u_lo = cu.lo * inv_c;
    let one = V::splat(1.0);
    let d = one + u;
    let d_lo = ((one - d) + u) + u_lo;
    let square = d * d;
    let square_lo = d.mul_add(d, -square) + (d + d) * d_lo;
    let inv_d = recip_estimate_1_2(d);
    cu.div(
        TwoFloat {
            hi: square,
            lo: square_lo,
        },
        inv_d * inv_d,
    )
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
/// quotient. NaN propagates; ±inf gives +0.
///
/// Valid for every x and c ∈ {¼, ½, 1} (the table's product by c must be exact). Max error, all
/// x: 1.083 ULP with c = 1 (tanh's derivative) and with c = ¼ at x/2 (sigmoid's derivative);
/// in the fast tier, whose tail takes eˣ's shorter polynomial, 1.107 ULP (sigmoid's).
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
    let v = exp_times(a * V::splat(-2.0), TwoFloat::exact(4.0 * c));
    let tail = (v * V::splat(-0.5 / c)).mul_add(v, v);
    // NaN fails the comparison and takes the table's NaN.
    V::select(a.gt(V::splat(BELL_A_MAX)), tail, table)
}

/// σ(x.hi + x.lo) = 1 / (1 + e^{−x}) of a two-float argument: σ when the argument itself carries
/// a rounding error (softplus's βx), or where its lower error is worth twice [`logistic`]'s time
/// (logsigmoid's derivative, with an exact argument).
///
/// With u = e^{−|x|} ∈ (0, 1] as a pair (never overflows), σ = 1/(1 + u) for x ≥ 0 and
/// u/(1 + u) for x < 0 (XNNPACK's reflection), divided with [`TwoFloat::div`]. NaN propagates.
///
/// Valid for every x, with |x.lo| of at most about an ULP of x.hi. Max error with an exact
/// argument, all x: 0.623 ULP (logsigmoid's derivative, σ(−x)); with a low part, not measured on
/// its own (softplus's derivative at β = 1 passes none). Same code in the fast tier.
#[inline(always)]
pub fn logistic_pair<V: Vector>(x: TwoFloat<V>) -> V {
    let nonnegative = x.hi.ge(V::splat(0.0));
    let u = exp_pair(
        TwoFloat {
            hi: -x.hi.abs(),
            lo: V::select(nonnegative, -x.lo, x.lo),
        },
        V::splat(1.0),
    );
    let one = V::splat(1.0);
    let d = one + u.hi;
    let d_lo = ((one - d) + u.hi) + u.lo;
    // NaN fails `x >= 0` and takes u, which is NaN.
    let n = TwoFloat::select(nonnegative, TwoFloat::exact(one), u);
    n.div(TwoFloat { hi: d, lo: d_lo }, recip_estimate_1_2(d))
}

/// e^{−|x + x_lo|} = 2ⁿ·(m.hi + m.lo), m.hi ∈ [0.7, 1.42] rounded once and its error kept,
/// returned as `(m, n, x ≥ 0)`: the exponential of [`logistic`] and [`times_logistic`]. `x_lo`
/// is the argument's low part when it has one (`None` saves the renormalization).
#[inline(always)]
fn exp_neg_abs<V: Vector>(x: V, x_lo: Option<V>) -> (TwoFloat<V>, V, V::Mask) {
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
        return (TwoFloat::exact(m), n, nonnegative);
    }
    let m_lo = (one - m) + q;
    match x_lo {
        None => (TwoFloat { hi: m, lo: m_lo }, n, nonnegative),
        Some(x_lo) => {
            // e^{−|x + x_lo|} = e^{−|x|}·(1 ∓ x_lo) to far below an ULP (x_lo ≤ 2⁻¹⁸ wherever
            // u is not 0). Renormalized: the division's correction assumes a low part of
            // about an ULP (its reciprocal estimate is only good to 2 %).
            let m = TwoFloat::fast_two_sum(m, m.mul_add(V::select(nonnegative, -x_lo, x_lo), m_lo));
            (m, n, nonnegative)
        }
    }
}

/// `n / d` for d ∈ [1, 2] and a finite quotient, rounded about once: [`TwoFloat::div`] without
/// its guard for an infinite quotient.
#[inline(always)]
fn corrected_quotient<V: Vector>(n: TwoFloat<V>, d: TwoFloat<V>) -> V {
    n.quotient_and_corrected(d, recip_estimate_1_2(d.hi)).1
}

/// σ(x) = 1/(1 + e^{−x}) with one exponential and one corrected division: the σ forward.
///
/// With u = e^{−|x|} = 2ⁿ·m, σ is 1/(1 + u) for x ≥ 0 and u/(1 + u) for x < 0 (XNNPACK's
/// reflection, nothing overflows). u and 1 + u are kept as pairs: a rounded 1 + u would cost up
/// to an ULP of σ near 1. NaN propagates. For a two-float argument, [`logistic_pair`].
///
/// Valid for every x. Max error, all x: 1.010 ULP (sigmoid's forward); in the fast tier (u and
/// 1 + u rounded, one plain division) 2.402 ULP.
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
    let (m, n, nonnegative) = exp_neg_abs(x, None);
    let u = m.hi.ldexp(n);
    let u_lo = m.lo.ldexp(n);
    let d = one + u;
    let d_lo = ((one - d) + u) + u_lo;
    // NaN fails `x >= 0` and takes u, which is NaN.
    corrected_quotient(
        TwoFloat::select(nonnegative, TwoFloat::exact(one), TwoFloat { hi: u, lo: u_lo }),
        TwoFloat { hi: d, lo: d_lo },
    )
}

/// `c·σ(x)` with one exponential and one corrected division: the silu forward
/// ([`times_logistic_pair`] for a two-float argument: gelu's tanh form).
///
/// With u = e^{−|x|} = 2ⁿ·m, c·σ(x) is c/(1 + u) for x ≥ 0 and 2ⁿ·(c·m)/(1 + u) for x < 0: the
/// quotient is taken before the scaling by 2ⁿ, so silu stays accurate near x = −88 where u
/// alone is subnormal, and only the result is scaled. 1 + u is kept as a pair, and the rounding
/// errors of m and of c·m go into the residual that corrects the quotient. NaN `x` propagates.
///
/// Valid for every x, with `c` finite and |c| ≤ 2⁴⁰ where x < 0; an infinite `c` with x ≥ 0
/// gives NaN (callers select their limit). Max error, all x: 1.112 ULP with c = x (silu's
/// forward, c clamped at −104); in the fast tier (operands rounded, one plain division)
/// 3.394 ULP.
#[inline(always)]
pub fn times_logistic<V: Vector>(c: V, x: V) -> V {
    times_logistic_of(c, x, None)
}

/// `c·σ(x.hi + x.lo)`: [`times_logistic`] of a two-float argument, whose low part goes into the
/// exponential (e^{−|x + x_lo|} = e^{−|x|}·(1 ∓ x_lo), renormalized). gelu's tanh form passes
/// its argument a = k₁x + k₂x³ this way: a rounded a would cost |a|·2⁻²⁴ relatively.
///
/// Valid as [`times_logistic`], with |x.lo| below 2⁻¹⁸ or so wherever e^{−|x|} is not 0. Max
/// error, all x: 1.161 ULP with gelu's tanh-form argument and c = x (its forward); in the fast
/// tier 3.448 ULP.
#[inline(always)]
pub fn times_logistic_pair<V: Vector>(c: V, x: TwoFloat<V>) -> V {
    times_logistic_of(c, x.hi, Some(x.lo))
}

/// The work of [`times_logistic`] (`x_lo` = `None`) and [`times_logistic_pair`].
#[inline(always)]
fn times_logistic_of<V: Vector>(c: V, x: V, x_lo: Option<V>) -> V {
    let one = V::splat(1.0);
    if V::FAST {
        // The operands rounded, u built by one scaling, c·u formed as (c·m)·2ⁿ so that it is
        // as accurate as a normal result needs (silu: 3.394 ULP, exhaustive).
        let (m, n, nonnegative) = exp_neg_abs(x, x_lo);
        let m = m.hi;
        let numerator = V::select(nonnegative, c, (c * m).ldexp(n));
        return numerator / (one + m.ldexp(n));
    }
    let (TwoFloat { hi: m, lo: m_lo }, n, nonnegative) = exp_neg_abs(x, x_lo);
    // Below 2⁻¹²⁶, u cannot change 1 + u: n is floored there so that 2ⁿ is a normal float.
    let scale = V::pow2i(n.max_keep_nan(V::splat(-126.0)));
    let u = m * scale;
    let d = one + u;
    let d_lo = m_lo.mul_add(scale, (one - d) + u);
    let p = c * m;
    let p_lo = c.mul_add(m_lo, c.mul_add(m, -p));
    // NaN fails `x >= 0` and takes the x < 0 forms, which are NaN.
    let quotient = corrected_quotient(
        TwoFloat::select(nonnegative, TwoFloat::exact(c), TwoFloat { hi: p, lo: p_lo }),
        TwoFloat { hi: d, lo: d_lo },
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
/// where 1 + u + c does (silu' at x ≈ −1.28), and loses relative accuracy only there. NaN
/// propagates.
///
/// Valid for every a (|a.lo| of at most about an ULP of a.hi) and finite `c` (callers clamp it
/// where the term no longer matters). Max error, all x, with CONTRACT §4's absolute 2⁻²⁴ near the
/// zero crossing: 0.843 ULP with c = x, a = x (silu's derivative) and 1.492 ULP as gelu's
/// tanh-form derivative; in the fast tier (e^{−|a|} without a low part, one plain division)
/// 3.299 and 3.618 ULP.
#[inline(always)]
pub fn sigmoid_plus_bell<V: Vector>(c: TwoFloat<V>, a: TwoFloat<V>) -> V {
    let (zero, one) = (V::splat(0.0), V::splat(1.0));
    let nonnegative = a.hi.ge(zero);
    let neg_abs = -a.hi.abs();
    let neg_abs_lo = V::select(nonnegative, -a.lo, a.lo);
    if V::FAST {
        let TwoFloat { hi: c, lo: c_lo } = c;
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
    let neg_abs = TwoFloat {
        hi: neg_abs,
        lo: neg_abs_lo,
    };
    let u = exp_pair(neg_abs, one);
    let one = TwoFloat::exact(one);
    let d = one + u;
    let square = d * d;
    // a ≥ 0: 1 + u·(1 + c)
    let pos = one + u * (one + c);
    // a < 0: u·w with w = 1 + u + c
    let w = (one + u) + c;
    let uw = exp_pair(neg_abs, w.hi);
    let neg = TwoFloat {
        hi: uw.hi,
        lo: u.hi.mul_add(w.lo, uw.lo),
    };
    let n = TwoFloat::select(nonnegative, pos, neg);
    let inv_d = recip_estimate_1_2(d.hi);
    n.div(square, inv_d * inv_d)
}
