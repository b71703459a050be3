//! Parsing spec strings (CONTRACT §1): `name` or `name(param=value, ...)`.

use crate::activation::{ACTIVATIONS, Activation, ActivationInfo};
use crate::kernel::{ParamKind, ParamValue};
use core::fmt;
use std::str::FromStr;

/// Why a spec string did not parse. Every message names what was wrong and what is allowed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ParseError {
    /// The string is empty or only white space.
    Empty,
    /// Brackets, `=` or commas are out of place.
    Syntax {
        /// The spec string as given.
        spec: String,
        /// What the parser wanted where the string went wrong (`"`)` at the end"`).
        expected: &'static str,
    },
    /// No activation has this name.
    UnknownName {
        /// The name as given.
        name: String,
        /// The registered name closest to it.
        suggestion: &'static str,
    },
    /// The activation has no parameter of this name.
    UnknownParam {
        /// The activation's functional name.
        activation: &'static str,
        /// The parameter's name as given.
        param: String,
    },
    /// A parameter was given twice.
    RepeatedParam {
        /// The activation's functional name.
        activation: &'static str,
        /// The parameter's name.
        param: &'static str,
    },
    /// A parameter without a default was not given.
    MissingParam {
        /// The activation's functional name.
        activation: &'static str,
        /// The parameter's name.
        param: &'static str,
    },
    /// A value does not parse or is out of the parameter's range.
    BadValue {
        /// The activation's functional name.
        activation: &'static str,
        /// The parameter's name.
        param: &'static str,
        /// The value as given.
        value: String,
        /// What the parameter accepts.
        allowed: String,
    },
    /// The parameters are each valid but not together (`hardtanh` with `min_val > max_val`).
    Invalid {
        /// The activation's functional name.
        activation: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn all_names() -> String {
    let mut names: Vec<&str> = ACTIVATIONS
        .iter()
        .flat_map(|i| std::iter::once(i.name).chain(i.aliases.iter().copied()))
        .collect();
    names.sort_unstable();
    names.join(", ")
}

fn param_list(info: &ActivationInfo) -> String {
    if info.params.is_empty() {
        format!("`{}` takes no parameters", info.name)
    } else {
        let names: Vec<&str> = info.params.iter().map(|p| p.name).collect();
        format!("the parameters of `{}` are: {}", info.name, names.join(", "))
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => write!(
                f,
                "empty activation spec; expected a name such as `relu` or `elu(alpha=0.5)`"
            ),
            ParseError::Syntax { spec, expected } => {
                write!(
                    f,
                    "cannot parse activation spec `{spec}`: expected {expected}, as in `name` or `name(param=value, ...)`"
                )
            }
            ParseError::UnknownName { name, suggestion } => write!(
                f,
                "unknown activation `{name}`; did you mean `{suggestion}`? Valid names: {}",
                all_names()
            ),
            ParseError::UnknownParam { activation, param } => {
                let info = info_of(activation);
                write!(f, "`{activation}` has no parameter `{param}`; {}", param_list(info))
            }
            ParseError::RepeatedParam { activation, param } => {
                write!(f, "`{activation}`: parameter `{param}` is given more than once")
            }
            ParseError::MissingParam { activation, param } => {
                write!(f, "`{activation}`: parameter `{param}` is required (it has no default)")
            }
            ParseError::BadValue {
                activation,
                param,
                value,
                allowed,
            } => {
                write!(
                    f,
                    "`{activation}`: invalid value `{value}` for `{param}`; it must be {allowed}"
                )
            }
            ParseError::Invalid { activation, message } => write!(f, "`{activation}`: {message}"),
        }
    }
}

impl std::error::Error for ParseError {}

