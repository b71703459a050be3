//! The fused operations of CONTRACT §6: gated activations, bias + activation, prelu and rrelu.
//!
//! Gated: the bounds (forward ≤ 3 ULP, backward ≤ 4 ULP, with the floors scaled by |b·dout|) on
//! a million random inputs, reglu bit for bit, special values, the halves layout against two
//! slices, in place, every backend, positions and thread counts. Bias + activation: the bits of
//! add-then-forward and add-then-backward for every example instance, and dbias against an
//! `f64` sum. prelu and rrelu: their formulas bit for bit, dweight against an `f64` sum.

use crate::common::{Failures, backends, instances, on, show};
use actkern::accuracy::{near_derivative_zero, ulp_error};
use actkern::half::{bf16, f16};
use actkern::{Activation, Apply, Element, Fast, GATED, Gated, LeakyRelu, PARALLEL_THRESHOLD, Relu, Rrelu, Serial};
use rand::rngs::Xoshiro256PlusPlus as StdRng;
use rand::{RngExt, SeedableRng};

/// Random values of magnitude 2⁻²⁰..2²⁰ of either sign, so that products of three never
/// overflow or underflow on their own; every eighth is in [−12, 12], where the gates bend.
fn random_values(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            if i % 8 == 0 {
                rng.random_range(-12.0f32..12.0)
            } else {
                let m: f32 = rng.random_range(1.0f32..2.0);
                let e: i32 = rng.random_range(-20..=20);
                let s = if rng.random::<bool>() { 1.0 } else { -1.0 };
                s * m * 2f32.powi(e)
            }
        })
        .collect()
}

/// Special values for gated inputs.
fn specials() -> Vec<f32> {
    vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1e-45,
        f32::MAX,
        -f32::MAX,
        -1.278_464_5,
        -0.751_791_5,
        20.0,
        -20.0,
        100.0,
        -100.0,
    ]
}

/// The activation of a gate, for the derivative-zero window.
fn gate_activation(g: Gated) -> Activation {
    let spec = match g.to_string().as_str() {
        "glu" => "sigmoid".to_string(),
        "swiglu" => "silu".to_string(),
        "reglu" => "relu".to_string(),
        other => other.replacen("geglu", "gelu", 1),
    };
    spec.parse().unwrap()
}

const MIN_NORMAL: f64 = f32::MIN_POSITIVE as f64;

/// Whether `got` meets CONTRACT §6's bound `ulps` against `want`, or the absolute floor
/// `floor` (the §4 floors scaled by the factor the gate's value or derivative is multiplied by).
fn meets(got: f32, want: f64, ulps: f64, floor: f64) -> bool {
    ulp_error(got, want) <= ulps || (want.is_finite() && (f64::from(got) - want).abs() <= floor)
}

