//! softmax, log_softmax and softmin over the rows of a `[rows, cols]` buffer, forward and
//! backward (CONTRACT §7).
//!
//! # Passes
//!
//! A row is read from its buffer once per pass; a row of 4096 `f32` is 16 KiB, so from the
//! second pass on it is read from L1, and memory sees one read of x and one write of y.
//!
//! - softmax / softmin: (1) the maximum m; (2) eᵈ for d = x − m, stored into y, and its sum;
//!   (3) y ← y / Σ, in place. One exponential per element.
//! - log_softmax: (1) m; (2) the sum of eᵈ; (3) y = d − ln Σ from x again. One exponential.
//! - backward: (1) the row's sum (Σ dy·y, or Σ dy); (2) dx.
//!
//! # Accuracy
//!
//! - d = x − m is carried as an exact pair (TwoSum): a rounded d costs |d|·2⁻²⁴ relatively in
//!   eᵈ, 80 ULP at d = −80. eᵈ is the shared [`exp`] of the leading part (within 1.01 ULP),
//!   times 1 + the low part (one FMA). [`exp_pair`], within 0.62 ULP, made the forward 1.56×
//!   slower in cache (709 against 1105 Melem/s on AVX-512) for a measured 1.42 ULP instead of
//!   2.03 (softmax; CONTRACT §7).
//! - Sums are compensated (TwoSum per lane, or FastTwoSum from a bias of 1 for softmax's
//!   exponentials; errors accumulated apart) in 16 *virtual lanes*,
//!   element j of a row going to lane j mod 16 whatever the vector width, then added in `f64`
//!   in lane order. So every backend computes the same sums, bit for bit, and their error does
//!   not grow with the row's length.
//! - The maxima (terms eᵈ = 1 exactly) are counted apart from the other terms, so that
//!   log_softmax knows Σ − 1 to full relative accuracy (its lanes start from 0) and takes ln Σ
//!   as `ln_1p` of it: at the
//!   row's maximum, y = −ln Σ is tiny when the other terms are, and a ln of a sum rounded to 1
//!   would give 0.
//! - 1/Σ and ln Σ are formed once per row in `f64`; the division is a product corrected by its
//!   exact residual, within about ½ ULP.
//!
//! 16-bit buffers: each row is widened exactly into an `f32` scratch row, computed as `f32`, and
//! rounded once per element.

use crate::backend::{self, Backend, MAX_LANES, Vector, VectorOp};
use crate::element::Element;
use crate::math::{TwoFloat, exp, exp_pair, finite_or_zero};
use core::fmt;
use core::str::FromStr;
use rayon::prelude::*;

/// Virtual lanes of every row reduction: element j of a row is summed in lane j mod `BLOCK`.
const BLOCK: usize = MAX_LANES;

/// Elements per rayon task, at least (a task is whole rows).
const TASK: usize = 1 << 15;

/// Which function of a row: softmax, log_softmax or softmin.
///
/// With x a row and m its maximum (of −x for softmin):
///
/// - `Softmax`: yᵢ = e^{xᵢ − m} / Σⱼ e^{xⱼ − m}; backward dxᵢ = yᵢ·(dyᵢ − Σⱼ dyⱼ·yⱼ).
/// - `LogSoftmax`: yᵢ = (xᵢ − m) − ln Σⱼ e^{xⱼ − m}; backward dxᵢ = dyᵢ − e^{yᵢ}·Σⱼ dyⱼ.
/// - `Softmin`: softmax of −x; backward dxᵢ = −yᵢ·(dyᵢ − Σⱼ dyⱼ·yⱼ).
///
/// Rows are independent; the special rows (±inf, NaN, all −inf) follow PyTorch (CONTRACT §7).
///
/// ```
/// use actkern::RowFn;
/// let x = [1.0f32, 2.0, 3.0, 0.0, 0.0, 0.0]; // two rows of 3
/// let mut y = [0.0f32; 6];
/// let f: RowFn = "log_softmax".parse().unwrap();
/// f.forward(&x, 3, &mut y);
/// assert!((y[5] + 3f32.ln()).abs() < 1e-6);
/// // Fully masked rows give zeros instead of NaN when asked.
/// let mut p = [0.0f32; 2];
/// RowFn::Softmax.forward_masked(&[f32::NEG_INFINITY; 2], 2, &mut p);
/// assert_eq!(p, [0.0, 0.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowFn {
    /// e^{x − m} / Σ e^{x − m}.
    Softmax,
    /// (x − m) − ln Σ e^{x − m}.
    LogSoftmax,
    /// Softmax of −x.
    Softmin,
}

/// A string that names no row function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowFnError(pub String);

impl fmt::Display for RowFnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown row function `{}`; expected one of: softmax, log_softmax, softmin",
            self.0
        )
    }
}

impl std::error::Error for RowFnError {}

impl FromStr for RowFn {
    type Err = RowFnError;
    /// `softmax`, `log_softmax` or `softmin` (any case).
    fn from_str(s: &str) -> Result<RowFn, RowFnError> {
        RowFn::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| RowFnError(s.to_string()))
    }
}

impl fmt::Display for RowFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl RowFn {
    /// Every row function.
    pub const ALL: [RowFn; 3] = [RowFn::Softmax, RowFn::LogSoftmax, RowFn::Softmin];

