//! The `actkern` binary, run on temporary files: results equal the library's, `.npy` files are
//! read and written as numpy does, and every bad input is a one-line error, exit status 2, with
//! nothing written and the input untouched. `bf16` and `f16` files give, bit for bit, the `f32`
//! computation on the widened values rounded with half's `from_f32`.

use actkern::half::{bf16, f16};
use actkern::{ACTIVATIONS, Activation, Apply, Element, Fast};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_actkern");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// The binary's chunk: 2^20 elements (`cli/src/apply.rs`).
const CHUNK: usize = 1 << 20;

fn actkern(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("ACTKERN_BACKEND")
        .output()
        .expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(out.status.success(), "status {:?}, stderr: {}", out.status, stderr(out));
    // Not a terminal: no progress bar, no chatter.
    assert_eq!(stderr(out), "", "stderr must stay silent on success");
}

fn p(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn to_f32s(b: &[u8]) -> Vec<f32> {
    assert_eq!(b.len() % 4, 0);
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Offset of the data in a `.npy` file (read from its length field, nothing else).
fn npy_data_offset(b: &[u8]) -> usize {
    assert_eq!(&b[..6], b"\x93NUMPY");
    if b[6] == 1 {
        10 + usize::from(u16::from_le_bytes([b[8], b[9]]))
    } else {
        12 + u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize
    }
}

fn npy_data(b: &[u8]) -> Vec<f32> {
    to_f32s(&b[npy_data_offset(b)..])
}

/// Little-endian bytes of 16-bit elements (`bf16` or `f16`).
fn le16<E: Element>(v: &[E]) -> Vec<u8> {
    v.iter()
        .flat_map(|&x| bytemuck::cast::<E, u16>(x).to_le_bytes())
        .collect()
}

/// 16-bit elements from little-endian bytes.
fn from_le16<E: Element>(b: &[u8]) -> Vec<E> {
    assert_eq!(b.len() % 2, 0, "a whole number of 16-bit elements");
    b.chunks_exact(2)
        .map(|c| bytemuck::cast::<u16, E>(u16::from_le_bytes([c[0], c[1]])))
        .collect()
}

/// The values, widened exactly to `f32`.
fn widen<E: Element>(x: &[E]) -> Vec<f32> {
    x.iter().map(|v| v.to_f32()).collect()
}

/// `f32` results rounded to a 16-bit type by `round` (`f16::from_f32` or `bf16::from_f32`).
fn rounded<E>(y: &[f32], round: fn(f32) -> E) -> Vec<E> {
    y.iter().map(|&v| round(v)).collect()
}

#[track_caller]
fn assert_same_bits16<E: Element>(got: &[E], want: &[E], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let bits = |v: E| bytemuck::cast::<E, u16>(v);
    if let Some(i) = (0..got.len()).find(|&i| bits(got[i]) != bits(want[i])) {
        panic!(
            "{what}: element {i}: got {} ({:#06x}) want {} ({:#06x})",
            got[i].to_f32(),
            bits(got[i]),
            want[i].to_f32(),
            bits(want[i])
        );
    }
}

/// A `.npy` file with this header dict (padded as numpy pads) and these data bytes.
fn npy_with(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut text = dict.to_string();
    while !(10 + text.len() + 1).is_multiple_of(64) {
        text.push(' ');
    }
    text.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Inputs that reach every branch: specials, kinks, a sweep, and a length with a tail.
fn inputs(n: usize) -> Vec<f32> {
    let specials = [
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        1e-40,
        -1e-40,
        f32::MAX,
        f32::MIN,
        -3.0,
        3.0,
        6.0,
        -1.0,
        1.0,
        0.5,
        -0.5,
        20.0,
        -20.0,
    ];
    (0..n)
        .map(|i| {
            specials
                .get(i)
                .copied()
                .unwrap_or_else(|| -12.0 + 24.0 * ((i as f32 * 0.618_034) % 1.0))
        })
        .collect()
}

#[track_caller]
fn assert_same_bits(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    if let Some(i) = (0..got.len()).find(|&i| got[i].to_bits() != want[i].to_bits()) {
        panic!("{what}: element {i}: got {} want {}", got[i], want[i]);
    }
}

/// Files in `dir` other than those named: leftovers such as temporary files.
fn leftovers(dir: &Path, expected: &[&Path]) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| !expected.iter().any(|e| e == path))
        .collect()
}

#[test]
fn forward_and_derivative_match_the_library_for_every_activation() {
    let dir = TempDir::new().unwrap();
    let x = inputs(10_007);
    let input = dir.path().join("x.f32");
    fs::write(&input, to_bytes(&x)).unwrap();
    let output = dir.path().join("y.f32");
    for info in ACTIVATIONS {
        for act in info.example_instances() {
            let spec = act.to_string();
            let mut want = vec![0.0; x.len()];
            act.forward(&x, &mut want);
            assert_ok(&actkern(&["apply", &spec, p(&input), p(&output)]));
            assert_same_bits(&to_f32s(&fs::read(&output).unwrap()), &want, &spec);

            act.derivative(&x, &mut want);
            assert_ok(&actkern(&["apply", &spec, p(&input), p(&output), "--derivative"]));
            assert_same_bits(
                &to_f32s(&fs::read(&output).unwrap()),
                &want,
                &format!("{spec} derivative"),
            );
        }
    }
    assert_eq!(fs::read(&input).unwrap(), to_bytes(&x), "INPUT untouched");
}

/// `--fast` runs the fast tier: the bits of the library's `Fast(act)` for forward, derivative
/// and backward, which differ from the accurate tier's where the activation has a fast tier.
#[test]
fn fast_flag_runs_the_fast_tier() {
    let dir = TempDir::new().unwrap();
    let x = inputs(10_007);
    let dy: Vec<f32> = x.iter().map(|v| v * 0.25 - 1.0).collect();
    let (input, gradient, output) = (
        dir.path().join("x.f32"),
        dir.path().join("dy.f32"),
        dir.path().join("y.f32"),
    );
    fs::write(&input, to_bytes(&x)).unwrap();
    fs::write(&gradient, to_bytes(&dy)).unwrap();
    for spec in ["sigmoid", "silu", "gelu", "gelu(approximate=tanh)", "tanh", "relu"] {
        let act: Activation = spec.parse().unwrap();
        let (mut fast, mut accurate) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        Fast(act).forward(&x, &mut fast);
        act.forward(&x, &mut accurate);
        assert_ok(&actkern(&["apply", spec, p(&input), p(&output), "--fast"]));
        let got = to_f32s(&fs::read(&output).unwrap());
        assert_same_bits(&got, &fast, &format!("{spec} --fast"));
        assert_eq!(
            got.iter().zip(&accurate).any(|(a, b)| a.to_bits() != b.to_bits()),
            act.info().fast_tier,
            "{spec}: --fast changes the bits exactly when there is a fast tier"
        );

        Fast(act).derivative(&x, &mut fast);
        assert_ok(&actkern(&[
            "apply",
            spec,
            p(&input),
            p(&output),
            "--fast",
            "--derivative",
        ]));
        assert_same_bits(
            &to_f32s(&fs::read(&output).unwrap()),
            &fast,
            &format!("{spec} --fast --derivative"),
        );

        Fast(act).backward(&x, &dy, &mut fast);
        assert_ok(&actkern(&[
            "apply",
            spec,
            p(&input),
            p(&output),
            "--fast",
            "--backward",
            p(&gradient),
        ]));
        assert_same_bits(
            &to_f32s(&fs::read(&output).unwrap()),
            &fast,
            &format!("{spec} --fast --backward"),
        );
    }
    let run = actkern(&[
        "bench",
        "--sizes",
        "1000",
        "-a",
        "silu",
        "--min-time-ms",
        "2",
        "--json",
        "--fast",
    ]);
    assert_ok(&run);
    assert!(stdout(&run).contains("\"tier\": \"fast\""), "{}", stdout(&run));
    let run = actkern(&["bench", "--sizes", "1000", "-a", "silu", "--min-time-ms", "2"]);
    assert!(stdout(&run).contains("accurate tier"), "{}", stdout(&run));
}

#[test]
fn backward_and_backward_from_output_match_the_library() {
    let dir = TempDir::new().unwrap();
    let x = inputs(5_003);
    let dy: Vec<f32> = (0..x.len()).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
    let (xf, dyf, out) = (
        dir.path().join("x.f32"),
        dir.path().join("dy.bin"),
        dir.path().join("dx.raw"),
    );
    fs::write(&xf, to_bytes(&x)).unwrap();
    fs::write(&dyf, to_bytes(&dy)).unwrap();
    for info in ACTIVATIONS {
        let act = info.default_instance();
        let spec = act.to_string();
        let mut want = vec![0.0; x.len()];
        act.backward(&x, &dy, &mut want);
        assert_ok(&actkern(&["apply", &spec, p(&xf), p(&out), "--backward", p(&dyf)]));
        assert_same_bits(&to_f32s(&fs::read(&out).unwrap()), &want, &spec);
        fs::remove_file(&out).unwrap();

        // From the output: INPUT holds y = f(x).
        let mut y = vec![0.0; x.len()];
        act.forward(&x, &mut y);
        let yf = dir.path().join("y.f32");
        fs::write(&yf, to_bytes(&y)).unwrap();
        let args = ["apply", &spec, p(&yf), p(&out), "--backward-from-output", p(&dyf)];
        if act.has_backward_from_output() {
            act.backward_from_output(&y, &dy, &mut want).unwrap();
            assert_ok(&actkern(&args));
            assert_same_bits(&to_f32s(&fs::read(&out).unwrap()), &want, &spec);
            fs::remove_file(&out).unwrap();
        } else {
            let run = actkern(&args);
            assert_eq!(run.status.code(), Some(2), "{spec}");
            assert!(stderr(&run).contains("has no backward from the output"));
            assert!(!out.exists());
        }
    }
}

/// The `.npy` fixtures written by numpy (tests/data/make_fixtures.py).
const NPY_FIXTURES: &[&str] = &[
    "c_2x3x4.npy",
    "fortran_3x5.npy",
    "scalar.npy",
    "empty_0x3.npy",
    "vec_1000.npy",
    "v2_4x4.npy",
];

#[test]
fn numpy_fixtures_are_read_and_written_as_numpy_writes_them() {
    let dir = TempDir::new().unwrap();
    let act: Activation = "elu(alpha=0.5)".parse().unwrap();
    for name in NPY_FIXTURES {
        let input = Path::new(DATA).join(name);
        let bytes = fs::read(&input).unwrap();
        let x = npy_data(&bytes);
        let out = dir.path().join(name);
        assert_ok(&actkern(&["apply", "elu(alpha=0.5)", p(&input), p(&out)]));
        let got = fs::read(&out).unwrap();
        let mut want = vec![0.0; x.len()];
        act.forward(&x, &mut want);
        assert_same_bits(&npy_data(&got), &want, name);
        let header = &got[..npy_data_offset(&got)];
        if bytes[6] == 1 {
            // numpy wrote a version 1.0 header; ours must be the same bytes.
            assert_eq!(header, &bytes[..npy_data_offset(&bytes)], "{name}");
        } else {
            // Forced to version 2.0 by the fixture script; np.save would write 1.0.
            assert_eq!(&header[6..8], b"\x01\x00");
            assert!(String::from_utf8_lossy(header).contains("'shape': (4, 4)"));
        }
        assert_eq!(header.len() % 64, 0, "{name}: data aligned as numpy aligns it");
    }
}

/// The float16 `.npy` fixtures written by numpy, each with a gradient of its shape and order.
const F16_FIXTURES: &[&str] = &["f16_2x3x4.npy", "f16_fortran_3x5.npy"];
const F16_GRADIENTS: &[&str] = &["dy_f16_2x3x4.npy", "dy_f16_fortran_3x5.npy"];

/// Checks the outputs with numpy itself, when python3 and numpy are installed.
#[test]
fn numpy_loads_the_outputs() {
    let have_numpy = Command::new("python3")
        .args(["-c", "import numpy"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have_numpy {
        eprintln!("SKIPPED numpy_loads_the_outputs: python3 with numpy is not available");
        return;
    }
    let dir = TempDir::new().unwrap();
    let act: Activation = "tanh".parse().unwrap();
    let mut checks = String::new();
    for name in NPY_FIXTURES {
        let input = Path::new(DATA).join(name);
        let x = npy_data(&fs::read(&input).unwrap());
        let mut want = vec![0.0; x.len()];
        act.forward(&x, &mut want);
        let out = dir.path().join(name);
        let expected = dir.path().join(format!("{name}.expected.f32"));
        fs::write(&expected, to_bytes(&want)).unwrap();
        assert_ok(&actkern(&["apply", "tanh", p(&input), p(&out)]));
        checks.push_str(&format!("check({:?}, {:?}, {:?})\n", p(&input), p(&out), p(&expected)));
    }
    // float16 files stay float16.
    for name in F16_FIXTURES {
        let input = Path::new(DATA).join(name);
        let bytes = fs::read(&input).unwrap();
        let x: Vec<f16> = from_le16(&bytes[npy_data_offset(&bytes)..]);
        let mut want = vec![0.0; x.len()];
        act.forward(&widen(&x), &mut want);
        let out = dir.path().join(name);
        let expected = dir.path().join(format!("{name}.expected.f16"));
        fs::write(&expected, le16(&rounded(&want, f16::from_f32))).unwrap();
        assert_ok(&actkern(&["apply", "tanh", p(&input), p(&out)]));
        checks.push_str(&format!("check({:?}, {:?}, {:?})\n", p(&input), p(&out), p(&expected)));
    }
    // Also a raw input written as .npy: a 1-d array.
    let raw = dir.path().join("raw.f32");
    let x = inputs(77);
    fs::write(&raw, to_bytes(&x)).unwrap();
    let out = dir.path().join("from_raw.npy");
    assert_ok(&actkern(&["apply", "relu", p(&raw), p(&out)]));
    // And raw f16 written as .npy: '<f2', as np.save writes it.
    let raw16 = dir.path().join("raw16.bin");
    fs::write(&raw16, le16(&rounded(&x, f16::from_f32))).unwrap();
    let out16 = dir.path().join("from_raw16.npy");
    assert_ok(&actkern(&["apply", "relu", p(&raw16), p(&out16), "--dtype", "f16"]));
    let script = format!(
        r#"
import io, numpy as np
def check(inp, out, expected):
    a, b = np.load(inp), np.load(out)
    assert b.dtype == a.dtype and b.dtype in (np.dtype('<f4'), np.dtype('<f2')), b.dtype
    assert b.shape == a.shape, (a.shape, b.shape)
    assert b.flags['F_CONTIGUOUS'] == a.flags['F_CONTIGUOUS'] or b.ndim < 2
    assert b.flags['C_CONTIGUOUS'] == a.flags['C_CONTIGUOUS'] or b.ndim < 2
    want = np.fromfile(expected, dtype=a.dtype)
    bits = '<u%d' % a.dtype.itemsize
    assert np.array_equal(b.ravel(order='K').view(bits), want.view(bits))
    buf = io.BytesIO(); np.save(buf, b)
    assert buf.getvalue() == open(out, 'rb').read(), out + ': not the bytes np.save writes'
{checks}
r = np.load({out:?})
assert r.shape == (77,) and r.dtype == np.dtype('<f4')
assert np.array_equal(r, np.maximum(np.fromfile({raw:?}, dtype='<f4'), 0), equal_nan=True)
r = np.load({out16:?})
assert r.shape == (77,) and r.dtype == np.dtype('<f2')
assert np.array_equal(r, np.maximum(np.fromfile({raw16:?}, dtype='<f2'), 0), equal_nan=True)
buf = io.BytesIO(); np.save(buf, r)
assert buf.getvalue() == open({out16:?}, 'rb').read()
print('ok')
"#,
        out = p(&out),
        raw = p(&raw),
        out16 = p(&out16),
        raw16 = p(&raw16),
    );
    let run = Command::new("python3").args(["-c", &script]).output().unwrap();
    assert!(
        run.status.success() && stdout(&run).trim() == "ok",
        "{}{}",
        stdout(&run),
        stderr(&run)
    );
}

#[test]
fn backward_with_npy_gradients_in_both_orders() {
    let dir = TempDir::new().unwrap();
    let act = Activation::all()[0];
    let spec = act.to_string();
    for (x_name, dy_name) in [
        ("c_2x3x4.npy", "dy_2x3x4.npy"),
        ("fortran_3x5.npy", "dy_fortran_3x5.npy"),
    ] {
        let (xp, dyp) = (Path::new(DATA).join(x_name), Path::new(DATA).join(dy_name));
        let x = npy_data(&fs::read(&xp).unwrap());
        let dy = npy_data(&fs::read(&dyp).unwrap());
        let out = dir.path().join("dx.npy");
        assert_ok(&actkern(&["apply", &spec, p(&xp), p(&out), "--backward", p(&dyp)]));
        let mut want = vec![0.0; x.len()];
        act.backward(&x, &dy, &mut want);
        let got = fs::read(&out).unwrap();
        assert_same_bits(&npy_data(&got), &want, x_name);
        let x_bytes = fs::read(&xp).unwrap();
        assert_eq!(&got[..npy_data_offset(&got)], &x_bytes[..npy_data_offset(&x_bytes)]);
    }
}

#[test]
fn a_file_several_chunks_long_streams_correctly() {
    let dir = TempDir::new().unwrap();
    let n = 4 * CHUNK + CHUNK / 2 + 123;
    let x = inputs(n);
    let dy: Vec<f32> = (0..n).map(|i| ((i % 1000) as f32 - 500.0) / 250.0).collect();
    let (xf, dyf) = (dir.path().join("x.npy"), dir.path().join("dy.f32"));
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n},), }}");
    fs::write(&xf, npy_with(&header, &to_bytes(&x))).unwrap();
    fs::write(&dyf, to_bytes(&dy)).unwrap();
    let act: Activation = "tanh".parse().unwrap();

    let out = dir.path().join("y.npy");
    assert_ok(&actkern(&["apply", "tanh", p(&xf), p(&out)]));
    let mut want = vec![0.0; n];
    act.forward(&x, &mut want);
    assert_same_bits(&npy_data(&fs::read(&out).unwrap()), &want, "forward");

    // Raw output from .npy input: the data alone.
    let out = dir.path().join("dx.f32");
    assert_ok(&actkern(&["apply", "tanh", p(&xf), p(&out), "--backward", p(&dyf)]));
    act.backward(&x, &dy, &mut want);
    assert_same_bits(&to_f32s(&fs::read(&out).unwrap()), &want, "backward");

    // One thread gives the same bits; so does the scalar backend, up to the sign of a NaN
    // (the library's backends may differ there).
    let out1 = dir.path().join("dx1.f32");
    let args = ["apply", "tanh", p(&xf), p(&out1), "--backward", p(&dyf)];
    assert_ok(&actkern(&[&args[..], &["--threads", "1"]].concat()));
    let parallel = to_f32s(&fs::read(&out).unwrap());
    assert_same_bits(&to_f32s(&fs::read(&out1).unwrap()), &parallel, "--threads 1");
    assert_ok(&actkern(
        &[&args[..], &["--threads", "1", "--backend", "scalar"]].concat(),
    ));
    let scalar = to_f32s(&fs::read(&out1).unwrap());
    assert!(
        scalar
            .iter()
            .zip(&parallel)
            .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
    );
    assert_eq!(
        leftovers(dir.path(), &[&xf, &dyf, &out, &out1, &dir.path().join("y.npy")]),
        Vec::<PathBuf>::new()
    );
}

