//! Portable instantiation: `wide::f32x8`, whose instruction path is fixed when the crate is
//! compiled (SSE2 pairs in a default x86-64 build, AVX2+FMA under `-C target-cpu=x86-64-v3`,
//! NEON on aarch64). `wide` fuses `mul_add` only when the build enables FMA; without it,
//! [`fused_via_f64`] computes the same single rounding in software, so this backend gives the
//! same bits as the others in every build (at a cost in speed).

use super::{Isa, Vector, VectorOp};

/// `wide`'s eight lanes, in whatever instructions the build targets: every CPU has it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Portable;

impl Isa for Portable {
    const NAME: &'static str = "portable";
    const NATIVE_16_BIT: bool = false;
    const LANES: usize = 8;
    fn detect() -> Option<Portable> {
        Some(Portable)
    }
    fn run<Op: VectorOp>(self, op: Op) {
        op.run::<f32x8>()
    }
}
use wide::{f32x8, i32x8};

/// Whether `wide`'s `mul_add` is a fused instruction in this build (x86 with FMA enabled at
/// compile time, or aarch64, where NEON always has `vfma`).
const HARDWARE_FMA: bool = cfg!(any(target_feature = "fma", target_arch = "aarch64"));

/// `a · b + c` rounded once, like a hardware FMA, in a build without one.
///
/// The product of two f32 is exact in f64; the f64 sum is rounded to odd (TwoSum gives its
/// error, and an inexact even result moves one ULP toward the exact value), and rounding an
/// odd-rounded f64 to f32 is the correctly rounded result (Boldo & Melquiond): the same bits as
/// `f32::mul_add` and the FMA instructions, so Portable agrees with the other backends.
#[inline(always)]
fn fused_via_f64(a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
    let (a, b, c) = (a.to_array(), b.to_array(), c.to_array());
    f32x8::from(core::array::from_fn::<f32, 8, _>(|i| {
        fma_round_to_odd(a[i], b[i], c[i])
    }))
}

#[inline(always)]
fn fma_round_to_odd(a: f32, b: f32, c: f32) -> f32 {
    let (p, c) = (f64::from(a) * f64::from(b), f64::from(c));
    let s = p + c;
    if !s.is_finite() || s == 0.0 {
        return s as f32;
    }
    let c_virtual = s - p;
    let error = (p - (s - c_virtual)) + (c - c_virtual);
    let odd = if error != 0.0 && s.to_bits() & 1 == 0 {
        // The neighbour on the exact value's side: away from zero if the error has s's sign.
        let bits = if (error > 0.0) == (s > 0.0) {
            s.to_bits() + 1
        } else {
            s.to_bits() - 1
        };
        f64::from_bits(bits)
    } else {
        s
    };
    odd as f32
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
    fn lookup16(table: &[f32; 16], index: f32x8) -> f32x8 {
        // A NaN index reads entry 0 (`as` saturates NaN to 0), as the x86 permutes do.
        f32x8::from(index.to_array().map(|i| table[i.round_ties_even() as usize]))
    }
    #[inline(always)]
    fn lookup32(table: &[f32; 32], index: f32x8) -> f32x8 {
        // The low five bits of the rounded integer (−1 reads entry 31); a NaN index converts to 0.
        f32x8::from(
            index
                .to_array()
                .map(|i| table[(i.round_ties_even() as i32 & 31) as usize]),
        )
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
