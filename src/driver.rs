//! The one place that loops: whole vectors, then the tail, then (above a size) rayon chunks.
//!
//! The tail is the same kernel on one vector padded with zeros, so an element's result does not
//! depend on where it sits in the buffer, and rayon chunks are multiples of every lane count, so
//! it does not depend on the thread count either.

use crate::Tier;
use crate::backend::fast::FastLanes;
use crate::backend::{self, Backend, Vector};
use crate::kernel::Kernel;

/// The widest vector of any backend; tails are padded to this.
const MAX_LANES: usize = 16;

/// Buffers at least this long are split across rayon's threads. Below it even the cheapest
/// activation is done in a few microseconds, less than waking a second thread costs.
pub const PARALLEL_THRESHOLD: usize = 1 << 17;

/// Elements per rayon task: 128 KiB per stream, so a task's inputs and output sit in L2.
const CHUNK: usize = 1 << 15;
const _: () = assert!(CHUNK.is_multiple_of(MAX_LANES));

/// One call's worth of work: which function, over which slices (lengths already checked equal).
pub(crate) enum Job<'a> {
    Forward {
        x: &'a [f32],
        y: &'a mut [f32],
    },
    ForwardInPlace {
        xy: &'a mut [f32],
    },
    Derivative {
        x: &'a [f32],
        d: &'a mut [f32],
    },
    Backward {
        x: &'a [f32],
        dy: &'a [f32],
        dx: &'a mut [f32],
    },
    BackwardInPlace {
        x: &'a [f32],
        dy_dx: &'a mut [f32],
    },
    DerivativeFromOutput {
        y: &'a [f32],
        d: &'a mut [f32],
    },
    BackwardFromOutput {
        y: &'a [f32],
        dy: &'a [f32],
        dx: &'a mut [f32],
    },
}

impl<'a> Job<'a> {
    fn len(&self) -> usize {
        match self {
            Job::Forward { y, .. } => y.len(),
            Job::ForwardInPlace { xy } => xy.len(),
            Job::Derivative { d, .. } | Job::DerivativeFromOutput { d, .. } => d.len(),
            Job::Backward { dx, .. } | Job::BackwardFromOutput { dx, .. } => dx.len(),
            Job::BackwardInPlace { dy_dx, .. } => dy_dx.len(),
        }
    }

    pub(crate) fn is_from_output(&self) -> bool {
        matches!(self, Job::DerivativeFromOutput { .. } | Job::BackwardFromOutput { .. })
    }

    fn split_at(self, mid: usize) -> (Job<'a>, Job<'a>) {
        match self {
            Job::Forward { x, y } => {
                let ((x0, x1), (y0, y1)) = (x.split_at(mid), y.split_at_mut(mid));
                (Job::Forward { x: x0, y: y0 }, Job::Forward { x: x1, y: y1 })
            }
            Job::ForwardInPlace { xy } => {
                let (a, b) = xy.split_at_mut(mid);
                (Job::ForwardInPlace { xy: a }, Job::ForwardInPlace { xy: b })
            }
            Job::Derivative { x, d } => {
                let ((x0, x1), (d0, d1)) = (x.split_at(mid), d.split_at_mut(mid));
                (Job::Derivative { x: x0, d: d0 }, Job::Derivative { x: x1, d: d1 })
            }
            Job::Backward { x, dy, dx } => {
                let ((x0, x1), (g0, g1), (o0, o1)) = (x.split_at(mid), dy.split_at(mid), dx.split_at_mut(mid));
                (
                    Job::Backward { x: x0, dy: g0, dx: o0 },
                    Job::Backward { x: x1, dy: g1, dx: o1 },
                )
            }
            Job::BackwardInPlace { x, dy_dx } => {
                let ((x0, x1), (g0, g1)) = (x.split_at(mid), dy_dx.split_at_mut(mid));
                (
                    Job::BackwardInPlace { x: x0, dy_dx: g0 },
                    Job::BackwardInPlace { x: x1, dy_dx: g1 },
                )
            }
            Job::DerivativeFromOutput { y, d } => {
                let ((y0, y1), (d0, d1)) = (y.split_at(mid), d.split_at_mut(mid));
                (
                    Job::DerivativeFromOutput { y: y0, d: d0 },
                    Job::DerivativeFromOutput { y: y1, d: d1 },
                )
            }
            Job::BackwardFromOutput { y, dy, dx } => {
                let ((y0, y1), (g0, g1), (o0, o1)) = (y.split_at(mid), dy.split_at(mid), dx.split_at_mut(mid));
                (
                    Job::BackwardFromOutput { y: y0, dy: g0, dx: o0 },
                    Job::BackwardFromOutput { y: y1, dy: g1, dx: o1 },
                )
            }
        }
    }
}

