//! The instruction sets kernels run on: one token type per ISA, and the run-time choice.
//!
//! A kernel is written once against [`Vector`]. Each ISA is a token type implementing [`Isa`]:
//! a value of it exists only once the CPU has been found to have the instructions
//! ([`Isa::detect`]), and its entry point ([`Isa::run`]) runs a generic [`VectorOp`] on its
//! vector type, compiled for those instructions. The entry point knows nothing of kernels or
//! buffers. The x86 vector types are private to their modules and reachable only through
//! their token, so their intrinsic wrappers only ever run on a CPU that has the instructions.
//!
//! | [`Backend`] | token | vector type | lanes | fused multiply-add | bf16 / f16 conversion | when |
//! |---|---|---|---|---|---|---|
//! | `Avx512` | `x86_avx512::Avx512` | `__m512` | 16 | `vfmadd…ps` | 16-bit shift and integer round-to-nearest-even / `vcvtph2ps`, `vcvtps2ph` | x86-64 with AVX-512F, detected at run time |
//! | `Avx2` | `x86_avx2::Avx2` | `__m256` | 8 | `vfmadd…ps` | the same integer forms / F16C | x86-64 with AVX2, FMA and F16C, detected at run time |
//! | `Portable` | `portable::Portable` | [`wide::f32x8`] | 8 | `wide`'s when the build enables `fma` (and on aarch64), else emulated exactly in `f64` | `half`, lane by lane | every target |
//! | `Scalar` | `scalar::Scalar` | `f32` | 1 | `f32::mul_add` | `half` | every target; the bit-exact reference of the others |
//!
//! AVX-512 stores bf16 by the integer form even where AVX512_BF16 exists: `vcvtneps2bf16`
//! flushes subnormal inputs to zero (measured on this project's Zen 4: `1.17e-38` gives `0x0000`
//! where `bf16::from_f32` gives `0x007f`), so it would need a correction to give `half`'s bits,
//! and the integer form already costs little next to any kernel (`BENCHMARKS.md`).
//!
//! Every operation of [`Vector`] is an IEEE-754 operation rounded once (add, mul, div, fused
//! multiply-add, compare, select, exact bit manipulation), so all four backends give the same
//! bits for every input (NaN payloads and signs aside). `Portable`'s `mul_add` is one rounding
//! too: where the build has no FMA instruction it rounds the exact `f64` sum to odd and then to
//! `f32`, which is the correctly rounded result (`portable.rs`); that costs speed, not bits.
//!
//! `unsafe` in the library is confined to this module (the crate root denies `unsafe_code`
//! elsewhere): the intrinsics wrappers of the two x86 backends, their tokens' calls into their
//! `#[target_feature]` entry points, and the pointer arithmetic of the buffer views in
//! [`view`]. Every `unsafe` block carries a `// Safety:` comment giving its reason, which
//! clippy enforces here.
#![deny(clippy::undocumented_unsafe_blocks)]

use core::fmt;
use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Sub};
use half::{bf16, f16};
use std::cell::Cell;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

pub(crate) mod fast;
pub(crate) mod portable;
pub(crate) mod scalar;
pub(crate) mod view;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86_avx2;
#[cfg(not(target_arch = "x86_64"))]
#[path = "not_x86.rs"]
pub(crate) mod x86_avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86_avx512;
#[cfg(not(target_arch = "x86_64"))]
#[path = "not_x86.rs"]
pub(crate) mod x86_avx512;

/// The widest vector of any backend: tails are padded to this.
pub(crate) const MAX_LANES: usize = 16;

/// An operation over vectors of any width, run by an ISA's entry point on its vector type.
pub(crate) trait VectorOp {
    /// Whether the operation stores bf16: AVX-512 then runs it where `vcvtneps2bf16` is compiled
    /// in, if the CPU has AVX512_BF16.
    const STORES_BF16: bool = false;
    /// Runs the operation on vectors `V`.
    fn run<V: Vector>(self);
}

/// One instruction set: its row of the table (name, lanes, detection, entry point).
///
/// A value of the type is the proof that the CPU has the instructions: [`Isa::detect`] is the
/// only way to make one.
pub(crate) trait Isa: Copy {
    /// The name used by `ACTKERN_BACKEND`, the CLI and the C ABI.
    const NAME: &'static str;
    /// Lanes of its vector type.
    const LANES: usize;
    /// Whether its vector type converts bf16 and f16 itself ([`Vector::NATIVE_16_BIT`]).
    const NATIVE_16_BIT: bool;
    /// The token, if this CPU has the instructions.
    fn detect() -> Option<Self>;
    /// Runs `op` on this ISA's vector type, compiled for its instructions.
    fn run<Op: VectorOp>(self, op: Op);
}

