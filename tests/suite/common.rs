//! Helpers shared by the integration tests: which activations and backends to iterate, the
//! interesting inputs of an instance, and the CONTRACT §4 checks, each reporting the failing input
//! (value and bits), what came out, what was expected, the error in ULPs and the backend.
//!
//! Forwards, derivatives and derivatives from the output are judged by `actkern::accuracy`
//! (bit identity to PyTorch for piecewise-linear forwards, ≤ 2 ULP otherwise, with CONTRACT §4's
//! allowances). The fused backward has no entry there, so [`BackwardJudge`] states its rule:
//! ≤ 3 ULP against `dy · f'(x)` computed in f64, CONTRACT §3's exact selection on linear pieces,
//! and the CONTRACT §4 allowances carried through the product.

use actkern::accuracy::{self, Function, ulp_error};
use actkern::{ACTIVATIONS, Activation, Apply, Backend, Fast, Kernel, KernelVisitor, ParamValue, Tier, with_backend};

/// The smallest positive normal f32, 2⁻¹²⁶, as f64.
pub const MIN_NORMAL: f64 = f32::MIN_POSITIVE as f64;
/// CONTRACT §4's bound for every fused backward in the accurate tier, in ULPs.
pub const BACKWARD_BOUND: f64 = 3.0;
/// SELU's λ (CONTRACT §2.1, all its digits).
#[allow(clippy::excessive_precision)]
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_493_419_334_985_294_6;
/// SELU's α (CONTRACT §2.1, all its digits).
#[allow(clippy::excessive_precision)]
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_284_817_042_991_671_7;
/// The incoming gradients every backward is checked with.
pub const DYS: [f32; 9] = [
    0.0,
    -0.0,
    1.0,
    -2.5,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    1.0e-3,
    7.5e30,
];
/// How many failures a message lists before summarising the rest.
const SHOWN: usize = 40;
/// How many failing inputs a sweep shows per backend.
const EXAMPLES: usize = 3;

/// Every example instance of every registered activation.
pub fn instances() -> Vec<Activation> {
    ACTIVATIONS.iter().flat_map(|info| info.example_instances()).collect()
}

/// Every example instance of the activations that have a fast tier of their own.
pub fn fast_tier_instances() -> Vec<Activation> {
    instances().into_iter().filter(|a| a.info().fast_tier).collect()
}

/// Runs `f` with `act` in `tier`: the activation itself, or wrapped in [`Fast`].
pub fn in_tier<R>(act: &Activation, tier: Tier, f: impl FnOnce(&dyn Runs) -> R) -> R {
    match tier {
        Tier::Accurate => f(act),
        Tier::Fast => f(&Fast(act)),
    }
}

/// The slice methods the sweeps call, object-safe so one closure serves both tiers.
pub trait Runs {
    fn forward(&self, x: &[f32], y: &mut [f32]);
    fn derivative(&self, x: &[f32], d: &mut [f32]);
    fn derivative_from_output(&self, y: &[f32], d: &mut [f32]) -> bool;
    fn backward(&self, x: &[f32], dy: &[f32], dx: &mut [f32]);
    fn backward_from_output(&self, y: &[f32], dy: &[f32], dx: &mut [f32]);
}

impl<A: Apply> Runs for A {
    fn forward(&self, x: &[f32], y: &mut [f32]) {
        Apply::forward(self, x, y)
    }
    fn derivative(&self, x: &[f32], d: &mut [f32]) {
        Apply::derivative(self, x, d)
    }
    fn derivative_from_output(&self, y: &[f32], d: &mut [f32]) -> bool {
        Apply::derivative_from_output(self, y, d).is_ok()
    }
    fn backward(&self, x: &[f32], dy: &[f32], dx: &mut [f32]) {
        Apply::backward(self, x, dy, dx)
    }
    fn backward_from_output(&self, y: &[f32], dy: &[f32], dx: &mut [f32]) {
        Apply::backward_from_output(self, y, dy, dx).expect("has a backward from the output")
    }
}

/// Every backend this CPU runs.
pub fn backends() -> Vec<Backend> {
    Backend::available()
}

