//! The C ABI, from C and C++.
//!
//! - `generated_files_are_up_to_date` regenerates `src/direct.rs` (one entry point per
//!   activation with explicit parameters, from `actkern::ACTIVATIONS`), `tests/c/direct_cases.h`
//!   (the C test's table of those entry points) and `include/actkern.h` (cbindgen, from the
//!   Rust sources) and fails when a committed copy differs. To regenerate after adding an
//!   activation or changing `src/lib.rs`, run
//!   `ACTKERN_UPDATE_CAPI=1 cargo test --release -p actkern-capi` twice: the first run writes
//!   the files (its C tests still link the library built before), the second checks everything.
//! - The libraries are installed once per run into `target/<profile>/c-abi-tests/prefix` by the
//!   code of `cargo xtask install` (`xtask/src/install.rs`): header, `libactkern.a`, the
//!   versioned `libactkern.so` with its SONAME links, `actkern.pc` and the CMake package. The
//!   other tests compile `tests/c/test_actkern.c` (`cc -std=c99 -Wall -Wextra -Werror
//!   -pedantic`) and `tests/c/test_actkern.cpp` (`c++ -std=c++17 -Wall -Wextra -Werror
//!   -pedantic`) against that installation, statically and shared, through plain link lines,
//!   through pkg-config and through CMake's `find_package(actkern)` when CMake is installed,
//!   and run them; the README's C program and its build lines are run as written. They skip,
//!   saying so on stderr, only when there is no C (or C++) compiler, pkg-config or CMake.
//!
//! The libraries: `cargo test` builds a library for the tests only when they can link it, and
//! a `staticlib` or `cdylib` they cannot, so [`lib_dir`] runs `cargo build -p actkern-capi`
//! once (into this test's target directory and profile; a no-op when it is up to date) and
//! uses `target/<profile>/deps/`, where `libactkern.a` and `libactkern.so` carry no hash in
//! their names. So `cargo test --release -p actkern-capi` alone is enough, and always tests the
//! library of the sources on disk.

#[path = "../../xtask/src/install.rs"]
mod install;

use actkern::{ACTIVATIONS, ActivationInfo, Apply, Kernel, KernelVisitor, ParamKind, ParamValue};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const UPDATE_VAR: &str = "ACTKERN_UPDATE_CAPI";
const REGENERATE: &str = "ACTKERN_UPDATE_CAPI=1 cargo test --release -p actkern-capi";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------------
// Generated files

struct TypeName;
impl KernelVisitor<&'static str> for TypeName {
    fn visit<K: Kernel>(self, _: &K) -> &'static str {
        std::any::type_name::<K>()
    }
}

struct Params;
impl KernelVisitor<Vec<ParamValue>> for Params {
    fn visit<K: Kernel>(self, k: &K) -> Vec<ParamValue> {
        k.params()
    }
}

/// What the generators need to know about one activation.
struct Entry {
    info: &'static ActivationInfo,
    /// The kernel type as a path inside the crate (`actkern::kernels::elu::Elu`).
    rust_type: String,
    /// Some example instance has a backward from the output (SPEC §2.3); otherwise no
    /// `_backward_from_output` entry point is generated, so C code asking for one does not
    /// compile instead of failing at run time.
    from_output: bool,
    /// Some example instance has none (its support depends on the parameters).
    from_output_varies: bool,
}

fn entries() -> Vec<Entry> {
    ACTIVATIONS
        .iter()
        .map(|info| {
            let path = info.default_instance().visit(TypeName);
            let rust_type = format!(
                "actkern::{}",
                path.strip_prefix("actkern::")
                    .unwrap_or_else(|| panic!("{path} is not a type of actkern"))
            );
            let support: Vec<bool> = info
                .example_instances()
                .iter()
                .map(|a| a.has_backward_from_output())
                .collect();
            Entry {
                info,
                rust_type,
                from_output: support.iter().any(|&s| s),
                from_output_varies: support.iter().any(|&s| !s),
            }
        })
        .collect()
}

