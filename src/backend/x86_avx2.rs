//! AVX2 + FMA instantiation: 8 lanes in a `__m256`, masks as all-ones/all-zeros lanes.
//!
//! Every intrinsic here needs AVX (some AVX2, FMA or F16C). The vector type is private to this
//! module: the only code that ever holds one is an operation run by [`Avx2::run`], and an
//! [`Avx2`] token exists only once AVX2, FMA and F16C have been detected. So every intrinsic
//! below runs on a CPU that has it; the wrappers are `#[inline(always)]`, so they are compiled
//! into the `#[target_feature(enable = "avx2,fma,f16c")]` entry point.

use super::{Isa, Vector, VectorOp};
use core::arch::x86_64::*;
use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Sub};
use half::{bf16, f16};

/// The AVX2 ISA: a value proves the CPU has AVX2, FMA and F16C (every AVX2 CPU has F16C).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2(());

impl Isa for Avx2 {
    const NAME: &'static str = "avx2";
    const NATIVE_16_BIT: bool = true;
    const LANES: usize = 8;
    fn detect() -> Option<Avx2> {
        (std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c"))
        .then_some(Avx2(()))
    }
    fn run<Op: VectorOp>(self, op: Op) {
        // Safety: the token exists, so AVX2, FMA and F16C were detected.
        unsafe { enter(op) }
    }
}

/// Runs `op` on 8-lane vectors, compiled for AVX2, FMA and F16C.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn enter<Op: VectorOp>(op: Op) {
    op.run::<F32x8>()
}

/// Eight `f32` lanes in an AVX register.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
struct F32x8(__m256);

/// Comparison result: each lane all ones (true) or all zeros (false).
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
struct Mask8(__m256);

macro_rules! binary_op {
    ($ty:ident, $trait:ident, $method:ident, $intrinsic:ident) => {
        impl $trait for $ty {
            type Output = $ty;
            #[inline(always)]
            fn $method(self, rhs: $ty) -> $ty {
                // Safety: AVX is present (module header: only reachable through the token).
                $ty(unsafe { $intrinsic(self.0, rhs.0) })
            }
        }
    };
}

binary_op!(F32x8, Add, add, _mm256_add_ps);
binary_op!(F32x8, Sub, sub, _mm256_sub_ps);
binary_op!(F32x8, Mul, mul, _mm256_mul_ps);
binary_op!(F32x8, Div, div, _mm256_div_ps);
binary_op!(Mask8, BitAnd, bitand, _mm256_and_ps);
binary_op!(Mask8, BitOr, bitor, _mm256_or_ps);

impl Neg for F32x8 {
    type Output = F32x8;
    #[inline(always)]
    fn neg(self) -> F32x8 {
        // −0 − x is how LLVM spells negation: it folds it into FMAs as vfmsub/vfnmadd.
        // Safety: AVX is present (module header).
        F32x8(unsafe { _mm256_sub_ps(_mm256_set1_ps(-0.0), self.0) })
    }
}

impl Not for Mask8 {
    type Output = Mask8;
    #[inline(always)]
    fn not(self) -> Mask8 {
        // Safety: AVX is present (module header).
        Mask8(unsafe { _mm256_xor_ps(self.0, _mm256_castsi256_ps(_mm256_set1_epi32(-1))) })
    }
}

macro_rules! compare {
    ($method:ident, $predicate:ident) => {
        #[inline(always)]
        fn $method(self, rhs: F32x8) -> Mask8 {
            // Safety: AVX is present (module header).
            Mask8(unsafe { _mm256_cmp_ps::<$predicate>(self.0, rhs.0) })
        }
    };
}

impl Vector for F32x8 {
    type Mask = Mask8;
    const LANES: usize = 8;
    const NATIVE_16_BIT: bool = true;