#[test]
fn in_place_replaces_the_input_and_is_required_for_it() {
    let dir = TempDir::new().unwrap();
    let x = inputs(3000);
    let file = dir.path().join("data.f32");
    fs::write(&file, to_bytes(&x)).unwrap();
    let mut want = vec![0.0; x.len()];
    Activation::all()[0].forward(&x, &mut want);
    let spec = Activation::all()[0].to_string();

    // OUTPUT == INPUT, spelt differently, a symbolic link and a hard link: all need --in-place.
    let spelt = dir.path().join(".").join("data.f32");
    let link = dir.path().join("link.f32");
    let hard = dir.path().join("hard.f32");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&file, &link).unwrap();
    fs::hard_link(&file, &hard).unwrap();
    for out in [&file, &spelt, &link, &hard] {
        if !out.exists() {
            continue;
        }
        let run = actkern(&["apply", &spec, p(&file), p(out)]);
        assert_eq!(run.status.code(), Some(2), "{}", out.display());
        assert!(stderr(&run).contains("--in-place"), "{}", stderr(&run));
        assert_eq!(fs::read(&file).unwrap(), to_bytes(&x));
    }
    // --in-place with another OUTPUT is a mistake.
    let other = dir.path().join("other.f32");
    let run = actkern(&["apply", &spec, p(&file), p(&other), "--in-place"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(!other.exists());

    fs::remove_file(&hard).unwrap();
    assert_ok(&actkern(&["apply", &spec, p(&file), "--in-place"]));
    assert_same_bits(&to_f32s(&fs::read(&file).unwrap()), &want, "in place");
    // And again, naming OUTPUT explicitly (applies f twice).
    assert_ok(&actkern(&["apply", &spec, p(&file), p(&file), "--in-place"]));
    let once = want.clone();
    Activation::all()[0].forward(&once, &mut want);
    assert_same_bits(&to_f32s(&fs::read(&file).unwrap()), &want, "in place twice");
    let mut expected: Vec<&Path> = vec![&file];
    if link.exists() {
        expected.push(&link);
    }
    assert_eq!(leftovers(dir.path(), &expected), Vec::<PathBuf>::new());
}

#[cfg(unix)]
#[test]
fn replacing_an_output_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("x.f32");
    fs::write(&input, to_bytes(&inputs(100))).unwrap();
    let out = dir.path().join("y.f32");
    fs::write(&out, b"old").unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o640)).unwrap();
    assert_ok(&actkern(&["apply", "relu", p(&input), p(&out)]));
    assert_eq!(fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(fs::metadata(&out).unwrap().len(), 400);
}