/// A C identifier fragment: lower-case letters, digits and `_`.
fn ident(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn choice_const(info: &ActivationInfo, param: &str, choice: &str) -> String {
    format!("ACTKERN_{}_{}_{}", ident(info.name), ident(param), ident(choice)).to_uppercase()
}

/// `(forward, derivative)` from a kernel's one-line formula (`"forward; f'(x) = derivative"`).
fn formulas(info: &ActivationInfo) -> (&'static str, &'static str) {
    info.formula
        .split_once("; f'(x) = ")
        .unwrap_or((info.formula, info.formula))
}

/// The `Parameters:` paragraph of a direct entry point's comment.
fn param_docs(info: &ActivationInfo) -> Vec<String> {
    info.params
        .iter()
        .map(|p| match p.kind {
            ParamKind::Real { default, range } => format!(
                "- {}: {}{}",
                p.name,
                range.describe(),
                match default {
                    Some(d) => format!(" (PyTorch's default: {d})"),
                    None => " (no default)".to_string(),
                }
            ),
            ParamKind::Choice { choices, default } => format!(
                "- {}: {} (PyTorch's default: {})",
                p.name,
                choices
                    .iter()
                    .map(|c| choice_const(info, p.name, c))
                    .collect::<Vec<_>>()
                    .join(" or "),
                choice_const(info, p.name, choices[default])
            ),
        })
        .collect()
}

/// One generated C entry point: `actkern_<name>_<suffix>(<buffers>, n, <parameters>)`.
struct Func {
    suffix: &'static str,
    variant: &'static str,
    /// `(name, is_output)`; the first one or two are inputs, the last the output.
    buffers: &'static [(&'static str, bool)],
}

const FUNCS: [Func; 4] = [
    Func {
        suffix: "forward",
        variant: "Forward",
        buffers: &[("x", false), ("y", true)],
    },
    Func {
        suffix: "derivative",
        variant: "Derivative",
        buffers: &[("x", false), ("d", true)],
    },
    Func {
        suffix: "backward",
        variant: "Backward",
        buffers: &[("x", false), ("dy", false), ("dx", true)],
    },
    Func {
        suffix: "backward_from_output",
        variant: "BackwardFromOutput",
        buffers: &[("y", false), ("dy", false), ("dx", true)],
    },
];

fn funcs(entry: &Entry) -> impl Iterator<Item = &'static Func> {
    FUNCS
        .iter()
        .filter(|f| f.suffix != "backward_from_output" || entry.from_output)
}

fn summary(entry: &Entry, func: &Func) -> Vec<String> {
    let name = entry.info.name;
    let (forward, derivative) = formulas(entry.info);
    let mut lines = match func.suffix {
        "forward" => vec![
            format!("{name} forward: y[i] = f(x[i]), with f(x) = {forward}."),
            "y may equal x.".to_string(),
        ],
        "derivative" => vec![
            format!("{name} derivative: d[i] = f'(x[i]), with f'(x) = {derivative}."),
            "d may equal x.".to_string(),
        ],
        "backward" => vec![
            format!("{name} backward: dx[i] = dy[i] * f'(x[i]), with f'(x) = {derivative}."),
            "dx may equal dy, x, or both.".to_string(),
        ],
        _ => vec![
            format!("{name} backward from the output y = f(x): dx[i] = dy[i] * f'(x[i])."),
            "dx may equal y, dy, or both.".to_string(),
        ],
    };
    if func.suffix == "backward_from_output" && entry.from_output_varies {
        lines.push(
            "Returns ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT for the parameter values where y does \
             not determine f'(x)."
                .to_string(),
        );
    }
    lines
}

/// `line` cut at spaces into lines of at most `width` characters (longer words stay whole);
/// the continuation lines of a `- ` item are indented to its text.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let indent = if line.starts_with("- ") { "  " } else { "" };
    let mut lines = vec![String::new()];
    for word in line.split(' ') {
        let last = lines.last_mut().expect("never empty");
        if last.is_empty() || last.trim().is_empty() {
            last.push_str(word);
        } else if last.chars().count() + 1 + word.chars().count() <= width {
            last.push(' ');
            last.push_str(word);
        } else {
            lines.push(format!("{indent}{word}"));
        }
    }
    lines
}

