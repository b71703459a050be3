//! One-lane instantiation: `f32` itself. `mul_add` is `f32::mul_add`, a single rounding like the
//! FMA instructions of the x86 backends, so this backend reproduces their bits.

use super::{Isa, Vector, VectorOp};

/// The one-lane ISA: every CPU has it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scalar;

impl Isa for Scalar {
    const NAME: &'static str = "scalar";
    const NATIVE_16_BIT: bool = false;
    const LANES: usize = 1;
    fn detect() -> Option<Scalar> {
        Some(Scalar)
    }
    fn run<Op: VectorOp>(self, op: Op) {
        op.run::<f32>()
    }
}

impl Vector for f32 {
    type Mask = bool;
    const LANES: usize = 1;

    #[inline(always)]
    fn splat(v: f32) -> f32 {
        v
    }
    #[inline(always)]
    fn load(src: &[f32]) -> f32 {
        src[0]
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        dst[0] = self;
    }
    #[inline(always)]
    fn mul_add(self, a: f32, b: f32) -> f32 {
        f32::mul_add(self, a, b)
    }
    #[inline(always)]
    fn abs(self) -> f32 {
        f32::abs(self)
    }
    #[inline(always)]
    fn copysign(self, sign: f32) -> f32 {
        f32::copysign(self, sign)
    }
    #[inline(always)]
    fn round_ties_even(self) -> f32 {
        f32::round_ties_even(self)
    }
    #[inline(always)]
    fn pow2i(n: f32) -> f32 {
        f32::from_bits(((n as i32 + 127) << 23) as u32)
    }
    #[inline(always)]
    fn lookup16(table: &[f32; 16], index: f32) -> f32 {
        // A NaN index reads entry 0 (`as` saturates NaN to 0), as the x86 permutes do.
        table[index.round_ties_even() as usize]
    }
    #[inline(always)]
    fn lookup32(table: &[f32; 32], index: f32) -> f32 {
        // The low five bits of the rounded integer (−1 reads entry 31); a NaN index converts to 0.
        table[(index.round_ties_even() as i32 & 31) as usize]
    }
    #[inline(always)]
    fn lt(self, rhs: f32) -> bool {
        self < rhs
    }
    #[inline(always)]
    fn le(self, rhs: f32) -> bool {
        self <= rhs
    }
    #[inline(always)]
    fn gt(self, rhs: f32) -> bool {
        self > rhs
    }
    #[inline(always)]
    fn ge(self, rhs: f32) -> bool {
        self >= rhs
    }
    #[inline(always)]
    fn eq(self, rhs: f32) -> bool {
        self == rhs
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    #[inline(always)]
    fn select(mask: bool, if_true: f32, if_false: f32) -> f32 {
        if mask { if_true } else { if_false }
    }
}