/// Runs `f` with backend `b` forced on this thread.
pub fn on<R>(b: Backend, f: impl FnOnce() -> R) -> R {
    with_backend(b, f).unwrap_or_else(|e| panic!("backend {b}: {e}"))
}

/// Whether `act` has a derivative from the output (CONTRACT §2.3).
pub fn has_from_output(act: &Activation) -> bool {
    act.has_backward_from_output()
}

/// The real parameter values of an instance, in spec-string order.
pub fn real_params(act: &Activation) -> Vec<f32> {
    struct Params;
    impl KernelVisitor<Vec<f32>> for Params {
        fn visit<K: Kernel>(self, k: &K) -> Vec<f32> {
            k.params()
                .into_iter()
                .filter_map(|v| match v {
                    ParamValue::Real(r) => Some(r),
                    ParamValue::Choice(_) => None,
                })
                .collect()
        }
    }
    act.visit(Params)
}

/// Where an instance's pieces meet or its formula changes: 0, ±3, ±6 (hardsigmoid, hardswish,
/// relu6), ±λ and ±λα of SELU, every real parameter and its negation, and the ratios and
/// products of pairs of parameters (softplus switches at threshold/β).
pub fn kinks(act: &Activation) -> Vec<f32> {
    let mut points = vec![
        0.0,
        3.0,
        -3.0,
        6.0,
        -6.0,
        SELU_LAMBDA as f32,
        -(SELU_LAMBDA as f32),
        (SELU_LAMBDA * SELU_ALPHA) as f32,
        -(SELU_LAMBDA * SELU_ALPHA) as f32,
    ];
    let params = real_params(act);
    for &p in &params {
        points.extend([p, -p]);
    }
    for &a in &params {
        for &b in &params {
            for v in [a * b, a / b] {
                if v.is_finite() {
                    points.extend([v, -v]);
                }
            }
        }
    }
    dedup(points)
}

/// `v` and its `n` neighbours on each side, one bit pattern apart (`next_up`/`next_down`).
pub fn with_neighbours(v: f32, n: usize) -> Vec<f32> {
    let mut out = vec![v];
    let (mut up, mut down) = (v, v);
    for _ in 0..n {
        up = up.next_up();
        down = down.next_down();
        out.extend([up, down]);
    }
    out
}

/// Removes repeated bit patterns, keeping the first occurrence.
pub fn dedup(values: Vec<f32>) -> Vec<f32> {
    let mut seen = std::collections::HashSet::new();
    values.into_iter().filter(|v| seen.insert(v.to_bits())).collect()
}

/// NaNs with several payloads and both signs, quiet and signalling.
pub fn nans() -> Vec<f32> {
    [
        0x7fc0_0000u32,
        0xffc0_0000,
        0x7f80_0001,
        0xff80_0001,
        0x7fff_ffff,
        0xffff_ffff,
        0x7fc1_2345,
        0x7fa0_0000,
    ]
    .into_iter()
    .map(f32::from_bits)
    .collect()
}

/// Inputs every activation must handle, whatever its formula: zeros, infinities, NaNs,
/// subnormals, the normal range's edges, and values around saturation points.
pub fn generic_specials() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::from_bits(1),
        -f32::from_bits(1),
        f32::from_bits(2),
        f32::from_bits(0x007f_ffff),
        -f32::from_bits(0x007f_ffff),
        f32::from_bits(0x0040_0000),
        -f32::from_bits(0x0040_0000),
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        f32::MIN_POSITIVE.next_up(),
        -f32::MIN_POSITIVE.next_up(),
        f32::MAX,
        -f32::MAX,
        f32::MAX.next_down(),
        -f32::MAX.next_down(),
        f32::EPSILON,
        -f32::EPSILON,
    ];
    v.extend(nans());
    for m in [
        1.0e-30, 1.0e-20, 1.0e-10, 2.0e-8, 3.0e-8, 1.0e-7, 1.0e-4, 1.0e-2, 0.25, 0.5, 0.625, 1.0, 1.5, 2.0, 2.5, 4.0,
        5.0, 8.0, 9.0, 9.1, 10.0, 15.0, 16.0, 17.0, 20.0, 30.0, 40.0, 50.0, 80.0, 87.0, 87.3, 88.0, 88.72, 88.8, 89.0,
        100.0, 103.0, 104.0, 105.0, 150.0, 1.0e4, 1.0e8, 1.0e10, 1.0e20, 1.0e30, 1.0e38,
    ] {
        for x in with_neighbours(m, 1) {
            v.extend([x, -x]);
        }
    }
    dedup(v)
}

