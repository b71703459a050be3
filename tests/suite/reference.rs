//! The reference (`actkern::reference`, through each kernel's `reference_*` methods) checked
//! against itself: every derivative against central finite differences of its forward, in f64,
//! at many points away from the kinks; every derivative from the output against the derivative
//! at y = f(x); and PyTorch's f32 forwards against the f64 forwards. A wrong formula, such as
//! the seed's hardswish derivative x/6 + 1/2 (CONTRACT §5), fails here; the last tests show that.

use crate::common::{Failures, instances, kinks, real_params};
use actkern::accuracy::ulp_error;
use actkern::{Activation, Apply, Kernel, KernelVisitor, reference};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

type Real = Box<dyn Fn(f64) -> f64>;

/// An instance's reference functions, taken out of the kernel type.
struct References {
    forward: Real,
    derivative: Real,
    from_output: Box<dyn Fn(f64) -> Option<f64>>,
    pytorch: Box<dyn Fn(f32) -> Option<f32>>,
}

fn references(act: &Activation) -> References {
    struct Get;
    impl KernelVisitor<References> for Get {
        fn visit<K: Kernel>(self, k: &K) -> References {
            let k = *k;
            References {
                forward: Box::new(move |x| k.reference_forward(x)),
                derivative: Box::new(move |x| k.reference_derivative(x)),
                from_output: Box::new(move |y| k.reference_derivative_from_output(y)),
                pytorch: Box::new(move |x| k.pytorch_forward(x)),
            }
        }
    }
    act.visit(Get)
}

/// Points on [−8, 8], on [−60, 60] and of magnitude 10⁻⁴..10³, none within `margin` (relative
/// to the kink's size) of a kink of the instance.
fn points(act: &Activation, n: usize, seed: u64) -> Vec<f64> {
    let kinks: Vec<f64> = kinks(act).into_iter().map(f64::from).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let x: f64 = match out.len() % 3 {
            0 => rng.random_range(-8.0..8.0),
            1 => rng.random_range(-60.0..60.0),
            _ => {
                let m = 10f64.powf(rng.random_range(-4.0..3.0));
                if rng.random() { m } else { -m }
            }
        };
        let clear = kinks
            .iter()
            .all(|&k| (x - k).abs() > 1e-4 * k.abs().max(x.abs()).max(1.0));
        if clear {
            out.push(x);
        }
    }
    out
}

/// Central difference (f(x + h) − f(x − h)) / 2h with h = 10⁻⁶·max(|x|, 10⁻³) (relative to x,
/// so the h² truncation error stays ~10⁻¹² relative even where f' ~ x², as for tanhshrink), and
/// the size of its rounding error: a few f64 ULPs of f over 2h, and f64's underflow threshold
/// (where f and f' are f64 subnormals neither carries 16 digits).
fn central_difference(f: &dyn Fn(f64) -> f64, x: f64) -> (f64, f64) {
    let h = 1e-6 * x.abs().max(1e-3);
    let (up, down) = (f(x + h), f(x - h));
    let rounding = 16.0 * f64::EPSILON * (up.abs() + down.abs()) / (2.0 * h) + 1e-290;
    ((up - down) / (2.0 * h), rounding)
}

/// Where `derivative` disagrees with the central difference of `forward` beyond a relative
/// 10⁻⁶ plus the difference's own rounding error.
fn derivative_mismatches(
    name: &str,
    forward: &dyn Fn(f64) -> f64,
    derivative: &dyn Fn(f64) -> f64,
    xs: &[f64],
    failures: &mut Failures,
) {
    for &x in xs {
        let (numeric, rounding) = central_difference(forward, x);
        let d = derivative(x);
        if !crate::common::within((numeric - d).abs(), 1e-6 * d.abs() + rounding) {
            failures.push(format!(
                "{name}: f'({x:e}) = {d:e} but the central difference of f is {numeric:e}"
            ));
        }
    }
}

#[test]
fn derivatives_match_finite_differences_of_the_forwards() {
    let mut failures = Failures::default();
    let mut checked = 0;
    for act in instances() {
        let r = references(&act);
        let xs = points(&act, 10_000, 1);
        checked += xs.len();
        derivative_mismatches(&act.to_string(), &r.forward, &r.derivative, &xs, &mut failures);
    }
    assert!(checked >= 10_000 * 11, "only {checked} points checked");
    failures.assert_none("reference derivatives vs finite differences");
}

