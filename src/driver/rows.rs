//! The loops of the row-shaped operations: the halves layout of gated activations, bias +
//! activation over [rows, cols], prelu over [outer, C, inner], and the column (or channel) sums
//! of their gradients.
//!
//! Rows are grouped into tasks of a fixed number of rows, about [`CHUNK`] elements each: a
//! function of the shape alone, never of the thread count. Tasks run on rayon above
//! [`PARALLEL_THRESHOLD`]. A sum over rows (dbias, dweight) is taken in `f64` within a task, in
//! row order, and the tasks' sums are added in a binary tree fixed by the task count, so every
//! thread count gives the same bits.

use super::{CHUNK, PARALLEL_THRESHOLD, VectorFn, map_fn};
use crate::Apply;
use crate::Serial;
use crate::apply::Call;
use crate::backend::view::{In, Io, Out};
use crate::backend::{self, Backend, Vector};
use crate::driver::{BinaryFn, Task};
use crate::element::Element;

/// Elements per block of bias + activation: the sum x + bias is written to a block this long
/// and the activation runs on it while it sits in L1 (16 KiB of `f32`).
const BLOCK: usize = 4096;

/// Rows at least this long run bias + activation in one pass per row, the sum formed in the
/// registers; shorter rows, for which a call per row would cost more than the pass it saves,
/// go through an L1 block of sums.
const FUSED_ROW: usize = 256;

/// Rows per task for rows of `row_len` elements.
fn rows_per_task(row_len: usize) -> usize {
    (CHUNK / row_len.max(1)).max(1)
}

/// Whether a call of `len` elements is split across rayon's threads.
fn in_parallel(parallel: bool, len: usize) -> bool {
    parallel && len >= PARALLEL_THRESHOLD && rayon::current_num_threads() > 1
}

/// Runs `task` on every group of `task_len` elements of `bufs` (the last may be shorter), on
/// rayon when `parallel`.
fn for_tasks<B: Split>(bufs: B, task_len: usize, parallel: bool, task: &(impl Fn(B) + Sync)) {
    let tasks = bufs.len().div_ceil(task_len.max(1));
    fn go<B: Split>(bufs: B, tasks: usize, task_len: usize, parallel: bool, task: &(impl Fn(B) + Sync)) {
        if tasks <= 1 {
            task(bufs)
        } else {
            let mid = tasks / 2;
            let (l, r) = bufs.split_at(mid * task_len);
            if parallel {
                rayon::join(
                    || go(l, mid, task_len, parallel, task),
                    || go(r, tasks - mid, task_len, parallel, task),
                );
            } else {
                go(l, mid, task_len, parallel, task);
                go(r, tasks - mid, task_len, parallel, task);
            }
        }
    }
    go(bufs, tasks, task_len, parallel, task)
}

/// As [`for_tasks`], returning the elementwise sum of every task's `f64` vector, added in a
/// tree fixed by the task count (so the same bits on any number of threads).
fn sum_tasks<B: Split>(bufs: B, task_len: usize, parallel: bool, task: &(impl Fn(B) -> Vec<f64> + Sync)) -> Vec<f64> {
    let tasks = bufs.len().div_ceil(task_len.max(1));
    fn go<B: Split>(
        bufs: B,
        tasks: usize,
        task_len: usize,
        parallel: bool,
        task: &(impl Fn(B) -> Vec<f64> + Sync),
    ) -> Vec<f64> {
        if tasks <= 1 {
            return task(bufs);
        }
        let mid = tasks / 2;
        let (l, r) = bufs.split_at(mid * task_len);
        let (mut a, b) = if parallel {
            rayon::join(
                || go(l, mid, task_len, parallel, task),
                || go(r, tasks - mid, task_len, parallel, task),
            )
        } else {
            (
                go(l, mid, task_len, parallel, task),
                go(r, tasks - mid, task_len, parallel, task),
            )
        };
        for (a, b) in a.iter_mut().zip(b) {
            *a += b;
        }
        a
    }
    go(bufs, tasks, task_len, parallel, task)
}

