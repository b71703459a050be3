//! bf16 and f16 buffers: every result is the `f32` method's result on the widened input,
//! rounded once to nearest-even (`bf16::from_f32`, `f16::from_f32`), bit for bit, for every
//! activation instance, every one of the 2¹⁶ inputs, every backend, both tiers and every slice
//! method (in place included). NaN outputs match as NaN: the contract leaves their sign and
//! payload open (CONTRACT §3), and the `f32` and 16-bit paths are compiled separately.

use crate::common::{Failures, backends, instances, on, show};
use actkern::half::{bf16, f16};
use actkern::{Activation, Apply, Element, Fast, InTier, PARALLEL_THRESHOLD, Serial, Tier};

/// Every 16-bit pattern once.
fn all_patterns<E: Element>() -> Vec<E> {
    (0..=u16::MAX).map(|bits| bytemuck::cast(bits)).collect()
}

/// Incoming gradients for the sweep: every pattern again, in another order (an odd multiplier
/// permutes 2¹⁶), so each input meets a different gradient, NaN and infinities included.
fn gradients<E: Element>() -> Vec<E> {
    (0..=u16::MAX)
        .map(|i| bytemuck::cast(i.wrapping_mul(40_503).wrapping_add(12_345)))
        .collect()
}

fn widen<E: Element>(v: &[E]) -> Vec<f32> {
    v.iter().map(|e| e.to_f32()).collect()
}

/// Compares `got` with `E::from_f32` of the `f32` results; records the first few mismatches.
fn compare<E: Element>(what: &str, inputs: &[E], got: &[E], wide: &[f32], failures: &mut Failures) {
    let mut shown = 0;
    for ((x, g), w) in inputs.iter().zip(got).zip(wide) {
        let expected = E::from_f32(*w);
        let same = bytemuck::bytes_of(g) == bytemuck::bytes_of(&expected)
            || (g.to_f32().is_nan() && expected.to_f32().is_nan());
        if !same {
            shown += 1;
            if shown <= 3 {
                failures.push(format!(
                    "{what}: x = {} gave {} but the f32 result {} rounds to {}",
                    show(x.to_f32()),
                    show(g.to_f32()),
                    show(*w),
                    show(expected.to_f32())
                ));
            }
        }
    }
}

/// Every slice method of `act` on `x` (and `dy`) in type `E`, against the `f32` method.
fn check_all_methods<E: Element, A: Apply>(act: &A, label: &str, x: &[E], dy: &[E], failures: &mut Failures) {
    let (x32, dy32) = (widen(x), widen(dy));
    let n = x.len();
    let mut out = vec![E::default(); n];
    let mut out32 = vec![0.0f32; n];

    act.forward(x, &mut out);
    act.forward(&x32, &mut out32);
    compare(&format!("{label} forward"), x, &out, &out32, failures);
    let mut in_place = x.to_vec();
    act.forward_inplace(&mut in_place);
    compare(&format!("{label} forward_inplace"), x, &in_place, &out32, failures);

    act.derivative(x, &mut out);
    act.derivative(&x32, &mut out32);
    compare(&format!("{label} derivative"), x, &out, &out32, failures);

    act.backward(x, dy, &mut out);
    act.backward(&x32, &dy32, &mut out32);
    compare(&format!("{label} backward"), x, &out, &out32, failures);
    let mut in_place = dy.to_vec();
    act.backward_inplace(x, &mut in_place);
    compare(&format!("{label} backward_inplace"), x, &in_place, &out32, failures);

    let supported = act.derivative_from_output(x, &mut out).is_ok();
    assert_eq!(supported, act.has_backward_from_output(), "{label}");
    if supported {
        act.derivative_from_output(&x32, &mut out32).unwrap();
        compare(&format!("{label} derivative_from_output"), x, &out, &out32, failures);
        act.backward_from_output(x, dy, &mut out).unwrap();
        act.backward_from_output(&x32, &dy32, &mut out32).unwrap();
        compare(&format!("{label} backward_from_output"), x, &out, &out32, failures);
    }
}

