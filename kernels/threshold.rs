//! # threshold
//!
//! - Forward: x ≤ threshold ? value : x. Derivative: x ≤ threshold ? 0 : 1. Both parameters are
//!   required, as in PyTorch. No derivative from the output: `value` may equal outputs of the
//!   identity side.
//! - Method: one compare and select; bit-identical to PyTorch. The backward selects `dy` or 0.
//! - Measured max error (exhaustive, every backend): forward exact (bit-identical to PyTorch),
//!   derivative 0 ULP, at threshold = 0, value = 0 (all 2³² inputs, `docs/accuracy-exhaustive.md`).

use crate::backend::Vector;
use crate::kernel::{Kernel, Param, ParamKind, ParamValue, Range};
use crate::math::{pass, step};

/// Threshold: `x ≤ threshold ? value : x`.
///
/// ```
/// use actkern::{Apply, Threshold};
/// let mut y = [0.0f32; 3];
/// Threshold { threshold: 0.5, value: -1.0 }.forward(&[0.0, 0.5, 2.0], &mut y);
/// assert_eq!(y, [-1.0, -1.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Threshold {
    /// Inputs at or below this are replaced (required).
    pub threshold: f32,
    /// What they are replaced with (required).
    pub value: f32,
}

impl Kernel for Threshold {
    const NAME: &'static str = "threshold";
    const PARAMS: &'static [Param] = &[
        Param {
            name: "threshold",
            kind: ParamKind::Real {
                default: None,
                range: Range::Finite,
            },
        },
        Param {
            name: "value",
            kind: ParamKind::Real {
                default: None,
                range: Range::Finite,
            },
        },
    ];
    const FORMULA: &'static str = "x <= threshold ? value : x; f'(x) = x <= threshold ? 0 : 1";
    const EXAMPLES: &'static [&'static str] = &[
        "threshold(threshold=0, value=0)",
        "threshold(threshold=0.5, value=-1)",
        "threshold(threshold=-2, value=3)",
    ];

    fn from_params(values: &[ParamValue]) -> Result<Self, String> {
        Ok(Threshold {
            threshold: values[0].real(),
            value: values[1].real(),
        })
    }
    fn params(&self) -> Vec<ParamValue> {
        vec![
            ParamValue::Real(self.threshold),
            ParamValue::Real(self.value),
        ]
    }

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        V::select(x.le(V::splat(self.threshold)), V::splat(self.value), x)
    }
    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        step(x.gt(V::splat(self.threshold)), x)
    }
    #[inline(always)]
    fn backward<V: Vector>(&self, x: V, dy: V) -> V {
        pass(x.gt(V::splat(self.threshold)), x, dy)
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::threshold(x, self.threshold.into(), self.value.into())
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::threshold_derivative(x, self.threshold.into())
    }
    fn pytorch_forward(&self, x: f32) -> Option<f32> {
        Some(crate::reference::pytorch::threshold(
            x,
            self.threshold,
            self.value,
        ))
    }
}