/// Buffers of one call that split at an element index (of the first buffer; the others split
/// in proportion), so that tasks get disjoint parts.
trait Split: Send + Sized {
    fn len(&self) -> usize;
    fn split_at(self, mid: usize) -> (Self, Self);
}

/// An input, an optional second input (absent: it is the output's buffer, in place) and an
/// output, of lengths `ratio_in · n`, `n`, `n` for a split at `ratio_in · mid`; plus the index
/// of the first element, for tasks that need their position (prelu's channels).
struct Bufs<'a, A, B, Y> {
    a: &'a [A],
    b: Option<&'a [B]>,
    y: &'a mut [Y],
    /// Elements of `a` per element of `b` and `y` (2 for the halves layout, else 1).
    ratio: usize,
    start: usize,
}

impl<A: Sync, B: Sync, Y: Send> Split for Bufs<'_, A, B, Y> {
    fn len(&self) -> usize {
        self.a.len()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let out_mid = mid / self.ratio;
        let (a0, a1) = self.a.split_at(mid);
        let (b0, b1) = match self.b {
            Some(b) => {
                let (b0, b1) = b.split_at(out_mid);
                (Some(b0), Some(b1))
            }
            None => (None, None),
        };
        let (y0, y1) = self.y.split_at_mut(out_mid);
        let ratio = self.ratio;
        (
            Bufs {
                a: a0,
                b: b0,
                y: y0,
                ratio,
                start: self.start,
            },
            Bufs {
                a: a1,
                b: b1,
                y: y1,
                ratio,
                start: self.start + mid,
            },
        )
    }
}

/// Two mutable buffers of equal length split alike (the in-place halves backward, whose
/// gradient has x's shape, with dout at half its length).
struct InPlacePair<'a, E> {
    xy: &'a mut [E],
    dout: &'a [E],
}

impl<E: Element> Split for InPlacePair<'_, E> {
    fn len(&self) -> usize {
        self.xy.len()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (x0, x1) = self.xy.split_at_mut(mid);
        let (d0, d1) = self.dout.split_at(mid / 2);
        (InPlacePair { xy: x0, dout: d0 }, InPlacePair { xy: x1, dout: d1 })
    }
}

/// A forward of the halves layout: `f(a, b)` per row, `a` and `b` the two halves of a row of
/// `x` ([rows, 2·cols]), into `out` ([rows, cols]).
pub(crate) fn halves_forward<E, F>(x: &[E], cols: usize, out: &mut [E], f: &F, parallel: bool)
where
    E: Element,
    F: for<'a> VectorFn<(In<'a, E>, In<'a, E>), (Out<'a, E>,)>,
{
    if cols == 0 {
        return;
    }
    let backend = backend::backend();
    let bufs = Bufs::<E, E, E> {
        a: x,
        b: None,
        y: out,
        ratio: 2,
        start: 0,
    };
    let task_len = rows_per_task(2 * cols) * 2 * cols;
    for_tasks(bufs, task_len, in_parallel(parallel, x.len()), &|t| {
        for (row, out) in t.a.chunks_exact(2 * cols).zip(t.y.chunks_exact_mut(cols)) {
            let (a, b) = row.split_at(cols);
            map_fn(backend, Io::binary(a, b, out), f);
        }
    })
}

