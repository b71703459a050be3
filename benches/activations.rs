//! Throughput of every activation's forward and backward, against its peers in the same run.
//!
//! ```text
//! cargo bench --bench activations                    # everything (about 10 minutes here)
//! cargo bench --bench activations -- 'forward/tanh'  # one group (criterion's filter)
//! python3 scripts/bench_table.py > BENCHMARKS.md     # the tables, from target/criterion
//! ```
//!
//! Groups are `forward/<spec>` and `backward/<spec>`, each with `Throughput::Elements`:
//! - `<backend>/<n>`: actkern on that backend, and `<backend>-fast/<n>` its fast tier (`Fast`)
//!   for the activations that have one. In cache (4Ki and 64Ki elements) on one thread
//!   (`Serial`), every backend the CPU has at 4Ki; 1Mi and 64Mi with the default threading
//!   (rayon above `PARALLEL_THRESHOLD`), best backend only.
//! - `rten-vecmath/<n>`: rten-vecmath's kernel where it has one (tanh, sigmoid, elu, leaky_relu,
//!   gelu, silu), same threading as actkern at that size (chunked over rayon above the threshold).
//! - `std/<n>`: the naive `iter().map(...)` loop with std's f32 functions, where one exists.
//!
//! Group `backward-from-y/<spec>` times the backward from the output of tanh and sigmoid on the
//! widest backend.
//!
//! Group `dtype/<spec>` times the forward on `f32`, `bf16` and `f16` buffers (`f32/<n>`,
//! `bf16/<n>`, `f16/<n>`) on the widest backend: one thread in cache, the default threading at
//! 64Mi; `baseline/copy-bf16/<n>` is the copy of the same 16-bit buffer.
//!
//! Groups `softmax/<cols>` and `log_softmax/<cols>` time the row functions over rows of `cols`:
//! `actkern/<n>` (widest backend) against `rten-vecmath/<n>` (its `Softmax` / `LogSoftmax`, row
//! by row), in cache (64Ki elements, one thread: below the threshold actkern stays on the
//! calling thread) for rows of 1024 and 4096, and at 64Mi elements in rows of 4096 on every
//! core, where `copy/<n>` is the bandwidth limit: a row of 4096 sits in L1 between the passes,
//! so memory sees one read of x and one write of y, as in a copy.
//!
//! And the limits, group `baseline`: `copy/<n>` (a copy of the same buffer: the forward's
//! memory-bandwidth limit) and `stream/<n>` (dx = dy·x, two streams in and one out: the
//! backward's), parallel above the threshold like the kernels.

use actkern::half::{bf16, f16};
use actkern::{
    ACTIVATIONS, Activation, Apply, Backend, Element, Fast, Gated, PARALLEL_THRESHOLD, Serial, Tier, with_backend,
};
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use rayon::prelude::*;
use rten_simd::{SimdOp, SimdUnaryOp};
use std::mem::MaybeUninit;
use std::time::Duration;

const IN_CACHE: [usize; 2] = [4 << 10, 64 << 10];
const LARGE: [usize; 2] = [1 << 20, 64 << 20];
/// Rayon chunk for the peers and baselines above the threshold (the same as actkern's).
const CHUNK: usize = 1 << 15;

/// A buffer whose data starts at a chosen offset within a 4 KiB page, so that every
/// implementation sees the same placement in every run. With the allocator's placement the
/// in-cache results of the same code varied by up to 2x between runs: when an output starts at
/// the same offset within a page as its input (4K aliasing), the core predicts false
/// dependencies between the stores of one vector and the loads of the next.
struct Aligned<T> {
    storage: Vec<T>,
    offset: usize,
    len: usize,
}

