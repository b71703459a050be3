//! softmax, log_softmax and softmin over rows (CONTRACT §7): the special rows as PyTorch 2.15
//! gives them, random rows of many lengths against an f64 reference on every backend, the
//! backward from the output, bit identity across backends, thread counts, in place and 16-bit.

use actkern::accuracy::ulp_error;
use actkern::half::{bf16, f16};
use actkern::{Backend, RowFn, with_backend};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// CONTRACT §7's bounds, in ULPs.
const FORWARD_BOUND: f64 = 3.0;
const BACKWARD_BOUND: f64 = 4.0;
/// The lengths every random test walks: below, at and above the vector widths and the 16-lane
/// block, and long rows.
const LENGTHS: [usize; 13] = [1, 2, 3, 7, 15, 16, 17, 31, 33, 100, 1000, 4096, 65536];

const INF: f32 = f32::INFINITY;
const NAN: f32 = f32::NAN;

fn rng(salt: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(0x0050_f73a ^ salt)
}

fn backends() -> Vec<Backend> {
    Backend::available()
}

fn run(f: RowFn, x: &[f32], cols: usize) -> Vec<f32> {
    let mut y = vec![0.0; x.len()];
    f.forward(x, cols, &mut y);
    y
}

fn run_masked(f: RowFn, x: &[f32], cols: usize) -> Vec<f32> {
    let mut y = vec![0.0; x.len()];
    f.forward_masked(x, cols, &mut y);
    y
}

fn run_backward(f: RowFn, y: &[f32], dy: &[f32], cols: usize) -> Vec<f32> {
    let mut dx = vec![0.0; y.len()];
    f.backward(y, dy, cols, &mut dx);
    dx
}

/// Bits equal, NaN meeting any NaN.
fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// `got` against PyTorch's outputs: NaN, ±inf, 0 and 1 exactly, other values within 1 ULP
/// (PyTorch rounds its own way; our accuracy is checked against the exact values elsewhere).
fn assert_rows_near(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let exact = w.is_nan() || w.is_infinite() || w == 0.0 || w == 1.0;
        let ok = if exact {
            same(g, w)
        } else {
            ulp_error(g, w.into()) <= 1.0
        };
        assert!(ok, "{what}: element {i}: got {g:e} ({:#010x}), want {w:e}", g.to_bits());
    }
}

fn assert_rows_eq(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            same(g, w),
            "{what}: element {i}: got {g:e} ({:#010x}), want {w:e}",
            g.to_bits()
        );
    }
}

/// The exact row function in f64, from the f32 row.
fn reference(f: RowFn, row: &[f32]) -> Vec<f64> {
    let v: Vec<f64> = row
        .iter()
        .map(|&x| {
            if f == RowFn::Softmin {
                -f64::from(x)
            } else {
                f64::from(x)
            }
        })
        .collect();
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // Σ − 1 summed without the first maximum, so that ln Σ = ln_1p(Σ − 1) keeps its accuracy.
    let first = v.iter().position(|&x| x == m).unwrap();
    let others: f64 = v
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != first)
        .map(|(_, &x)| (x - m).exp())
        .sum();
    let total = 1.0 + others;
    v.iter()
        .map(|&x| match f {
            RowFn::LogSoftmax => (x - m) - others.ln_1p(),
            _ => (x - m).exp() / total,
        })
        .collect()
}

/// The exact backward in f64 from f32 `y` and `dy`.
fn reference_backward(f: RowFn, y: &[f32], dy: &[f32]) -> Vec<f64> {
    let (y, dy): (Vec<f64>, Vec<f64>) = (
        y.iter().map(|&v| v.into()).collect(),
        dy.iter().map(|&v| v.into()).collect(),
    );
    match f {
        RowFn::LogSoftmax => {
            let s: f64 = dy.iter().sum();
            y.iter().zip(&dy).map(|(y, dy)| dy - y.exp() * s).collect()
        }
        _ => {
            let s: f64 = y.iter().zip(&dy).map(|(y, dy)| y * dy).sum();
            let sign = if f == RowFn::Softmin { -1.0 } else { 1.0 };
            y.iter().zip(&dy).map(|(y, dy)| sign * y * (dy - s)).collect()
        }
    }
}

