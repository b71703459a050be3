//! # rrelu
//!
//! - Forward (evaluation mode, PyTorch `F.rrelu(training=False)`): leaky_relu with slope
//!   (lower + upper)/2: x > 0 ? x : x·slope. Derivative: x > 0 ? 1 : slope. From the output
//!   (slope > 0): y > 0 ? 1 : slope. Training mode draws a slope per element:
//!   `actkern::rrelu_train`.
//! - Method: [`LeakyRelu`] with that slope, so every function gives leaky_relu's bits; the slope
//!   is (lower + upper)/2 in `f64` rounded once to `f32`, as PyTorch passes its `double`
//!   mean to leaky_relu.
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0, from the output 0 ULP at the defaults (all 2³² inputs,
//!   `docs/accuracy-exhaustive.md`); backward ≤ 0.5 ULP (one rounding of dy·slope).

use super::leaky_relu::LeakyRelu;
use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};

crate::kernel_params! {
    /// Randomized leaky ReLU in evaluation mode: leaky_relu with slope `(lower + upper) / 2`.
    ///
    /// ```
    /// use actkern::{Apply, Rrelu};
    /// let mut y = [0.0f32; 2];
    /// Rrelu { lower: 0.25, upper: 0.75 }.forward(&[-4.0, 4.0], &mut y);
    /// assert_eq!(y, [-2.0, 4.0]);
    /// ```
    pub struct Rrelu {
        /// Lower bound of the slope (default 1/8).
        lower: f32 = 0.125 => Finite,
        /// Upper bound of the slope (default 1/3), at least `lower`.
        upper: f32 = 1.0 / 3.0 => Finite,
    }
    check = Rrelu::ordered;
}

impl Rrelu {
    /// PyTorch's constraint between the parameters.
    fn ordered(&self) -> Result<(), String> {
        if self.lower > self.upper {
            return Err(format!("lower ({}) must not exceed upper ({})", self.lower, self.upper));
        }
        Ok(())
    }

    /// The leaky_relu it evaluates to: slope (lower + upper)/2, in `f64` rounded once.
    pub fn as_leaky_relu(&self) -> LeakyRelu {
        LeakyRelu {
            negative_slope: ((f64::from(self.lower) + f64::from(self.upper)) / 2.0) as f32,
        }
    }
}

impl Kernel for Rrelu {
    const NAME: &'static str = "rrelu";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::When {
        condition: "lower + upper > 0",
        holds: |k| k.as_leaky_relu().negative_slope > 0.0,
    };
    const FORMULA: &'static str = "x > 0 ? x : x * (lower + upper) / 2; f'(x) = x > 0 ? 1 : (lower + upper) / 2";
    const EXAMPLES: &'static [&'static str] = &[
        "rrelu",
        "rrelu(lower=0.1, upper=0.3)",
        "rrelu(lower=0, upper=0)",
        "rrelu(lower=-0.5, upper=-0.25)",
    ];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        self.as_leaky_relu().forward(x)
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        self.as_leaky_relu().derivative(x)
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        self.as_leaky_relu().backward(x, dy)
    }
    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        self.as_leaky_relu().derivative_from_output(y)
    }
    #[inline(always)]
    fn backward_from_output<V: Vector>(&self, y: V, dy: V) -> V {
        self.as_leaky_relu().backward_from_output(y, dy)
    }

    fn reference_forward(&self, x: f64) -> f64 {
        self.as_leaky_relu().reference_forward(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        self.as_leaky_relu().reference_derivative(x)
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        self.as_leaky_relu().reference_derivative_from_output(y)
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        self.as_leaky_relu().pytorch_forward(x)
    }
}