/// A backward of the halves layout: `(da, db) = f(a, b, dout)` per row into the halves of
/// `dx`'s row, or, with `dx` absent, into `x` itself.
pub(crate) fn halves_backward<E, F>(x: &[E], dout: &[E], cols: usize, dx: &mut [E], f: &F, parallel: bool)
where
    E: Element,
    F: for<'a> VectorFn<(In<'a, E>, In<'a, E>, In<'a, E>), (Out<'a, E>, Out<'a, E>)>,
{
    if cols == 0 {
        return;
    }
    let backend = backend::backend();
    let bufs = Bufs::<E, E, E> {
        a: x,
        b: Some(dout),
        y: dx,
        ratio: 2,
        start: 0,
    };
    // `y` (dx) has x's length here, so it splits at `mid`, not `mid / 2`: split it by hand.
    let task_len = rows_per_task(2 * cols) * 2 * cols;
    let tasks = HalvesGrad(bufs);
    for_tasks(tasks, task_len, in_parallel(parallel, x.len()), &|t| {
        let HalvesGrad(t) = t;
        let dout = t.b.unwrap_or(&[]);
        for ((row, dout), dx) in
            t.a.chunks_exact(2 * cols)
                .zip(dout.chunks_exact(cols))
                .zip(t.y.chunks_exact_mut(2 * cols))
        {
            let (a, b) = row.split_at(cols);
            let (da, db) = dx.split_at_mut(cols);
            map_fn(backend, Io::ternary_pair(a, b, dout, da, db), f);
        }
    })
}

/// [`Bufs`] of the halves backward: `a` (x) and `y` (dx) have one length, `b` (dout) half.
struct HalvesGrad<'a, E>(Bufs<'a, E, E, E>);

impl<E: Element> Split for HalvesGrad<'_, E> {
    fn len(&self) -> usize {
        self.0.a.len()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let Bufs { a, b, y, .. } = self.0;
        let (a0, a1) = a.split_at(mid);
        let (b0, b1) = b.unwrap_or(&[]).split_at(mid / 2);
        let (y0, y1) = y.split_at_mut(mid);
        let part = |a, b, y| {
            HalvesGrad(Bufs {
                a,
                b: Some(b),
                y,
                ratio: 2,
                start: 0,
            })
        };
        (part(a0, b0, y0), part(a1, b1, y1))
    }
}

/// [`halves_backward`] with the gradient written over `x` (`x_dx`).
pub(crate) fn halves_backward_in_place<E, F>(x_dx: &mut [E], dout: &[E], cols: usize, f: &F, parallel: bool)
where
    E: Element,
    F: for<'a> VectorFn<(In<'a, E>, In<'a, E>, In<'a, E>), (Out<'a, E>, Out<'a, E>)>,
{
    if cols == 0 {
        return;
    }
    let backend = backend::backend();
    let len = x_dx.len();
    let task_len = rows_per_task(2 * cols) * 2 * cols;
    for_tasks(
        InPlacePair { xy: x_dx, dout },
        task_len,
        in_parallel(parallel, len),
        &|t| {
            for (row, dout) in t.xy.chunks_exact_mut(2 * cols).zip(t.dout.chunks_exact(cols)) {
                let (a_da, b_db) = row.split_at_mut(cols);
                map_fn(backend, Io::ternary_pair_in_place(a_da, b_db, dout), f);
            }
        },
    )
}

/// `a + b`, rounded once: the sum x + bias.
struct Add;

impl<'a, A: Element, B: Element, Y: Element> VectorFn<(In<'a, A>, In<'a, B>), (Out<'a, Y>,)> for Add {
    #[inline(always)]
    fn apply<V: Vector>(&self, (a, b): (V, V)) -> V {
        a + b
    }
}

/// The value itself: converts between element types (rounding once to nearest-even when the
/// output is 16-bit).
struct Convert;

impl<'a, A: Element, Y: Element> VectorFn<(In<'a, A>,), (Out<'a, Y>,)> for Convert {
    #[inline(always)]
    fn apply<V: Vector>(&self, x: V) -> V {
        x
    }
}

/// The blocks of a [rows, cols] buffer for bias + activation: runs `block(first_col, rows,
/// len)` over consecutive ranges of `len` elements that are either whole rows (`rows` of them,
/// `first_col` 0) or part of one row (from column `first_col`, `rows` = 1), each at most
/// [`BLOCK`] long unless a row is.
fn for_blocks(len: usize, cols: usize, mut block: impl FnMut(usize, usize, usize, usize)) {
    let mut start = 0;
    while start < len {
        if cols <= BLOCK {
            let rows = (BLOCK / cols).min((len - start) / cols);
            block(start, 0, rows, rows * cols);
            start += rows * cols;
        } else {
            let col = start % cols;
            let seg = BLOCK.min(cols - col);
            block(start, col, 1, seg);
            start += seg;
        }
    }
}

