//! Exhaustive accuracy of the shared maths of `actkern::math` on their own, for the figures in
//! their documentation that no kernel's sweep gives (a kernel's table row measures a helper only
//! over the inputs and factors that kernel passes it).
//!
//! ```text
//! cargo run --release --example math_accuracy               # every row, about 15 minutes
//! cargo run --release --example math_accuracy -- exp expm1   # the rows whose names start so
//! ```
//!
//! Runs the helpers on one lane (`f32`, the `Scalar` backend's vector type, which gives the bits
//! of the fused backends; with FMA instructions where the CPU has them) against `f64` references
//! over every `f32` of each helper's range, in ULPs as `actkern::accuracy::ulp_error` counts them
//! (CONTRACT §4: below the normal range an error up to 2⁻¹²⁶ counts as 0). Prints one Markdown row
//! per measurement; the documentation of `actkern::math` quotes them.

use actkern::accuracy::ulp_error;
use actkern::math::{
    TwoFloat, exp, exp_pair, exp_reduced_pair, exp_times, exp_times_v, expm1, expm1_pair, log1p_unit, logistic_bell,
    recip_estimate_1_2,
};
use rayon::prelude::*;
use std::time::Instant;

/// The largest error found and where.
#[derive(Clone, Copy)]
struct Worst {
    error: f64,
    input: f32,
}

impl Worst {
    const NONE: Worst = Worst {
        error: 0.0,
        input: f32::NAN,
    };
    fn max(self, other: Worst) -> Worst {
        if other.error > self.error { other } else { self }
    }
}

/// The worst error of `error` over the bit patterns `lo..=hi`, one after the other.
#[inline(always)]
fn chunk<F: Fn(f32) -> f64>(error: &F, lo: u32, hi: u32) -> Worst {
    let mut worst = Worst::NONE;
    for bits in lo..=hi {
        let x = f32::from_bits(bits);
        let e = error(x);
        if e > worst.error || e.is_nan() {
            worst = Worst { error: e, input: x };
        }
    }
    worst
}

/// [`chunk`] compiled with FMA instructions for the inlined helpers (`f32::mul_add` is a call to
/// a correctly rounded `fmaf` otherwise: the same bits, several times slower).
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chunk_fma<F: Fn(f32) -> f64>(error: &F, lo: u32, hi: u32) -> Worst {
    chunk(error, lo, hi)
}

fn run_chunk<F: Fn(f32) -> f64>(error: &F, lo: u32, hi: u32) -> Worst {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // Safety: both features were just detected.
        return unsafe { chunk_fma(error, lo, hi) };
    }
    chunk(error, lo, hi)
}

/// The worst error of `error` over the bit patterns `lo..=hi`.
fn sweep<F: Fn(f32) -> f64 + Sync>(lo: u32, hi: u32, error: F) -> Worst {
    const BLOCK: u64 = 1 << 20;
    let (lo, hi) = (u64::from(lo), u64::from(hi));
    let blocks = (hi - lo) / BLOCK + 1;
    (0..blocks)
        .into_par_iter()
        .map(|b| {
            let start = lo + b * BLOCK;
            let end = (start + BLOCK - 1).min(hi);
            run_chunk(&error, start as u32, end as u32)
        })
        .reduce(|| Worst::NONE, Worst::max)
}

/// Every non-NaN f32, as two bit ranges (positive, negative).
fn sweep_all<F: Fn(f32) -> f64 + Sync>(error: F) -> Worst {
    sweep(0, 0x7f80_0000, &error).max(sweep(0x8000_0000, 0xff80_0000, &error))
}

/// `got` (an f64 such as hi + lo of a pair) against `want`, in ULPs of `want` (normal `want`).
fn ulps_f64(got: f64, want: f64) -> f64 {
    let exponent = ((want.abs().to_bits() >> 52) & 0x7ff) as i64 - 1023;
    (got - want).abs() / f64::from_bits(((exponent - 23 + 1023) as u64) << 52)
}

const MIN_NORMAL: f64 = 1.175_494_350_822_287_5e-38;
/// λα of SELU as selu passes it to `exp_times`: its `f32` rounding and the rest.
#[allow(clippy::excessive_precision)]
const LAMBDA_ALPHA_HI: f32 = 1.758_099_340_847_376_859;
#[allow(clippy::excessive_precision)]
const LAMBDA_ALPHA_LO: f32 = (1.758_099_340_847_376_859_f64 - LAMBDA_ALPHA_HI as f64) as f32;

