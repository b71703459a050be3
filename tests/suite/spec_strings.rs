//! Spec strings (CONTRACT §1): defaults, white space, aliases, `Display` round trips for every
//! example and for random parameter values; every error names the problem and what is allowed
//! (valid names and the closest one, the parameter and its range); nothing panics on garbage.

use crate::common::real_params;
use actkern::{ACTIVATIONS, Activation, ActivationInfo, ParamKind, Range};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::panic::{AssertUnwindSafe, catch_unwind};

fn parse(s: &str) -> Result<Activation, String> {
    s.parse::<Activation>().map_err(|e| e.to_string())
}

/// The parse error message for `s`, failing the test if it parses.
fn error(s: &str) -> String {
    match s.parse::<Activation>() {
        Ok(a) => panic!("`{s}` parsed (as `{a}`) but should be an error"),
        Err(e) => {
            // It is a std error with a non-empty message.
            let e: &dyn std::error::Error = &e;
            let message = e.to_string();
            assert!(!message.trim().is_empty(), "`{s}`: empty error message");
            message
        }
    }
}

fn assert_mentions(spec: &str, message: &str, words: &[&str]) {
    for w in words {
        assert!(
            message.contains(w),
            "the error for `{spec}` should mention `{w}`: {message}"
        );
    }
}

/// Every registered name and alias.
fn all_names() -> Vec<&'static str> {
    ACTIVATIONS
        .iter()
        .flat_map(|i| std::iter::once(i.name).chain(i.aliases.iter().copied()))
        .collect()
}

fn all_defaults(info: &ActivationInfo) -> bool {
    info.params.iter().all(|p| match p.kind {
        ParamKind::Real { default, .. } => default.is_some(),
        ParamKind::Choice { .. } => true,
    })
}

/// Same activation and the same parameter bits (so −0 and 0 differ).
fn identical(a: &Activation, b: &Activation) -> bool {
    a == b
        && real_params(a)
            .iter()
            .zip(real_params(b))
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn names_give_the_defaults() {
    for info in ACTIVATIONS {
        let first = parse(info.examples[0]).expect("the first example parses");
        assert!(identical(&first, &info.default_instance()));
        if !all_defaults(info) {
            // A parameter without a default must be given.
            let message = error(info.name);
            let missing: Vec<&str> = info
                .params
                .iter()
                .filter(|p| matches!(p.kind, ParamKind::Real { default: None, .. }))
                .map(|p| p.name)
                .collect();
            assert!(
                missing.iter().any(|p| message.contains(p)),
                "`{}`: the error should name the missing parameter: {message}",
                info.name
            );
            continue;
        }
        let act = parse(info.name).unwrap_or_else(|e| panic!("`{}`: {e}", info.name));
        assert_eq!(act.name(), info.name);
        assert_eq!(act.to_string(), info.name, "defaults print as the bare name");
        assert!(identical(&act, &first), "`{}` is not its first example", info.name);
        // Giving each default explicitly changes nothing.
        for p in info.params {
            let value = match p.kind {
                ParamKind::Real { default, .. } => format!("{}", default.expect("has a default")),
                ParamKind::Choice { choices, default } => choices[default].to_string(),
            };
            let spec = format!("{}({}={value})", info.name, p.name);
            assert!(identical(&parse(&spec).unwrap(), &act), "`{spec}`");
        }
        for alias in info.aliases {
            assert!(identical(&parse(alias).unwrap(), &act), "alias `{alias}`");
        }
    }
}

#[test]
fn white_space_is_ignored() {
    for info in ACTIVATIONS {
        for example in info.examples {
            let act = parse(example).unwrap();
            let spread: String = example.chars().flat_map(|c| [c, ' ']).collect();
            let tabs: String = example.chars().flat_map(|c| ['\t', c, '\n']).collect();
            for spec in [format!("  {example}  "), spread, tabs, example.replace(',', " ,  ")] {
                let parsed = parse(&spec).unwrap_or_else(|e| panic!("{spec:?}: {e}"));
                assert!(identical(&parsed, &act), "{spec:?}");
            }
        }
    }
}

#[test]
fn examples_round_trip_through_display() {
    for info in ACTIVATIONS {
        for example in info.examples {
            let act = parse(example).unwrap();
            let shown = act.to_string();
            let again = parse(&shown).unwrap_or_else(|e| panic!("`{shown}` (from `{example}`): {e}"));
            assert!(identical(&again, &act), "`{example}` → `{shown}`");
            assert_eq!(again.to_string(), shown, "Display is stable");
        }
    }
}

/// Random parameter values of every magnitude (subnormals included) survive Display and parse
/// bit for bit; each choice word too.
#[test]
fn random_parameters_round_trip() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    for info in ACTIVATIONS {
        for _ in 0..300 {
            let mut args = Vec::new();
            for p in info.params {
                let value = match p.kind {
                    ParamKind::Real { range, .. } => loop {
                        let v = f32::from_bits(rng.random::<u32>());
                        if range.contains(v) {
                            break format!("{v}");
                        }
                    },
                    ParamKind::Choice { choices, .. } => choices[rng.random_range(0..choices.len())].to_string(),
                };
                args.push(format!("{}={value}", p.name));
            }
            let spec = if args.is_empty() {
                info.name.to_string()
            } else {
                format!("{}({})", info.name, args.join(", "))
            };
            match spec.parse::<Activation>() {
                Ok(act) => {
                    let again = parse(&act.to_string()).unwrap();
                    assert!(identical(&again, &act), "`{spec}` → `{act}`");
                }
                // Only constraints between parameters may reject values in range.
                Err(e) => assert!(
                    info.params.len() > 1 && info.params.iter().any(|p| e.to_string().contains(p.name)),
                    "`{spec}`: {e}"
                ),
            }
        }
    }
}

