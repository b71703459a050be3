//! Over a million seeded random inputs per activation instance, from several distributions,
//! through the forward, derivative, backward and the derivative and backward from the output,
//! on every backend, against the reference at CONTRACT §4's bound. A failure names the worst input,
//! what came out, what was expected, its error in ULPs and the backend.

use crate::common::{Failures, instances, kinks, on, sweep_backward, sweep_function};
use actkern::accuracy::Function;
use actkern::{Activation, Apply, Backend, Tier};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};
use std::sync::LazyLock;

/// Inputs of every distribution but the one around the instance's kinks.
const PER_DISTRIBUTION: usize = 240_000;
/// Inputs within a few ULPs or a small relative distance of the kinks.
const NEAR_KINKS: usize = 100_000;

fn rng(salt: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(0xac7_4e21 ^ salt)
}

/// A standard normal deviate (Box–Muller).
fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Inputs shared by every instance: uniform on [−10, 10]; normal with a scale drawn from 1 to
/// 10⁶; uniform bit patterns (every NaN, infinity and subnormal included); tiny values of
/// random sign and exponent down to the smallest subnormal.
static GENERIC: LazyLock<Vec<f32>> = LazyLock::new(|| {
    let mut rng = rng(0);
    let mut v = Vec::with_capacity(4 * PER_DISTRIBUTION);
    v.extend((0..PER_DISTRIBUTION).map(|_| rng.random_range(-10.0f32..=10.0)));
    v.extend((0..PER_DISTRIBUTION).map(|_| {
        let scale = 10f64.powf(rng.random_range(0.0..6.0));
        (normal(&mut rng) * scale) as f32
    }));
    v.extend((0..PER_DISTRIBUTION).map(|_| f32::from_bits(rng.next_u32())));
    v.extend((0..PER_DISTRIBUTION).map(|_| {
        let magnitude = 2f64.powf(rng.random_range(-149.5..-8.0)) as f32;
        if rng.random() { magnitude } else { -magnitude }
    }));
    v
});

/// The inputs for `act`: [`GENERIC`], then values within 64 bit patterns or a relative 10⁻³
/// of each kink of the instance.
fn inputs(act: &Activation) -> Vec<f32> {
    let mut v = Vec::with_capacity(GENERIC.len() + NEAR_KINKS);
    v.extend_from_slice(&GENERIC);
    let kinks = kinks(act);
    let mut rng = self::rng(1);
    v.extend((0..NEAR_KINKS).map(|_| {
        let k = kinks[rng.random_range(0..kinks.len())];
        if rng.random() {
            let steps = rng.random_range(-64i32..=64);
            let mut x = k;
            for _ in 0..steps.unsigned_abs() {
                x = if steps > 0 { x.next_up() } else { x.next_down() };
            }
            x
        } else {
            let rel: f32 = rng.random_range(-1e-3..1e-3);
            k + rel * k.abs().max(1e-3)
        }
    }));
    v
}

/// Incoming gradients: mostly ordinary values, with zeros, infinities, NaN and huge or tiny
/// ones mixed in.
fn gradients(n: usize) -> Vec<f32> {
    let mut rng = rng(2);
    (0..n)
        .map(|_| match rng.random_range(0..64) {
            0 => 0.0,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => f32::NAN,
            4 => rng.random_range(-1e30..1e30),
            5 => rng.random_range(-1e-30..1e-30),
            _ => rng.random_range(-4.0..4.0),
        })
        .collect()
}

#[test]
fn random_forward() {
    let mut failures = Failures::default();
    for act in instances() {
        sweep_function(
            &act,
            Tier::Accurate,
            Function::Forward,
            &inputs(&act),
            false,
            &mut failures,
        );
    }
    failures.assert_none("forward on random inputs");
}

#[test]
fn random_derivative() {
    let mut failures = Failures::default();
    for act in instances() {
        sweep_function(
            &act,
            Tier::Accurate,
            Function::Derivative,
            &inputs(&act),
            false,
            &mut failures,
        );
    }
    failures.assert_none("derivative on random inputs");
}

#[test]
fn random_backward() {
    let mut failures = Failures::default();
    for act in instances() {
        let x = inputs(&act);
        let dy = gradients(x.len());
        sweep_backward(&act, Tier::Accurate, false, &x, &dy, false, &mut failures);
    }
    failures.assert_none("backward on random inputs");
}

/// The derivative and backward from the output, over random `y` and over the outputs the
/// forward gives for random `x` (the values an engine actually keeps).
#[test]
fn random_from_output() {
    let mut failures = Failures::default();
    for act in instances().into_iter().filter(|a| a.has_backward_from_output()) {
        let x = inputs(&act);
        let mut y = vec![0.0; x.len()];
        on(Backend::Scalar, || act.forward(&x, &mut y));
        let mut ys = x;
        ys.extend_from_slice(&y);
        sweep_function(
            &act,
            Tier::Accurate,
            Function::DerivativeFromOutput,
            &ys,
            false,
            &mut failures,
        );
        let dy = gradients(ys.len());
        sweep_backward(&act, Tier::Accurate, true, &ys, &dy, false, &mut failures);
    }
    failures.assert_none("from-output on random inputs");
}