/// Checks a gated forward and backward on `a`, `b`, `dout` against the reference. reglu is
/// checked against its formula bit for bit instead (`reglu_is_its_formula_bit_for_bit`): on
/// relu's flat piece its backward selects 0 (CONTRACT §3), where `dout·b·0` in `f64` is NaN
/// for an infinite or NaN factor.
fn check_gated_accuracy(g: Gated, a: &[f32], b: &[f32], dout: &[f32], failures: &mut Failures) -> [f64; 3] {
    let mut worst = [0.0f64; 3];
    if g == Gated::Reglu {
        return worst;
    }
    let n = a.len();
    let (mut out, mut da, mut db) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    g.forward(a, b, &mut out);
    g.backward(a, b, dout, &mut da, &mut db);
    let act = gate_activation(g);
    let glu = g == Gated::Glu;
    for i in 0..n {
        let (a, b, dout) = (a[i], b[i], dout[i]);
        let (a64, b64, d64) = (f64::from(a), f64::from(b), f64::from(dout));
        // The gate's argument and the factor its value or derivative is multiplied by.
        let (arg, other) = if glu { (b, a64) } else { (a, b64) };
        // The gate's value and derivative: where one is below 2⁻¹²⁶ (and may come out as 0, §4)
        // and the factor it meets is infinite, the product may be NaN, 0 or ±inf (CONTRACT §6).
        let (gate_value, gate_slope) = if glu {
            (g.reference_forward(1.0, b64), g.reference_backward(1.0, b64, 1.0).1)
        } else {
            (g.reference_forward(a64, 1.0), g.reference_backward(a64, 1.0, 1.0).0)
        };
        let tiny_times_inf = |tiny: f64, factor: f64| tiny.abs() < MIN_NORMAL && factor.is_infinite();
        let want = g.reference_forward(a64, b64);
        let finite_ulps = |got: f32, want: f64| Some(ulp_error(got, want)).filter(|e| e.is_finite()).unwrap_or(0.0);
        // The maxima count where the gate's value (or slope) is normal: below, the floors apply.
        if gate_value.abs() >= MIN_NORMAL {
            worst[0] = worst[0].max(finite_ulps(out[i], want));
        }
        if !tiny_times_inf(gate_value, other) && !meets(out[i], want, 3.0, MIN_NORMAL * other.abs()) {
            failures.push(format!(
                "{g} forward a = {}, b = {}: got {}, want {want:e} ({:.2} ULP)",
                show(a),
                show(b),
                show(out[i]),
                ulp_error(out[i], want)
            ));
        }
        let (want_da, want_db) = g.reference_backward(a64, b64, d64);
        // The derivative's factor: dout·b (glu: dout·a); near its zero the §4 window applies.
        let scale = (d64 * other).abs();
        let window = if near_derivative_zero(&act, arg) {
            2f64.powi(-24) * scale
        } else {
            0.0
        };
        let (d_gate, d_other, want_gate, want_other) = if glu {
            (db[i], da[i], want_db, want_da)
        } else {
            (da[i], db[i], want_da, want_db)
        };
        // dout·b (glu: dout·a) is rounded to f32 before the activation's backward, as
        // PyTorch's autograd of f(a)·b forms it; where that product overflows, the result is
        // that of the f32 operations and no bound applies (CONTRACT §6).
        let factor_overflows = (dout * other as f32).is_infinite() && dout.is_finite() && other.is_finite();
        if !factor_overflows
            && !tiny_times_inf(gate_slope, d64 * other)
            && !meets(d_gate, want_gate, 4.0, window.max(MIN_NORMAL * scale))
        {
            failures.push(format!(
                "{g} d(gate input) a = {}, b = {}, dout = {}: got {}, want {want_gate:e} ({:.2} ULP)",
                show(a),
                show(b),
                show(dout),
                show(d_gate),
                ulp_error(d_gate, want_gate)
            ));
        }
        if !near_derivative_zero(&act, arg) && gate_slope.abs() >= MIN_NORMAL && !factor_overflows {
            worst[1] = worst[1].max(finite_ulps(d_gate, want_gate));
        }
        if gate_value.abs() >= MIN_NORMAL {
            worst[2] = worst[2].max(finite_ulps(d_other, want_other));
        }
        if !tiny_times_inf(gate_value, d64) && !meets(d_other, want_other, 4.0, MIN_NORMAL * d64.abs()) {
            failures.push(format!(
                "{g} d(other input) a = {}, b = {}, dout = {}: got {}, want {want_other:e} ({:.2} ULP)",
                show(a),
                show(b),
                show(dout),
                show(d_other),
                ulp_error(d_other, want_other)
            ));
        }
    }
    worst
}

#[test]
fn gated_spec_strings_round_trip_and_errors_name_the_choices() {
    for g in GATED {
        let s = g.to_string();
        assert_eq!(s.parse::<Gated>().unwrap(), *g, "{s}");
    }
    assert_eq!(
        " GeGLU ( approximate = 'tanh' ) ".parse::<Gated>().unwrap().to_string(),
        "geglu(approximate=tanh)"
    );
    assert_eq!("geglu(approximate=none)".parse::<Gated>().unwrap().to_string(), "geglu");
    for (bad, says) in [
        ("swigl", "unknown gated activation `swigl`"),
        ("", "empty name"),
        ("geglu(approximate=erf)", "one of: none, tanh"),
        ("geglu(alpha=1)", "no parameter `alpha`"),
        ("swiglu(beta=1)", "takes no parameters"),
        ("geglu(approximate=tanh", "`)` at the end"),
    ] {
        let e = bad.parse::<Gated>().unwrap_err().to_string();
        assert!(e.contains(says) && e.contains("swiglu"), "{bad}: {e}");
    }
}

#[test]
fn gated_meets_its_bounds_on_a_million_random_inputs() {
    let n = 1 << 20;
    let (a, b, dout) = (random_values(n, 1), random_values(n, 2), random_values(n, 3));
    for g in GATED.iter().filter(|g| **g != Gated::Reglu) {
        let mut failures = Failures::default();
        let [forward, d_gate, d_other] = check_gated_accuracy(*g, &a, &b, &dout, &mut failures);
        // `--nocapture` shows the maxima for the contract's table.
        eprintln!(
            "{g}: forward {forward:.3} ULP, d(gate input) {d_gate:.3}, d(other input) {d_other:.3} (where the gate's value or slope is normal, outside the zero window)"
        );
        failures.assert_none(&format!("{g}"));
    }
}