/// One bad-input case: files to create, arguments, and words the message must contain.
struct Bad {
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    args: Vec<String>,
    words: Vec<&'static str>,
}

fn bad_cases() -> Vec<Bad> {
    let fixture = |name: &str| fs::read(Path::new(DATA).join(name)).unwrap();
    let c = fixture("c_2x3x4.npy");
    let data24 = to_bytes(&inputs(24));
    let dict = |shape: &str| format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut cases = vec![
        Bad {
            name: "missing INPUT",
            files: vec![],
            args: s(&["apply", "relu", "nope.f32", "out.f32"]),
            words: vec!["cannot open INPUT", "nope.f32"],
        },
        Bad {
            name: "missing DY",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "relu", "x.f32", "out.f32", "--backward", "nope.f32"]),
            words: vec!["cannot open DY"],
        },
        Bad {
            name: "raw size not a multiple of 4",
            files: vec![("x.f32", vec![0; 10])],
            args: s(&["apply", "relu", "x.f32", "out.f32"]),
            words: vec!["10 bytes", "multiple of 4"],
        },
        Bad {
            name: "raw DY size not a multiple of 4",
            files: vec![("x.f32", vec![0; 8]), ("dy.f32", vec![0; 7])],
            args: s(&["apply", "relu", "x.f32", "out.f32", "--backward", "dy.f32"]),
            words: vec!["DY", "multiple of 4"],
        },
        Bad {
            name: "empty .npy",
            files: vec![("x.npy", vec![])],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["truncated .npy header"],
        },
        Bad {
            name: ".npy cut inside the length field",
            files: vec![("x.npy", c[..9].to_vec())],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["truncated .npy header"],
        },
        Bad {
            name: ".npy cut inside the header",
            files: vec![("x.npy", c[..40].to_vec())],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["truncated .npy header", "needs 128 bytes", "only 40"],
        },
        Bad {
            name: "not .npy at all",
            files: vec![("x.npy", b"hello, world: not numpy".to_vec())],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["not a .npy file"],
        },
        Bad {
            name: "unsupported .npy version",
            files: vec![("x.npy", [&b"\x93NUMPY\x09\x00"[..], &c[8..]].concat())],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["version 9.0"],
        },
        Bad {
            name: "malformed header: missing key",
            files: vec![("x.npy", npy_with("{'descr': '<f4', 'shape': (24,), }", &data24))],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["malformed .npy header", "fortran_order"],
        },
        Bad {
            name: "malformed header: not a dict",
            files: vec![("x.npy", npy_with("[1, 2, 3]", &data24))],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["malformed .npy header"],
        },
        Bad {
            name: "malformed header: shape not a tuple",
            files: vec![("x.npy", npy_with(&dict("24"), &data24))],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["malformed .npy header", "tuple"],
        },
        Bad {
            name: "malformed header: absurd length field",
            files: vec![("x.npy", [&b"\x93NUMPY\x02\x00\xff\xff\xff\x7f"[..], &c[10..]].concat())],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["malformed .npy header", "length"],
        },
        Bad {
            name: "shape product overflows",
            files: vec![("x.npy", npy_with(&dict("(4294967296, 4294967296)"), &data24))],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["(4294967296, 4294967296)", "64-bit"],
        },
        Bad {
            name: "shape bytes overflow",
            files: vec![("x.npy", npy_with(&dict("(4611686018427387904,)"), &data24))],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["64-bit"],
        },
        Bad {
            name: "shape larger than the file",
            files: vec![("x.npy", npy_with(&dict("(17179869184,)"), &data24))],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["(17179869184,)", "68719476736 bytes", "96"],
        },
        Bad {
            name: "shape smaller than the file",
            files: vec![("x.npy", npy_with(&dict("(5, 4)"), &data24))],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["(5, 4)", "80 bytes", "96"],
        },
        Bad {
            name: "DY with another shape",
            files: vec![("x.npy", c.clone()), ("dy.npy", npy_with(&dict("(4, 3, 2)"), &data24))],
            args: s(&["apply", "relu", "x.npy", "out.npy", "--backward", "dy.npy"]),
            words: vec!["DY", "(4, 3, 2)", "(2, 3, 4)"],
        },
        Bad {
            name: "DY with another order",
            files: vec![
                ("x.npy", c.clone()),
                (
                    "dy.npy",
                    npy_with("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }", &data24),
                ),
            ],
            args: s(&["apply", "relu", "x.npy", "out.npy", "--backward-from-output", "dy.npy"]),
            words: vec!["DY", "Fortran order"],
        },
        Bad {
            name: "raw DY with another length",
            files: vec![("x.f32", data24.clone()), ("dy.f32", data24[..92].to_vec())],
            args: s(&["apply", "relu", "x.f32", "out.f32", "--backward", "dy.f32"]),
            words: vec!["DY", "23 raw elements", "24 raw elements"],
        },
        Bad {
            name: "unknown activation",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "tanhh", "x.f32", "out.f32"]),
            words: vec!["unknown activation `tanhh`", "did you mean `tanh`", "relu6", "sigmoid"],
        },
        Bad {
            name: "bad parameter value",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "elu(alpha=nan)", "x.f32", "out.f32"]),
            words: vec!["alpha", "finite"],
        },
        Bad {
            name: "unknown parameter",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "leaky_relu(slope=0.2)", "x.f32", "out.f32"]),
            words: vec!["slope", "negative_slope"],
        },
        Bad {
            name: "inconsistent parameters",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "hardtanh(min_val=2, max_val=1)", "x.f32", "out.f32"]),
            words: vec!["hardtanh"],
        },
        Bad {
            name: "unknown input extension",
            files: vec![("x.dat", data24.clone())],
            args: s(&["apply", "relu", "x.dat", "out.f32"]),
            words: vec!["INPUT `x.dat`", "--input-format npy|raw"],
        },
        Bad {
            name: "unknown output extension",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "relu", "x.f32", "out.csv"]),
            words: vec!["OUTPUT `out.csv`", "--format npy|raw"],
        },
        Bad {
            name: "standard input without a format",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "relu", "-", "out.f32"]),
            words: vec!["standard input", "--input-format"],
        },
        Bad {
            name: "INPUT and DY both standard input",
            files: vec![],
            args: s(&[
                "apply",
                "relu",
                "-",
                "out.f32",
                "--backward",
                "-",
                "--input-format",
                "raw",
            ]),
            words: vec!["standard input"],
        },
        Bad {
            name: "backward from the output that the output cannot give, in CLI words",
            files: vec![("x.f32", data24.clone()), ("dy.f32", data24.clone())],
            args: s(&[
                "apply",
                "hardswish",
                "x.f32",
                "out.f32",
                "--backward-from-output",
                "dy.f32",
            ]),
            words: vec!["hardswish", "--backward DY"],
        },
        Bad {
            name: "unknown backend",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "relu", "x.f32", "out.f32", "--backend", "sse9"]),
            words: vec!["unknown backend `sse9`", "avx2"],
        },
        Bad {
            name: "OUTPUT is INPUT",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "relu", "x.f32", "x.f32"]),
            words: vec!["--in-place"],
        },
        Bad {
            name: "OUTPUT is DY",
            files: vec![("x.f32", data24.clone()), ("dy.f32", data24.clone())],
            args: s(&["apply", "relu", "x.f32", "dy.f32", "--backward", "dy.f32"]),
            words: vec!["OUTPUT is the same file as DY", "--in-place"],
        },
        Bad {
            name: "OUTPUT in a missing directory",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "relu", "x.f32", "no/such/dir/out.f32"]),
            words: vec!["OUTPUT", "no/such/dir"],
        },
        Bad {
            name: "OUTPUT is a directory",
            files: vec![("x.f32", data24.clone()), ("sub/keep", vec![])],
            args: s(&["apply", "relu", "x.f32", "sub"]),
            words: vec!["directory"],
        },
    ];
    let f16_npy = fixture("f16_2x3x4.npy");
    let data24_16 = vec![0u8; 48];
    cases.extend([
        Bad {
            name: "--dtype other than the .npy header's (f16)",
            files: vec![("x.npy", f16_npy.clone())],
            args: s(&["apply", "relu", "x.npy", "out.npy", "--dtype", "bf16"]),
            words: vec!["--dtype bf16", "INPUT `x.npy`", "f16", "'<f2'"],
        },
        Bad {
            name: "--dtype other than the .npy header's (f32)",
            files: vec![("x.npy", c.clone())],
            args: s(&["apply", "relu", "x.npy", "out.f32", "--dtype", "f16"]),
            words: vec!["--dtype f16", "f32", "'<f4'"],
        },
        Bad {
            name: ".npy DY of another dtype than INPUT's .npy",
            files: vec![("x.npy", f16_npy.clone()), ("dy.npy", c.clone())],
            args: s(&["apply", "relu", "x.npy", "out.npy", "--backward", "dy.npy"]),
            words: vec!["DY `dy.npy` holds f32", "INPUT `x.npy` holds f16", "element type"],
        },
        Bad {
            name: ".npy DY of another dtype than INPUT's raw --dtype",
            files: vec![("x.bin", data24_16.clone()), ("dy.npy", c.clone())],
            args: s(&[
                "apply",
                "relu",
                "x.bin",
                "out.f32",
                "--dtype",
                "bf16",
                "--backward-from-output",
                "dy.npy",
            ]),
            words: vec!["DY `dy.npy` holds f32", "holds bf16", "--dtype"],
        },
        Bad {
            name: "bf16 to a .npy OUTPUT",
            files: vec![("x.bin", data24_16.clone())],
            args: s(&["apply", "relu", "x.bin", "out.npy", "--dtype", "bf16"]),
            words: vec![".npy OUTPUT cannot hold bf16", "numpy", "raw OUTPUT"],
        },
        Bad {
            name: "bf16 to --format npy",
            files: vec![("x.bin", data24_16.clone())],
            args: s(&[
                "apply", "relu", "x.bin", "out.f32", "--dtype", "bf16", "--format", "npy",
            ]),
            words: vec![".npy OUTPUT cannot hold bf16", "--format raw"],
        },
        Bad {
            name: "raw bf16 size not a multiple of 2",
            files: vec![("x.bin", vec![0; 7])],
            args: s(&["apply", "relu", "x.bin", "out.f32", "--dtype", "bf16"]),
            words: vec!["7 bytes", "multiple of 2", "raw bf16"],
        },
        Bad {
            name: "raw f16 DY (INPUT's type) size not a multiple of 2",
            files: vec![("x.npy", f16_npy.clone()), ("dy.bin", vec![0; 47])],
            args: s(&["apply", "relu", "x.npy", "out.npy", "--backward", "dy.bin"]),
            words: vec!["DY", "47 bytes", "multiple of 2", "raw f16"],
        },
        Bad {
            name: "raw f16 DY with another length than INPUT's .npy",
            files: vec![("x.npy", f16_npy.clone()), ("dy.bin", vec![0; 46])],
            args: s(&["apply", "relu", "x.npy", "out.npy", "--backward", "dy.bin"]),
            words: vec!["DY", "23 raw elements", "(2, 3, 4)"],
        },
    ]);
    for (file, dtype) in [
        ("f64.npy", "'<f8'"),
        ("big_endian_f4.npy", "'>f4'"),
        ("big_endian_f2.npy", "'>f2'"),
        ("u8.npy", "'|u1'"),
        ("i32.npy", "'<i4'"),
    ] {
        cases.push(Bad {
            name: "unsupported dtype",
            files: vec![("x.npy", fixture(file))],
            args: s(&["apply", "relu", "x.npy", "out.npy"]),
            words: vec!["unsupported dtype", dtype, "'<f4'", "'<f2'"],
        });
        cases.push(Bad {
            name: "unsupported dtype in DY",
            files: vec![("x.npy", fixture("c_2x3x4.npy")), ("dy.npy", fixture(file))],
            args: s(&["apply", "relu", "x.npy", "out.npy", "--backward", "dy.npy"]),
            words: vec!["DY", "unsupported dtype", dtype],
        });
    }
    // Gated activations: the halves layout's shape rules.
    let gated_npy = |shape: &str, n: usize| npy_with(&dict(shape), &to_bytes(&inputs(n)));
    let fortran = npy_with(
        "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }",
        &to_bytes(&inputs(12)),
    );
    cases.extend([
        Bad {
            name: "gated: odd last dimension",
            files: vec![("x.npy", gated_npy("(2, 3)", 6))],
            args: s(&["apply", "swiglu", "x.npy", "out.npy"]),
            words: vec!["(2, 3)", "even", "not 3", "swiglu"],
        },
        Bad {
            name: "gated: 0-d array",
            files: vec![("x.npy", gated_npy("()", 1))],
            args: s(&["apply", "glu", "x.npy", "out.npy"]),
            words: vec!["0-d", "even last dimension"],
        },
        Bad {
            name: "gated: Fortran order",
            files: vec![("x.npy", fortran)],
            args: s(&["apply", "reglu", "x.npy", "out.npy"]),
            words: vec!["Fortran order", "C order"],
        },
        Bad {
            name: "gated: raw INPUT without --cols",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "swiglu", "x.f32", "out.f32"]),
            words: vec!["--cols N", ".npy"],
        },
        Bad {
            name: "gated: raw INPUT not whole rows of --cols",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "swiglu", "x.f32", "out.f32", "--cols", "5"]),
            words: vec!["24 elements", "2·cols = 10"],
        },
        Bad {
            name: "gated: --cols contradicting the .npy shape",
            files: vec![("x.npy", gated_npy("(2, 12)", 24))],
            args: s(&["apply", "swiglu", "x.npy", "out.npy", "--cols", "5"]),
            words: vec!["--cols 5", "(2, 12)", "cols = 6"],
        },
        Bad {
            name: "gated: --derivative",
            files: vec![("x.npy", gated_npy("(2, 12)", 24))],
            args: s(&["apply", "swiglu", "x.npy", "out.npy", "--derivative"]),
            words: vec!["--derivative", "--backward DY"],
        },
        Bad {
            name: "gated: --backward-from-output",
            files: vec![("x.npy", gated_npy("(2, 12)", 24)), ("dy.npy", gated_npy("(2, 6)", 12))],
            args: s(&["apply", "geglu", "x.npy", "out.npy", "--backward-from-output", "dy.npy"]),
            words: vec!["--backward-from-output", "--backward DY"],
        },
        Bad {
            name: "gated: DY with INPUT's shape instead of the output's",
            files: vec![
                ("x.npy", gated_npy("(2, 12)", 24)),
                ("dy.npy", gated_npy("(2, 12)", 24)),
            ],
            args: s(&["apply", "swiglu", "x.npy", "out.npy", "--backward", "dy.npy"]),
            words: vec!["DY", "(2, 12)", "(2, 6)"],
        },
        Bad {
            name: "gated: raw DY with the wrong length",
            files: vec![("x.f32", data24.clone()), ("dy.f32", data24.clone())],
            args: s(&[
                "apply",
                "swiglu",
                "x.f32",
                "out.f32",
                "--cols",
                "3",
                "--backward",
                "dy.f32",
            ]),
            words: vec!["DY", "24 raw elements", "12 elements"],
        },
        Bad {
            name: "gated: --in-place forward",
            files: vec![("x.npy", gated_npy("(2, 12)", 24))],
            args: s(&["apply", "swiglu", "x.npy", "--in-place"]),
            words: vec!["--in-place", "half as wide"],
        },
        Bad {
            name: "gated: bad parameter",
            files: vec![("x.npy", gated_npy("(2, 12)", 24))],
            args: s(&["apply", "geglu(approximate=erf)", "x.npy", "out.npy"]),
            words: vec!["erf", "tanh"],
        },
        Bad {
            name: "--cols with an element-wise activation",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "relu", "x.f32", "out.f32", "--cols", "4"]),
            words: vec!["--cols", "gated activation", "relu", "drop them"],
        },
        Bad {
            name: "gated: bf16 to .npy",
            files: vec![("x.bin", vec![0; 16])],
            args: s(&["apply", "swiglu", "x.bin", "out.npy", "--cols", "2", "--dtype", "bf16"]),
            words: vec!["bfloat16", "raw OUTPUT"],
        },
    ]);
    let fortran = npy_with("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }", &data24);
    cases.extend([
        Bad {
            name: "softmax of raw data without --cols",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "softmax", "x.f32", "out.f32"]),
            words: vec!["--cols", "raw INPUT"],
        },
        Bad {
            name: "softmax with ragged rows",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "log_softmax", "x.f32", "out.f32", "--cols", "5"]),
            words: vec!["24 elements", "--cols 5"],
        },
        Bad {
            name: "softmax --cols against the .npy shape",
            files: vec![("x.npy", c.clone())],
            args: s(&["apply", "softmax", "x.npy", "out.npy", "--cols", "3"]),
            words: vec!["--cols 3", "last dimension is 4"],
        },
        Bad {
            name: "softmax of a Fortran-order .npy",
            files: vec![("x.npy", fortran)],
            args: s(&["apply", "softmin", "x.npy", "out.npy"]),
            words: vec!["Fortran order", "C order"],
        },
        Bad {
            name: "softmax --derivative",
            files: vec![("x.npy", c.clone())],
            args: s(&["apply", "softmax", "x.npy", "out.npy", "--derivative"]),
            words: vec!["row function", "--backward-from-output"],
        },
        Bad {
            name: "softmax --backward from the input",
            files: vec![("x.npy", c.clone()), ("dy.npy", c.clone())],
            args: s(&["apply", "softmax", "x.npy", "out.npy", "--backward", "dy.npy"]),
            words: vec!["row function", "--backward-from-output"],
        },
        Bad {
            name: "--cols on an activation",
            files: vec![("x.f32", data24.clone())],
            args: s(&["apply", "relu", "x.f32", "out.f32", "--cols", "4"]),
            words: vec!["--cols", "row functions", "relu"],
        },
    ]);
    cases
}