fn direct_rs(entries: &[Entry]) -> String {
    let mut out = String::new();
    let any_choice = entries
        .iter()
        .any(|e| e.info.params.iter().any(|p| matches!(p.kind, ParamKind::Choice { .. })));
    writeln!(
        out,
        "//! Generated by tests/c_abi.rs from `actkern::ACTIVATIONS`; do not edit.\n\
         //! Regenerate: {REGENERATE} (twice).\n\
         //!\n\
         //! For every activation: `actkern_<name>_forward`, `_derivative`, `_backward` and, where\n\
         //! some parameter values allow it, `_backward_from_output`, taking the parameters as\n\
         //! arguments. Choice parameters are `int` constants.\n\
         \n\
         use super::{{Func, {}direct}};\n\
         use actkern::ParamValue;\n\
         use core::ffi::c_int;\n\
         use std::ptr::null;",
        if any_choice { "choice, " } else { "" }
    )
    .unwrap();
    for entry in entries {
        let info = entry.info;
        writeln!(out, "\n// ---- {}: {}", info.name, info.formula).unwrap();
        for p in info.params {
            if let ParamKind::Choice { choices, .. } = p.kind {
                for (i, c) in choices.iter().enumerate() {
                    writeln!(
                        out,
                        "\n/// The value {c:?} of the parameter `{}` of {}.\n\
                         #[allow(dead_code, reason = \"for the C header\")]\n\
                         pub const {}: c_int = {i};",
                        p.name,
                        info.name,
                        choice_const(info, p.name, c)
                    )
                    .unwrap();
                }
            }
        }
        for func in funcs(entry) {
            writeln!(out).unwrap();
            let mut doc = summary(entry, func);
            let params = param_docs(info);
            doc.push(String::new());
            if params.is_empty() {
                doc.push("Status codes as for actkern_forward.".to_string());
            } else {
                doc.push("Parameters:".to_string());
                doc.extend(params);
                doc.push(String::new());
                doc.push(
                    "Status codes as for actkern_forward, checked after the parameters: \
                     ACTKERN_ERR_BAD_SPEC, writing nothing, when one is out of its range or they \
                     do not fit together."
                        .to_string(),
                );
            }
            doc.extend([
                String::new(),
                "# Safety".to_string(),
                "As for actkern_forward.".to_string(),
            ]);
            for line in doc.iter().flat_map(|l| wrap(l, 96)) {
                assert!(!line.contains("*/"), "`*/` would end the C comment: {line}");
                if line.is_empty() {
                    writeln!(out, "///").unwrap();
                } else {
                    writeln!(out, "/// {line}").unwrap();
                }
            }
            writeln!(
                out,
                "#[unsafe(no_mangle)]\npub unsafe extern \"C\" fn actkern_{}_{}(",
                ident(info.name),
                func.suffix
            )
            .unwrap();
            for (name, is_output) in func.buffers {
                let ty = if *is_output { "*mut f32" } else { "*const f32" };
                writeln!(out, "    {name}: {ty},").unwrap();
            }
            writeln!(out, "    n: usize,").unwrap();
            let mut values = Vec::new();
            for p in info.params {
                let (ty, value) = match p.kind {
                    ParamKind::Real { .. } => ("f32", format!("ParamValue::Real({})", p.name)),
                    ParamKind::Choice { .. } => ("c_int", format!("ParamValue::Choice(choice({}))", p.name)),
                };
                writeln!(out, "    {}: {ty},", p.name).unwrap();
                values.push(value);
            }
            let names: Vec<&str> = func.buffers.iter().map(|b| b.0).collect();
            let (a, b, o) = match names[..] {
                [a, o] => (a, "null()", o),
                [a, b, o] => (a, b, o),
                _ => unreachable!(),
            };
            writeln!(
                out,
                ") -> c_int {{\n    let params = [{}];\n    \
                 // Safety: the caller's contract is the one `direct` needs.\n    \
                 unsafe {{ direct::<{}>(&params, Func::{}, {a}, {b}, {o}, n) }}\n}}",
                values.join(", "),
                entry.rust_type,
                func.variant
            )
            .unwrap();
        }
    }
    out
}

