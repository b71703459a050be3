//! Exhaustive accuracy sweep: every f32 bit pattern through every forward, derivative and
//! derivative-from-output, on every backend this CPU has, against `actkern::reference`.
//!
//! ```text
//! cargo run --release --example accuracy                      # all 2³² inputs, all backends
//! cargo run --release --example accuracy -- --stride 4099     # a quick strided pass
//! cargo run --release --example accuracy -- --only tanh,elu --backend avx512,scalar
//! cargo run --release --example accuracy -- --all-examples   # every example parameter set too
//! cargo run --release --example accuracy -- --tier fast       # the fast tier only
//! ```
//!
//! Prints a Markdown table: per function and tier, the max error in ULPs on each backend (SPEC
//! §4 rules: piecewise-linear forwards must be bit-identical to PyTorch, shown as `exact`), the
//! input where the first backend's maximum occurs, and how many outputs differ in bits between
//! the backends. The fast tier (`--tier fast`, or `both`, the default) has rows for the
//! activations that have one, against its own bound (`actkern::accuracy::bound`). Exits with
//! status 1 if any row exceeds its bound.

use actkern::accuracy::{self, Function, Worst};
use actkern::{ACTIVATIONS, Activation, Backend, Tier, with_backend};
use rayon::prelude::*;
use std::time::Instant;

const BLOCK: u64 = 1 << 16;

struct Options {
    backends: Vec<Backend>,
    stride: u64,
    only: Option<Vec<String>>,
    all_examples: bool,
    tiers: Vec<Tier>,
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "accuracy: {problem}\nusage: accuracy [--backend all|scalar,portable,avx2,avx512] [--stride N] [--only NAME,...] [--all-examples] [--tier accurate|fast|both]"
    );
    std::process::exit(2)
}

fn parse_options() -> Options {
    let mut options = Options {
        backends: Backend::available(),
        stride: 1,
        only: None,
        all_examples: false,
        tiers: vec![Tier::Accurate, Tier::Fast],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage(&format!("{arg} needs a value")));
        match arg.as_str() {
            "--backend" => {
                let v = value();
                if v != "all" {
                    options.backends = v
                        .split(',')
                        .map(|b| {
                            let b: Backend = b.parse().unwrap_or_else(|e| usage(&format!("{e}")));
                            if !b.is_available() {
                                usage(&format!("backend {b} is not supported by this CPU"));
                            }
                            b
                        })
                        .collect();
                }
            }
            "--stride" => {
                options.stride = value()
                    .parse()
                    .ok()
                    .filter(|&s| s >= 1)
                    .unwrap_or_else(|| usage("--stride takes a whole number >= 1"))
            }
            "--only" => options.only = Some(value().split(',').map(str::to_string).collect()),
            "--all-examples" => options.all_examples = true,
            "--tier" => {
                options.tiers = match value().as_str() {
                    "accurate" => vec![Tier::Accurate],
                    "fast" => vec![Tier::Fast],
                    "both" => vec![Tier::Accurate, Tier::Fast],
                    other => usage(&format!("--tier takes accurate, fast or both, not `{other}`")),
                }
            }
            other => usage(&format!("unknown argument `{other}`")),
        }
    }
    // Widest first: the input column reports the first backend's worst case.
    options.backends.sort_by_key(|b| std::cmp::Reverse(*b as u8));
    options
}

struct Row {
    worst: Vec<Worst>,
    /// Per backend after the first: outputs whose bits differ from the first backend's.
    differing: Vec<u64>,
}

