//! Measuring kernels against [`crate::reference`] in ULPs, with CONTRACT §4's rules: shared by the
//! test-suite and the exhaustive sweep (`cargo run --release --example accuracy`).
//!
//! ```
//! use actkern::accuracy::ulp_error;
//! assert_eq!(ulp_error(1.0, 1.0), 0.0);
//! assert_eq!(ulp_error(1.0 + f32::EPSILON, 1.0), 1.0);
//! assert_eq!(ulp_error(0.0, 1e-40), 0.0); // below the normal range: within 2⁻¹²⁶ is accepted
//! ```

use crate::apply::{Apply, KernelVisitor};
use crate::kernel::Kernel;
use crate::{Activation, Fast, Serial, Tier};

/// The smallest positive normal f32, 2⁻¹²⁶.
const MIN_NORMAL: f64 = 1.175_494_350_822_287_5e-38;
/// Exact values at least this large round to infinity in f32 (f32::MAX plus half an ULP).
const OVERFLOW: f64 = 3.402_823_567_797_336_6e38;

/// Which function of an activation is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    /// `f(x)`.
    Forward,
    /// `f'(x)`.
    Derivative,
    /// `f'(x)` computed from `y = f(x)`, over every `y`.
    DerivativeFromOutput,
}

impl Function {
    /// All three, in table order.
    pub const ALL: [Function; 3] = [Function::Forward, Function::Derivative, Function::DerivativeFromOutput];

    /// Short label for tables: `f`, `f'`, `f'(y)`.
    pub fn label(self) -> &'static str {
        match self {
            Function::Forward => "f",
            Function::Derivative => "f'",
            Function::DerivativeFromOutput => "f'(y)",
        }
    }
}

