//! ln(1 + v) on [0, 1], for softplus and logsigmoid.

use super::exp::{LN2_HI, LN2_LO};
use super::poly;
use crate::backend::Vector;

/// ln(1 + v) for v ∈ [0, 1] (Cephes `logf` polynomial): softplus and logsigmoid take it of
/// u = e^{−|x|}.
///
/// Needs no exponent extraction: for v ≤ √2 − 1 the polynomial takes f = v exactly; above it,
/// 1 + v = 2·(1 + f) with f = (v − 1)/2 ∈ (−0.293, 0] and ln 2 is added back in two parts.
///
/// Valid for v ∈ [0, 1] (outside, f leaves the polynomial's range); NaN propagates. Max error
/// over [0, 1]: 1.430 ULP, at v ≈ 0.4215 (`cargo run --release --example math_accuracy`).
#[inline(always)]
pub fn log1p_unit<V: Vector>(v: V) -> V {
    let upper = v.gt(V::splat(core::f32::consts::SQRT_2 - 1.0));
    let f = V::select(upper, v.mul_add(V::splat(0.5), V::splat(-0.5)), v);
    let e = V::select(upper, V::splat(1.0), V::splat(0.0));
    let z = f * f;
    // ln(1 + f) = f − f²/2 + f³·P(f)
    let tail = z.mul_add(f.mul_add(poly(f, &LOG_P), V::splat(-0.5)), e * V::splat(LN2_LO));
    (tail + f) + e * V::splat(LN2_HI)
}

/// Coefficients of (ln(1 + f) − f + f²/2) / f³ on √½ − 1 ≤ f ≤ √2 − 1 (Cephes `logf`).
const LOG_P: [f32; 9] = [
    7.037_683_629_2e-2,
    -1.151_461_031_0e-1,
    1.167_699_874_0e-1,
    -1.242_014_084_6e-1,
    1.424_932_278_7e-1,
    -1.666_805_766_5e-1,
    2.000_071_476_5e-1,
    -2.499_999_399_3e-1,
    3.333_333_117_4e-1,
];