    /// `"softmax"`, `"log_softmax"` or `"softmin"`: PyTorch's names.
    pub const fn name(self) -> &'static str {
        match self {
            RowFn::Softmax => "softmax",
            RowFn::LogSoftmax => "log_softmax",
            RowFn::Softmin => "softmin",
        }
    }

    /// `y = f(x)` row by row, for `x` of shape `[x.len() / cols, cols]`.
    ///
    /// Panics if `y` differs from `x` in length, or `cols` does not divide it (`cols == 0` is
    /// allowed only for empty buffers).
    #[track_caller]
    pub fn forward<E: Element>(self, x: &[E], cols: usize, y: &mut [E]) {
        Rows::new(self).forward(x, cols, y)
    }

    /// [`forward`](RowFn::forward) with the output in the input's buffer.
    #[track_caller]
    pub fn forward_inplace<E: Element>(self, xy: &mut [E], cols: usize) {
        Rows::new(self).forward_inplace(xy, cols)
    }

    /// [`forward`](RowFn::forward), except that a fully masked row (every element −inf; for
    /// softmin +inf) gives zeros (log_softmax: −inf) instead of NaN, as attention needs
    /// (rten-vecmath's `flush_nans_to_zero`). A row holding a NaN still gives NaN.
    #[track_caller]
    pub fn forward_masked<E: Element>(self, x: &[E], cols: usize, y: &mut [E]) {
        Rows::new(self).masked_rows_zero(true).forward(x, cols, y)
    }

    /// [`forward_masked`](RowFn::forward_masked) with the output in the input's buffer.
    #[track_caller]
    pub fn forward_masked_inplace<E: Element>(self, xy: &mut [E], cols: usize) {
        Rows::new(self).masked_rows_zero(true).forward_inplace(xy, cols)
    }

    /// The backward from the output: `dx` from `y = f(x)` and the incoming gradient `dy`, row by
    /// row (formulas on [`RowFn`]).
    ///
    /// Panics if the three lengths differ, or `cols` does not divide them.
    #[track_caller]
    pub fn backward<E: Element>(self, y: &[E], dy: &[E], cols: usize, dx: &mut [E]) {
        Rows::new(self).backward(y, dy, cols, dx)
    }

    /// [`backward`](RowFn::backward) with `dx` written over `dy`.
    #[track_caller]
    pub fn backward_inplace<E: Element>(self, y: &[E], dy_dx: &mut [E], cols: usize) {
        Rows::new(self).backward_inplace(y, dy_dx, cols)
    }
}

/// A row function with its options: whether fully masked rows give zeros
/// ([`RowFn::forward_masked`]) and whether a call may run on rayon's threads.
///
/// ```
/// use actkern::{RowFn, Rows};
/// let x = [f32::NEG_INFINITY; 4];
/// let mut y = [1.0f32; 4];
/// // Zeros for fully masked rows, always on the calling thread.
/// Rows::new(RowFn::Softmax).masked_rows_zero(true).parallel(false).forward(&x, 2, &mut y);
/// assert_eq!(y, [0.0; 4]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rows {
    /// Which function.
    pub function: RowFn,
    /// A row of only −inf (softmin: +inf) gives 0 (log_softmax: −inf) instead of NaN.
    pub masked_rows_zero: bool,
    /// Calls of at least [`PARALLEL_THRESHOLD`](crate::PARALLEL_THRESHOLD) elements run their
    /// rows on rayon's current pool (true by default); false keeps every call on the calling
    /// thread. The results are the same bits either way.
    pub parallel: bool,
}

impl Rows {
    /// `function` with PyTorch's semantics (no masking) and threads allowed.
    pub const fn new(function: RowFn) -> Rows {
        Rows {
            function,
            masked_rows_zero: false,
            parallel: true,
        }
    }

    /// With [`masked_rows_zero`](Rows::masked_rows_zero) set to `on`.
    pub const fn masked_rows_zero(self, on: bool) -> Rows {
        Rows {
            masked_rows_zero: on,
            ..self
        }
    }

    /// With [`parallel`](Rows::parallel) set to `on`.
    pub const fn parallel(self, on: bool) -> Rows {
        Rows { parallel: on, ..self }
    }

    /// As [`RowFn::forward`].
    #[track_caller]
    pub fn forward<E: Element>(&self, x: &[E], cols: usize, y: &mut [E]) {
        check_len("x", x.len(), "y", y.len());
        let rows = check_rows("x", x.len(), cols);
        execute(self, Bufs::Fwd { x, y }, rows, cols);
    }

    /// As [`RowFn::forward_inplace`].
    #[track_caller]
    pub fn forward_inplace<E: Element>(&self, xy: &mut [E], cols: usize) {
        let rows = check_rows("xy", xy.len(), cols);
        execute(self, Bufs::FwdInPlace { xy }, rows, cols);
    }

    /// As [`RowFn::backward`] (the masking option does not apply).
    #[track_caller]
    pub fn backward<E: Element>(&self, y: &[E], dy: &[E], cols: usize, dx: &mut [E]) {
        check_len("y", y.len(), "dy", dy.len());
        check_len("y", y.len(), "dx", dx.len());
        let rows = check_rows("y", y.len(), cols);
        execute(self, Bufs::Bwd { y, dy, dx }, rows, cols);
    }

    /// As [`RowFn::backward_inplace`].
    #[track_caller]
    pub fn backward_inplace<E: Element>(&self, y: &[E], dy_dx: &mut [E], cols: usize) {
        check_len("y", y.len(), "dy_dx", dy_dx.len());
        let rows = check_rows("y", y.len(), cols);
        execute(self, Bufs::BwdInPlace { y, dy_dx }, rows, cols);
    }
}