impl<T: Copy> Aligned<T> {
    /// `values`, starting `page_offset` bytes (a multiple of 64) after a 4 KiB boundary.
    fn new(values: &[T], fill: T, page_offset: usize) -> Aligned<T> {
        let len = values.len();
        let mut storage = vec![fill; len + 8192 / size_of::<T>()];
        let offset = storage.as_ptr().align_offset(4096) + page_offset / size_of::<T>();
        storage[offset..offset + len].copy_from_slice(values);
        Aligned { storage, offset, len }
    }
}

impl<T> std::ops::Deref for Aligned<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.storage[self.offset..self.offset + self.len]
    }
}

impl<T> std::ops::DerefMut for Aligned<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.storage[self.offset..self.offset + self.len]
    }
}

/// Page offsets of the buffers: input, gradient and output each start in a different quarter of
/// a page.
const INPUT_OFFSET: usize = 0;
const GRADIENT_OFFSET: usize = 1024;
const OUTPUT_OFFSET: usize = 2048;

/// Deterministic values over the interesting range of every activation, [-8, 8).
fn inputs(n: usize, page_offset: usize) -> Aligned<f32> {
    let values: Vec<f32> = (0..n)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 8) as f32 / (1u32 << 24) as f32 * 16.0 - 8.0)
        .collect();
    Aligned::new(&values, 0.0, page_offset)
}

fn outputs(n: usize) -> Aligned<f32> {
    Aligned::new(&vec![0.0; n], 0.0, OUTPUT_OFFSET)
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    group.throughput(Throughput::Elements(n as u64));
    if n >= 64 << 20 {
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
    } else {
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(200))
            .measurement_time(Duration::from_millis(700));
    }
}

/// rten-vecmath's counterpart of an activation, applied out of place.
fn rten_map(act: &Activation, x: &[f32], y: &mut [MaybeUninit<f32>]) -> bool {
    match act.to_string().as_str() {
        "tanh" => rten_vecmath::Tanh {}.map(x, y),
        "sigmoid" => rten_vecmath::Sigmoid {}.map(x, y),
        "elu" => rten_vecmath::Elu { alpha: 1.0 }.map(x, y),
        "leaky_relu" => rten_vecmath::LeakyRelu { alpha: 0.01 }.map(x, y),
        "gelu" => rten_vecmath::Gelu {}.map(x, y),
        "gelu(approximate=tanh)" => rten_vecmath::ApproxGelu {}.map(x, y),
        "silu" => rten_vecmath::Silu {}.map(x, y),
        _ => return false,
    };
    true
}

/// The naive scalar loop with std's f32 functions, where the activation has an obvious one.
fn std_map(act: &Activation, x: &[f32], y: &mut [f32]) -> bool {
    let f: fn(f32) -> f32 = match act.to_string().as_str() {
        "tanh" => f32::tanh,
        "sigmoid" => |x| 1.0 / (1.0 + (-x).exp()),
        "relu" => |x| x.max(0.0),
        "elu" => |x| if x > 0.0 { x } else { x.exp_m1() },
        "leaky_relu" => |x| if x > 0.0 { x } else { 0.01 * x },
        "silu" => |x| x / (1.0 + (-x).exp()),
        "softplus" => |x| if x > 20.0 { x } else { x.exp().ln_1p() },
        _ => return false,
    };
    y.iter_mut().zip(x).for_each(|(y, &x)| *y = f(x));
    true
}

/// The forward (`dy` unused) or the backward of `act`.
fn run_one(is_backward: bool, act: &impl Apply, x: &[f32], dy: &[f32], out: &mut [f32]) {
    if is_backward {
        act.backward(x, dy, out)
    } else {
        act.forward(x, out)
    }
}

