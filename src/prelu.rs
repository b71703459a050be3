//! PReLU and RReLU in training: leaky_relu with a learned slope per channel, and with a random
//! slope per element (CONTRACT §6). RReLU in evaluation is a kernel, `kernels/rrelu.rs`.

use crate::backend::Vector;
use crate::backend::view::{In, Io, Out};
use crate::driver::rows::{self, Channels};
use crate::driver::{VectorFn, run_fn};
use crate::element::Element;

#[track_caller]
fn check_len(a_name: &str, a: usize, b_name: &str, b: usize) {
    if a != b {
        panic!("actkern: length mismatch: `{a_name}` has {a} elements but `{b_name}` has {b}");
    }
}

/// Checks prelu's layout: `x` is [outer, C, inner] with C = `weight.len()` (or any shape when
/// there is one weight).
#[track_caller]
fn check_channels(x: usize, weight: usize, inner: usize) {
    if weight == 0 {
        panic!("actkern: prelu needs 1 or C weights, got none");
    }
    if weight > 1 {
        if inner == 0 {
            panic!("actkern: prelu's `inner` (elements per channel and outer index) must be at least 1");
        }
        if !x.is_multiple_of(weight * inner) {
            panic!("actkern: `x` has {x} elements, not a whole number of [C, inner] = [{weight}, {inner}] blocks");
        }
    }
}

/// PReLU (PyTorch `F.prelu`): `y = x > 0 ? x : w[c]·x`, bit for bit, where `c` is the channel of
/// `x` of layout [outer, C, inner] and C = `weight.len()`: NCHW has `inner` = H·W, NHWC (channels
/// last) `inner` = 1. One weight applies to every element, whatever `inner`. Each channel is
/// [`LeakyRelu`](crate::LeakyRelu) with its weight as the slope, in every function and every bit.
///
/// ```
/// // NCHW: 1 image, 2 channels of 2 pixels each.
/// let x = [-1.0f32, 2.0, -1.0, 2.0];
/// let mut y = [0.0f32; 4];
/// actkern::prelu(&x, &[0.25, 0.5], 2, &mut y);
/// assert_eq!(y, [-0.25, 2.0, -0.5, 2.0]);
/// // NHWC: the same values with channels last, inner = 1.
/// actkern::prelu(&[-1.0f32, -1.0, 2.0, 2.0], &[0.25, 0.5], 1, &mut y);
/// assert_eq!(y, [-0.25, -0.5, 2.0, 2.0]);
/// ```
///
/// Runs on rayon's threads above [`PARALLEL_THRESHOLD`](crate::PARALLEL_THRESHOLD) elements; `f32`,
/// `bf16` or `f16` (the element-type rule of [`Apply`](crate::Apply)).
///
/// # Panics
/// When `weight` is empty, or has C > 1 values and `x.len()` is not a multiple of C·`inner`, or
/// `y`'s length differs from `x`'s.
#[track_caller]
pub fn prelu<E: Element>(x: &[E], weight: &[E], inner: usize, y: &mut [E]) {
    check_len("x", x.len(), "y", y.len());
    check_channels(x.len(), weight.len(), inner);
    rows::prelu(Some(x), Channels { weight, inner }, y)
}

/// [`prelu`] in place: `x = x > 0 ? x : w[c]·x`.
#[track_caller]
pub fn prelu_inplace<E: Element>(x: &mut [E], weight: &[E], inner: usize) {
    check_channels(x.len(), weight.len(), inner);
    rows::prelu(None, Channels { weight, inner }, x)
}

/// PReLU's backward: `dx = x > 0 ? dy : w[c]·dy` ([`LeakyRelu`](crate::LeakyRelu)'s backward with
/// the channel's weight, so NaN for a NaN `x` and exactly 0 for a zero weight, CONTRACT §3), and
/// `dweight[c] = Σ (x > 0 ? 0 : x·dy)` over the channel's elements, each product exact and the
/// sum taken in `f64`, rounded once; the same bits on every thread count.
///
/// ```
/// let x = [-1.0f32, 2.0, -3.0, 2.0];
/// let dy = [1.0f32; 4];
/// let (mut dx, mut dw) = ([0.0f32; 4], [0.0f32; 2]);
/// actkern::prelu_backward(&x, &[0.25, 0.5], &dy, 2, &mut dx, &mut dw);
/// assert_eq!(dx, [0.25, 1.0, 0.5, 1.0]);
/// assert_eq!(dw, [-1.0, -3.0]);
/// ```
///
/// # Panics
/// As [`prelu`], and when `dy`, `dx` differ in length from `x` or `dweight` from `weight`.
#[track_caller]
pub fn prelu_backward<E: Element>(x: &[E], weight: &[E], dy: &[E], inner: usize, dx: &mut [E], dweight: &mut [E]) {
    check_len("x", x.len(), "dy", dy.len());
    check_len("x", x.len(), "dx", dx.len());
    check_len("weight", weight.len(), "dweight", dweight.len());
    check_channels(x.len(), weight.len(), inner);
    rows::prelu_backward(x, Channels { weight, inner }, Some(dy), dx, dweight)
}

