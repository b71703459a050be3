//! The contract between one activation's file in `kernels/` and the rest of the crate.

use crate::backend::Vector;
use core::fmt;

/// One activation function: its metadata, its vector kernels and its `f64` reference.
///
/// Each type implementing this lives in its own file under `kernels/`. Its vector methods are
/// loop-free and generic over [`Vector`], so the same source runs on every backend; the driver
/// owns loops, tails and threads. Its parameters are the typed fields of its struct, declared
/// with [`kernel_params!`](crate::kernel_params), which writes [`Params`] and `Default` from
/// them. Users call the slice methods of [`Apply`](crate::Apply), which every kernel of actkern
/// implements; a `Kernel` written in another crate gets them through
/// [`Custom`](crate::Custom).
pub trait Kernel: Params + Copy + Send + Sync + fmt::Debug + PartialEq + 'static {
    /// PyTorch's functional name, as used in spec strings (`"leaky_relu"`).
    const NAME: &'static str;
    /// Other names accepted by the parser (`"swish"` for `silu`).
    const ALIASES: &'static [&'static str] = &[];
    /// The forward and derivative formulas in one line of plain text, for listings.
    const FORMULA: &'static str;
    /// Spec strings the test-suite and benchmarks run: the default first, then parameter values
    /// that move kinks, flip signs or reach range edges.
    const EXAMPLES: &'static [&'static str];
    /// Where the derivative crosses zero (default parameters), if it does: within
    /// [`ZERO_WINDOW`](crate::accuracy::ZERO_WINDOW) of it CONTRACT §4 accepts an absolute error of
    /// 2⁻²⁴ instead of a relative one.
    const DERIVATIVE_ZERO: Option<f32> = None;
    /// Whether the kernel has a fast tier ([`Fast`](crate::Fast)) of its own: true for the
    /// kernels whose shared math takes a cheaper step when [`Vector::FAST`] is set. The others
    /// (the piecewise-linear ones) have one tier, which [`Fast`](crate::Fast) runs unchanged,
    /// without compiling it twice.
    const FAST_TIER: bool = false;

    /// `f(x)` in every lane of `x`, loop-free: the driver supplies the loops, tails and threads.
    fn forward<V: Vector>(&self, x: V) -> V;
    /// `f'(x)` in every lane of `x`; at a kink, PyTorch's value, as CONTRACT §2 gives it.
    fn derivative<V: Vector>(&self, x: V) -> V;
    /// `dy · f'(x)`. Kernels with linear pieces override this to select `dy` or `0` exactly
    /// there (CONTRACT §3).
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        dy * self.derivative(x)
    }
    /// Whether and when `f'(x)` can be recovered from `y = f(x)` (CONTRACT §2.3): the one place
    /// this is stated, from which [`Kernel::has_derivative_from_output`], the registry's
    /// [`FromOutputSupport`] and the error messages listing the supported activations follow.
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::Never;
    /// Whether `f'(x)` can be recovered from `y = f(x)` with these parameters.
    fn has_derivative_from_output(&self) -> bool {
        match Self::FROM_OUTPUT {
            FromOutput::Never => false,
            FromOutput::Always => true,
            FromOutput::When { holds, .. } => holds(self),
        }
    }
    /// `f'(x)` from `y = f(x)`; only called when [`Kernel::has_derivative_from_output`] is true.
    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        y * V::splat(f32::NAN)
    }
    /// `dy · f'(x)` from `y = f(x)`; only called when [`Kernel::has_derivative_from_output`].
    #[inline(always)]
    fn backward_from_output<V: Vector>(&self, y: V, dy: V) -> V {
        dy * self.derivative_from_output(y)
    }

    /// The forward in `f64` from [`crate::reference`].
    fn reference_forward(&self, x: f64) -> f64;
    /// The derivative in `f64` from [`crate::reference`].
    fn reference_derivative(&self, x: f64) -> f64;
    /// The derivative in terms of `y` in `f64` (CONTRACT §2.3), where there is one.
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        let _ = y;
        None
    }
    /// PyTorch's own `f32` forward, for the activations whose forward CONTRACT §4 requires to be
    /// bit-identical to it (the piecewise-linear ones).
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        let _ = x;
        None
    }
}

/// Whether a kernel `K`'s derivative can be recovered from its output ([`Kernel::FROM_OUTPUT`]).
pub enum FromOutput<K> {
    /// For no parameter values.
    Never,
    /// For every parameter value.
    Always,
    /// Where `holds` is true, which `condition` states in spec-string terms (`"alpha > 0"`).
    When {
        /// The condition as text, for listings and error messages.
        condition: &'static str,
        /// The condition.
        holds: fn(&K) -> bool,
    },
}

impl<K> FromOutput<K> {
    /// The rule without its code, as the registry keeps it.
    pub const fn support(&self) -> FromOutputSupport {
        match self {
            FromOutput::Never => FromOutputSupport::Never,
            FromOutput::Always => FromOutputSupport::Always,
            FromOutput::When { condition, .. } => FromOutputSupport::When(condition),
        }
    }
}