fn bench_activation(c: &mut Criterion, act: &Activation) {
    let backends = Backend::available();
    let best = Backend::best();
    let tiers: &[Tier] = if act.info().fast_tier {
        &[Tier::Accurate, Tier::Fast]
    } else {
        &[Tier::Accurate]
    };
    for (direction, is_backward) in [("forward", false), ("backward", true)] {
        let mut group = c.benchmark_group(format!("{direction}/{act}"));
        for n in IN_CACHE.into_iter().chain(LARGE) {
            configure(&mut group, n);
            let x = inputs(n, INPUT_OFFSET);
            let dy = inputs(n, GRADIENT_OFFSET);
            let mut out = outputs(n);
            let on: Vec<Backend> = if n == IN_CACHE[0] { backends.clone() } else { vec![best] };
            for (backend, &tier) in on.into_iter().flat_map(|b| tiers.iter().map(move |t| (b, t))) {
                let id = match tier {
                    Tier::Accurate => backend.name().to_string(),
                    Tier::Fast => format!("{backend}-fast"),
                };
                group.bench_function(BenchmarkId::new(id, n), |b| {
                    with_backend(backend, || {
                        b.iter(|| match (tier, n < PARALLEL_THRESHOLD) {
                            (Tier::Accurate, true) => run_one(is_backward, &Serial(*act), &x, &dy, &mut out),
                            (Tier::Accurate, false) => run_one(is_backward, act, &x, &dy, &mut out),
                            (Tier::Fast, true) => run_one(is_backward, &Fast(Serial(*act)), &x, &dy, &mut out),
                            (Tier::Fast, false) => run_one(is_backward, &Fast(*act), &x, &dy, &mut out),
                        })
                    })
                    .expect("available backend")
                });
            }
            if !is_backward {
                let mut uninit = Aligned::new(
                    &vec![MaybeUninit::<f32>::uninit(); n],
                    MaybeUninit::uninit(),
                    OUTPUT_OFFSET,
                );
                if rten_map(act, &x[..16], &mut uninit[..16]) {
                    group.bench_function(BenchmarkId::new("rten-vecmath", n), |b| {
                        b.iter(|| {
                            if n < PARALLEL_THRESHOLD {
                                rten_map(act, &x, &mut uninit);
                            } else {
                                x.par_chunks(CHUNK)
                                    .zip(uninit.par_chunks_mut(CHUNK))
                                    .for_each(|(x, y)| {
                                        rten_map(act, x, y);
                                    });
                            }
                        })
                    });
                }
                if std_map(act, &x[..16], &mut out[..16]) {
                    group.bench_function(BenchmarkId::new("std", n), |b| b.iter(|| std_map(act, &x, &mut out)));
                }
            }
        }
        group.finish();
    }
}

/// `<id>/<n>`: a copy of `x` into `out`, in rayon chunks above the threshold like the kernels.
fn bench_copy<T: Copy + Send + Sync>(group: &mut BenchmarkGroup<'_, WallTime>, id: &str, x: &[T], out: &mut [T]) {
    let n = x.len();
    group.bench_function(BenchmarkId::new(id, n), |b| {
        b.iter(|| {
            if n >= PARALLEL_THRESHOLD {
                out.par_chunks_mut(CHUNK)
                    .zip(x.par_chunks(CHUNK))
                    .for_each(|(o, x)| o.copy_from_slice(x));
            } else {
                out.copy_from_slice(x);
            }
        })
    });
}

fn bench_baselines(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline");
    for n in IN_CACHE.into_iter().chain([LARGE[1]]) {
        configure(&mut group, n);
        let x = narrowed::<bf16>(&inputs(n, INPUT_OFFSET), INPUT_OFFSET);
        let mut out = narrowed::<bf16>(&outputs(n), OUTPUT_OFFSET);
        bench_copy(&mut group, "copy-bf16", &x, &mut out);
    }
    for n in IN_CACHE.into_iter().chain(LARGE) {
        configure(&mut group, n);
        let x = inputs(n, INPUT_OFFSET);
        let dy = inputs(n, GRADIENT_OFFSET);
        let mut out = outputs(n);
        let parallel = n >= PARALLEL_THRESHOLD;
        bench_copy(&mut group, "copy", &x, &mut out);
        group.bench_function(BenchmarkId::new("stream", n), |b| {
            let stream =
                |o: &mut [f32], x: &[f32], g: &[f32]| o.iter_mut().zip(x).zip(g).for_each(|((o, x), g)| *o = g * x);
            b.iter(|| {
                if parallel {
                    out.par_chunks_mut(CHUNK)
                        .zip(x.par_chunks(CHUNK))
                        .zip(dy.par_chunks(CHUNK))
                        .for_each(|((o, x), g)| stream(o, x, g));
                } else {
                    stream(&mut out, &x, &dy);
                }
            })
        });
    }
    group.finish();
}

