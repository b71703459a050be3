//! The element types a buffer may hold: `f32`, [`bf16`] and [`f16`].
//!
//! Kernels compute in `f32` whatever the buffers hold. A `bf16` or `f16` element is widened
//! exactly when it is loaded into a vector and the `f32` result is rounded once, to nearest-even,
//! when it is stored (PyTorch's semantics for its bf16/f16 CPU activations). So every `bf16`
//! result is `bf16::from_f32` of the `f32` kernel's result on the widened input, bit for bit, and
//! likewise for `f16` (where results beyond ±65504 round to ±inf and NaN stays NaN).

use crate::backend::Vector;
use crate::driver::{Task, Work};
use core::fmt;
use core::str::FromStr;
use half::{bf16, f16};

/// An element type of the buffers: `f32`, [`half::bf16`] or [`half::f16`].
///
/// Every slice method of [`Apply`](crate::Apply) is generic over it; all buffers of one call
/// hold the same type.
///
/// ```
/// use actkern::{Apply, Element, Gelu};
/// use half::bf16;
///
/// let x: Vec<bf16> = [-1.0f32, 0.0, 1.0].into_iter().map(bf16::from_f32).collect();
/// let mut y = vec![bf16::ZERO; 3];
/// Gelu::default().forward(&x, &mut y);
///
/// // Exactly the f32 kernel on the widened input, rounded once.
/// let mut y32 = [0.0f32; 3];
/// Gelu::default().forward(&[-1.0f32, 0.0, 1.0], &mut y32);
/// assert_eq!(y, y32.map(bf16::from_f32));
/// assert_eq!(bf16::DTYPE.name(), "bf16");
/// ```
pub trait Element:
    Copy + Default + PartialEq + fmt::Debug + Send + Sync + bytemuck::Pod + sealed::Sealed + 'static
{
    /// Which type this is, at run time.
    const DTYPE: Dtype;
    /// The value as an `f32` (exact).
    fn to_f32(self) -> f32;
    /// `v` rounded to this type, to nearest-even (exact for `f32`).
    fn from_f32(v: f32) -> Self;
}

/// The element type of a buffer, as a value: for command-line flags, file headers and the C ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dtype {
    /// IEEE-754 binary32.
    F32,
    /// bfloat16: `f32`'s exponent range with 8 significant bits.
    Bf16,
    /// IEEE-754 binary16: 11 significant bits, finite up to 65504.
    F16,
}

impl Dtype {
    /// Every element type.
    pub const ALL: [Dtype; 3] = [Dtype::F32, Dtype::Bf16, Dtype::F16];

    /// `"f32"`, `"bf16"` or `"f16"`.
    pub const fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::Bf16 => "bf16",
            Dtype::F16 => "f16",
        }
    }

    /// Bytes per element.
    pub const fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::Bf16 | Dtype::F16 => 2,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A string that names no element type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DtypeError(pub String);

impl fmt::Display for DtypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown element type `{}`; expected one of: f32, bf16, f16", self.0)
    }
}

impl std::error::Error for DtypeError {}

impl FromStr for Dtype {
    type Err = DtypeError;
    /// Parses `f32`, `bf16` or `f16` (any case).
    ///
    /// ```
    /// use actkern::Dtype;
    /// assert_eq!("BF16".parse::<Dtype>(), Ok(Dtype::Bf16));
    /// assert!("f64".parse::<Dtype>().unwrap_err().to_string().contains("f32, bf16, f16"));
    /// ```
    fn from_str(s: &str) -> Result<Dtype, DtypeError> {
        Dtype::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| DtypeError(s.to_string()))
    }
}

impl Element for f32 {
    const DTYPE: Dtype = Dtype::F32;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from_f32(v: f32) -> f32 {
        v
    }
}

impl Element for bf16 {
    const DTYPE: Dtype = Dtype::Bf16;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
    #[inline(always)]
    fn from_f32(v: f32) -> bf16 {
        bf16::from_f32(v)
    }
}