/// A random row of `cols` of one of several spreads: N(0, σ) with σ from 0.01 to 300 (outputs
/// down to subnormal), uniform over [−1000, 1000], offsets far from 0 (x − m rounds), and rows
/// of two values.
fn random_row(rng: &mut Xoshiro256PlusPlus, cols: usize, kind: usize) -> Vec<f32> {
    let normal = |rng: &mut Xoshiro256PlusPlus| {
        let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
        let v: f64 = rng.random();
        (-2.0 * u.ln()).sqrt() * (2.0 * core::f64::consts::PI * v).cos()
    };
    let sigma = [0.01, 1.0, 5.0, 30.0, 300.0][kind % 5];
    let offset = [0.0, 1000.0, -3.0e5][kind % 3];
    // Two values only (kind 13 mod 14), so that the exponential's errors on them do not average
    // out in the sum: the case where a term's and the sum's errors can add.
    let pair = [rng.random_range(-30.0f32..0.0), rng.random_range(-30.0f32..0.0)];
    (0..cols)
        .map(|i| match (kind % 14, kind % 7) {
            (13, _) => pair[i % 2],
            (_, 6) => rng.random_range(-1000.0f32..1000.0),
            _ => (offset + sigma * normal(rng)) as f32,
        })
        .collect()
}

/// The worst error of `got` against `want`, in ULPs, with where it was.
fn worst(got: &[f32], want: &[f64]) -> (f64, usize) {
    got.iter()
        .zip(want)
        .enumerate()
        .map(|(i, (&g, &w))| (ulp_error(g, w), i))
        .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a })
}

#[test]
fn special_rows_as_pytorch() {
    // PyTorch 2.15.0 (CPU, float32): torch.softmax / torch.log_softmax /
    // torch.nn.functional.softmin over the last dimension, printed by the script whose output
    // CONTRACT §7 quotes.
    let l1 = -1.313_261_6_f32; // log_softmax([-inf, 0, 1])[1]
    let l2 = -0.313_261_66_f32;
    let (a, b) = (0.268_941_43_f32, 0.731_058_6_f32);
    let cases: &[(&[f32], [&[f32]; 3])] = &[
        (&[INF, 1.0, 2.0], [&[NAN; 3], &[NAN; 3], &[0.0, b, a]]),
        (&[INF, INF, 1.0], [&[NAN; 3], &[NAN; 3], &[0.0, 0.0, 1.0]]),
        (&[-INF, 0.0, 1.0], [&[0.0, a, b], &[-INF, l1, l2], &[NAN; 3]]),
        (&[-INF, -INF], [&[NAN; 2], &[NAN; 2], &[NAN; 2]]),
        (&[NAN, 1.0, 2.0], [&[NAN; 3], &[NAN; 3], &[NAN; 3]]),
        (&[NAN, -INF], [&[NAN; 2], &[NAN; 2], &[NAN; 2]]),
        (&[INF, -INF], [&[NAN; 2], &[NAN; 2], &[NAN; 2]]),
        (&[5.0], [&[1.0], &[0.0], &[1.0]]),
        (&[INF], [&[NAN], &[NAN], &[NAN]]),
        (&[-INF], [&[NAN], &[NAN], &[NAN]]),
        (&[3.0; 4], [&[0.25; 4], &[-1.386_294_4; 4], &[0.25; 4]]),
        (
            &[3e38, -3e38, 0.0],
            [&[1.0, 0.0, 0.0], &[0.0, -INF, -3e38], &[0.0, 1.0, 0.0]],
        ),
    ];
    for backend in backends() {
        with_backend(backend, || {
            for (x, want) in cases {
                for (f, want) in RowFn::ALL.into_iter().zip(want) {
                    let got = run(f, x, x.len());
                    assert_rows_near(&got, want, &format!("{f}({x:?}) on {backend}"));
                    // Twice over and as part of a longer buffer: rows are independent.
                    let twice: Vec<f32> = x.iter().chain(x.iter()).copied().collect();
                    let got2 = run(f, &twice, x.len());
                    assert_rows_near(&got2[x.len()..], want, &format!("{f}(second row {x:?}) on {backend}"));
                }
            }
        })
        .unwrap();
    }
}

