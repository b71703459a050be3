//! Two-float arithmetic: [`TwoFloat`], a value carried as the unevaluated sum `hi + lo` of two
//! `f32` vectors, and the reciprocal estimate its division takes.
//!
//! The bounds stated here are derived from the roundings each operation does (u = 2⁻²⁴, the
//! unit roundoff of `f32`; no underflow or overflow in the intermediate products), not measured:
//! these operations are exact or nearly so, and the kernels' exhaustive figures include them.

use crate::backend::Vector;
use core::ops::{Add, Mul};

/// A value carried as the unevaluated sum `hi + lo` of two vectors, lane by lane: about 48
/// significant bits where one `f32` has 24.
///
/// Unless a function says otherwise, a `TwoFloat` it returns is normalized: |lo| ≤ ½ ULP of
/// `hi`, so `hi` is the value rounded to `f32`. Products ([`Mul`]) and the pairs of
/// [`exp_pair`](super::exp_pair) may have |lo| somewhat above that; every function taking a
/// `TwoFloat` accepts such pairs (its accuracy is stated for |lo| of about an ULP of `hi`).
///
/// One calling style for all two-float arithmetic: constructors [`TwoFloat::exact`],
/// [`TwoFloat::splat`], [`TwoFloat::two_sum`], [`TwoFloat::fast_two_sum`] and the struct
/// literal `TwoFloat { hi, lo }` for a pair built by hand; `a + b` and `a * b` for pairs;
/// [`n.div(d, inv_d)`](TwoFloat::div) for the one rounded quotient; [`TwoFloat::rounded`] for
/// `hi + lo` as one `f32`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TwoFloat<V> {
    /// The leading part.
    pub hi: V,
    /// The trailing part: what `hi` leaves out of the value.
    pub lo: V,
}

impl<V: Vector> TwoFloat<V> {
    /// `hi` as a pair with `lo = +0`: an exact value (an input, a product known to be exact).
    #[inline(always)]
    pub fn exact(hi: V) -> Self {
        TwoFloat { hi, lo: V::splat(0.0) }
    }

    /// The constant `hi + lo` in every lane (a constant such as 1/3 or 2√(2/π) split into its
    /// `f32` rounding and the rest).
    #[inline(always)]
    pub fn splat(hi: f32, lo: f32) -> Self {
        TwoFloat {
            hi: V::splat(hi),
            lo: V::splat(lo),
        }
    }

    /// `a + b` exactly, for any magnitudes (Knuth's TwoSum, six operations): `hi` is the rounded
    /// sum and `lo` its rounding error, |lo| ≤ ½ ULP of `hi`. Exact unless the sum overflows (then
    /// `hi` is ±inf and `lo` NaN).
    #[inline(always)]
    pub fn two_sum(a: V, b: V) -> Self {
        let s = a + b;
        let b_virtual = s - a;
        let a_virtual = s - b_virtual;
        TwoFloat {
            hi: s,
            lo: (a - a_virtual) + (b - b_virtual),
        }
    }

    /// `a + b` exactly when |a| ≥ |b| (Dekker's FastTwoSum, three operations; a or b may be 0):
    /// `hi` is the rounded sum and `lo` its rounding error. With |a| < |b| the result may be
    /// inexact; callers use it where the order is known, or to renormalize a pair whose `lo`
    /// is small.
    #[inline(always)]
    pub fn fast_two_sum(a: V, b: V) -> Self {
        let s = a + b;
        TwoFloat { hi: s, lo: b - (s - a) }
    }

    /// `hi + lo` rounded once to a vector.
    #[inline(always)]
    pub fn rounded(self) -> V {
        self.hi + self.lo
    }

    /// Lane-wise `mask ? if_true : if_false`, for both parts.
    #[inline(always)]
    pub fn select(mask: V::Mask, if_true: Self, if_false: Self) -> Self {
        TwoFloat {
            hi: V::select(mask, if_true.hi, if_false.hi),
            lo: V::select(mask, if_true.lo, if_false.lo),
        }
    }