/// softmax over rows of `cols`: yᵢ = e^{xᵢ − m} / Σⱼ e^{xⱼ − m}, m the row's maximum.
///
/// Rows of a NaN, of a +inf or of only −inf give NaN, as in PyTorch (CONTRACT §7; for zeros on
/// fully masked rows see [`softmax_masked_rows_zero`]). Within 3 ULP of the exact value
/// (CONTRACT §7). Runs on rayon's pool above [`PARALLEL_THRESHOLD`](crate::PARALLEL_THRESHOLD)
/// elements. Panics if `y` differs from `x` in length, or `cols` does not divide it.
///
/// ```
/// let x = [1.0f32, 1.0, f32::NEG_INFINITY, 0.0];
/// let mut y = [0.0f32; 4];
/// actkern::softmax(&x, 2, &mut y);
/// assert_eq!(y, [0.5, 0.5, 0.0, 1.0]);
/// ```
#[track_caller]
pub fn softmax<E: Element>(x: &[E], cols: usize, y: &mut [E]) {
    RowFn::Softmax.forward(x, cols, y)
}

/// [`softmax`] with the output in the input's buffer.
///
/// ```
/// let mut xy = [0.0f32, 0.0];
/// actkern::softmax_inplace(&mut xy, 2);
/// assert_eq!(xy, [0.5, 0.5]);
/// ```
#[track_caller]
pub fn softmax_inplace<E: Element>(xy: &mut [E], cols: usize) {
    RowFn::Softmax.forward_inplace(xy, cols)
}

/// [`softmax`], except that a row of only −inf (fully masked) gives zeros instead of NaN.
///
/// ```
/// let x = [f32::NEG_INFINITY, f32::NEG_INFINITY, 2.0, f32::NEG_INFINITY];
/// let mut y = [1.0f32; 4];
/// actkern::softmax_masked_rows_zero(&x, 2, &mut y);
/// assert_eq!(y, [0.0, 0.0, 1.0, 0.0]);
/// ```
#[track_caller]
pub fn softmax_masked_rows_zero<E: Element>(x: &[E], cols: usize, y: &mut [E]) {
    RowFn::Softmax.forward_masked(x, cols, y)
}

/// log_softmax over rows of `cols`: yᵢ = (xᵢ − m) − ln Σⱼ e^{xⱼ − m}, m the row's maximum.
///
/// Accurate at the maximum, where y = −ln(1 + Σ_{others}) is tiny (CONTRACT §7). Panics as
/// [`softmax`].
///
/// ```
/// let x = [0.0f32, -20.0];
/// let mut y = [0.0f32; 2];
/// actkern::log_softmax(&x, 2, &mut y);
/// // y₀ = −ln(1 + e⁻²⁰) ≈ −e⁻²⁰ = −2.06e−9, not the 0 of a ln of a sum rounded to 1.
/// assert!((y[0] / -(-20.0f32).exp() - 1.0).abs() < 1e-6);
/// assert_eq!(y[1], -20.0);
/// ```
#[track_caller]
pub fn log_softmax<E: Element>(x: &[E], cols: usize, y: &mut [E]) {
    RowFn::LogSoftmax.forward(x, cols, y)
}

/// [`log_softmax`] with the output in the input's buffer.
#[track_caller]
pub fn log_softmax_inplace<E: Element>(xy: &mut [E], cols: usize) {
    RowFn::LogSoftmax.forward_inplace(xy, cols)
}

/// softmin over rows of `cols`: softmax of −x, yᵢ = e^{m − xᵢ} / Σⱼ e^{m − xⱼ}, m the row's
/// minimum. Panics as [`softmax`].
///
/// ```
/// let mut y = [0.0f32; 2];
/// actkern::softmin(&[0.0f32, f32::INFINITY], 2, &mut y);
/// assert_eq!(y, [1.0, 0.0]);
/// ```
#[track_caller]
pub fn softmin<E: Element>(x: &[E], cols: usize, y: &mut [E]) {
    RowFn::Softmin.forward(x, cols, y)
}

/// [`softmin`] with the output in the input's buffer.
#[track_caller]
pub fn softmin_inplace<E: Element>(xy: &mut [E], cols: usize) {
    RowFn::Softmin.forward_inplace(xy, cols)
}

/// The backward of [`softmax`] from its output: dxᵢ = yᵢ·(dyᵢ − Σⱼ dyⱼ·yⱼ).
///
/// Panics if the lengths differ or `cols` does not divide them.
///
/// ```
/// let y = [0.25f32, 0.75];
/// let mut dx = [0.0f32; 2];
/// actkern::softmax_backward(&y, &[1.0, 0.0], 2, &mut dx);
/// assert_eq!(dx, [0.1875, -0.1875]);
/// ```
#[track_caller]
pub fn softmax_backward<E: Element>(y: &[E], dy: &[E], cols: usize, dx: &mut [E]) {
    RowFn::Softmax.backward(y, dy, cols, dx)
}

/// The backward of [`log_softmax`] from its output: dxᵢ = dyᵢ − e^{yᵢ}·Σⱼ dyⱼ.
///
/// ```
/// let y = [0.25f32.ln(), 0.75f32.ln()];
/// let mut dx = [0.0f32; 2];
/// actkern::log_softmax_backward(&y, &[1.0, 0.0], 2, &mut dx);
/// assert!((dx[0] - 0.75).abs() < 1e-7 && (dx[1] + 0.75).abs() < 1e-7);
/// ```
#[track_caller]
pub fn log_softmax_backward<E: Element>(y: &[E], dy: &[E], cols: usize, dx: &mut [E]) {
    RowFn::LogSoftmax.backward(y, dy, cols, dx)
}

/// The backward of [`softmin`] from its output: dxᵢ = −yᵢ·(dyᵢ − Σⱼ dyⱼ·yⱼ).
///
/// ```
/// let y = [0.25f32, 0.75];
/// let mut dx = [0.0f32; 2];
/// actkern::softmin_backward(&y, &[1.0, 0.0], 2, &mut dx);
/// assert_eq!(dx, [-0.1875, 0.1875]);
/// ```
#[track_caller]
pub fn softmin_backward<E: Element>(y: &[E], dy: &[E], cols: usize, dx: &mut [E]) {
    RowFn::Softmin.backward(y, dy, cols, dx)
}

