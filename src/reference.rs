//! The SPEC §2 formulas in `f64`, written plainly: the yardstick every kernel is measured against.
//!
//! One function per forward, derivative and derivative-from-output. They use the mathematical
//! definitions; where a definition cancels in floating point (x − tanh x near 0, 1 + erf for
//! x ≪ 0) a stable form is used instead and says so. `f64` carries 29 more bits than `f32`, so
//! these are exact enough to measure `f32` errors in ULPs.
//!
//! The submodule [`pytorch`] holds PyTorch's own `f32` evaluation of the piecewise-linear
//! forwards, which SPEC §4 requires to match bit for bit.
//!
//! ```
//! use actkern::reference;
//! assert_eq!(reference::relu(-2.0), 0.0);
//! assert!((reference::sigmoid_derivative(0.0) - 0.25).abs() < 1e-15);
//! ```

/// SELU's α (SPEC §2.1).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_284_817_042_991_671_7;
/// SELU's λ (SPEC §2.1).
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_493_419_334_985_294_6;

/// tanh x.
pub fn tanh(x: f64) -> f64 {
    x.tanh()
}
/// tanh'(x) = sech²x = 1 / cosh²x (no cancellation for large |x|).
pub fn tanh_derivative(x: f64) -> f64 {
    let c = x.cosh();
    1.0 / (c * c)
}
/// tanh' in terms of y = tanh x: 1 − y².
pub fn tanh_derivative_from_output(y: f64) -> f64 {
    1.0 - y * y
}

/// σ(x) = 1 / (1 + e^−x).
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
/// σ'(x) = σ(x)·σ(−x).
pub fn sigmoid_derivative(x: f64) -> f64 {
    sigmoid(x) * sigmoid(-x)
}
/// σ' in terms of y = σ(x): y(1 − y).
pub fn sigmoid_derivative_from_output(y: f64) -> f64 {
    y * (1.0 - y)
}

/// max(x, 0).
pub fn relu(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.0 }
}
/// 1 for x > 0, else 0.
pub fn relu_derivative(x: f64) -> f64 {
    if x > 0.0 { 1.0 } else { 0.0 }
}
/// relu' in terms of y: 1 for y > 0, else 0.
pub fn relu_derivative_from_output(y: f64) -> f64 {
    relu_derivative(y)
}

/// min(max(x, 0), 6).
pub fn relu6(x: f64) -> f64 {
    hardtanh(x, 0.0, 6.0)
}
/// 1 on (0, 6), else 0.
pub fn relu6_derivative(x: f64) -> f64 {
    hardtanh_derivative(x, 0.0, 6.0)
}
/// relu6' in terms of y: 1 on (0, 6), else 0.
pub fn relu6_derivative_from_output(y: f64) -> f64 {
    hardtanh_derivative(y, 0.0, 6.0)
}

/// x for x > 0, else α·(eˣ − 1).
pub fn elu(x: f64, alpha: f64) -> f64 {
    if x > 0.0 { x } else { alpha * x.exp_m1() }
}
/// 1 for x > 0, else α·eˣ.
pub fn elu_derivative(x: f64, alpha: f64) -> f64 {
    if x > 0.0 { 1.0 } else { alpha * x.exp() }
}
/// elu' in terms of y (α > 0): 1 for y > 0, else y + α.
pub fn elu_derivative_from_output(y: f64, alpha: f64) -> f64 {
    if y > 0.0 { 1.0 } else { y + alpha }
}

/// λ·x for x > 0, else λα·(eˣ − 1).
pub fn selu(x: f64) -> f64 {
    SELU_LAMBDA * elu(x, SELU_ALPHA)
}
/// λ for x > 0, else λα·eˣ.
pub fn selu_derivative(x: f64) -> f64 {
    SELU_LAMBDA * elu_derivative(x, SELU_ALPHA)
}
/// selu' in terms of y: λ for y > 0, else y + λα.
pub fn selu_derivative_from_output(y: f64) -> f64 {
    if y > 0.0 {
        SELU_LAMBDA
    } else {
        y + SELU_LAMBDA * SELU_ALPHA
    }
}

/// x for x > 0, else slope·x.
pub fn leaky_relu(x: f64, negative_slope: f64) -> f64 {
    if x > 0.0 { x } else { x * negative_slope }
}
/// 1 for x > 0, else slope.
pub fn leaky_relu_derivative(x: f64, negative_slope: f64) -> f64 {
    if x > 0.0 { 1.0 } else { negative_slope }
}
/// leaky_relu' in terms of y (slope > 0): 1 for y > 0, else slope.
pub fn leaky_relu_derivative_from_output(y: f64, negative_slope: f64) -> f64 {
    leaky_relu_derivative(y, negative_slope)
}