/// `y = act(x + bias[j])` over [rows, cols] (`x` absent: in place over `y`). Rows of at least
/// [`FUSED_ROW`] are one pass each; shorter ones are summed into a block, in `f32`, and the
/// activation runs on the block in place while it is in L1 (for `f32` buffers the block is
/// `y`'s own memory).
pub(crate) fn forward_bias<A: Apply + Sync + ?Sized, E: Element>(
    act: &A,
    x: Option<&[E]>,
    bias: &[E],
    y: &mut [E],
    parallel: bool,
) {
    let cols = bias.len();
    if cols == 0 || y.is_empty() {
        return;
    }
    let backend = backend::backend();
    let len = y.len();
    let bufs = Bufs::<E, E, E> {
        a: x.unwrap_or(&[]),
        b: None,
        y,
        ratio: 1,
        start: 0,
    };
    let bufs = ByOutput(bufs);
    let task_len = rows_per_task(cols) * cols;
    for_tasks(
        bufs,
        task_len,
        in_parallel(parallel && act.allows_threads(), len),
        &|t| {
            let ByOutput(t) = t;
            let x = (!t.a.is_empty()).then_some(t.a);
            forward_bias_task(act, backend, x, bias, t.y)
        },
    )
}

fn forward_bias_task<A: Apply + ?Sized, E: Element>(
    act: &A,
    backend: Backend,
    x: Option<&[E]>,
    bias: &[E],
    y: &mut [E],
) {
    let cols = bias.len();
    if cols >= FUSED_ROW {
        // One pass per row: f(x + bias) in the registers ([`BinaryFn::ForwardBias`]).
        for (r, y) in y.chunks_exact_mut(cols).enumerate() {
            let io = match x {
                Some(x) => Io::binary(&x[r * cols..][..cols], bias, y),
                None => Io::binary_in_place_first(y, bias),
            };
            let _ = act.run(Call::new(&Serial(act), Task::Binary(BinaryFn::ForwardBias, io)));
        }
        return;
    }
    let mut sum = [0.0f32; BLOCK];
    for_blocks(y.len(), cols, |start, col, rows, len| {
        let bias = &bias[col..col + len / rows];
        let y = &mut y[start..start + len];
        if E::IS_F32 {
            for (r, y) in y.chunks_exact_mut(len / rows).enumerate() {
                match x {
                    Some(x) => {
                        let x = &x[start + r * (len / rows)..][..len / rows];
                        map_fn(backend, Io::binary(x, bias, y), &Add)
                    }
                    None => map_fn(backend, Io::binary_in_place_first(y, bias), &Add),
                }
            }
            Serial(act).forward_inplace(y);
        } else {
            let sum = &mut sum[..len];
            for (r, s) in sum.chunks_exact_mut(len / rows).enumerate() {
                let x: &[E] = match x {
                    Some(x) => &x[start + r * (len / rows)..][..len / rows],
                    None => &y[r * (len / rows)..][..len / rows],
                };
                map_fn(backend, Io::binary(x, bias, s), &Add);
            }
            Serial(act).forward_inplace(sum);
            map_fn(backend, Io::unary(&*sum, y), &Convert);
        }
    });
}

/// [`Bufs`] split by the output's length (`a` may be empty: in place).
struct ByOutput<'a, E>(Bufs<'a, E, E, E>);