fn bits(x: f32) -> u32 {
    x.to_bits()
}

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.starts_with(o.as_str()));
    println!("| helper | range | max error | worst input | seconds |");
    println!("|---|---|---|---|---|");
    let row = |name: &str, range: &str, unit: &str, run: &dyn Fn() -> Worst| {
        if !wanted(name) {
            return;
        }
        let start = Instant::now();
        let w = run();
        let error = if unit.is_empty() {
            format!("{:.3e}", w.error)
        } else {
            format!("{:.3}{unit}", w.error)
        };
        println!(
            "| {name} | {range} | {error} | {:e} | {:.0} |",
            w.input,
            start.elapsed().as_secs_f64()
        );
    };

    row("exp", "all x", " ULP", &|| {
        sweep_all(|x| ulp_error(exp(x), f64::from(x).exp()))
    });
    row("expm1", "all x", " ULP", &|| {
        sweep_all(|x| ulp_error(expm1(x), f64::from(x).exp_m1()))
    });
    row("expm1_pair", "all x, exact (lo = 0)", " ULP", &|| {
        sweep_all(|x| ulp_error(expm1_pair(TwoFloat::exact(x)), f64::from(x).exp_m1()))
    });
    row("exp_times(λα)", "all x, c = λα as selu passes it", " ULP", &|| {
        let c = TwoFloat {
            hi: LAMBDA_ALPHA_HI,
            lo: LAMBDA_ALPHA_LO,
        };
        let c64 = f64::from(c.hi) + f64::from(c.lo);
        sweep_all(move |x| ulp_error(exp_times(x, c), c64 * f64::from(x).exp()))
    });
    row("exp_times(4)", "all x, c = 4 (sech_squared's tail)", " ULP", &|| {
        sweep_all(|x| ulp_error(exp_times(x, TwoFloat::exact(4.0)), 4.0 * f64::from(x).exp()))
    });
    row("exp_times_v(1)", "all x, c = 1", " ULP", &|| {
        sweep_all(|x| ulp_error(exp_times_v(x, 1.0), f64::from(x).exp()))
    });
    row(
        "exp_times_v(0.3)",
        "x ≤ 88.75 (clamped above), c = 0.3",
        " ULP",
        &|| {
            let error = |x: f32| ulp_error(exp_times_v(x, 0.3), f64::from(0.3f32) * f64::from(x).exp());
            sweep(0, bits(88.75), error).max(sweep(0x8000_0000, 0xff80_0000, error))
        },
    );
    row(
        "exp_pair",
        "all x with a normal eˣ, exact (lo = 0), c = 1: hi + lo in ULPs of eˣ",
        " ULP",
        &|| {
            sweep_all(|x| {
                let want = f64::from(x).exp();
                if !(MIN_NORMAL..=f64::from(f32::MAX)).contains(&want) {
                    return 0.0;
                }
                let p = exp_pair(TwoFloat::exact(x), 1.0);
                ulps_f64(f64::from(p.hi) + f64::from(p.lo), want)
            })
        },
    );
    row(
        "exp_pair, eˣ ≥ 2⁻¹⁰²",
        "x ≥ −70.7 (eˣ ≥ 2⁻¹⁰², lo normal), exact (lo = 0), c = 1: hi + lo in ULPs of eˣ",
        " ULP",
        &|| {
            sweep_all(|x| {
                let want = f64::from(x).exp();
                if !(2f64.powi(-102)..=f64::from(f32::MAX)).contains(&want) {
                    return 0.0;
                }
                let p = exp_pair(TwoFloat::exact(x), 1.0);
                ulps_f64(f64::from(p.hi) + f64::from(p.lo), want)
            })
        },
    );
    row(
        "exp_pair(hi)",
        "all x, exact (lo = 0), c = 1: hi alone, rounded",
        " ULP",
        &|| sweep_all(|x| ulp_error(exp_pair(TwoFloat::exact(x), 1.0).hi, f64::from(x).exp())),
    );
    row(
        "exp_reduced_pair",
        "x = −a²/2 as gelu's exact pair, 0 ≤ a ≤ 15: abs(2ⁿ(1 + q.hi + q.lo)/e^{x} − 1)",
        "",
        &|| {
            sweep(0, bits(15.0), |a| {
                let square = a * a;
                let x = TwoFloat {
                    hi: square * -0.5,
                    lo: a.mul_add(a, -square) * -0.5,
                };
                let (q, n) = exp_reduced_pair(x);
                let got = (1.0 + f64::from(q.hi) + f64::from(q.lo)) * 2f64.powi(n as i32);
                let want = (f64::from(x.hi) + f64::from(x.lo)).exp();
                (got / want - 1.0).abs()
            })
        },
    );
    row("logistic_bell(1)", "all x, c = 1: σ'(x)", " ULP", &|| {
        sweep_all(|x| {
            let u = (-f64::from(x).abs()).exp();
            ulp_error(logistic_bell(x, 1.0), u / ((1.0 + u) * (1.0 + u)))
        })
    });
    row("logistic_bell(4)", "all x, c = 4: tanh'(x/2)", " ULP", &|| {
        sweep_all(|x| {
            let u = (-f64::from(x).abs()).exp();
            ulp_error(logistic_bell(x, 4.0), 4.0 * u / ((1.0 + u) * (1.0 + u)))
        })
    });
    row("log1p_unit", "0 ≤ v ≤ 1", " ULP", &|| {
        sweep(0, bits(1.0), |v| ulp_error(log1p_unit(v), f64::from(v).ln_1p()))
    });
    row("recip_estimate_1_2", "1 ≤ h ≤ 2: abs(h·r − 1)", "", &|| {
        sweep(bits(1.0), bits(2.0), |h| {
            (f64::from(h) * f64::from(recip_estimate_1_2(h)) - 1.0).abs()
        })
    });
}
