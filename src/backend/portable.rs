//! Portable instantiation: `wide::f32x8`, whose instruction path is fixed when the crate is
//! compiled (SSE2 pairs in a default x86-64 build, AVX2+FMA under `-C target-cpu=x86-64-v3`,
//! NEON on aarch64). Only `mul_add` may round differently from the other backends: `wide` fuses
//! it only when the build enables FMA.

use super::Vector;
use wide::{f32x8, f64x4, i32x8};

/// Whether `wide`'s `mul_add` is a fused instruction in this build (x86 with FMA enabled at
/// compile time, or aarch64, where NEON always has `vfma`).
const HARDWARE_FMA: bool = cfg!(any(target_feature = "fma", target_arch = "aarch64"));

/// `a · b + c` with the product exact: two f32 significands multiply exactly into an f64, so
/// the only roundings are of the f64 sum and its conversion to f32. That double rounding can
/// differ from a true fused multiply-add in the last bit in rare ties, but never by more, so the
/// kernels' accuracy (which relies on FMA's single rounding) holds.
#[inline(always)]
fn fused_via_f64(a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
    let (a, b, c) = (a.to_array(), b.to_array(), c.to_array());
    let half = |i: usize| {
        let wide = |v: [f32; 8]| {
            f64x4::from([
                v[i] as f64,
                v[i + 1] as f64,
                v[i + 2] as f64,
                v[i + 3] as f64,
            ])
        };
        (wide(a) * wide(b) + wide(c)).to_array().map(|v| v as f32)
    };
    let (lo, hi) = (half(0), half(4));
    f32x8::from([lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]])
}

impl Vector for f32x8 {
    type Mask = f32x8;
    const LANES: usize = 8;

    #[inline(always)]
    fn splat(v: f32) -> f32x8 {
        f32x8::splat(v)
    }
    #[inline(always)]
    fn load(src: &[f32]) -> f32x8 {
        let lanes: [f32; 8] = src[..8].try_into().unwrap();
        f32x8::from(lanes)
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        dst[..8].copy_from_slice(&self.to_array());
    }
    #[inline(always)]
    fn mul_add(self, a: f32x8, b: f32x8) -> f32x8 {
        if HARDWARE_FMA {
            f32x8::mul_add(self, a, b)
        } else {
            fused_via_f64(self, a, b)
        }
    }
    #[inline(always)]
    fn abs(self) -> f32x8 {
        f32x8::abs(self)
    }
    #[inline(always)]
    fn copysign(self, sign: f32x8) -> f32x8 {
        let sign_bit = f32x8::splat(-0.0);
        (self & !sign_bit) | (sign & sign_bit)
    }
    #[inline(always)]
    fn round_ties_even(self) -> f32x8 {
        f32x8::round_ties_even(self)
    }
    #[inline(always)]
    fn pow2i(n: f32x8) -> f32x8 {
        let biased: i32x8 = (n.round_int() + i32x8::splat(127)) << 23;
        bytemuck::cast(biased)
    }
    #[inline(always)]
    fn lt(self, rhs: f32x8) -> f32x8 {
        self.simd_lt(rhs)
    }
    #[inline(always)]
    fn le(self, rhs: f32x8) -> f32x8 {
        self.simd_le(rhs)
    }
    #[inline(always)]
    fn gt(self, rhs: f32x8) -> f32x8 {
        self.simd_gt(rhs)
    }
    #[inline(always)]
    fn ge(self, rhs: f32x8) -> f32x8 {
        self.simd_ge(rhs)
    }
    #[inline(always)]
    fn eq(self, rhs: f32x8) -> f32x8 {
        self.simd_eq(rhs)
    }
    #[inline(always)]
    fn is_nan(self) -> f32x8 {
        f32x8::is_nan(self)
    }
    #[inline(always)]
    fn select(mask: f32x8, if_true: f32x8, if_false: f32x8) -> f32x8 {
        mask.select(if_true, if_false)
    }
}
