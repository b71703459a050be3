//! `actkern bench`: throughput of every activation's forward and backward, next to a plain copy
//! of the same buffer (the memory-bandwidth ceiling) and a naive scalar loop (the baseline),
//! for each element type of `--dtype` (default `f32` alone).
//!
//! The naive loop is what one writes without this crate: one thread, one element at a time,
//! the formula evaluated in `f64` with the standard library's `exp`, `tanh`, `erfc`... (the
//! crate's `reference` module, which is also what the accuracy tests compare against) and
//! rounded to `f32`, then, for `bf16` and `f16` buffers, to the element type.
//!
//! With the default `--dtype f32` the table reads as it did before `--dtype` existed; asked for
//! other types, each size has a section per type, headed by its name. Every JSON record says its
//! `dtype`.

use super::{BenchArgs, CliError, Tiered, configure, parse_spec, print_stdout};
use actkern::half::{bf16, f16};
use actkern::{ACTIVATIONS, Activation, Apply, Dtype, Element, Kernel, KernelVisitor, PARALLEL_THRESHOLD};
use rayon::prelude::*;
use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Buffers moved per element: the forward reads x and writes y; the backward reads x and dy and
/// writes dx; the copy reads and writes one buffer. Times the element size, the bytes.
const FORWARD_BUFFERS: f64 = 2.0;
const BACKWARD_BUFFERS: f64 = 3.0;
const COPY_BUFFERS: f64 = 2.0;

/// Timed batches per measurement; the median is reported.
const BATCHES: usize = 5;

/// One measured function at one size and element type.
struct Record {
    size: usize,
    dtype: Dtype,
    /// The activation's spec, or `copy`.
    activation: String,
    /// `forward`, `backward`, `naive_forward`, `naive_backward` or `copy`.
    function: &'static str,
    seconds_per_call: f64,
    bytes_per_element: f64,
}

impl Record {
    fn gelem_per_s(&self) -> f64 {
        self.size as f64 / self.seconds_per_call / 1e9
    }
    fn gb_per_s(&self) -> f64 {
        self.gelem_per_s() * self.bytes_per_element
    }
}

/// Runs `actkern bench`.
pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    configure(&args.run)?;
    let sizes = parse_sizes(&args.sizes)?;
    // In the order given, each once.
    let mut dtypes: Vec<Dtype> = Vec::new();
    for &d in &args.dtype {
        if !dtypes.contains(&d) {
            dtypes.push(d);
        }
    }
    let activations: Vec<Activation> = if args.activations.is_empty() {
        ACTIVATIONS.iter().map(|i| i.default_instance()).collect()
    } else {
        args.activations
            .iter()
            .map(|s| parse_spec(s))
            .collect::<Result<_, _>>()?
    };
    let budget = Duration::from_millis(args.min_time_ms);
    let backend = actkern::backend();
    let tier = args.run.tier();
    let threads = rayon::current_num_threads();
    // The default, f32 alone, prints the table it printed before there was a choice.
    let labelled = dtypes != [Dtype::F32];
    let mut text = String::new();
    if !args.json {
        let _ = writeln!(
            text,
            "actkern bench: backend {backend} ({} lanes), {tier} tier, {threads} thread{} for \
             buffers of at least {PARALLEL_THRESHOLD} elements",
            backend.lanes(),
            if threads == 1 { "" } else { "s" },
        );
        let _ = writeln!(
            text,
            "naive = one thread, one element at a time, the formula in f64 (std libm) rounded \
             to f32{}",
            if dtypes.iter().any(|&d| d != Dtype::F32) {
                ", then to the element type"
            } else {
                ""
            }
        );
        if labelled {
            let per_type: Vec<String> = dtypes
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let size = d.size() as f64;
                    format!(
                        "{d} forward {}{}, backward {}, copy {}",
                        FORWARD_BUFFERS * size,
                        if i == 0 { " B/element" } else { "" },
                        BACKWARD_BUFFERS * size,
                        COPY_BUFFERS * size
                    )
                })
                .collect();
            let _ = writeln!(text, "GB/s counts bytes read and written: {}", per_type.join("; "));
        } else {
            let _ = writeln!(
                text,
                "GB/s counts bytes read and written: forward 8 B/element, backward 12, copy 8"
            );
        }
        print_stdout(&text)?;
        text.clear();
    }
    let bench = Bench {
        activations: &activations,
        budget,
        tier,
        json: args.json,
        labelled,
    };
    let mut records = Vec::new();
    for &size in &sizes {
        for &dtype in &dtypes {
            match dtype {
                Dtype::F32 => bench.size::<f32>(size, &mut records)?,
                Dtype::Bf16 => bench.size::<bf16>(size, &mut records)?,
                Dtype::F16 => bench.size::<f16>(size, &mut records)?,
                // `Dtype` is non-exhaustive: a type a newer library adds has no buffers here yet.
                other => {
                    return Err(CliError::input(format!(
                        "--dtype: element type {other} is not supported by this actkern command"
                    )));
                }
            }
        }
    }
    if args.json {
        print_stdout(&json(&records, backend, tier, threads))?;
    }
    Ok(())
}