/// Runs `job` on the active backend: on the calling thread when `parallel` is false or the
/// buffer is short, otherwise split into chunks on the current rayon pool.
pub(crate) fn execute<K: Kernel>(k: &K, job: Job<'_>, parallel: bool, tier: Tier) {
    let backend = backend::backend();
    if parallel && job.len() >= PARALLEL_THRESHOLD && rayon::current_num_threads() > 1 {
        run_split(backend, k, job, tier);
    } else {
        backend::run_on(backend, k, job, tier);
    }
}

fn run_split<K: Kernel>(backend: Backend, k: &K, job: Job<'_>, tier: Tier) {
    let n = job.len();
    if n <= CHUNK {
        backend::run_on(backend, k, job, tier);
    } else {
        let mid = (n / 2 / CHUNK).max(1) * CHUNK;
        let (a, b) = job.split_at(mid);
        rayon::join(|| run_split(backend, k, a, tier), || run_split(backend, k, b, tier));
    }
}

/// Runs `job` with `k` on vectors `V`, in `tier`: the fast tier runs `V` wrapped in
/// [`FastLanes`], for kernels that have one ([`Kernel::FAST_TIER`]); the others have a single
/// tier and are not instantiated twice.
#[inline(always)]
pub(crate) fn run<V: Vector, K: Kernel>(k: &K, job: Job<'_>, tier: Tier) {
    if K::FAST_TIER && tier == Tier::Fast {
        run_vectors::<FastLanes<V>, K>(k, job)
    } else {
        run_vectors::<V, K>(k, job)
    }
}

/// Runs `job` with `k` instantiated for `V`. Inlined into each backend's `#[target_feature]`
/// trampoline so the whole loop is compiled for that instruction set. (The kernel calls go
/// through the small `#[inline(always)]` ops below rather than closures: a closure is inlined
/// only at LLVM's discretion, and one compiled on its own lacks the target feature, which turns
/// every intrinsic into a call.)
#[inline(always)]
fn run_vectors<V: Vector, K: Kernel>(k: &K, job: Job<'_>) {
    match job {
        Job::Forward { x, y } => map1::<V, _>(x, y, Forward(k)),
        Job::ForwardInPlace { xy } => map1_in_place::<V, _>(xy, Forward(k)),
        Job::Derivative { x, d } => map1::<V, _>(x, d, Derivative(k)),
        Job::Backward { x, dy, dx } => map2::<V, _>(x, dy, dx, Backward(k)),
        Job::BackwardInPlace { x, dy_dx } => map2_in_place::<V, _>(x, dy_dx, Backward(k)),
        Job::DerivativeFromOutput { y, d } => map1::<V, _>(y, d, DerivativeFromOutput(k)),
        Job::BackwardFromOutput { y, dy, dx } => map2::<V, _>(y, dy, dx, BackwardFromOutput(k)),
    }
}

/// A kernel function of one vector.
trait Unary<V: Vector> {
    fn apply(&self, x: V) -> V;
}

/// A kernel function of two vectors (the input or output, and the incoming gradient).
trait Binary<V: Vector> {
    fn apply(&self, x: V, dy: V) -> V;
}

struct Forward<'a, K>(&'a K);
struct Derivative<'a, K>(&'a K);
struct DerivativeFromOutput<'a, K>(&'a K);
struct Backward<'a, K>(&'a K);
struct BackwardFromOutput<'a, K>(&'a K);

impl<V: Vector, K: Kernel> Unary<V> for Forward<'_, K> {
    #[inline(always)]
    fn apply(&self, x: V) -> V {
        self.0.forward(x)
    }
}
impl<V: Vector, K: Kernel> Unary<V> for Derivative<'_, K> {
    #[inline(always)]
    fn apply(&self, x: V) -> V {
        self.0.derivative(x)
    }
}
impl<V: Vector, K: Kernel> Unary<V> for DerivativeFromOutput<'_, K> {
    #[inline(always)]
    fn apply(&self, y: V) -> V {
        self.0.derivative_from_output(y)
    }
}
impl<V: Vector, K: Kernel> Binary<V> for Backward<'_, K> {
    #[inline(always)]
    fn apply(&self, x: V, dy: V) -> V {
        self.0.backward(x, dy)
    }
}
impl<V: Vector, K: Kernel> Binary<V> for BackwardFromOutput<'_, K> {
    #[inline(always)]
    fn apply(&self, y: V, dy: V) -> V {
        self.0.backward_from_output(y, dy)
    }
}

/// Loads the last `src.len() < V::LANES` elements into a zero-padded vector.
#[inline(always)]
fn load_tail<V: Vector>(src: &[f32]) -> V {
    let mut padded = [0.0f32; MAX_LANES];
    padded[..src.len()].copy_from_slice(src);
    V::load(&padded)
}