/// CONTRACT §2.3: the derivative in terms of y, at y = f(x), is f'(x).
#[test]
fn derivatives_from_the_output_match_the_derivatives() {
    let mut failures = Failures::default();
    for act in instances() {
        let r = references(&act);
        if !act.has_backward_from_output() {
            assert!(
                (r.from_output)(0.5).is_none(),
                "{act}: a reference derivative from the output the activation does not offer"
            );
            continue;
        }
        let scale = real_params(&act).iter().fold(1.0f64, |m, &p| m.max(f64::from(p).abs()));
        for x in points(&act, 10_000, 2) {
            let y = (r.forward)(x);
            let want = (r.derivative)(x);
            let Some(got) = (r.from_output)(y) else {
                failures.push(format!("{act}: no derivative from the output at y = {y:e}"));
                continue;
            };
            // A quarter of an f32 ULP (2⁻²⁶ relative): the kernels are measured against this
            // reference in f32 ULPs, so a smaller difference is invisible to them (softplus's
            // 1 − e^{−βy} is 1 − 2·10⁻⁹ just above its default threshold, where f' = 1). And
            // y carries f64 rounding, which forms like 1 − y² or y + α cancel into an absolute
            // error of a few f64 ULPs of max(|y|, 1, |parameters|).
            let tolerance = 2f64.powi(-26) * want.abs() + 64.0 * f64::EPSILON * scale.max(y.abs());
            if !crate::common::within((got - want).abs(), tolerance) {
                failures.push(format!(
                    "{act}: f'(x = {x:e}) = {want:e} but from y = f(x) = {y:e} it is {got:e}"
                ));
            }
        }
    }
    failures.assert_none("reference derivatives from the output");
}

/// CONTRACT §4: PyTorch's f32 evaluation of the piecewise-linear forwards is the f64 formula,
/// rounded (x·c/6 rounds twice, hence 2 ULP).
#[test]
fn pytorch_forwards_agree_with_the_f64_formulas() {
    let mut failures = Failures::default();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    for act in instances() {
        let r = references(&act);
        if (r.pytorch)(0.0).is_none() {
            continue;
        }
        let mut xs: Vec<f32> = (0..20_000).map(|_| rng.random_range(-10.0f32..10.0)).collect();
        xs.extend(crate::common::special_inputs(&act).into_iter().filter(|x| !x.is_nan()));
        for x in xs {
            let got = (r.pytorch)(x).expect("piecewise linear");
            let want = (r.forward)(f64::from(x));
            // PyTorch's x·c overflows for |x| > f32::MAX / 6 (hardswish), which CONTRACT §4's
            // bit identity keeps: there the f32 formula is ±inf and the f64 one is not.
            if got.is_infinite() && x.abs() > f32::MAX / 6.0 {
                continue;
            }
            let err = ulp_error(got, want);
            if !crate::common::within(err, 2.0) {
                failures.push(format!(
                    "{act}: PyTorch's f32 formula gives {got:e} at {x:e}, the f64 formula {want:e} \
                     ({err} ULP)"
                ));
            }
        }
    }
    failures.assert_none("PyTorch f32 forwards vs f64 reference");
}

/// SELU's constants are CONTRACT §2.1's, to the digits given there.
#[test]
#[allow(clippy::excessive_precision)]
fn selu_constants_are_the_specs() {
    assert_eq!(reference::SELU_ALPHA, 1.673_263_242_354_377_284_817_042_991_671_7);
    assert_eq!(reference::SELU_LAMBDA, 1.050_700_987_355_480_493_419_334_985_294_6);
    assert_eq!(reference::SELU_ALPHA, crate::common::SELU_ALPHA);
    assert_eq!(reference::SELU_LAMBDA, crate::common::SELU_LAMBDA);
}

/// The check above is strong enough to reject the seed's mistakes (CONTRACT §5): its hardswish
/// derivative x/6 + 1/2, its hardshrink x ↦ −x below −λ, and σ'(x) = σ²(x).
#[test]
fn finite_differences_reject_the_seeds_formulas() {
    fn rejects(name: &str, forward: &dyn Fn(f64) -> f64, derivative: &dyn Fn(f64) -> f64, xs: &[f64]) {
        let mut failures = Failures::default();
        derivative_mismatches(name, forward, derivative, xs, &mut failures);
        assert!(
            !failures.is_empty(),
            "{name}: the finite-difference check accepted a wrong formula"
        );
    }
    let hardswish: Activation = "hardswish".parse().expect("hardswish is registered");
    let xs = points(&hardswish, 200, 4);
    rejects(
        "seed hardswish'",
        &reference::hardswish,
        &|x| {
            if x <= -3.0 {
                0.0
            } else if x < 3.0 {
                x / 6.0 + 0.5
            } else {
                1.0
            }
        },
        &xs,
    );
    let seed_hardshrink = |x: f64| {
        if x > 0.5 {
            x
        } else if x < -0.5 {
            -x
        } else {
            0.0
        }
    };
    rejects(
        "seed hardshrink",
        &seed_hardshrink,
        &|x| reference::hardshrink_derivative(x, 0.5),
        &xs,
    );
    rejects(
        "seed sigmoid'",
        &reference::sigmoid,
        &|x| reference::sigmoid(x).powi(2),
        &xs,
    );
    // And the real formulas pass on the same points.
    let mut failures = Failures::default();
    derivative_mismatches(
        "hardswish",
        &reference::hardswish,
        &reference::hardswish_derivative,
        &xs,
        &mut failures,
    );
    failures.assert_none("reference hardswish");
}