impl<E: Element> Split for ByOutput<'_, E> {
    fn len(&self) -> usize {
        self.0.y.len()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let Bufs { a, b, y, start, .. } = self.0;
        let (a0, a1) = if a.is_empty() { (a, a) } else { a.split_at(mid) };
        let (b0, b1) = match b {
            Some(b) => {
                let (b0, b1) = b.split_at(mid);
                (Some(b0), Some(b1))
            }
            None => (None, None),
        };
        let (y0, y1) = y.split_at_mut(mid);
        let part = |a, b, y, start| {
            ByOutput(Bufs {
                a,
                b,
                y,
                ratio: 1,
                start,
            })
        };
        (part(a0, b0, y0, start), part(a1, b1, y1, start + mid))
    }
}

/// `dx = dy · act'(x + bias[j])` over [rows, cols] (`dy` absent: in place over `dx`), and
/// `dbias[j] = Σ_rows dx[·, j]`, taken in `f64` from the `dx` written and rounded once.
pub(crate) fn backward_bias<A: Apply + Sync + ?Sized, E: Element>(
    act: &A,
    x: &[E],
    bias: &[E],
    dy: Option<&[E]>,
    dx: &mut [E],
    dbias: &mut [E],
    parallel: bool,
) {
    let cols = bias.len();
    if cols == 0 {
        return;
    }
    let backend = backend::backend();
    let len = dx.len();
    let bufs = ByOutput(Bufs::<E, E, E> {
        a: x,
        b: dy,
        y: dx,
        ratio: 1,
        start: 0,
    });
    let task_len = rows_per_task(cols) * cols;
    let sums = sum_tasks(
        bufs,
        task_len,
        in_parallel(parallel && act.allows_threads(), len),
        &|t| {
            let ByOutput(t) = t;
            backward_bias_task(act, backend, t.a, bias, t.b, t.y)
        },
    );
    for (d, s) in dbias.iter_mut().zip(sums) {
        *d = E::from_f32(s as f32);
    }
}

fn backward_bias_task<A: Apply + ?Sized, E: Element>(
    act: &A,
    backend: Backend,
    x: &[E],
    bias: &[E],
    dy: Option<&[E]>,
    dx: &mut [E],
) -> Vec<f64> {
    let cols = bias.len();
    let mut sums = vec![0.0f64; cols];
    let (mut s, mut d) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    for_blocks(dx.len(), cols, |start, col, rows, len| {
        let row_len = len / rows;
        let bias = &bias[col..col + row_len];
        let x = &x[start..start + len];
        let dx = &mut dx[start..start + len];
        let s = &mut s[..len];
        for (x, s) in x.chunks_exact(row_len).zip(s.chunks_exact_mut(row_len)) {
            map_fn(backend, Io::binary(x, bias, s), &Add);
        }
        // Both element types widen dy into a block (an L1 copy for f32): backward_bias's speed
        // is the activation's, and one path keeps the bits identical to add-then-backward.
        let d = &mut d[..len];
        let dy: &[E] = match dy {
            Some(dy) => &dy[start..start + len],
            None => dx,
        };
        map_fn(backend, Io::unary(dy, d), &Convert);
        Serial(act).backward_inplace(&*s, d);
        map_fn(backend, Io::unary(&*d, dx), &Convert);
        for dx in dx.chunks_exact(row_len) {
            for (sum, dx) in sums[col..col + row_len].iter_mut().zip(dx) {
                *sum += f64::from(dx.to_f32());
            }
        }
    });
    sums
}

/// prelu's weights over [outer, C, inner]: rows of `inner` elements of one channel each, or, when
/// `inner` is 1, rows of C elements with a weight per element.
#[derive(Clone, Copy)]
pub(crate) struct Channels<'w, E> {
    pub(crate) weight: &'w [E],
    pub(crate) inner: usize,
}

impl<E: Element> Channels<'_, E> {
    /// Elements per row, and whether a row has one weight (`true`) or one per element.
    fn row(&self, len: usize) -> (usize, bool) {
        if self.weight.len() == 1 {
            // One weight for everything: rows of any length will do.
            (len.clamp(1, BLOCK), true)
        } else if self.inner == 1 {
            (self.weight.len(), false)
        } else {
            (self.inner, true)
        }
    }

    /// The weight of row `r` (one-weight rows).
    fn weight_of(&self, r: usize) -> f32 {
        self.weight[r % self.weight.len()].to_f32()
    }
}

