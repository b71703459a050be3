//! The driver: every API method at every length 0..=40 and offset 0..8 (sub-slices of a larger
//! buffer, so every alignment and tail length), in place and out of place, gives each element
//! the bits of the one-element call; serial and parallel runs (in pools of 1, 2 and 3 threads)
//! give identical bits; typed kernels agree with `Activation`; mismatched lengths panic naming
//! both lengths, before writing anything; empty slices are fine.

use crate::common::{Failures, backends, instances, on, show, special_inputs};
use actkern::{Activation, Apply, Backend, Custom, Fast, PARALLEL_THRESHOLD, Serial, Tier};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The slice API, one entry per method of `Apply`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Method {
    Forward,
    ForwardInplace,
    Derivative,
    Backward,
    BackwardInplace,
    DerivativeFromOutput,
    BackwardFromOutput,
}

const METHODS: [Method; 7] = [
    Method::Forward,
    Method::ForwardInplace,
    Method::Derivative,
    Method::Backward,
    Method::BackwardInplace,
    Method::DerivativeFromOutput,
    Method::BackwardFromOutput,
];

impl Method {
    fn is_from_output(self) -> bool {
        matches!(self, Method::DerivativeFromOutput | Method::BackwardFromOutput)
    }
}

/// Runs `method` of `api` over `x` (and `dy`) into `out`; the in-place methods first copy their
/// input into `out`. Returns false for a from-output method the activation does not have.
fn call<A: Apply>(api: &A, method: Method, x: &[f32], dy: &[f32], out: &mut [f32]) -> bool {
    match method {
        Method::Forward => api.forward(x, out),
        Method::ForwardInplace => {
            out.copy_from_slice(x);
            api.forward_inplace(out);
        }
        Method::Derivative => api.derivative(x, out),
        Method::Backward => api.backward(x, dy, out),
        Method::BackwardInplace => {
            out.copy_from_slice(dy);
            api.backward_inplace(x, out);
        }
        Method::DerivativeFromOutput => return api.derivative_from_output(x, out).is_ok(),
        Method::BackwardFromOutput => return api.backward_from_output(x, dy, out).is_ok(),
    }
    true
}

/// `len` inputs mixing the instance's special values (NaNs, infinities, kinks) with random
/// ordinary values, and as many gradients, zeros, infinities and NaN among them.
fn buffers(act: &Activation, len: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let specials = special_inputs(act);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let x = (0..len)
        .map(|_| {
            if rng.random_range(0..4) == 0 {
                specials[rng.random_range(0..specials.len())]
            } else {
                rng.random_range(-12.0f32..12.0)
            }
        })
        .collect();
    let dy = (0..len)
        .map(|_| match rng.random_range(0..16) {
            0 => 0.0,
            1 => f32::INFINITY,
            2 => f32::NAN,
            _ => rng.random_range(-3.0f32..3.0),
        })
        .collect();
    (x, dy)
}

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits())
}

/// The same bits, except that any two NaNs match: a NaN's sign and payload are left open
/// (CONTRACT §3), and LLVM may fold a negation into a fused multiply-add (whose NaN keeps its
/// sign) in one compilation unit and not in another, as it does for silu' and mish' on AVX2
/// between the library's typed kernels and a `Custom` kernel compiled in this crate.
fn same_bits_up_to_nan_sign(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
}