/// `apply softmax|log_softmax|softmin` over the last dimension: the library's bits on .npy and
/// raw files, forward (also masked, also in place) and backward from the output; chunks hold
/// whole rows, including a row longer than a chunk.
#[test]
fn row_functions_match_the_library() {
    use actkern::{RowFn, Rows};
    let dir = TempDir::new().unwrap();
    for (rows, cols) in [(6usize, 37usize), (3 * (CHUNK / 1000) + 1, 1000), (2, CHUNK + 5)] {
        let n = rows * cols;
        let mut x = inputs(n)
            .into_iter()
            .map(|v| if v.is_nan() { 0.5 } else { v })
            .collect::<Vec<_>>();
        // A fully masked row.
        x[..cols].fill(f32::NEG_INFINITY);
        let dy: Vec<f32> = (0..n).map(|i| ((i % 1000) as f32 - 500.0) / 250.0).collect();
        let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
        let (xf, xr, dyf) = (
            dir.path().join("x.npy"),
            dir.path().join("x.f32"),
            dir.path().join("dy.npy"),
        );
        fs::write(&xf, npy_with(&header, &to_bytes(&x))).unwrap();
        fs::write(&xr, to_bytes(&x)).unwrap();
        fs::write(&dyf, npy_with(&header, &to_bytes(&dy))).unwrap();
        let cols_arg = cols.to_string();
        for f in RowFn::ALL {
            let mut want = vec![0.0; n];
            f.forward(&x, cols, &mut want);
            let out = dir.path().join("y.npy");
            assert_ok(&actkern(&["apply", f.name(), p(&xf), p(&out)]));
            assert_same_bits(&npy_data(&fs::read(&out).unwrap()), &want, f.name());
            let raw = dir.path().join("y.f32");
            assert_ok(&actkern(&["apply", f.name(), p(&xr), p(&raw), "--cols", &cols_arg]));
            assert_same_bits(&to_f32s(&fs::read(&raw).unwrap()), &want, f.name());
            // Backward from the output.
            let mut dx = vec![0.0; n];
            f.backward(&want, &dy, cols, &mut dx);
            let out_dx = dir.path().join("dx.npy");
            assert_ok(&actkern(&[
                "apply",
                f.name(),
                p(&out),
                p(&out_dx),
                "--backward-from-output",
                p(&dyf),
            ]));
            assert_same_bits(&npy_data(&fs::read(&out_dx).unwrap()), &dx, f.name());
            // Masked rows: zeros (log_softmax: -inf) instead of NaN, in place.
            let mut masked = vec![0.0; n];
            Rows::new(f).masked_rows_zero(true).forward(&x, cols, &mut masked);
            let copy = dir.path().join("m.npy");
            fs::copy(&xf, &copy).unwrap();
            assert_ok(&actkern(&[
                "apply",
                f.name(),
                p(&copy),
                "--in-place",
                "--masked-rows-zero",
            ]));
            assert_same_bits(&npy_data(&fs::read(&copy).unwrap()), &masked, f.name());
            if f != RowFn::Softmin {
                assert!(!masked[0].is_nan());
            }
        }
    }
}

#[test]
fn every_bad_input_is_one_line_exit_2_and_writes_nothing() {
    let cases = bad_cases();
    assert!(cases.len() >= 35);
    for case in cases {
        let dir = TempDir::new().unwrap();
        let mut created = Vec::new();
        for (name, bytes) in &case.files {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, bytes).unwrap();
            created.push(path);
        }
        // Once with no OUTPUT present, once with an OUTPUT that must survive unchanged.
        for existing_output in [false, true] {
            let out_names = ["out.f32", "out.npy"];
            if existing_output {
                for o in out_names {
                    fs::write(dir.path().join(o), b"previous").unwrap();
                }
            }
            let run = Command::new(BIN)
                .args(&case.args)
                .current_dir(dir.path())
                .env_remove("ACTKERN_BACKEND")
                .output()
                .unwrap();
            let err = stderr(&run);
            assert_eq!(run.status.code(), Some(2), "{}: {err}", case.name);
            assert_eq!(err.lines().count(), 1, "{}: one line: {err}", case.name);
            assert!(err.starts_with("actkern: error: "), "{}: {err}", case.name);
            for w in &case.words {
                assert!(err.contains(w), "{}: `{w}` missing from: {err}", case.name);
            }
            assert_eq!(stdout(&run), "");
            for (path, (_, bytes)) in created.iter().zip(&case.files) {
                assert_eq!(&fs::read(path).unwrap(), bytes, "{}: input changed", case.name);
            }
            let mut expected: Vec<PathBuf> = created.clone();
            if let Some(sub) = created.iter().find(|p| p.ends_with("sub/keep")) {
                expected.push(sub.parent().unwrap().to_path_buf());
            }
            for o in out_names {
                let path = dir.path().join(o);
                if existing_output {
                    assert_eq!(fs::read(&path).unwrap(), b"previous", "{}", case.name);
                    expected.push(path);
                }
            }
            let refs: Vec<&Path> = expected.iter().map(PathBuf::as_path).collect();
            assert_eq!(
                leftovers(dir.path(), &refs),
                Vec::<PathBuf>::new(),
                "{}: something was written",
                case.name
            );
        }
    }
}