/// What every measurement shares.
struct Bench<'a> {
    activations: &'a [Activation],
    budget: Duration,
    tier: actkern::Tier,
    json: bool,
    /// Whether the table names the element type of each section.
    labelled: bool,
}

impl Bench<'_> {
    /// Measures the copy and every activation on buffers of `size` elements of `E`, appending
    /// the records and (without --json) printing the table's section.
    fn size<E: Element>(&self, size: usize, records: &mut Vec<Record>) -> Result<(), CliError> {
        let (budget, dtype) = (self.budget, E::DTYPE);
        let bytes = |buffers: f64| buffers * dtype.size() as f64;
        let typed = |v: Vec<f32>| -> Vec<E> { v.into_iter().map(E::from_f32).collect() };
        let x = typed(inputs(size, -8.0, 8.0, 0x5eed));
        let dy = typed(inputs(size, -1.0, 1.0, 0xd1));
        // Filled, so every page is mapped before anything is timed.
        let mut out = vec![E::from_f32(1.0); size];
        let copy = Record {
            size,
            dtype,
            activation: "copy".into(),
            function: "copy",
            seconds_per_call: time(budget, &mut || copy(&x, &mut out)),
            bytes_per_element: bytes(COPY_BUFFERS),
        };
        let mut text = String::new();
        if !self.json {
            let what = if self.labelled {
                format!("{size} {dtype} elements")
            } else {
                format!("{size} elements")
            };
            let _ = writeln!(
                text,
                "\n{what} ({} per buffer)\n{:<34} {:>17} {:>17} {:>10} {:>10} {:>9}",
                human_bytes(size * dtype.size()),
                "",
                "forward",
                "backward",
                "naive fwd",
                "naive bwd",
                "speed-up"
            );
            let _ = writeln!(
                text,
                "{:<34} {:>8} {:>8} {:>8} {:>8} {:>10} {:>10} {:>4} {:>4}",
                "activation", "Gelem/s", "GB/s", "Gelem/s", "GB/s", "Gelem/s", "Gelem/s", "fwd", "bwd"
            );
            let _ = writeln!(
                text,
                "{:<34} {:>8.3} {:>8.2}",
                "copy (memcpy of x into y)",
                copy.gelem_per_s(),
                copy.gb_per_s()
            );
            print_stdout(&text)?;
            text.clear();
        }
        records.push(copy);
        for &activation in self.activations {
            let spec = activation.to_string();
            let act: Tiered = actkern::InTier(activation, self.tier);
            let record = |function, buffers, seconds_per_call| Record {
                size,
                dtype,
                activation: spec.clone(),
                function,
                seconds_per_call,
                bytes_per_element: bytes(buffers),
            };
            let t = time(budget, &mut || act.forward(&x, &mut out));
            let fwd = record("forward", FORWARD_BUFFERS, t);
            let t = time(budget, &mut || act.backward(&x, &dy, &mut out));
            let bwd = record("backward", BACKWARD_BUFFERS, t);
            let t = time(budget, &mut || act.visit(NaiveForward(&x, &mut out)));
            let nf = record("naive_forward", FORWARD_BUFFERS, t);
            let t = time(budget, &mut || act.visit(NaiveBackward(&x, &dy, &mut out)));
            let nb = record("naive_backward", BACKWARD_BUFFERS, t);
            let row = [fwd, bwd, nf, nb];
            if !self.json {
                let [fwd, bwd, nf, nb] = &row;
                let _ = writeln!(
                    text,
                    "{:<34} {:>8.3} {:>8.2} {:>8.3} {:>8.2} {:>10.4} {:>10.4} {:>4.0}× {:>3.0}×",
                    spec,
                    fwd.gelem_per_s(),
                    fwd.gb_per_s(),
                    bwd.gelem_per_s(),
                    bwd.gb_per_s(),
                    nf.gelem_per_s(),
                    nb.gelem_per_s(),
                    nf.seconds_per_call / fwd.seconds_per_call,
                    nb.seconds_per_call / bwd.seconds_per_call,
                );
                print_stdout(&text)?;
                text.clear();
            }
            records.extend(row);
        }
        Ok(())
    }
}