/// One leaky_relu slope for a row: prelu's forward where a row is one channel.
struct Slope(f32);
/// A slope per element, from the second input: prelu's forward where a row spans the channels.
struct Slopes;
/// As [`Slope`], backward.
struct SlopeBackward(f32);
/// As [`Slopes`], backward: inputs x, weight, dy.
struct SlopesBackward;

impl<'a, E: Element> VectorFn<(In<'a, E>,), (Out<'a, E>,)> for Slope {
    #[inline(always)]
    fn apply<V: Vector>(&self, x: V) -> V {
        crate::kernels::leaky_relu::leaky(x, V::splat(self.0))
    }
}
impl<'a, E: Element> VectorFn<(In<'a, E>, In<'a, E>), (Out<'a, E>,)> for Slopes {
    #[inline(always)]
    fn apply<V: Vector>(&self, (x, w): (V, V)) -> V {
        crate::kernels::leaky_relu::leaky(x, w)
    }
}
impl<'a, E: Element> VectorFn<(In<'a, E>, In<'a, E>), (Out<'a, E>,)> for SlopeBackward {
    #[inline(always)]
    fn apply<V: Vector>(&self, (x, dy): (V, V)) -> V {
        crate::kernels::leaky_relu::leaky_backward(x, dy, V::splat(self.0))
    }
}
impl<'a, E: Element> VectorFn<(In<'a, E>, In<'a, E>, In<'a, E>), (Out<'a, E>,)> for SlopesBackward {
    #[inline(always)]
    fn apply<V: Vector>(&self, (x, w, dy): (V, V, V)) -> V {
        crate::kernels::leaky_relu::leaky_backward(x, dy, w)
    }
}

/// prelu's forward (`x` absent: in place over `y`).
pub(crate) fn prelu<E: Element>(x: Option<&[E]>, channels: Channels<'_, E>, y: &mut [E]) {
    if y.is_empty() {
        return;
    }
    let backend = backend::backend();
    let len = y.len();
    let (row_len, one_weight) = channels.row(len);
    let task_len = rows_per_task(row_len) * row_len;
    let bufs = ByOutput(Bufs::<E, E, E> {
        a: x.unwrap_or(&[]),
        b: None,
        y,
        ratio: 1,
        start: 0,
    });
    for_tasks(bufs, task_len, in_parallel(true, len), &|t| {
        let ByOutput(t) = t;
        let first_row = t.start / row_len;
        for (r, y) in t.y.chunks_mut(row_len).enumerate() {
            let x = (!t.a.is_empty()).then(|| &t.a[r * row_len..][..y.len()]);
            match (one_weight, x) {
                (true, Some(x)) => map_fn(backend, Io::unary(x, y), &Slope(channels.weight_of(first_row + r))),
                (true, None) => map_fn(
                    backend,
                    Io::unary_in_place(y),
                    &Slope(channels.weight_of(first_row + r)),
                ),
                (false, Some(x)) => map_fn(backend, Io::binary(x, channels.weight, y), &Slopes),
                (false, None) => map_fn(backend, Io::binary_in_place_first(y, channels.weight), &Slopes),
            }
        }
    })
}