impl Element for f16 {
    const DTYPE: Dtype = Dtype::F16;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
    #[inline(always)]
    fn from_f32(v: f32) -> f16 {
        f16::from_f32(v)
    }
}

// `Sealed` is public only so that `Element` may name it; no path outside the crate reaches it,
// so the crate-private types in its signatures are not part of the public interface.
#[allow(private_interfaces)]
pub(crate) mod sealed {
    use super::*;

    /// What the driver needs of an element type; outside the crate nothing can implement it, so
    /// [`Element`] is exactly `f32`, `bf16` and `f16`.
    pub trait Sealed: Sized {
        /// Whether this is `f32` (no conversion at all).
        const IS_F32: bool;
        /// Whether this is `bf16` (stores may take AVX512_BF16's conversion).
        const IS_BF16: bool;
        /// `V::LANES` elements from the start of `src`, widened to `f32`.
        fn load<V: Vector>(src: &[Self]) -> V;
        /// The lanes of `v`, rounded to this type, into the start of `dst`.
        fn store<V: Vector>(v: V, dst: &mut [Self]);
        /// `src` (shorter than `V::LANES`) widened, the other lanes zero.
        fn load_partial<V: Vector>(src: &[Self]) -> V;
        /// The first `dst.len()` (fewer than `V::LANES`) lanes of `v`, rounded, into `dst`.
        fn store_partial<V: Vector>(v: V, dst: &mut [Self]);
        /// The call's buffers with their type erased, so one non-generic function runs them all.
        fn work(task: Task<'_, Self>) -> Work<'_>;
    }

    impl Sealed for f32 {
        const IS_F32: bool = true;
        const IS_BF16: bool = false;
        #[inline(always)]
        fn load<V: Vector>(src: &[f32]) -> V {
            V::load(src)
        }
        #[inline(always)]
        fn store<V: Vector>(v: V, dst: &mut [f32]) {
            v.store(dst)
        }
        #[inline(always)]
        fn load_partial<V: Vector>(src: &[f32]) -> V {
            V::load_partial(src)
        }
        #[inline(always)]
        fn store_partial<V: Vector>(v: V, dst: &mut [f32]) {
            v.store_partial(dst)
        }
        fn work(task: Task<'_, f32>) -> Work<'_> {
            Work::F32(task)
        }
    }

    /// Pads a short run of 16-bit elements with zeros to a whole vector's worth.
    #[inline(always)]
    fn padded<E: Copy + Default>(src: &[E]) -> [E; crate::backend::MAX_LANES] {
        let mut padded = [E::default(); crate::backend::MAX_LANES];
        padded[..src.len()].copy_from_slice(src);
        padded
    }

    macro_rules! sealed_half {
        ($ty:ident, $load:ident, $store:ident, $variant:ident, $is_bf16:literal) => {
            impl Sealed for $ty {
                const IS_F32: bool = false;
                const IS_BF16: bool = $is_bf16;
                #[inline(always)]
                fn load<V: Vector>(src: &[$ty]) -> V {
                    V::$load(src)
                }
                #[inline(always)]
                fn store<V: Vector>(v: V, dst: &mut [$ty]) {
                    v.$store(dst)
                }
                #[inline(always)]
                fn load_partial<V: Vector>(src: &[$ty]) -> V {
                    V::$load(&padded(src))
                }
                #[inline(always)]
                fn store_partial<V: Vector>(v: V, dst: &mut [$ty]) {
                    let mut padded = [$ty::ZERO; crate::backend::MAX_LANES];
                    v.$store(&mut padded);
                    let n = dst.len();
                    dst.copy_from_slice(&padded[..n]);
                }
                fn work(task: Task<'_, $ty>) -> Work<'_> {
                    Work::$variant(task)
                }
            }
        };
    }

    sealed_half!(bf16, load_bf16, store_bf16, Bf16, true);
    sealed_half!(f16, load_f16, store_f16, F16, false);
}
