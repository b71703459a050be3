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

/// The buffers of a row-shaped call, cut into tasks by rows: up to two inputs and two outputs,
/// each with its own elements per row (an empty one is absent: unused, or the output's own
/// buffer in place), and the index of the first row, for tasks that need their position.
struct Parts<'a, E> {
    ins: [&'a [E]; 2],
    outs: [&'a mut [E]; 2],
    rows: usize,
    first_row: usize,
}

impl<'a, E: Element> Parts<'a, E> {
    fn new(ins: [&'a [E]; 2], outs: [&'a mut [E]; 2], rows: usize) -> Self {
        Parts {
            ins,
            outs,
            rows,
            first_row: 0,
        }
    }

    /// The first `rows` rows of every buffer, and the rest.
    fn split_at(self, rows: usize) -> (Self, Self) {
        let Parts {
            ins: [a, b],
            outs: [y, z],
            rows: all,
            first_row,
        } = self;
        let at = |len: usize| len / all * rows;
        let (a0, a1) = a.split_at(at(a.len()));
        let (b0, b1) = b.split_at(at(b.len()));
        let y_at = at(y.len());
        let (y0, y1) = y.split_at_mut(y_at);
        let z_at = at(z.len());
        let (z0, z1) = z.split_at_mut(z_at);
        (
            Parts {
                ins: [a0, b0],
                outs: [y0, z0],
                rows,
                first_row,
            },
            Parts {
                ins: [a1, b1],
                outs: [y1, z1],
                rows: all - rows,
                first_row: first_row + rows,
            },
        )
    }
}

/// Runs `task` on every group of `task_rows` rows of `parts` (the last may be shorter), on
/// rayon when `parallel`, returning the elementwise sum of the tasks' `f64` vectors, added in a
/// binary tree fixed by the task count, so the same bits on any number of threads.
fn sum_tasks<E: Element>(
    parts: Parts<'_, E>,
    task_rows: usize,
    parallel: bool,
    task: &(impl Fn(Parts<'_, E>) -> Vec<f64> + Sync),
) -> Vec<f64> {
    let tasks = parts.rows.div_ceil(task_rows);
    if tasks <= 1 {
        return task(parts);
    }
    let (l, r) = parts.split_at(tasks / 2 * task_rows);
    let (mut a, b) = if parallel {
        rayon::join(
            || sum_tasks(l, task_rows, parallel, task),
            || sum_tasks(r, task_rows, parallel, task),
        )
    } else {
        (
            sum_tasks(l, task_rows, parallel, task),
            sum_tasks(r, task_rows, parallel, task),
        )
    };
    for (a, b) in a.iter_mut().zip(b) {
        *a += b;
    }
    a
}

/// As [`sum_tasks`], for tasks that sum nothing.
fn for_tasks<E: Element>(parts: Parts<'_, E>, task_rows: usize, parallel: bool, task: &(impl Fn(Parts<'_, E>) + Sync)) {
    sum_tasks(parts, task_rows, parallel, &|t| {
        task(t);
        Vec::new()
    });
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
    let rows = out.len() / cols;
    let parts = Parts::new([x, &[]], [out, &mut []], rows);
    for_tasks(parts, rows_per_task(2 * cols), in_parallel(parallel, x.len()), &|t| {
        let [out, _] = t.outs;
        for (row, out) in t.ins[0].chunks_exact(2 * cols).zip(out.chunks_exact_mut(cols)) {
            let (a, b) = row.split_at(cols);
            map_fn(backend, Io::binary(a, b, out), f);
        }
    })
}

/// A backward of the halves layout: `(da, db) = f(a, b, dout)` per row into the halves of
/// `dx`'s row, or, with `dx` absent, into `x` itself (`x_dx`).
pub(crate) fn halves_backward<E, F>(x: &[E], dout: &[E], cols: usize, dx: &mut [E], f: &F, parallel: bool)
where
    E: Element,
    F: for<'a> VectorFn<(In<'a, E>, In<'a, E>, In<'a, E>), (Out<'a, E>, Out<'a, E>)>,
{
    if cols == 0 {
        return;
    }
    let backend = backend::backend();
    let rows = dout.len() / cols;
    let parts = Parts::new([x, dout], [dx, &mut []], rows);
    for_tasks(parts, rows_per_task(2 * cols), in_parallel(parallel, x.len()), &|t| {
        let [dx, _] = t.outs;
        let [x, dout] = t.ins;
        for ((row, dout), dx) in x
            .chunks_exact(2 * cols)
            .zip(dout.chunks_exact(cols))
            .zip(dx.chunks_exact_mut(2 * cols))
        {
            let (a, b) = row.split_at(cols);
            let (da, db) = dx.split_at_mut(cols);
            map_fn(backend, Io::ternary_pair(a, b, dout, da, db), f);
        }
    })
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
    let (len, rows) = (x_dx.len(), dout.len() / cols);
    let parts = Parts::new([dout, &[]], [x_dx, &mut []], rows);
    for_tasks(parts, rows_per_task(2 * cols), in_parallel(parallel, len), &|t| {
        let [x_dx, _] = t.outs;
        for (row, dout) in x_dx.chunks_exact_mut(2 * cols).zip(t.ins[0].chunks_exact(cols)) {
            let (a_da, b_db) = row.split_at_mut(cols);
            map_fn(backend, Io::ternary_pair_in_place(a_da, b_db, dout), f);
        }
    })
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
    let (len, rows) = (y.len(), y.len() / cols);
    let parts = Parts::new([x.unwrap_or(&[]), &[]], [y, &mut []], rows);
    let parallel = in_parallel(parallel && act.allows_threads(), len);
    for_tasks(parts, rows_per_task(cols), parallel, &|t| {
        let [x, _] = t.ins;
        let [y, _] = t.outs;
        forward_bias_task(act, backend, (!x.is_empty()).then_some(x), bias, y)
    })
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
    let (len, rows) = (dx.len(), dx.len() / cols);
    let parts = Parts::new([x, dy.unwrap_or(&[])], [dx, &mut []], rows);
    let parallel = in_parallel(parallel && act.allows_threads(), len);
    let sums = sum_tasks(parts, rows_per_task(cols), parallel, &|t| {
        let [x, dy] = t.ins;
        let [dx, _] = t.outs;
        backward_bias_task(act, backend, x, bias, (!dy.is_empty()).then_some(dy), dx)
    });
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
    /// Elements per row, for rows that never straddle two weights' elements: one element when
    /// there is one weight (any cut will do), C when `inner` is 1, else `inner`.
    fn row_len(&self) -> usize {
        match (self.weight.len(), self.inner) {
            (1, _) => 1,
            (c, 1) => c,
            (_, inner) => inner,
        }
    }

    /// The pieces of a task's rows `first_row..` over `len` elements that have one weight each:
    /// `(start, end, Some(w))`; or, when `inner` is 1 and there are several weights, each row
    /// with a weight per element: `(start, end, None)`.
    fn pieces(&self, first_row: usize, len: usize) -> impl Iterator<Item = (usize, usize, Option<f32>)> + '_ {
        let row_len = if self.weight.len() == 1 {
            len.max(1)
        } else {
            self.row_len()
        };
        let per_element = self.weight.len() > 1 && self.inner == 1;
        (0..len.div_ceil(row_len)).map(move |r| {
            let (start, end) = (r * row_len, ((r + 1) * row_len).min(len));
            let weight = (!per_element).then(|| self.weight[(first_row + r) % self.weight.len()].to_f32());
            (start, end, weight)
        })
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
    let backend = backend::backend();
    let (len, row_len) = (y.len(), channels.row_len());
    let parts = Parts::new([x.unwrap_or(&[]), &[]], [y, &mut []], len / row_len);
    for_tasks(parts, rows_per_task(row_len), in_parallel(true, len), &|t| {
        let [x, _] = t.ins;
        let [y, _] = t.outs;
        let len = y.len();
        for (start, end, weight) in channels.pieces(t.first_row, len) {
            let y = &mut y[start..end];
            match (weight, x.is_empty()) {
                (Some(w), false) => map_fn(backend, Io::unary(&x[start..end], y), &Slope(w)),
                (Some(w), true) => map_fn(backend, Io::unary_in_place(y), &Slope(w)),
                (None, false) => map_fn(backend, Io::binary(&x[start..end], channels.weight, y), &Slopes),
                (None, true) => map_fn(backend, Io::binary_in_place_first(y, channels.weight), &Slopes),
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
    let backend = backend::backend();
    let (len, row_len, weights) = (dx.len(), channels.row_len(), channels.weight.len());
    let parts = Parts::new([x, dy.unwrap_or(&[])], [dx, &mut []], len / row_len);
    let sums = sum_tasks(parts, rows_per_task(row_len), in_parallel(true, len), &|t| {
        let [x, dy] = t.ins;
        let [dx, _] = t.outs;
        let mut sums = vec![0.0f64; weights];
        let len = dx.len();
        for (piece, (start, end, weight)) in channels.pieces(t.first_row, len).enumerate() {
            let (x, dx) = (&x[start..end], &mut dx[start..end]);
            // The weight sums read dy before it is overwritten (in place), so they come first.
            {
                let dy: &[E] = if dy.is_empty() { dx } else { &dy[start..end] };
                for (j, (x, dy)) in x.iter().zip(dy).enumerate() {
                    let (x, dy) = (f64::from(x.to_f32()), f64::from(dy.to_f32()));
                    // Not `x <= 0`: a NaN x adds NaN, as x·dy does in PyTorch.
                    if x.partial_cmp(&0.0) != Some(core::cmp::Ordering::Greater) {
                        let c = match weight {
                            Some(_) => (t.first_row + piece) % weights,
                            None => j,
                        };
                        sums[c] += x * dy;
                    }
                }
            }
            match (weight, dy.is_empty()) {
                (Some(w), false) => map_fn(backend, Io::binary(x, &dy[start..end], dx), &SlopeBackward(w)),
                (Some(w), true) => map_fn(backend, Io::binary_in_place(x, dx), &SlopeBackward(w)),
                (None, false) => map_fn(
                    backend,
                    Io::ternary(x, channels.weight, &dy[start..end], dx),
                    &SlopesBackward,
                ),
                (None, true) => map_fn(backend, Io::ternary_in_place(x, channels.weight, dx), &SlopesBackward),
            }
        }
        sums
    });
    for (d, s) in dweight.iter_mut().zip(sums) {
        *d = E::from_f32(s as f32);
    }
}

/// RReLU in training, element by element: the slope of element `i` is a function of `seed` and
/// `i` alone ([`crate::rrelu_slope`]), so tasks need only their position.
pub(crate) fn rrelu_train<E: Element>(x: &[E], lower: f32, upper: f32, seed: u64, y: &mut [E], noise: &mut [E]) {
    let len = x.len();
    let parts = Parts::new([x, &[]], [y, noise], len);
    for_tasks(parts, CHUNK, in_parallel(true, len), &|t| {
        let [y, noise] = t.outs;
        for (i, ((x, y), noise)) in t.ins[0].iter().zip(y).zip(noise).enumerate() {
            let v = x.to_f32();
            if v <= 0.0 {
                let r = crate::rrelu_slope(lower, upper, seed, (t.first_row + i) as u64);
                *y = E::from_f32(v * r);
                *noise = E::from_f32(r);
            } else {
                *y = *x;
                *noise = E::from_f32(1.0);
            }
        }
    })
}