#[test]
fn environment_backend_is_checked_too() {
    let dir = TempDir::new().unwrap();
    let x = dir.path().join("x.f32");
    fs::write(&x, to_bytes(&inputs(10))).unwrap();
    let out = dir.path().join("y.f32");
    let run = Command::new(BIN)
        .args(["apply", "relu", p(&x), p(&out)])
        .env("ACTKERN_BACKEND", "mmx")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("ACTKERN_BACKEND"), "{}", stderr(&run));
    assert!(!out.exists());
}

#[test]
fn streams_from_a_pipe() {
    let dir = TempDir::new().unwrap();
    let x = inputs(CHUNK + 4321);
    let out = dir.path().join("y.f32");
    let run = |data: Vec<u8>, extra: &[&str]| {
        let mut child = Command::new(BIN)
            .args(["apply", "sigmoid", "-", p(&out), "--input-format", "raw"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap();
        output
    };
    assert_ok(&run(to_bytes(&x), &[]));
    let mut want = vec![0.0; x.len()];
    Activation::all()
        .into_iter()
        .find(|a| a.name() == "sigmoid")
        .unwrap()
        .forward(&x, &mut want);
    assert_same_bits(&to_f32s(&fs::read(&out).unwrap()), &want, "stdin");
    fs::remove_file(&out).unwrap();

    // A stream whose length turns out not to be a multiple of 4: error, nothing written.
    let mut bytes = to_bytes(&x);
    bytes.push(7);
    let failed = run(bytes, &[]);
    assert_eq!(failed.status.code(), Some(2));
    assert!(stderr(&failed).contains("multiple of 4"), "{}", stderr(&failed));
    assert_eq!(leftovers(dir.path(), &[]), Vec::<PathBuf>::new());
}

/// Every entry under `dir`, with what a change would alter: its kind, a link's target, a
/// file's permissions, modification time and contents.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, String> {
    use std::hash::{Hash, Hasher};
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let kind = meta.file_type();
            let what = if kind.is_symlink() {
                format!("link -> {}", fs::read_link(&path).unwrap().display())
            } else if kind.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else if kind.is_file() {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                fs::read(&path).unwrap().hash(&mut h);
                format!(
                    "file {:?} {:?} {:x}",
                    meta.permissions(),
                    meta.modified().unwrap(),
                    h.finish()
                )
            } else {
                format!("{kind:?}")
            };
            out.insert(path, what);
        }
    }
    out
}

/// Asserts that between two snapshots only `changed` (created or rewritten) differs.
#[track_caller]
fn assert_only_changed(
    before: &std::collections::BTreeMap<PathBuf, String>,
    after: &std::collections::BTreeMap<PathBuf, String>,
    changed: &[&Path],
) {
    let keys: std::collections::BTreeSet<&PathBuf> = before.keys().chain(after.keys()).collect();
    for k in keys {
        if changed.contains(&k.as_path()) {
            continue;
        }
        assert_eq!(before.get(k), after.get(k), "`{}` changed", k.display());
    }
}

/// What `apply tanh` writes for `x`, as the bytes of a .npy or a raw file.
fn tanh_bytes(x: &[f32], npy: bool) -> Vec<u8> {
    let mut y = vec![0.0; x.len()];
    "tanh".parse::<Activation>().unwrap().forward(x, &mut y);
    if npy {
        npy_with(
            &format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", x.len()),
            &to_bytes(&y),
        )
    } else {
        to_bytes(&y)
    }
}

/// `--format` decides the output's format, else OUTPUT's extension; `--input-format` the
/// input's, else its extension.
#[test]
fn the_output_format_follows_the_flag_then_the_extension() {
    let dir = TempDir::new().unwrap();
    let x = inputs(1000 + 7);
    let npy_in = dir.path().join("in.npy");
    fs::write(
        &npy_in,
        npy_with(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1007,), }",
            &to_bytes(&x),
        ),
    )
    .unwrap();
    let raw_in = dir.path().join("in.f32");
    fs::write(&raw_in, to_bytes(&x)).unwrap();
    let txt_in = dir.path().join("in.txt");
    fs::write(&txt_in, to_bytes(&x)).unwrap();
    let d = |name: &str| dir.path().join(name);
    let cases: &[(&Path, &str, &[&str], bool)] = &[
        // (input, output, flags, npy output?)
        (&npy_in, "a.txt", &["--format", "raw"], false),
        (&npy_in, "b.f32", &[], false),
        (&npy_in, "c.npy", &[], true),
        (&raw_in, "d.npy", &[], true),
        (&raw_in, "e.txt", &["--format", "npy"], true),
        (&raw_in, "f.npy", &["--format", "raw"], false),
        (&npy_in, "g.bin", &["--format", "npy"], true),
        (&txt_in, "h.npy", &["--input-format", "raw"], true),
        (&npy_in, "i.raw", &["--input-format", "npy"], false),
    ];
    for (input, output, flags, npy) in cases {
        let out = d(output);
        let mut args = vec!["apply", "tanh", p(input), p(&out)];
        args.extend_from_slice(flags);
        assert_ok(&actkern(&args));
        assert_eq!(fs::read(&out).unwrap(), tanh_bytes(&x, *npy), "{output} {flags:?}");
    }
}

/// `-` is standard output (and standard input); the format of standard output is `--format`'s
/// or the input's.
#[test]
fn dash_is_standard_output_and_input() {
    let dir = TempDir::new().unwrap();
    let x = inputs(CHUNK + 999);
    let npy_in = dir.path().join("in.npy");
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", x.len());
    fs::write(&npy_in, npy_with(&header, &to_bytes(&x))).unwrap();
    let before = snapshot(dir.path());
    for (flags, npy) in [
        (&[][..], true),
        (&["--format", "raw"][..], false),
        (&["--format", "npy"][..], true),
    ] {
        let mut args = vec!["apply", "tanh", p(&npy_in), "-"];
        args.extend_from_slice(flags);
        let run = Command::new(BIN).args(&args).current_dir(dir.path()).output().unwrap();
        assert!(run.status.success(), "{}", stderr(&run));
        assert!(run.stdout == tanh_bytes(&x, npy), "{flags:?}: standard output");
    }
    assert_only_changed(&before, &snapshot(dir.path()), &[]);
    assert!(!dir.path().join("-").exists(), "a file named `-`");

    // Standard input to standard output, raw, through pipes.
    let mut child = Command::new(BIN)
        .args(["apply", "tanh", "-", "-", "--input-format", "raw"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = to_bytes(&x);
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let run = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(run.stdout == tanh_bytes(&x, false), "stdin to stdout");
}

/// An OUTPUT that is a FIFO is written as a stream for the process reading it, and stays a
/// FIFO; nothing else in the directory changes.
#[cfg(unix)]
#[test]
fn a_fifo_output_is_streamed_to_its_reader() {
    let dir = TempDir::new().unwrap();
    let x = inputs(2 * CHUNK + 5);
    let input = dir.path().join("in.npy");
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", x.len());
    fs::write(&input, npy_with(&header, &to_bytes(&x))).unwrap();
    let fifo = dir.path().join("out.pipe");
    if !Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED a_fifo_output_is_streamed_to_its_reader: mkfifo failed");
        return;
    }
    let before = snapshot(dir.path());
    // Another process reads the FIFO to its end.
    let reader = Command::new("cat").arg(&fifo).stdout(Stdio::piped()).spawn().unwrap();
    // Collected while the binary writes: a full pipe would stop `cat`, and then the binary.
    let read = std::thread::spawn(move || reader.wait_with_output().unwrap());
    let run = actkern(&["apply", "tanh", p(&input), p(&fifo)]);
    let read = read.join().unwrap();
    assert_ok(&run);
    // No extension: the input's format, .npy.
    assert!(read.stdout == tanh_bytes(&x, true), "what the reader got");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
        "still a FIFO"
    );
    assert_only_changed(&before, &snapshot(dir.path()), &[]);
}

