//! AVX-512F instantiation: 16 lanes in a `__m512`, masks in a 16-bit `__mmask16`.
//!
//! Only AVX-512F instructions are used (no DQ/VL), so any AVX-512 CPU runs it. The wrappers are
//! `#[inline(always)]` and only ever inlined into [`run`], a `#[target_feature(enable =
//! "avx512f")]` function that `backend::run_on` calls only after detecting AVX-512F, so each
//! `unsafe` block below runs on a CPU that has the instruction.

use super::Vector;
use core::arch::x86_64::*;
use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Sub};

/// Sixteen `f32` lanes in a ZMM register.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub struct F32x16(__m512);

/// Comparison result: one bit per lane.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub struct Mask16(__mmask16);

impl BitAnd for Mask16 {
    type Output = Mask16;
    #[inline(always)]
    fn bitand(self, rhs: Mask16) -> Mask16 {
        Mask16(self.0 & rhs.0)
    }
}
impl BitOr for Mask16 {
    type Output = Mask16;
    #[inline(always)]
    fn bitor(self, rhs: Mask16) -> Mask16 {
        Mask16(self.0 | rhs.0)
    }
}
impl Not for Mask16 {
    type Output = Mask16;
    #[inline(always)]
    fn not(self) -> Mask16 {
        Mask16(!self.0)
    }
}

/// Runs `job` with `k` on 16-lane AVX-512 vectors.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn run<K: crate::Kernel>(k: &K, job: crate::driver::Job<'_>, tier: crate::Tier) {
    crate::driver::run::<F32x16, K>(k, job, tier)
}

macro_rules! binary_op {
    ($trait:ident, $method:ident, $intrinsic:ident) => {
        impl $trait for F32x16 {
            type Output = F32x16;
            #[inline(always)]
            fn $method(self, rhs: F32x16) -> F32x16 {
                // Safety: AVX-512F is present (module header: only inlined into `run`).
                F32x16(unsafe { $intrinsic(self.0, rhs.0) })
            }
        }
    };
}

binary_op!(Add, add, _mm512_add_ps);
binary_op!(Sub, sub, _mm512_sub_ps);
binary_op!(Mul, mul, _mm512_mul_ps);
binary_op!(Div, div, _mm512_div_ps);

/// The sign bit of every lane, as integers (AVX-512F has no float bitwise ops; DQ does).
#[inline(always)]
fn sign_bits() -> __m512i {
    // Safety: AVX-512F is present (module header).
    unsafe { _mm512_set1_epi32(i32::MIN) }
}

impl Neg for F32x16 {
    type Output = F32x16;
    #[inline(always)]
    fn neg(self) -> F32x16 {
        // −0 − x is how LLVM spells negation: it folds it into FMAs as vfmsub/vfnmadd, which an
        // integer xor of the sign bit would hide. (−0 − x is −x for every x but NaN, whose sign
        // SPEC leaves open.)
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_sub_ps(_mm512_set1_ps(-0.0), self.0) })
    }
}

macro_rules! compare {
    ($method:ident, $predicate:ident) => {
        #[inline(always)]
        fn $method(self, rhs: F32x16) -> Mask16 {
            // Safety: AVX-512F is present (module header).
            Mask16(unsafe { _mm512_cmp_ps_mask::<$predicate>(self.0, rhs.0) })
        }
    };
}

impl Vector for F32x16 {
    type Mask = Mask16;
    const LANES: usize = 16;