/// Each element of every call, at every length 0..=40 and offset 0..8, has the bits of the
/// one-element call on the same input; elements outside the sub-slice are never written.
#[test]
fn every_length_and_offset_is_position_independent() {
    const MAX_LEN: usize = 40;
    const OFFSETS: usize = 8;
    const SENTINEL: f32 = -123.25;
    let mut failures = Failures::default();
    for act in instances() {
        let (x, dy) = buffers(&act, MAX_LEN + OFFSETS, 7);
        for b in backends() {
            for method in METHODS {
                // The one-element result at every position of the buffer.
                let mut single = vec![0.0f32; x.len()];
                let mut supported = true;
                on(b, || {
                    for i in 0..x.len() {
                        supported &= call(&act, method, &x[i..=i], &dy[i..=i], &mut single[i..=i]);
                    }
                });
                if !supported {
                    assert!(
                        method.is_from_output() && !act.has_backward_from_output(),
                        "{act} {method:?} failed"
                    );
                    continue;
                }
                for offset in 0..OFFSETS {
                    for len in 0..=MAX_LEN {
                        let range = offset..offset + len;
                        let mut out = vec![SENTINEL; x.len()];
                        let ok = on(b, || {
                            call(
                                &act,
                                method,
                                &x[range.clone()],
                                &dy[range.clone()],
                                &mut out[range.clone()],
                            )
                        });
                        assert!(ok, "{act} {method:?} failed at length {len}");
                        for i in 0..x.len() {
                            let want = if range.contains(&i) { single[i] } else { SENTINEL };
                            if out[i].to_bits() != want.to_bits() {
                                failures.push(format!(
                                    "{act} {method:?} [{b}] offset {offset} length {len}: \
                                     element {i} (x={}, dy={}) is {}, alone {}",
                                    show(x[i]),
                                    show(dy[i]),
                                    show(out[i]),
                                    show(want)
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    failures.assert_none("position independence");
}

/// Above `PARALLEL_THRESHOLD` the work is split across rayon's current pool: the bits equal
/// those of `Serial`, whatever the pool size. Every activation's default instance runs on every
/// backend, the other example instances (whose parameters do not change how work is split) on
/// the widest one.
#[test]
fn serial_and_parallel_give_the_same_bits() {
    // Several chunks, and a tail that is not a multiple of any lane count.
    let len = PARALLEL_THRESHOLD + 20_011;
    let pools: Vec<(usize, rayon::ThreadPool)> = [1, 2, 3]
        .into_iter()
        .map(|k| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .expect("a rayon pool");
            (k, pool)
        })
        .collect();
    let mut failures = Failures::default();
    let mut serial = vec![0.0f32; len];
    let mut parallel = vec![0.0f32; len];
    for act in instances() {
        let (x, dy) = buffers(&act, len, 11);
        let backends = if act == act.info().default_instance() {
            backends()
        } else {
            vec![Backend::best()]
        };
        for b in backends {
            for method in METHODS {
                if !on(b, || call(&Serial(act), method, &x, &dy, &mut serial)) {
                    continue;
                }
                for (k, pool) in &pools {
                    parallel.fill(0.0);
                    pool.install(|| on(b, || call(&act, method, &x, &dy, &mut parallel)));
                    if !same_bits(&serial, &parallel) {
                        let i = (0..len)
                            .find(|&i| serial[i].to_bits() != parallel[i].to_bits())
                            .unwrap_or_default();
                        failures.push(format!(
                            "{act} {method:?} [{b}] on {k} threads: element {i} (x={}) is {}, \
                             serially {}",
                            show(x[i]),
                            show(parallel[i]),
                            show(serial[i])
                        ));
                    }
                }
            }
        }
    }
    failures.assert_none("serial vs parallel");
}

/// Activation, `Serial`, the typed entry points (`actkern::Tanh`, `actkern::Elu { alpha }`, ...)
/// and `Custom` (the path of a kernel written in another crate) give the same bits. The typed
/// and `Custom` paths are checked on a few kernels of different shapes: the typed ones share one
/// generated `Apply` impl, and every `Custom` kernel is compiled again in the calling crate.
#[test]
fn typed_kernels_agree_with_activation() {
    /// The typed call's result, and `Custom`'s for Elu and Silu, where the instance is one of
    /// the kernels checked that way; empty otherwise.
    fn other_paths(act: &Activation, method: Method, x: &[f32], dy: &[f32]) -> Vec<(bool, Vec<f32>)> {
        let mut results = Vec::new();
        let mut push = |path: &dyn Fn(&mut [f32]) -> bool| {
            let mut out = vec![0.0; x.len()];
            results.push((path(&mut out), out));
        };
        match *act {
            Activation::Tanh(k) => push(&|o| call(&k, method, x, dy, o)),
            Activation::Gelu(k) => push(&|o| call(&k, method, x, dy, o)),
            Activation::Hardtanh(k) => push(&|o| call(&k, method, x, dy, o)),
            Activation::Elu(k) => {
                push(&|o| call(&k, method, x, dy, o));
                push(&|o| call(&Custom(k), method, x, dy, o));
            }
            Activation::Silu(k) => {
                push(&|o| call(&k, method, x, dy, o));
                push(&|o| call(&Custom(k), method, x, dy, o));
            }
            _ => {}
        }
        results
    }
    let mut failures = Failures::default();
    let mut covered = 0;
    for act in instances() {
        let (x, dy) = buffers(&act, 1000, 3);
        for b in backends() {
            for method in METHODS {
                let mut via_enum = vec![0.0; x.len()];
                let mut via_serial = vec![0.0; x.len()];
                let (ok, ok_serial, others) = on(b, || {
                    (
                        call(&act, method, &x, &dy, &mut via_enum),
                        call(&Serial(act), method, &x, &dy, &mut via_serial),
                        other_paths(&act, method, &x, &dy),
                    )
                });
                covered += usize::from(!others.is_empty());
                if others.iter().any(|(o, _)| *o != ok) || ok != ok_serial {
                    failures.push(format!("{act} {method:?} [{b}]: supported differently"));
                    continue;
                }
                if ok
                    && (others.iter().any(|(_, out)| !same_bits_up_to_nan_sign(&via_enum, out))
                        || !same_bits(&via_enum, &via_serial))
                {
                    failures.push(format!("{act} {method:?} [{b}]: typed, Custom or Serial bits differ"));
                }
            }
        }
    }
    assert!(
        covered > 0,
        "no instance of the kernels checked through typed and Custom calls"
    );
    failures.assert_none("typed kernels");
}

/// `Fast` composes with `Serial` either way round, through references too: the same bits
/// whatever the wrapping and the thread count. Activations without a fast tier of their own give
/// exactly the accurate tier's bits; the others are checked against their bounds by the sweeps.
#[test]
fn fast_wraps_and_composes() {
    let len = PARALLEL_THRESHOLD + 4_099;
    let mut failures = Failures::default();
    for info in actkern::ACTIVATIONS {
        let act = info.default_instance();
        let (x, dy) = buffers(&act, len, 5);
        assert_eq!(Fast(act).tier(), Tier::Fast);
        assert_eq!(Serial(Fast(&act)).tier(), Tier::Fast);
        assert_eq!(Fast(Serial(act)).tier(), Tier::Fast);
        assert!(!Fast(Serial(act)).allows_threads() && Fast(act).allows_threads());
        for method in METHODS {
            let mut outs = vec![vec![0.0f32; len]; 4];
            let b = Backend::best();
            let ok = on(b, || {
                [
                    call(&Fast(act), method, &x, &dy, &mut outs[0]),
                    call(&Serial(Fast(&act)), method, &x, &dy, &mut outs[1]),
                    call(&Fast(Serial(&act)), method, &x, &dy, &mut outs[2]),
                    call(&act, method, &x, &dy, &mut outs[3]),
                ]
            });
            if ok.iter().any(|&o| o != ok[0]) {
                failures.push(format!("{act} {method:?}: supported differently by the wrappers"));
                continue;
            }
            if !ok[0] {
                continue;
            }
            if !same_bits(&outs[0], &outs[1]) || !same_bits(&outs[0], &outs[2]) {
                failures.push(format!(
                    "{act} {method:?} [{b}]: Fast, Serial(Fast) and Fast(Serial) differ"
                ));
            }
            if !info.fast_tier && !same_bits(&outs[0], &outs[3]) {
                failures.push(format!(
                    "{act} {method:?} [{b}]: no fast tier, yet Fast changed the bits"
                ));
            }
        }
    }
    failures.assert_none("Fast wrapper");
}

/// The message of a panic, or `None` if `f` did not panic.
fn panic_message(f: impl FnOnce()) -> Option<String> {
    let payload = catch_unwind(AssertUnwindSafe(f)).err()?;
    Some(
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

/// Every method with slices of different lengths panics with a message naming both lengths,
/// and writes nothing; with `Serial` too, and for from-output calls the activation lacks.
#[test]
fn length_mismatch_panics_naming_both_lengths() {
    const SHORT: usize = 13;
    const LONG: usize = 29;
    const UNTOUCHED: f32 = 4.5;
    let x = [0.5f32; LONG];
    for act in instances() {
        for serial in [false, true] {
            // (method, input length, gradient length, output length)
            let cases = [
                (Method::Forward, SHORT, SHORT, LONG),
                (Method::Forward, LONG, LONG, SHORT),
                (Method::Derivative, SHORT, SHORT, LONG),
                (Method::Backward, SHORT, LONG, SHORT),
                (Method::Backward, SHORT, SHORT, LONG),
                (Method::Backward, LONG, SHORT, SHORT),
                (Method::BackwardInplace, SHORT, LONG, LONG),
                (Method::BackwardInplace, LONG, SHORT, SHORT),
                (Method::DerivativeFromOutput, SHORT, SHORT, LONG),
                (Method::BackwardFromOutput, SHORT, LONG, SHORT),
                (Method::BackwardFromOutput, SHORT, SHORT, LONG),
            ];
            for (method, nx, ndy, nout) in cases {
                let mut out = vec![UNTOUCHED; nout];
                let dy = vec![1.0f32; ndy];
                let input = &x[..nx];
                let message = panic_message(|| {
                    let out = &mut out[..];
                    match method {
                        Method::BackwardInplace => {
                            // The in-place gradient buffer is `dy_dx`: use its length.
                            let mut dy_dx = vec![UNTOUCHED; ndy];
                            if serial {
                                Serial(act).backward_inplace(input, &mut dy_dx);
                            } else {
                                act.backward_inplace(input, &mut dy_dx);
                            }
                            assert!(dy_dx.iter().all(|&v| v == UNTOUCHED));
                        }
                        _ if serial => {
                            call(&Serial(act), method, input, &dy, out);
                        }
                        _ => {
                            call(&act, method, input, &dy, out);
                        }
                    }
                });
                let Some(message) = message else {
                    panic!(
                        "{act} {method:?} (serial: {serial}) with lengths {nx}/{ndy}/{nout} \
                         did not panic"
                    );
                };
                assert!(
                    message.contains(&SHORT.to_string()) && message.contains(&LONG.to_string()),
                    "{act} {method:?}: the panic message does not name both lengths \
                     {SHORT} and {LONG}: {message:?}"
                );
                assert!(
                    out.iter().all(|&v| v == UNTOUCHED),
                    "{act} {method:?}: wrote output before panicking on a length mismatch"
                );
            }
        }
    }
}

/// Empty slices are fine for every method; from-output methods an activation lacks are an
/// error even then.
#[test]
fn empty_slices_are_fine() {
    for act in instances() {
        for b in backends() {
            for method in METHODS {
                let ok = on(b, || call(&act, method, &[], &[], &mut []));
                assert_eq!(
                    ok,
                    !method.is_from_output() || act.has_backward_from_output(),
                    "{act} {method:?} [{b}] on empty slices"
                );
                let ok_serial = on(b, || call(&Serial(act), method, &[], &[], &mut []));
                assert_eq!(ok, ok_serial, "{act} {method:?} [{b}]: Serial differs");
            }
        }
    }
    // And on the default backend, outside `with_backend`.
    for act in instances() {
        act.forward_inplace::<f32>(&mut []);
        act.backward_inplace::<f32>(&[], &mut []);
    }
}

/// Each kernel's `FROM_OUTPUT` rule agrees with its instances: `Never` has no instance with a
/// derivative from the output, `Always` no instance without, `When` examples of both (so that
/// its condition is exercised); the error lists exactly the supported activations.
#[test]
fn from_output_rules_match_the_instances() {
    use actkern::FromOutputSupport;
    let hardswish: Activation = "hardswish".parse().unwrap();
    let err = hardswish
        .backward_from_output(&[1.0], &[1.0], &mut [0.0])
        .expect_err("hardswish has no backward from the output")
        .to_string();
    let listed: Vec<&str> = err
        .split_once("(supported: ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(list, _)| list.split(", ").collect())
        .unwrap_or_else(|| panic!("no list in `{err}`"));
    let mut failures = Failures::default();
    for info in actkern::ACTIVATIONS {
        let support: Vec<bool> = info
            .example_instances()
            .iter()
            .map(|a| a.has_backward_from_output())
            .collect();
        let (ok, entry) = match info.from_output {
            FromOutputSupport::Never => (support.iter().all(|s| !s), None),
            FromOutputSupport::Always => (support.iter().all(|s| *s), Some(info.name.to_string())),
            FromOutputSupport::When(condition) => (
                support.contains(&true) && support.contains(&false),
                Some(format!("{} with {condition}", info.name)),
            ),
        };
        let in_list = listed.iter().any(|l| l.split(' ').next() == Some(info.name));
        if !ok || in_list != entry.is_some() || entry.is_some_and(|e| !listed.contains(&e.as_str())) {
            failures.push(format!(
                "{}: {:?}, instances {support:?}, listed {listed:?}",
                info.name, info.from_output
            ));
        }
    }
    failures.assert_none("from-output rules");
}