#[track_caller]
fn check_len(a_name: &str, a: usize, b_name: &str, b: usize) {
    if a != b {
        panic!("actkern: length mismatch: `{a_name}` has {a} elements but `{b_name}` has {b}");
    }
}

/// The number of rows; panics unless `cols` divides `len` (`cols == 0` only for `len == 0`).
#[track_caller]
fn check_rows(name: &str, len: usize, cols: usize) -> usize {
    if cols == 0 {
        if len != 0 {
            panic!("actkern: `cols` is 0 but `{name}` has {len} elements; rows need cols ≥ 1");
        }
        return 0;
    }
    if !len.is_multiple_of(cols) {
        panic!("actkern: `{name}` has {len} elements, not a whole number of rows of cols = {cols}");
    }
    len / cols
}

/// The buffers of one call, or of one task's rows.
enum Bufs<'a, E> {
    Fwd { x: &'a [E], y: &'a mut [E] },
    FwdInPlace { xy: &'a mut [E] },
    Bwd { y: &'a [E], dy: &'a [E], dx: &'a mut [E] },
    BwdInPlace { y: &'a [E], dy_dx: &'a mut [E] },
}

impl<'a, E: Element> Bufs<'a, E> {
    /// Split into tasks of `len` elements (the last may be shorter).
    fn tasks(self, len: usize) -> Vec<Bufs<'a, E>> {
        match self {
            Bufs::Fwd { x, y } => x
                .chunks(len)
                .zip(y.chunks_mut(len))
                .map(|(x, y)| Bufs::Fwd { x, y })
                .collect(),
            Bufs::FwdInPlace { xy } => xy.chunks_mut(len).map(|xy| Bufs::FwdInPlace { xy }).collect(),
            Bufs::Bwd { y, dy, dx } => y
                .chunks(len)
                .zip(dy.chunks(len))
                .zip(dx.chunks_mut(len))
                .map(|((y, dy), dx)| Bufs::Bwd { y, dy, dx })
                .collect(),
            Bufs::BwdInPlace { y, dy_dx } => y
                .chunks(len)
                .zip(dy_dx.chunks_mut(len))
                .map(|(y, dy_dx)| Bufs::BwdInPlace { y, dy_dx })
                .collect(),
        }
    }
}

/// Runs `f` over the rows of `bufs` on the active backend: on the calling thread below
/// [`PARALLEL_THRESHOLD`](crate::PARALLEL_THRESHOLD) elements, else in tasks of whole rows
/// (at least [`TASK`] elements) on rayon's pool. A row is computed by the same code either way.
fn execute<E: Element>(rows_fn: &Rows, bufs: Bufs<'_, E>, rows: usize, cols: usize) {
    if rows == 0 {
        return;
    }
    let (f, masked) = (rows_fn.function, rows_fn.masked_rows_zero);
    let backend = backend::backend();
    if !rows_fn.parallel || rows * cols < crate::PARALLEL_THRESHOLD || rows == 1 {
        run_rows(backend, f, masked, bufs, cols);
    } else {
        let rows_per_task = TASK.div_ceil(cols);
        bufs.tasks(rows_per_task * cols)
            .into_par_iter()
            .for_each(|task| run_rows(backend, f, masked, task, cols));
    }
}

fn run_rows<E: Element>(backend: Backend, f: RowFn, masked: bool, bufs: Bufs<'_, E>, cols: usize) {
    backend::run(backend, RowsOp { f, masked, bufs, cols });
}

/// One task's rows, for a backend's vector type.
struct RowsOp<'a, E> {
    f: RowFn,
    masked: bool,
    bufs: Bufs<'a, E>,
    cols: usize,
}

impl<E: Element> VectorOp for RowsOp<'_, E> {
    #[inline(always)]
    fn run<V: Vector>(self) {
        let RowsOp { f, masked, bufs, cols } = self;
        if E::IS_F32 {
            // `E` is `f32`: the casts are identities.
            match bufs {
                Bufs::Fwd { x, y } => {
                    let (x, y): (&[f32], &mut [f32]) = (bytemuck::cast_slice(x), bytemuck::cast_slice_mut(y));
                    for (x, y) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
                        forward_row::<V, _>(f, masked, &mut Apart { a: x, b: &[], out: y });
                    }
                }
                Bufs::FwdInPlace { xy } => {
                    for xy in bytemuck::cast_slice_mut::<E, f32>(xy).chunks_exact_mut(cols) {
                        forward_row::<V, _>(f, masked, &mut Over { a: &[], out: xy });
                    }
                }
                Bufs::Bwd { y, dy, dx } => {
                    let (y, dy) = (bytemuck::cast_slice::<E, f32>(y), bytemuck::cast_slice::<E, f32>(dy));
                    let dx = bytemuck::cast_slice_mut::<E, f32>(dx);
                    for ((y, dy), dx) in y
                        .chunks_exact(cols)
                        .zip(dy.chunks_exact(cols))
                        .zip(dx.chunks_exact_mut(cols))
                    {
                        backward_row::<V, _>(f, &mut Apart { a: y, b: dy, out: dx });
                    }
                }
                Bufs::BwdInPlace { y, dy_dx } => {
                    let y = bytemuck::cast_slice::<E, f32>(y);
                    let dy_dx = bytemuck::cast_slice_mut::<E, f32>(dy_dx);
                    for (y, dy_dx) in y.chunks_exact(cols).zip(dy_dx.chunks_exact_mut(cols)) {
                        backward_row::<V, _>(f, &mut Over { a: y, out: dy_dx });
                    }
                }
            }
        } else {
            // 16-bit: each row widened exactly into `f32` scratch, computed there, rounded once.
            let mut a = vec![0.0f32; cols];
            let mut b = vec![0.0f32; cols];
            let widen = |src: &[E], dst: &mut [f32]| {
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = s.to_f32();
                }
            };
            let round = |src: &[f32], dst: &mut [E]| {
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = E::from_f32(*s);
                }
            };
            match bufs {
                Bufs::Fwd { x, y } => {
                    for (x, y) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
                        widen(x, &mut a);
                        forward_row::<V, _>(f, masked, &mut Over { a: &[], out: &mut a });
                        round(&a, y);
                    }
                }
                Bufs::FwdInPlace { xy } => {
                    for xy in xy.chunks_exact_mut(cols) {
                        widen(xy, &mut a);
                        forward_row::<V, _>(f, masked, &mut Over { a: &[], out: &mut a });
                        round(&a, xy);
                    }
                }
                Bufs::Bwd { y, dy, dx } => {
                    for ((y, dy), dx) in y
                        .chunks_exact(cols)
                        .zip(dy.chunks_exact(cols))
                        .zip(dx.chunks_exact_mut(cols))
                    {
                        widen(y, &mut a);
                        widen(dy, &mut b);
                        backward_row::<V, _>(f, &mut Over { a: &a, out: &mut b });
                        round(&b, dx);
                    }
                }
                Bufs::BwdInPlace { y, dy_dx } => {
                    for (y, dy_dx) in y.chunks_exact(cols).zip(dy_dx.chunks_exact_mut(cols)) {
                        widen(y, &mut a);
                        widen(dy_dx, &mut b);
                        backward_row::<V, _>(f, &mut Over { a: &a, out: &mut b });
                        round(&b, dy_dx);
                    }
                }
            }
        }
    }
}