/// `backward-from-y/<spec>/<backend>/<n>`: the backward from the output y of tanh and sigmoid
/// (dx = dy·(1 − y²), dy·(y − y²)), whose goal is the `stream` baseline's speed: best backend,
/// every size, the default threading as above.
fn bench_from_output(c: &mut Criterion) {
    for spec in ["tanh", "sigmoid"] {
        let act: Activation = spec.parse().expect("a known activation");
        let mut group = c.benchmark_group(format!("backward-from-y/{act}"));
        for n in IN_CACHE.into_iter().chain(LARGE) {
            configure(&mut group, n);
            let x = inputs(n, INPUT_OFFSET);
            let dy = inputs(n, GRADIENT_OFFSET);
            let mut y = outputs(n);
            act.forward(&x, &mut y);
            let mut out = outputs(n);
            let backend = Backend::best();
            group.bench_function(BenchmarkId::new(backend.name(), n), |b| {
                b.iter(|| {
                    let run = if n < PARALLEL_THRESHOLD {
                        Serial(act).backward_from_output(&y, &dy, &mut out)
                    } else {
                        act.backward_from_output(&y, &dy, &mut out)
                    };
                    run.expect("tanh and sigmoid have a backward from the output")
                })
            });
        }
        group.finish();
    }
}

/// `values` rounded to `E`, placed like the `f32` buffers.
fn narrowed<E: Element>(values: &[f32], page_offset: usize) -> Aligned<E> {
    let narrow: Vec<E> = values.iter().map(|&v| E::from_f32(v)).collect();
    Aligned::new(&narrow, E::default(), page_offset)
}

/// One forward over `E` buffers: one thread below the threshold, the default threading above.
fn bench_forward_in<E: Element>(group: &mut BenchmarkGroup<'_, WallTime>, act: &Activation, n: usize) {
    let x = narrowed::<E>(&inputs(n, INPUT_OFFSET), INPUT_OFFSET);
    let mut out = narrowed::<E>(&outputs(n), OUTPUT_OFFSET);
    group.bench_function(BenchmarkId::new(E::DTYPE.name(), n), |b| {
        b.iter(|| {
            if n < PARALLEL_THRESHOLD {
                Serial(act).forward(&x, &mut out)
            } else {
                act.forward(&x, &mut out)
            }
        })
    });
}

/// `dtype/<spec>/{f32,bf16,f16}/<n>`: the forward on each element type, widest backend.
fn bench_dtypes(c: &mut Criterion, act: &Activation) {
    let mut group = c.benchmark_group(format!("dtype/{act}"));
    for n in IN_CACHE.into_iter().chain([LARGE[1]]) {
        configure(&mut group, n);
        bench_forward_in::<f32>(&mut group, act, n);
        bench_forward_in::<bf16>(&mut group, act, n);
        bench_forward_in::<f16>(&mut group, act, n);
    }
    group.finish();
}

/// rten-vecmath's row function, one row at a time.
fn rten_rows(log: bool, x: &[f32], y: &mut [MaybeUninit<f32>], cols: usize) {
    for (x, y) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
        if log {
            rten_vecmath::LogSoftmax::new(x, y).dispatch();
        } else {
            rten_vecmath::Softmax::new(x, y).dispatch();
        }
    }
}

