//! AVX-512F instantiation: 16 lanes in a `__m512`, masks in a 16-bit `__mmask16`.
//!
//! Only AVX-512F instructions are used (no BW/DQ/VL), so any AVX-512 CPU runs it. The vector
//! type is private to this module: the only code that ever holds one is an operation run by
//! [`Avx512::run`], and an [`Avx512`] token exists only once AVX-512F has been detected. So
//! every intrinsic below runs on a CPU that has it; the wrappers are `#[inline(always)]`, so
//! they are compiled into the `#[target_feature(enable = "avx512f")]` entry point.

use super::{Isa, Vector, VectorOp};
use core::arch::x86_64::*;
use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Sub};
use half::{bf16, f16};

/// The AVX-512F ISA: a value proves the CPU has AVX-512F, and says whether it also has
/// AVX512_BF16 and AVX512DQ (for `vcvtneps2bf16`, and `vfpclassps` to find the subnormals it
/// flushes; every CPU with BF16 has DQ).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512 {
    bf16: bool,
}

impl Isa for Avx512 {
    const NAME: &'static str = "avx512";
    const NATIVE_16_BIT: bool = true;
    const LANES: usize = 16;
    fn detect() -> Option<Avx512> {
        std::arch::is_x86_feature_detected!("avx512f").then(|| Avx512 {
            bf16: std::arch::is_x86_feature_detected!("avx512bf16") && std::arch::is_x86_feature_detected!("avx512dq"),
        })
    }
    fn run<Op: VectorOp>(self, op: Op) {
        if Op::STORES_BF16 && self.bf16 {
            // Safety: the token exists, so AVX-512F was detected, and `bf16` says AVX512_BF16 and
            // AVX512DQ were.
            unsafe { enter_bf16(op) }
        } else {
            // Safety: the token exists, so AVX-512F was detected.
            unsafe { enter(op) }
        }
    }
}

/// Runs `op` on 16-lane vectors, compiled for AVX-512F.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn enter<Op: VectorOp>(op: Op) {
    op.run::<F32x16<false>>()
}

/// Runs `op` on 16-lane vectors that store bf16 with `vcvtneps2bf16`, compiled for AVX-512F,
/// AVX512_BF16 and AVX512DQ. Only operations that store bf16 come here ([`VectorOp::STORES_BF16`]): the others
/// would be compiled twice for nothing.
///
/// # Safety
/// The CPU must support AVX-512F, AVX512_BF16 and AVX512DQ.
#[target_feature(enable = "avx512f,avx512bf16,avx512dq")]
unsafe fn enter_bf16<Op: VectorOp>(op: Op) {
    op.run::<F32x16<true>>()
}

/// Sixteen `f32` lanes in a ZMM register; `BF16`: the entry point has AVX512_BF16.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
struct F32x16<const BF16: bool>(__m512);

/// Comparison result: one bit per lane.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
struct Mask16(__mmask16);

/// The bf16 bits of each lane, rounded to nearest-even, in the low half of each 32-bit lane:
/// add 0x7FFF plus the lowest kept bit, then keep the high half; a NaN keeps its high half with
/// the quiet bit set, as `bf16::from_f32` does.
///
/// # Safety
/// AVX-512F is present.
#[inline(always)]
unsafe fn bf16_bits(v: __m512) -> __m512i {
    // Safety: AVX-512F is present (caller).
    unsafe {
        let bits = _mm512_castps_si512(v);
        let lowest_kept = _mm512_and_si512(_mm512_srli_epi32::<16>(bits), _mm512_set1_epi32(1));
        let biased = _mm512_add_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(0x7FFF)), lowest_kept);
        // A NaN must not round (its payload could carry into the exponent): keep its high half
        // and set the quiet bit, in one masked OR over the NaN lanes.
        let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v);
        let kept = _mm512_mask_or_epi32(biased, nan, bits, _mm512_set1_epi32(0x0040_0000));
        _mm512_srli_epi32::<16>(kept)
    }
}

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

macro_rules! binary_op {
    ($trait:ident, $method:ident, $intrinsic:ident) => {
        impl<const B: bool> $trait for F32x16<B> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                // Safety: AVX-512F is present (module header: only reachable through the token).
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

impl<const B: bool> Neg for F32x16<B> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
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
        fn $method(self, rhs: Self) -> Mask16 {
            // Safety: AVX-512F is present (module header).
            Mask16(unsafe { _mm512_cmp_ps_mask::<$predicate>(self.0, rhs.0) })
        }
    };
}

impl<const B: bool> Vector for F32x16<B> {
    type Mask = Mask16;
    const LANES: usize = 16;
    const NATIVE_16_BIT: bool = true;

