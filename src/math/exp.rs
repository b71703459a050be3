//! eˣ and its relatives: the range reduction, eˣ, eˣ − 1, c·eˣ, and the two-float variants.
//!
//! All of them reduce x to r = x − n·ln 2, |r| ≤ ln2/2 (ln 2 in two parts, Cody & Waite), take
//! eʳ − 1 = r + r²·P(r) with Cephes' `expf` polynomial, and scale by 2ⁿ last, after any factor
//! has been applied. Figures marked `math_accuracy` are from `cargo run --release --example
//! math_accuracy` (every `f32` of the stated range, one lane, FMA).

use super::two_float::TwoFloat;
use super::{finite_or_zero, poly};
use crate::backend::Vector;

/// log₂(e).
pub(super) const LOG2_E: f32 = core::f32::consts::LOG2_E;
/// ln 2 split so that `n · LN2_HI` is exact for |n| < 2¹⁵ (9 significant bits; Cody & Waite).
pub(super) const LN2_HI: f32 = 0.693_359_375;
/// ln 2 − `LN2_HI`.
pub(super) const LN2_LO: f32 = -2.121_944_400_546_905_827_68e-4;

/// Minimax coefficients of (eʳ − 1 − r) / r² on |r| ≤ ln2 / 2 (Cephes `expf`).
const EXP_P: [f32; 6] = [
    1.987_569_150_0e-4,
    1.398_199_950_7e-3,
    8.333_451_907_3e-3,
    4.166_579_589_4e-2,
    1.666_666_545_9e-1,
    5.000_000_120_1e-1,
];

/// Below this, eˣ·c rounds to 0 for every factor the kernels use (c ≤ 2¹¹ outside the scaled
/// gelu path, which never gets here): e⁻¹²⁰ = 2⁻¹⁷³. Clamping here keeps n ≥ −173, so the
/// two-step scaling stays within normal exponents, and makes limits at −inf exactly 0.
pub(super) const EXP_MIN_X: f32 = -120.0;
/// Above ln(f32::MAX) ≈ 88.7228 eˣ overflows; clamping just past it keeps n ≤ 128, so the
/// two-step scaling still produces +inf.
const EXP_MAX_X: f32 = 88.75;

/// Below this |x|, expm1(x) rounds to x (the next term, x²/2, is under half an ULP).
const TINY_EXPM1: f32 = 2.980_232_2e-8; // 2⁻²⁵

/// Range reduction of eˣ: returns `(q, n)` with `eˣ = 2ⁿ · (1 + q)`, |q| ≤ 0.42, n an
/// integer-valued float. `x` must already be clamped so that |n| ≤ 150; NaN passes through q.
///
/// Keeping `q = eʳ − 1` rather than `eʳ` lets callers fold a factor in with one rounding
/// (`c + c·q`) and gives `expm1` its small-argument accuracy.
#[inline(always)]
pub(super) fn exp_reduced<V: Vector>(x: V) -> (V, V) {
    let n = (x * V::splat(LOG2_E)).round_ties_even();
    // n · LN2_HI is exact and x − n · LN2_HI is exact by Sterbenz's lemma; one rounding
    // remains, in the second step.
    let r = n.mul_add(V::splat(-LN2_HI), x);
    let r = n.mul_add(V::splat(-LN2_LO), r);
    (expm1_reduced(r), n)
}

/// eʳ − 1 for |r| ≤ ln2 / 2: r + r²·P(r), within 2⁻³⁰ of the exact value before its last
/// rounding; in the fast tier P has one degree less ([`EXP_P_FAST`], 2⁻²⁸).
#[inline(always)]
fn expm1_reduced<V: Vector>(r: V) -> V {
    let p = if V::FAST { poly(r, &EXP_P_FAST) } else { poly(r, &EXP_P) };
    (r * r).mul_add(p, r)
}

/// (eʳ − 1 − r) / r² on |r| ≤ ln2 / 2 to within 3.8·10⁻⁹ relatively to eʳ, one degree below
/// [`EXP_P`] (iteratively reweighted least squares on 4000 Chebyshev nodes, coefficients
/// rounded to f32 before the error was measured).
const EXP_P_FAST: [f32; 5] = [
    1.381_460_5e-3,
    8.368_711e-3,
    4.166_839e-2,
    1.666_652_1e-1,
    4.999_999_4e-1,
];