fn info_of(name: &str) -> &'static ActivationInfo {
    ACTIVATIONS.iter().find(|i| i.name == name).expect("registered name")
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions, so "rleu" is
/// one edit from "relu"), for suggesting the closest name.
fn edit_distance(a: &str, b: &str) -> usize {
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

fn find(name: &str) -> Result<&'static ActivationInfo, ParseError> {
    let lower = name.to_ascii_lowercase();
    if let Some(info) = ACTIVATIONS
        .iter()
        .find(|i| i.name == lower || i.aliases.contains(&lower.as_str()))
    {
        return Ok(info);
    }
    let suggestion = ACTIVATIONS
        .iter()
        .flat_map(|i| std::iter::once(i.name).chain(i.aliases.iter().copied()))
        .min_by_key(|n| edit_distance(&lower, n))
        .expect("the registry is not empty");
    Err(ParseError::UnknownName {
        name: name.to_string(),
        suggestion,
    })
}

fn parse_value(info: &ActivationInfo, index: usize, raw: &str) -> Result<ParamValue, ParseError> {
    let param = &info.params[index];
    let bad = |allowed: String| ParseError::BadValue {
        activation: info.name,
        param: param.name,
        value: raw.to_string(),
        allowed,
    };
    match param.kind {
        ParamKind::Real { range, .. } => {
            let v: f32 = raw.parse().map_err(|_| bad(range.describe().to_string()))?;
            if range.contains(v) {
                Ok(ParamValue::Real(v))
            } else {
                Err(bad(range.describe().to_string()))
            }
        }
        ParamKind::Choice { choices, .. } => {
            let word = raw.trim_matches(|c| c == '\'' || c == '"').to_ascii_lowercase();
            choices
                .iter()
                .position(|c| *c == word)
                .map(ParamValue::Choice)
                .ok_or_else(|| bad(format!("one of: {}", choices.join(", "))))
        }
    }
}

impl FromStr for Activation {
    type Err = ParseError;

    /// Parses `name` or `name(param=value, ...)`; white space anywhere is ignored, names are
    /// case-insensitive, omitted parameters take their defaults.
    fn from_str(spec: &str) -> Result<Activation, ParseError> {
        let compact: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err(ParseError::Empty);
        }
        let syntax = |expected| ParseError::Syntax {
            spec: spec.to_string(),
            expected,
        };
        let (name, args) = match compact.find('(') {
            None => {
                if compact.contains([')', '=', ',']) {
                    return Err(syntax("an activation name"));
                }
                (compact.as_str(), None)
            }
            Some(open) => {
                let inner = compact[open + 1..]
                    .strip_suffix(')')
                    .ok_or_else(|| syntax("`)` at the end"))?;
                if inner.contains(['(', ')']) {
                    return Err(syntax("one pair of parentheses"));
                }
                (&compact[..open], Some(inner))
            }
        };
        if name.is_empty() {
            return Err(syntax("an activation name before `(`"));
        }
        let info = find(name)?;
        let mut values: Vec<Option<ParamValue>> = vec![None; info.params.len()];
        if let Some(args) = args.filter(|a| !a.is_empty()) {
            for item in args.split(',') {
                let (key, raw) = item
                    .split_once('=')
                    .ok_or_else(|| syntax("`param=value` between commas"))?;
                if key.is_empty() || raw.is_empty() {
                    return Err(syntax("`param=value` between commas"));
                }
                let index = info
                    .params
                    .iter()
                    .position(|p| p.name.eq_ignore_ascii_case(key))
                    .ok_or_else(|| ParseError::UnknownParam {
                        activation: info.name,
                        param: key.to_string(),
                    })?;
                if values[index].is_some() {
                    return Err(ParseError::RepeatedParam {
                        activation: info.name,
                        param: info.params[index].name,
                    });
                }
                values[index] = Some(parse_value(info, index, raw)?);
            }
        }
        let values = info
            .params
            .iter()
            .zip(values)
            .map(|(p, v)| match (v, p.kind) {
                (Some(v), _) => Ok(v),
                (None, ParamKind::Real { default: Some(d), .. }) => Ok(ParamValue::Real(d)),
                (None, ParamKind::Choice { default, .. }) => Ok(ParamValue::Choice(default)),
                (None, ParamKind::Real { default: None, .. }) => Err(ParseError::MissingParam {
                    activation: info.name,
                    param: p.name,
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        (info.build)(&values).map_err(|message| ParseError::Invalid {
            activation: info.name,
            message,
        })
    }
}
