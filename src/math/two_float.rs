//! Two-float arithmetic: values carried as unevaluated sums hi + lo of two `f32` vectors.

use crate::backend::Vector;

/// `a + b` as an unevaluated sum when |a| ≥ |b| (Dekker's FastTwoSum).
#[inline(always)]
pub fn fast_two_sum<V: Vector>(a: V, b: V) -> (V, V) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a + b` as an unevaluated sum (Knuth's TwoSum: exact for any order of magnitudes).
#[inline(always)]
pub fn two_sum<V: Vector>(a: V, b: V) -> (V, V) {
    let s = a + b;
    let b_virtual = s - a;
    let a_virtual = s - b_virtual;
    (s, (a - a_virtual) + (b - b_virtual))
}

/// `(a_hi + a_lo)·(b_hi + b_lo)` as a pair: the product's rounding error recovered by FMA, the
/// cross terms added (the lo·lo term is below the pair's precision).
#[inline(always)]
pub fn mul_pair<V: Vector>((a, a_lo): (V, V), (b, b_lo): (V, V)) -> (V, V) {
    let p = a * b;
    (p, a.mul_add(b, -p) + a.mul_add(b_lo, a_lo * b))
}

/// `(a_hi + a_lo) + (b_hi + b_lo)` as a normalized pair (|lo| ≤ half an ULP of hi).
#[inline(always)]
pub fn add_pair<V: Vector>((a, a_lo): (V, V), (b, b_lo): (V, V)) -> (V, V) {
    let (s, s_lo) = two_sum(a, b);
    fast_two_sum(s, s_lo + (a_lo + b_lo))
}

/// 1/h for h ∈ [1, 2] within 1.8 % (least-squares quadratic): enough to apply the small
/// correction of [`div_pair`], not a result on its own.
#[inline(always)]
pub fn recip_estimate_1_2<V: Vector>(h: V) -> V {
    h.mul_add(V::splat(0.307_791_28), V::splat(-1.398_673_4))
        .mul_add(h, V::splat(2.072_879_5))
}

/// `(n_hi + n_lo) / (d_hi + d_lo)` rounded about once: the quotient of the leading parts is
/// corrected by its exact residual (one FMA recovers `n_hi − s·d_hi` exactly) and the low
/// parts. `inv_d` is any estimate of `1/d_hi` within a few per cent; the correction it scales
/// is itself about an ULP, so its error is negligible.
#[inline(always)]
pub fn div_pair<V: Vector>(n_hi: V, n_lo: V, d_hi: V, d_lo: V, inv_d: V) -> V {
    let (s, corrected) = quotient_and_corrected(n_hi, n_lo, d_hi, d_lo, inv_d);
    // An infinite quotient has no meaningful residual (inf − inf): keep it as it is.
    V::select(s.abs().lt(V::splat(f32::INFINITY)), corrected, s)
}

/// The rounded quotient s = n_hi / d_hi and s corrected by the exact residual and the low parts:
/// the work of [`div_pair`], for callers whose quotient is known to be finite.
#[inline(always)]
pub(super) fn quotient_and_corrected<V: Vector>(n_hi: V, n_lo: V, d_hi: V, d_lo: V, inv_d: V) -> (V, V) {
    let s = n_hi / d_hi;
    let residual = (-s).mul_add(d_lo, (-s).mul_add(d_hi, n_hi) + n_lo);
    (s, residual.mul_add(inv_d, s))
}