/// One row's buffers: the input of the forward is `x()`; the backward's are `a()` (y) and
/// `b()` (dy); `out()` is the output, which may be one of the inputs' buffer.
trait Row {
    fn len(&self) -> usize;
    /// The forward's input.
    fn x(&self) -> &[f32];
    /// The backward's first input (y).
    fn a(&self) -> &[f32];
    /// The backward's second input (dy).
    fn b(&self) -> &[f32];
    fn out(&mut self) -> &mut [f32];
}

/// Inputs and output in separate buffers.
struct Apart<'r> {
    a: &'r [f32],
    b: &'r [f32],
    out: &'r mut [f32],
}

/// The output over the forward's input (x) or the backward's second input (dy).
struct Over<'r> {
    a: &'r [f32],
    out: &'r mut [f32],
}

impl Row for Apart<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.out.len()
    }
    #[inline(always)]
    fn x(&self) -> &[f32] {
        self.a
    }
    #[inline(always)]
    fn a(&self) -> &[f32] {
        self.a
    }
    #[inline(always)]
    fn b(&self) -> &[f32] {
        self.b
    }
    #[inline(always)]
    fn out(&mut self) -> &mut [f32] {
        self.out
    }
}

impl Row for Over<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.out.len()
    }
    #[inline(always)]
    fn x(&self) -> &[f32] {
        self.out
    }
    #[inline(always)]
    fn a(&self) -> &[f32] {
        self.a
    }
    #[inline(always)]
    fn b(&self) -> &[f32] {
        self.out
    }
    #[inline(always)]
    fn out(&mut self) -> &mut [f32] {
        self.out
    }
}

/// `V::LANES` elements of `s` from `i`, negated for softmin.
#[inline(always)]
fn load<V: Vector, const NEG: bool>(s: &[f32], i: usize) -> V {
    let v = V::load(&s[i..]);
    if NEG { -v } else { v }
}

/// A 16-element block from `i` (fewer at a row's end), negated for softmin, padded with `pad`.
#[inline(always)]
fn tail_block<const NEG: bool>(s: &[f32], i: usize, pad: f32) -> [f32; BLOCK] {
    let mut block = [pad; BLOCK];
    for (b, &v) in block.iter_mut().zip(&s[i..]) {
        *b = if NEG { -v } else { v };
    }
    block
}

/// The largest element of the row (of −x for softmin), NaN ignored; −inf for a row of −inf
/// and NaN. Maxima are exact and order-free, so any grouping gives the same value.
#[inline(always)]
fn row_max<V: Vector, const NEG: bool>(x: &[f32]) -> f32 {
    #[inline(always)]
    fn vmax<V: Vector>(m: V, v: V) -> V {
        V::select(v.gt(m), v, m)
    }
    let (n, l) = (x.len(), V::LANES);
    let low = V::splat(f32::NEG_INFINITY);
    let (mut m0, mut m1, mut m2, mut m3) = (low, low, low, low);
    let mut i = 0;
    while n - i >= 4 * l {
        m0 = vmax(m0, load::<V, NEG>(x, i));
        m1 = vmax(m1, load::<V, NEG>(x, i + l));
        m2 = vmax(m2, load::<V, NEG>(x, i + 2 * l));
        m3 = vmax(m3, load::<V, NEG>(x, i + 3 * l));
        i += 4 * l;
    }
    while n - i >= l {
        m0 = vmax(m0, load::<V, NEG>(x, i));
        i += l;
    }
    let mut lanes = [f32::NEG_INFINITY; MAX_LANES];
    vmax(vmax(m0, m1), vmax(m2, m3)).store(&mut lanes);
    let tail = x[i..].iter().map(|&v| if NEG { -v } else { v });
    lanes[..l]
        .iter()
        .copied()
        .chain(tail)
        .fold(f32::NEG_INFINITY, |m, v| if v > m { v } else { m })
}