    /// `(self.hi + self.lo) / (d.hi + d.lo)` rounded about once: the quotient s of the leading
    /// parts is corrected by its exact residual (one FMA recovers `self.hi − s·d.hi` exactly) and
    /// the low parts. `inv_d` is any estimate of `1/d.hi` within a few per cent
    /// ([`recip_estimate_1_2`] for d ∈ [1, 2], a rounded `1/d` elsewhere).
    ///
    /// Error: the final rounding (½ ULP) plus `inv_d`'s relative error times the correction,
    /// which is |self.lo/d| + |s·d.lo/d| + at most ½ ULP of s, a few ULP at most for normalized
    /// pairs: a 1.8 % estimate adds a few hundredths of an ULP. Valid for finite, nonzero `d.hi`
    /// and a residual that does not underflow (|s·d.hi| ≥ 2⁻¹⁰² or so); an infinite quotient is
    /// returned as it is (its residual would be inf − inf), a NaN operand gives NaN.
    #[inline(always)]
    pub fn div(self, d: Self, inv_d: V) -> V {
        let (s, corrected) = self.quotient_and_corrected(d, inv_d);
        // An infinite quotient has no meaningful residual (inf − inf): keep it as it is.
        V::select(s.abs().lt(V::splat(f32::INFINITY)), corrected, s)
    }

    /// The rounded quotient s = self.hi / d.hi and s corrected by the exact residual and the low
    /// parts: the work of [`TwoFloat::div`], for callers whose quotient is known to be finite.
    #[inline(always)]
    pub(super) fn quotient_and_corrected(self, d: Self, inv_d: V) -> (V, V) {
        let s = self.hi / d.hi;
        let residual = (-s).mul_add(d.lo, (-s).mul_add(d.hi, self.hi) + self.lo);
        (s, residual.mul_add(inv_d, s))
    }
}

/// `(a.hi + a.lo) + (b.hi + b.lo)` as a normalized pair (|lo| ≤ ½ ULP of hi): TwoSum of the
/// leading parts, the low parts added to its error, renormalized by FastTwoSum (the "sloppy"
/// double-word sum).
///
/// Error: the roundings of `a.lo + b.lo` and of its sum with the TwoSum error, at most about
/// u²·(2(|a| + |b|) + |a + b|): 3u² ≈ 1.1·10⁻¹⁴ relatively when a and b have the same sign. Under
/// cancellation (a ≈ −b) the relative error is unbounded; the kernels add pairs of the same
/// sign, or where one term dominates. Not valid where `a.hi + b.hi` overflows.
impl<V: Vector> Add for TwoFloat<V> {
    type Output = Self;
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        let s = TwoFloat::two_sum(self.hi, b.hi);
        TwoFloat::fast_two_sum(s.hi, s.lo + (self.lo + b.lo))
    }
}

/// `(a.hi + a.lo)·(b.hi + b.lo)` as a pair: the product of the leading parts with its rounding
/// error recovered exactly by FMA, plus the cross terms a.hi·b.lo + a.lo·b.hi; the term
/// a.lo·b.lo, below the pair's precision, is dropped. Not renormalized: |lo| may exceed ½ ULP
/// of hi (up to about 2.5 ULP). Not commutative in its roundings: operands are kept in their
/// order.
///
/// Error, for normalized operands: at most about 7u² ≈ 2.5·10⁻¹⁴ relatively (the dropped term, u²,
/// and the roundings of a.lo·b.hi, of the cross-term sum and of the last addition, u², 2u² and
/// 3u²). Not valid where the product of the leading parts overflows or is subnormal (its FMA
/// residual is then not exact).
impl<V: Vector> Mul for TwoFloat<V> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        let p = self.hi * b.hi;
        TwoFloat {
            hi: p,
            lo: self.hi.mul_add(b.hi, -p) + self.hi.mul_add(b.lo, self.lo * b.hi),
        }
    }
}

/// 1/h for h ∈ [1, 2] within 1.8 % (least-squares quadratic): enough to scale the small
/// correction of [`TwoFloat::div`], not a result on its own.
///
/// Valid for h ∈ [1, 2]; outside, its error grows quickly. Max relative error |h·r − 1| over
/// every `f32` of [1, 2]: 1.800·10⁻², near h = 1 (`cargo run --release --example math_accuracy`).
#[inline(always)]
pub fn recip_estimate_1_2<V: Vector>(h: V) -> V {
    h.mul_add(V::splat(0.307_791_28), V::splat(-1.398_673_4))
        .mul_add(h, V::splat(2.072_879_5))
}
