//! The one place that loops: one generic map over a call's buffers (whole vectors, unrolled;
//! then one vector; then the tail), and above a size, rayon chunks.
//!
//! The tail is the same kernel on one vector whose missing lanes are zero (a masked load on
//! AVX-512, a zero-padded copy elsewhere), so an element's result does not depend on where it
//! sits in the buffer; rayon chunks are multiples of every lane count, so it does not depend on
//! the thread count either. In place is not a separate loop: an output view may be the buffer
//! of an input ([`Io`]), and each vector is loaded before it is stored.

use crate::Tier;
use crate::apply::FromOutputError;
use crate::backend::fast::FastLanes;
use crate::backend::view::{In, Inputs, Io, Out, Outputs};
use crate::backend::{self, Backend, MAX_LANES, Vector, VectorOp};
use crate::element::Element;
use crate::kernel::Kernel;
use half::{bf16, f16};

pub(crate) mod rows;

/// Buffers at least this long are split across rayon's threads. Below it even the cheapest
/// activation is done in a few microseconds, less than waking a second thread costs.
pub const PARALLEL_THRESHOLD: usize = 1 << 17;

/// Elements per rayon task: 128 KiB per `f32` stream, so a task's inputs and output sit in L2.
const CHUNK: usize = 1 << 15;
const _: () = assert!(CHUNK.is_multiple_of(MAX_LANES));

/// Vectors per step of the map's main loop ([`Step`]). Two independent kernel evaluations,
/// interleaved in the instruction stream, let the out-of-order core overlap two dependency
/// chains instead of waiting on one (`docs/DESIGN.md`).
type MainStep = Unroll<2>;

/// One input, one output, of one element type.
pub(crate) type UnaryIo<'a, E> = Io<'a, (In<'a, E>,), (Out<'a, E>,)>;
/// Two inputs, one output, of one element type.
pub(crate) type BinaryIo<'a, E> = Io<'a, (In<'a, E>, In<'a, E>), (Out<'a, E>,)>;

/// A kernel function of one vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnaryFn {
    Forward,
    Derivative,
    DerivativeFromOutput,
}

/// A kernel function of two vectors: the input (or output) and the incoming gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryFn {
    Backward,
    BackwardFromOutput,
    /// `f(x + bias)`: the forward of the sum of the two inputs, rounded to `f32` first (one row
    /// of bias + activation).
    ForwardBias,
}

/// One slice-method call: which kernel function, over which buffers.
pub(crate) enum Task<'a, E> {
    Unary(UnaryFn, UnaryIo<'a, E>),
    Binary(BinaryFn, BinaryIo<'a, E>),
}

impl<E> Task<'_, E> {
    fn is_from_output(&self) -> bool {
        matches!(
            self,
            Task::Unary(UnaryFn::DerivativeFromOutput, _) | Task::Binary(BinaryFn::BackwardFromOutput, _)
        )
    }
}