/// Blocks summed in `f32` before a [`LaneSums`] is carried into `f64`: 64 terms per lane, so
/// the rounding of the accumulated errors stays below 64²·2⁻⁴⁸ = 2⁻³⁶ of the running sum (of
/// the bias 1 for [`LaneSums::biased`]) per carry, even where every rounding error has the same
/// sign (a row of one value repeated).
const FLUSH_BLOCKS: usize = 64;

/// A compensated sum in [`BLOCK`] virtual lanes: `BLOCK / V::LANES` vectors of running sums
/// and of their accumulated rounding errors, carried into `f64` per lane every
/// [`FLUSH_BLOCKS`] blocks (at the same elements on every backend).
struct LaneSums<V> {
    sum: [V; BLOCK],
    err: [V; BLOCK],
    /// What every lane's running sum starts from (and is carried without): 0, or 1 for
    /// [`LaneSums::add_unit`].
    bias: f32,
    blocks: usize,
    wide_sum: [f64; BLOCK],
    wide_err: [f64; BLOCK],
}

impl<V: Vector> LaneSums<V> {
    #[inline(always)]
    fn new() -> Self {
        Self::starting_at(0.0)
    }

    /// Lanes starting from 1, for terms in [0, 1] only ([`LaneSums::add_unit`]).
    #[inline(always)]
    fn biased() -> Self {
        Self::starting_at(1.0)
    }

    #[inline(always)]
    fn starting_at(bias: f32) -> Self {
        LaneSums {
            sum: [V::splat(bias); BLOCK],
            err: [V::splat(0.0); BLOCK],
            bias,
            blocks: 0,
            wide_sum: [0.0; BLOCK],
            wide_err: [0.0; BLOCK],
        }
    }

    /// Adds `t` (and a known error `t_lo`) into vector `k` of the block: TwoSum keeps what
    /// the addition rounds away.
    #[inline(always)]
    fn add(&mut self, k: usize, t: V, t_lo: V) {
        let s = TwoFloat::two_sum(self.sum[k], t);
        self.sum[k] = s.hi;
        self.err[k] = self.err[k] + (s.lo + t_lo);
    }

    /// Adds a term `t` in [0, 1] (or NaN) to a [`LaneSums::biased`] sum: the running sum is at
    /// least 1 ≥ t, so Dekker's FastTwoSum (three operations instead of TwoSum's six) gives
    /// the rounding error exactly.
    #[inline(always)]
    fn add_unit(&mut self, k: usize, t: V) {
        let s = TwoFloat::fast_two_sum(self.sum[k], t);
        self.sum[k] = s.hi;
        self.err[k] = self.err[k] + s.lo;
    }

    /// Ends a block: every [`FLUSH_BLOCKS`] blocks, the `f32` lanes are carried into `f64`.
    #[inline(always)]
    fn end_block(&mut self) {
        self.blocks += 1;
        if self.blocks == FLUSH_BLOCKS {
            self.flush();
        }
    }

    #[inline(always)]
    fn flush(&mut self) {
        let (mut sum, mut err) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
        for k in 0..BLOCK / V::LANES {
            self.sum[k].store(&mut sum[k * V::LANES..]);
            self.err[k].store(&mut err[k * V::LANES..]);
            self.sum[k] = V::splat(self.bias);
            self.err[k] = V::splat(0.0);
        }
        for j in 0..BLOCK {
            // Exact: the bias and the lane's sum are f32s within a factor 2²⁴ of each other.
            self.wide_sum[j] += f64::from(sum[j]) - f64::from(self.bias);
            self.wide_err[j] += f64::from(err[j]);
        }
        self.blocks = 0;
    }

    /// The total, in `f64`: the lanes' sums, then (when finite) their errors, in lane order.
    #[inline(always)]
    fn total(mut self) -> f64 {
        self.flush();
        let hi: f64 = self.wide_sum.iter().sum();
        if hi.is_finite() {
            hi + self.wide_err.iter().sum::<f64>()
        } else {
            // An infinite or NaN lane: its TwoSum residuals are NaN and mean nothing.
            hi
        }
    }
}

/// `v` as an `f32` pair `hi + lo` (lo = 0 when `hi` is not finite).
fn split_f64(v: f64) -> (f32, f32) {
    let hi = v as f32;
    let lo = if hi.is_finite() {
        (v - f64::from(hi)) as f32
    } else {
        0.0
    };
    (hi, lo)
}

#[inline(always)]
fn forward_row<V: Vector, R: Row>(f: RowFn, masked: bool, row: &mut R) {
    match f {
        RowFn::Softmax => softmax_row::<V, R, false>(masked, row),
        RowFn::Softmin => softmax_row::<V, R, true>(masked, row),
        RowFn::LogSoftmax => log_softmax_row::<V, R>(masked, row),
    }
}

#[inline(always)]
fn backward_row<V: Vector, R: Row>(f: RowFn, row: &mut R) {
    match f {
        RowFn::Softmax => softmax_backward_row::<V, R, false>(row),
        RowFn::Softmin => softmax_backward_row::<V, R, true>(row),
        RowFn::LogSoftmax => log_softmax_backward_row::<V, R>(row),
    }
}

/// A row whose maximum is not finite: NaN everywhere (PyTorch: +inf − +inf, or −inf − −inf,
/// is NaN in every term), except a fully masked one (−inf everywhere, no NaN) when `masked`.
/// Returns false, touching nothing, for a finite maximum.
#[inline(always)]
fn special_row<R: Row>(m: f32, masked: bool, masked_value: f32, row: &mut R) -> bool {
    if m.is_finite() {
        return false;
    }
    let all_masked = m == f32::NEG_INFINITY && !row.x().iter().any(|v| v.is_nan());
    let value = if masked && all_masked { masked_value } else { f32::NAN };
    row.out().fill(value);
    true
}