#[test]
fn gated_special_values_on_every_backend() {
    let s = specials();
    // Every pair of specials, with dout from the specials too (rotated).
    let (mut a, mut b, mut dout) = (vec![], vec![], vec![]);
    for (i, &x) in s.iter().enumerate() {
        for (j, &y) in s.iter().enumerate() {
            a.push(x);
            b.push(y);
            dout.push(s[(i + 2 * j + 1) % s.len()]);
        }
    }
    for backend in backends() {
        for g in GATED {
            let mut failures = Failures::default();
            on(backend, || check_gated_accuracy(*g, &a, &b, &dout, &mut failures));
            failures.assert_none(&format!("{g} on {backend}"));
        }
    }
    // The products follow IEEE: silu(+inf)·0 is NaN, silu(−inf)·1 is −0.
    let mut out = [0.0f32; 2];
    Gated::Swiglu.forward(&[f32::INFINITY, f32::NEG_INFINITY], &[0.0, 1.0], &mut out);
    assert!(out[0].is_nan());
    assert_eq!(out[1].to_bits(), (-0.0f32).to_bits());
}

#[test]
fn reglu_is_its_formula_bit_for_bit() {
    let n = 1 << 16;
    let mut a = random_values(n, 4);
    a.extend(specials());
    let mut b = random_values(a.len(), 5);
    b.rotate_left(3);
    let dout = random_values(a.len(), 6);
    // relu(−0) = −0 (CONTRACT §3): only negative values become 0.
    let relu = |x: f32| if x < 0.0 { 0.0 } else { x };
    for backend in backends() {
        let (mut out, mut da, mut db) = (vec![0.0; a.len()], vec![0.0; a.len()], vec![0.0; a.len()]);
        on(backend, || {
            Gated::Reglu.forward(&a, &b, &mut out);
            Gated::Reglu.backward(&a, &b, &dout, &mut da, &mut db);
        });
        for i in 0..a.len() {
            // relu'(a)·(dout·b): on relu's flat piece exactly 0, NaN for a NaN a (CONTRACT §3).
            let want_da = if a[i].is_nan() {
                f32::NAN
            } else if a[i] > 0.0 {
                dout[i] * b[i]
            } else {
                0.0
            };
            let same = |x: f32, y: f32| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
            assert!(same(out[i], relu(a[i]) * b[i]), "{backend} a = {} b = {}", a[i], b[i]);
            assert!(
                same(da[i], want_da),
                "{backend} da a = {} b = {} dout = {}",
                a[i],
                b[i],
                dout[i]
            );
            assert!(same(db[i], dout[i] * relu(a[i])), "{backend} db a = {}", a[i]);
        }
    }
}

fn same_bits(x: &[f32], y: &[f32]) -> bool {
    x.len() == y.len()
        && x.iter()
            .zip(y)
            .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
}

#[test]
fn gated_backends_agree_and_halves_and_in_place_match_two_slices() {
    let (rows, cols) = (37, 45);
    let x = random_values(rows * 2 * cols, 7);
    let dout = random_values(rows * cols, 8);
    let a: Vec<f32> = x.chunks(2 * cols).flat_map(|r| r[..cols].to_vec()).collect();
    let b: Vec<f32> = x.chunks(2 * cols).flat_map(|r| r[cols..].to_vec()).collect();
    for g in GATED {
        let mut first: Option<(Vec<f32>, Vec<f32>, Vec<f32>)> = None;
        for backend in backends() {
            on(backend, || {
                let n = rows * cols;
                let (mut out, mut da, mut db) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
                g.forward(&a, &b, &mut out);
                g.backward(&a, &b, &dout, &mut da, &mut db);

                let mut halves = vec![0.0; n];
                g.forward_halves(&x, cols, &mut halves);
                assert!(same_bits(&halves, &out), "{g} {backend} forward_halves");
                let mut dx = vec![0.0; x.len()];
                g.backward_halves(&x, &dout, cols, &mut dx);
                let da_h: Vec<f32> = dx.chunks(2 * cols).flat_map(|r| r[..cols].to_vec()).collect();
                let db_h: Vec<f32> = dx.chunks(2 * cols).flat_map(|r| r[cols..].to_vec()).collect();
                assert!(
                    same_bits(&da_h, &da) && same_bits(&db_h, &db),
                    "{g} {backend} backward_halves"
                );
                let mut x_dx = x.clone();
                g.backward_halves_inplace(&mut x_dx, &dout, cols);
                assert!(same_bits(&x_dx, &dx), "{g} {backend} backward_halves_inplace");

                let mut a_out = a.clone();
                g.forward_inplace(&mut a_out, &b);
                assert!(same_bits(&a_out, &out), "{g} {backend} forward_inplace");
                let (mut a_da, mut b_db) = (a.clone(), b.clone());
                g.backward_inplace(&mut a_da, &mut b_db, &dout);
                assert!(
                    same_bits(&a_da, &da) && same_bits(&b_db, &db),
                    "{g} {backend} backward_inplace"
                );

                let mut serial = vec![0.0; n];
                Serial(*g).forward(&a, &b, &mut serial);
                assert!(same_bits(&serial, &out), "{g} {backend} Serial");
                match &first {
                    None => first = Some((out, da, db)),
                    Some((o, d1, d2)) => assert!(
                        same_bits(o, &out) && same_bits(d1, &da) && same_bits(d2, &db),
                        "{g}: {backend} differs from {}",
                        backends()[0]
                    ),
                }
            })
        }
    }
}