/// A [`Task`] with its element type as a value, so that one non-generic function per kernel
/// ([`Apply::run`](crate::Apply)) runs every element type.
pub(crate) enum Work<'a> {
    F32(Task<'a, f32>),
    Bf16(Task<'a, bf16>),
    F16(Task<'a, f16>),
}

impl Work<'_> {
    fn is_from_output(&self) -> bool {
        match self {
            Work::F32(t) => t.is_from_output(),
            Work::Bf16(t) => t.is_from_output(),
            Work::F16(t) => t.is_from_output(),
        }
    }
}

/// Runs `work` with kernel `k` on the active backend, in `tier`: on the calling thread when
/// `parallel` is false or the buffers are short, otherwise split into chunks on the current
/// rayon pool. An error, running nothing, for a from-output function `k` does not have.
pub(crate) fn execute<K: Kernel>(k: &K, work: Work<'_>, parallel: bool, tier: Tier) -> Result<(), FromOutputError> {
    if work.is_from_output() && !k.has_derivative_from_output() {
        return Err(FromOutputError {
            activation: crate::Activation::describe_kernel(k),
        });
    }
    let parallel = parallel && rayon::current_num_threads() > 1;
    let backend = backend::backend();
    match work {
        Work::F32(task) => run_task(k, task, backend, parallel, tier),
        Work::Bf16(task) => run_task(k, task, backend, parallel, tier),
        Work::F16(task) => run_task(k, task, backend, parallel, tier),
    }
    Ok(())
}

fn run_task<K: Kernel, E: Element>(k: &K, task: Task<'_, E>, backend: Backend, parallel: bool, tier: Tier) {
    // 16-bit buffers run natively (converted in the registers) for the forward and the backward
    // on the x86 backends; every other function, and every backend without native conversions,
    // widens them in blocks and runs the f32 instantiation. Same bits either way; the kernels
    // are compiled for 16-bit buffers only where it pays.
    let native = |native_fn: bool| E::IS_F32 || (native_fn && backend.converts_16_bit());
    match task {
        Task::Unary(f, io) if native(f == UnaryFn::Forward) => for_chunks(io, parallel, &|io| {
            backend::run(backend, Map { kernel: k, f, io, tier })
        }),
        Task::Unary(f, io) => for_chunks(io, parallel, &|io| through_f32_unary(k, f, io, backend, tier)),
        Task::Binary(f, io) if native(f == BinaryFn::Backward) => for_chunks(io, parallel, &|io| {
            backend::run(backend, Map { kernel: k, f, io, tier })
        }),
        Task::Binary(f, io) => for_chunks(io, parallel, &|io| through_f32_binary(k, f, io, backend, tier)),
    }
}

/// Elements per block when 16-bit buffers go through `f32`: 4 KiB per stream, a multiple of
/// every lane count, so blocks do not change which lanes meet.
const F32_BLOCK: usize = 1024;
const _: () = assert!(F32_BLOCK.is_multiple_of(MAX_LANES));

/// Widens `io`'s input a block at a time, runs the `f32` kernel function on the block and
/// rounds the result into `io`'s output (an element at a time, through `half`).
fn through_f32_unary<K: Kernel, E: Element>(k: &K, f: UnaryFn, mut io: UnaryIo<'_, E>, backend: Backend, tier: Tier) {
    let (mut x, mut y) = ([0.0f32; F32_BLOCK], [0.0f32; F32_BLOCK]);
    let mut start = 0;
    while start < io.len() {
        let len = F32_BLOCK.min(io.len() - start);
        for (j, x) in x[..len].iter_mut().enumerate() {
            *x = io.load::<f32>(start + j);
        }
        let block = Io::unary(&x[..len], &mut y[..len]);
        backend::run(
            backend,
            Map {
                kernel: k,
                f,
                io: block,
                tier,
            },
        );
        for (j, &y) in y[..len].iter().enumerate() {
            io.store::<f32>(start + j, y);
        }
        start += len;
    }
}

/// As [`through_f32_unary`], with both inputs widened.
fn through_f32_binary<K: Kernel, E: Element>(
    k: &K,
    f: BinaryFn,
    mut io: BinaryIo<'_, E>,
    backend: Backend,
    tier: Tier,
) {
    let (mut a, mut b, mut y) = ([0.0f32; F32_BLOCK], [0.0f32; F32_BLOCK], [0.0f32; F32_BLOCK]);
    let mut start = 0;
    while start < io.len() {
        let len = F32_BLOCK.min(io.len() - start);
        for (j, (a, b)) in a[..len].iter_mut().zip(&mut b[..len]).enumerate() {
            (*a, *b) = io.load::<f32>(start + j);
        }
        let block = Io::binary(&a[..len], &b[..len], &mut y[..len]);
        backend::run(
            backend,
            Map {
                kernel: k,
                f,
                io: block,
                tier,
            },
        );
        for (j, &y) in y[..len].iter().enumerate() {
            io.store::<f32>(start + j, y);
        }
        start += len;
    }
}

/// Runs `run` on `io` whole, or (when `parallel` and long) on chunks of it across rayon.
fn for_chunks<I: Inputs, O: Outputs>(io: Io<'_, I, O>, parallel: bool, run: &(impl Fn(Io<'_, I, O>) + Sync)) {
    if parallel && io.len() >= PARALLEL_THRESHOLD {
        split(io, run)
    } else {
        run(io)
    }
}

