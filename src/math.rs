//! Elementary functions shared by the kernels, written once over [`Vector`].
//!
//! Everything here is built from operations that round once, so every backend with fused
//! multiply-add computes the same bits. Error figures are for the function alone, measured by
//! the exhaustive sweep (`cargo run --release --example accuracy`) through the kernels that use
//! them.
#![allow(clippy::excessive_precision)]

use crate::backend::Vector;

/// log₂(e).
const LOG2_E: f32 = 1.442_695_040_888_963_4;
/// ln 2 split so that `n · LN2_HI` is exact for |n| < 2¹⁵ (9 significant bits; Cody & Waite).
const LN2_HI: f32 = 0.693_359_375;
/// ln 2 − `LN2_HI`.
const LN2_LO: f32 = -2.121_944_400_546_905_827_68e-4;

/// Minimax coefficients of (eʳ − 1 − r) / r² on |r| ≤ ln2 / 2 (Cephes `expf`).
const EXP_P: [f32; 6] = [
    1.987_569_150_0e-4,
    1.398_199_950_7e-3,
    8.333_451_907_3e-3,
    4.166_579_589_4e-2,
    1.666_666_545_9e-1,
    5.000_000_120_1e-1,
];

/// Below this eˣ · 2¹²⁸ (the largest scale `exp_times` is used with) is still below the
/// smallest subnormal, so clamping here changes no result.
const EXP_MIN_X: f32 = -104.0;
/// Above ln(f32::MAX) ≈ 88.7228 eˣ overflows; clamping just past it keeps n ≤ 128, so the
/// two-step scaling still produces +inf.
const EXP_MAX_X: f32 = 88.75;

/// Below this |x|, expm1(x) rounds to x (the next term, x²/2, is under half an ULP).
const TINY_EXPM1: f32 = 2.980_232_2e-8; // 2⁻²⁵

/// Evaluates a polynomial with coefficients from the highest degree down (Horner, with FMA).
#[inline(always)]
pub fn poly<V: Vector>(x: V, coefficients: &[f32]) -> V {
    let mut acc = V::splat(coefficients[0]);
    for &c in &coefficients[1..] {
        acc = acc.mul_add(x, V::splat(c));
    }
    acc
}

/// Range reduction of eˣ: returns `(q, n)` with `eˣ = 2ⁿ · (1 + q)`, |q| ≤ 0.42, n an
/// integer-valued float. `x` must already be clamped so that |n| ≤ 150; NaN passes through q.
///
/// Keeping `q = eʳ − 1` rather than `eʳ` lets callers fold a factor in with one rounding
/// (`c + c·q`) and gives `expm1` its small-argument accuracy.
#[inline(always)]
fn exp_reduced<V: Vector>(x: V) -> (V, V) {
    let n = (x * V::splat(LOG2_E)).round_ties_even();
    // n · LN2_HI is exact and x − n · LN2_HI is exact by Sterbenz's lemma; one rounding
    // remains, in the second step.
    let r = n.mul_add(V::splat(-LN2_HI), x);
    let r = n.mul_add(V::splat(-LN2_LO), r);
    let q = (r * r).mul_add(poly(r, &EXP_P), r);
    (q, n)
}

/// `v · 2ⁿ` for integer-valued `n` in [−150, 128], in two exact steps so that neither scale
/// factor leaves the normal range; only the final product rounds (into a subnormal or ±inf).
#[inline(always)]
pub fn ldexp<V: Vector>(v: V, n: V) -> V {
    let half = (n * V::splat(0.5)).round_ties_even();
    v * V::pow2i(half) * V::pow2i(n - half)
}

/// [`exp_reduced`] after clamping x to the range where it matters: `eˣ = 2ⁿ · (1 + q)`.
#[inline(always)]
pub fn exp_parts<V: Vector>(x: V) -> (V, V) {
    exp_reduced(
        x.max_keep_nan(V::splat(EXP_MIN_X))
            .min_keep_nan(V::splat(EXP_MAX_X)),
    )
}

