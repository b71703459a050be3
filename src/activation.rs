//! [`Activation`]: every kernel of `kernels/` in one enum, expanded from the generated registry.

use crate::apply::{Apply, KernelVisitor};
use crate::kernel::{FromOutputSupport, Kernel, Param, ParamKind, ParamValue};
use core::fmt;

/// What the registry knows about one activation without an instance of it.
#[derive(Clone, Copy, Debug)]
pub struct ActivationInfo {
    /// PyTorch's functional name.
    pub name: &'static str,
    /// Other names the parser accepts (`"swish"` for `silu`).
    pub aliases: &'static [&'static str],
    /// Parameters, in spec-string order.
    pub params: &'static [Param],
    /// Forward and derivative formulas, one line.
    pub formula: &'static str,
    /// Spec strings the tests and benchmarks run; the first is the default instance.
    pub examples: &'static [&'static str],
    /// Whether the derivative crosses zero, so that CONTRACT §4's absolute-error allowance
    /// applies near [`derivative_zero`](Self::derivative_zero).
    pub derivative_crosses_zero: bool,
    /// Where the derivative crosses zero (default parameters), if it does.
    pub derivative_zero: Option<f32>,
    /// Whether [`Fast`](crate::Fast) runs a cheaper kernel than the default ([`Kernel::FAST_TIER`]).
    pub fast_tier: bool,
    /// Whether and when the derivative can be recovered from the output ([`Kernel::FROM_OUTPUT`]).
    pub from_output: FromOutputSupport,
    pub(crate) build: fn(&[ParamValue]) -> Result<Activation, String>,
}

impl ActivationInfo {
    const fn of<K: Kernel>() -> ActivationInfo
    where
        Activation: From<K>,
    {
        ActivationInfo {
            name: K::NAME,
            aliases: K::ALIASES,
            params: K::PARAMS,
            formula: K::FORMULA,
            examples: K::EXAMPLES,
            derivative_crosses_zero: K::DERIVATIVE_ZERO.is_some(),
            derivative_zero: K::DERIVATIVE_ZERO,
            fast_tier: K::FAST_TIER,
            from_output: K::FROM_OUTPUT.support(),
            build: build::<K>,
        }
    }

    /// The activation with its default parameters (for `threshold`, whose parameters have no
    /// defaults, its first example).
    pub fn default_instance(&self) -> Activation {
        self.examples[0].parse().expect("every kernel's first example parses")
    }

    /// The default instance, then each example that selects a different formula through a
    /// choice parameter (gelu's `approximate=tanh`): one instance per distinct formula, for
    /// accuracy tables and benchmarks.
    pub fn formula_variants(&self) -> Vec<Activation> {
        self.example_instances()
            .into_iter()
            .enumerate()
            .filter(|(i, act)| {
                *i == 0
                    || act
                        .params()
                        .iter()
                        .zip(self.params)
                        .any(|(v, p)| is_non_default_choice(p, *v))
            })
            .map(|(_, act)| act)
            .collect()
    }

    /// Every example instance, parsed.
    pub fn example_instances(&self) -> Vec<Activation> {
        self.examples
            .iter()
            .map(|s| {
                s.parse()
                    .unwrap_or_else(|e| panic!("example `{s}` of {}: {e}", self.name))
            })
            .collect()
    }
}

fn build<K: Kernel>(values: &[ParamValue]) -> Result<Activation, String>
where
    Activation: From<K>,
{
    K::from_params(values).map(Activation::from)
}