/// `64K,4M,1000` → element counts.
fn parse_sizes(s: &str) -> Result<Vec<usize>, CliError> {
    let bad = |part: &str| {
        CliError::input(format!(
            "--sizes: `{part}` is not a size; expected a positive element count such as 4096, \
             64K or 4M"
        ))
    };
    s.split(',')
        .map(|part| {
            let part = part.trim();
            let (digits, scale) = match part.as_bytes().last() {
                Some(b'k' | b'K') => (&part[..part.len() - 1], 1 << 10),
                Some(b'm' | b'M') => (&part[..part.len() - 1], 1 << 20),
                _ => (part, 1),
            };
            digits
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_mul(scale))
                .filter(|&n| n > 0 && n <= 1 << 30)
                .ok_or_else(|| bad(part))
        })
        .collect()
}

/// `n` values spread over `[lo, hi)` in a scrambled order (a fixed LCG: the same every run).
fn inputs(n: usize, lo: f32, hi: f32, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let unit = (state >> 40) as f32 / (1u64 << 24) as f32;
            lo + (hi - lo) * unit
        })
        .collect()
}

/// The copy, split across the pool as the kernels are.
fn copy<E: Element>(x: &[E], y: &mut [E]) {
    const TASK: usize = 1 << 15;
    if x.len() >= PARALLEL_THRESHOLD {
        y.par_chunks_mut(TASK)
            .zip(x.par_chunks(TASK))
            .for_each(|(y, x)| y.copy_from_slice(x));
    } else {
        y.copy_from_slice(x);
    }
}

/// Median seconds per call of `f`, over up to [`BATCHES`] batches taking about `budget` in
/// all (fewer, of one call each, when a single call takes longer than a batch should).
fn time(budget: Duration, f: &mut dyn FnMut()) -> f64 {
    // Warm up (caches, rayon's threads) and size the batches. The buffers' pages were touched
    // before the first measurement, so a call longer than the whole budget (a naive loop over
    // millions of elements) is its own measurement.
    let start = Instant::now();
    f();
    let once = start.elapsed().max(Duration::from_nanos(1)).as_secs_f64();
    if once >= budget.as_secs_f64() {
        return once;
    }
    let per_batch = budget.as_secs_f64() / BATCHES as f64;
    let calls = (per_batch / once).clamp(1.0, 1e6) as u32;
    let batches = (budget.as_secs_f64() / once).clamp(1.0, BATCHES as f64) as usize;
    let mut samples: Vec<f64> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            black_box(());
            start.elapsed().as_secs_f64() / f64::from(calls)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// `y[i] = f(x[i])` in `f64`, one element at a time, on one thread; rounded to `f32`, then to
/// `E`.
struct NaiveForward<'a, E>(&'a [E], &'a mut [E]);

impl<E: Element> KernelVisitor<()> for NaiveForward<'_, E> {
    fn visit<K: Kernel>(self, k: &K) {
        for (y, &x) in self.1.iter_mut().zip(black_box(self.0)) {
            *y = E::from_f32(k.reference_forward(f64::from(x.to_f32())) as f32);
        }
        black_box(self.1);
    }
}

/// `dx[i] = dy[i] · f'(x[i])` in `f64`, one element at a time, on one thread; rounded to `f32`,
/// then to `E`.
struct NaiveBackward<'a, E>(&'a [E], &'a [E], &'a mut [E]);

impl<E: Element> KernelVisitor<()> for NaiveBackward<'_, E> {
    fn visit<K: Kernel>(self, k: &K) {
        for ((dx, &x), &dy) in self.2.iter_mut().zip(black_box(self.0)).zip(self.1) {
            let d = f64::from(dy.to_f32()) * k.reference_derivative(f64::from(x.to_f32()));
            *dx = E::from_f32(d as f32);
        }
        black_box(self.2);
    }
}

fn human_bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One JSON document: the set-up, then one record per measurement.
fn json(records: &[Record], backend: actkern::Backend, tier: actkern::Tier, threads: usize) -> String {
    let mut s = format!(
        "{{\"backend\": {}, \"lanes\": {}, \"tier\": {}, \"threads\": {threads}, \
         \"parallel_threshold\": {PARALLEL_THRESHOLD}, \"naive\": {}, \"results\": [\n",
        json_string(backend.name()),
        backend.lanes(),
        json_string(tier.name()),
        json_string("one thread, per element, f64 reference formula rounded to f32, then to dtype")
    );
    for (i, r) in records.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {{\"size\": {}, \"dtype\": {}, \"activation\": {}, \"function\": {}, \
             \"seconds_per_call\": {:e}, \"gelem_per_s\": {:.6}, \"gb_per_s\": {:.6}}}{}",
            r.size,
            json_string(r.dtype.name()),
            json_string(&r.activation),
            json_string(r.function),
            r.seconds_per_call,
            r.gelem_per_s(),
            r.gb_per_s(),
            if i + 1 < records.len() { "," } else { "" }
        );
    }
    s.push_str("]}\n");
    s
}