#[test]
fn masked_rows() {
    for backend in backends() {
        with_backend(backend, || {
            let n = 37;
            let masked = vec![-INF; n];
            assert_eq!(run_masked(RowFn::Softmax, &masked, n), vec![0.0; n]);
            assert_eq!(run_masked(RowFn::LogSoftmax, &masked, n), vec![-INF; n]);
            assert_eq!(run_masked(RowFn::Softmin, &vec![INF; n], n), vec![0.0; n]);
            // A NaN still gives NaN; other special rows as without the option.
            let mut with_nan = masked.clone();
            with_nan[20] = NAN;
            for f in RowFn::ALL {
                assert!(
                    run_masked(f, &with_nan, n).iter().all(|v| v.is_nan()),
                    "{f} on {backend}"
                );
                for x in [&[INF, 1.0, 2.0][..], &[-INF, 0.0, 1.0], &[1.0, 2.0, 3.0]] {
                    assert_rows_eq(&run_masked(f, x, 3), &run(f, x, 3), &format!("{f} masked {x:?}"));
                }
            }
            // Masked rows next to ordinary ones, and the free function.
            let x = [-INF, -INF, 0.0, 0.0];
            let mut y = [9.0f32; 4];
            actkern::softmax_masked_rows_zero(&x, 2, &mut y);
            assert_eq!(y, [0.0, 0.0, 0.5, 0.5]);
            let mut xy = x;
            RowFn::Softmax.forward_masked_inplace(&mut xy, 2);
            assert_eq!(xy, [0.0, 0.0, 0.5, 0.5]);
        })
        .unwrap();
    }
}

#[test]
fn subnormal_spreads_and_huge_values() {
    for backend in backends() {
        with_backend(backend, || {
            let rows: Vec<Vec<f32>> = vec![
                // Outputs e⁻⁸⁷…e⁻¹⁰⁴: normal, subnormal, zero.
                vec![0.0, -87.0, -90.0, -95.0, -100.0, -103.0, -104.0, -110.0],
                // One huge value: every other output underflows.
                vec![1.0e30, 1.0, -1.0, 0.0, 1.0e29],
                // Tiny and subnormal inputs: all terms ≈ 1.
                vec![1.0e-40, -1.0e-40, 0.0, -0.0, f32::MIN_POSITIVE, 1.0e-45],
                // Far from 0, where x − m rounds in f32.
                vec![3.0e5, 3.0e5 - 0.03125, 3.0e5 - 17.5, 2.999_9e5, 3.0e5 - 80.0],
                vec![f32::MAX, f32::MAX, -f32::MAX, 0.0],
            ];
            // One maximum over a long constant background: every rounding of the running sums
            // has the same sign, the worst case of a compensated sum; log_softmax's −ln Σ at the
            // maximum is then about Σ − 1 and shows its relative error.
            let mut rows = rows;
            for (len, background) in [(4097, -13.8f32), (65536, -16.6), (65536, -9.0), (1000, -25.0)] {
                let mut row = vec![background; len];
                row[len / 3] = 0.0;
                rows.push(row);
            }
            for row in rows {
                for f in RowFn::ALL {
                    let got = run(f, &row, row.len());
                    let (err, i) = worst(&got, &reference(f, &row));
                    assert!(
                        err <= FORWARD_BOUND,
                        "{f}({row:?}) on {backend}: {err} ULP at {i}: {got:?}"
                    );
                }
            }
        })
        .unwrap();
    }
}

/// Random rows of every length on every backend, against the f64 reference; the worst error
/// per function is printed (CONTRACT §7 quotes it) and must be within 3 ULP.
#[test]
fn random_rows_forward() {
    let mut worst_per_fn = [0.0f64; 3];
    for (li, &cols) in LENGTHS.iter().enumerate() {
        let mut rng = rng(li as u64);
        let kinds = if cols >= 4096 { 14 } else { 28 };
        let rows_per_kind = (4096 / cols).clamp(1, 16);
        for kind in 0..kinds {
            let x: Vec<f32> = (0..rows_per_kind)
                .flat_map(|_| random_row(&mut rng, cols, kind))
                .collect();
            let want: Vec<Vec<Vec<f64>>> = RowFn::ALL
                .iter()
                .map(|&f| x.chunks(cols).map(|r| reference(f, r)).collect())
                .collect();
            let mut first: Option<Vec<Vec<f32>>> = None;
            for backend in backends() {
                let got: Vec<Vec<f32>> =
                    with_backend(backend, || RowFn::ALL.iter().map(|&f| run(f, &x, cols)).collect()).unwrap();
                for (fi, f) in RowFn::ALL.into_iter().enumerate() {
                    for (r, (g, w)) in got[fi].chunks(cols).zip(&want[fi]).enumerate() {
                        let (err, i) = worst(g, w);
                        assert!(
                            err <= FORWARD_BOUND,
                            "{f}, cols {cols}, kind {kind}, row {r} on {backend}: {err} ULP at {i}: x = {}, got {:e}, want {:e}",
                            x[r * cols + i],
                            g[i],
                            w[i]
                        );
                        worst_per_fn[fi] = worst_per_fn[fi].max(err);
                    }
                }
                // Every backend gives the bits of the first.
                match &first {
                    None => first = Some(got),
                    Some(first) => {
                        for fi in 0..3 {
                            assert_rows_eq(
                                &got[fi],
                                &first[fi],
                                &format!("{} cols {cols} on {backend}", RowFn::ALL[fi]),
                            );
                        }
                    }
                }
            }
        }
    }
    println!(
        "max error: softmax {:.3} ULP, log_softmax {:.3} ULP, softmin {:.3} ULP",
        worst_per_fn[0], worst_per_fn[1], worst_per_fn[2]
    );
}