    #[inline(always)]
    fn splat(v: f32) -> F32x16 {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_set1_ps(v) })
    }
    #[inline(always)]
    fn load(src: &[f32]) -> F32x16 {
        let src = &src[..16];
        // Safety: `src` holds 16 readable floats (sliced above); AVX-512F is present.
        F32x16(unsafe { _mm512_loadu_ps(src.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        let dst = &mut dst[..16];
        // Safety: `dst` holds 16 writable floats (sliced above); AVX-512F is present.
        unsafe { _mm512_storeu_ps(dst.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn mul_add(self, a: F32x16, b: F32x16) -> F32x16 {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_fmadd_ps(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn abs(self) -> F32x16 {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_castsi512_ps(_mm512_andnot_si512(sign_bits(), _mm512_castps_si512(self.0))) })
    }
    #[inline(always)]
    fn copysign(self, sign: F32x16) -> F32x16 {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe {
            // Bitwise select: sign bit from `sign`, the rest from `self` (0xCA = A ? B : C).
            _mm512_castsi512_ps(_mm512_ternarylogic_epi32::<0xCA>(
                sign_bits(),
                _mm512_castps_si512(sign.0),
                _mm512_castps_si512(self.0),
            ))
        })
    }
    #[inline(always)]
    fn round_ties_even(self) -> F32x16 {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0) })
    }
    #[inline(always)]
    fn pow2i(n: F32x16) -> F32x16 {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe {
            let biased = _mm512_add_epi32(_mm512_cvtps_epi32(n.0), _mm512_set1_epi32(127));
            _mm512_castsi512_ps(_mm512_slli_epi32::<23>(biased))
        })
    }
    #[inline(always)]
    fn mul_pow2i(self, n: F32x16) -> F32x16 {
        // vscalefps rounds self·2^⌊n⌋ once, as the default's product with an exact 2ⁿ does.
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_scalef_ps(self.0, n.0) })
    }
    #[inline(always)]
    fn ldexp(self, n: F32x16) -> F32x16 {
        // One rounding of self·2ⁿ, as the default's two steps (the first exact) give.
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_scalef_ps(self.0, n.0) })
    }
    #[inline(always)]
    fn lookup16(table: &[f32; 16], index: F32x16) -> F32x16 {
        // The permute reads the low four bits of each index; a NaN index converts to 0x80000000,
        // entry 0.
        // Safety: AVX-512F is present (module header); the load reads the 16 floats of `table`.
        F32x16(unsafe { _mm512_permutexvar_ps(_mm512_cvtps_epi32(index.0), _mm512_loadu_ps(table.as_ptr())) })
    }
    #[inline(always)]
    fn lookup32(table: &[f32; 32], index: F32x16) -> F32x16 {
        // vpermt2ps reads the low five bits of each index (−1 reads entry 31: the trait's `mod
        // 32`); a NaN index converts to 0x80000000, entry 0.
        // Safety: AVX-512F is present (module header); the loads read the 32 floats of `table`.
        F32x16(unsafe {
            _mm512_permutex2var_ps(
                _mm512_loadu_ps(table.as_ptr()),
                _mm512_cvtps_epi32(index.0),
                _mm512_loadu_ps(table.as_ptr().add(16)),
            )
        })
    }
    #[inline(always)]
    fn max_keep_nan(self, lo: F32x16) -> F32x16 {
        // vmaxps returns its second operand when either is NaN (or both are zeros), exactly
        // the default's select(self < lo, lo, self).
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_max_ps(lo.0, self.0) })
    }
    #[inline(always)]
    fn min_keep_nan(self, hi: F32x16) -> F32x16 {
        // As `max_keep_nan`: select(self > hi, hi, self).
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_min_ps(hi.0, self.0) })
    }
    compare!(lt, _CMP_LT_OQ);
    compare!(le, _CMP_LE_OQ);
    compare!(gt, _CMP_GT_OQ);
    compare!(ge, _CMP_GE_OQ);
    compare!(eq, _CMP_EQ_OQ);
    #[inline(always)]
    fn is_nan(self) -> Mask16 {
        // Safety: AVX-512F is present (module header).
        Mask16(unsafe { _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(self.0, self.0) })
    }
    #[inline(always)]
    fn select(mask: Mask16, if_true: F32x16, if_false: F32x16) -> F32x16 {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_mask_blend_ps(mask.0, if_false.0, if_true.0) })
    }
}