/// The range reduction of e^{x.hi + x.lo} for a pair argument: `(q, n)` with e^{x.hi + x.lo} =
/// 2ⁿ·(1 + q.hi + q.lo), n an integer-valued float — the reduced argument's rounding and q's are
/// carried in q.lo, which a plain reduction would leave in the result (up to ≈ 0.6 ULP
/// together). NaN passes through q.hi.
///
/// gelu uses it for e^{−a²/2}, with −a²/2 an exact pair: a rounded a² would cost a²·2⁻²⁵
/// relatively, 50 ULP at a = 10. In the fast tier q.lo is 0 and the correction is folded into
/// q.hi (within about an ULP).
///
/// Valid for |x.hi| ≤ 170 (no clamping: n must stay within what [`Vector::ldexp`] takes) and
/// |x.lo| up to 2⁻¹⁸ or so. Max error of 2ⁿ·(1 + q.hi + q.lo), relative: 1.2·10⁻⁸ (0.1 to 0.2 ULP
/// of a result), on gelu's arguments x = −a²/2, 0 ≤ a ≤ 15 (`math_accuracy`).
#[inline(always)]
pub fn exp_reduced_pair<V: Vector>(x: TwoFloat<V>) -> (TwoFloat<V>, V) {
    let TwoFloat { hi: x, lo: x_lo } = x;
    if V::FAST {
        // The plain reduction with the correction folded in, 1 + q' = (1 + q)(1 + x_lo); no
        // low part (q_lo = 0): within about an ULP.
        let (q, n) = exp_reduced(x);
        return (TwoFloat::exact(q.mul_add(x_lo, q + x_lo)), n);
    }
    let n = (x * V::splat(LOG2_E)).round_ties_even();
    // x − n·LN2_HI is exact (see `exp_reduced`); the small terms are summed first (their
    // rounding is below 2⁻³⁰), then added with Dekker's sum. Where |r₁| < |small| the sum is
    // below 0.07 and its rounding negligible anyway.
    let r1 = n.mul_add(V::splat(-LN2_HI), x);
    let small = n.mul_add(V::splat(-LN2_LO), x_lo);
    let r = r1 + small;
    let r_lo = small - (r - r1);
    // eʳ − 1 = r + s, s = r²·P(r) ≤ r/2, summed exactly; e^{r + r_lo} = eʳ·(1 + r_lo).
    let s = (r * r) * poly(r, &EXP_P);
    let q = r + s;
    let q_lo = r_lo.mul_add(q, ((r - q) + s) + r_lo);
    (TwoFloat { hi: q, lo: q_lo }, n)
}

/// The range reduction of eˣ after clamping x to the range where it matters: `eˣ = 2ⁿ · (1 + q)`
/// with |q| ≤ 0.42 and n an integer-valued float.
///
/// Valid for every x: clamped to [−120, 88.75], so n ∈ [−173, 128] (2ⁿ takes two steps, as
/// [`Vector::ldexp`] does); NaN passes through q. The error of 1 + q is that of eʳ for the
/// rounded r: [`exp`], which rounds (1 + q)·2ⁿ once more, is within 1.010 ULP.
#[inline(always)]
pub fn exp_parts<V: Vector>(x: V) -> (V, V) {
    exp_reduced(x.max_keep_nan(V::splat(EXP_MIN_X)).min_keep_nan(V::splat(EXP_MAX_X)))
}

/// `c · eˣ` with `c = c.hi + c.lo` (`TwoFloat::exact` for an `f32` factor), rounded about once.
///
/// The factor is applied before the scaling by 2ⁿ, so the result is accurate wherever it is a
/// normal float even when eˣ alone would be subnormal (SELU's λα·eˣ near x = −87.5). NaN gives
/// NaN; −inf gives 0; +inf gives ±inf.
///
/// Valid for every x when 1 ≤ |c| ≤ 2¹¹: x is clamped to [−120, 88.75], which gives 0 below
/// (c·e⁻¹²⁰ rounds to 0) and ±inf above only for such c. Max error, all x: 1.179 ULP with
/// c = λα as selu passes it, 1.010 ULP with c = 4 as [`sech_squared`](super::sech_squared) does
/// (`math_accuracy`); over x ≤ 0, 1.167 ULP (selu's derivative).
#[inline(always)]
pub fn exp_times<V: Vector>(x: V, c: TwoFloat<f32>) -> V {
    let (q, n) = exp_parts(x);
    let c_hi = V::splat(c.hi);
    // c · (1 + q) = c_hi + (c_hi · q + c_lo), dropping only c_lo · q.
    (c_hi + c_hi.mul_add(q, V::splat(c.lo))).ldexp(n)
}

