//! The vector types every kernel is instantiated for, and the run-time choice between them.
//!
//! A kernel is written once against [`Vector`]; this module instantiates it four times:
//!
//! | [`Backend`] | vector type | lanes | fused multiply-add | when |
//! |---|---|---|---|---|
//! | `Avx512` | `__m512` | 16 | `vfmadd…ps` | x86-64 with AVX-512F, detected at run time |
//! | `Avx2` | `__m256` | 8 | `vfmadd…ps` | x86-64 with AVX2 and FMA, detected at run time |
//! | `Portable` | [`wide::f32x8`] | 8 | `wide`'s when the build enables `fma` (and on aarch64), else emulated exactly in `f64` | every target |
//! | `Scalar` | `f32` | 1 | `f32::mul_add` | every target; the bit-exact reference of the others |
//!
//! Every operation of [`Vector`] is an IEEE-754 operation rounded once (add, mul, div, fused
//! multiply-add, compare, select, exact bit manipulation), so all four backends give the same
//! bits for every input (NaN payloads and signs aside). `Portable`'s `mul_add` is one rounding
//! too: where the build has no FMA instruction it rounds the exact `f64` sum to odd and then to
//! `f32`, which is the correctly rounded result (`portable.rs`); that costs speed, not bits.
//!
//! `unsafe` in the library is confined to this module (the crate root denies `unsafe_code`
//! elsewhere): the intrinsics wrappers of the two x86 backends, and the calls in `run_on`
//! into their `#[target_feature]` functions after the CPU check. Every `unsafe` block carries a
//! `// Safety:` comment giving its reason, which clippy enforces here.
#![deny(clippy::undocumented_unsafe_blocks)]

use core::fmt;
use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Sub};
use std::cell::Cell;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

pub(crate) mod fast;
pub(crate) mod portable;
pub(crate) mod scalar;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86_avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86_avx512;

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

    /// All lanes set to `v`.
    fn splat(v: f32) -> Self;
    /// Reads the first `LANES` elements of `src` (panics if it is shorter).
    fn load(src: &[f32]) -> Self;
    /// Writes the lanes to the first `LANES` elements of `dst` (panics if it is shorter).
    fn store(self, dst: &mut [f32]);

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
pub enum Backend {
    /// One lane at a time through the same kernels, with fused multiply-add: the bit-exact
    /// reference of the other backends. Slow; for testing and reproducibility.
    Scalar = 1,
    /// `wide::f32x8`: whatever the build's target features allow (SSE2 pairs in a default
    /// x86-64 build, NEON on aarch64, AVX2+FMA under `-C target-cpu=native`). Its fused
    /// multiply-add is emulated exactly where the build has no FMA instruction, so it gives the
    /// same bits as the other backends, slowly in a default x86-64 build.
    Portable = 2,
    /// 8 lanes of AVX2 with FMA, chosen at run time.
    Avx2 = 3,
    /// 16 lanes of AVX-512F, chosen at run time.
    Avx512 = 4,
}

impl Backend {
    /// Every backend, narrowest first.
    pub const ALL: [Backend; 4] = [Backend::Scalar, Backend::Portable, Backend::Avx2, Backend::Avx512];

    /// The lower-case name used by `ACTKERN_BACKEND`, the CLI and the C ABI.
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Scalar => "scalar",
            Backend::Portable => "portable",
            Backend::Avx2 => "avx2",
            Backend::Avx512 => "avx512",
        }
    }

    /// Lanes of the vector type this backend runs kernels on.
    pub const fn lanes(self) -> usize {
        match self {
            Backend::Scalar => 1,
            Backend::Portable | Backend::Avx2 => 8,
            Backend::Avx512 => 16,
        }
    }

    /// Whether this CPU can run the backend.
    pub fn is_available(self) -> bool {
        match self {
            Backend::Scalar | Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            Backend::Avx2 | Backend::Avx512 => false,
        }
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

/// 0 until the first call decides; then a `Backend` discriminant.
static ACTIVE: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// A per-thread override set by [`with_backend`]; 0 when none.
    static OVERRIDE: Cell<u8> = const { Cell::new(0) };
}

/// The backend kernels run on now. The first call reads `ACTKERN_BACKEND` (panicking with a
/// clear message if it names an unknown or unsupported backend: a silent fallback would make
/// benchmarks and reproducibility runs lie) or detects the CPU; later calls are one atomic load.
pub fn backend() -> Backend {
    if let Some(b) = Backend::from_u8(OVERRIDE.with(Cell::get)) {
        return b;
    }
    match Backend::from_u8(ACTIVE.load(Ordering::Relaxed)) {
        Some(b) => b,
        None => {
            let chosen = match std::env::var("ACTKERN_BACKEND") {
                Ok(name) if !name.trim().is_empty() => match name.parse::<Backend>().and_then(check_available) {
                    Ok(b) => b,
                    Err(e) => panic!("ACTKERN_BACKEND: {e}"),
                },
                _ => Backend::best(),
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

/// Runs `job` with kernel `k` on `backend`'s vector type, in `tier`.
///
/// `backend` must be available; `dispatch` only passes backends that came from [`backend`] or
/// were checked by [`Backend::is_available`].
#[inline]
pub(crate) fn run_on<K: crate::Kernel>(backend: Backend, k: &K, job: crate::driver::Job<'_>, tier: crate::Tier) {
    match backend {
        Backend::Scalar => crate::driver::run::<f32, K>(k, job, tier),
        Backend::Portable => crate::driver::run::<wide::f32x8, K>(k, job, tier),
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 => {
            assert!(
                Backend::Avx2.is_available(),
                "Avx2 backend used on a CPU without AVX2+FMA"
            );
            // Safety: the CPU has AVX2 and FMA (checked just above; detection is cached by std).
            unsafe { x86_avx2::run(k, job, tier) }
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 => {
            assert!(
                Backend::Avx512.is_available(),
                "Avx512 backend used on a CPU without AVX-512F"
            );
            // Safety: the CPU has AVX-512F (checked just above; detection is cached by std).
            unsafe { x86_avx512::run(k, job, tier) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        Backend::Avx2 | Backend::Avx512 => unreachable!("x86 backends are never available here"),
    }
}