fn sweep<E: Element>() {
    let (x, dy) = (all_patterns::<E>(), gradients::<E>());
    let mut failures = Failures::default();
    for act in instances() {
        for b in backends() {
            for tier in [Tier::Accurate, Tier::Fast] {
                let label = format!("{act} [{b}, {tier}, {}]", E::DTYPE);
                on(b, || {
                    check_all_methods(&InTier(act, tier), &label, &x, &dy, &mut failures)
                });
            }
        }
    }
    failures.assert_none(&format!("{} sweep", E::DTYPE));
}

#[test]
fn every_bf16_input_rounds_the_f32_result_on_every_backend() {
    sweep::<bf16>();
}

#[test]
fn every_f16_input_rounds_the_f32_result_on_every_backend() {
    sweep::<f16>();
}

/// The typed kernels, `Serial` and `Fast` take 16-bit buffers as `Activation` does.
#[test]
fn typed_kernels_and_wrappers_take_16_bit_buffers() {
    let x: Vec<bf16> = all_patterns();
    let dy: Vec<bf16> = gradients();
    let mut failures = Failures::default();
    check_all_methods(&actkern::Gelu::default(), "Gelu", &x, &dy, &mut failures);
    check_all_methods(&Serial(actkern::Silu), "Serial(Silu)", &x, &dy, &mut failures);
    check_all_methods(&Fast(actkern::Tanh), "Fast(Tanh)", &x, &dy, &mut failures);
    let act: Activation = "elu(alpha=0.5)".parse().unwrap();
    check_all_methods(&Serial(Fast(&act)), "Serial(Fast(elu))", &x, &dy, &mut failures);
    failures.assert_none("typed 16-bit calls");
}

/// Buffers long enough to be split across threads give the same bits as one thread, at every
/// offset of the chunk boundaries, and lengths 0..40 at offsets 0..8 give each element the bits
/// of the one-element call (tails, masked or padded, do not depend on position).
#[test]
fn sixteen_bit_results_do_not_depend_on_position_or_threads() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let n = PARALLEL_THRESHOLD * 2 + 37;
    let x: Vec<f16> = (0..n).map(|i| f16::from_bits((i as u16).wrapping_mul(7919))).collect();
    let mut failures = Failures::default();
    for spec in ["gelu", "silu", "relu", "tanh"] {
        let act: Activation = spec.parse().unwrap();
        for b in backends() {
            let (mut threaded, mut serial) = (vec![f16::ZERO; n], vec![f16::ZERO; n]);
            on(b, || {
                pool.install(|| act.forward(&x, &mut threaded));
                Serial(act).forward(&x, &mut serial);
            });
            if threaded.iter().zip(&serial).any(|(a, s)| a.to_bits() != s.to_bits()) {
                failures.push(format!("{act} [{b}]: threads changed f16 bits"));
            }
            let x = &x[..64];
            let mut single = [f16::ZERO; 1];
            for len in 0..40 {
                for offset in 0..8 {
                    let mut y = [f16::ZERO; 48];
                    on(b, || {
                        act.forward(&x[offset..offset + len], &mut y[offset..offset + len])
                    });
                    for i in 0..len {
                        on(b, || act.forward(&x[offset + i..offset + i + 1], &mut single));
                        if y[offset + i].to_bits() != single[0].to_bits() {
                            failures.push(format!("{act} [{b}]: len {len} offset {offset} element {i}"));
                        }
                    }
                    if y[..offset].iter().chain(&y[offset + len..]).any(|v| v.to_bits() != 0) {
                        failures.push(format!("{act} [{b}]: len {len} offset {offset} wrote outside"));
                    }
                }
            }
        }
    }
    failures.assert_none("f16 position and threads");
}