#[inline(always)]
fn store_tail<V: Vector>(v: V, dst: &mut [f32]) {
    let mut padded = [0.0f32; MAX_LANES];
    v.store(&mut padded);
    let n = dst.len();
    dst.copy_from_slice(&padded[..n]);
}

// The loops below take two vectors per step: the two kernel evaluations are independent, so
// the out-of-order core overlaps two dependency chains instead of waiting on one. The unrolling
// never changes a result: every vector, paired, single or the padded tail, is the same kernel
// call on the same lanes, so an element's bits do not depend on its position in the buffer.
// What is left after the pairs is at most one whole vector plus the padded tail.

#[inline(always)]
fn map1<V: Vector, F: Unary<V>>(x: &[f32], out: &mut [f32], f: F) {
    let mut pairs = x.chunks_exact(2 * V::LANES);
    let mut out_pairs = out.chunks_exact_mut(2 * V::LANES);
    for (x, out) in (&mut pairs).zip(&mut out_pairs) {
        let (a, b) = (f.apply(V::load(x)), f.apply(V::load(&x[V::LANES..])));
        a.store(out);
        b.store(&mut out[V::LANES..]);
    }
    let mut xs = pairs.remainder().chunks_exact(V::LANES);
    let mut outs = out_pairs.into_remainder().chunks_exact_mut(V::LANES);
    for (x, out) in (&mut xs).zip(&mut outs) {
        f.apply(V::load(x)).store(out);
    }
    let tail = xs.remainder();
    if !tail.is_empty() {
        store_tail(f.apply(load_tail::<V>(tail)), outs.into_remainder());
    }
}

#[inline(always)]
fn map1_in_place<V: Vector, F: Unary<V>>(xy: &mut [f32], f: F) {
    let mut pairs = xy.chunks_exact_mut(2 * V::LANES);
    for xy in &mut pairs {
        let (first, second) = xy.split_at_mut(V::LANES);
        let (a, b) = (f.apply(V::load(first)), f.apply(V::load(second)));
        a.store(first);
        b.store(second);
    }
    let mut chunks = pairs.into_remainder().chunks_exact_mut(V::LANES);
    for xy in &mut chunks {
        f.apply(V::load(xy)).store(xy);
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let v = f.apply(load_tail::<V>(tail));
        store_tail(v, tail);
    }
}

#[inline(always)]
fn map2<V: Vector, F: Binary<V>>(a: &[f32], b: &[f32], out: &mut [f32], f: F) {
    let mut a_pairs = a.chunks_exact(2 * V::LANES);
    let mut b_pairs = b.chunks_exact(2 * V::LANES);
    let mut out_pairs = out.chunks_exact_mut(2 * V::LANES);
    for ((a, b), out) in (&mut a_pairs).zip(&mut b_pairs).zip(&mut out_pairs) {
        let first = f.apply(V::load(a), V::load(b));
        let second = f.apply(V::load(&a[V::LANES..]), V::load(&b[V::LANES..]));
        first.store(out);
        second.store(&mut out[V::LANES..]);
    }
    let mut as_ = a_pairs.remainder().chunks_exact(V::LANES);
    let mut bs = b_pairs.remainder().chunks_exact(V::LANES);
    let mut outs = out_pairs.into_remainder().chunks_exact_mut(V::LANES);
    for ((a, b), out) in (&mut as_).zip(&mut bs).zip(&mut outs) {
        f.apply(V::load(a), V::load(b)).store(out);
    }
    let (a, b) = (as_.remainder(), bs.remainder());
    if !a.is_empty() {
        store_tail(f.apply(load_tail::<V>(a), load_tail::<V>(b)), outs.into_remainder());
    }
}

#[inline(always)]
fn map2_in_place<V: Vector, F: Binary<V>>(a: &[f32], b_out: &mut [f32], f: F) {
    let mut a_pairs = a.chunks_exact(2 * V::LANES);
    let mut b_pairs = b_out.chunks_exact_mut(2 * V::LANES);
    for (a, b) in (&mut a_pairs).zip(&mut b_pairs) {
        let (b_first, b_second) = b.split_at_mut(V::LANES);
        let first = f.apply(V::load(a), V::load(b_first));
        let second = f.apply(V::load(&a[V::LANES..]), V::load(b_second));
        first.store(b_first);
        second.store(b_second);
    }
    let mut as_ = a_pairs.remainder().chunks_exact(V::LANES);
    let mut bs = b_pairs.into_remainder().chunks_exact_mut(V::LANES);
    for (a, b) in (&mut as_).zip(&mut bs) {
        f.apply(V::load(a), V::load(b)).store(b);
    }
    let (a, b) = (as_.remainder(), bs.into_remainder());
    if !a.is_empty() {
        let v = f.apply(load_tail::<V>(a), load_tail::<V>(b));
        store_tail(v, b);
    }
}