/// A float as a C literal that reads back to the same `f32`.
fn c_float(v: f32) -> String {
    assert!(v.is_finite(), "example parameters are finite");
    let s = format!("{v:?}");
    if s.contains(['.', 'e']) {
        format!("{s}f")
    } else {
        format!("{s}.0f")
    }
}

fn direct_cases_h(entries: &[Entry]) -> String {
    let mut out = format!(
        "/* Generated by tests/c_abi.rs from actkern's registry; do not edit.\n   \
         Regenerate: {REGENERATE} (twice). */\n\
         /* Every example instance of every activation: its spec string for actkern_parse and\n   \
         wrappers calling its direct entry points with the same parameters. test_actkern.c\n   \
         checks that both give the same bits. */\n\
         #ifndef ACTKERN_DIRECT_CASES_H\n\
         #define ACTKERN_DIRECT_CASES_H\n\
         \n\
         #include \"actkern.h\"\n\
         \n\
         typedef int (*direct_unary)(const float *x, float *out, size_t n);\n\
         typedef int (*direct_binary)(const float *a, const float *b, float *out, size_t n);\n\
         \n\
         struct direct_case {{\n    \
         const char *spec;\n    \
         direct_unary forward;\n    \
         direct_unary derivative;\n    \
         direct_binary backward;\n    \
         direct_binary backward_from_output; /* NULL: no such entry point */\n\
         }};\n"
    );
    let mut table = String::new();
    for entry in entries {
        let info = entry.info;
        for (k, (spec, act)) in info.examples.iter().zip(info.example_instances()).enumerate() {
            let values = act.visit(Params);
            let args: String = info
                .params
                .iter()
                .zip(&values)
                .map(|(p, v)| match (p.kind, v) {
                    (ParamKind::Choice { choices, .. }, ParamValue::Choice(i)) => {
                        format!(", {}", choice_const(info, p.name, choices[*i]))
                    }
                    (_, v) => format!(", {}", c_float(v.real())),
                })
                .collect();
            let case = format!("case_{}_{k}", ident(info.name));
            writeln!(out).unwrap();
            for func in funcs(entry) {
                let c = format!("actkern_{}_{}", ident(info.name), func.suffix);
                if func.buffers.len() == 2 {
                    writeln!(
                        out,
                        "static int {case}_{}(const float *x, float *out, size_t n) {{\n    \
                         return {c}(x, out, n{args});\n}}",
                        func.suffix
                    )
                    .unwrap();
                } else {
                    writeln!(
                        out,
                        "static int {case}_{}(const float *a, const float *b, float *out, size_t n) {{\n    \
                         return {c}(a, b, out, n{args});\n}}",
                        func.suffix
                    )
                    .unwrap();
                }
            }
            let bfo = if entry.from_output {
                format!("{case}_backward_from_output")
            } else {
                "NULL".to_string()
            };
            assert!(!spec.contains(['"', '\\']), "spec {spec} needs escaping");
            writeln!(
                table,
                "    {{\"{spec}\", {case}_forward, {case}_derivative, {case}_backward, {bfo}}},"
            )
            .unwrap();
        }
    }
    write!(
        out,
        "\nstatic const struct direct_case DIRECT_CASES[] = {{\n{table}}};\n\n\
         #define DIRECT_CASE_COUNT (sizeof DIRECT_CASES / sizeof DIRECT_CASES[0])\n\n\
         #endif /* ACTKERN_DIRECT_CASES_H */\n"
    )
    .unwrap();
    out
}

/// `include/actkern.h`, generated by cbindgen from the sources on disk.
fn header() -> String {
    let root = manifest_dir();
    let mut config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));
    config.after_includes = Some(format!(
        "\n/** The version of this header, e.g. \"0.1.0\"; actkern_version() gives the library's. */\n\
         #define ACTKERN_VERSION \"{}\"",
        env!("CARGO_PKG_VERSION")
    ));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/lib.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen: {e}"));
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen writes UTF-8")
}