/// A SIMD vector of `f32` lanes: the type a kernel is written against.
///
/// All methods are lane-wise. Comparisons are ordered (false when either side is NaN), so
/// `select(x.lt(c), c, x)` keeps a NaN `x`: kernels rely on that to propagate NaN.
pub trait Vector:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> + Neg<Output = Self>
{
    /// Lane mask produced by comparisons.
    type Mask: Copy + BitAnd<Output = Self::Mask> + BitOr<Output = Self::Mask> + Not<Output = Self::Mask>;

    /// Number of `f32` lanes.
    const LANES: usize;
    /// Whether kernels are running in the fast tier ([`Tier::Fast`](crate::Tier)): the shared
    /// math of [`crate::math`] reads it to take its cheaper steps. False for every backend's
    /// own vector type; the fast tier runs the same backend through a wrapper that sets it.
    const FAST: bool = false;
    /// Whether this vector type converts bf16 and f16 natively (the x86 backends). Where it does
    /// not (Scalar, Portable), the driver widens 16-bit buffers through `f32` blocks and runs
    /// the `f32` instantiation of the kernel: the same bits, and the kernel compiled once.
    #[doc(hidden)]
    const NATIVE_16_BIT: bool = false;

    /// All lanes set to `v`.
    fn splat(v: f32) -> Self;
    /// Reads the first `LANES` elements of `src` (panics if it is shorter).
    fn load(src: &[f32]) -> Self;
    /// Writes the lanes to the first `LANES` elements of `dst` (panics if it is shorter).
    fn store(self, dst: &mut [f32]);
    /// Reads `src` (shorter than `LANES`) into the first lanes; the others are zero. AVX-512
    /// uses a masked load; the default goes through a zero-padded copy.
    #[inline(always)]
    fn load_partial(src: &[f32]) -> Self {
        let mut padded = [0.0f32; MAX_LANES];
        padded[..src.len()].copy_from_slice(src);
        Self::load(&padded)
    }
    /// Writes the first `dst.len()` (fewer than `LANES`) lanes to `dst`.
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32]) {
        let mut padded = [0.0f32; MAX_LANES];
        self.store(&mut padded);
        let n = dst.len();
        dst.copy_from_slice(&padded[..n]);
    }
    /// Reads the first `LANES` elements of `src`, widened exactly to `f32`. The default goes
    /// lane by lane through `half`; the x86 backends shift each element into the high half.
    #[inline(always)]
    fn load_bf16(src: &[bf16]) -> Self {
        let mut wide = [0.0f32; MAX_LANES];
        for (w, s) in wide.iter_mut().zip(&src[..Self::LANES]) {
            *w = s.to_f32();
        }
        Self::load(&wide)
    }
    /// Writes the lanes, each rounded once to nearest-even (NaN stays NaN, quieted), to the first
    /// `LANES` elements of `dst`: `bf16::from_f32`'s bits.
    #[inline(always)]
    fn store_bf16(self, dst: &mut [bf16]) {
        let mut wide = [0.0f32; MAX_LANES];
        self.store(&mut wide);
        for (d, w) in dst[..Self::LANES].iter_mut().zip(wide) {
            *d = bf16::from_f32(w);
        }
    }
    /// Reads the first `LANES` elements of `src`, widened exactly to `f32`.
    #[inline(always)]
    fn load_f16(src: &[f16]) -> Self {
        let mut wide = [0.0f32; MAX_LANES];
        for (w, s) in wide.iter_mut().zip(&src[..Self::LANES]) {
            *w = s.to_f32();
        }
        Self::load(&wide)
    }
    /// Writes the lanes, each rounded once to nearest-even (beyond ±65504 to ±inf, NaN stays
    /// NaN), to the first `LANES` elements of `dst`: `f16::from_f32`'s bits.
    #[inline(always)]
    fn store_f16(self, dst: &mut [f16]) {
        let mut wide = [0.0f32; MAX_LANES];
        self.store(&mut wide);
        for (d, w) in dst[..Self::LANES].iter_mut().zip(wide) {
            *d = f16::from_f32(w);
        }
    }

    /// `self · a + b`, rounded once (fused multiply-add) on every backend, so the same bits
    /// everywhere: `Portable` emulates it exactly where the build has no FMA instruction.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `|self|` (clears the sign bit; NaN stays NaN).
    fn abs(self) -> Self;
    /// The magnitude of `self` with the sign bit of `sign`.
    fn copysign(self, sign: Self) -> Self;
    /// Round to the nearest integer, ties to even (the result is an `f32`).
    fn round_ties_even(self) -> Self;
    /// `2ⁿ` for `n` an integer-valued float in `[-126, 127]` (exact, built in the exponent field).
    fn pow2i(n: Self) -> Self;

    /// Lane-wise `self < rhs` (false where either is NaN).
    fn lt(self, rhs: Self) -> Self::Mask;
    /// Lane-wise `self <= rhs` (false where either is NaN).
    fn le(self, rhs: Self) -> Self::Mask;
    /// Lane-wise `self > rhs` (false where either is NaN).
    fn gt(self, rhs: Self) -> Self::Mask;
    /// Lane-wise `self >= rhs` (false where either is NaN).
    fn ge(self, rhs: Self) -> Self::Mask;
    /// Lane-wise `self == rhs` (`-0 == +0`; false where either is NaN).
    fn eq(self, rhs: Self) -> Self::Mask;
    /// Lanes holding NaN.
    fn is_nan(self) -> Self::Mask;
    /// Lane-wise `mask ? if_true : if_false`.
    fn select(mask: Self::Mask, if_true: Self, if_false: Self) -> Self;

    /// `max(self, lo)` that keeps a NaN `self` (`lo` must not be NaN).
    #[inline(always)]
    fn max_keep_nan(self, lo: Self) -> Self {
        Self::select(self.lt(lo), lo, self)
    }
    /// `min(self, hi)` that keeps a NaN `self` (`hi` must not be NaN).
    #[inline(always)]
    fn min_keep_nan(self, hi: Self) -> Self {
        Self::select(self.gt(hi), hi, self)
    }
    /// `self · 2ⁿ` for `n` an integer-valued float in `[-126, 127]`: one rounding, which only a
    /// subnormal or overflowing product feels. Backends with a scaling instruction override it.
    #[inline(always)]
    fn mul_pow2i(self, n: Self) -> Self {
        self * Self::pow2i(n)
    }
    /// `self · 2ⁿ` for `n` an integer-valued float in `[-252, 254]`, rounded once, for a `self` that
    /// is 0, infinite, NaN or of magnitude at least 2⁻¹⁰². The default multiplies by 2^⌊n/2⌉ and
    /// then by the rest: the first product can only round when it underflows, which for such a
    /// `self` needs n ≤ −48, and then both ways give the same 0 (the result is below 2⁻¹⁵⁰). So
    /// it equals AVX-512's one `vscalefps` (`tests/suite/backend_ops.rs` checks this).
    #[inline(always)]
    fn ldexp(self, n: Self) -> Self {
        let half = (n * Self::splat(0.5)).round_ties_even();
        self.mul_pow2i(half).mul_pow2i(n - half)
    }
    /// `table[i]` in each lane, `i` being `index` rounded to the nearest integer (ties to even),
    /// for `index` in `[-0.5, 15.5)`; a NaN index reads entry 0. One permute on AVX-512 (its
    /// conversion to an integer does the rounding), two and a blend on AVX2. Kernels use it to
    /// pick per-interval polynomial coefficients.
    fn lookup16(table: &[f32; 16], index: Self) -> Self;
    /// `table[i mod 32]` in each lane, `i` being `index` rounded to the nearest integer (ties to
    /// even), for `|index| < 2³¹`; a NaN index reads entry 0. So an index that rounds to −1 reads
    /// entry 31: the low five bits of the integer, which is what AVX-512's two-register permute
    /// (`vpermt2ps`) reads, in one instruction. AVX2 takes four permutes and three blends,
    /// `Scalar` and `Portable` an array read per lane. Kernels use it to pick per-interval
    /// polynomial coefficients.
    fn lookup32(table: &[f32; 32], index: Self) -> Self;
}

