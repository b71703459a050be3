//! Special values (CONTRACT §2.1 kink table, §3, §4) for every registered activation, every example
//! instance and every backend this CPU runs: ±0, ±inf, NaNs with several payloads, subnormals,
//! ±f32::MIN_POSITIVE, ±f32::MAX, each kink with its neighbours, and values around ±3, ±6, ±λ
//! and each instance's parameters — through forward, derivative, backward, their in-place forms
//! and the derivative and backward from the output.

use crate::common::{
    DYS, Failures, backends, check_backward, check_function, has_from_output, instances, nans, on, real_params, show,
    special_inputs,
};
use actkern::accuracy::{self, Function, ulp_error};
use actkern::{ACTIVATIONS, Activation, Apply, Backend, Fast, Tier};

/// Every dy of [`DYS`] for each input, and the inputs repeated alongside.
fn with_every_dy(inputs: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut xs = Vec::with_capacity(inputs.len() * DYS.len());
    let mut dys = Vec::with_capacity(inputs.len() * DYS.len());
    for &dy in &DYS {
        xs.extend_from_slice(inputs);
        dys.extend(std::iter::repeat_n(dy, inputs.len()));
    }
    (xs, dys)
}

/// The first index where `a` and `b` differ in bits, NaN matching any NaN: which operand's
/// payload an x86 instruction keeps when both are NaN is the compiler's choice of operand order,
/// which may differ between the in-place and out-of-place loops (CONTRACT §3 asks for NaN).
fn first_difference(a: &[f32], b: &[f32]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| match (a.get(i), b.get(i)) {
        (Some(p), Some(q)) => p.to_bits() != q.to_bits() && !(p.is_nan() && q.is_nan()),
        _ => true,
    })
}

#[test]
fn forward_and_forward_inplace() {
    let mut failures = Failures::default();
    for act in instances() {
        let x = special_inputs(&act);
        for b in backends() {
            let mut y = vec![0.0; x.len()];
            let mut inplace = x.clone();
            on(b, || {
                act.forward(&x, &mut y);
                act.forward_inplace(&mut inplace);
            });
            check_function(&act, b, Tier::Accurate, Function::Forward, &x, &y, &mut failures);
            if let Some(i) = first_difference(&y, &inplace) {
                failures.push(format!(
                    "{act} [{b}]: forward_inplace differs from forward at x={}: {} vs {}",
                    show(x[i]),
                    show(inplace[i]),
                    show(y[i])
                ));
            }
        }
    }
    failures.assert_none("forward on special values");
}

/// The fast tier keeps every rule of CONTRACT §2–3 (NaN, infinities, signed zeros, kinks) and its
/// own bounds on the special inputs, on every backend, for forward, derivative and backward.
#[test]
fn fast_tier_on_special_values() {
    let mut failures = Failures::default();
    for act in instances().into_iter().filter(|a| a.info().fast_tier) {
        let x = special_inputs(&act);
        let (xs, dys) = with_every_dy(&x);
        for b in backends() {
            let (mut y, mut d, mut dx) = (vec![0.0; x.len()], vec![0.0; x.len()], vec![0.0; xs.len()]);
            on(b, || {
                Fast(&act).forward(&x, &mut y);
                Fast(&act).derivative(&x, &mut d);
                Fast(&act).backward(&xs, &dys, &mut dx);
            });
            check_function(&act, b, Tier::Fast, Function::Forward, &x, &y, &mut failures);
            check_function(&act, b, Tier::Fast, Function::Derivative, &x, &d, &mut failures);
            check_backward(&act, b, Tier::Fast, false, &xs, &dys, &dx, &mut failures);
        }
    }
    failures.assert_none("fast tier on special values");
}

#[test]
fn derivative() {
    let mut failures = Failures::default();
    for act in instances() {
        let x = special_inputs(&act);
        for b in backends() {
            let mut d = vec![0.0; x.len()];
            on(b, || act.derivative(&x, &mut d));
            check_function(&act, b, Tier::Accurate, Function::Derivative, &x, &d, &mut failures);
        }
    }
    failures.assert_none("derivative on special values");
}