/// Compares `path` with `text`; with `ACTKERN_UPDATE_CAPI` set, writes it instead.
fn sync(path: &Path, text: &str, stale: &mut Vec<String>) {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current == text {
        return;
    }
    let shown = path.strip_prefix(manifest_dir()).unwrap_or(path).display();
    if std::env::var_os(UPDATE_VAR).is_some() {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("write {shown}: {e}"));
        skip_note(&format!("c_abi: regenerated {shown}"));
    } else {
        stale.push(shown.to_string());
    }
}

#[test]
fn generated_files_are_up_to_date() {
    let root = manifest_dir();
    let entries = entries();
    let mut stale = Vec::new();
    sync(&root.join("src/direct.rs"), &direct_rs(&entries), &mut stale);
    sync(
        &root.join("tests/c/direct_cases.h"),
        &direct_cases_h(&entries),
        &mut stale,
    );
    // After direct.rs, which cbindgen reads from disk.
    sync(&root.join("include/actkern.h"), &header(), &mut stale);
    assert!(
        stale.is_empty(),
        "stale generated files: {stale:?}; regenerate them with `{REGENERATE}` (run it twice)"
    );
}

// ---------------------------------------------------------------------------------------------
// Building and running the C and C++ programs

/// Prints past the test harness's capture, so a skipped check is visible in a normal run.
fn skip_note(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

/// The compiler named by `var` (`CC`, `CXX`), else `default`, if it runs.
fn compiler(var: &str, default: &str) -> Option<String> {
    let name = std::env::var(var).unwrap_or_else(|_| default.to_string());
    match Command::new(&name).arg("--version").output() {
        Ok(out) if out.status.success() => Some(name),
        _ => {
            skip_note(&format!(
                "c_abi: SKIPPED: no working `{name}` (set {var} to a compiler) for {}",
                std::thread::current().name().unwrap_or("this test")
            ));
            None
        }
    }
}

fn c_compiler() -> Option<String> {
    compiler("CC", "cc")
}

fn cxx_compiler() -> Option<String> {
    compiler("CXX", "c++")
}

/// The shared library's name as cargo builds it.
const SHARED_LIB: &str = if cfg!(target_os = "macos") {
    "libactkern.dylib"
} else {
    "libactkern.so"
};

/// `target/<profile>/deps/`, holding this package's `libactkern.a` and shared library, built
/// (or found up to date) on first use by `cargo build -p actkern-capi` into the target directory
/// and profile of this test: `cargo test` itself builds no library that a test cannot link
/// (see the module's comment).
fn lib_dir() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("the test's own path");
            let deps = exe
                .parent()
                .expect("the test runs from target/<profile>/deps/")
                .to_path_buf();
            let profile_dir = deps.parent().expect("target/<profile>/");
            let target_dir = profile_dir.parent().expect("target/");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
            let mut build = Command::new(cargo);
            build
                .args(["build", "--package", "actkern-capi", "--target-dir"])
                .arg(target_dir)
                .current_dir(manifest_dir());
            if profile_dir.file_name().is_some_and(|p| p == "release") {
                build.arg("--release");
            }
            checked(build);
            for lib in ["libactkern.a", SHARED_LIB] {
                assert!(deps.join(lib).is_file(), "{} is missing", deps.join(lib).display());
            }
            deps
        })
        .clone()
}

/// The SONAME programs linked against the shared library record (`capi/build.rs`).
fn soname() -> String {
    format!("libactkern.so.{}", install::soversion())
}

/// The prefix this run's libraries are installed under, as `cargo xtask install` lays them out
/// (installed on first use).
fn prefix() -> &'static Path {
    static PREFIX: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        let prefix = lib_dir()
            .parent()
            .expect("target/<profile>/")
            .join("c-abi-tests/prefix");
        let _ = std::fs::remove_dir_all(&prefix);
        install::install(
            &lib_dir(),
            &manifest_dir().join("include/actkern.h"),
            &install::Layout::under(&prefix),
        )
        .unwrap_or_else(|e| panic!("installing under {}: {e}", prefix.display()));
        prefix
    })
}