/// `c · eˣ` with `c = c_hi + c_lo` (pass `c_lo = 0` for an `f32` factor), rounded about once.
///
/// The factor is applied before the scaling by 2ⁿ, so the result is accurate wherever it is a
/// normal float even when eˣ alone would be subnormal (SELU's λα·eˣ near x = −87.5).
/// Max error ≈ 1 ULP. NaN gives NaN; −inf gives 0; +inf gives ±inf.
#[inline(always)]
pub fn exp_times<V: Vector>(x: V, c_hi: f32, c_lo: f32) -> V {
    let (q, n) = exp_parts(x);
    let c_hi = V::splat(c_hi);
    // c · (1 + q) = c_hi + (c_hi · q + c_lo), dropping only c_lo · q.
    ldexp(c_hi + c_hi.mul_add(q, V::splat(c_lo)), n)
}

/// `c · eˣ` for a factor only known at run time (a kernel parameter), rounded about once.
#[inline(always)]
pub fn exp_times_v<V: Vector>(x: V, c: V) -> V {
    let (q, n) = exp_parts(x);
    ldexp(c.mul_add(q, c), n)
}

/// eˣ, max error ≈ 1 ULP; exact limits at ±inf, NaN propagates.
#[inline(always)]
pub fn exp<V: Vector>(x: V) -> V {
    let (q, n) = exp_parts(x);
    ldexp(q + V::splat(1.0), n)
}

/// eˣ − 1 without cancellation near 0; `expm1(±0) = ±0`, `expm1(−inf) = −1`, +inf overflows
/// to +inf, NaN propagates. Max error ≈ 1 ULP.
#[inline(always)]
pub fn expm1<V: Vector>(x: V) -> V {
    // Below −86 the result rounds to −1; above 88.75 it overflows. The bounds keep n − 1
    // within the normal exponents that `pow2i` builds.
    let xc = x
        .max_keep_nan(V::splat(-86.0))
        .min_keep_nan(V::splat(EXP_MAX_X));
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

/// `2ᵏ · e^{−|x|} / (1 + e^{−|x|})²`: the bell shared by σ'(x) (k = 0) and, through
/// tanh'(x) = 4·σ'(2x), by tanh' (k = 2).
///
/// With u = e^{−|x|} ∈ (0, 1], 1 + u is carried as an unevaluated sum hi + lo so that the
/// square costs one rounding (FMA), which keeps the result within about 1.5 ULP. The factor 2ᵏ
/// goes into the exponent before u is rounded, so a subnormal u still gives a normal result
/// accurately. Symmetric in x; NaN propagates; ±inf gives +0.
#[inline(always)]
pub fn logistic_bell<V: Vector>(x: V, k: f32) -> V {
    let (q, n) = exp_parts(-x.abs());
    let one = V::splat(1.0);
    let m = q + one;
    let u = ldexp(m, n);
    let scaled_u = ldexp(m, n + V::splat(k));
    let hi = one + u;
    let lo = (one - hi) + u;
    let square = hi.mul_add(hi, (hi + hi) * lo);
    scaled_u / square
}

/// `v`, or NaN in the lanes where `x` is NaN: derivatives built from comparisons would otherwise
/// turn a NaN input into 0 or a slope (SPEC §3).
#[inline(always)]
pub fn keep_nan<V: Vector>(x: V, v: V) -> V {
    V::select(x.is_nan(), x, v)
}

/// The derivative of a piece of slope 1 inside `inside` and 0 elsewhere; NaN at NaN `x`.
#[inline(always)]
pub fn step<V: Vector>(inside: V::Mask, x: V) -> V {
    keep_nan(x, V::select(inside, V::splat(1.0), V::splat(0.0)))
}

/// The backward of such a piece: exactly `dy` inside, exactly 0 elsewhere (so an infinite `dy`
/// in a flat region gives 0, as in PyTorch); NaN at NaN `x`.
#[inline(always)]
pub fn pass<V: Vector>(inside: V::Mask, x: V, dy: V) -> V {
    keep_nan(x, V::select(inside, dy, V::splat(0.0)))
}