/// An instruction-set path that kernels are instantiated for.
///
/// The active backend is chosen once, on first use: the `ACTKERN_BACKEND` environment variable
/// if set (`scalar`, `portable`, `avx2`, `avx512`), else the widest the CPU supports. It can be
/// changed in code with [`set_backend`].
///
/// ```
/// use actkern::Backend;
/// let b = actkern::backend();
/// assert!(b.is_available());
/// assert!(Backend::Scalar.is_available() && Backend::Portable.is_available());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Backend {
    /// One lane at a time through the same kernels, with fused multiply-add: the bit-exact
    /// reference of the other backends. Slow; for testing and reproducibility.
    Scalar = 1,
    /// `wide::f32x8`: whatever the build's target features allow (SSE2 pairs in a default
    /// x86-64 build, NEON on aarch64, AVX2+FMA under `-C target-cpu=native`). Its fused
    /// multiply-add is emulated exactly where the build has no FMA instruction, so it gives the
    /// same bits as the other backends, slowly in a default x86-64 build.
    Portable = 2,
    /// 8 lanes of AVX2 with FMA (and F16C for f16 buffers), chosen at run time.
    Avx2 = 3,
    /// 16 lanes of AVX-512F, chosen at run time.
    Avx512 = 4,
}

impl Backend {
    /// Every backend, narrowest first.
    pub const ALL: [Backend; 4] = [Backend::Scalar, Backend::Portable, Backend::Avx2, Backend::Avx512];