/// The special inputs of one instance: [`generic_specials`], every kink with two neighbours on
/// each side, and the values around ±3, ±6, ±λ and the parameters (CONTRACT §2.1 table).
pub fn special_inputs(act: &Activation) -> Vec<f32> {
    let mut v = generic_specials();
    for k in kinks(act) {
        v.extend(with_neighbours(k, 2));
    }
    dedup(v)
}

/// `error <= bound`, false for a NaN error (so a NaN never passes unnoticed).
pub fn within(error: f64, bound: f64) -> bool {
    error <= bound
}

/// Formats a value with its bit pattern, so a report can be replayed exactly.
pub fn show(v: f32) -> String {
    format!("{v:e} ({:#010x})", v.to_bits())
}

/// Collects failure descriptions and panics with the first few when asked.
#[derive(Default)]
pub struct Failures {
    lines: Vec<String>,
    count: usize,
}

impl Failures {
    /// Records one failure.
    pub fn push(&mut self, line: String) {
        self.count += 1;
        if self.lines.len() < SHOWN {
            self.lines.push(line);
        }
    }

    /// Panics listing the failures, if any.
    pub fn assert_none(&self, what: &str) {
        if self.count > 0 {
            panic!(
                "{what}: {} failure(s); first {}:\n  {}",
                self.count,
                self.lines.len(),
                self.lines.join("\n  ")
            );
        }
    }

    /// Whether anything failed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Checks `got[i] = function(inputs[i])` against the reference at CONTRACT §4's bound, plus, for
/// forwards, the sign of zeros the reference returns exactly at ±0 and ±inf inputs (CONTRACT §3).
pub fn check_function(
    act: &Activation,
    backend: Backend,
    tier: Tier,
    function: Function,
    inputs: &[f32],
    got: &[f32],
    failures: &mut Failures,
) {
    let bound = accuracy::bound(act, function, tier);
    for (&x, &g) in inputs.iter().zip(got) {
        let ulp = accuracy::error(act, function, x, g, tier);
        let want = accuracy::expected(act, function, x);
        if !within(ulp, bound) {
            failures.push(format!(
                "{act} {} [{backend}, {tier}] x={} got={} want={:e} ulp={ulp} bound={bound}",
                function.label(),
                show(x),
                show(g),
                want.unwrap_or(f64::NAN),
            ));
            continue;
        }
        if function == Function::Forward
            && (x == 0.0 || x.is_infinite())
            && let Some(w) = want
            && w == 0.0
            && g == 0.0
            && w.is_sign_negative() != g.is_sign_negative()
        {
            failures.push(format!(
                "{act} {} [{backend}] x={} got={} want={w:?}: wrong sign of zero (CONTRACT §3)",
                function.label(),
                show(x),
                show(g),
            ));
        }
    }
}

/// How a backward result breaks CONTRACT §3–4 (see [`BackwardJudge`]).
#[derive(Clone, Copy, Debug)]
pub enum Violation {
    /// A NaN input gave a number.
    NanInput,
    /// On a linear piece of slope `0` or `1` the result is not exactly 0 or `dy`.
    NotSelected(f64),
    /// A NaN `dy` off flat pieces gave a number.
    NanGradient,
    /// An infinite `dy` gave the wrong result; the reference derivative.
    Infinite(f64),
    /// Too far from `dy · f'`: the exact value, the error in ULPs and the bound.
    Error(f64, f64, f64),
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Violation::NanInput => write!(f, "NaN input must give NaN (CONTRACT §3)"),
            Violation::NotSelected(d) => write!(
                f,
                "on a linear piece with f' = {d} the backward must select exactly (CONTRACT §3)"
            ),
            Violation::NanGradient => write!(f, "NaN dy must give NaN off flat pieces"),
            Violation::Infinite(d) => write!(f, "infinite dy with f' = {d:e}"),
            Violation::Error(want, ulp, bound) => {
                write!(f, "want={want:e} ulp={ulp} bound={bound}")
            }
        }
    }
}