#[test]
fn gated_results_do_not_depend_on_position_length_or_threads() {
    let data = random_values(48, 9);
    let other = random_values(48, 10);
    for g in GATED {
        let mut whole = vec![0.0; 48];
        g.forward(&data, &other, &mut whole);
        for len in 0..40 {
            for offset in 0..8 {
                let mut out = vec![0.0; len];
                g.forward(&data[offset..offset + len], &other[offset..offset + len], &mut out);
                assert!(
                    same_bits(&out, &whole[offset..offset + len]),
                    "{g} len {len} offset {offset}"
                );
            }
        }
    }
    // Rows of 3 × 2 cols on 1, 2 and 3 threads, long enough to be split.
    let cols = 3;
    let rows = 2 * PARALLEL_THRESHOLD / (2 * cols) + 7;
    let x = random_values(rows * 2 * cols, 11);
    let dout = random_values(rows * cols, 12);
    for g in [Gated::Swiglu, Gated::Glu] {
        let mut results = vec![];
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (mut out, mut dx) = (vec![0.0; rows * cols], vec![0.0; x.len()]);
            pool.install(|| {
                g.forward_halves(&x, cols, &mut out);
                g.backward_halves(&x, &dout, cols, &mut dx);
            });
            results.push((out, dx));
        }
        for r in &results[1..] {
            assert!(
                same_bits(&r.0, &results[0].0) && same_bits(&r.1, &results[0].1),
                "{g} threads"
            );
        }
    }
}

/// 16-bit gated calls give `E::from_f32` of the `f32` call on the widened inputs.
fn check_gated_16<E: Element>() {
    let (rows, cols) = (9, 21);
    let x: Vec<E> = random_values(rows * 2 * cols, 13)
        .into_iter()
        .map(E::from_f32)
        .collect();
    let dout: Vec<E> = random_values(rows * cols, 14).into_iter().map(E::from_f32).collect();
    let widen = |v: &[E]| v.iter().map(|e| e.to_f32()).collect::<Vec<f32>>();
    let round = |v: &[f32]| v.iter().map(|&e| E::from_f32(e).to_f32()).collect::<Vec<f32>>();
    for backend in backends() {
        for g in GATED {
            on(backend, || {
                let (mut out, mut out32) = (vec![E::default(); rows * cols], vec![0.0; rows * cols]);
                g.forward_halves(&x, cols, &mut out);
                g.forward_halves(&widen(&x), cols, &mut out32);
                assert!(
                    same_bits(&widen(&out), &round(&out32)),
                    "{g} {backend} {:?} forward",
                    E::DTYPE
                );
                let (mut dx, mut dx32) = (vec![E::default(); x.len()], vec![0.0; x.len()]);
                g.backward_halves(&x, &dout, cols, &mut dx);
                g.backward_halves(&widen(&x), &widen(&dout), cols, &mut dx32);
                assert!(
                    same_bits(&widen(&dx), &round(&dx32)),
                    "{g} {backend} {:?} backward",
                    E::DTYPE
                );
            })
        }
    }
}

#[test]
fn gated_bf16_and_f16_round_the_f32_result_once() {
    check_gated_16::<bf16>();
    check_gated_16::<f16>();
}

/// Shapes for bias + activation: empty, one element, many short rows (summed in a block), rows
/// of one pass each (256 or more), one of them longer than the block.
const BIAS_SHAPES: [(usize, usize); 7] = [(0, 3), (1, 1), (3, 5), (7, 17), (40, 100), (5, 300), (2, 5000)];