/// 0 on [−λ, λ], else x.
pub fn hardshrink(x: f64, lambd: f64) -> f64 {
    if x >= -lambd && x <= lambd { 0.0 } else { x }
}
/// 1 outside [−λ, λ], else 0.
pub fn hardshrink_derivative(x: f64, lambd: f64) -> f64 {
    if x < -lambd || x > lambd { 1.0 } else { 0.0 }
}
/// hardshrink' in terms of y (λ ≥ 0): 1 for y ≠ 0, else 0.
pub fn hardshrink_derivative_from_output(y: f64) -> f64 {
    if y != 0.0 { 1.0 } else { 0.0 }
}

/// min(max(x + 3, 0), 6) / 6.
pub fn hardsigmoid(x: f64) -> f64 {
    (x + 3.0).clamp(0.0, 6.0) / 6.0
}
/// 1/6 on (−3, 3), else 0.
pub fn hardsigmoid_derivative(x: f64) -> f64 {
    if x > -3.0 && x < 3.0 { 1.0 / 6.0 } else { 0.0 }
}
/// hardsigmoid' in terms of y: 1/6 on 0 < y < 1, else 0.
pub fn hardsigmoid_derivative_from_output(y: f64) -> f64 {
    if y > 0.0 && y < 1.0 { 1.0 / 6.0 } else { 0.0 }
}

/// min(max(x, min_val), max_val).
pub fn hardtanh(x: f64, min_val: f64, max_val: f64) -> f64 {
    if x < min_val {
        min_val
    } else if x > max_val {
        max_val
    } else {
        x
    }
}
/// 1 on (min_val, max_val), else 0.
pub fn hardtanh_derivative(x: f64, min_val: f64, max_val: f64) -> f64 {
    if x > min_val && x < max_val { 1.0 } else { 0.0 }
}
/// hardtanh' in terms of y: 1 on (min_val, max_val), else 0.
pub fn hardtanh_derivative_from_output(y: f64, min_val: f64, max_val: f64) -> f64 {
    hardtanh_derivative(y, min_val, max_val)
}

/// x · min(max(x + 3, 0), 6) / 6.
pub fn hardswish(x: f64) -> f64 {
    if x <= -3.0 {
        0.0
    } else {
        x * (x + 3.0).min(6.0) / 6.0
    }
}
/// 0 for x ≤ −3, x/3 + 1/2 on (−3, 3), 1 for x ≥ 3.
pub fn hardswish_derivative(x: f64) -> f64 {
    if x <= -3.0 {
        0.0
    } else if x < 3.0 {
        x / 3.0 + 0.5
    } else {
        1.0
    }
}

/// PyTorch's `f32` evaluation of the piecewise-linear forwards: the same operations in the same
/// order as its CPU kernels, so the kernels can be checked bit for bit (SPEC §4).
pub mod pytorch {
    /// `clamp_min(x, 0)`: keeps −0 and NaN.
    pub fn relu(x: f32) -> f32 {
        if x < 0.0 { 0.0 } else { x }
    }
    /// `hardtanh(x, 0, 6)`.
    pub fn relu6(x: f32) -> f32 {
        hardtanh(x, 0.0, 6.0)
    }
    /// `x > 0 ? x : x * negval`.
    pub fn leaky_relu(x: f32, negative_slope: f32) -> f32 {
        if x > 0.0 { x } else { x * negative_slope }
    }
    /// `(x >= -lambd && x <= lambd) ? 0 : x`.
    pub fn hardshrink(x: f32, lambd: f32) -> f32 {
        if x >= -lambd && x <= lambd { 0.0 } else { x }
    }
    /// `min(max(x + 3, 0), 6) / 6`.
    pub fn hardsigmoid(x: f32) -> f32 {
        clamp(x + 3.0, 0.0, 6.0) / 6.0
    }
    /// `min(max(x, min_val), max_val)`, keeping NaN and −0.
    pub fn hardtanh(x: f32, min_val: f32, max_val: f32) -> f32 {
        clamp(x, min_val, max_val)
    }
    /// `x * min(max(x + 3, 0), 6) / 6`, except hardswish(−inf) = −0 (SPEC §3; PyTorch gives NaN).
    pub fn hardswish(x: f32) -> f32 {
        if x == f32::NEG_INFINITY {
            -0.0
        } else {
            x * clamp(x + 3.0, 0.0, 6.0) / 6.0
        }
    }

    /// `min(max(x, lo), hi)` as PyTorch's vectorized `clamp` does it: NaN stays NaN, a value
    /// equal to a bound is returned as it is (so −0 stays −0).
    fn clamp(x: f32, lo: f32, hi: f32) -> f32 {
        let x = if x < lo { lo } else { x };
        if x > hi { hi } else { x }
    }
}