fn sweep(act: &Activation, function: Function, tier: Tier, backends: &[Backend], stride: u64) -> Row {
    let total = (1u64 << 32).div_ceil(stride);
    let blocks = total.div_ceil(BLOCK);
    (0..blocks)
        .into_par_iter()
        .map(|block| {
            let start = block * BLOCK;
            let end = (start + BLOCK).min(total);
            let inputs: Vec<f32> = (start..end).map(|i| f32::from_bits((i * stride) as u32)).collect();
            let outputs: Vec<Vec<f32>> = backends
                .iter()
                .map(|&b| {
                    let mut out = vec![0.0f32; inputs.len()];
                    with_backend(b, || accuracy::evaluate(act, function, tier, &inputs, &mut out))
                        .expect("backend checked available")
                        .expect("only supported functions are swept");
                    out
                })
                .collect();
            let views: Vec<&[f32]> = outputs.iter().map(Vec::as_slice).collect();
            let worst = accuracy::compare_many(act, function, tier, &inputs, &views);
            let differing = outputs[1..]
                .iter()
                .map(|o| {
                    o.iter()
                        .zip(&outputs[0])
                        .filter(|(a, b)| a.to_bits() != b.to_bits() && !(a.is_nan() && b.is_nan()))
                        .count() as u64
                })
                .collect();
            Row { worst, differing }
        })
        .reduce(
            || Row {
                worst: vec![Worst::default(); backends.len()],
                differing: vec![0; backends.len().saturating_sub(1)],
            },
            |a, b| Row {
                worst: a.worst.into_iter().zip(b.worst).map(|(x, y)| x.merge(y)).collect(),
                differing: a.differing.iter().zip(&b.differing).map(|(x, y)| x + y).collect(),
            },
        )
}

fn show(ulp: f64, bound: f64) -> String {
    if bound == 0.0 {
        if ulp == 0.0 { "exact".into() } else { "NOT EXACT".into() }
    } else if ulp.is_infinite() {
        "inf".into()
    } else {
        format!("{ulp:.3}")
    }
}

fn main() {
    let options = parse_options();
    let started = Instant::now();
    let names: Vec<&str> = options.backends.iter().map(|b| b.name()).collect();
    println!(
        "Inputs: {} per function (stride {}); backends: {}; {} threads.\n",
        (1u64 << 32).div_ceil(options.stride),
        options.stride,
        names.join(", "),
        rayon::current_num_threads()
    );
    println!(
        "| activation | tier | fn | {} | bound | worst input ({}) | got | want | outputs whose bits differ from {} ({}) |",
        names.join(" | "),
        names[0],
        names[0],
        names[1..].join(", ")
    );
    println!("|---|---|---|{}---|---|---|---|---|", "---|".repeat(names.len()));
    let mut failed = false;
    for info in ACTIVATIONS {
        if options
            .only
            .as_ref()
            .is_some_and(|only| !only.iter().any(|n| n == info.name))
        {
            continue;
        }
        // One instance per formula (gelu's approximate=tanh is its own), or every example.
        let instances = if options.all_examples {
            info.example_instances()
        } else {
            info.formula_variants()
        };
        for (act, tier) in instances
            .iter()
            .flat_map(|act| options.tiers.iter().map(move |&tier| (act, tier)))
            .filter(|(_, tier)| *tier == Tier::Accurate || info.fast_tier)
        {
            for function in Function::ALL {
                if function == Function::DerivativeFromOutput && !actkern::Apply::has_backward_from_output(act) {
                    continue;
                }
                let bound = accuracy::bound(act, function, tier);
                let row = sweep(act, function, tier, &options.backends, options.stride);
                let over = row.worst.iter().any(|w| w.ulp > bound);
                failed |= over;
                let w = row.worst[0];
                let cells: Vec<String> = row.worst.iter().map(|w| show(w.ulp, bound)).collect();
                let (input, got, want) = if w.ulp > 0.0 {
                    (
                        format!("{:e}", w.input),
                        format!("{:e}", w.got),
                        format!("{:e}", w.want),
                    )
                } else {
                    ("–".into(), "–".into(), "–".into())
                };
                println!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {}{} |",
                    act,
                    tier,
                    function.label(),
                    cells.join(" | "),
                    if bound == 0.0 {
                        "exact".to_string()
                    } else {
                        format!("{bound}")
                    },
                    input,
                    got,
                    want,
                    row.differing.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
                    if over { " **OVER BOUND**" } else { "" }
                );
            }
        }
    }
    println!("\nTook {:.0} s.", started.elapsed().as_secs_f64());
    if failed {
        eprintln!("accuracy: some rows exceed their bound");
        std::process::exit(1);
    }
}