fn bias_case(rows: usize, cols: usize, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let x = random_values(rows * cols, seed)
        .into_iter()
        .map(|v| v.clamp(-30.0, 30.0))
        .collect();
    let bias = random_values(cols, seed + 1)
        .into_iter()
        .map(|v| v.clamp(-3.0, 3.0))
        .collect();
    let dy = random_values(rows * cols, seed + 2);
    (x, bias, dy)
}

/// `x + bias` row by row, as a caller without the fused call would compute it.
fn add_bias<E: Element>(x: &[E], bias: &[E]) -> Vec<f32> {
    x.chunks(bias.len().max(1))
        .flat_map(|row| {
            row.iter()
                .zip(bias)
                .map(|(x, b)| x.to_f32() + b.to_f32())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Checks forward_bias and backward_bias of `act` against add-then-forward and add-then-backward
/// on `f32` sums, rounded once to `E`.
fn check_bias<E: Element, A: Apply + Sync>(act: &A, label: &str, failures: &mut Failures) {
    for (k, &(rows, cols)) in BIAS_SHAPES.iter().enumerate() {
        let (x, bias, dy) = bias_case(rows, cols, 20 + k as u64);
        let to_e = |v: &[f32]| v.iter().map(|&v| E::from_f32(v)).collect::<Vec<E>>();
        let (x, bias, dy) = (to_e(&x), to_e(&bias), to_e(&dy));
        let widen = |v: &[E]| v.iter().map(|e| e.to_f32()).collect::<Vec<f32>>();
        let sums = add_bias(&x, &bias);
        let n = x.len();

        let mut want = vec![0.0f32; n];
        act.forward(&sums, &mut want);
        let want: Vec<f32> = want.iter().map(|&v| E::from_f32(v).to_f32()).collect();
        let mut y = vec![E::default(); n];
        act.forward_bias(&x, &bias, &mut y);
        if !same_bits(&widen(&y), &want) {
            failures.push(format!("{label} {:?} forward_bias [{rows}, {cols}]", E::DTYPE));
        }
        let mut in_place = x.clone();
        act.forward_bias_inplace(&mut in_place, &bias);
        if !same_bits(&widen(&in_place), &want) {
            failures.push(format!("{label} {:?} forward_bias_inplace [{rows}, {cols}]", E::DTYPE));
        }

        let mut want_dx = vec![0.0f32; n];
        act.backward(&sums, &widen(&dy), &mut want_dx);
        let want_dx: Vec<f32> = want_dx.iter().map(|&v| E::from_f32(v).to_f32()).collect();
        let (mut dx, mut dbias) = (vec![E::default(); n], vec![E::default(); cols]);
        act.backward_bias(&x, &bias, &dy, &mut dx, &mut dbias);
        if !same_bits(&widen(&dx), &want_dx) {
            failures.push(format!("{label} {:?} backward_bias dx [{rows}, {cols}]", E::DTYPE));
        }
        let (mut dy_dx, mut dbias2) = (dy.clone(), vec![E::default(); cols]);
        act.backward_bias_inplace(&x, &bias, &mut dy_dx, &mut dbias2);
        if !same_bits(&widen(&dy_dx), &want_dx) || !same_bits(&widen(&dbias2), &widen(&dbias)) {
            failures.push(format!("{label} {:?} backward_bias_inplace [{rows}, {cols}]", E::DTYPE));
        }
        for j in 0..cols {
            let column = (0..rows).map(|r| f64::from(want_dx[r * cols + j]));
            let (sum, magnitude) = column.fold((0.0f64, 0.0f64), |(s, m), v| (s + v, m + v.abs()));
            let want = E::from_f32(sum as f32).to_f32();
            let got = dbias[j].to_f32();
            // One rounding of an f64 sum: the same value, up to the f64 sums' own differences.
            let tolerance = (f64::from(want) - sum).abs().max(magnitude * 1e-12) * 1.01;
            if !(got == want || (got.is_nan() && sum.is_nan()) || (f64::from(got) - sum).abs() <= tolerance) {
                failures.push(format!(
                    "{label} {:?} dbias[{j}] [{rows}, {cols}]: got {got}, want {want}",
                    E::DTYPE
                ));
            }
        }
    }
}

#[test]
fn bias_is_add_then_activation_bit_for_bit_for_every_instance_backend_and_type() {
    for backend in backends() {
        let mut failures = Failures::default();
        on(backend, || {
            for act in instances() {
                let label = format!("{act} on {backend}");
                check_bias::<f32, _>(&act, &label, &mut failures);
                check_bias::<f32, _>(&Fast(&act), &format!("{label} (fast)"), &mut failures);
                check_bias::<f32, _>(&Serial(&act), &format!("{label} (serial)"), &mut failures);
            }
            for act in [Activation::Gelu(Default::default()), Relu.into()] {
                check_bias::<bf16, _>(&act, &format!("{act} on {backend}"), &mut failures);
                check_bias::<f16, _>(&act, &format!("{act} on {backend}"), &mut failures);
            }
        });
        failures.assert_none(&format!("bias on {backend}"));
    }
}

#[test]
fn dbias_is_not_a_running_f32_sum_and_does_not_depend_on_threads() {
    // 1e8 + 1 − 1e8: an f32 running sum gives 0.
    let (mut dx, mut dbias) = ([0.0f32; 3], [0.0f32; 1]);
    Relu.backward_bias(&[1.0, 1.0, 1.0], &[0.0], &[1e8, 1.0, -1e8], &mut dx, &mut dbias);
    assert_eq!(dbias, [1.0]);

    let (rows, cols) = (3 * PARALLEL_THRESHOLD / 64 + 5, 64);
    let (x, bias, dy) = bias_case(rows, cols, 30);
    let act: Activation = "gelu".parse().unwrap();
    let mut results = vec![];
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let (mut y, mut dx, mut dbias) = (vec![0.0; x.len()], vec![0.0; x.len()], vec![0.0; cols]);
        pool.install(|| {
            act.forward_bias(&x, &bias, &mut y);
            act.backward_bias(&x, &bias, &dy, &mut dx, &mut dbias);
        });
        results.push((y, dx, dbias));
    }
    for r in &results[1..] {
        assert!(same_bits(&r.0, &results[0].0) && same_bits(&r.1, &results[0].1) && same_bits(&r.2, &results[0].2));
    }
}

/// Checks prelu and prelu_backward on [outer, C, inner] against leaky_relu per element.
fn check_prelu(outer: usize, weight: &[f32], inner: usize, seed: u64) {
    let c = weight.len();
    let n = outer * c * if c == 1 { inner.max(1) } else { inner };
    let mut x = random_values(n, seed);
    for (i, s) in specials().into_iter().enumerate().take(n) {
        x[i * 7 % n.max(1)] = s;
    }
    let dy = random_values(n, seed + 1);
    let channel = |i: usize| if c == 1 { 0 } else { (i / inner) % c };
    let mut y = vec![0.0; n];
    actkern::prelu(&x, weight, inner, &mut y);
    let (mut dx, mut dw) = (vec![0.0; n], vec![0.0; c]);
    actkern::prelu_backward(&x, weight, &dy, inner, &mut dx, &mut dw);
    let mut sums = vec![0.0f64; c];
    for i in 0..n {
        let w = weight[channel(i)];
        let want = if x[i] > 0.0 { x[i] } else { w * x[i] };
        assert!(same_bits(&[y[i]], &[want]), "prelu x = {} w = {w}", x[i]);
        let (mut one, mut d) = ([0.0f32], [0.0f32]);
        Serial(LeakyRelu { negative_slope: w }).backward(&x[i..=i], &dy[i..=i], &mut one);
        d[0] = dx[i];
        assert!(same_bits(&d, &one), "prelu dx x = {} dy = {} w = {w}", x[i], dy[i]);
        if x[i].partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            sums[channel(i)] += f64::from(x[i]) * f64::from(dy[i]);
        }
    }
    for (k, (&got, &sum)) in dw.iter().zip(&sums).enumerate() {
        let want = sum as f32;
        assert!(
            got == want
                || (got.is_nan() && sum.is_nan())
                || (f64::from(got) - sum).abs() <= (f64::from(want) - sum).abs() * 1.01 + sum.abs() * 1e-12,
            "dweight[{k}]: got {got}, want {want}"
        );
    }
    // In place, on 1 and 3 threads.
    let mut in_place = x.clone();
    actkern::prelu_inplace(&mut in_place, weight, inner);
    assert!(same_bits(&in_place, &y));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let (mut dy_dx, mut dw2) = (dy.clone(), vec![0.0; c]);
    pool.install(|| actkern::prelu_backward_inplace(&x, weight, &mut dy_dx, inner, &mut dw2));
    assert!(
        same_bits(&dy_dx, &dx) && same_bits(&dw2, &dw),
        "prelu in place / threads"
    );
}

#[test]
fn prelu_is_leaky_relu_per_channel_bit_for_bit() {
    for backend in backends() {
        on(backend, || {
            check_prelu(3, &[0.25], 5, 40); // one weight
            check_prelu(2, &[0.25, -0.5, 0.0], 7, 41); // NCHW, a zero weight
            check_prelu(11, &[0.1, 0.2, 0.3, 0.4, 0.5], 1, 42); // NHWC
            check_prelu(1, &[0.3, 0.7], 3 * PARALLEL_THRESHOLD / 4, 43); // split across threads
            check_prelu(PARALLEL_THRESHOLD / 8, &[0.3; 19], 1, 44);
        });
    }
}

#[test]
#[should_panic(expected = "not a whole number of [C, inner] = [3, 2] blocks")]
fn prelu_rejects_a_shape_that_is_not_whole_channels() {
    actkern::prelu(&[0.0f32; 7], &[0.1, 0.2, 0.3], 2, &mut [0.0; 7]);
}

#[test]
fn rrelu_eval_is_leaky_relu_with_the_mean_slope() {
    let x = random_values(4096, 50);
    let dy = random_values(4096, 51);
    for (lower, upper) in [(0.125, 1.0 / 3.0), (0.1, 0.3), (-0.5, -0.25)] {
        let rrelu = Rrelu { lower, upper };
        let leaky = LeakyRelu {
            negative_slope: ((f64::from(lower) + f64::from(upper)) / 2.0) as f32,
        };
        let (mut a, mut b) = (vec![0.0; 4096], vec![0.0; 4096]);
        rrelu.forward(&x, &mut a);
        leaky.forward(&x, &mut b);
        assert!(same_bits(&a, &b));
        rrelu.backward(&x, &dy, &mut a);
        leaky.backward(&x, &dy, &mut b);
        assert!(same_bits(&a, &b));
    }
    assert!(
        "rrelu(lower=0.5, upper=0.25)"
            .parse::<Activation>()
            .unwrap_err()
            .to_string()
            .contains("must not exceed")
    );
}

#[test]
fn rrelu_train_draws_slopes_of_seed_and_index_alone() {
    let n = 2 * PARALLEL_THRESHOLD + 37;
    let mut x = random_values(n, 60);
    x[5] = f32::NAN;
    x[6] = -0.0;
    let (lower, upper) = (0.125f32, 1.0f32 / 3.0);
    let mut results = vec![];
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let (mut y, mut noise) = (vec![0.0; n], vec![0.0; n]);
        pool.install(|| actkern::rrelu_train(&x, lower, upper, 99, &mut y, &mut noise));
        results.push((y, noise));
    }
    for r in &results[1..] {
        assert!(
            same_bits(&r.0, &results[0].0) && same_bits(&r.1, &results[0].1),
            "thread count changed rrelu_train"
        );
    }
    let (y, noise) = &results[0];
    let (mut sum, mut count) = (0.0f64, 0usize);
    for i in 0..n {
        if x[i] <= 0.0 {
            let r = actkern::rrelu_slope(lower, upper, 99, i as u64);
            assert_eq!(noise[i], r);
            assert!((lower..=upper).contains(&r));
            assert!(same_bits(&[y[i]], &[x[i] * r]));
            sum += f64::from(r);
            count += 1;
        } else {
            assert_eq!(noise[i], 1.0);
            assert!(same_bits(&[y[i]], &[x[i]]));
        }
    }
    // The mean slope of ~130 000 uniform draws is within 0.002 of (lower + upper)/2.
    let mean = sum / count as f64;
    assert!((mean - (0.125 + 1.0 / 3.0) / 2.0).abs() < 0.002, "mean slope {mean}");
    // Another seed gives other slopes; the backward is dy·noise.
    assert_ne!(
        actkern::rrelu_slope(lower, upper, 100, 0),
        actkern::rrelu_slope(lower, upper, 99, 0)
    );
    let dy = random_values(n, 61);
    let mut dx = vec![0.0; n];
    actkern::rrelu_train_backward(&dy, noise, &mut dx);
    assert!(
        dx.iter()
            .zip(&dy)
            .zip(noise)
            .all(|((d, g), r)| d.to_bits() == (g * r).to_bits())
    );
}

