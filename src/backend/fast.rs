//! The fast tier as a vector type: [`FastLanes<V>`] computes every operation exactly as `V`
//! does and differs from it in one thing, [`Vector::FAST`], which the shared math of
//! [`crate::math`] reads to choose its cheaper step where it has one (a shorter polynomial, no
//! low parts carried through a corrected division). The choice is a constant, so each
//! instantiation compiles to one straight path; kernels never name the tier.

use super::Vector;
use core::ops::{Add, Div, Mul, Neg, Sub};
use half::{bf16, f16};

/// `V`'s lanes, run by the kernels in the fast tier.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub struct FastLanes<V>(V);

macro_rules! forward_binary_op {
    ($trait:ident, $method:ident) => {
        impl<V: Vector> $trait for FastLanes<V> {
            type Output = FastLanes<V>;
            #[inline(always)]
            fn $method(self, rhs: FastLanes<V>) -> FastLanes<V> {
                FastLanes(self.0.$method(rhs.0))
            }
        }
    };
}

forward_binary_op!(Add, add);
forward_binary_op!(Sub, sub);
forward_binary_op!(Mul, mul);
forward_binary_op!(Div, div);

impl<V: Vector> Neg for FastLanes<V> {
    type Output = FastLanes<V>;
    #[inline(always)]
    fn neg(self) -> FastLanes<V> {
        FastLanes(-self.0)
    }
}

macro_rules! forward_compare {
    ($($method:ident),*) => {
        $(
            #[inline(always)]
            fn $method(self, rhs: FastLanes<V>) -> V::Mask {
                self.0.$method(rhs.0)
            }
        )*
    };
}

impl<V: Vector> Vector for FastLanes<V> {
    type Mask = V::Mask;
    const LANES: usize = V::LANES;
    const FAST: bool = true;
    const NATIVE_16_BIT: bool = V::NATIVE_16_BIT;

    #[inline(always)]
    fn splat(v: f32) -> Self {
        FastLanes(V::splat(v))
    }
    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        FastLanes(V::load(src))
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        self.0.store(dst)
    }
    #[inline(always)]
    fn load_partial(src: &[f32]) -> Self {
        FastLanes(V::load_partial(src))
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32]) {
        self.0.store_partial(dst)
    }
    #[inline(always)]
    fn load_bf16(src: &[bf16]) -> Self {
        FastLanes(V::load_bf16(src))
    }
    #[inline(always)]
    fn store_bf16(self, dst: &mut [bf16]) {
        self.0.store_bf16(dst)
    }
    #[inline(always)]
    fn load_f16(src: &[f16]) -> Self {
        FastLanes(V::load_f16(src))
    }
    #[inline(always)]
    fn store_f16(self, dst: &mut [f16]) {
        self.0.store_f16(dst)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        FastLanes(self.0.mul_add(a.0, b.0))
    }
    #[inline(always)]
    fn abs(self) -> Self {
        FastLanes(self.0.abs())
    }
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
        FastLanes(self.0.copysign(sign.0))
    }
    #[inline(always)]
    fn round_ties_even(self) -> Self {
        FastLanes(self.0.round_ties_even())
    }
    #[inline(always)]
    fn pow2i(n: Self) -> Self {
        FastLanes(V::pow2i(n.0))
    }
    forward_compare!(lt, le, gt, ge, eq);
    #[inline(always)]
    fn is_nan(self) -> V::Mask {
        self.0.is_nan()
    }
    #[inline(always)]
    fn select(mask: V::Mask, if_true: Self, if_false: Self) -> Self {
        FastLanes(V::select(mask, if_true.0, if_false.0))
    }
    #[inline(always)]
    fn max_keep_nan(self, lo: Self) -> Self {
        FastLanes(self.0.max_keep_nan(lo.0))
    }
    #[inline(always)]
    fn min_keep_nan(self, hi: Self) -> Self {
        FastLanes(self.0.min_keep_nan(hi.0))
    }
    #[inline(always)]
    fn mul_pow2i(self, n: Self) -> Self {
        FastLanes(self.0.mul_pow2i(n.0))
    }
    #[inline(always)]
    fn ldexp(self, n: Self) -> Self {
        FastLanes(self.0.ldexp(n.0))
    }
    #[inline(always)]
    fn lookup16(table: &[f32; 16], index: Self) -> Self {
        FastLanes(V::lookup16(table, index.0))
    }
    #[inline(always)]
    fn lookup32(table: &[f32; 32], index: Self) -> Self {
        FastLanes(V::lookup32(table, index.0))
    }
}