#[test]
fn backward_and_backward_inplace() {
    let mut failures = Failures::default();
    for act in instances() {
        let (x, dy) = with_every_dy(&special_inputs(&act));
        for b in backends() {
            let mut dx = vec![0.0; x.len()];
            let mut inplace = dy.clone();
            on(b, || {
                act.backward(&x, &dy, &mut dx);
                act.backward_inplace(&x, &mut inplace);
            });
            check_backward(&act, b, Tier::Accurate, false, &x, &dy, &dx, &mut failures);
            if let Some(i) = first_difference(&dx, &inplace) {
                failures.push(format!(
                    "{act} [{b}]: backward_inplace differs from backward at x={} dy={}: {} vs {}",
                    show(x[i]),
                    show(dy[i]),
                    show(inplace[i]),
                    show(dx[i])
                ));
            }
        }
    }
    failures.assert_none("backward on special values");
}

/// The derivative and backward from the output, over the special values taken as outputs and
/// over the outputs the forward gives for them; or an error that writes nothing (CONTRACT §2.3).
#[test]
fn from_output() {
    let mut failures = Failures::default();
    for act in instances() {
        let x = special_inputs(&act);
        for b in backends() {
            if !has_from_output(&act) {
                let mut d = vec![7.0; x.len()];
                let (r1, r2) = on(b, || {
                    (
                        act.derivative_from_output(&x, &mut d),
                        act.backward_from_output(&x, &x, &mut d),
                    )
                });
                for r in [r1, r2] {
                    match r {
                        Ok(()) => {
                            failures.push(format!("{act} [{b}]: from-output succeeded, CONTRACT §2.3 excludes it"))
                        }
                        Err(e) => {
                            let msg = e.to_string();
                            if !msg.contains(&act.to_string()) || !msg.contains("backward(x, dy, dx)") {
                                failures.push(format!(
                                    "{act}: from-output error does not name the activation and \
                                     the alternative: {msg}"
                                ));
                            }
                        }
                    }
                }
                if d.iter().any(|&v| v != 7.0) {
                    failures.push(format!("{act} [{b}]: a failing from-output call wrote output"));
                }
                continue;
            }
            let mut y = vec![0.0; x.len()];
            on(b, || act.forward(&x, &mut y));
            let mut ys = x.clone();
            ys.extend_from_slice(&y);
            let ys = crate::common::dedup(ys);
            let mut d = vec![0.0; ys.len()];
            let r = on(b, || act.derivative_from_output(&ys, &mut d));
            if let Err(e) = r {
                failures.push(format!("{act} [{b}]: derivative_from_output failed: {e}"));
                continue;
            }
            check_function(
                &act,
                b,
                Tier::Accurate,
                Function::DerivativeFromOutput,
                &ys,
                &d,
                &mut failures,
            );
            let (yy, dy) = with_every_dy(&ys);
            let mut dx = vec![0.0; yy.len()];
            if let Err(e) = on(b, || act.backward_from_output(&yy, &dy, &mut dx)) {
                failures.push(format!("{act} [{b}]: backward_from_output failed: {e}"));
                continue;
            }
            check_backward(&act, b, Tier::Accurate, true, &yy, &dy, &dx, &mut failures);
        }
    }
    failures.assert_none("from-output on special values");
}