/// [`prelu_backward`] with `dx` written over `dy` (`dy_dx`).
#[track_caller]
pub fn prelu_backward_inplace<E: Element>(x: &[E], weight: &[E], dy_dx: &mut [E], inner: usize, dweight: &mut [E]) {
    check_len("x", x.len(), "dy_dx", dy_dx.len());
    check_len("weight", weight.len(), "dweight", dweight.len());
    check_channels(x.len(), weight.len(), inner);
    rows::prelu_backward(x, Channels { weight, inner }, None, dy_dx, dweight)
}

/// The slope RReLU in training draws for element `index` of a call with `seed`: uniform on
/// [lower, upper], from a counter-based generator, so it depends on nothing else (not the
/// thread count, the chunking or the backend).
///
/// The generator is SplitMix64's output function on the counter `seed + (index + 1)·γ`
/// (γ = 0x9E3779B97F4A7C15): 24 bits of it give `u` in [0, 1) on a grid of 2⁻²⁴, and the slope is
/// `lower + (upper − lower)·u` in `f64`, rounded once to `f32`.
///
/// ```
/// let r = actkern::rrelu_slope(0.125, 1.0 / 3.0, 42, 7);
/// assert!((0.125..=1.0 / 3.0).contains(&r));
/// assert_eq!(r, actkern::rrelu_slope(0.125, 1.0 / 3.0, 42, 7));
/// ```
pub fn rrelu_slope(lower: f32, upper: f32, seed: u64, index: u64) -> f32 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let u = (z >> 40) as f64 * (1.0 / (1u64 << 24) as f64);
    let (lower, upper) = (f64::from(lower), f64::from(upper));
    (lower + (upper - lower) * u) as f32
}

/// RReLU in training (PyTorch `F.rrelu(training=True)`): for each `x ≤ 0` a slope `r` uniform in
/// [lower, upper] ([`rrelu_slope`] of `seed` and the element's index), `y = x·r` and `noise = r`;
/// elsewhere (x > 0 or NaN) `y = x` and `noise = 1`. The backward is
/// [`rrelu_train_backward`]: `dx = dy·noise`. PyTorch's defaults are lower = 1/8, upper = 1/3;
/// in evaluation RReLU is `rrelu(lower=…, upper=…)`, leaky_relu with slope (lower + upper)/2.
///
/// ```
/// let x = [-1.0f32, 2.0, -4.0];
/// let (mut y, mut noise) = ([0.0f32; 3], [0.0f32; 3]);
/// actkern::rrelu_train(&x, 0.125, 1.0 / 3.0, 7, &mut y, &mut noise);
/// assert_eq!((y[1], noise[1]), (2.0, 1.0));
/// assert!(noise[0] >= 0.125 && noise[0] <= 1.0 / 3.0);
/// assert_eq!(y[2], -4.0 * noise[2]);
/// ```
///
/// The result is the same for every thread count; `f32`, `bf16` or `f16` (for 16-bit buffers,
/// `y = x·r` is rounded once from `f32`, and `noise` holds `r` rounded once).
///
/// # Panics
/// When `lower` or `upper` is not finite or `lower > upper`, or the lengths differ.
#[track_caller]
pub fn rrelu_train<E: Element>(x: &[E], lower: f32, upper: f32, seed: u64, y: &mut [E], noise: &mut [E]) {
    check_len("x", x.len(), "y", y.len());
    check_len("x", x.len(), "noise", noise.len());
    if !(lower.is_finite() && upper.is_finite() && lower <= upper) {
        panic!("actkern: rrelu needs finite bounds with lower <= upper, got lower = {lower}, upper = {upper}");
    }
    rows::rrelu_train(x, lower, upper, seed, y, noise)
}

/// RReLU's backward in training: `dx = dy·noise`, `noise` from [`rrelu_train`].
///
/// # Panics
/// When the lengths differ.
#[track_caller]
pub fn rrelu_train_backward<E: Element>(dy: &[E], noise: &[E], dx: &mut [E]) {
    check_len("dy", dy.len(), "noise", noise.len());
    check_len("dy", dy.len(), "dx", dx.len());
    run_fn(Io::binary(dy, noise, dx), &Mul, true)
}

/// `a·b`, rounded once.
struct Mul;

impl<'a, E: Element> VectorFn<(In<'a, E>, In<'a, E>), (Out<'a, E>,)> for Mul {
    #[inline(always)]
    fn apply<V: Vector>(&self, (a, b): (V, V)) -> V {
        a * b
    }
}