fn split<I: Inputs, O: Outputs>(io: Io<'_, I, O>, run: &(impl Fn(Io<'_, I, O>) + Sync)) {
    let n = io.len();
    if n <= CHUNK {
        run(io);
    } else {
        let mid = (n / 2 / CHUNK).max(1) * CHUNK;
        let (a, b) = io.split_at(mid);
        rayon::join(|| split(a, run), || split(b, run));
    }
}

/// One chunk's work for a backend: kernel function `f` of `kernel` over `io`, in `tier`.
struct Map<'a, 'k, K, F, I, O> {
    kernel: &'k K,
    f: F,
    io: Io<'a, I, O>,
    tier: Tier,
}

impl<K: Kernel, E: Element> VectorOp for Map<'_, '_, K, UnaryFn, (In<'_, E>,), (Out<'_, E>,)> {
    const STORES_BF16: bool = E::IS_BF16;

    /// The fast tier runs `V` wrapped in [`FastLanes`], for kernels that have one
    /// ([`Kernel::FAST_TIER`]); the others have a single tier and are not instantiated twice.
    #[inline(always)]
    fn run<V: Vector>(self) {
        if !E::IS_F32 && !V::NATIVE_16_BIT {
            // The driver sends 16-bit buffers only to backends that convert them natively, so no
            // kernel is compiled for them on the others.
            unreachable!("16-bit buffers on a backend without native conversions")
        } else if K::FAST_TIER && self.tier == Tier::Fast {
            self.unary::<FastLanes<V>>()
        } else {
            self.unary::<V>()
        }
    }
}

impl<K: Kernel, E: Element> Map<'_, '_, K, UnaryFn, (In<'_, E>,), (Out<'_, E>,)> {
    #[inline(always)]
    fn unary<V: Vector>(self) {
        let Map { kernel: k, f, io, .. } = self;
        // Only the forward runs natively on 16-bit buffers (`run_task`): the other arms are
        // compiled for f32 alone.
        match f {
            UnaryFn::Forward => map::<V, _, _, _, MainStep>(io, Forward(k)),
            UnaryFn::Derivative if E::IS_F32 => map::<V, _, _, _, MainStep>(io, Derivative(k)),
            UnaryFn::DerivativeFromOutput if E::IS_F32 => map::<V, _, _, _, MainStep>(io, DerivativeFromOutput(k)),
            _ => unreachable!("{f:?} on 16-bit buffers goes through f32 blocks"),
        }
    }
}

impl<K: Kernel, E: Element> VectorOp for Map<'_, '_, K, BinaryFn, (In<'_, E>, In<'_, E>), (Out<'_, E>,)> {
    const STORES_BF16: bool = E::IS_BF16;

    #[inline(always)]
    fn run<V: Vector>(self) {
        if !E::IS_F32 && !V::NATIVE_16_BIT {
            // The driver sends 16-bit buffers only to backends that convert them natively, so no
            // kernel is compiled for them on the others.
            unreachable!("16-bit buffers on a backend without native conversions")
        } else if K::FAST_TIER && self.tier == Tier::Fast {
            self.binary::<FastLanes<V>>()
        } else {
            self.binary::<V>()
        }
    }
}

impl<K: Kernel, E: Element> Map<'_, '_, K, BinaryFn, (In<'_, E>, In<'_, E>), (Out<'_, E>,)> {
    #[inline(always)]
    fn binary<V: Vector>(self) {
        let Map { kernel: k, f, io, .. } = self;
        match f {
            BinaryFn::Backward => map::<V, _, _, _, MainStep>(io, Backward(k)),
            BinaryFn::BackwardFromOutput if E::IS_F32 => map::<V, _, _, _, MainStep>(io, BackwardFromOutput(k)),
            BinaryFn::ForwardBias if E::IS_F32 => map::<V, _, _, _, MainStep>(io, ForwardBias(k)),
            _ => unreachable!("{f:?} on 16-bit buffers goes through f32 blocks"),
        }
    }
}