/// CONTRACT §3: NaN in, NaN out, for every function and at every position in the buffer.
#[test]
fn nan_in_nan_out_at_every_position() {
    const LEN: usize = 37;
    let mut failures = Failures::default();
    let filler: Vec<f32> = (0..LEN).map(|i| i as f32 * 0.37 - 6.0).collect();
    for act in instances() {
        for b in backends() {
            for nan in nans() {
                for pos in 0..LEN {
                    let mut x = filler.clone();
                    x[pos] = nan;
                    for dy in [0.0, 1.0, f32::INFINITY] {
                        let dys = vec![dy; LEN];
                        let mut out = [
                            vec![0.0; LEN],
                            vec![0.0; LEN],
                            vec![0.0; LEN],
                            vec![0.0; LEN],
                            vec![0.0; LEN],
                        ];
                        let mut inplace = x.clone();
                        let from_output = on(b, || {
                            act.forward(&x, &mut out[0]);
                            act.forward_inplace(&mut inplace);
                            act.derivative(&x, &mut out[1]);
                            act.backward(&x, &dys, &mut out[2]);
                            let [.., d, dx] = &mut out;
                            act.derivative_from_output(&x, d)
                                .and_then(|()| act.backward_from_output(&x, &dys, dx))
                                .is_ok()
                        });
                        let mut names = vec!["forward", "derivative", "backward"];
                        if from_output {
                            names.extend(["derivative_from_output", "backward_from_output"]);
                        }
                        let mut check = |name: &str, v: f32| {
                            if !v.is_nan() {
                                failures.push(format!(
                                    "{act} {name} [{b}] NaN {} at {pos}/{LEN} dy={dy}: got {}",
                                    show(nan),
                                    show(v)
                                ));
                            }
                        };
                        for (name, o) in names.iter().zip(&out) {
                            check(name, o[pos]);
                        }
                        check("forward_inplace", inplace[pos]);
                    }
                }
            }
        }
    }
    failures.assert_none("NaN propagation");
}

/// The expected derivative at each kink of CONTRACT §2.1's table, for one instance (value by
/// value; the table is about these nine activations by name).
fn kink_table(act: &Activation) -> Vec<(f32, f64)> {
    let p = real_params(act);
    let both_zeros = |v: f64| vec![(0.0, v), (-0.0, v)];
    match act.name() {
        "relu" => both_zeros(0.0),
        "relu6" => [both_zeros(0.0), vec![(6.0, 0.0)]].concat(),
        "leaky_relu" => both_zeros(p[0].into()),
        "elu" => both_zeros(p[0].into()),
        "selu" => both_zeros(crate::common::SELU_LAMBDA * crate::common::SELU_ALPHA),
        "hardtanh" => {
            let (lo, hi) = (p[0], p[1]);
            let mut rows = vec![(lo, 0.0), (hi, 0.0)];
            if lo < 0.0 && hi > 0.0 {
                rows.extend(both_zeros(1.0));
            }
            rows
        }
        "hardsigmoid" => [both_zeros(1.0 / 6.0), vec![(-3.0, 0.0), (3.0, 0.0)]].concat(),
        "hardswish" => [both_zeros(0.5), vec![(-3.0, 0.0), (3.0, 1.0)]].concat(),
        "hardshrink" if p[0] >= 0.0 => [both_zeros(0.0), vec![(-p[0], 0.0), (p[0], 0.0)]].concat(),
        _ => Vec::new(),
    }
}