/// `c · eˣ` for a factor only known at run time (a kernel parameter), rounded about once.
///
/// Works for any finite c: x is clamped at −192 (not −104), below which c·eˣ < 2⁻¹⁴⁹ even for
/// c = f32::MAX, and the scaling by 2ⁿ is done in three exact steps.
///
/// Valid for x ≤ 88.75 and |c| < f32::MAX/1.42 (c·(1 + q) is formed before the scaling); above
/// 88.75, x is clamped, which gives ±inf only for |c| ≥ 1. NaN propagates. Max error: 1.010 ULP
/// with c = 1 over all x, 1.006 ULP with c = 0.3 over x ≤ 88.75 (`math_accuracy`).
#[inline(always)]
pub fn exp_times_v<V: Vector>(x: V, c: V) -> V {
    let x = x.max_keep_nan(V::splat(-192.0)).min_keep_nan(V::splat(EXP_MAX_X));
    let (q, n) = exp_reduced(x);
    let third = (n * V::splat(1.0 / 3.0)).round_ties_even();
    let rest = n - third - third;
    c.mul_add(q, c).mul_pow2i(third).mul_pow2i(third).mul_pow2i(rest)
}

/// eˣ: (1 + q)·2ⁿ from [`exp_parts`]; exact limits at ±inf (0 and +inf), NaN propagates.
///
/// Valid for every x. Max error, all x: 1.010 ULP (`math_accuracy`).
#[inline(always)]
pub fn exp<V: Vector>(x: V) -> V {
    let (q, n) = exp_parts(x);
    (q + V::splat(1.0)).ldexp(n)
}

/// eˣ − 1 without cancellation near 0; `expm1(±0) = ±0`, `expm1(−inf) = −1`, +inf overflows
/// to +inf, NaN propagates.
///
/// Valid for every x. Max error, all x: 1.443 ULP, at x ≈ 0.363 (`math_accuracy`; also
/// logsigmoid's derivative from the output, −expm1(y)); over x ≤ 0, 0.860 ULP (elu's forward).
#[inline(always)]
pub fn expm1<V: Vector>(x: V) -> V {
    // Below −86 the result rounds to −1; above 88.75 it overflows. The bounds keep n − 1
    // within the normal exponents that `pow2i` builds.
    let xc = x.max_keep_nan(V::splat(-86.0)).min_keep_nan(V::splat(EXP_MAX_X));
    let (q, n) = exp_reduced(xc);
    // eˣ − 1 = 2ⁿ·q + (2ⁿ − 1), evaluated at half scale h = 2ⁿ⁻¹ so 2ⁿ = 2¹²⁸ cannot overflow
    // an intermediate: 2·(h·q + (h − ½)). h − ½ is exact wherever it matters (n ≥ −24).
    let h = V::pow2i(n - V::splat(1.0));
    let result = V::splat(2.0) * h.mul_add(q, h - V::splat(0.5));
    // Below 2⁻²⁵, eˣ − 1 rounds to x itself. Returning x there keeps the sign of ±0 (which
    // r² · P(r) + r loses) and the bits of tiny inputs (which the half scale h·q would round
    // into the subnormal range).
    V::select(x.abs().lt(V::splat(TINY_EXPM1)), x, result)
}