/// One vector's terms for the max `vm` (`neg_m` = −m): eᵈ (within 1.5 ULP: `exp` of d's
/// leading part, times 1 + its low part); eᵈ with the maxima zeroed; and 1 at the maxima.
#[inline(always)]
fn exp_term<V: Vector>(v: V, vm: V, neg_m: V) -> (V, V, V) {
    let (zero, one) = (V::splat(0.0), V::splat(1.0));
    let d = TwoFloat::two_sum(v, neg_m);
    let e0 = exp(d.hi);
    let e = e0.mul_add(finite_or_zero(d.hi, d.lo), e0);
    let is_max = v.eq(vm);
    (e, V::select(is_max, zero, e), V::select(is_max, one, zero))
}

/// e / (s_hi + s_lo) from `inv` ≈ 1/Σ: the product q = e·inv corrected by its residual
/// e − q·Σ (the FMA makes e − q·s_hi exact), so that the quotient is rounded about once.
#[inline(always)]
fn divide<V: Vector>(e: V, inv: V, s_hi: V, s_lo: V) -> V {
    let q = e * inv;
    let residual = (-q).mul_add(s_lo, (-q).mul_add(s_hi, e));
    residual.mul_add(inv, q)
}

/// log_softmax's y = (x − m) − ln Σ given −m and −ln Σ = l_hi + l_lo: d = x − m ≤ 0 as an
/// exact pair, and ln Σ ≥ 0, so a sum of two non-positive pairs without cancellation, rounded
/// once from hi + (lo parts).
#[inline(always)]
fn log_term<V: Vector>(x: V, neg_m: V, l_hi: V, l_lo: V) -> V {
    let d = TwoFloat::two_sum(x, neg_m);
    let s = TwoFloat::two_sum(d.hi, l_hi);
    s.hi + finite_or_zero(s.hi, (s.lo + finite_or_zero(d.hi, d.lo)) + l_lo)
}

/// For each element v of the row (negated for softmin) with d = v − m as an exact pair: eᵈ
/// (stored into the output when `STORE`), summed over the elements that are not maxima.
/// Returns (that sum, the number of maxima), each term of a maximum being exactly 1.
// `k` is the vector of the block: it indexes the sums, the counts and the row at once.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn exp_sum<V: Vector, R: Row, const NEG: bool, const STORE: bool>(m: f32, row: &mut R) -> (f64, f64) {
    let n = row.len();
    let (vm, neg_m, zero) = (V::splat(m), V::splat(-m), V::splat(0.0));
    // softmax divides by Σ ≥ 1, so an error relative to 1 is all it needs, and the lanes can
    // start from 1 and take FastTwoSum (1.13× in cache); log_softmax needs Σ − 1 to its own
    // relative accuracy (ln Σ at the maximum is about Σ − 1 when that is small), so its lanes
    // start from 0 with TwoSum.
    let mut sums = if STORE {
        LaneSums::<V>::biased()
    } else {
        LaneSums::<V>::new()
    };
    // Maxima per lane: exact below 2²⁴ per lane, so for rows up to 2²⁸ elements.
    let mut count = [zero; BLOCK];
    let mut b = 0;
    while n - b >= BLOCK {
        for k in 0..BLOCK / V::LANES {
            let i = b + k * V::LANES;
            let (e, t, c) = exp_term(load::<V, NEG>(row.x(), i), vm, neg_m);
            if STORE {
                e.store(&mut row.out()[i..]);
            }
            if STORE {
                sums.add_unit(k, t);
            } else {
                sums.add(k, t, zero);
            }
            count[k] = count[k] + c;
        }
        sums.end_block();
        b += BLOCK;
    }
    if b < n {
        // The last block, padded with −inf: e⁻ⁱⁿᶠ = 0 adds nothing to any lane.
        let block = tail_block::<NEG>(row.x(), b, f32::NEG_INFINITY);
        let mut out = [0.0f32; BLOCK];
        for k in 0..BLOCK / V::LANES {
            let (e, t, c) = exp_term(V::load(&block[k * V::LANES..]), vm, neg_m);
            e.store(&mut out[k * V::LANES..]);
            if STORE {
                sums.add_unit(k, t);
            } else {
                sums.add(k, t, zero);
            }
            count[k] = count[k] + c;
        }
        if STORE {
            row.out()[b..].copy_from_slice(&out[..n - b]);
        }
    }
    let mut counts = [0.0f32; BLOCK];
    for (k, c) in count.iter().take(BLOCK / V::LANES).enumerate() {
        c.store(&mut counts[k * V::LANES..]);
    }
    (sums.total(), counts.iter().map(|&c| f64::from(c)).sum())
}

/// softmax (softmin when `NEG`): m, then eᵈ into the output with its sum, then the output
/// divided by the sum in place.
#[inline(always)]
fn softmax_row<V: Vector, R: Row, const NEG: bool>(masked: bool, row: &mut R) {
    let m = row_max::<V, NEG>(row.x());
    if special_row(m, masked, 0.0, row) {
        return;
    }
    let (others, maxima) = exp_sum::<V, R, NEG, true>(m, row);
    // Σ ≥ 1 (a maximum's term is 1); NaN when the row holds a NaN, which then spreads to every
    // output as in PyTorch.
    let total = maxima + others;
    let (s_hi, s_lo) = split_f64(total);
    let inv = V::splat((1.0 / total) as f32);
    let (s_hi, s_lo) = (V::splat(s_hi), V::splat(s_lo));
    // e / (s_hi + s_lo): the product q = e·(1/Σ), corrected by its residual e − q·Σ (the FMA
    // makes e − q·s_hi exact), so that the quotient is rounded about once.
    let n = row.len();
    let mut i = 0;
    while n - i >= V::LANES {
        let y = divide(V::load(&row.out()[i..]), inv, s_hi, s_lo);
        y.store(&mut row.out()[i..]);
        i += V::LANES;
    }
    if i < n {
        let y = divide(V::load_partial(&row.out()[i..]), inv, s_hi, s_lo);
        y.store_partial(&mut row.out()[i..]);
    }
}