/// A link to this process's standard output (as `/dev/stdout` is) is written through, never
/// replaced by a file: the data reaches the pipe and the link stays.
#[cfg(target_os = "linux")]
#[test]
fn a_link_to_standard_output_is_written_through() {
    let dir = TempDir::new().unwrap();
    let x = inputs(CHUNK + 3);
    let input = dir.path().join("in.f32");
    fs::write(&input, to_bytes(&x)).unwrap();
    let link = dir.path().join("my-stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
    let before = snapshot(dir.path());
    for output in [p(&link), "/dev/fd/1", "/dev/stdout"] {
        let run = actkern(&["apply", "tanh", p(&input), output]);
        assert!(run.status.success(), "{output}: {}", stderr(&run));
        assert!(run.stdout == tanh_bytes(&x, false), "{output}: standard output");
    }
    assert_only_changed(&before, &snapshot(dir.path()), &[]);
    assert!(fs::symlink_metadata("/dev/stdout").is_ok_and(|m| !m.file_type().is_file()));
}

/// A symbolic link OUTPUT (also a dangling one) is written through to its target, all or
/// nothing; the link stays and nothing else changes.
#[cfg(unix)]
#[test]
fn a_symlink_output_is_written_through_to_its_target() {
    let dir = TempDir::new().unwrap();
    let x = inputs(4321);
    let input = dir.path().join("in.f32");
    fs::write(&input, to_bytes(&x)).unwrap();
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let target = sub.join("real.f32");
    fs::write(&target, b"previous").unwrap();
    let link = dir.path().join("link.f32");
    std::os::unix::fs::symlink("sub/real.f32", &link).unwrap();
    // A chain, ending in a file that does not exist yet.
    let fresh = sub.join("fresh.f32");
    let dangling = sub.join("dangling.f32");
    std::os::unix::fs::symlink("fresh.f32", &dangling).unwrap();
    let chain = dir.path().join("chain.f32");
    std::os::unix::fs::symlink("sub/dangling.f32", &chain).unwrap();
    for (output, written) in [(&link, &target), (&chain, &fresh)] {
        let before = snapshot(dir.path());
        assert_ok(&actkern(&["apply", "tanh", p(&input), p(output)]));
        assert_eq!(fs::read(written).unwrap(), tanh_bytes(&x, false));
        assert!(
            fs::symlink_metadata(output).unwrap().file_type().is_symlink(),
            "the link stays"
        );
        assert_only_changed(&before, &snapshot(dir.path()), &[written]);
    }
}

/// A write that fails midway (here: the file-size limit, `ulimit -f`, with SIGXFSZ ignored so
/// the write returns EFBIG) is exit status 1, and leaves no OUTPUT and no temporary file.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_leaves_nothing() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("x.f32");
    let x = inputs(3 * CHUNK);
    fs::write(&input, to_bytes(&x)).unwrap();
    let out = dir.path().join("y.f32");
    // 1024-byte blocks: the limit falls inside the second chunk.
    let script = format!(
        "trap '' XFSZ; ulimit -f 6000; exec {BIN} apply relu {} {}",
        p(&input),
        p(&out)
    );
    let run = Command::new("sh").args(["-c", &script]).output().unwrap();
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.starts_with("actkern: error: cannot write"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(leftovers(dir.path(), &[&input]), Vec::<PathBuf>::new());
    assert_eq!(fs::read(&input).unwrap(), to_bytes(&x));
}

/// Ctrl-C (and SIGTERM) while the output is half written: no OUTPUT, no temporary file. INPUT
/// is a FIFO the test feeds, so the interrupt lands mid-stream deterministically.
#[cfg(target_os = "linux")]
#[test]
fn interrupt_leaves_no_partial_output() {
    for signal in ["-INT", "-TERM"] {
        let dir = TempDir::new().unwrap();
        let fifo = dir.path().join("in.fifo");
        let made = Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("SKIPPED interrupt_leaves_no_partial_output: mkfifo failed");
            return;
        }
        let out = dir.path().join("out.f32");
        let mut child = Command::new(BIN)
            .args(["apply", "relu", p(&fifo), p(&out), "--input-format", "raw"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Opening blocks until the binary opens its end.
        let mut feed = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        // Two chunks: at least one reaches the temporary file while the reader waits for more.
        feed.write_all(&to_bytes(&inputs(2 * CHUNK))).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let temp = loop {
            let partial: Vec<PathBuf> = leftovers(dir.path(), &[&fifo])
                .into_iter()
                .filter(|p| fs::metadata(p).is_ok_and(|m| m.len() >= (CHUNK * 4) as u64))
                .collect();
            if let Some(t) = partial.into_iter().next() {
                break t;
            }
            assert!(Instant::now() < deadline, "no partial output appeared");
            std::thread::sleep(Duration::from_millis(5));
        };
        let name = temp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".out.f32.") && name.ends_with(".actkern-tmp"),
            "{name}"
        );
        let killed = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        drop(feed);
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(130), "{signal}: {err}");
        assert!(err.contains("interrupted"), "{err}");
        assert_eq!(leftovers(dir.path(), &[&fifo]), Vec::<PathBuf>::new(), "{signal}");
    }
}

/// The progress bar appears on a terminal for a large file (run under `script`, which gives
/// the binary a pseudo-terminal), and never otherwise (every other test checks stderr is empty).
#[cfg(target_os = "linux")]
#[test]
fn progress_bar_only_on_a_terminal() {
    let has_script = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("SKIPPED progress_bar_only_on_a_terminal: `script` (util-linux) is missing");
        return;
    }
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("x.f32");
    // 80 MiB, above the 64 MiB threshold; the scalar backend on one thread keeps it on screen.
    fs::write(&input, vec![0u8; 80 << 20]).unwrap();
    let out = dir.path().join("y.f32");
    let cmd = format!(
        "{BIN} apply tanh {} {} --backend scalar --threads 1",
        p(&input),
        p(&out)
    );
    let run = Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let screen = stdout(&run);
    assert!(screen.contains("MiB"), "no progress bar on the terminal: {screen:?}");
    assert_eq!(fs::metadata(&out).unwrap().len(), 80 << 20);
}

#[test]
fn list_shows_every_activation() {
    let run = actkern(&["list"]);
    assert_ok(&run);
    let text = stdout(&run);
    for info in ACTIVATIONS {
        assert!(
            text.lines().any(|l| l.split_whitespace().next() == Some(info.name)),
            "{} missing",
            info.name
        );
        assert!(text.contains(info.formula), "{}: formula", info.name);
        for p in info.params {
            assert!(text.contains(p.name), "{}: {}", info.name, p.name);
        }
    }
    assert_eq!(text.matches("backward from output:").count(), ACTIVATIONS.len());
    // The answer matches the library for the default instances that are all-yes or all-no.
    for block in text.split("\n\n") {
        let name = block.split_whitespace().next().unwrap();
        let info = ACTIVATIONS.iter().find(|i| i.name == name).unwrap();
        let line = block.lines().find(|l| l.contains("backward from output:")).unwrap();
        let all: Vec<bool> = info
            .example_instances()
            .iter()
            .map(|a| a.has_backward_from_output())
            .collect();
        if all.iter().all(|&b| b) {
            assert!(line.ends_with(": yes"), "{line}");
        } else if !all.iter().any(|&b| b) {
            assert!(line.ends_with(": no"), "{line}");
        } else {
            assert!(line.contains("depends on the parameters"), "{line}");
        }
    }

    let run = actkern(&["list", "--specs"]);
    assert_ok(&run);
    let specs: Vec<String> = stdout(&run).lines().map(str::to_string).collect();
    let want: Vec<String> = ACTIVATIONS.iter().map(|i| i.default_instance().to_string()).collect();
    assert_eq!(specs, want);
}

#[test]
fn plot_draws_an_svg_or_a_png() {
    let dir = TempDir::new().unwrap();
    for spec in ["hardshrink", "elu(alpha=0.5)", "tanh"] {
        let out = dir.path().join("plot.svg");
        assert_ok(&actkern(&["plot", spec, "-o", p(&out), "--range", "-4:4"]));
        let svg = fs::read_to_string(&out).unwrap();
        assert!(svg.starts_with("<svg"), "{spec}");
        assert!(svg.trim_end().ends_with("</svg>"), "{spec}");
        assert!(svg.contains(spec), "{spec}: the caption");
        assert!(svg.contains("f(x)") && svg.contains("f&apos;(x)"), "{spec}: the legend");
        assert!(svg.matches("<polyline").count() >= 2, "{spec}: the curves");
    }
    // hardshrink's steps are drawn as separate pieces, not joined by vertical lines.
    let out = dir.path().join("hs.svg");
    assert_ok(&actkern(&["plot", "hardshrink", "-o", p(&out)]));
    let joined = dir.path().join("tanh.svg");
    assert_ok(&actkern(&["plot", "tanh", "-o", p(&joined)]));
    // Curves are the polylines of many points (axes, ticks and legend marks have two).
    let count = |path: &Path| {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.matches(',').count() > 10)
            .count()
    };
    assert_eq!(count(&joined), 2, "tanh: f and f', each in one piece");
    assert_eq!(count(&out), 6, "hardshrink: f and f', each in three pieces");

    // The extension chooses the format: a PNG image, decodable, of the plot's size.
    let png = dir.path().join("plot.png");
    assert_ok(&actkern(&["plot", "silu", "-o", p(&png)]));
    let bytes = fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let (w, h) = (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (720, 450));
    // Not a blank image: the curves, text and grid use many distinct colours.
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).unwrap();
    let colours: std::collections::HashSet<&[u8]> = pixels.chunks_exact(3).collect();
    assert!(colours.len() > 20, "{} colours", colours.len());

    for (args, word) in [
        (vec!["plot", "tanh", "-o", "x.jpg"], ".svg or .png"),
        (vec!["plot", "tanh", "-o", "x"], ".svg or .png"),
        (vec!["plot", "tanh", "-o", "x.svg", "--range", "4:-4"], "--range"),
        (vec!["plot", "tanh", "-o", "x.svg", "--range", "a:b"], "--range"),
        (vec!["plot", "tanhh", "-o", "x.svg"], "did you mean `tanh`"),
    ] {
        let run = Command::new(BIN).args(&args).current_dir(dir.path()).output().unwrap();
        assert_eq!(run.status.code(), Some(2));
        assert!(stderr(&run).contains(word), "{}", stderr(&run));
        for name in ["x.svg", "x.jpg", "x"] {
            assert!(!dir.path().join(name).exists());
        }
    }
}

#[test]
fn bench_reports_every_function_next_to_copy_and_naive() {
    let run = actkern(&[
        "bench",
        "--sizes",
        "1000,2K",
        "-a",
        "relu",
        "-a",
        "tanh",
        "--min-time-ms",
        "2",
        "--json",
    ]);
    assert_ok(&run);
    let text = stdout(&run);
    // One record per line: 2 sizes × (copy + 2 activations × 4 functions).
    let records: Vec<&str> = text.lines().filter(|l| l.contains("\"size\"")).collect();
    assert_eq!(records.len(), 2 * (1 + 2 * 4), "{text}");
    for f in ["copy", "forward", "backward", "naive_forward", "naive_backward"] {
        assert!(text.contains(&format!("\"function\": \"{f}\"")), "{f}");
    }
    assert!(text.contains("\"size\": 2048"));
    for r in &records {
        let gelem: f64 = r
            .split("\"gelem_per_s\": ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.parse().ok())
            .expect("a number");
        assert!(gelem > 0.0 && gelem.is_finite(), "{r}");
    }

    let run = actkern(&["bench", "--sizes", "4096", "-a", "sigmoid", "--min-time-ms", "2"]);
    assert_ok(&run);
    let text = stdout(&run);
    assert!(text.contains("copy") && text.contains("sigmoid") && text.contains("Gelem/s"));

    for args in [
        vec!["bench", "--sizes", "12Q"],
        vec!["bench", "-a", "nope"],
        vec!["bench", "--backend", "nope"],
    ] {
        let run = actkern(&args);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&run).lines().count(), 1);
    }
}

/// A float16 `.npy` (numpy's own '<f2' files, C and Fortran order) gives a float16 `.npy` with
/// the same header bytes, whose every element is the f32 kernel's result on the widened input
/// rounded with `f16::from_f32`: forward, --derivative, --backward and --backward-from-output
/// (DY a float16 `.npy` too), for every activation.
#[test]
fn f16_npy_gives_f16_npy_equal_to_the_f32_kernel_rounded() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out.npy");
    for (x_name, dy_name) in F16_FIXTURES.iter().zip(F16_GRADIENTS) {
        let (xp, dyp) = (Path::new(DATA).join(x_name), Path::new(DATA).join(dy_name));
        let x_bytes = fs::read(&xp).unwrap();
        let header = &x_bytes[..npy_data_offset(&x_bytes)];
        assert!(String::from_utf8_lossy(header).contains("'descr': '<f2'"));
        let x: Vec<f16> = from_le16(&x_bytes[header.len()..]);
        let dy_bytes = fs::read(&dyp).unwrap();
        let dy: Vec<f16> = from_le16(&dy_bytes[npy_data_offset(&dy_bytes)..]);
        let (xw, dyw) = (widen(&x), widen(&dy));
        for info in ACTIVATIONS {
            let act = info.default_instance();
            let spec = act.to_string();
            let run = |extra: &[&str], want: &[f32]| {
                let mut args = vec!["apply", spec.as_str(), p(&xp), p(&out)];
                args.extend_from_slice(extra);
                assert_ok(&actkern(&args));
                let got = fs::read(&out).unwrap();
                let what = format!("{x_name} {spec} {extra:?}");
                assert_eq!(&got[..npy_data_offset(&got)], header, "{what}: the header numpy wrote");
                assert_same_bits16(
                    &from_le16::<f16>(&got[header.len()..]),
                    &rounded(want, f16::from_f32),
                    &what,
                );
            };
            let mut want = vec![0.0f32; x.len()];
            act.forward(&xw, &mut want);
            run(&[], &want);
            act.derivative(&xw, &mut want);
            run(&["--derivative"], &want);
            act.backward(&xw, &dyw, &mut want);
            run(&["--backward", p(&dyp)], &want);
            if act.has_backward_from_output() {
                act.backward_from_output(&xw, &dyw, &mut want).unwrap();
                run(&["--backward-from-output", p(&dyp)], &want);
            }
        }
        assert_eq!(fs::read(&xp).unwrap(), x_bytes, "INPUT untouched");
    }
}