/// [`FromOutput`] as text: whether an activation has a derivative from the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FromOutputSupport {
    /// For no parameter values.
    Never,
    /// For every parameter value.
    Always,
    /// Where the condition holds (`"alpha > 0"`).
    When(&'static str),
}

/// A kernel's parameters as spec-string values: written by [`kernel_params!`](crate::kernel_params)
/// from the struct's typed fields, so names, defaults, ranges, `Default`, parsing and printing
/// cannot disagree.
pub trait Params: Sized {
    /// Parameters in spec-string order (the order of the fields).
    const PARAMS: &'static [Param];
    /// Builds the kernel from values in [`Params::PARAMS`] order, already checked against each
    /// parameter's own range. Returns a message for constraints between parameters.
    fn from_params(values: &[ParamValue]) -> Result<Self, String>;
    /// The parameter values, in [`Params::PARAMS`] order.
    fn params(&self) -> Vec<ParamValue>;
}

/// The type of one parameter field: `f32` for a number, or an enum declared with
/// [`choice_param!`](crate::choice_param) for a word.
pub trait ParamType: Copy {
    /// From a value already checked against the parameter's [`ParamKind`].
    fn from_value(value: ParamValue) -> Self;
    /// As a spec-string value.
    fn to_value(self) -> ParamValue;
}

impl ParamType for f32 {
    fn from_value(value: ParamValue) -> f32 {
        value.real()
    }
    fn to_value(self) -> ParamValue {
        ParamValue::Real(self)
    }
}