/// A fresh directory for one test's executables.
fn out_dir(test: &str) -> PathBuf {
    let dir = lib_dir()
        .parent()
        .expect("target/<profile>/")
        .join("c-abi-tests/run")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the output directory");
    dir
}

const C_FLAGS: &[&str] = &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1"];
const CXX_FLAGS: &[&str] = &[
    "-std=c++17",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O1",
    "-pthread",
];

fn c_source() -> PathBuf {
    manifest_dir().join("tests/c/test_actkern.c")
}

fn cxx_source() -> PathBuf {
    manifest_dir().join("tests/c/test_actkern.cpp")
}

fn static_link() -> Vec<String> {
    let mut args = vec![prefix().join("lib/libactkern.a").display().to_string()];
    args.extend(install::NATIVE_STATIC_LIBS.split_whitespace().map(String::from));
    args
}

/// `-lactkern` from the installed prefix; the rpath lets the program find the SONAME's link.
fn shared_link() -> Vec<String> {
    let dir = prefix().join("lib").display().to_string();
    vec![format!("-L{dir}"), "-lactkern".to_string(), format!("-Wl,-rpath,{dir}")]
}

fn checked(mut cmd: Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("could not run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Compiles `source` with `flags`, the header directory and `link`, into `exe`.
fn compile(compiler: &str, flags: &[&str], source: &Path, link: &[String], exe: &Path) {
    let mut cmd = Command::new(compiler);
    cmd.args(flags)
        .arg(format!("-I{}", prefix().join("include").display()))
        .arg(source)
        .args(link)
        .arg("-o")
        .arg(exe);
    checked(cmd);
}

/// Runs a test program; it exits non-zero when one of its checks fails.
fn run(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(exe);
    // cargo test puts target/<profile>/ on LD_LIBRARY_PATH, which would win over the rpath
    // and could load an older copy of the shared library from there.
    cmd.args(args)
        .env_remove("ACTKERN_BACKEND")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("DYLD_LIBRARY_PATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = checked(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{}: {stdout}", exe.display());
    assert!(stdout.contains(" 0 failed"), "unexpected summary: {stdout}");
    out
}

/// Whether the executable names the shared library (an ELF `DT_NEEDED` holds its SONAME,
/// `libactkern.so.0.1`).
fn needs_shared_lib(exe: &Path) -> bool {
    let bytes = std::fs::read(exe).expect("read the executable");
    let name = soname();
    bytes.windows(name.len()).any(|w| w == name.as_bytes())
}

#[test]
fn c_program_static() {
    let Some(cc) = c_compiler() else { return };
    let exe = out_dir("c_static").join("test_actkern_c");
    compile(&cc, C_FLAGS, &c_source(), &static_link(), &exe);
    assert!(!needs_shared_lib(&exe), "linked statically");
    run(&exe, &[], &[]);
}

#[test]
fn c_program_shared() {
    let Some(cc) = c_compiler() else { return };
    let exe = out_dir("c_shared").join("test_actkern_c");
    compile(&cc, C_FLAGS, &c_source(), &shared_link(), &exe);
    assert!(needs_shared_lib(&exe), "linked against {}", soname());
    run(&exe, &[], &[]);
}

#[test]
fn cpp_program_static() {
    let Some(cxx) = cxx_compiler() else { return };
    let exe = out_dir("cpp_static").join("test_actkern_cpp");
    compile(&cxx, CXX_FLAGS, &cxx_source(), &static_link(), &exe);
    assert!(!needs_shared_lib(&exe), "linked statically");
    run(&exe, &[], &[]);
}

#[test]
fn cpp_program_shared() {
    let Some(cxx) = cxx_compiler() else { return };
    let exe = out_dir("cpp_shared").join("test_actkern_cpp");
    compile(&cxx, CXX_FLAGS, &cxx_source(), &shared_link(), &exe);
    assert!(needs_shared_lib(&exe), "linked against {}", soname());
    run(&exe, &[], &[]);
}

/// A real panic inside the library (the backend choice panics on a bad `ACTKERN_BACKEND`)
/// reaches C as `ACTKERN_ERR_INTERNAL`, and the library works again once a backend is set.
#[test]
fn panic_becomes_a_status_code() {
    let Some(cc) = c_compiler() else { return };
    let exe = out_dir("panic").join("test_actkern_c");
    compile(&cc, C_FLAGS, &c_source(), &static_link(), &exe);
    let out = run(&exe, &["--bad-backend-env"], &[("ACTKERN_BACKEND", "no-such-backend")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ACTKERN_BACKEND") && stderr.contains("no-such-backend"),
        "the caught panic's message is on stderr: {stderr}"
    );
}

fn pkg_config_tool() -> Option<&'static str> {
    match Command::new("pkg-config").arg("--version").output() {
        Ok(out) if out.status.success() => Some("pkg-config"),
        _ => {
            skip_note("c_abi: SKIPPED: no pkg-config; actkern.pc was not checked");
            None
        }
    }
}

/// The installed `actkern.pc`, read by pkg-config, links the C program against the shared
/// library (`--cflags --libs`) and the static one (`libdir` and `native_static_libs`).
#[test]
fn pkg_config_file() {
    let Some(cc) = c_compiler() else { return };
    let Some(tool) = pkg_config_tool() else {
        return;
    };
    let dir = out_dir("pkg_config");
    let pc_dir = prefix().join("lib/pkgconfig");
    let query = |args: &[&str]| -> Vec<String> {
        let mut cmd = Command::new(tool);
        cmd.args(args).arg("actkern").env("PKG_CONFIG_PATH", &pc_dir);
        let out = checked(cmd);
        String::from_utf8(out.stdout)
            .expect("pkg-config prints UTF-8")
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    assert_eq!(query(&["--modversion"]), [env!("CARGO_PKG_VERSION")]);

    let libdir = query(&["--variable=libdir"]).concat();
    assert_eq!(Path::new(&libdir), prefix().join("lib"));
    let mut shared = query(&["--cflags", "--libs"]);
    shared.push(format!("-Wl,-rpath,{libdir}"));
    let exe = dir.join("test_actkern_c_shared");
    compile(&cc, C_FLAGS, &c_source(), &shared, &exe);
    assert!(needs_shared_lib(&exe));
    run(&exe, &[], &[]);

    let mut static_ = query(&["--cflags"]);
    static_.push(format!("{libdir}/libactkern.a"));
    static_.extend(query(&["--variable=native_static_libs"]));
    let exe = dir.join("test_actkern_c_static");
    compile(&cc, C_FLAGS, &c_source(), &static_, &exe);
    assert!(!needs_shared_lib(&exe));
    run(&exe, &[], &[]);
}

/// The installed layout: the versioned library carries the SONAME its link is named after,
/// and `--destdir` stages the same files while the paths inside them name the final prefix.
#[cfg(target_os = "linux")]
#[test]
fn install_layout_and_staging() {
    let lib = prefix().join("lib");
    let versioned = lib.join(install::shared_file_name());
    assert!(versioned.is_file());
    assert_eq!(
        std::fs::read_link(lib.join(soname())).unwrap(),
        Path::new(&install::shared_file_name())
    );
    assert_eq!(
        std::fs::read_link(lib.join("libactkern.so")).unwrap(),
        Path::new(&soname())
    );
    // The SONAME sits in the library's dynamic string table.
    let bytes = std::fs::read(&versioned).unwrap();
    let name = format!("{}\0", soname());
    assert!(
        bytes.windows(name.len()).any(|w| w == name.as_bytes()),
        "SONAME {}",
        soname()
    );

    let stage = out_dir("destdir");
    let final_prefix = Path::new("/opt/actkern-test");
    let mut layout = install::Layout::under(final_prefix);
    layout.libdir = final_prefix.join("lib64");
    layout.destdir = Some(stage.clone());
    let written = install::install(&lib_dir(), &manifest_dir().join("include/actkern.h"), &layout).unwrap();
    assert!(written.iter().all(|p| p.starts_with(&stage)), "{written:?}");
    assert!(!final_prefix.exists(), "nothing outside DESTDIR");
    let pc = std::fs::read_to_string(stage.join("opt/actkern-test/lib64/pkgconfig/actkern.pc")).unwrap();
    assert!(pc.contains("libdir=/opt/actkern-test/lib64\n"), "{pc}");
    assert!(!pc.contains(stage.to_str().unwrap()), "{pc}");
    assert!(stage.join("opt/actkern-test/include/actkern.h").is_file());
    // A missing library is an error before anything is written.
    layout.destdir = Some(out_dir("destdir_missing"));
    let err = install::install(&out_dir("empty"), &manifest_dir().join("include/actkern.h"), &layout).unwrap_err();
    assert!(err.to_string().contains("libactkern.a"), "{err}");
    assert_eq!(std::fs::read_dir(out_dir("destdir_missing")).unwrap().count(), 0);
}

/// The README's C program, compiled and run with the README's own build lines, after the
/// installation its first line makes (done here by the same code, under a temporary HOME).
#[test]
fn readme_c_quickstart_builds_and_runs_as_written() {
    let Some(_) = c_compiler() else { return };
    let Some(_) = pkg_config_tool() else { return };
    let readme = std::fs::read_to_string(manifest_dir().join("../README.md")).expect("README.md");
    let block = |lang: &str, containing: &str| -> String {
        let fence = format!("```{lang}\n");
        readme
            .split(fence.as_str())
            .skip(1)
            .map(|rest| rest.split("```").next().unwrap().to_string())
            .find(|b| b.contains(containing))
            .unwrap_or_else(|| panic!("README.md has no ```{lang} block with `{containing}`"))
    };
    let program = block("c", "int main");
    let script = block("sh", "cargo xtask install");
    let home = out_dir("readme");
    std::fs::write(home.join("app.c"), &program).unwrap();
    // The first line installs; the rest builds and runs. The installation is the test's own,
    // under HOME's prefix.
    let (install_line, build) = script.split_once('\n').unwrap();
    assert!(
        install_line.starts_with("cargo xtask install --prefix \"$HOME/.local\""),
        "{install_line}"
    );
    let local = home.join(".local");
    install::install(
        &lib_dir(),
        &manifest_dir().join("include/actkern.h"),
        &install::Layout::under(&local),
    )
    .unwrap();
    let mut cmd = Command::new("sh");
    cmd.args(["-e", "-c", build])
        .current_dir(&home)
        .env("HOME", &home)
        .env_remove("PKG_CONFIG_PATH")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("ACTKERN_BACKEND");
    let out = checked(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Two runs (shared, static), each printing its line.
    assert_eq!(stdout.matches("gelu(").count(), 2, "{stdout}");
}

/// `tests/c/CMakeLists.txt` (the README's CMake lines) finds the installed package with
/// `find_package(actkern CONFIG)` and builds both programs, one against each library, when
/// CMake is installed.
#[test]
fn cmake_project() {
    if c_compiler().is_none() || cxx_compiler().is_none() {
        return;
    }
    if !Command::new("cmake")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        skip_note("c_abi: SKIPPED: no cmake; tests/c/CMakeLists.txt was not checked");
        return;
    }
    let dir = out_dir("cmake");
    let mut configure = Command::new("cmake");
    configure
        .arg("-S")
        .arg(manifest_dir().join("tests/c"))
        .arg("-B")
        .arg(&dir)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix().display()));
    checked(configure);
    let mut build = Command::new("cmake");
    build.arg("--build").arg(&dir);
    checked(build);
    assert!(!needs_shared_lib(&dir.join("test_actkern_c")));
    assert!(needs_shared_lib(&dir.join("test_actkern_cpp")));
    run(&dir.join("test_actkern_c"), &[], &[]);
    run(&dir.join("test_actkern_cpp"), &[], &[]);
}