/// Raw bf16 and f16 files, told by --dtype: forward and derivative of every example instance,
/// backward of every default one, equal to the f32 kernel on the widened values rounded with
/// half's `from_f32`. OUTPUT holds the same type, two bytes an element.
#[test]
fn raw_bf16_and_f16_with_dtype_equal_the_f32_kernel_rounded() {
    fn check<E: Element>(dtype: &str, round: fn(f32) -> E) {
        let dir = TempDir::new().unwrap();
        // Specials, values that overflow f16 (f32::MAX, 20.0's exp...) and a sweep.
        let x = rounded(&inputs(10_007), round);
        let dy: Vec<f32> = (0..x.len()).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
        let dy = rounded(&dy, round);
        let (xf, dyf, out) = (
            dir.path().join("x.bin"),
            dir.path().join("dy.raw"),
            dir.path().join("y.bin"),
        );
        fs::write(&xf, le16(&x)).unwrap();
        fs::write(&dyf, le16(&dy)).unwrap();
        let (xw, dyw) = (widen(&x), widen(&dy));
        let mut want = vec![0.0f32; x.len()];
        let run = |spec: &str, extra: &[&str], want: &[f32]| {
            let mut args = vec!["apply", spec, p(&xf), p(&out), "--dtype", dtype];
            args.extend_from_slice(extra);
            assert_ok(&actkern(&args));
            let got = fs::read(&out).unwrap();
            assert_eq!(got.len(), 2 * x.len(), "{dtype} {spec}: two bytes an element");
            assert_same_bits16(
                &from_le16::<E>(&got),
                &rounded(want, round),
                &format!("{dtype} {spec} {extra:?}"),
            );
        };
        for info in ACTIVATIONS {
            for act in info.example_instances() {
                let spec = act.to_string();
                act.forward(&xw, &mut want);
                run(&spec, &[], &want);
                act.derivative(&xw, &mut want);
                run(&spec, &["--derivative"], &want);
            }
            let act = info.default_instance();
            act.backward(&xw, &dyw, &mut want);
            run(&act.to_string(), &["--backward", p(&dyf)], &want);
        }
        // The fast tier too.
        let act: Activation = "gelu".parse().unwrap();
        Fast(act).forward(&xw, &mut want);
        run("gelu", &["--fast"], &want);
        assert_eq!(fs::read(&xf).unwrap(), le16(&x), "INPUT untouched");
    }
    check::<bf16>("bf16", bf16::from_f32);
    check::<f16>("f16", f16::from_f32);
    // The flag's values are not case-sensitive.
    let dir = TempDir::new().unwrap();
    let (xf, out) = (dir.path().join("x.bin"), dir.path().join("y.bin"));
    fs::write(&xf, le16(&rounded(&inputs(10), bf16::from_f32))).unwrap();
    assert_ok(&actkern(&["apply", "relu", p(&xf), p(&out), "--dtype", "BF16"]));
}