/// Declares a kernel's struct from its typed parameter fields and writes what follows from
/// them: the derives every kernel needs (`Clone, Copy, Debug, PartialEq`), [`Params`] (names,
/// defaults, ranges, parsing by position, printing) and, when every field has a default,
/// `Default`.
///
/// Each field is `name: f32 = default => Range` (a [`Range`] variant: `Finite`, `Positive`,
/// `NonNegative`, `NonZero`), `name: f32 => Range` for a required number, or
/// `name: Enum = Enum::Variant => choice` for an enum of [`choice_param!`](crate::choice_param).
/// A closing `check = path;` names a `fn(&Self) -> Result<(), String>` for constraints between
/// parameters. A struct without parameters is `pub struct Name;`.
///
/// ```
/// use actkern::kernel::{Params, ParamKind, Range};
///
/// actkern::kernel_params! {
///     /// Scaled clamp: `min(max(x, lo), hi)·scale`.
///     pub struct ScaledClamp {
///         /// Lower bound.
///         lo: f32 = -1.0 => Finite,
///         /// Upper bound, at least `lo`.
///         hi: f32 = 1.0 => Finite,
///         /// Factor, required.
///         scale: f32 => NonZero,
///     }
///     check = ScaledClamp::ordered;
/// }
///
/// impl ScaledClamp {
///     fn ordered(&self) -> Result<(), String> {
///         if self.lo <= self.hi { Ok(()) } else { Err("lo must not exceed hi".into()) }
///     }
/// }
///
/// assert_eq!(ScaledClamp::PARAMS[2].name, "scale");
/// assert_eq!(ScaledClamp::PARAMS[2].kind, ParamKind::Real { default: None, range: Range::NonZero });
/// let k = ScaledClamp { lo: 0.0, hi: 2.0, scale: 3.0 };
/// assert_eq!(ScaledClamp::from_params(&k.params()), Ok(k));
/// ```
#[macro_export]
macro_rules! kernel_params {
    // No parameters.
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident;
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        $vis struct $name;

        impl $crate::kernel::Params for $name {
            const PARAMS: &'static [$crate::kernel::Param] = &[];
            fn from_params(_: &[$crate::kernel::ParamValue]) -> Result<Self, String> {
                Ok($name)
            }
            fn params(&self) -> Vec<$crate::kernel::ParamValue> {
                Vec::new()
            }
        }
    };
    // Every field has a default: `Default` too.
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty = $default:expr => $domain:ident ),+ $(,)?
        }
        $(check = $check:path;)?
    ) => {
        $crate::kernel_params! {
            @struct $(#[$meta])* $vis $name
            { $( $(#[$field_meta])* $field : $ty [$default] $domain ),+ }
            $($check)?
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default ),+ }
            }
        }
    };
    // Some field is required.
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty $(= $default:expr)? => $domain:ident ),+ $(,)?
        }
        $(check = $check:path;)?
    ) => {
        $crate::kernel_params! {
            @struct $(#[$meta])* $vis $name
            { $( $(#[$field_meta])* $field : $ty [$($default)?] $domain ),+ }
            $($check)?
        }
    };
    (
        @struct $(#[$meta:meta])* $vis:vis $name:ident
        { $( $(#[$field_meta:meta])* $field:ident : $ty:ty [$($default:expr)?] $domain:ident ),+ }
        $($check:path)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        $vis struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )+
        }

        impl $crate::kernel::Params for $name {
            const PARAMS: &'static [$crate::kernel::Param] = &[
                $( $crate::kernel::Param {
                    name: stringify!($field),
                    kind: $crate::kernel_params!(@kind $ty, [$($default)?], $domain),
                }, )+
            ];
            fn from_params(values: &[$crate::kernel::ParamValue]) -> Result<Self, String> {
                let mut values = values.iter().copied();
                let kernel = $name {
                    $( $field: <$ty as $crate::kernel::ParamType>::from_value(
                        values.next().expect("one value per parameter"),
                    ), )+
                };
                $( $check(&kernel)?; )?
                Ok(kernel)
            }
            fn params(&self) -> Vec<$crate::kernel::ParamValue> {
                vec![ $( $crate::kernel::ParamType::to_value(self.$field) ),+ ]
            }
        }
    };
    (@kind $ty:ty, [$default:expr], choice) => {
        $crate::kernel::ParamKind::Choice {
            choices: <$ty>::CHOICES,
            default: <$ty>::index($default),
        }
    };
    (@kind $ty:ty, [$($default:expr)?], $range:ident) => {
        $crate::kernel::ParamKind::Real {
            default: $crate::kernel_params!(@option $($default)?),
            range: $crate::kernel::Range::$range,
        }
    };
    (@option $default:expr) => { Some($default) };
    (@option) => { None };
}

/// Declares an enum parameter whose values are words in spec strings (gelu's
/// `approximate=none|tanh`): each variant with its word. The first variant is the enum's
/// `Default`. Writes `CHOICES` (the words in order), `index` and [`ParamType`].
///
/// ```
/// actkern::choice_param! {
///     /// Rounding direction.
///     pub enum Rounding {
///         /// To nearest.
///         Nearest = "nearest",
///         /// Toward zero.
///         Zero = "zero",
///     }
/// }
/// assert_eq!(Rounding::CHOICES, ["nearest", "zero"]);
/// assert_eq!(Rounding::Zero.index(), 1);
/// assert_eq!(Rounding::default(), Rounding::Nearest);
/// ```
#[macro_export]
macro_rules! choice_param {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(#[$first_meta:meta])* $first:ident = $first_word:literal
            $(, $(#[$variant_meta:meta])* $variant:ident = $word:literal )* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        $vis enum $name {
            $(#[$first_meta])*
            #[default]
            $first,
            $( $(#[$variant_meta])* $variant, )*
        }

        impl $name {
            /// The words of spec strings, in the order of the variants.
            pub const CHOICES: &'static [&'static str] = &[$first_word $(, $word)*];
            const ALL: &'static [$name] = &[$name::$first $(, $name::$variant)*];

            /// The position of this variant in [`Self::CHOICES`].
            pub const fn index(self) -> usize {
                self as usize
            }
        }

        impl $crate::kernel::ParamType for $name {
            fn from_value(value: $crate::kernel::ParamValue) -> Self {
                Self::ALL[value.choice()]
            }
            fn to_value(self) -> $crate::kernel::ParamValue {
                $crate::kernel::ParamValue::Choice(self.index())
            }
        }
    };
}

/// A parameter of an activation, as it appears in spec strings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Param {
    /// PyTorch's keyword (`"negative_slope"`).
    pub name: &'static str,
    /// What values it takes, and its default.
    pub kind: ParamKind,
}

/// The values a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamKind {
    /// A number in `range`; `default` is `None` for a required parameter.
    Real {
        /// Value used when the spec string omits the parameter.
        default: Option<f32>,
        /// Values accepted.
        range: Range,
    },
    /// One of a few words (`approximate=none|tanh`).
    Choice {
        /// The accepted words; the value is an index into this list.
        choices: &'static [&'static str],
        /// Index used when the spec string omits the parameter.
        default: usize,
    },
}

/// The range of a real parameter. Non-finite values are never accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// Any finite value.
    Finite,
    /// `> 0`.
    Positive,
    /// `>= 0`.
    NonNegative,
    /// `!= 0`.
    NonZero,
}

impl Range {
    /// Whether `v` is accepted: finite, and within the range.
    pub fn contains(self, v: f32) -> bool {
        v.is_finite()
            && match self {
                Range::Finite => true,
                Range::Positive => v > 0.0,
                Range::NonNegative => v >= 0.0,
                Range::NonZero => v != 0.0,
            }
    }

    /// Human-readable description, used in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Range::Finite => "any finite number",
            Range::Positive => "a finite number > 0",
            Range::NonNegative => "a finite number >= 0",
            Range::NonZero => "a finite number != 0",
        }
    }
}

/// A parsed parameter value: a real number, or the index of a word of a choice.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamValue {
    /// For [`ParamKind::Real`].
    Real(f32),
    /// For [`ParamKind::Choice`]: index into its `choices`.
    Choice(usize),
}

impl ParamValue {
    /// The number of a [`ParamValue::Real`] (`NaN` for a choice, which `from_params` never asks).
    pub fn real(self) -> f32 {
        match self {
            ParamValue::Real(v) => v,
            ParamValue::Choice(_) => f32::NAN,
        }
    }
    /// The index of a [`ParamValue::Choice`] (0 for a real).
    pub fn choice(self) -> usize {
        match self {
            ParamValue::Choice(i) => i,
            ParamValue::Real(_) => 0,
        }
    }
}