    /// The lower-case name used by `ACTKERN_BACKEND`, the CLI and the C ABI.
    pub const fn name(self) -> &'static str {
        isa_table!(self, |T| <T as Isa>::NAME)
    }

    /// Lanes of the vector type this backend runs kernels on.
    pub const fn lanes(self) -> usize {
        isa_table!(self, |T| <T as Isa>::LANES)
    }

    /// Whether the backend converts bf16 and f16 in its vector registers (the x86 ones); the
    /// others take 16-bit buffers through `f32` blocks.
    pub(crate) const fn converts_16_bit(self) -> bool {
        isa_table!(self, |T| <T as Isa>::NATIVE_16_BIT)
    }

    /// Whether this CPU can run the backend.
    pub fn is_available(self) -> bool {
        isa_table!(self, |T| <T as Isa>::detect().is_some())
    }

    /// The widest backend this CPU supports.
    pub fn best() -> Backend {
        [Backend::Avx512, Backend::Avx2]
            .into_iter()
            .find(|b| b.is_available())
            .unwrap_or(Backend::Portable)
    }

    /// Every backend this CPU supports, narrowest first.
    pub fn available() -> Vec<Backend> {
        Backend::ALL.into_iter().filter(|b| b.is_available()).collect()
    }

    fn from_u8(v: u8) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| *b as u8 == v)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a backend could not be chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendError {
    /// The name is not one of `scalar`, `portable`, `avx2`, `avx512`.
    Unknown(String),
    /// The CPU lacks the instructions the backend needs.
    Unsupported(Backend),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Unknown(name) => write!(
                f,
                "unknown backend `{name}`; expected one of: scalar, portable, avx2, avx512"
            ),
            BackendError::Unsupported(b) => write!(
                f,
                "backend `{b}` is not supported by this CPU; available: {}",
                Backend::available()
                    .iter()
                    .map(|b| b.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl std::error::Error for BackendError {}

impl FromStr for Backend {
    type Err = BackendError;
    fn from_str(s: &str) -> Result<Backend, BackendError> {
        let s = s.trim();
        Backend::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| BackendError::Unknown(s.to_string()))
    }
}

/// The table of ISAs: evaluates `$body` with `$isa` standing for `backend`'s token type.
macro_rules! isa_table {
    ($backend:expr, |$isa:ident| $body:expr) => {
        match $backend {
            Backend::Scalar => {
                type $isa = scalar::Scalar;
                $body
            }
            Backend::Portable => {
                type $isa = portable::Portable;
                $body
            }
            Backend::Avx2 => {
                type $isa = x86_avx2::Avx2;
                $body
            }
            Backend::Avx512 => {
                type $isa = x86_avx512::Avx512;
                $body
            }
        }
    };
}
use isa_table;

/// Runs `op` on `backend`'s vector type. Panics if the CPU lacks the backend's instructions,
/// which [`backend`], [`set_backend`] and [`with_backend`] never let happen.
pub(crate) fn run<Op: VectorOp>(backend: Backend, op: Op) {
    fn enter<I: Isa, Op: VectorOp>(op: Op) {
        match I::detect() {
            Some(isa) => isa.run(op),
            None => panic!("actkern: backend `{}` used on a CPU without its instructions", I::NAME),
        }
    }
    isa_table!(backend, |I| enter::<I, Op>(op))
}

/// 0 until the first call decides; then a `Backend` discriminant.
static ACTIVE: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// A per-thread override set by [`with_backend`]; 0 when none.
    static OVERRIDE: Cell<u8> = const { Cell::new(0) };
}

/// The backend kernels run on now. The first call reads `ACTKERN_BACKEND` or detects the CPU;
/// later calls are one atomic load. A value naming an unknown or unsupported backend is an
/// error message on stderr, once, and the widest backend runs instead (a program that must not
/// run on another backend than asked checks [`backend_from_env`] first, as the CLI does).
pub fn backend() -> Backend {
    if let Some(b) = Backend::from_u8(OVERRIDE.with(Cell::get)) {
        return b;
    }
    match Backend::from_u8(ACTIVE.load(Ordering::Relaxed)) {
        Some(b) => b,
        None => {
            let chosen = match backend_from_env() {
                Ok(Some(b)) => b,
                Ok(None) => Backend::best(),
                Err(e) => {
                    eprintln!("actkern: ACTKERN_BACKEND: {e}; using `{}`", Backend::best());
                    Backend::best()
                }
            };
            // A concurrent first call may have stored its own (identical) choice, or
            // `set_backend` may have run: keep whichever landed first.
            match ACTIVE.compare_exchange(0, chosen as u8, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => chosen,
                Err(existing) => Backend::from_u8(existing).unwrap_or(chosen),
            }
        }
    }
}

/// The backend the `ACTKERN_BACKEND` environment variable asks for: `Ok(None)` when it is unset
/// or empty, an error when it names an unknown backend or one this CPU lacks.
///
/// ```
/// // In a test process the variable is normally unset.
/// if std::env::var_os("ACTKERN_BACKEND").is_none() {
///     assert_eq!(actkern::backend_from_env(), Ok(None));
/// }
/// ```
pub fn backend_from_env() -> Result<Option<Backend>, BackendError> {
    match std::env::var("ACTKERN_BACKEND") {
        Ok(name) if !name.trim().is_empty() => name.parse::<Backend>().and_then(check_available).map(Some),
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(name)) => Err(BackendError::Unknown(name.to_string_lossy().into_owned())),
    }
}