/// prelu, its backward and rrelu_train on 16-bit buffers: the `f32` results on the widened
/// inputs, each output rounded once (dweight: the `f64` sum of the widened products, rounded once).
fn check_prelu_rrelu_16<E: Element>() {
    let (outer, weight, inner) = (5, [0.25f32, -0.5, 0.0], 9);
    let n = outer * weight.len() * inner;
    let to_e = |v: &[f32]| v.iter().map(|&v| E::from_f32(v)).collect::<Vec<E>>();
    let widen = |v: &[E]| v.iter().map(|e| e.to_f32()).collect::<Vec<f32>>();
    let round = |v: &[f32]| v.iter().map(|&v| E::from_f32(v).to_f32()).collect::<Vec<f32>>();
    let (x, dy, w) = (to_e(&random_values(n, 70)), to_e(&random_values(n, 71)), to_e(&weight));
    for backend in backends() {
        on(backend, || {
            let (mut y, mut y32) = (vec![E::default(); n], vec![0.0f32; n]);
            actkern::prelu(&x, &w, inner, &mut y);
            actkern::prelu(&widen(&x), &widen(&w), inner, &mut y32);
            assert!(same_bits(&widen(&y), &round(&y32)), "{backend} {:?} prelu", E::DTYPE);
            let (mut dx, mut dw) = (vec![E::default(); n], vec![E::default(); 3]);
            let (mut dx32, mut dw32) = (vec![0.0f32; n], vec![0.0f32; 3]);
            actkern::prelu_backward(&x, &w, &dy, inner, &mut dx, &mut dw);
            actkern::prelu_backward(&widen(&x), &widen(&w), &widen(&dy), inner, &mut dx32, &mut dw32);
            assert!(
                same_bits(&widen(&dx), &round(&dx32)),
                "{backend} {:?} prelu dx",
                E::DTYPE
            );
            assert!(
                same_bits(&widen(&dw), &round(&dw32)),
                "{backend} {:?} prelu dweight",
                E::DTYPE
            );

            let (mut y, mut noise) = (vec![E::default(); n], vec![E::default(); n]);
            actkern::rrelu_train(&x, 0.125, 1.0 / 3.0, 5, &mut y, &mut noise);
            let (mut y32, mut noise32) = (vec![0.0f32; n], vec![0.0f32; n]);
            actkern::rrelu_train(&widen(&x), 0.125, 1.0 / 3.0, 5, &mut y32, &mut noise32);
            assert!(
                same_bits(&widen(&y), &round(&y32)),
                "{backend} {:?} rrelu_train y",
                E::DTYPE
            );
            assert!(
                same_bits(&widen(&noise), &round(&noise32)),
                "{backend} {:?} rrelu_train noise",
                E::DTYPE
            );
        })
    }
}

