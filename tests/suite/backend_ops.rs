//! The `Vector` operations that backends override with their own instructions (`ldexp` as
//! AVX-512's `vscalefps`, `max_keep_nan`/`min_keep_nan` as `vmaxps`/`vminps`, `lookup16` and
//! `lookup32` as permutes) give exactly the default's results on every backend, including NaN, signed zeros,
//! subnormal and overflowing results. The kernels' bit identity across backends rests on this.
//!
//! Each operation is wrapped in a test-only `Kernel` whose `backward(x, dy)` applies it to two
//! buffers, so it runs through the real driver on each backend.

use actkern::{Apply, Backend, Custom, Kernel, Param, ParamValue, Params, Serial, Vector, with_backend};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Which operation `Op::backward(a, b)` applies.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    /// `a · 2^b`
    Ldexp,
    /// `max(a, b)` keeping a NaN `a`
    Max,
    /// `min(a, b)` keeping a NaN `a`
    Min,
    /// `TABLE[a]`
    Lookup,
    /// `TABLE32[a mod 32]`
    Lookup32,
}

const TABLE: [f32; 16] = [
    1.5,
    -2.25,
    3.0e-40,
    f32::INFINITY,
    -0.0,
    7.0,
    f32::MIN_POSITIVE,
    1e30,
    -1e-30,
    0.0,
    f32::NEG_INFINITY,
    -7.5,
    2.0e-45,
    f32::MAX,
    0.1,
    -3.0,
];

/// 32 entries: `TABLE` and its negation, so every entry is distinct where it can be.
const TABLE32: [f32; 32] = {
    let mut t = [0.0; 32];
    let mut i = 0;
    while i < 16 {
        t[i] = TABLE[i];
        t[i + 16] = -TABLE[15 - i];
        i += 1;
    }
    t
};

// The operation is chosen in Rust, not by spec strings: no parameters.
impl Params for Op {
    const PARAMS: &'static [Param] = &[];
    fn from_params(_: &[ParamValue]) -> Result<Self, String> {
        Ok(Op::Ldexp)
    }
    fn params(&self) -> Vec<ParamValue> {
        Vec::new()
    }
}

impl Kernel for Op {
    const NAME: &'static str = "backend_op_probe";
    const FORMULA: &'static str = "test only";
    const EXAMPLES: &'static [&'static str] = &[];

    fn forward<V: Vector>(&self, x: V) -> V {
        x
    }
    fn derivative<V: Vector>(&self, x: V) -> V {
        x
    }
    fn backward<V: Vector>(&self, a: V, b: V) -> V {
        match self {
            Op::Ldexp => a.ldexp(b),
            Op::Max => a.max_keep_nan(b),
            Op::Min => a.min_keep_nan(b),
            Op::Lookup => V::lookup16(&TABLE, a),
            Op::Lookup32 => V::lookup32(&TABLE32, a),
        }
    }
    fn reference_forward(&self, x: f64) -> f64 {
        x
    }
    fn reference_derivative(&self, _: f64) -> f64 {
        1.0
    }
}

/// `op` on every available backend, serial and (for a long buffer) parallel.
fn run_everywhere(op: Op, a: &[f32], b: &[f32]) -> Vec<(Backend, Vec<f32>)> {
    let mut results = Vec::new();
    for backend in Backend::available() {
        let mut out = vec![0.0f32; a.len()];
        with_backend(backend, || Serial(Custom(op)).backward(a, b, &mut out)).expect("available backend");
        let mut parallel = vec![0.0f32; a.len()];
        with_backend(backend, || Custom(op).backward(a, b, &mut parallel)).expect("available backend");
        assert_same_bits(&out, &parallel, &format!("{op:?} serial vs parallel on {backend}"));
        results.push((backend, out));
    }
    results
}

fn assert_same_bits(got: &[f32], want: &[f32], what: &str) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let same = g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan());
        assert!(
            same,
            "{what}: element {i}: got {g:e} ({:#010x}), want {w:e} ({:#010x})",
            g.to_bits(),
            w.to_bits()
        );
    }
}

#[test]
fn ldexp_rounds_once_on_every_backend() {
    // Every magnitude the documented condition allows (an exponential's 1 + q, a factor times
    // it, pair low parts), exponents over the whole range, plus zeros, infinities, NaN.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut a = Vec::new();
    let mut b = Vec::new();
    for _ in 0..200_000 {
        let magnitude = 2f32.powi(rng.random_range(-102..=100)) * rng.random_range(1.0f32..2.0);
        a.push(if rng.random_bool(0.5) { magnitude } else { -magnitude });
        b.push(rng.random_range(-252i32..=254) as f32);
    }
    // Where the default's first product underflows and the result is near 2⁻¹⁴⁹.
    for k in 0..64 {
        for n in -60..=-40 {
            a.push(2f32.powi(-102) * (1.0 + k as f32 / 64.0));
            b.push(n as f32);
        }
    }
    for special in [0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
        for n in [-252.0, -150.0, -126.0, 0.0, 127.0, 254.0] {
            a.push(special);
            b.push(n);
        }
    }
    let want: Vec<f32> = a
        .iter()
        .zip(&b)
        .map(|(&m, &n)| {
            // m·2ⁿ is exact in f64 over this range; the cast rounds it once, subnormals included.
            (m as f64 * 2f64.powi(n as i32)) as f32
        })
        .collect();
    for (backend, got) in run_everywhere(Op::Ldexp, &a, &b) {
        assert_same_bits(&got, &want, &format!("ldexp on {backend}"));
    }
}