/// CONTRACT §3–4 for the fused backward of one instance (or, with `from_output`, for its backward
/// from the output, whose input is `y`):
///
/// - NaN `x` (or `y`): NaN, whatever `dy` (CONTRACT §3).
/// - On a piece where f' is exactly 0 or 1 ([`BackwardJudge::on_constant_piece`]): exactly ±0
///   or exactly `dy`, so an infinite or NaN `dy` in a flat region gives 0 (CONTRACT §3).
/// - NaN `dy` elsewhere: NaN (or 0 where f' is exactly 0 at an isolated point: a selection).
/// - Infinite `dy`: the infinity of sign `dy · f'` where |f'| ≥ 2⁻¹²⁶. Where the exact f'
///   is below 2⁻¹²⁶ (or exactly 0 at an isolated point) the derivative itself may come out as 0
///   or a tiny value of either sign (CONTRACT §4), so `dy · f'` may be NaN, 0 or either infinity.
/// - Finite `dy`: ≤ 3 ULP (5 in the fast tier) against `dy · f'(x)` in f64; or within
///   |dy|·2⁻²⁴ (2⁻²³ in the fast tier) near a zero of the derivative where the activation has
///   CONTRACT §4's absolute allowance; or within |dy|·2⁻¹²⁶
///   where the exact f' is below 2⁻¹²⁶ (the derivative's own subnormal allowance, times dy).
/// - Where the exact f' is beyond the f32 range (only for outputs `y` an activation never
///   produces, such as σ'(y = −10²⁰)), the f32 product `dy · (±inf)` is accepted too: the
///   derivative is correctly ±inf there and the backward is `dy` times it, one more rounding.
pub struct BackwardJudge {
    act: Activation,
    function: Function,
    piecewise_linear: bool,
    crosses_zero: bool,
    bound: f64,
    near_zero: f64,
}

impl BackwardJudge {
    /// The judge of `act`'s backward in `tier`, or of its backward from the output.
    pub fn new(act: &Activation, from_output: bool, tier: Tier) -> BackwardJudge {
        BackwardJudge {
            bound: accuracy::backward_bound(act, tier),
            near_zero: accuracy::near_zero_allowance(tier),
            act: *act,
            function: if from_output {
                Function::DerivativeFromOutput
            } else {
                Function::Derivative
            },
            piecewise_linear: accuracy::is_piecewise_linear(act),
            crosses_zero: act.info().derivative_crosses_zero,
        }
    }

    /// The reference derivative (in terms of `x`, or of `y` from the output) at `x`.
    pub fn reference(&self, x: f32) -> f64 {
        accuracy::expected(&self.act, self.function, x)
            .unwrap_or_else(|| panic!("{} has no {}", self.act, self.function.label()))
    }

    /// Whether `x` lies on a piece where the derivative is the constant `d` (0 or 1), so that
    /// CONTRACT §3 makes the backward select `0` or `dy` exactly.
    ///
    /// Piecewise-linear activations: `d` holds at one of `x`'s f32 neighbours too (a knee
    /// belongs to the piece it closes; an isolated zero, such as hardswish' at −1.5, is not a
    /// piece); in terms of `y`, every 0 or 1 stands for a whole piece of `x` (y = 0 is the band
    /// of hardshrink). Others: `d` holds at every probe between `x` and 0 (x·2⁻¹, x·2⁻²,
    /// x·2⁻⁴, ..., down to 2⁻²⁰, or ±2⁻²⁰ for |x| < 2⁻²⁰). That tells the flat side of
    /// `elu(alpha=0)` or the linear side of elu from a derivative that merely underflows
    /// (sigmoid at 1000) or rounds to 1 in f64 (a smooth function far out).
    pub fn on_constant_piece(&self, x: f32, d: f64) -> bool {
        let at = |p: f32| self.reference(p) == d;
        if self.piecewise_linear {
            return self.function == Function::DerivativeFromOutput || at(x.next_up()) || at(x.next_down());
        }
        const FLOOR: f32 = 9.536_743e-7; // 2⁻²⁰
        if x.abs() < FLOOR {
            return if x == 0.0 {
                at(FLOOR) || at(-FLOOR)
            } else {
                at(FLOOR.copysign(x))
            };
        }
        let start = if x.is_infinite() { f32::MAX.copysign(x) } else { x };
        let mut k = 1;
        while k <= 256 {
            let p = (f64::from(start) * 2f64.powi(-k)) as f32;
            if p.abs() < FLOOR {
                break;
            }
            if !at(p) {
                return false;
            }
            k *= 2;
        }
        at(FLOOR.copysign(x))
    }

