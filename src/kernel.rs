//! The contract between one activation's file in `kernels/` and the rest of the crate.

use crate::backend::Vector;
use core::fmt;

/// One activation function: its metadata, its vector kernels and its `f64` reference.
///
/// Each type implementing this lives in its own file under `kernels/`. Its vector methods are
/// loop-free and generic over [`Vector`], so the same source runs on every backend; the driver
/// owns loops, tails and threads. Users call the slice methods of [`Apply`](crate::Apply), which
/// every kernel of actkern implements; a `Kernel` written in another crate gets them through
/// [`Custom`](crate::Custom).
pub trait Kernel: Copy + Send + Sync + fmt::Debug + PartialEq + 'static {
    /// PyTorch's functional name, as used in spec strings (`"leaky_relu"`).
    const NAME: &'static str;
    /// Other names accepted by the parser (`"swish"` for `silu`).
    const ALIASES: &'static [&'static str] = &[];
    /// Parameters in spec-string order.
    const PARAMS: &'static [Param] = &[];
    /// The forward and derivative formulas in one line of plain text, for listings.
    const FORMULA: &'static str;
    /// Spec strings the test-suite and benchmarks run: the default first, then parameter values
    /// that move kinks, flip signs or reach range edges.
    const EXAMPLES: &'static [&'static str];
    /// Where the derivative crosses zero (default parameters), if it does: within
    /// [`ZERO_WINDOW`](crate::accuracy::ZERO_WINDOW) of it SPEC §4 accepts an absolute error of
    /// 2⁻²⁴ instead of a relative one.
    const DERIVATIVE_ZERO: Option<f32> = None;
    /// Whether the kernel has a fast tier ([`Fast`](crate::Fast)) of its own: true for the
    /// kernels whose shared math takes a cheaper step when [`Vector::FAST`] is set. The others
    /// (the piecewise-linear ones) have one tier, which [`Fast`](crate::Fast) runs unchanged,
    /// without compiling it twice.
    const FAST_TIER: bool = false;

    /// Builds the activation from values in [`Kernel::PARAMS`] order, already checked against
    /// each parameter's own range. Returns a message for constraints between parameters.
    fn from_params(values: &[ParamValue]) -> Result<Self, String>;
    /// The parameter values, in [`Kernel::PARAMS`] order.
    fn params(&self) -> Vec<ParamValue>;

    /// `f(x)` in every lane of `x`, loop-free: the driver supplies the loops, tails and threads.
    fn forward<V: Vector>(&self, x: V) -> V;
    /// `f'(x)` in every lane of `x`; at a kink, PyTorch's value, as SPEC §2 gives it.
    fn derivative<V: Vector>(&self, x: V) -> V;
    /// `dy · f'(x)`. Kernels with linear pieces override this to select `dy` or `0` exactly
    /// there (SPEC §3).
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        dy * self.derivative(x)
    }
    /// Whether `f'(x)` can be recovered from `y = f(x)` with these parameters (SPEC §2.3).
    fn has_derivative_from_output(&self) -> bool {
        false
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
    /// The derivative in terms of `y` in `f64` (SPEC §2.3), where there is one.
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        let _ = y;
        None
    }
    /// PyTorch's own `f32` forward, for the activations whose forward SPEC §4 requires to be
    /// bit-identical to it (the piecewise-linear ones).
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        let _ = x;
        None
    }
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