/// Optimal-string-alignment distance: edits, with a swap of neighbours counting as one.
fn typo_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The name the error for `spec` suggests (between "did you mean `" and "`").
fn suggestion(spec: &str) -> String {
    let message = error(spec);
    let names = all_names();
    let given = spec.split('(').next().unwrap_or_default().trim();
    assert_mentions(spec, &message, &["unknown", given]);
    assert_mentions(spec, &message, &names);
    names
        .iter()
        .filter(|n| message.contains(&format!("`{n}`")) && **n != given)
        .max_by_key(|n| n.len())
        .unwrap_or_else(|| panic!("`{spec}`: no suggestion in {message}"))
        .to_string()
}

/// Unknown names: the error lists every valid name and suggests the closest one — for a typo
/// of a name (a letter added, dropped, changed or two swapped), a name as close as the typo.
#[test]
fn unknown_names_suggest_the_closest() {
    let names = all_names();
    for name in &names {
        let chars: Vec<char> = name.chars().collect();
        let mut typos = vec![format!("{name}x"), format!("q{name}")];
        for i in 0..chars.len() {
            let mut dropped = chars.clone();
            dropped.remove(i);
            typos.push(dropped.iter().collect());
            let mut changed = chars.clone();
            changed[i] = if changed[i] == 'z' { 'q' } else { 'z' };
            typos.push(changed.iter().collect());
            if i + 1 < chars.len() && chars[i] != chars[i + 1] {
                let mut swapped = chars.clone();
                swapped.swap(i, i + 1);
                typos.push(swapped.iter().collect());
            }
        }
        for typo in typos {
            if typo.is_empty() || names.iter().any(|n| n.eq_ignore_ascii_case(&typo)) {
                continue;
            }
            let suggested = suggestion(&typo);
            let best = names.iter().map(|n| typo_distance(&typo, n)).min().unwrap();
            assert!(
                typo_distance(&typo, &suggested) == best,
                "`{typo}` (a typo of `{name}`): suggests `{suggested}` at distance {}, but a \
                 name at distance {best} exists",
                typo_distance(&typo, &suggested),
            );
        }
    }
    for (typo, want) in [
        ("rleu", "relu"),
        ("gelux", "gelu"),
        ("sigmod", "sigmoid"),
        ("tahn", "tanh"),
        ("hardswich", "hardswish"),
        ("leakyrelu", "leaky_relu"),
        ("hard_tanh", "hardtanh"),
    ] {
        if names.contains(&want) {
            assert_eq!(suggestion(typo), want, "suggestion for `{typo}`");
        }
    }
    // Names keep their parameters' errors apart: the name is checked first.
    assert_eq!(suggestion("eluu(alpha=2)"), "elu");
}

