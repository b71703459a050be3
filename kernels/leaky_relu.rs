//! # leaky_relu
//!
//! - Forward: x > 0 ? x : x·slope. Derivative: x > 0 ? 1 : slope (slope at 0).
//!   From the output (slope > 0, so y has x's sign): y > 0 ? 1 : slope.
//! - Method: one multiply, compare and select; bit-identical to PyTorch. The backward selects
//!   `dy` exactly where the slope is 1.
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0, from the output 0 ULP, at slope 0.01 (all 2³² inputs,
//!   `docs/accuracy-exhaustive.md`); backward ≤ 0.5 ULP (one rounding of dy·slope).

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::{keep_nan, pass};

crate::kernel_params! {
    /// Leaky ReLU: `x > 0 ? x : negative_slope · x`.
    ///
    /// ```
    /// use actkern::{Apply, LeakyRelu};
    /// let mut y = [0.0f32; 2];
    /// LeakyRelu { negative_slope: 0.25 }.forward(&[-4.0, 4.0], &mut y);
    /// assert_eq!(y, [-1.0, 4.0]);
    /// ```
    pub struct LeakyRelu {
        /// Slope for x ≤ 0 (default 0.01), any finite value.
        negative_slope: f32 = 0.01 => Finite,
    }
}

impl Kernel for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::When {
        condition: "negative_slope > 0",
        holds: |k| k.negative_slope > 0.0,
    };
    const FORMULA: &'static str = "x > 0 ? x : negative_slope * x; f'(x) = x > 0 ? 1 : negative_slope";
    const EXAMPLES: &'static [&'static str] = &[
        "leaky_relu",
        "leaky_relu(negative_slope=0.2)",
        "leaky_relu(negative_slope=0)",
        "leaky_relu(negative_slope=-0.5)",
        "leaky_relu(negative_slope=1.5)",
    ];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        leaky(x, V::splat(self.negative_slope))
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        keep_nan(
            x,
            V::select(x.gt(V::splat(0.0)), V::splat(1.0), V::splat(self.negative_slope)),
        )
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        // A zero slope is a flat linear piece: select 0 exactly (dy = inf gives 0, CONTRACT §3).
        if self.negative_slope == 0.0 {
            return pass(x.gt(V::splat(0.0)), x, dy);
        }
        keep_nan(
            x,
            V::select(x.gt(V::splat(0.0)), dy, dy * V::splat(self.negative_slope)),
        )
    }
    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        self.derivative(y)
    }
    #[inline(always)]
    fn backward_from_output<V: Vector>(&self, y: V, dy: V) -> V {
        self.backward(y, dy)
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::leaky_relu(x, self.negative_slope.into())
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::leaky_relu_derivative(x, self.negative_slope.into())
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        self.has_derivative_from_output()
            .then(|| crate::reference::leaky_relu_derivative_from_output(y, self.negative_slope.into()))
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        Some(crate::reference::pytorch::leaky_relu(x, self.negative_slope))
    }
}

/// leaky_relu with a slope per lane: `x > 0 ? x : slope·x`. [`LeakyRelu`]'s forward, and prelu's
/// with its channels' weights.
#[inline(always)]
pub(crate) fn leaky<V: Vector>(x: V, slope: V) -> V {
    V::select(x.gt(V::splat(0.0)), x, x * slope)
}

/// leaky_relu's backward with a slope per lane: the same bits as [`LeakyRelu::backward`] with
/// that lane's slope (a zero slope selects 0 on its flat piece).
#[inline(always)]
pub(crate) fn leaky_backward<V: Vector>(x: V, dy: V, slope: V) -> V {
    let positive = x.gt(V::splat(0.0));
    V::select(
        slope.eq(V::splat(0.0)),
        pass(positive, x, dy),
        keep_nan(x, V::select(positive, dy, dy * slope)),
    )
}
