//! `actkern list`: every registered activation, described from the registry.

use super::{CliError, ListArgs, print_stdout};
use actkern::{ACTIVATIONS, ActivationInfo, Apply, ParamKind};
use std::fmt::Write;

/// Runs `actkern list`.
pub fn run(args: &ListArgs) -> Result<(), CliError> {
    let mut text = String::new();
    if args.specs {
        for info in ACTIVATIONS {
            let _ = writeln!(text, "{}", info.default_instance());
        }
    } else {
        for (i, info) in ACTIVATIONS.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            describe(&mut text, info);
        }
    }
    print_stdout(&text)
}

fn describe(text: &mut String, info: &ActivationInfo) {
    let _ = write!(text, "{}", info.name);
    if !info.aliases.is_empty() {
        let _ = write!(text, " (alias: {})", info.aliases.join(", "));
    }
    text.push('\n');
    if info.params.is_empty() {
        text.push_str("  parameters: none\n");
    } else {
        text.push_str("  parameters:\n");
        for p in info.params {
            let _ = match p.kind {
                ParamKind::Real {
                    default: Some(d),
                    range,
                } => writeln!(text, "    {} = {d} ({})", p.name, range.describe()),
                ParamKind::Real { default: None, range } => {
                    writeln!(text, "    {} (required; {})", p.name, range.describe())
                }
                ParamKind::Choice { choices, default } => writeln!(
                    text,
                    "    {} = {} (one of: {})",
                    p.name,
                    choices[default],
                    choices.join(", ")
                ),
            };
        }
    }
    let _ = writeln!(text, "  formula: {}", info.formula);
    let _ = writeln!(text, "  backward from output: {}", from_output(info));
}

/// Whether dx can be computed from y: decided on the registry's example instances, which cover
/// the parameter values where the answer changes.
fn from_output(info: &ActivationInfo) -> String {
    let instances = info.example_instances();
    let (yes, no): (Vec<_>, Vec<_>) = instances.iter().partition(|a| a.has_backward_from_output());
    // A few examples each way are enough to show where the line falls.
    let list = |v: &[&actkern::Activation]| {
        let mut names: Vec<String> = v.iter().take(3).map(|a| a.to_string()).collect();
        if v.len() > 3 {
            names.push("...".into());
        }
        names.join(", ")
    };
    match (yes.is_empty(), no.is_empty()) {
        (false, true) => "yes".to_string(),
        (true, _) => "no".to_string(),
        (false, false) => format!(
            "depends on the parameters: yes for {}; no for {}",
            list(&yes),
            list(&no)
        ),
    }
}