    /// What the judgement of any result at `x` needs: the reference derivative and whether
    /// `x` is on a piece of constant slope 0 or 1.
    pub fn expect(&self, x: f32) -> Expected {
        if x.is_nan() {
            return Expected {
                d: f64::NAN,
                select: false,
            };
        }
        let d = self.reference(x);
        Expected {
            d,
            select: (d == 0.0 || d == 1.0) && self.on_constant_piece(x, d),
        }
    }

    /// Judges `got = backward(x, dy)` given what [`BackwardJudge::expect`] says of `x`.
    pub fn judge(&self, x: f32, dy: f32, got: f32, expected: Expected) -> Option<Violation> {
        let Expected { d, select } = expected;
        if x.is_nan() {
            return (!got.is_nan()).then_some(Violation::NanInput);
        }
        if select {
            let ok = if d == 0.0 {
                got == 0.0
            } else {
                got.to_bits() == dy.to_bits() || (got.is_nan() && dy.is_nan())
            };
            return (!ok).then_some(Violation::NotSelected(d));
        }
        let d32 = d as f32;
        if d32.is_infinite() {
            let product = dy * d32;
            if got.to_bits() == product.to_bits() || (got.is_nan() && product.is_nan()) {
                return None;
            }
        }
        if dy.is_nan() {
            let ok = got.is_nan() || (d == 0.0 && got == 0.0);
            return (!ok).then_some(Violation::NanGradient);
        }
        if dy.is_infinite() {
            let negative = (dy < 0.0) != (d < 0.0);
            let exact_inf = got.is_infinite() && (d == 0.0 || (got < 0.0) == negative);
            // Below 2⁻¹²⁶ the derivative may come out as 0 or anything within 2⁻¹²⁶ of f',
            // whatever its sign, so dy times it may be NaN, 0 or either infinity.
            let ok = if d.abs() >= MIN_NORMAL {
                exact_inf
            } else {
                got.is_infinite() || got.is_nan() || got == 0.0
            };
            return (!ok).then_some(Violation::Infinite(d));
        }
        let want = f64::from(dy) * d;
        if got.to_bits() == (want as f32).to_bits() {
            return None; // correctly rounded (or within the subnormal or overflow rules)
        }
        let ulp = ulp_error(got, want);
        if ulp <= self.bound {
            return None;
        }
        let diff = (f64::from(got) - want).abs();
        let scale = f64::from(dy).abs();
        // The absolute allowance holds within the window around the derivative's zero only
        // (CONTRACT §4), as for the derivative itself.
        let crosses =
            self.crosses_zero && accuracy::near_derivative_zero(&self.act, x) && diff <= scale * self.near_zero;
        let underflow = d.abs() < MIN_NORMAL && diff <= scale * MIN_NORMAL;
        (!(crosses || underflow)).then_some(Violation::Error(want, ulp, self.bound))
    }

    /// Judges `got = backward(x, dy)`, computing the reference.
    pub fn check(&self, x: f32, dy: f32, got: f32) -> Option<Violation> {
        self.judge(x, dy, got, self.expect(x))
    }
}

/// The reference side of a backward judgement at one input.
#[derive(Clone, Copy, Debug)]
pub struct Expected {
    /// f'(x), or f' in terms of `y`.
    pub d: f64,
    /// `x` is on a piece of constant slope `d` ∈ {0, 1}: the backward selects exactly.
    pub select: bool,
}