/// log_softmax: m, then the sum of eᵈ, then y = d − ln Σ from x again.
#[inline(always)]
fn log_softmax_row<V: Vector, R: Row>(masked: bool, row: &mut R) {
    let m = row_max::<V, false>(row.x());
    if special_row(m, masked, f32::NEG_INFINITY, row) {
        return;
    }
    let (others, maxima) = exp_sum::<V, R, false, false>(m, row);
    // ln Σ = ln(1 + (Σ − 1)) with Σ − 1 = (maxima − 1) + others exact to f64 precision: at the
    // maximum y = −ln Σ keeps its relative accuracy however small the other terms are.
    let (l_hi, l_lo) = split_f64(((maxima - 1.0) + others).ln_1p());
    let (l_hi, l_lo, neg_m) = (V::splat(-l_hi), V::splat(-l_lo), V::splat(-m));
    // y = d − ln Σ with d = x − m ≤ 0 and ln Σ ≥ 0: a sum of two non-positive pairs, no
    // cancellation; rounded once from hi + (lo parts).
    let n = row.len();
    let mut i = 0;
    while n - i >= V::LANES {
        let y = log_term(V::load(&row.x()[i..]), neg_m, l_hi, l_lo);
        y.store(&mut row.out()[i..]);
        i += V::LANES;
    }
    if i < n {
        let y = log_term(V::load_partial(&row.x()[i..]), neg_m, l_hi, l_lo);
        y.store_partial(&mut row.out()[i..]);
    }
}

/// The compensated sum over the row of g(a, b) given as a pair (value, its known error), in
/// [`BLOCK`] virtual lanes (tails padded with zeros, whose terms are 0).
#[inline(always)]
fn row_sum<V: Vector, R: Row, G: Fn(V, V) -> (V, V)>(row: &R, g: G) -> f64 {
    let n = row.len();
    let mut sums = LaneSums::<V>::new();
    let mut b = 0;
    while n - b >= BLOCK {
        for k in 0..BLOCK / V::LANES {
            let i = b + k * V::LANES;
            let (t, t_lo) = g(V::load(&row.a()[i..]), V::load(&row.b()[i..]));
            sums.add(k, t, t_lo);
        }
        sums.end_block();
        b += BLOCK;
    }
    if b < n {
        let (a, bb) = (
            tail_block::<false>(row.a(), b, 0.0),
            tail_block::<false>(row.b(), b, 0.0),
        );
        for k in 0..BLOCK / V::LANES {
            let (t, t_lo) = g(V::load(&a[k * V::LANES..]), V::load(&bb[k * V::LANES..]));
            sums.add(k, t, t_lo);
        }
    }
    sums.total()
}

/// The element-wise second pass of a backward: out = h(a, b).
#[inline(always)]
fn backward_map<V: Vector, R: Row, H: Fn(V, V) -> V>(row: &mut R, h: H) {
    let n = row.len();
    let mut i = 0;
    while n - i >= V::LANES {
        let dx = h(V::load(&row.a()[i..]), V::load(&row.b()[i..]));
        dx.store(&mut row.out()[i..]);
        i += V::LANES;
    }
    if i < n {
        let dx = h(V::load_partial(&row.a()[i..]), V::load_partial(&row.b()[i..]));
        dx.store_partial(&mut row.out()[i..]);
    }
}

/// dx = y·(dy − Σ dy·y) (negated for softmin). The products are summed with their exact
/// rounding errors (FMA); dy − Σ is formed as a pair, so only the final product rounds.
#[inline(always)]
fn softmax_backward_row<V: Vector, R: Row, const NEG: bool>(row: &mut R) {
    let total = row_sum::<V, R, _>(
        row,
        #[inline(always)]
        |y, dy| {
            let p = dy * y;
            (p, dy.mul_add(y, -p))
        },
    );
    let (s_hi, s_lo) = split_f64(total);
    let (neg_s_hi, neg_s_lo) = (V::splat(-s_hi), V::splat(-s_lo));
    backward_map::<V, R, _>(
        row,
        #[inline(always)]
        |y, dy| {
            let g = TwoFloat::two_sum(dy, neg_s_hi);
            let g_lo = finite_or_zero(g.hi, g.lo + neg_s_lo);
            let dx = y.mul_add(g.hi, y * g_lo);
            if NEG { -dx } else { dx }
        },
    );
}

/// dx = dy − e^y·Σ dy: Σ dy compensated, e^y as a pair ([`exp_pair`]), the product e^y·Σ as a
/// pair, and the difference rounded once.
#[inline(always)]
fn log_softmax_backward_row<V: Vector, R: Row>(row: &mut R) {
    let total = row_sum::<V, R, _>(
        row,
        #[inline(always)]
        |_, dy| (dy, V::splat(0.0)),
    );
    let (t_hi, t_lo) = split_f64(total);
    let (t_hi, t_lo, one) = (V::splat(t_hi), V::splat(t_lo), V::splat(1.0));
    backward_map::<V, R, _>(
        row,
        #[inline(always)]
        |y, dy| {
            let e = exp_pair(TwoFloat::exact(y), one);
            let p = e.hi * t_hi;
            let p_lo = e.hi.mul_add(t_hi, -p) + e.hi.mul_add(t_lo, e.lo * t_hi);
            let r = TwoFloat::two_sum(dy, -p);
            r.hi + finite_or_zero(r.hi, r.lo - p_lo)
        },
    );
}