/// `c · e^{x.hi + x.lo}` as an unevaluated sum `hi + lo` accurate to about a tenth of an ULP
/// (`c` a per-lane factor; `x.lo` a correction to `x.hi`, 0 for an exact `x`); |lo| ≤ ½ ULP of
/// `hi` for a power-of-two `c`, up to about 1.5 ULP otherwise.
///
/// The rounding errors of the reduced argument and of the polynomial's last addition, which a
/// plain `exp` leaves in its result (up to ≈ 0.8 ULP together), are carried in `lo`. Kernels
/// divide or add these pairs and round once at the end, which is how σ, silu, softplus and
/// their derivatives stay within CONTRACT §4's 2 ULP. `c` is applied before the scaling by 2ⁿ, so a
/// normal `c·eˣ` is accurate even where eˣ alone would be subnormal. NaN propagates.
///
/// Valid for |x.lo| up to 2⁻¹⁵ or so (e^{x.lo} is taken as 1 + x.lo) and |c| < f32::MAX/1.42
/// (c·eʳ is formed before the scaling). x.hi is clamped to [−120, 88.75] and the correction
/// dropped there: beyond, the result is right (0, ±inf) for 1 ≤ |c| ≤ 2¹¹. Max error of hi + lo
/// with c = 1 and an exact x: 0.121 ULP of eˣ wherever eˣ ≥ 2⁻¹⁰², 0.556 ULP down to 2⁻¹²⁶,
/// where `lo` loses bits to underflow; `hi` alone is within 0.618 ULP (`math_accuracy`). hi + lo
/// rounded: 0.817 ULP over x ≤ 0 (celu's derivative).
#[inline(always)]
pub fn exp_pair<V: Vector>(x: TwoFloat<V>, c: V) -> TwoFloat<V> {
    let TwoFloat { hi: x_hi, lo: x_lo } = x;
    let x = x_hi.max_keep_nan(V::splat(EXP_MIN_X)).min_keep_nan(V::splat(EXP_MAX_X));
    // A clamped argument's correction means nothing (and may be huge).
    let x_lo = V::select(x.eq(x_hi), x_lo, V::splat(0.0));
    let n = (x * V::splat(LOG2_E)).round_ties_even();
    let r1 = n.mul_add(V::splat(-LN2_HI), x);
    let r = n.mul_add(V::splat(-LN2_LO), r1);
    // What the second reduction step rounded away, plus the caller's correction.
    let r_lo = (-n).mul_add(V::splat(LN2_LO), r1 - r) + x_lo;
    // eʳ = 1 + r + s with s = r²·P(r) ≤ r/2: sum the three exactly into m + m_lo.
    let s = (r * r) * poly(r, &EXP_P);
    let q = r + s;
    let q_lo = (r - q) + s;
    let m = V::splat(1.0) + q;
    let m_lo = ((V::splat(1.0) - m) + q) + q_lo;
    // e^{r + r_lo} ≈ eʳ · (1 + r_lo); renormalized, since a caller's correction may exceed an
    // ULP of m (an unnormalized pair), and callers rely on lo being below hi's last bit.
    let TwoFloat { hi: m, lo: m_lo } = TwoFloat::fast_two_sum(m, m.mul_add(r_lo, m_lo));
    // c·2ⁿ·(m + m_lo), the factor applied before the scaling.
    let p = c * m;
    let p_lo = c.mul_add(m, -p) + c * m_lo;
    let half = (n * V::splat(0.5)).round_ties_even();
    let rest = n - half;
    let hi = p.mul_pow2i(half).mul_pow2i(rest);
    TwoFloat {
        hi,
        lo: finite_or_zero(hi, p_lo.mul_pow2i(half).mul_pow2i(rest)),
    }
}

/// e^{x.hi + x.lo} − 1 for a pair argument, so a rounded argument costs nothing (its rounding
/// error would otherwise cost |x|·2⁻²⁴ relatively for large |x|). Below |x| = ¼ it is
/// expm1(x.hi) + x.lo·e^{x.hi}; above, the exponential as a pair minus 1, summed exactly
/// (e − 1 is at least 0.22 in magnitude there, so the pair's relative error, about a tenth of
/// an ULP of e, is magnified at most 4.6 times). NaN propagates.
///
/// Valid for every x.hi, with |x.lo| up to 2⁻¹⁵ or so ([`exp_pair`]). Max error with an exact
/// argument, all x: 0.941 ULP (`math_accuracy`; over x ≤ 0 also celu's forward at α = 1); with
/// a low part, not measured on its own (every exhaustive row passes an exact one).
#[inline(always)]
pub fn expm1_pair<V: Vector>(x: TwoFloat<V>) -> V {
    let small = expm1(x.hi) + exp_times_v(x.hi, x.lo);
    let e = exp_pair(x, V::splat(1.0));
    let s = TwoFloat::two_sum(e.hi, V::splat(-1.0));
    // An overflowed e (+inf) makes the TwoSum residual NaN: keep s there.
    let large = V::select(s.hi.abs().lt(V::splat(f32::INFINITY)), s.hi + (s.lo + e.lo), s.hi);
    // NaN fails the comparison and takes the small form, which propagates it.
    V::select(x.hi.abs().ge(V::splat(0.25)), large, small)
}