/// The backward's error measure (CONTRACT §7): ULPs of the exact value, where an error within
/// the row's cancellation floor counts as exact. dy − Σ (or dy − e^y·Σ) may cancel to nothing,
/// so the absolute floor is a fraction of the magnitude it cancelled from: 2⁻⁴⁰·|y|·Σ|y·dy| for
/// softmax (the compensated sum's error), 2⁻²⁶·e^y·Σ|dy| for log_softmax (e^y is itself only
/// known to about a tenth of an ULP).
fn backward_error(f: RowFn, y: &[f32], dy: &[f32], got: &[f32]) -> (f64, usize) {
    let want = reference_backward(f, y, dy);
    let floor: Vec<f64> = match f {
        RowFn::LogSoftmax => {
            let s: f64 = dy.iter().map(|&d| f64::from(d).abs()).sum();
            y.iter().map(|&y| f64::from(y).exp() * s).collect()
        }
        _ => {
            let s: f64 = y.iter().zip(dy).map(|(&y, &d)| f64::from(y * d).abs()).sum();
            y.iter().map(|&y| f64::from(y).abs() * s).collect()
        }
    };
    got.iter()
        .zip(&want)
        .zip(&floor)
        .enumerate()
        .map(|(i, ((&g, &w), &fl))| {
            let scale = if f == RowFn::LogSoftmax {
                2f64.powi(-26)
            } else {
                2f64.powi(-40)
            };
            let err = if (f64::from(g) - w).abs() <= fl * scale {
                0.0
            } else {
                ulp_error(g, w)
            };
            (err, i)
        })
        .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a })
}

#[test]
fn random_rows_backward() {
    let mut worst_per_fn = [0.0f64; 3];
    for (li, &cols) in LENGTHS.iter().enumerate() {
        let mut rng = rng(100 + li as u64);
        let kinds = if cols >= 4096 { 5 } else { 15 };
        for kind in 0..kinds {
            let x = random_row(&mut rng, cols, kind);
            let dy: Vec<f32> = (0..cols)
                .map(|_| match kind % 3 {
                    0 => rng.random_range(-1.0f32..1.0),
                    1 => rng.random_range(-1.0e3f32..1.0e3),
                    _ => rng.random_range(0.5f32..1.0),
                })
                .collect();
            let mut first: Option<Vec<Vec<f32>>> = None;
            for backend in backends() {
                let got: Vec<Vec<f32>> = with_backend(backend, || {
                    RowFn::ALL
                        .iter()
                        .map(|&f| run_backward(f, &run(f, &x, cols), &dy, cols))
                        .collect()
                })
                .unwrap();
                for (fi, f) in RowFn::ALL.into_iter().enumerate() {
                    let y = with_backend(backend, || run(f, &x, cols)).unwrap();
                    let (err, i) = backward_error(f, &y, &dy, &got[fi]);
                    assert!(
                        err <= BACKWARD_BOUND,
                        "{f} backward, cols {cols}, kind {kind} on {backend}: {err} ULP at {i}: y = {:e}, dy = {:e}, got {:e}, want {:e}",
                        y[i],
                        dy[i],
                        got[fi][i],
                        reference_backward(f, &y, &dy)[i]
                    );
                    worst_per_fn[fi] = worst_per_fn[fi].max(err);
                }
                match &first {
                    None => first = Some(got),
                    Some(first) => {
                        for fi in 0..3 {
                            assert_rows_eq(
                                &got[fi],
                                &first[fi],
                                &format!("{} backward cols {cols} on {backend}", RowFn::ALL[fi]),
                            );
                        }
                    }
                }
            }
        }
    }
    println!(
        "max backward error: softmax {:.3} ULP, log_softmax {:.3} ULP, softmin {:.3} ULP",
        worst_per_fn[0], worst_per_fn[1], worst_per_fn[2]
    );
}