/// prelu's backward (`dy` absent: in place over `dx`): `dx` as leaky_relu's backward with the
/// element's weight, and `dweight[c] = Σ (x > 0 ? 0 : x·dy)` over the channel, each product
/// exact in `f64`, summed in `f64` and rounded once.
pub(crate) fn prelu_backward<E: Element>(
    x: &[E],
    channels: Channels<'_, E>,
    dy: Option<&[E]>,
    dx: &mut [E],
    dweight: &mut [E],
) {
    let channel_count = channels.weight.len();
    if dx.is_empty() {
        dweight.fill(E::from_f32(0.0));
        return;
    }
    let backend = backend::backend();
    let len = dx.len();
    let (row_len, one_weight) = channels.row(len);
    let task_len = rows_per_task(row_len) * row_len;
    let bufs = ByOutput(Bufs::<E, E, E> {
        a: x,
        b: dy,
        y: dx,
        ratio: 1,
        start: 0,
    });
    let sums = sum_tasks(bufs, task_len, in_parallel(true, len), &|t| {
        let ByOutput(t) = t;
        let mut sums = vec![0.0f64; channel_count];
        let first_row = t.start / row_len;
        for (r, dx) in t.y.chunks_mut(row_len).enumerate() {
            let at = r * row_len;
            let x = &t.a[at..at + dx.len()];
            // The weight sums take dy before it is overwritten (in place), so they come first.
            {
                let dy: &[E] = match t.b {
                    Some(dy) => &dy[at..at + dx.len()],
                    None => dx,
                };
                let c = (first_row + r) % channel_count;
                for (j, (x, dy)) in x.iter().zip(dy).enumerate() {
                    let (x, dy) = (f64::from(x.to_f32()), f64::from(dy.to_f32()));
                    // Not `x <= 0`: a NaN x adds NaN, as x·dy does in PyTorch.
                    if x.partial_cmp(&0.0) != Some(core::cmp::Ordering::Greater) {
                        let c = if one_weight { c } else { j };
                        sums[c] += x * dy;
                    }
                }
            }
            match (one_weight, t.b) {
                (true, Some(dy)) => map_fn(
                    backend,
                    Io::binary(x, &dy[at..at + dx.len()], dx),
                    &SlopeBackward(channels.weight_of(first_row + r)),
                ),
                (true, None) => map_fn(
                    backend,
                    Io::binary_in_place(x, dx),
                    &SlopeBackward(channels.weight_of(first_row + r)),
                ),
                (false, Some(dy)) => {
                    let dy = &dy[at..at + dx.len()];
                    map_fn(backend, Io::ternary(x, channels.weight, dy, dx), &SlopesBackward)
                }
                (false, None) => map_fn(backend, Io::ternary_in_place(x, channels.weight, dx), &SlopesBackward),
            }
        }
        sums
    });
    for (d, s) in dweight.iter_mut().zip(sums) {
        *d = E::from_f32(s as f32);
    }
}

/// An input and two outputs of one length, split alike, with the index of the first element.
struct TwoOutputs<'a, E> {
    x: &'a [E],
    y: &'a mut [E],
    z: &'a mut [E],
    start: usize,
}

impl<E: Element> Split for TwoOutputs<'_, E> {
    fn len(&self) -> usize {
        self.x.len()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (x0, x1) = self.x.split_at(mid);
        let (y0, y1) = self.y.split_at_mut(mid);
        let (z0, z1) = self.z.split_at_mut(mid);
        (
            TwoOutputs {
                x: x0,
                y: y0,
                z: z0,
                start: self.start,
            },
            TwoOutputs {
                x: x1,
                y: y1,
                z: z1,
                start: self.start + mid,
            },
        )
    }
}

/// RReLU in training, element by element: the slope of element `i` is a function of `seed` and
/// `i` alone ([`crate::rrelu_slope`]), so tasks need only their position.
pub(crate) fn rrelu_train<E: Element>(x: &[E], lower: f32, upper: f32, seed: u64, y: &mut [E], noise: &mut [E]) {
    let len = x.len();
    let bufs = TwoOutputs {
        x,
        y,
        z: noise,
        start: 0,
    };
    for_tasks(bufs, CHUNK, in_parallel(true, len), &|t| {
        for (i, ((x, y), noise)) in t.x.iter().zip(t.y.iter_mut()).zip(t.z.iter_mut()).enumerate() {
            let v = x.to_f32();
            if v <= 0.0 {
                let r = crate::rrelu_slope(lower, upper, seed, (t.start + i) as u64);
                *y = E::from_f32(v * r);
                *noise = E::from_f32(r);
            } else {
                *y = *x;
                *noise = E::from_f32(1.0);
            }
        }
    })
}