/// Checks a batch of backward results (or, with `from_output`, backward-from-output results)
/// with [`BackwardJudge`] and records what fails.
#[allow(clippy::too_many_arguments)]
pub fn check_backward(
    act: &Activation,
    backend: Backend,
    tier: Tier,
    from_output: bool,
    inputs: &[f32],
    dys: &[f32],
    got: &[f32],
    failures: &mut Failures,
) {
    let judge = BackwardJudge::new(act, from_output, tier);
    let (label, input) = if from_output {
        ("backward_from_output", "y")
    } else {
        ("backward", "x")
    };
    for ((&x, &dy), &g) in inputs.iter().zip(dys).zip(got) {
        if let Some(why) = judge.check(x, dy, g) {
            failures.push(format!(
                "{act} {label} [{backend}, {tier}] {input}={} dy={} got={}: {why}",
                show(x),
                show(dy),
                show(g),
            ));
        }
    }
}

/// Elements per parallel block of the sweeps.
const BLOCK: usize = 1 << 14;

/// Runs `function` of `act` in `tier` over `inputs` on backend `b` (`None` for a from-output
/// derivative the activation does not have).
pub fn run(act: &Activation, b: Backend, tier: Tier, function: Function, inputs: &[f32]) -> Option<Vec<f32>> {
    let mut out = vec![0.0; inputs.len()];
    let ok = on(b, || {
        in_tier(act, tier, |act| match function {
            Function::Forward => {
                act.forward(inputs, &mut out);
                true
            }
            Function::Derivative => {
                act.derivative(inputs, &mut out);
                true
            }
            Function::DerivativeFromOutput => act.derivative_from_output(inputs, &mut out),
        })
    });
    ok.then_some(out)
}

/// Checks `function` of `act` over `inputs` on every backend at CONTRACT §4's bound, reporting the
/// worst input per backend, and (with `bit_identity`) that every backend gives the bits of
/// `Scalar`.
pub fn sweep_function(
    act: &Activation,
    tier: Tier,
    function: Function,
    inputs: &[f32],
    bit_identity: bool,
    failures: &mut Failures,
) {
    use rayon::prelude::*;
    let bs = backends();
    let outputs: Vec<Vec<f32>> = match bs.iter().map(|&b| run(act, b, tier, function, inputs)).collect() {
        Some(o) => o,
        None => return,
    };
    let worst = (0..inputs.len().div_ceil(BLOCK))
        .into_par_iter()
        .map(|i| {
            let range = i * BLOCK..((i + 1) * BLOCK).min(inputs.len());
            let outs: Vec<&[f32]> = outputs.iter().map(|o| &o[range.clone()]).collect();
            accuracy::compare_many(act, function, tier, &inputs[range], &outs)
        })
        .reduce(
            || vec![accuracy::Worst::default(); bs.len()],
            |a, b| a.into_iter().zip(b).map(|(a, b)| a.merge(b)).collect(),
        );
    let bound = accuracy::bound(act, function, tier);
    for (b, w) in bs.iter().zip(&worst) {
        if !within(w.ulp, bound) {
            failures.push(format!(
                "{act} {} [{b}, {tier}]: worst x={} got={} want={:e} ulp={} > bound {bound} ({} inputs)",
                function.label(),
                show(w.input),
                show(w.got),
                w.want,
                w.ulp,
                inputs.len()
            ));
        }
    }
    if bit_identity {
        identical_bits(act, function.label(), inputs, &bs, &outputs, failures);
    }
}

