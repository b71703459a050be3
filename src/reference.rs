//! The CONTRACT §2 formulas in `f64`, written plainly: the yardstick every kernel is measured against.
//!
//! One function per forward, derivative and derivative-from-output. They use the mathematical
//! definitions; where a definition cancels in floating point (x − tanh x near 0, 1 + erf for
//! x ≪ 0) a stable form is used instead and says so. `f64` carries 29 more bits than `f32`, so
//! these are exact enough to measure `f32` errors in ULPs.
//!
//! The submodule [`pytorch`] holds PyTorch's own `f32` evaluation of the piecewise-linear
//! forwards, which CONTRACT §4 requires to match bit for bit.
//!
//! ```
//! use actkern::reference;
//! assert_eq!(reference::relu(-2.0), 0.0);
//! assert!((reference::sigmoid_derivative(0.0) - 0.25).abs() < 1e-15);
//! ```

/// SELU's α (CONTRACT §2.1).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_284_817_042_991_671_7;
/// SELU's λ (CONTRACT §2.1).
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_493_419_334_985_294_6;

/// tanh x, by the standard library's `f64::tanh`.
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
    if x <= -3.0 { 0.0 } else { x * (x + 3.0).min(6.0) / 6.0 }
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

/// x / (1 + |x|).
pub fn softsign(x: f64) -> f64 {
    if x.is_infinite() {
        x.signum()
    } else {
        x / (1.0 + x.abs())
    }
}
/// 1 / (1 + |x|)².
pub fn softsign_derivative(x: f64) -> f64 {
    let d = 1.0 + x.abs();
    1.0 / (d * d)
}
/// softsign' in terms of y: (1 − |y|)².
pub fn softsign_derivative_from_output(y: f64) -> f64 {
    (1.0 - y.abs()) * (1.0 - y.abs())
}

/// x − λ above λ, x + λ below −λ, 0 between.
pub fn softshrink(x: f64, lambd: f64) -> f64 {
    if x > lambd {
        x - lambd
    } else if x < -lambd {
        x + lambd
    } else {
        0.0
    }
}
/// 1 outside [−λ, λ], else 0.
pub fn softshrink_derivative(x: f64, lambd: f64) -> f64 {
    hardshrink_derivative(x, lambd)
}

/// value for x ≤ threshold, else x.
pub fn threshold(x: f64, threshold: f64, value: f64) -> f64 {
    if x <= threshold { value } else { x }
}
/// 0 for x ≤ threshold, else 1.
pub fn threshold_derivative(x: f64, threshold: f64) -> f64 {
    if x <= threshold { 0.0 } else { 1.0 }
}

/// x·σ(x).
pub fn silu(x: f64) -> f64 {
    if x == f64::NEG_INFINITY { -0.0 } else { x * sigmoid(x) }
}
/// σ(x)·(1 + x·(1 − σ(x))), with 1 − σ(x) written σ(−x).
pub fn silu_derivative(x: f64) -> f64 {
    if x.is_infinite() {
        return if x > 0.0 { 1.0 } else { 0.0 };
    }
    sigmoid(x) * (1.0 + x * sigmoid(-x))
}

/// ln(1 + eˣ), as max(x, 0) + ln(1 + e^{−|x|}) so it neither overflows nor cancels.
fn log1p_exp(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// x > threshold / β (decided on the f32 product β·x, as PyTorch does) ? x : ln(1 + e^{βx}) / β.
pub fn softplus(x: f64, beta: f64, threshold: f64) -> f64 {
    if ((x as f32) * (beta as f32)) as f64 > threshold {
        x
    } else {
        log1p_exp(beta * x) / beta
    }
}
/// 1 above the threshold, else σ(βx).
pub fn softplus_derivative(x: f64, beta: f64, threshold: f64) -> f64 {
    if ((x as f32) * (beta as f32)) as f64 > threshold {
        1.0
    } else {
        sigmoid(beta * x)
    }
}
/// softplus' in terms of y: 1 − e^{−βy}.
pub fn softplus_derivative_from_output(y: f64, beta: f64) -> f64 {
    -(-beta * y).exp_m1()
}

/// x for x > 0, else α·(e^{x/α} − 1) (= max(0, x) + min(0, α·(e^{x/α} − 1))).
pub fn celu(x: f64, alpha: f64) -> f64 {
    if x > 0.0 { x } else { alpha * (x / alpha).exp_m1() }
}
/// 1 for x > 0, else e^{x/α}.
pub fn celu_derivative(x: f64, alpha: f64) -> f64 {
    if x > 0.0 { 1.0 } else { (x / alpha).exp() }
}
/// celu' in terms of y (α > 0): 1 for y > 0, else 1 + y/α.
pub fn celu_derivative_from_output(y: f64, alpha: f64) -> f64 {
    if y > 0.0 { 1.0 } else { (y + alpha) / alpha }
}

/// x − tanh x; near 0, where that difference cancels even in f64, its Taylor series.
pub fn tanhshrink(x: f64) -> f64 {
    if x == 0.0 {
        // x − tanh x at ±0 is +0 (−0 − (−0)); the series would keep the sign.
        0.0
    } else if x.abs() < 0.1 {
        let z = x * x;
        // x³/3 − 2x⁵/15 + 17x⁷/315 − 62x⁹/2835 + 1382x¹¹/155925
        x * z * (1.0 / 3.0 + z * (-2.0 / 15.0 + z * (17.0 / 315.0 + z * (-62.0 / 2835.0 + z * (1382.0 / 155925.0)))))
    } else {
        x - x.tanh()
    }
}
/// tanh²x.
pub fn tanhshrink_derivative(x: f64) -> f64 {
    x.tanh() * x.tanh()
}

/// min(x, 0) − ln(1 + e^{−|x|}).
pub fn logsigmoid(x: f64) -> f64 {
    x.min(0.0) - (-x.abs()).exp().ln_1p()
}
/// σ(−x).
pub fn logsigmoid_derivative(x: f64) -> f64 {
    sigmoid(-x)
}
/// logsigmoid' in terms of y: 1 − eʸ.
pub fn logsigmoid_derivative_from_output(y: f64) -> f64 {
    -y.exp_m1()
}

/// x·tanh(softplus(x)).
pub fn mish(x: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        -0.0
    } else {
        x * log1p_exp(x).tanh()
    }
}
/// tanh(sp) + x·σ(x)·sech²(sp), sp = softplus(x).
pub fn mish_derivative(x: f64) -> f64 {
    if x.is_infinite() {
        return if x > 0.0 { 1.0 } else { 0.0 };
    }
    let sp = log1p_exp(x);
    let sech = 1.0 / sp.cosh();
    sp.tanh() + x * sigmoid(x) * sech * sech
}