/// 16-bit data between formats and streams: raw f16 to a '<f2' `.npy` (a raw DY read as
/// INPUT's type), an f16 `.npy` to raw f16 and to standard output, raw bf16 from standard input
/// to standard output; over several chunks, so chunk boundaries fall inside 2-byte data.
#[test]
fn sixteen_bit_data_crosses_formats_and_chunks() {
    let dir = TempDir::new().unwrap();
    let n = 2 * CHUNK + 17;
    let act: Activation = "silu".parse().unwrap();
    let x16 = rounded(&inputs(n), f16::from_f32);
    let dy16 = rounded(
        &(0..n).map(|i| ((i % 1000) as f32 - 500.0) / 250.0).collect::<Vec<_>>(),
        f16::from_f32,
    );
    let (xw, dyw) = (widen(&x16), widen(&dy16));
    let mut fwd = vec![0.0f32; n];
    act.forward(&xw, &mut fwd);
    let mut bwd = vec![0.0f32; n];
    act.backward(&xw, &dyw, &mut bwd);
    let (fwd16, bwd16) = (rounded(&fwd, f16::from_f32), rounded(&bwd, f16::from_f32));

    // Raw f16 in, .npy out: a 1-d '<f2' array.
    let raw = dir.path().join("x.f16.bin");
    fs::write(&raw, le16(&x16)).unwrap();
    let npy = dir.path().join("y.npy");
    assert_ok(&actkern(&["apply", "silu", p(&raw), p(&npy), "--dtype", "f16"]));
    let got = fs::read(&npy).unwrap();
    let offset = npy_data_offset(&got);
    let header = String::from_utf8_lossy(&got[..offset]).into_owned();
    assert!(
        header.contains(&format!(
            "{{'descr': '<f2', 'fortran_order': False, 'shape': ({n},), }}"
        )),
        "{header}"
    );
    assert_eq!(offset % 64, 0);
    assert_same_bits16(&from_le16::<f16>(&got[offset..]), &fwd16, "raw f16 to .npy");

    // An f16 .npy in with a raw DY, which holds INPUT's type (no --dtype needed), raw out.
    let x_npy = dir.path().join("x.npy");
    fs::write(
        &x_npy,
        npy_with(
            &format!("{{'descr': '<f2', 'fortran_order': False, 'shape': ({n},), }}"),
            &le16(&x16),
        ),
    )
    .unwrap();
    let dyf = dir.path().join("dy.raw");
    fs::write(&dyf, le16(&dy16)).unwrap();
    let dx = dir.path().join("dx.bin");
    assert_ok(&actkern(&["apply", "silu", p(&x_npy), p(&dx), "--backward", p(&dyf)]));
    assert_same_bits16(
        &from_le16::<f16>(&fs::read(&dx).unwrap()),
        &bwd16,
        ".npy f16 backward, raw DY",
    );
    // The same with the matching --dtype given.
    assert_ok(&actkern(&[
        "apply",
        "silu",
        p(&x_npy),
        p(&dx),
        "--backward",
        p(&dyf),
        "--dtype",
        "f16",
    ]));
    assert_same_bits16(&from_le16::<f16>(&fs::read(&dx).unwrap()), &bwd16, "with --dtype f16");

    // To standard output: the input's format, '<f2' .npy.
    let run = Command::new(BIN)
        .args(["apply", "silu", p(&x_npy), "-"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let offset = npy_data_offset(&run.stdout);
    assert!(String::from_utf8_lossy(&run.stdout[..offset]).contains("'descr': '<f2'"));
    assert_same_bits16(&from_le16::<f16>(&run.stdout[offset..]), &fwd16, "f16 .npy to stdout");

    // Raw bf16 from standard input to standard output.
    let xb = rounded(&inputs(n), bf16::from_f32);
    let mut want = vec![0.0f32; n];
    act.forward(&widen(&xb), &mut want);
    let mut child = Command::new(BIN)
        .args(["apply", "silu", "-", "-", "--input-format", "raw", "--dtype", "bf16"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = le16(&xb);
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let run = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert_same_bits16(
        &from_le16::<bf16>(&run.stdout),
        &rounded(&want, bf16::from_f32),
        "bf16 stdin to stdout",
    );
    // A bf16 stream with an odd byte count: an error naming the type.
    let mut child = Command::new(BIN)
        .args(["apply", "silu", "-", "-", "--input-format", "raw", "--dtype", "bf16"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&[0u8; 9]));
    let run = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("multiple of 2"), "{}", stderr(&run));
}

/// --in-place on a float16 `.npy`: the file keeps its header and holds the rounded result;
/// nothing else is left in the directory.
#[test]
fn in_place_on_an_f16_file() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("data.npy");
    let original = fs::read(Path::new(DATA).join("f16_fortran_3x5.npy")).unwrap();
    fs::write(&file, &original).unwrap();
    let offset = npy_data_offset(&original);
    let x: Vec<f16> = from_le16(&original[offset..]);
    let act: Activation = "silu".parse().unwrap();
    let mut y = vec![0.0f32; x.len()];
    act.forward(&widen(&x), &mut y);
    let once = rounded(&y, f16::from_f32);

    assert_ok(&actkern(&["apply", "silu", p(&file), "--in-place"]));
    let got = fs::read(&file).unwrap();
    assert_eq!(&got[..offset], &original[..offset], "header kept");
    assert_same_bits16(&from_le16::<f16>(&got[offset..]), &once, "in place");

    // Again, with the matching --dtype: f applied to the rounded result.
    assert_ok(&actkern(&["apply", "silu", p(&file), "--in-place", "--dtype", "f16"]));
    act.forward(&widen(&once), &mut y);
    let got = fs::read(&file).unwrap();
    assert_same_bits16(&from_le16::<f16>(&got[offset..]), &rounded(&y, f16::from_f32), "twice");

    // A conflicting --dtype changes nothing.
    let before = fs::read(&file).unwrap();
    let run = actkern(&["apply", "silu", p(&file), "--in-place", "--dtype", "f32"]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(fs::read(&file).unwrap(), before);
    assert_eq!(leftovers(dir.path(), &[&file]), Vec::<PathBuf>::new());
}

/// An unknown --dtype is a usage error (clap's, exit status 2) that lists the allowed types,
/// for `apply` and `bench`; nothing is written.
#[test]
fn an_unknown_dtype_lists_the_allowed_ones() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("x.f32");
    fs::write(&input, to_bytes(&inputs(8))).unwrap();
    let out = dir.path().join("y.f32");
    for args in [
        vec!["apply", "relu", p(&input), p(&out), "--dtype", "f64"],
        vec!["bench", "--sizes", "16", "-a", "relu", "--dtype", "f32,f64"],
    ] {
        let run = actkern(&args);
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("'f64'") && err.contains("--dtype"), "{err}");
        assert!(err.contains("f32, bf16, f16"), "{err}");
        assert_eq!(stdout(&run), "");
    }
    assert!(!out.exists());
    let help = stdout(&actkern(&["apply", "--help"]));
    for words in ["--dtype", "'<f2'", "bf16"] {
        assert!(help.contains(words), "apply --help: {words}");
    }
    let help = stdout(&actkern(&["bench", "--help"]));
    assert!(help.contains("--dtype") && help.contains("bf16"), "bench --help");
}

/// `bench --dtype` measures each element type, each next to a copy of its own bytes; the
/// default is f32 alone, as before.
#[test]
fn bench_measures_each_dtype_asked_for() {
    let args = ["bench", "--sizes", "1000", "-a", "silu", "--min-time-ms", "2"];
    let run = actkern(&[&args[..], &["--dtype", "bf16"]].concat());
    assert_ok(&run);
    let text = stdout(&run);
    assert!(text.contains("1000 bf16 elements (2000 B per buffer)"), "{text}");
    assert!(text.contains("bf16 forward 4 B/element, backward 6, copy 4"), "{text}");
    assert!(text.contains("silu") && text.contains("copy"), "{text}");

    let run = actkern(&[&args[..], &["--dtype", "f32,bf16,f16", "--json"]].concat());
    assert_ok(&run);
    let text = stdout(&run);
    let records: Vec<&str> = text.lines().filter(|l| l.contains("\"size\"")).collect();
    // Per type: copy + silu's 4 functions.
    assert_eq!(records.len(), 3 * 5, "{text}");
    for (dtype, bytes) in [("f32", 4.0), ("bf16", 2.0), ("f16", 2.0)] {
        let mine: Vec<&&str> = records
            .iter()
            .filter(|r| r.contains(&format!("\"dtype\": \"{dtype}\"")))
            .collect();
        assert_eq!(mine.len(), 5, "{dtype}: {text}");
        for r in mine {
            let field = |name: &str| -> f64 {
                r.split(&format!("\"{name}\": "))
                    .nth(1)
                    .and_then(|s| s.split([',', '}']).next())
                    .and_then(|s| s.parse().ok())
                    .expect("a number")
            };
            let (gelem, gb) = (field("gelem_per_s"), field("gb_per_s"));
            assert!(gelem > 0.0 && gelem.is_finite(), "{r}");
            let buffers = if r.contains("backward") { 3.0 } else { 2.0 };
            let per_element = gb / gelem;
            assert!(
                (per_element - buffers * bytes).abs() < 1e-3,
                "{r}: {per_element} B/element"
            );
        }
    }

    // The default: f32, and the table names no type.
    let run = actkern(&args);
    assert_ok(&run);
    let text = stdout(&run);
    assert!(text.contains("\n1000 elements (4000 B per buffer)\n"), "{text}");
    assert!(!text.contains("bf16") && !text.contains("f32 elements"), "{text}");
    assert!(text.contains("forward 8 B/element, backward 12, copy 8"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Gated activations: the halves layout

/// The `.npy` header text of a file (for its shape).
fn npy_header_text(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..npy_data_offset(b)]).into_owned()
}

/// `actkern apply GATED x.npy y.npy` is the library's `forward_halves` over rows of the last
/// dimension, bit for bit, with the last dimension halved in the header; `--backward DY` is
/// `backward_halves`, shaped like INPUT. Every gated spec, special values included.
#[test]
fn gated_halves_match_the_library_for_every_gated_activation() {
    let dir = TempDir::new().unwrap();
    let (rows, cols) = (15, 7); // shape (3, 5, 14)
    let x = inputs(rows * 2 * cols);
    let dy: Vec<f32> = inputs(rows * cols + 3)[3..].to_vec();
    let dict = |shape: &str| format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    let (xp, dyp, out) = (
        dir.path().join("x.npy"),
        dir.path().join("dy.npy"),
        dir.path().join("out.npy"),
    );
    let x_file = npy_with(&dict("(3, 5, 14)"), &to_bytes(&x));
    fs::write(&xp, &x_file).unwrap();
    fs::write(&dyp, npy_with(&dict("(3, 5, 7)"), &to_bytes(&dy))).unwrap();
    for gated in actkern::GATED {
        let spec = gated.to_string();
        let mut want = vec![0.0f32; rows * cols];
        gated.forward_halves(&x, cols, &mut want);
        assert_ok(&actkern(&["apply", &spec, p(&xp), p(&out)]));
        let got = fs::read(&out).unwrap();
        assert!(
            npy_header_text(&got).contains("'shape': (3, 5, 7)"),
            "{spec}: {}",
            npy_header_text(&got)
        );
        assert_same_bits(&npy_data(&got), &want, &spec);

        let mut want_dx = vec![0.0f32; x.len()];
        gated.backward_halves(&x, &dy, cols, &mut want_dx);
        assert_ok(&actkern(&["apply", &spec, p(&xp), p(&out), "--backward", p(&dyp)]));
        let got = fs::read(&out).unwrap();
        assert!(
            npy_header_text(&got).contains("'shape': (3, 5, 14)"),
            "{spec}: {}",
            npy_header_text(&got)
        );
        assert_same_bits(&npy_data(&got), &want_dx, &format!("{spec} --backward"));
    }
    assert_eq!(fs::read(&xp).unwrap(), x_file, "INPUT untouched");
    assert_eq!(
        leftovers(dir.path(), &[&xp, &dyp, &out]),
        Vec::<PathBuf>::new(),
        "no temporary files left"
    );
}

/// Raw files with `--cols`: several chunks of whole rows, and rows longer than a chunk; the
/// forward and the backward (also `--in-place`, dx over x) equal the library's.
#[test]
fn gated_raw_files_stream_in_whole_rows() {
    let dir = TempDir::new().unwrap();
    // 1100 rows of 2 × 1000: 2.2 chunks; 2 rows of 2 × 600000: each row longer than a chunk.
    for (rows, cols) in [(1100usize, 1000usize), (2, 600_000)] {
        let x = inputs(rows * 2 * cols);
        let dy: Vec<f32> = x[..rows * cols].iter().map(|v| v * 0.5 - 0.25).collect();
        let (xp, dyp, out) = (
            dir.path().join("x.f32"),
            dir.path().join("dy.f32"),
            dir.path().join("out.f32"),
        );
        fs::write(&xp, to_bytes(&x)).unwrap();
        fs::write(&dyp, to_bytes(&dy)).unwrap();
        let gated: actkern::Gated = "swiglu".parse().unwrap();
        let cols_arg = cols.to_string();
        let mut want = vec![0.0f32; rows * cols];
        gated.forward_halves(&x, cols, &mut want);
        assert_ok(&actkern(&["apply", "swiglu", p(&xp), p(&out), "--cols", &cols_arg]));
        assert_same_bits(&to_f32s(&fs::read(&out).unwrap()), &want, &format!("{rows}x{cols}"));

        let mut want_dx = vec![0.0f32; x.len()];
        gated.backward_halves(&x, &dy, cols, &mut want_dx);
        let args = [
            "apply",
            "swiglu",
            p(&xp),
            p(&out),
            "--cols",
            &cols_arg,
            "--backward",
            p(&dyp),
        ];
        assert_ok(&actkern(&args));
        assert_same_bits(
            &to_f32s(&fs::read(&out).unwrap()),
            &want_dx,
            &format!("{rows}x{cols} dx"),
        );
        // dx has x's shape, so it may replace INPUT.
        let args = [
            "apply",
            "swiglu",
            p(&xp),
            "--in-place",
            "--cols",
            &cols_arg,
            "--backward",
            p(&dyp),
        ];
        assert_ok(&actkern(&args));
        assert_same_bits(
            &to_f32s(&fs::read(&xp).unwrap()),
            &want_dx,
            &format!("{rows}x{cols} in place"),
        );
    }
}

/// A raw INPUT and a `.npy` OUTPUT: the header says [rows, cols]; from standard input too, and
/// a stream that ends inside a row is an error.
#[test]
fn gated_raw_to_npy_and_from_a_pipe() {
    let dir = TempDir::new().unwrap();
    let (rows, cols) = (4, 3);
    let x = inputs(rows * 2 * cols);
    let xp = dir.path().join("x.f32");
    fs::write(&xp, to_bytes(&x)).unwrap();
    let out = dir.path().join("out.npy");
    let gated: actkern::Gated = "geglu(approximate=tanh)".parse().unwrap();
    let mut want = vec![0.0f32; rows * cols];
    gated.forward_halves(&x, cols, &mut want);
    assert_ok(&actkern(&[
        "apply",
        "geglu(approximate=tanh)",
        p(&xp),
        p(&out),
        "--cols",
        "3",
    ]));
    let got = fs::read(&out).unwrap();
    assert!(
        npy_header_text(&got).contains("'shape': (4, 3)"),
        "{}",
        npy_header_text(&got)
    );
    assert_same_bits(&npy_data(&got), &want, "raw to .npy");

    let pipe = |data: Vec<u8>| {
        let mut child = Command::new(BIN)
            .args([
                "apply",
                "geglu(approximate=tanh)",
                "-",
                "-",
                "--input-format",
                "raw",
                "--cols",
                "3",
            ])
            .env_remove("ACTKERN_BACKEND")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&data).unwrap();
        child.wait_with_output().unwrap()
    };
    let run = pipe(to_bytes(&x));
    assert_ok(&run);
    assert_same_bits(&to_f32s(&run.stdout), &want, "from a pipe");
    let run = pipe(to_bytes(&x[..x.len() - 2]));
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(stderr(&run).contains("ends inside a row"), "{}", stderr(&run));
}

/// f16 `.npy` and raw bf16: the library's halves functions on 16-bit buffers, bit for bit (each
/// result computed in f32 and rounded once).
#[test]
fn gated_on_f16_npy_and_raw_bf16() {
    fn check<E: Element>(dir: &Path, x: &[E], cols: usize, input: &Path, output: &Path, extra: &[&str]) {
        let gated: actkern::Gated = "swiglu".parse().unwrap();
        let mut want = vec![E::default(); x.len() / 2];
        gated.forward_halves(x, cols, &mut want);
        let mut args = vec!["apply", "swiglu", p(input), p(output)];
        args.extend_from_slice(extra);
        assert_ok(&actkern(&args));
        let got = fs::read(output).unwrap();
        let data = if output.extension().is_some_and(|e| e == "npy") {
            assert!(npy_header_text(&got).contains("'descr': '<f2'"));
            assert!(
                npy_header_text(&got).contains("'shape': (6, 5)"),
                "{}",
                npy_header_text(&got)
            );
            &got[npy_data_offset(&got)..]
        } else {
            &got[..]
        };
        assert_same_bits16(&from_le16::<E>(data), &want, &format!("{}", E::DTYPE));
        assert!(dir.exists());
    }
    let dir = TempDir::new().unwrap();
    let x32 = inputs(60);
    let x16: Vec<f16> = x32.iter().map(|&v| f16::from_f32(v)).collect();
    let xp = dir.path().join("x.npy");
    fs::write(
        &xp,
        npy_with(
            "{'descr': '<f2', 'fortran_order': False, 'shape': (6, 10), }",
            &le16(&x16),
        ),
    )
    .unwrap();
    check(dir.path(), &x16, 5, &xp, &dir.path().join("out.npy"), &[]);
    let xb: Vec<bf16> = x32.iter().map(|&v| bf16::from_f32(v)).collect();
    let xbp = dir.path().join("x.bin");
    fs::write(&xbp, le16(&xb)).unwrap();
    check(
        dir.path(),
        &xb,
        5,
        &xbp,
        &dir.path().join("out.bin"),
        &["--dtype", "bf16", "--cols", "5"],
    );
}