fn check_available(b: Backend) -> Result<Backend, BackendError> {
    if b.is_available() {
        Ok(b)
    } else {
        Err(BackendError::Unsupported(b))
    }
}

/// Forces every later call, on every thread, to run on `b`.
///
/// Fails, changing nothing, when the CPU lacks `b`'s instructions.
///
/// ```
/// use actkern::{Backend, set_backend};
/// let before = actkern::backend();
/// set_backend(Backend::Scalar).unwrap();
/// assert_eq!(actkern::backend(), Backend::Scalar);
/// set_backend(before).unwrap();
/// ```
pub fn set_backend(b: Backend) -> Result<(), BackendError> {
    check_available(b)?;
    ACTIVE.store(b as u8, Ordering::Relaxed);
    Ok(())
}

/// Runs `f` with every call made from this thread on backend `b` (calls split across rayon
/// threads included: the backend is chosen once per call, on the calling thread). Other threads
/// are unaffected, so tests running in parallel can each force their own backend.
///
/// Fails, without running `f`, when the CPU lacks `b`'s instructions.
///
/// ```
/// use actkern::{Apply, Backend, Tanh, with_backend};
/// let x = [0.5f32; 37];
/// let (mut a, mut b) = ([0.0f32; 37], [0.0f32; 37]);
/// with_backend(Backend::Scalar, || Tanh.forward(&x, &mut a)).unwrap();
/// if Backend::Avx2.is_available() {
///     with_backend(Backend::Avx2, || Tanh.forward(&x, &mut b)).unwrap();
///     assert_eq!(a, b); // the fused backends agree bit for bit
/// }
/// ```
pub fn with_backend<R>(b: Backend, f: impl FnOnce() -> R) -> Result<R, BackendError> {
    check_available(b)?;
    struct Restore(u8);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(b as u8)));
    Ok(f())
}