/// Error of `got` against the exact value `want`, in ULPs of f32 at `want` (CONTRACT §4).
///
/// - NaN must meet NaN, ±inf must meet the same infinity; otherwise the error is infinite.
/// - Where `want` is below the smallest normal (2⁻¹²⁶), any `got` within 2⁻¹²⁶ of it counts as
///   exact (0); further off, the error is counted in subnormal ULPs (2⁻¹⁴⁹).
/// - Where `want` rounds to ±inf in f32, `got` must be that infinity.
pub fn ulp_error(got: f32, want: f64) -> f64 {
    if want.is_nan() || got.is_nan() {
        return if want.is_nan() && got.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if want.abs() >= OVERFLOW {
        return if got.is_infinite() && (got > 0.0) == (want > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if got.is_infinite() {
        return f64::INFINITY;
    }
    let diff = (f64::from(got) - want).abs();
    if want.abs() < MIN_NORMAL {
        return if diff <= MIN_NORMAL {
            0.0
        } else {
            diff / MIN_NORMAL * 2f64.powi(23)
        };
    }
    // ⌊log₂|want|⌋ from the f64 exponent field (want is normal here), and 2^(that − 23).
    let exponent = ((want.abs().to_bits() >> 52) & 0x7ff) as i64 - 1023;
    diff / f64::from_bits(((exponent - 23 + 1023) as u64) << 52)
}

/// The bound for one function of `act` in `tier`, in ULPs; 0 means bit-identical to PyTorch
/// (the piecewise-linear forwards) or exact. CONTRACT §4's 2 ULP in the accurate tier; 4 ULP in the
/// fast tier for the activations that have one ([`Tier::Fast`]), the accurate bound for the
/// others (they run the accurate kernel).
pub fn bound(act: &Activation, function: Function, tier: Tier) -> f64 {
    match function {
        Function::Forward if is_piecewise_linear(act) => 0.0,
        _ if tier == Tier::Fast && act.info().fast_tier => 4.0,
        _ => 2.0,
    }
}

/// The bound for a fused backward, `dy · f'(x)`, in ULPs: CONTRACT §4's 3 in the accurate tier,
/// 5 in the fast tier for the activations that have one.
pub fn backward_bound(act: &Activation, tier: Tier) -> f64 {
    if tier == Tier::Fast && act.info().fast_tier {
        5.0
    } else {
        3.0
    }
}

/// The absolute error CONTRACT §4 accepts near a zero of the derivative (times |dy| for the
/// backward), instead of a relative one: 2⁻²⁴, doubled in the fast tier as its ULP bound is.
pub fn near_zero_allowance(tier: Tier) -> f64 {
    match tier {
        Tier::Accurate => 2f64.powi(-24),
        Tier::Fast => 2f64.powi(-23),
    }
}

/// Whether CONTRACT §4 requires the forward to be bit-identical to PyTorch's.
pub fn is_piecewise_linear(act: &Activation) -> bool {
    struct Pl;
    impl KernelVisitor<bool> for Pl {
        fn visit<K: Kernel>(self, k: &K) -> bool {
            k.pytorch_forward(0.0).is_some()
        }
    }
    act.visit(Pl)
}

/// What a function of kernel `k` must return for `x`: the f64 reference, or PyTorch's f32
/// result for the piecewise-linear forwards; `None` where the function does not exist (a
/// derivative from the output the activation does not support).
fn expected_of<K: Kernel>(k: &K, function: Function, x: f32) -> Option<f64> {
    // CONTRACT §3: NaN in, NaN out, for every function.
    if x.is_nan() {
        return match function {
            Function::DerivativeFromOutput if !k.has_derivative_from_output() => None,
            _ => Some(f64::NAN),
        };
    }
    match function {
        Function::Forward => Some(
            k.pytorch_forward(x)
                .map_or_else(|| k.reference_forward(x.into()), f64::from),
        ),
        Function::Derivative => Some(k.reference_derivative(x.into())),
        Function::DerivativeFromOutput => k.reference_derivative_from_output(x.into()),
    }
}

/// Error with every CONTRACT §4 allowance: bit identity for piecewise-linear forwards (any
/// difference is infinite), the absolute 2⁻²⁴ allowance near a zero of the derivative.
fn error_of<K: Kernel>(k: &K, function: Function, x: f32, got: f32, tier: Tier) -> (f64, f64) {
    let Some(want) = expected_of(k, function, x) else {
        return (0.0, f64::NAN);
    };
    (
        judge::<K>(function, k.pytorch_forward(x).is_some(), x, got, want, tier),
        want,
    )
}

/// How far from a zero of the derivative CONTRACT §4's absolute allowance reaches ("near a zero
/// crossing"): the derivatives that cross zero have |f'| < 0.16 within it.
pub const ZERO_WINDOW: f32 = 0.25;

fn near_zero_of<K: Kernel>(x: f32) -> bool {
    K::DERIVATIVE_ZERO.is_some_and(|zero| (x - zero).abs() <= ZERO_WINDOW)
}

/// Whether `x` is near a zero of `act`'s derivative, where CONTRACT §4 accepts an absolute error
/// ([`near_zero_allowance`], times |dy| for the backward) instead of a relative one.
pub fn near_derivative_zero(act: &Activation, x: f32) -> bool {
    act.info()
        .derivative_zero
        .is_some_and(|zero| (x - zero).abs() <= ZERO_WINDOW)
}

/// The error of `got` against `want` under the rules of [`error`].
fn judge<K: Kernel>(function: Function, piecewise_linear: bool, x: f32, got: f32, want: f64, tier: Tier) -> f64 {
    if function == Function::Forward && piecewise_linear {
        let same = got.to_bits() == (want as f32).to_bits() || (got.is_nan() && want.is_nan());
        return if same { 0.0 } else { f64::INFINITY };
    }
    let near_zero_allowance = function == Function::Derivative
        && near_zero_of::<K>(x)
        && (f64::from(got) - want).abs() <= near_zero_allowance(tier);
    if near_zero_allowance { 0.0 } else { ulp_error(got, want) }
}

/// What `function` of `act` must return for `input` (see [`error`] for how it is compared).
pub fn expected(act: &Activation, function: Function, input: f32) -> Option<f64> {
    struct Expect(Function, f32);
    impl KernelVisitor<Option<f64>> for Expect {
        fn visit<K: Kernel>(self, k: &K) -> Option<f64> {
            expected_of(k, self.0, self.1)
        }
    }
    act.visit(Expect(function, input))
}

/// Error of `got = function(input)` in ULPs with every CONTRACT §4 allowance applied: bit identity
/// for piecewise-linear forwards (any difference is infinite), and the absolute allowance near
/// a zero of the derivative ([`near_zero_allowance`] of `tier`) where the activation has one.
pub fn error(act: &Activation, function: Function, input: f32, got: f32, tier: Tier) -> f64 {
    struct Error(Function, f32, f32, Tier);
    impl KernelVisitor<f64> for Error {
        fn visit<K: Kernel>(self, k: &K) -> f64 {
            error_of(k, self.0, self.1, self.2, self.3).0
        }
    }
    act.visit(Error(function, input, got, tier))
}

/// Runs `function` of `act` in `tier` over `inputs` on the calling thread, with the active
/// backend. Fails only for a derivative from the output that `act` does not support.
pub fn evaluate(
    act: &Activation,
    function: Function,
    tier: Tier,
    inputs: &[f32],
    out: &mut [f32],
) -> Result<(), crate::FromOutputError> {
    fn run(on: impl Apply, function: Function, inputs: &[f32], out: &mut [f32]) -> Result<(), crate::FromOutputError> {
        match function {
            Function::Forward => on.forward(inputs, out),
            Function::Derivative => on.derivative(inputs, out),
            Function::DerivativeFromOutput => on.derivative_from_output(inputs, out)?,
        }
        Ok(())
    }
    match tier {
        Tier::Accurate => run(Serial(act), function, inputs, out),
        Tier::Fast => run(Fast(Serial(act)), function, inputs, out),
    }
}

/// The largest error seen over a set of inputs, and where.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Worst {
    /// Largest error in ULPs (0 when every input was exact or within an allowance).
    pub ulp: f64,
    /// The input where it occurred.
    pub input: f32,
    /// What the kernel returned there.
    pub got: f32,
    /// What it should have returned.
    pub want: f64,
    /// How many inputs were checked.
    pub checked: u64,
}

impl Default for Worst {
    fn default() -> Self {
        Worst {
            ulp: 0.0,
            input: 0.0,
            got: 0.0,
            want: 0.0,
            checked: 0,
        }
    }
}

impl Worst {
    /// Folds one measurement in (the first input keeps the title on ties).
    pub fn update(&mut self, ulp: f64, input: f32, got: f32, want: f64) {
        self.checked += 1;
        if ulp > self.ulp {
            *self = Worst {
                ulp,
                input,
                got,
                want,
                checked: self.checked,
            };
        }
    }

    /// Combines two partial results.
    pub fn merge(self, other: Worst) -> Worst {
        let checked = self.checked + other.checked;
        let best = if other.ulp > self.ulp { other } else { self };
        Worst { checked, ..best }
    }
}

/// Measures `function` of `act` in `tier` on `inputs` with the active backend.
pub fn measure(act: &Activation, function: Function, tier: Tier, inputs: &[f32]) -> Worst {
    let mut out = vec![0.0f32; inputs.len()];
    if evaluate(act, function, tier, inputs, &mut out).is_err() {
        return Worst::default();
    }
    compare(act, function, tier, inputs, &out)
}

/// Compares outputs of `tier` already computed for `inputs` against the reference.
pub fn compare(act: &Activation, function: Function, tier: Tier, inputs: &[f32], outputs: &[f32]) -> Worst {
    compare_many(act, function, tier, inputs, &[outputs])[0]
}

/// Compares several sets of outputs of `tier` for the same `inputs` (one per backend, say),
/// computing the reference once per input.
pub fn compare_many(
    act: &Activation,
    function: Function,
    tier: Tier,
    inputs: &[f32],
    outputs: &[&[f32]],
) -> Vec<Worst> {
    struct Compare<'a>(Function, Tier, &'a [f32], &'a [&'a [f32]]);
    impl KernelVisitor<Vec<Worst>> for Compare<'_> {
        fn visit<K: Kernel>(self, k: &K) -> Vec<Worst> {
            let Compare(function, tier, inputs, outputs) = self;
            let mut worst = vec![Worst::default(); outputs.len()];
            let piecewise_linear = k.pytorch_forward(0.0).is_some();
            for (i, &x) in inputs.iter().enumerate() {
                let Some(want) = expected_of(k, function, x) else {
                    continue;
                };
                let mut previous: Option<(u32, f64)> = None;
                for (w, out) in worst.iter_mut().zip(outputs) {
                    let got = out[i];
                    // Backends usually agree bit for bit: judge each distinct output once.
                    let ulp = match previous {
                        Some((bits, ulp)) if bits == got.to_bits() => ulp,
                        _ => judge::<K>(function, piecewise_linear, x, got, want, tier),
                    };
                    previous = Some((got.to_bits(), ulp));
                    w.update(ulp, x, got, want);
                }
            }
            worst
        }
    }
    act.visit(Compare(function, tier, inputs, outputs))
}