/// Unknown and repeated parameters, values that do not parse, non-finite values and values out
/// of range: each error names the parameter and what is allowed.
#[test]
fn parameter_errors_name_the_parameter_and_the_allowed_values() {
    for info in ACTIVATIONS {
        let name = info.name;
        let param_names: Vec<&str> = info.params.iter().map(|p| p.name).collect();
        // An unknown parameter: the error lists the real ones.
        let spec = format!("{name}(bogus=1)");
        let message = error(&spec);
        assert_mentions(&spec, &message, &["bogus", name]);
        if param_names.is_empty() {
            assert_mentions(&spec, &message, &["no parameters"]);
        } else {
            assert_mentions(&spec, &message, &param_names);
        }
        // A parameter of another activation.
        if !param_names.contains(&"alpha") {
            let spec = format!("{name}(alpha=1)");
            assert_mentions(&spec, &error(&spec), &["alpha"]);
        }
        for p in info.params {
            let others: Vec<String> = info
                .params
                .iter()
                .filter(|q| q.name != p.name)
                .map(|q| format!("{}={}", q.name, valid_value(q.kind)))
                .collect();
            let with = |value: &str| {
                let mut args = others.clone();
                args.push(format!("{}={value}", p.name));
                format!("{name}({})", args.join(","))
            };
            // Repeated.
            let v = valid_value(p.kind);
            let spec = format!("{name}({}={v}, {}={v})", p.name, p.name);
            let message = error(&spec);
            assert_mentions(&spec, &message, &[p.name]);
            assert!(
                ["more than once", "twice", "repeated"]
                    .iter()
                    .any(|w| message.contains(w)),
                "`{spec}`: {message}"
            );
            match p.kind {
                ParamKind::Real { range, .. } => {
                    let mut bad = vec![
                        "abc", "1.2.3", "0x10", "1e", "--1", "½", "inf", "-inf", "NaN", "nan", "infinity", "1e39",
                        "-1e39",
                    ];
                    bad.extend(match range {
                        Range::Finite => &[][..],
                        Range::Positive => &["0", "-0", "-1", "-1e-30"][..],
                        Range::NonNegative => &["-1", "-1e-30"][..],
                        Range::NonZero => &["0", "-0", "1e-50"][..],
                    });
                    for value in bad {
                        let spec = with(value);
                        let message = error(&spec);
                        assert_mentions(&spec, &message, &[p.name, value, range.describe()]);
                    }
                }
                ParamKind::Choice { choices, .. } => {
                    for value in ["bogus", "1", "tanhh"] {
                        let spec = with(value);
                        let message = error(&spec);
                        assert_mentions(&spec, &message, &[p.name, value]);
                        assert_mentions(&spec, &message, choices);
                    }
                }
            }
        }
    }
    if ACTIVATIONS.iter().any(|i| i.name == "hardtanh") {
        let spec = "hardtanh(min_val=2, max_val=1)";
        assert_mentions(spec, &error(spec), &["min_val", "max_val"]);
        // Equal bounds are allowed.
        parse("hardtanh(min_val=1, max_val=1)").unwrap();
    }
}

/// A valid value for a parameter of this kind (within every range there is).
fn valid_value(kind: ParamKind) -> String {
    match kind {
        ParamKind::Real { default, .. } => format!("{}", default.unwrap_or(0.5)),
        ParamKind::Choice { choices, default } => choices[default].to_string(),
    }
}

#[test]
fn malformed_strings_are_errors() {
    for spec in [
        "",
        "   ",
        "\t\n",
        "elu(alpha=0.5",
        "elu)",
        "(alpha=1)",
        "elu(alpha)",
        "elu(=1)",
        "elu(alpha=)",
        "elu(alpha=1,,)",
        "elu(,alpha=1)",
        "elu((alpha=1))",
        "elu(alpha=1)x",
        "elu alpha=1",
        "elu(alpha=1)(alpha=2)",
        "elu(alpha==1)",
        "=",
        "()",
        ",",
    ] {
        let message = error(spec);
        assert!(
            ["expected", "empty", "unknown", "invalid value"]
                .iter()
                .any(|w| message.contains(w)),
            "{spec:?}: the message should say what was expected: {message}"
        );
    }
}

/// A few thousand random and mutated strings: parsing never panics, every success round-trips
/// through Display and every error has a message.
#[test]
fn garbage_never_panics() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let alphabet: Vec<char> = "abcdeghilmnoprstuwxyz_()=,.-+eE0123456789 \t\n'\"λé∞\u{0}\u{feff}"
        .chars()
        .collect();
    let seeds: Vec<String> = ACTIVATIONS
        .iter()
        .flat_map(|i| i.examples.iter().map(|e| e.to_string()))
        .collect();
    let mut inputs: Vec<String> = Vec::new();
    for _ in 0..2000 {
        let len = rng.random_range(0..24);
        inputs.push(
            (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect(),
        );
    }
    for _ in 0..3000 {
        let mut s: Vec<char> = seeds[rng.random_range(0..seeds.len())].chars().collect();
        for _ in 0..rng.random_range(1..4) {
            let c = alphabet[rng.random_range(0..alphabet.len())];
            let at = rng.random_range(0..=s.len());
            match rng.random_range(0..4) {
                0 => s.insert(at, c),
                1 if at < s.len() => {
                    s.remove(at);
                }
                2 if at < s.len() => s[at] = c,
                _ => s.truncate(at),
            }
        }
        inputs.push(s.into_iter().collect());
    }
    for seed in &seeds {
        for (i, _) in seed.char_indices() {
            inputs.push(seed[..i].to_string());
            inputs.push(seed[i..].to_string());
        }
    }
    inputs.push(format!("elu(alpha={})", "9".repeat(500)));
    inputs.push(format!("elu(alpha=0.{}1)", "0".repeat(500)));
    inputs.push("(".repeat(1000));
    for s in &inputs {
        let result = catch_unwind(AssertUnwindSafe(|| s.parse::<Activation>()))
            .unwrap_or_else(|_| panic!("parsing {s:?} panicked"));
        match result {
            Ok(act) => {
                let again =
                    parse(&act.to_string()).unwrap_or_else(|e| panic!("{s:?} parsed as `{act}`, which does not: {e}"));
                assert!(identical(&again, &act), "{s:?} → `{act}`");
            }
            Err(e) => assert!(!e.to_string().is_empty(), "{s:?}: empty error"),
        }
    }
    assert!(inputs.len() >= 5000);
}