macro_rules! define_activation {
    ($($module:ident :: $ty:ident),* $(,)?) => {
        /// An activation function with its parameters, chosen at run time.
        ///
        /// Parse one from a spec string (CONTRACT §1) and apply it with the methods of [`Apply`]:
        ///
        /// ```
        /// use actkern::{Activation, Apply};
        /// let act: Activation = "hardtanh(min_val=-2, max_val=2)".parse().unwrap();
        /// assert_eq!(act.to_string(), "hardtanh(min_val=-2, max_val=2)");
        /// let mut y = [0.0f32; 3];
        /// act.forward(&[-3.0, 0.5, 3.0], &mut y);
        /// assert_eq!(y, [-2.0, 0.5, 2.0]);
        /// assert!("gelu(approximate=exact)".parse::<Activation>().is_err());
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Activation {
            $(
                #[doc = concat!(
                    "[`", stringify!($ty), "`](crate::", stringify!($ty), ") with its parameters: ",
                    "see there for its formula and derivative."
                )]
                $ty(crate::kernels::$module::$ty),
            )*
        }

        $(
            impl From<crate::kernels::$module::$ty> for Activation {
                fn from(k: crate::kernels::$module::$ty) -> Activation {
                    Activation::$ty(k)
                }
            }
        )*

        impl Apply for Activation {
            fn visit<R>(&self, visitor: impl KernelVisitor<R>) -> R {
                match self {
                    $( Activation::$ty(k) => visitor.visit(k), )*
                }
            }
            fn run(&self, call: crate::apply::Call<'_>) -> Result<(), crate::FromOutputError> {
                self.visit(call)
            }
        }

        /// Every activation of the registry, in alphabetical order.
        pub const ACTIVATIONS: &[ActivationInfo] = &[
            $( ActivationInfo::of::<crate::kernels::$module::$ty>(), )*
        ];
    };
}

for_each_kernel!(define_activation);

impl Activation {
    /// The registry entry of this activation.
    pub fn info(&self) -> &'static ActivationInfo {
        let name = self.name();
        ACTIVATIONS
            .iter()
            .find(|i| i.name == name)
            .expect("every variant is registered")
    }

    /// The parameter values, in the order of [`ActivationInfo::params`].
    pub fn params(&self) -> Vec<ParamValue> {
        struct Params;
        impl KernelVisitor<Vec<ParamValue>> for Params {
            fn visit<K: Kernel>(self, k: &K) -> Vec<ParamValue> {
                k.params()
            }
        }
        self.visit(Params)
    }

    /// PyTorch's functional name.
    pub fn name(&self) -> &'static str {
        struct Name;
        impl KernelVisitor<&'static str> for Name {
            fn visit<K: Kernel>(self, _: &K) -> &'static str {
                K::NAME
            }
        }
        self.visit(Name)
    }

    /// Every registered activation with default parameters.
    pub fn all() -> Vec<Activation> {
        ACTIVATIONS.iter().map(|i| i.default_instance()).collect()
    }

    /// The spec string of a kernel (what `Display` prints for it).
    pub(crate) fn describe_kernel<K: Kernel>(k: &K) -> String {
        let mut s = String::from(K::NAME);
        let values = k.params();
        let shown: Vec<String> = K::PARAMS
            .iter()
            .zip(&values)
            .filter(|(p, v)| !is_default(p, **v))
            .map(|(p, v)| match (p.kind, v) {
                (ParamKind::Choice { choices, .. }, ParamValue::Choice(i)) => {
                    format!("{}={}", p.name, choices[*i])
                }
                (_, v) => format!("{}={}", p.name, v.real()),
            })
            .collect();
        if !shown.is_empty() {
            s.push('(');
            s.push_str(&shown.join(", "));
            s.push(')');
        }
        s
    }
}

fn is_non_default_choice(p: &Param, v: ParamValue) -> bool {
    matches!((p.kind, v), (ParamKind::Choice { default, .. }, ParamValue::Choice(i)) if i != default)
}

fn is_default(p: &Param, v: ParamValue) -> bool {
    match (p.kind, v) {
        (ParamKind::Real { default: Some(d), .. }, ParamValue::Real(x)) => d.to_bits() == x.to_bits(),
        (ParamKind::Choice { default, .. }, ParamValue::Choice(i)) => default == i,
        _ => false,
    }
}

/// Prints the spec string: the name, then the parameters that differ from their defaults.
/// It parses back to an equal value.
impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Describe;
        impl KernelVisitor<String> for Describe {
            fn visit<K: Kernel>(self, k: &K) -> String {
                Activation::describe_kernel(k)
            }
        }
        f.write_str(&self.visit(Describe))
    }
}