/// Checks that every backend's outputs have the bits of the first (`Scalar`'s). NaN matches
/// any NaN: CONTRACT §3 asks for NaN, and which payload an instruction propagates is the
/// hardware's choice (x86 vector blends and arithmetic keep different operands' payloads).
pub fn identical_bits(
    act: &Activation,
    label: &str,
    inputs: &[f32],
    bs: &[Backend],
    outputs: &[Vec<f32>],
    failures: &mut Failures,
) {
    let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    for (b, out) in bs.iter().zip(outputs).skip(1) {
        let differ: Vec<usize> = (0..inputs.len()).filter(|&i| !same(out[i], outputs[0][i])).collect();
        if let Some(&i) = differ.first() {
            failures.push(format!(
                "{act} {label}: {b} differs from {} in {} of {} outputs; first x={} {b}={} {}={}",
                bs[0],
                differ.len(),
                inputs.len(),
                show(inputs[i]),
                show(out[i]),
                bs[0],
                show(outputs[0][i]),
            ));
        }
    }
}

/// What a backward sweep found on one backend.
#[derive(Clone, Default)]
struct Found {
    count: usize,
    first: Vec<String>,
    worst: Option<(f64, String)>,
}

/// Checks the backward (or, with `from_output`, the backward from the output) of `act` over
/// `(inputs, dys)` on every backend against [`backward_failure_given`], and (with
/// `bit_identity`) that every backend gives the bits of `Scalar`.
pub fn sweep_backward(
    act: &Activation,
    tier: Tier,
    from_output: bool,
    inputs: &[f32],
    dys: &[f32],
    bit_identity: bool,
    failures: &mut Failures,
) {
    use rayon::prelude::*;
    if from_output && !has_from_output(act) {
        return;
    }
    let judge = BackwardJudge::new(act, from_output, tier);
    let bs = backends();
    let outputs: Vec<Vec<f32>> = bs
        .iter()
        .map(|&b| {
            let mut dx = vec![0.0; inputs.len()];
            on(b, || {
                in_tier(act, tier, |act| {
                    if from_output {
                        act.backward_from_output(inputs, dys, &mut dx);
                    } else {
                        act.backward(inputs, dys, &mut dx);
                    }
                })
            });
            dx
        })
        .collect();
    let label = if from_output {
        "backward_from_output"
    } else {
        "backward"
    };
    // Per backend: how many inputs fail and the first few of them.
    let input = if from_output { "y" } else { "x" };
    let describe = |b: &Backend, i: usize, why: Violation| {
        format!(
            "{act} {label} [{b}, {tier}] {input}={} dy={} got={}: {why}",
            show(inputs[i]),
            show(dys[i]),
            show(outputs[bs.iter().position(|c| c == b).unwrap_or(0)][i])
        )
    };
    // Per backend: how many inputs fail, the first few, and the worst error in ULPs.
    let found: Vec<Vec<Found>> = (0..inputs.len().div_ceil(BLOCK))
        .into_par_iter()
        .map(|block| {
            let mut found = vec![Found::default(); bs.len()];
            for i in block * BLOCK..((block + 1) * BLOCK).min(inputs.len()) {
                let expected = judge.expect(inputs[i]);
                for ((b, out), f) in bs.iter().zip(&outputs).zip(&mut found) {
                    if let Some(why) = judge.judge(inputs[i], dys[i], out[i], expected) {
                        f.count += 1;
                        if f.first.len() < EXAMPLES {
                            f.first.push(describe(b, i, why));
                        }
                        if let Violation::Error(_, ulp, _) = why
                            && f.worst.as_ref().is_none_or(|(w, _)| ulp > *w)
                        {
                            f.worst = Some((ulp, describe(b, i, why)));
                        }
                    }
                }
            }
            found
        })
        .collect();
    for (i, b) in bs.iter().enumerate() {
        let count: usize = found.iter().map(|f| f[i].count).sum();
        if count == 0 {
            continue;
        }
        let mut lines: Vec<&str> = found
            .iter()
            .flat_map(|f| &f[i].first)
            .take(EXAMPLES)
            .map(String::as_str)
            .collect();
        let worst = found
            .iter()
            .filter_map(|f| f[i].worst.as_ref())
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, line)) = worst {
            lines.push("worst:");
            lines.push(line);
        }
        failures.push(format!(
            "{act} {label} [{b}]: {count} of {} inputs fail, e.g.\n      {}",
            inputs.len(),
            lines.join("\n      ")
        ));
    }
    if bit_identity {
        identical_bits(act, label, inputs, &bs, &outputs, failures);
    }
}