#[test]
fn backward_special_values_as_pytorch() {
    // PyTorch 2.15.0: torch._softmax_backward_data / torch._log_softmax_backward_data.
    for backend in backends() {
        with_backend(backend, || {
            let dx = run_backward(RowFn::Softmax, &[0.25, 0.75], &[INF, 1.0], 2);
            assert_rows_eq(&dx, &[NAN, -INF], "softmax backward, dy = inf");
            let dx = run_backward(RowFn::LogSoftmax, &[0.25f32.ln(), 0.75f32.ln()], &[INF, 1.0], 2);
            assert_rows_eq(&dx, &[NAN, -INF], "log_softmax backward, dy = inf");
            let dx = run_backward(RowFn::Softmax, &[0.0, 1.0], &[NAN, 1.0], 2);
            assert_rows_eq(&dx, &[NAN, NAN], "softmax backward, dy = NaN");
            let dx = run_backward(RowFn::LogSoftmax, &[-INF, 0.0], &[2.0, 1.0], 2);
            assert_rows_eq(&dx, &[2.0, -2.0], "log_softmax backward, y = -inf");
            // Masked rows' outputs: softmax 0 gives dx 0, log_softmax −inf gives dx = dy.
            let dx = run_backward(RowFn::Softmax, &[0.0; 3], &[1.0, 2.0, 3.0], 3);
            assert_eq!(dx, [0.0; 3]);
            let dx = run_backward(RowFn::LogSoftmax, &[-INF; 3], &[1.0, 2.0, 3.0], 3);
            assert_eq!(dx, [1.0, 2.0, 3.0]);
            // softmin's is softmax's negated.
            let (y, dy) = ([0.2f32, 0.3, 0.5], [1.0f32, -2.0, 0.25]);
            let a = run_backward(RowFn::Softmax, &y, &dy, 3);
            let b = run_backward(RowFn::Softmin, &y, &dy, 3);
            assert_eq!(a.iter().map(|v| -v).collect::<Vec<_>>(), b);
        })
        .unwrap();
    }
}

#[test]
fn in_place_and_shapes() {
    let mut rng = rng(7);
    for cols in [1, 5, 16, 33, 300] {
        let x: Vec<f32> = (0..cols * 9).map(|_| rng.random_range(-20.0f32..20.0)).collect();
        let dy: Vec<f32> = (0..cols * 9).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        for f in RowFn::ALL {
            let y = run(f, &x, cols);
            let mut xy = x.clone();
            f.forward_inplace(&mut xy, cols);
            assert_rows_eq(&xy, &y, &format!("{f} in place, cols {cols}"));
            let dx = run_backward(f, &y, &dy, cols);
            let mut dy_dx = dy.clone();
            f.backward_inplace(&y, &mut dy_dx, cols);
            assert_rows_eq(&dy_dx, &dx, &format!("{f} backward in place, cols {cols}"));
            // Row by row gives the same bits.
            for r in 0..9 {
                let row = run(f, &x[r * cols..(r + 1) * cols], cols);
                assert_rows_eq(&row, &y[r * cols..(r + 1) * cols], &format!("{f} row {r}"));
            }
        }
    }
    // The free functions are the RowFn methods.
    let x = [1.0f32, 2.0, 3.0, 4.0];
    let (mut a, mut b) = ([0.0f32; 4], [0.0f32; 4]);
    actkern::softmax(&x, 2, &mut a);
    RowFn::Softmax.forward(&x, 2, &mut b);
    assert_eq!(a, b);
    actkern::log_softmax(&x, 2, &mut a);
    RowFn::LogSoftmax.forward(&x, 2, &mut b);
    assert_eq!(a, b);
    actkern::softmin(&x, 2, &mut a);
    RowFn::Softmin.forward(&x, 2, &mut b);
    assert_eq!(a, b);
    let mut c = x;
    actkern::softmin_inplace(&mut c, 2);
    assert_eq!(a, c);
    // Empty buffers, with and without columns.
    actkern::softmax::<f32>(&[], 0, &mut []);
    actkern::softmax::<f32>(&[], 5, &mut []);
}