/// A function of vectors: the inputs' vectors `X` to the outputs' `Y`. The map calls it
/// through this `#[inline(always)]` method rather than a closure: a closure is inlined only at
/// LLVM's discretion, and one compiled on its own lacks the ISA's target features, which turns
/// every intrinsic into a call.
trait LaneFn<V: Vector, X, Y> {
    fn apply(&self, x: X) -> Y;
}

struct Forward<'k, K>(&'k K);
struct Derivative<'k, K>(&'k K);
struct DerivativeFromOutput<'k, K>(&'k K);
struct Backward<'k, K>(&'k K);
struct BackwardFromOutput<'k, K>(&'k K);
struct ForwardBias<'k, K>(&'k K);

impl<V: Vector, K: Kernel> LaneFn<V, V, V> for Forward<'_, K> {
    #[inline(always)]
    fn apply(&self, x: V) -> V {
        self.0.forward(x)
    }
}
impl<V: Vector, K: Kernel> LaneFn<V, V, V> for Derivative<'_, K> {
    #[inline(always)]
    fn apply(&self, x: V) -> V {
        self.0.derivative(x)
    }
}
impl<V: Vector, K: Kernel> LaneFn<V, V, V> for DerivativeFromOutput<'_, K> {
    #[inline(always)]
    fn apply(&self, y: V) -> V {
        self.0.derivative_from_output(y)
    }
}
impl<V: Vector, K: Kernel> LaneFn<V, (V, V), V> for Backward<'_, K> {
    #[inline(always)]
    fn apply(&self, (x, dy): (V, V)) -> V {
        self.0.backward(x, dy)
    }
}
impl<V: Vector, K: Kernel> LaneFn<V, (V, V), V> for BackwardFromOutput<'_, K> {
    #[inline(always)]
    fn apply(&self, (y, dy): (V, V)) -> V {
        self.0.backward_from_output(y, dy)
    }
}

impl<V: Vector, K: Kernel> LaneFn<V, (V, V), V> for ForwardBias<'_, K> {
    #[inline(always)]
    fn apply(&self, (x, bias): (V, V)) -> V {
        self.0.forward(x + bias)
    }
}

