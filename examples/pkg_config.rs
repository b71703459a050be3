//! Prints `actkern.pc`, the pkg-config file for linking C and C++ programs against
//! `libactkern.so` / `libactkern.a` and compiling them against `include/actkern.h`.
//!
//! ```text
//! # Installed layout: <prefix>/lib/libactkern.{a,so}, <prefix>/include/actkern.h
//! cargo run --release --example pkg_config -- --prefix /usr/local > /usr/local/lib/pkgconfig/actkern.pc
//! # In place: this checkout's include/ and the target directory's release/
//! cargo run --release --example pkg_config > target/release/actkern.pc
//! PKG_CONFIG_PATH=target/release pkg-config --cflags --libs actkern
//! ```
//!
//! Options: `--prefix DIR` (libdir `DIR/lib`, includedir `DIR/include`), `--libdir DIR`,
//! `--includedir DIR`. Without them, libdir is the profile directory this example was built
//! into and includedir is this checkout's `include/`.
//!
//! `tests/c_abi.rs` uses [`pc_file`] to build and run the C test program through pkg-config.

use std::path::{Path, PathBuf};

/// The system libraries a program linking `libactkern.a` needs besides it: what
/// `cargo rustc --release --lib --crate-type staticlib -- --print native-static-libs` reports
/// (the Linux list is the one `tests/c_abi.rs` links with; the others are rustc's usual lists,
/// untested here).
pub const NATIVE_STATIC_LIBS: &str = if cfg!(target_os = "linux") {
    "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
} else if cfg!(target_os = "macos") {
    "-lSystem -lc -lm"
} else {
    "-lpthread -lm -ldl -lc"
};

/// The text of `actkern.pc` for libraries in `libdir` and the header in `includedir`.
///
/// `Libs` links the shared library (the linker prefers it when both are in `libdir`). For the
/// static one, link `${libdir}/libactkern.a` and the `native_static_libs` variable, which
/// `Libs.private` repeats for `pkg-config --static`.
pub fn pc_file(libdir: &Path, includedir: &Path) -> String {
    format!(
        "libdir={libdir}\n\
         includedir={includedir}\n\
         native_static_libs={native}\n\
         \n\
         Name: actkern\n\
         Description: {description}\n\
         Version: {version}\n\
         Cflags: -I${{includedir}}\n\
         Libs: -L${{libdir}} -lactkern\n\
         Libs.private: ${{native_static_libs}}\n",
        libdir = libdir.display(),
        includedir = includedir.display(),
        native = NATIVE_STATIC_LIBS,
        description = env!("CARGO_PKG_DESCRIPTION"),
        version = env!("CARGO_PKG_VERSION"),
    )
}

fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> PathBuf {
    match args.next() {
        Some(v) => PathBuf::from(v),
        None => {
            eprintln!("pkg_config: {flag} needs a directory");
            std::process::exit(2);
        }
    }
}

pub fn main() {
    // target/<profile>/examples/pkg_config → target/<profile>
    let exe = std::env::current_exe().expect("the example's own path");
    let mut libdir = exe
        .parent()
        .and_then(Path::parent)
        .expect("built inside a target directory")
        .to_path_buf();
    let mut includedir = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--prefix" => {
                let prefix = value(&mut args, "--prefix");
                libdir = prefix.join("lib");
                includedir = prefix.join("include");
            }
            "--libdir" => libdir = value(&mut args, "--libdir"),
            "--includedir" => includedir = value(&mut args, "--includedir"),
            _ => {
                eprintln!("usage: pkg_config [--prefix DIR] [--libdir DIR] [--includedir DIR] > actkern.pc");
                std::process::exit(2);
            }
        }
    }
    print!("{}", pc_file(&libdir, &includedir));
}