#[test]
fn max_and_min_keep_nan_and_match_the_select_form() {
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f32::MIN_POSITIVE,
        1e-45,
        -1e-45,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
    ];
    let mut a = Vec::new();
    let mut b = Vec::new();
    for &x in &specials {
        for &bound in specials.iter().filter(|v| !v.is_nan()) {
            a.push(x);
            b.push(bound);
        }
    }
    // Many lanes per vector on every backend, and a tail.
    let a: Vec<f32> = a.iter().cycle().take(a.len() * 3 + 5).copied().collect();
    let b: Vec<f32> = b.iter().cycle().take(a.len()).copied().collect();
    let max_want: Vec<f32> = a.iter().zip(&b).map(|(&x, &lo)| if x < lo { lo } else { x }).collect();
    let min_want: Vec<f32> = a.iter().zip(&b).map(|(&x, &hi)| if x > hi { hi } else { x }).collect();
    for (backend, got) in run_everywhere(Op::Max, &a, &b) {
        assert_same_bits(&got, &max_want, &format!("max_keep_nan on {backend}"));
        for (g, x) in got.iter().zip(&a) {
            assert_eq!(
                g.is_nan(),
                x.is_nan(),
                "max_keep_nan keeps NaN exactly where the input has it"
            );
        }
    }
    for (backend, got) in run_everywhere(Op::Min, &a, &b) {
        assert_same_bits(&got, &min_want, &format!("min_keep_nan on {backend}"));
    }
}

#[test]
fn lookup16_reads_its_table_on_every_backend() {
    // Every entry in every lane position, read through integers, through values rounded to them
    // (ties go to the even entry), and NaN, which reads entry 0 everywhere.
    let offsets = [0.0, 0.25, -0.25, 0.5, -0.5, 0.499_999_97];
    let a: Vec<f32> = (0..16 * offsets.len() + 5)
        .map(|i| {
            let (entry, offset) = (i % 17, offsets[i % offsets.len()]);
            if entry == 16 {
                f32::NAN
            } else {
                (entry as f32 + offset).clamp(-0.5, 15.25)
            }
        })
        .collect();
    let b = vec![0.0; a.len()];
    let want: Vec<f32> = a
        .iter()
        .map(|&i| {
            if i.is_nan() {
                return TABLE[0];
            }
            let nearest = i.round();
            // Ties to even.
            let entry = if (i - i.trunc()).abs() == 0.5 && nearest % 2.0 != 0.0 {
                nearest - i.signum()
            } else {
                nearest
            };
            TABLE[entry.max(0.0) as usize]
        })
        .collect();
    for (backend, got) in run_everywhere(Op::Lookup, &a, &b) {
        assert_same_bits(&got, &want, &format!("lookup16 on {backend}"));
    }
}

#[test]
fn lookup32_reads_its_table_modulo_32_on_every_backend() {
    // Every entry in every lane position, through integers and values rounded to them (ties to
    // even), negative indices (−1 reads entry 31, as the AVX-512 permute's low five bits do), large
    // ones, and NaN, which reads entry 0 everywhere.
    let offsets = [0.0, 0.25, -0.25, 0.5, -0.5, 0.499_999_97];
    let mut a: Vec<f32> = (0..66 * offsets.len())
        .map(|i| {
            let (entry, offset) = ((i % 66) as f32 - 33.0, offsets[i % offsets.len()]);
            if entry == 32.0 {
                f32::NAN
            } else {
                (entry + offset).clamp(-32.5, 31.25)
            }
        })
        .collect();
    a.extend([
        1e6,
        -1e6,
        2_147_483_520.0,
        -2_147_483_648.0,
        65_567.5,
        -0.0,
        5.5,
        6.5,
        -5.5,
        -6.5,
    ]);
    let b = vec![0.0; a.len()];
    let want: Vec<f32> = a
        .iter()
        .map(|&i| {
            if i.is_nan() {
                return TABLE32[0];
            }
            // Exact in f64; ties to even.
            let entry = (i as f64).round_ties_even() as i64;
            TABLE32[entry.rem_euclid(32) as usize]
        })
        .collect();
    for (backend, got) in run_everywhere(Op::Lookup32, &a, &b) {
        assert_same_bits(&got, &want, &format!("lookup32 on {backend}"));
    }
}