/// `softmax/<cols>/…` and `log_softmax/<cols>/…`: in cache on one thread, and 64Mi elements
/// on every core against the copy of the same buffer.
fn bench_softmax(c: &mut Criterion) {
    let cases = [(1024, IN_CACHE[1]), (4096, IN_CACHE[1]), (4096, LARGE[1])];
    for (name, log) in [("softmax", false), ("log_softmax", true)] {
        for (cols, n) in cases {
            let mut group = c.benchmark_group(format!("{name}/{cols}"));
            configure(&mut group, n);
            // Logits over [-8, 8).
            let x = inputs(n, INPUT_OFFSET);
            let mut out = outputs(n);
            let f = if log {
                actkern::RowFn::LogSoftmax
            } else {
                actkern::RowFn::Softmax
            };
            group.bench_function(BenchmarkId::new("actkern", n), |b| {
                b.iter(|| f.forward(&x, cols, &mut out))
            });
            let mut uninit = Aligned::new(
                &vec![MaybeUninit::<f32>::uninit(); n],
                MaybeUninit::uninit(),
                OUTPUT_OFFSET,
            );
            group.bench_function(BenchmarkId::new("rten-vecmath", n), |b| {
                b.iter(|| {
                    if n < PARALLEL_THRESHOLD {
                        rten_rows(log, &x, &mut uninit, cols);
                    } else {
                        let rows_per_task = CHUNK.div_ceil(cols) * cols;
                        x.par_chunks(rows_per_task)
                            .zip(uninit.par_chunks_mut(rows_per_task))
                            .for_each(|(x, y)| rten_rows(log, x, y, cols));
                    }
                })
            });
            if n >= PARALLEL_THRESHOLD && !log {
                bench_copy(&mut group, "copy", &x, &mut out);
            }
            group.finish();
        }
    }
}

/// rten-vecmath's gate activation (sigmoid, silu, gelu), out of place, returning the output.
fn rten_gate<'y>(act: &Activation, x: &[f32], y: &'y mut [MaybeUninit<f32>]) -> Option<&'y mut [f32]> {
    Some(match act.to_string().as_str() {
        "sigmoid" => rten_vecmath::Sigmoid {}.map(x, y),
        "silu" => rten_vecmath::Silu {}.map(x, y),
        "gelu" => rten_vecmath::Gelu {}.map(x, y),
        "gelu(approximate=tanh)" => rten_vecmath::ApproxGelu {}.map(x, y),
        _ => return None,
    })
}

/// `out = out·b` (in rayon chunks above the threshold): the second pass of an unfused gate.
fn multiply_into(out: &mut [f32], b: &[f32]) {
    let multiply = |o: &mut [f32], b: &[f32]| o.iter_mut().zip(b).for_each(|(o, b)| *o *= b);
    if out.len() >= PARALLEL_THRESHOLD {
        out.par_chunks_mut(CHUNK)
            .zip(b.par_chunks(CHUNK))
            .for_each(|(o, b)| multiply(o, b));
    } else {
        multiply(out, b)
    }
}

