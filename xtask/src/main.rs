//! Project tasks, run as `cargo xtask TASK` (an alias in `.cargo/config.toml`).
//!
//! ```text
//! cargo xtask codegen [--check]
//! cargo xtask install [--prefix DIR] [--libdir DIR] [--includedir DIR] [--destdir DIR] [--no-build]
//! ```
//!
//! `codegen` writes the generated files (`codegen.rs` lists them): the registry
//! `kernels/mod.rs` from the file names in `kernels/`, then the C entry points, the C test's
//! table and the header from the registry. Run it after adding or removing a kernel file,
//! changing a kernel's name, parameters or formula, or changing the C ABI's sources. With
//! `--check` it writes nothing and fails when a file is stale.
//!
//! `install` builds the C libraries (`cargo build --release -p actkern-capi`) and installs the
//! header, `libactkern.a`, `libactkern.so` (versioned, with its SONAME links), `actkern.pc` and
//! the CMake package under the prefix (default `/usr/local`); see `install.rs` for the layout.
//! `--libdir` and `--includedir` default to `PREFIX/lib` and `PREFIX/include` (a relative one is
//! taken under PREFIX); `--destdir` stages the files for a package; `--no-build` installs what
//! `target/release` already holds.

mod codegen;
mod install;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask codegen [--check]\n       \
                     cargo xtask install [--prefix DIR] [--libdir DIR] [--includedir DIR] \
                     [--destdir DIR] [--no-build]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("install") => match install_command(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("xtask install: {message}");
                ExitCode::from(2)
            }
        },
        Some("codegen") => match codegen_command(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("xtask codegen: {message}");
                ExitCode::from(2)
            }
        },
        Some("-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("xtask: unknown task `{other}`; the tasks are: codegen, install\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprintln!("xtask: name a task; the tasks are: codegen, install\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The workspace root: this package's parent directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ is inside the workspace")
        .to_path_buf()
}

fn codegen_command(args: &[String]) -> Result<(), String> {
    let root = workspace_root();
    match args {
        [] => {}
        [flag] if flag == "--check" => {
            let stale = codegen::stale_files(&root);
            return if stale.is_empty() {
                Ok(())
            } else {
                Err(format!("stale: {stale:?}; run `{}`", codegen::REGENERATE))
            };
        }
        [arg, ..] => return Err(format!("unknown argument `{arg}`\n{USAGE}")),
    }
    // This program links the registry it was built with: after writing a new one it runs
    // itself again, rebuilt, to generate the rest from the new list.
    let registry = codegen::registry(&codegen::kernel_modules(&root));
    let registry_path = root.join("kernels/mod.rs");
    if std::fs::read_to_string(&registry_path).ok().as_deref() != Some(registry.as_str()) {
        write(&registry_path, &registry)?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(&cargo)
            .args(["run", "--quiet", "--release", "--package", "xtask", "--", "codegen"])
            .current_dir(&root)
            .status()
            .map_err(|e| format!("cannot run {cargo}: {e}"))?;
        return if status.success() {
            Ok(())
        } else {
            Err("rebuilding with the new registry failed (see above)".to_string())
        };
    }
    let mut result = Ok(());
    codegen::generate(&root, |path, text| {
        let full = root.join(path);
        if result.is_ok() && std::fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
            result = write(&full, &text);
        }
    });
    result
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn install_command(args: &[String]) -> Result<(), String> {
    let mut prefix = PathBuf::from("/usr/local");
    let mut libdir: Option<PathBuf> = None;
    let mut includedir: Option<PathBuf> = None;
    let mut destdir: Option<PathBuf> = None;
    let mut build = true;
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        let mut value = || -> Result<PathBuf, String> {
            i += 1;
            match args.get(i) {
                Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
                _ => Err(format!("{flag} needs a directory\n{USAGE}")),
            }
        };
        match flag {
            "--prefix" => prefix = value()?,
            "--libdir" => libdir = Some(value()?),
            "--includedir" => includedir = Some(value()?),
            "--destdir" => destdir = Some(value()?),
            "--no-build" => build = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown option `{other}`\n{USAGE}")),
        }
        i += 1;
    }
    if !prefix.is_absolute() {
        let cwd = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
        prefix = cwd.join(prefix);
    }
    let mut layout = install::Layout::under(&prefix);
    if let Some(dir) = libdir {
        layout.libdir = prefix.join(dir);
    }
    if let Some(dir) = includedir {
        layout.includedir = prefix.join(dir);
    }
    layout.destdir = destdir;

    let root = workspace_root();
    if build {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(&cargo)
            .args(["build", "--release", "--package", "actkern-capi"])
            .current_dir(&root)
            .status()
            .map_err(|e| format!("cannot run {cargo}: {e}"))?;
        if !status.success() {
            return Err("`cargo build --release -p actkern-capi` failed".to_string());
        }
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let installed = install::install(
        &target_dir.join("release"),
        &root.join("capi/include/actkern.h"),
        &layout,
    )
    .map_err(|e| e.to_string())?;
    for path in installed {
        println!("installed {}", path.display());
    }
    Ok(())
}