/// The map: `f` over every element of `io`'s inputs into its outputs, `U` vectors per step,
/// then single vectors, then the tail. Every vector (of a step, single, or the tail) is the
/// same call of `f` on the same lanes, so the unrolling never changes a result. Each vector is
/// loaded before it is stored, and vectors do not overlap, so an output that is an input's
/// buffer reads the input.
#[inline(always)]
fn map<V, I, O, F, U>(mut io: Io<'_, I, O>, f: F)
where
    V: Vector,
    I: Inputs,
    O: Outputs,
    F: LaneFn<V, I::Vectors<V>, O::Vectors<V>>,
    U: Step,
{
    let n = io.len();
    let step = U::VECTORS * V::LANES;
    let mut i = 0;
    while n - i >= step {
        U::step(&mut io, i, &f);
        i += step;
    }
    while n - i >= V::LANES {
        let y = f.apply(io.load::<V>(i));
        io.store::<V>(i, y);
        i += V::LANES;
    }
    if i < n {
        let y = f.apply(io.load_tail::<V>(i));
        io.store_tail::<V>(i, y);
    }
}

/// How many vectors the map's main loop takes per step: `Unroll<1>`, `Unroll<2>` or `Unroll<4>`.
struct Unroll<const N: usize>;

/// One step of the map's main loop: `VECTORS` vectors from element `i` on, all loaded and
/// computed before any is stored, written out as named values. Measured against the old
/// hand-unrolled loops (`actkern bench --sizes 64K --threads 1`): with an array of vectors,
/// which LLVM kept on the stack, relu ran at 0.59×; with a loop over the vectors, mish still
/// ran at 0.86×; with named values both match.
trait Step {
    const VECTORS: usize;
    fn step<V, I, O, F>(io: &mut Io<'_, I, O>, i: usize, f: &F)
    where
        V: Vector,
        I: Inputs,
        O: Outputs,
        F: LaneFn<V, I::Vectors<V>, O::Vectors<V>>;
}

macro_rules! unrolled_step {
    ($n:literal: $(($x:ident, $y:ident, $k:literal)),*) => {
        impl Step for Unroll<$n> {
            const VECTORS: usize = $n;
            #[inline(always)]
            fn step<V, I, O, F>(io: &mut Io<'_, I, O>, i: usize, f: &F)
            where
                V: Vector,
                I: Inputs,
                O: Outputs,
                F: LaneFn<V, I::Vectors<V>, O::Vectors<V>>,
            {
                $( let $x = io.load::<V>(i + $k * V::LANES); )*
                $( let $y = f.apply($x); )*
                $( io.store::<V>(i + $k * V::LANES, $y); )*
            }
        }
    };
}

unrolled_step!(1: (x0, y0, 0));
unrolled_step!(2: (x0, y0, 0), (x1, y1, 1));
unrolled_step!(4: (x0, y0, 0), (x1, y1, 1), (x2, y2, 2), (x3, y3, 3));

/// A loop-free function of vectors, for every vector type: one vector per input of `I` to one
/// per output of `O`. The fused operations (gated activations, bias, prelu) are these; the map
/// and the row loops of [`rows`] run them.
pub(crate) trait VectorFn<I: Inputs, O: Outputs>: Sync {
    fn apply<V: Vector>(&self, x: I::Vectors<V>) -> O::Vectors<V>;
}

/// A [`VectorFn`] seen as the map's [`LaneFn`] for one vector type.
struct Lanes<'f, F, I, O>(&'f F, core::marker::PhantomData<fn(I) -> O>);

impl<V: Vector, I: Inputs, O: Outputs, F: VectorFn<I, O>> LaneFn<V, I::Vectors<V>, O::Vectors<V>>
    for Lanes<'_, F, I, O>
{
    #[inline(always)]
    fn apply(&self, x: I::Vectors<V>) -> O::Vectors<V> {
        self.0.apply::<V>(x)
    }
}

/// One map of a [`VectorFn`] over `io`, for a backend to run.
struct MapFn<'a, 'f, I, O, F> {
    io: Io<'a, I, O>,
    f: &'f F,
}

impl<I: Inputs, O: Outputs, F: VectorFn<I, O>> VectorOp for MapFn<'_, '_, I, O, F> {
    const STORES_BF16: bool = O::STORES_BF16;

    /// Four vectors per step: swiglu's fused forward ran 6 % faster in cache than with
    /// [`MainStep`]'s two (2.25 vs 2.39 µs at 4 Ki, `cargo bench -- gated/swiglu/fused`).
    #[inline(always)]
    fn run<V: Vector>(self) {
        map::<V, I, O, _, Unroll<4>>(self.io, Lanes(self.f, core::marker::PhantomData));
    }
}

/// `f` over every element of `io` on `backend`, on the calling thread.
pub(crate) fn map_fn<I: Inputs, O: Outputs, F: VectorFn<I, O>>(backend: Backend, io: Io<'_, I, O>, f: &F) {
    backend::run(backend, MapFn { io, f })
}

/// `f` over every element of `io` on the active backend: on the calling thread when `parallel`
/// is false or the buffers are short, otherwise in rayon chunks.
pub(crate) fn run_fn<I: Inputs, O: Outputs, F: VectorFn<I, O>>(io: Io<'_, I, O>, f: &F, parallel: bool) {
    let backend = backend::backend();
    let parallel = parallel && rayon::current_num_threads() > 1;
    for_chunks(io, parallel, &|io| map_fn(backend, io, f))
}
