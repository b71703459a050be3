//! The C ABI, from C and C++.
//!
//! - `generated_files_are_up_to_date` fails when a generated file of the workspace
//!   (`kernels/mod.rs`, `src/direct.rs`, `tests/c/direct_cases.h`, `include/actkern.h`) differs
//!   from what `cargo xtask codegen` would write now: the generator is `xtask/src/codegen.rs`,
//!   included here.
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

#[path = "../../xtask/src/codegen.rs"]
mod codegen;
#[path = "../../xtask/src/install.rs"]
mod install;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------------
// Generated files

#[test]
fn generated_files_are_up_to_date() {
    let root = manifest_dir().parent().expect("capi/ is inside the workspace");
    let stale = codegen::stale_files(root);
    assert!(
        stale.is_empty(),
        "stale generated files: {stale:?}; regenerate them with `{}`",
        codegen::REGENERATE
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
/// (or found up to date) on first use by `cargo build -p actkern-capi -p actkern-cli` into the target directory
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
            // With the CLI in the same build, features unify as in the workspace's `cargo test`
            // (clap_derive turns on syn's "full", which bytemuck_derive, under half, also
            // builds against): built alone, capi would resolve syn differently and rebuild
            // bytemuck, half, wide and the whole library first (84 s of a fresh clone's test).
            build
                .args([
                    "build",
                    "--package",
                    "actkern-capi",
                    "--package",
                    "actkern-cli",
                    "--target-dir",
                ])
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

/// Compiles `source` with `flags`, the header directory and `link`, into `exe`. The test
/// programs' own double-precision references (exp, erfc) need the math library, which the
/// shared library's link lines do not name: `-lm` comes last.
fn compile(compiler: &str, flags: &[&str], source: &Path, link: &[String], exe: &Path) {
    let mut cmd = Command::new(compiler);
    cmd.args(flags)
        .arg(format!("-I{}", prefix().join("include").display()))
        .arg(source)
        .args(link)
        .arg("-lm")
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

/// An `ACTKERN_BACKEND` naming an unknown backend, or one this CPU lacks, is reported once on
/// stderr (naming the variable, the bad value and the backend used instead) and otherwise
/// ignored: `actkern_backend()` names the widest backend the CPU supports and kernel calls
/// succeed (the C program's `--bad-backend-env` mode checks those and prints the backend).
#[test]
fn bad_backend_env_is_reported_once_and_ignored() {
    let Some(cc) = c_compiler() else { return };
    let exe = out_dir("bad_backend_env").join("test_actkern_c");
    compile(&cc, C_FLAGS, &c_source(), &static_link(), &exe);
    let best = actkern::Backend::best().name();
    let mut bad = vec!["no-such-backend".to_string()];
    // A real backend this CPU cannot run, when there is one.
    bad.extend(
        actkern::Backend::ALL
            .into_iter()
            .find(|b| !b.is_available())
            .map(|b| b.name().to_string()),
    );
    for value in &bad {
        let out = run(&exe, &["--bad-backend-env"], &[("ACTKERN_BACKEND", value)]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stdout.lines().any(|l| l == format!("backend: {best}")),
            "ACTKERN_BACKEND={value}: the library runs on the widest backend, {best}: {stdout}"
        );
        let messages: Vec<&str> = stderr.lines().filter(|l| l.contains("ACTKERN_BACKEND")).collect();
        assert_eq!(
            messages.len(),
            1,
            "ACTKERN_BACKEND={value}: one message on stderr, whatever the number of calls: {stderr}"
        );
        let message = messages[0];
        assert!(
            message.starts_with("actkern: ACTKERN_BACKEND: ")
                && message.contains(&format!("`{value}`"))
                && message.ends_with(&format!("using `{best}`")),
            "ACTKERN_BACKEND={value}: the message names the variable, the value and the backend used: {message}"
        );
    }
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