#[test]
#[should_panic(expected = "not a whole number of rows")]
fn ragged_rows_panic() {
    actkern::softmax(&[1.0f32; 7], 3, &mut [0.0; 7]);
}

#[test]
#[should_panic(expected = "`cols` is 0")]
fn zero_cols_panic() {
    actkern::log_softmax(&[1.0f32; 2], 0, &mut [0.0; 2]);
}

#[test]
#[should_panic(expected = "length mismatch")]
fn length_mismatch_panics() {
    actkern::softmax_backward(&[1.0f32; 4], &[1.0; 4], 2, &mut [0.0; 2]);
}

/// Results do not depend on the thread count: large calls in pools of 1, 2 and 3 threads, and
/// row by row on the calling thread, give the same bits.
#[test]
fn thread_count_independence() {
    let cols = 1000;
    let rows = 300; // 300 000 elements: above PARALLEL_THRESHOLD.
    assert!(rows * cols >= actkern::PARALLEL_THRESHOLD);
    let mut rng = rng(11);
    let x: Vec<f32> = (0..rows * cols).map(|_| rng.random_range(-30.0f32..30.0)).collect();
    let dy: Vec<f32> = (0..rows * cols).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    for f in RowFn::ALL {
        let serial: Vec<f32> = x.chunks(cols).flat_map(|r| run(f, r, cols)).collect();
        let serial_dx: Vec<f32> = serial
            .chunks(cols)
            .zip(dy.chunks(cols))
            .flat_map(|(y, dy)| run_backward(f, y, dy, cols))
            .collect();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (y, dx) = pool.install(|| {
                let y = run(f, &x, cols);
                let dx = run_backward(f, &y, &dy, cols);
                (y, dx)
            });
            assert_rows_eq(&y, &serial, &format!("{f} on {threads} threads"));
            assert_rows_eq(&dx, &serial_dx, &format!("{f} backward on {threads} threads"));
        }
    }
}

/// bf16 and f16: exactly the f32 function of the widened row, rounded once per element.
#[test]
fn half_types_round_the_f32_result() {
    let mut rng = rng(13);
    for cols in [1, 3, 16, 17, 100, 4096] {
        let x32: Vec<f32> = (0..cols * 3).map(|_| rng.random_range(-12.0f32..12.0)).collect();
        let dy32: Vec<f32> = (0..cols * 3).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        for backend in backends() {
            with_backend(backend, || {
                for f in RowFn::ALL {
                    check_half::<bf16>(f, &x32, &dy32, cols);
                    check_half::<f16>(f, &x32, &dy32, cols);
                }
            })
            .unwrap();
        }
    }
}

fn check_half<E: actkern::Element>(f: RowFn, x32: &[f32], dy32: &[f32], cols: usize) {
    let x: Vec<E> = x32.iter().map(|&v| E::from_f32(v)).collect();
    let dy: Vec<E> = dy32.iter().map(|&v| E::from_f32(v)).collect();
    let wide = |v: &[E]| v.iter().map(|e| e.to_f32()).collect::<Vec<f32>>();
    let mut y = vec![E::default(); x.len()];
    f.forward(&x, cols, &mut y);
    let want: Vec<E> = run(f, &wide(&x), cols).into_iter().map(E::from_f32).collect();
    assert_eq!(y, want, "{f} {:?} forward, cols {cols}", E::DTYPE);
    let mut xy = x.clone();
    f.forward_inplace(&mut xy, cols);
    assert_eq!(xy, want, "{f} {:?} in place", E::DTYPE);
    let mut dx = vec![E::default(); x.len()];
    f.backward(&y, &dy, cols, &mut dx);
    let want: Vec<E> = run_backward(f, &wide(&y), &wide(&dy), cols)
        .into_iter()
        .map(E::from_f32)
        .collect();
    assert_eq!(dx, want, "{f} {:?} backward, cols {cols}", E::DTYPE);
    let mut dy_dx = dy.clone();
    f.backward_inplace(&y, &mut dy_dx, cols);
    assert_eq!(dy_dx, want, "{f} {:?} backward in place", E::DTYPE);
}

#[test]
fn names_parse() {
    for f in RowFn::ALL {
        assert_eq!(f.name().parse::<RowFn>(), Ok(f));
    }
    assert_eq!("LOG_SOFTMAX".parse::<RowFn>(), Ok(RowFn::LogSoftmax));
    let err = "sotfmax".parse::<RowFn>().unwrap_err().to_string();
    assert!(err.contains("softmax, log_softmax, softmin"), "{err}");
}