#[test]
fn prelu_and_rrelu_train_on_bf16_and_f16_round_the_f32_result_once() {
    check_prelu_rrelu_16::<bf16>();
    check_prelu_rrelu_16::<f16>();
}

/// The product with b can double the gate's error in ULPs: when b's significand is near 2 and
/// the product does not carry into the next binade, an ULP of the product is half the gate's
/// ULP times |b|. So the inputs where the gate is worst are paired with the b that aligns worst,
/// and the bound must still hold (geglu's gelu, 1.555 ULP alone, is the closest: 2.675 here).
#[test]
fn gated_forward_bound_holds_where_the_gate_is_worst_and_b_aligns_worst() {
    let n = 1 << 22;
    let args: Vec<f32> = (0..n).map(|i| -6.0 + 12.0 * i as f32 / n as f32).collect();
    let ones = vec![1.0f32; n];
    for g in GATED.iter().copied().filter(|g| *g != Gated::Reglu) {
        let glu = g == Gated::Glu;
        let pair = |arg: f32, other: f32| if glu { (other, arg) } else { (arg, other) };
        let mut gate = vec![0.0f32; n];
        if glu {
            g.forward(&ones, &args, &mut gate)
        } else {
            g.forward(&args, &ones, &mut gate)
        }
        let mut worst: Vec<(f64, usize)> = (0..n)
            .filter_map(|i| {
                let (a, b) = pair(args[i], 1.0);
                let want = g.reference_forward(a.into(), b.into());
                (want.abs() > 1e-30).then(|| (ulp_error(gate[i], want), i))
            })
            .collect();
        worst.sort_by(|x, y| y.0.total_cmp(&x.0));
        let mut max = 0.0f64;
        for &(_, i) in worst.iter().take(500) {
            let significand = gate[i].abs() / 2f32.powi(gate[i].abs().log2().floor() as i32);
            for k in 1..=32 {
                let other = ((2.0 / significand) * (1.0 - k as f32 * 1e-7)).min(1.999_999_9);
                let (a, b) = pair(args[i], other);
                let mut out = [0.0f32];
                g.forward(&[a], &[b], &mut out);
                let error = ulp_error(out[0], g.reference_forward(a.into(), b.into()));
                assert!(error <= 3.0, "{g}: a = {}, b = {}: {error:.3} ULP", show(a), show(b));
                max = max.max(error);
            }
        }
        eprintln!("{g}: worst-aligned forward {max:.3} ULP");
    }
}