/// erfc x = 1 − erf x, accurate to about 1e−14 relative for every x: its Taylor series below
/// 1.9 (where 1 − erf x loses at most two digits), Laplace's continued fraction above.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 1.9 {
        // erf x = 2/√π · Σ (−1)ⁿ x^{2n+1} / (n! (2n+1))
        let (mut sum, mut power, mut n) = (0.0f64, x, 0.0f64);
        loop {
            let term = power / (2.0 * n + 1.0);
            sum += term;
            if term.abs() < 1e-17 * sum.abs() || n > 200.0 {
                break;
            }
            n += 1.0;
            power *= -x * x / n;
        }
        return 1.0 - 2.0 / core::f64::consts::PI.sqrt() * sum;
    }
    if x > 27.0 {
        return 0.0;
    }
    // erfc x = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the tail.
    let mut k = x;
    for n in (1..=60).rev() {
        k = x + (n as f64 / 2.0) / k;
    }
    (-x * x).exp() / core::f64::consts::PI.sqrt() / k
}

/// Φ(x), the standard normal CDF: ½·erfc(−x/√2).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / core::f64::consts::SQRT_2)
}

/// gelu: x·Φ(x) (`approximate=none`), or ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (`tanh`),
/// written x·σ(2u) so it does not cancel for x ≪ 0.
pub fn gelu(x: f64, tanh_approximation: bool) -> f64 {
    if x == f64::NEG_INFINITY {
        return -0.0;
    }
    if tanh_approximation {
        x * sigmoid(2.0 * gelu_tanh_inner(x))
    } else {
        x * normal_cdf(x)
    }
}
/// Φ(x) + x·φ(x), or the exact derivative of the tanh form.
pub fn gelu_derivative(x: f64, tanh_approximation: bool) -> f64 {
    if x.is_infinite() {
        return if x > 0.0 { 1.0 } else { 0.0 };
    }
    if tanh_approximation {
        let a = 2.0 * gelu_tanh_inner(x);
        let da = 2.0 * (2.0 / core::f64::consts::PI).sqrt() * (1.0 + 3.0 * 0.044715 * x * x);
        sigmoid(a) * (1.0 + x * sigmoid(-a) * da)
    } else {
        let pdf = (-0.5 * x * x).exp() / (2.0 * core::f64::consts::PI).sqrt();
        normal_cdf(x) + x * pdf
    }
}
/// u = √(2/π)·(x + 0.044715x³).
fn gelu_tanh_inner(x: f64) -> f64 {
    (2.0 / core::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)
}

/// PyTorch's `f32` evaluation of the piecewise-linear forwards: the same operations in the same
/// order as its CPU kernels, so the kernels can be checked bit for bit (CONTRACT §4).
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
    /// `x * min(max(x + 3, 0), 6) / 6`, except hardswish(−inf) = −0 (CONTRACT §3; PyTorch gives NaN).
    pub fn hardswish(x: f32) -> f32 {
        if x == f32::NEG_INFINITY {
            -0.0
        } else {
            x * clamp(x + 3.0, 0.0, 6.0) / 6.0
        }
    }

    /// `x > lambd ? x - lambd : (x < -lambd ? x + lambd : x * 0)`.
    pub fn softshrink(x: f32, lambd: f32) -> f32 {
        if x > lambd {
            x - lambd
        } else if x < -lambd {
            x + lambd
        } else {
            x * 0.0
        }
    }
    /// `x <= threshold ? value : x`.
    pub fn threshold(x: f32, threshold: f32, value: f32) -> f32 {
        if x <= threshold { value } else { x }
    }

    /// `min(max(x, lo), hi)` as PyTorch's vectorized `clamp` does it: NaN stays NaN, a value
    /// equal to a bound is returned as it is (so −0 stays −0).
    fn clamp(x: f32, lo: f32, hi: f32) -> f32 {
        let x = if x < lo { lo } else { x };
        if x > hi { hi } else { x }
    }
}