    #[inline(always)]
    fn splat(v: f32) -> F32x8 {
        // Safety: AVX is present (module header).
        F32x8(unsafe { _mm256_set1_ps(v) })
    }
    #[inline(always)]
    fn load(src: &[f32]) -> F32x8 {
        let src = &src[..8];
        // Safety: `src` holds 8 readable floats (sliced above); AVX is present.
        F32x8(unsafe { _mm256_loadu_ps(src.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        let dst = &mut dst[..8];
        // Safety: `dst` holds 8 writable floats (sliced above); AVX is present.
        unsafe { _mm256_storeu_ps(dst.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn load_bf16(src: &[bf16]) -> F32x8 {
        let src = &src[..8];
        // A bf16 is the high half of the f32 with the same value: widen to 32 bits, shift up.
        // Safety: `src` holds 8 readable bf16, 16 bytes (sliced above); AVX2 is present.
        F32x8(unsafe {
            let halves = _mm_loadu_si128(src.as_ptr().cast());
            _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(halves)))
        })
    }
    #[inline(always)]
    fn store_bf16(self, dst: &mut [bf16]) {
        let dst = &mut dst[..8];
        // Round to nearest-even by adding 0x7FFF plus the lowest kept bit and keeping the high
        // half; a NaN keeps its high half with the quiet bit set, as `bf16::from_f32` does.
        // Safety: `dst` holds 8 writable bf16, 16 bytes (sliced above); AVX2 is present.
        unsafe {
            let bits = _mm256_castps_si256(self.0);
            let high = _mm256_srli_epi32::<16>(bits);
            let lowest_kept = _mm256_and_si256(high, _mm256_set1_epi32(1));
            let rounded = _mm256_srli_epi32::<16>(_mm256_add_epi32(
                bits,
                _mm256_add_epi32(lowest_kept, _mm256_set1_epi32(0x7FFF)),
            ));
            let quiet_nan = _mm256_or_si256(high, _mm256_set1_epi32(0x40));
            let nan = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_UNORD_Q>(self.0, self.0));
            let lanes = _mm256_blendv_epi8(rounded, quiet_nan, nan);
            // Every lane is below 0x10000, so the saturating pack is exact; it packs within each
            // 128-bit half, and the permute brings the two halves' results together.
            let packed = _mm256_permute4x64_epi64::<0b1000>(_mm256_packus_epi32(lanes, lanes));
            _mm_storeu_si128(dst.as_mut_ptr().cast(), _mm256_castsi256_si128(packed))
        }
    }
    #[inline(always)]
    fn load_f16(src: &[f16]) -> F32x8 {
        let src = &src[..8];
        // Safety: `src` holds 8 readable f16, 16 bytes (sliced above); F16C is present.
        F32x8(unsafe { _mm256_cvtph_ps(_mm_loadu_si128(src.as_ptr().cast())) })
    }
    #[inline(always)]
    fn store_f16(self, dst: &mut [f16]) {
        let dst = &mut dst[..8];
        // vcvtps2ph with an explicit round-to-nearest-even: overflow gives ±inf, a NaN stays a
        // quiet NaN with the high bits of its payload, as `f16::from_f32` does.
        // Safety: `dst` holds 8 writable f16, 16 bytes (sliced above); F16C is present.
        unsafe {
            let halves = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(self.0);
            _mm_storeu_si128(dst.as_mut_ptr().cast(), halves)
        }
    }
    #[inline(always)]
    fn mul_add(self, a: F32x8, b: F32x8) -> F32x8 {
        // Safety: FMA is present (module header).
        F32x8(unsafe { _mm256_fmadd_ps(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn abs(self) -> F32x8 {
        // Safety: AVX is present (module header).
        F32x8(unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0) })
    }
    #[inline(always)]
    fn copysign(self, sign: F32x8) -> F32x8 {
        // Safety: AVX is present (module header).
        F32x8(unsafe {
            let sign_bit = _mm256_set1_ps(-0.0);
            _mm256_or_ps(_mm256_andnot_ps(sign_bit, self.0), _mm256_and_ps(sign_bit, sign.0))
        })
    }
    #[inline(always)]
    fn round_ties_even(self) -> F32x8 {
        // Safety: AVX is present (module header).
        F32x8(unsafe { _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0) })
    }
    #[inline(always)]
    fn pow2i(n: F32x8) -> F32x8 {
        // Safety: AVX2 is present (module header).
        F32x8(unsafe {
            let biased = _mm256_add_epi32(_mm256_cvtps_epi32(n.0), _mm256_set1_epi32(127));
            _mm256_castsi256_ps(_mm256_slli_epi32::<23>(biased))
        })
    }
    #[inline(always)]
    fn lookup16(table: &[f32; 16], index: F32x8) -> F32x8 {
        // Each half of the table is permuted by the index's low three bits; bit 3, shifted into
        // the sign position, chooses between them. A NaN index converts to 0x80000000: entry 0.
        // Safety: AVX2 is present (module header); the two loads read the 16 floats of `table`.
        F32x8(unsafe {
            let i = _mm256_cvtps_epi32(index.0);
            let low = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table.as_ptr()), i);
            let high = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table.as_ptr().add(8)), i);
            _mm256_blendv_ps(low, high, _mm256_castsi256_ps(_mm256_slli_epi32::<28>(i)))
        })
    }
    #[inline(always)]
    fn lookup32(table: &[f32; 32], index: F32x8) -> F32x8 {
        // Each quarter of the table is permuted by the index's low three bits; bit 3, then bit 4,
        // shifted into the sign position, choose between them (so −1 reads entry 31). A NaN index
        // converts to 0x80000000: entry 0.
        // Safety: AVX2 is present (module header); the four loads read the 32 floats of `table`.
        F32x8(unsafe {
            let i = _mm256_cvtps_epi32(index.0);
            let quarter = |q: usize| _mm256_permutevar8x32_ps(_mm256_loadu_ps(table.as_ptr().add(8 * q)), i);
            let bit3 = _mm256_castsi256_ps(_mm256_slli_epi32::<28>(i));
            let bit4 = _mm256_castsi256_ps(_mm256_slli_epi32::<27>(i));
            let low = _mm256_blendv_ps(quarter(0), quarter(1), bit3);
            let high = _mm256_blendv_ps(quarter(2), quarter(3), bit3);
            _mm256_blendv_ps(low, high, bit4)
        })
    }
    #[inline(always)]
    fn max_keep_nan(self, lo: F32x8) -> F32x8 {
        // vmaxps returns its second operand when either is NaN (or both are zeros), exactly
        // the default's select(self < lo, lo, self).
        // Safety: AVX is present (module header).
        F32x8(unsafe { _mm256_max_ps(lo.0, self.0) })
    }
    #[inline(always)]
    fn min_keep_nan(self, hi: F32x8) -> F32x8 {
        // As `max_keep_nan`: select(self > hi, hi, self).
        // Safety: AVX is present (module header).
        F32x8(unsafe { _mm256_min_ps(hi.0, self.0) })
    }
    compare!(lt, _CMP_LT_OQ);
    compare!(le, _CMP_LE_OQ);
    compare!(gt, _CMP_GT_OQ);
    compare!(ge, _CMP_GE_OQ);
    compare!(eq, _CMP_EQ_OQ);
    #[inline(always)]
    fn is_nan(self) -> Mask8 {
        // Safety: AVX is present (module header).
        Mask8(unsafe { _mm256_cmp_ps::<_CMP_UNORD_Q>(self.0, self.0) })
    }
    #[inline(always)]
    fn select(mask: Mask8, if_true: F32x8, if_false: F32x8) -> F32x8 {
        // Safety: AVX is present (module header).
        F32x8(unsafe { _mm256_blendv_ps(if_false.0, if_true.0, mask.0) })
    }
}