/// `gated/<spec>/<id>/<n>`: the fused gated forward (`fused`) against two passes, actkern's
/// activation then a multiply loop (`two-pass`), and rten-vecmath's activation then the same
/// loop (`rten-vecmath`, in cache, where it has the activation). One thread in cache, the default
/// threading at 64Mi; `n` counts outputs (each pass reads two inputs of `n`).
fn bench_gated(c: &mut Criterion) {
    for g in actkern::GATED {
        let mut group = c.benchmark_group(format!("gated/{g}"));
        let (act, glu): (Activation, bool) = match g {
            Gated::Glu => ("sigmoid".parse().unwrap(), true),
            Gated::Swiglu => ("silu".parse().unwrap(), false),
            Gated::Reglu => ("relu".parse().unwrap(), false),
            _ => (g.to_string().replacen("geglu", "gelu", 1).parse().unwrap(), false),
        };
        for n in IN_CACHE.into_iter().chain([LARGE[1]]) {
            configure(&mut group, n);
            let a = inputs(n, INPUT_OFFSET);
            let b = inputs(n, GRADIENT_OFFSET);
            let mut out = outputs(n);
            let serial = n < PARALLEL_THRESHOLD;
            // glu gates its second input: σ(b)·a.
            let (gate_input, other) = if glu { (&b, &a) } else { (&a, &b) };
            group.bench_function(BenchmarkId::new("fused", n), |bench| {
                bench.iter(|| {
                    if serial {
                        Serial(*g).forward(&a, &b, &mut out)
                    } else {
                        g.forward(&a, &b, &mut out)
                    }
                })
            });
            group.bench_function(BenchmarkId::new("two-pass", n), |bench| {
                bench.iter(|| {
                    if serial {
                        Serial(act).forward(gate_input, &mut out)
                    } else {
                        act.forward(gate_input, &mut out)
                    }
                    multiply_into(&mut out, other);
                })
            });
            let mut uninit = Aligned::new(
                &vec![MaybeUninit::<f32>::uninit(); n],
                MaybeUninit::uninit(),
                OUTPUT_OFFSET,
            );
            if serial && rten_gate(&act, &gate_input[..16], &mut uninit[..16]).is_some() {
                group.bench_function(BenchmarkId::new("rten-vecmath", n), |bench| {
                    bench.iter(|| {
                        let y = rten_gate(&act, gate_input, &mut uninit).expect("checked above");
                        multiply_into(y, other);
                    })
                });
            }
        }
        group.finish();
    }
}

/// `bias/<spec>/<id>/<n>`: bias + activation over rows of 4096, fused (`fused`) against an add
/// loop followed by the activation in place (`add-then-forward`). One thread in cache, the
/// default threading at 64Mi.
fn bench_bias(c: &mut Criterion) {
    const COLS: usize = 4096;
    for spec in ["relu", "gelu", "silu"] {
        let act: Activation = spec.parse().expect("a known activation");
        let mut group = c.benchmark_group(format!("bias/{act}"));
        for n in IN_CACHE.into_iter().chain([LARGE[1]]) {
            configure(&mut group, n);
            let x = inputs(n, INPUT_OFFSET);
            let bias = inputs(COLS, GRADIENT_OFFSET);
            let mut y = outputs(n);
            let serial = n < PARALLEL_THRESHOLD;
            group.bench_function(BenchmarkId::new("fused", n), |bench| {
                bench.iter(|| {
                    if serial {
                        Serial(act).forward_bias(&x, &bias, &mut y)
                    } else {
                        act.forward_bias(&x, &bias, &mut y)
                    }
                })
            });
            group.bench_function(BenchmarkId::new("add-then-forward", n), |bench| {
                let add = |y: &mut [f32], x: &[f32]| {
                    for (y, x) in y.chunks_exact_mut(COLS).zip(x.chunks_exact(COLS)) {
                        y.iter_mut().zip(x).zip(bias.iter()).for_each(|((y, x), b)| *y = x + b);
                    }
                };
                bench.iter(|| {
                    if serial {
                        add(&mut y, &x);
                        Serial(act).forward_inplace(&mut y)
                    } else {
                        y.par_chunks_mut(CHUNK)
                            .zip(x.par_chunks(CHUNK))
                            .for_each(|(y, x)| add(y, x));
                        act.forward_inplace(&mut y)
                    }
                })
            });
        }
        group.finish();
    }
}

fn bench_all(c: &mut Criterion) {
    bench_softmax(c);
    bench_gated(c);
    bench_bias(c);
    bench_baselines(c);
    bench_from_output(c);
    for info in ACTIVATIONS {
        for act in info.formula_variants() {
            bench_dtypes(c, &act);
        }
    }
    for info in ACTIVATIONS {
        for act in info.formula_variants() {
            bench_activation(c, &act);
        }
    }
}

criterion_group!(benches, bench_all);
criterion_main!(benches);