/// CONTRACT §2.1's table of derivatives at the kinks, value by value, with the backward selecting
/// exactly 0 or dy where the table says 0 or 1 (CONTRACT §3).
#[test]
fn kink_table_of_spec() {
    const TABLE: [&str; 9] = [
        "relu",
        "relu6",
        "leaky_relu",
        "elu",
        "selu",
        "hardtanh",
        "hardsigmoid",
        "hardswish",
        "hardshrink",
    ];
    let mut failures = Failures::default();
    let mut covered = std::collections::HashSet::new();
    for act in instances() {
        let rows = kink_table(&act);
        if !rows.is_empty() {
            covered.insert(act.name());
        }
        for b in backends() {
            for &(x, want) in &rows {
                let dys = [1.0f32, -2.5, f32::INFINITY];
                let (mut d, mut dx) = ([0.0f32], [0.0f32; 3]);
                on(b, || {
                    act.derivative(&[x], &mut d);
                    act.backward(&[x; 3], &dys, &mut dx);
                });
                let d = d[0];
                let exact = want == 0.0 || want == 1.0;
                let ok = if exact {
                    f64::from(d) == want
                } else {
                    ulp_error(d, want) <= accuracy::bound(&act, Function::Derivative, Tier::Accurate)
                };
                if !ok {
                    failures.push(format!(
                        "{act} [{b}] f'({}) = {} but CONTRACT §2.1 says {want}",
                        show(x),
                        show(d)
                    ));
                }
                for (&dy, &g) in dys.iter().zip(&dx) {
                    let ok = match want {
                        0.0 => g == 0.0,
                        1.0 => g.to_bits() == dy.to_bits(),
                        _ if dy.is_infinite() => g == dy * want.signum() as f32,
                        _ => ulp_error(g, f64::from(dy) * want) <= crate::common::BACKWARD_BOUND,
                    };
                    if !ok {
                        failures.push(format!(
                            "{act} [{b}] backward(x={}, dy={dy}) = {}; want {dy}·{want}",
                            show(x),
                            show(g)
                        ));
                    }
                }
            }
        }
        if act.name() == "selu" {
            let mut d = [0.0f32];
            act.derivative(&[0.0], &mut d);
            assert!((d[0] - 1.7581).abs() < 1e-4, "selu'(0) = {} ≠ λα ≈ 1.7581", d[0]);
        }
    }
    for name in TABLE {
        assert!(
            covered.contains(name),
            "CONTRACT §2.1's kink table has `{name}` but no instance of it was checked"
        );
    }
    failures.assert_none("CONTRACT §2.1 kink table");
}

/// One CONTRACT §3 value: `function` of `spec` at `x` must have exactly the bits of `want`
/// (`None`: any zero).
struct Exact {
    spec: &'static str,
    function: Function,
    x: f32,
    want: Option<f32>,
}

const fn f(spec: &'static str, x: f32, want: f32) -> Exact {
    Exact {
        spec,
        function: Function::Forward,
        x,
        want: Some(want),
    }
}

const fn d(spec: &'static str, x: f32, want: Option<f32>) -> Exact {
    Exact {
        spec,
        function: Function::Derivative,
        x,
        want,
    }
}

const INF: f32 = f32::INFINITY;