    #[inline(always)]
    fn splat(v: f32) -> Self {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_set1_ps(v) })
    }
    #[inline(always)]
    fn load(src: &[f32]) -> Self {
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
    fn load_partial(src: &[f32]) -> Self {
        assert!(src.len() < 16);
        let mask: __mmask16 = (1 << src.len()) - 1;
        // Safety: the mask enables exactly the `src.len()` lanes `src` holds; masked-off lanes
        // are neither read nor faulted on, and are zero. AVX-512F is present.
        F32x16(unsafe { _mm512_maskz_loadu_ps(mask, src.as_ptr()) })
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32]) {
        assert!(dst.len() < 16);
        let mask: __mmask16 = (1 << dst.len()) - 1;
        // Safety: the mask enables exactly the `dst.len()` lanes `dst` holds; masked-off lanes
        // are not written. AVX-512F is present.
        unsafe { _mm512_mask_storeu_ps(dst.as_mut_ptr(), mask, self.0) }
    }
    #[inline(always)]
    fn load_bf16(src: &[bf16]) -> Self {
        let src = &src[..16];
        // A bf16 is the high half of the f32 with the same value: widen to 32 bits, shift up.
        // Safety: `src` holds 16 readable bf16, 32 bytes (sliced above); AVX-512F is present.
        F32x16(unsafe {
            let halves = _mm256_loadu_si256(src.as_ptr().cast());
            _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(halves)))
        })
    }
    #[inline(always)]
    fn store_bf16(self, dst: &mut [bf16]) {
        let dst = &mut dst[..16];
        if B {
            // vcvtneps2bf16 rounds to nearest-even, narrows and quiets NaN in one instruction, as
            // `bf16::from_f32` does, except that it flushes subnormal inputs to zero: a vector
            // holding one (rare: results below 2⁻¹²⁶) takes the integer form instead.
            // Safety: `B` is true only under `enter_bf16`, whose CPU has AVX-512F, AVX512_BF16
            // and AVX512DQ; `dst` holds 16 writable bf16, 32 bytes (sliced above).
            unsafe {
                // vfpclassps class 0x20: subnormal.
                let subnormal = _mm512_fpclass_ps_mask::<0x20>(self.0);
                let bits: __m256i = if subnormal == 0 {
                    core::mem::transmute::<__m256bh, __m256i>(_mm512_cvtneps_pbh(self.0))
                } else {
                    _mm512_cvtepi32_epi16(bf16_bits(self.0))
                };
                _mm256_storeu_si256(dst.as_mut_ptr().cast(), bits)
            }
        } else {
            // Safety: `dst` holds 16 writable bf16, 32 bytes (sliced above); AVX-512F is present
            // (`vpmovdw` narrows 32-bit lanes to 16 bits, keeping the low halves).
            unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), _mm512_cvtepi32_epi16(bf16_bits(self.0))) }
        }
    }
    #[inline(always)]
    fn load_f16(src: &[f16]) -> Self {
        let src = &src[..16];
        // Safety: `src` holds 16 readable f16, 32 bytes (sliced above); AVX-512F has vcvtph2ps.
        F32x16(unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(src.as_ptr().cast())) })
    }
    #[inline(always)]
    fn store_f16(self, dst: &mut [f16]) {
        let dst = &mut dst[..16];
        // vcvtps2ph with an explicit round-to-nearest-even: overflow gives ±inf, a NaN stays a
        // quiet NaN with the high bits of its payload, as `f16::from_f32` does.
        // Safety: `dst` holds 16 writable f16, 32 bytes (sliced above); AVX-512F has vcvtps2ph.
        unsafe {
            let halves = _mm512_cvtps_ph::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0);
            _mm256_storeu_si256(dst.as_mut_ptr().cast(), halves)
        }
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_fmadd_ps(self.0, a.0, b.0) })
    }
    #[inline(always)]
    fn abs(self) -> Self {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_castsi512_ps(_mm512_andnot_si512(sign_bits(), _mm512_castps_si512(self.0))) })
    }
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
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
    fn round_ties_even(self) -> Self {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0) })
    }
    #[inline(always)]
    fn pow2i(n: Self) -> Self {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe {
            let biased = _mm512_add_epi32(_mm512_cvtps_epi32(n.0), _mm512_set1_epi32(127));
            _mm512_castsi512_ps(_mm512_slli_epi32::<23>(biased))
        })
    }
    #[inline(always)]
    fn mul_pow2i(self, n: Self) -> Self {
        // vscalefps rounds self·2^⌊n⌋ once, as the default's product with an exact 2ⁿ does.
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_scalef_ps(self.0, n.0) })
    }
    #[inline(always)]
    fn ldexp(self, n: Self) -> Self {
        // One rounding of self·2ⁿ, as the default's two steps (the first exact) give.
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_scalef_ps(self.0, n.0) })
    }
    #[inline(always)]
    fn lookup16(table: &[f32; 16], index: Self) -> Self {
        // The permute reads the low four bits of each index; a NaN index converts to 0x80000000,
        // entry 0.
        // Safety: AVX-512F is present (module header); the load reads the 16 floats of `table`.
        F32x16(unsafe { _mm512_permutexvar_ps(_mm512_cvtps_epi32(index.0), _mm512_loadu_ps(table.as_ptr())) })
    }
    #[inline(always)]
    fn lookup32(table: &[f32; 32], index: Self) -> Self {
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
    fn max_keep_nan(self, lo: Self) -> Self {
        // vmaxps returns its second operand when either is NaN (or both are zeros), exactly
        // the default's select(self < lo, lo, self).
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_max_ps(lo.0, self.0) })
    }
    #[inline(always)]
    fn min_keep_nan(self, hi: Self) -> Self {
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
    fn select(mask: Mask16, if_true: Self, if_false: Self) -> Self {
        // Safety: AVX-512F is present (module header).
        F32x16(unsafe { _mm512_mask_blend_ps(mask.0, if_false.0, if_true.0) })
    }
}