/// CONTRACT §3's signed zeros and infinities, value by value. Rows for activations of §2.2 apply
/// once those are registered; every row of the eleven of §2.1 must run.
const SPEC_3: &[Exact] = &[
    // Signed zeros follow the formulas.
    f("relu", -0.0, -0.0),
    f("relu", 0.0, 0.0),
    f("relu6", -0.0, -0.0),
    f("hardtanh", -0.0, -0.0),
    f("elu", -0.0, -0.0),
    f("selu", -0.0, -0.0),
    f("leaky_relu", -0.0, -0.0),
    f("hardswish", -3.0, -0.0),
    f("hardswish", -3.5, -0.0),
    f("hardswish", -1.0e30, -0.0),
    f("hardswish", -f32::MAX, -0.0),
    f("hardswish", -INF, -0.0),
    f("hardswish", -0.0, -0.0),
    f("hardshrink", -0.0, 0.0),
    f("hardshrink", 0.25, 0.0),
    f("hardshrink", -0.25, 0.0),
    f("tanh", -0.0, -0.0),
    f("tanh", 0.0, 0.0),
    f("softshrink", -0.25, -0.0),
    f("softshrink", 0.25, 0.0),
    f("softshrink", -0.0, -0.0),
    // Infinities give the limits.
    f("tanh", INF, 1.0),
    f("tanh", -INF, -1.0),
    f("sigmoid", INF, 1.0),
    f("sigmoid", -INF, 0.0),
    f("elu", -INF, -1.0),
    f("elu(alpha=0.5)", -INF, -0.5),
    f("elu(alpha=2.5)", -INF, -2.5),
    f("elu", INF, INF),
    f("relu", INF, INF),
    f("relu", -INF, 0.0),
    f("relu6", INF, 6.0),
    f("hardtanh", INF, 1.0),
    f("hardtanh", -INF, -1.0),
    f("hardsigmoid", INF, 1.0),
    f("hardsigmoid", -INF, 0.0),
    f("hardswish", INF, INF),
    f("selu", INF, INF),
    f("softplus", INF, INF),
    f("gelu", -INF, -0.0),
    f("gelu(approximate=tanh)", -INF, -0.0),
    f("silu", -INF, -0.0),
    f("mish", -INF, -0.0),
    f("gelu", INF, INF),
    f("silu", INF, INF),
    f("mish", INF, INF),
    f("softsign", INF, 1.0),
    f("softsign", -INF, -1.0),
    // Derivatives at ±inf: 0 or the constant slope.
    d("tanh", INF, None),
    d("tanh", -INF, None),
    d("sigmoid", INF, None),
    d("sigmoid", -INF, None),
    d("elu", -INF, None),
    d("elu", INF, Some(1.0)),
    d("relu", INF, Some(1.0)),
    d("hardswish", -INF, None),
    d("hardswish", INF, Some(1.0)),
    d("gelu", -INF, None),
    d("gelu", INF, Some(1.0)),
    d("gelu(approximate=tanh)", -INF, None),
    d("gelu(approximate=tanh)", INF, Some(1.0)),
    d("silu", -INF, None),
    d("silu", INF, Some(1.0)),
    d("mish", -INF, None),
    d("mish", INF, Some(1.0)),
    d("softplus", INF, Some(1.0)),
];

/// The eleven activations of CONTRACT §2.1, which must be registered.
fn in_seed(name: &str) -> bool {
    [
        "tanh",
        "sigmoid",
        "relu",
        "relu6",
        "elu",
        "selu",
        "leaky_relu",
        "hardshrink",
        "hardsigmoid",
        "hardtanh",
        "hardswish",
    ]
    .contains(&name)
}

#[test]
fn signed_zeros_and_infinities_of_spec_3() {
    let mut failures = Failures::default();
    for row in SPEC_3 {
        let name = row.spec.split('(').next().unwrap_or_default();
        let registered = ACTIVATIONS.iter().any(|i| i.name == name);
        if !registered {
            assert!(!in_seed(name), "`{name}` (CONTRACT §2.1) is not registered");
            continue;
        }
        let act: Activation = row.spec.parse().unwrap_or_else(|e| panic!("`{}`: {e}", row.spec));
        for b in backends() {
            let mut out = [0.0f32];
            on(b, || match row.function {
                Function::Forward => act.forward(&[row.x], &mut out),
                _ => act.derivative(&[row.x], &mut out),
            });
            let got = out[0];
            let ok = match row.want {
                Some(w) => got.to_bits() == w.to_bits(),
                None => got == 0.0,
            };
            if !ok {
                failures.push(format!(
                    "{} {}({}) [{b}] = {}, CONTRACT §3 says {}",
                    row.spec,
                    row.function.label(),
                    show(row.x),
                    show(got),
                    row.want.map_or("0".to_string(), show),
                ));
            }
        }
    }
    failures.assert_none("CONTRACT §3 signed zeros and infinities");
}

/// The tests above run on every backend the CPU has: make sure that list is what the CPU offers,
/// so a detection bug cannot silently skip a backend.
#[test]
fn backends_match_the_cpu() {
    let available = backends();
    assert!(available.contains(&Backend::Scalar) && available.contains(&Backend::Portable));
    #[cfg(target_arch = "x86_64")]
    {
        assert_eq!(
            available.contains(&Backend::Avx2),
            std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        );
        assert_eq!(
            available.contains(&Backend::Avx512),
            std::arch::is_x86_feature_detected!("avx512f")
        );
    }
}
