//! Installs the C ABI under a prefix, laid out as C build systems expect:
//!
//! ```text
//! <includedir>/actkern.h
//! <libdir>/libactkern.a
//! <libdir>/libactkern.so.<x.y.z>            the library, its SONAME libactkern.so.<soversion>
//! <libdir>/libactkern.so.<soversion> -> libactkern.so.<x.y.z>   what programs load
//! <libdir>/libactkern.so -> libactkern.so.<soversion>           what `-lactkern` links
//! <libdir>/pkgconfig/actkern.pc
//! <libdir>/cmake/actkern/actkernConfig.cmake, actkernConfigVersion.cmake
//! ```
//!
//! Paths written into `actkern.pc` and the CMake files are the final ones (`prefix`); the files
//! themselves go under `destdir` + those paths when a staging directory is given, as packagers'
//! `make install DESTDIR=…` does.
//!
//! `xtask/src/main.rs` runs it after building; `capi/tests/c_abi.rs` runs it on the libraries
//! the test build made and links its C programs against the result.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The package version shared by the workspace (`0.1.0`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The system libraries a program linking `libactkern.a` needs besides it: what
/// `cargo rustc --release -p actkern-capi --crate-type staticlib -- --print native-static-libs`
/// reports on Linux (the other lists are rustc's usual ones, untested here).
pub const NATIVE_STATIC_LIBS: &str = if cfg!(target_os = "linux") {
    "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
} else if cfg!(target_os = "macos") {
    "-lSystem -lc -lm"
} else {
    "-lpthread -lm -ldl -lc"
};

/// The ABI version in the SONAME: the major version, or `0.<minor>` while the major is 0 (a
/// 0.x minor release may change the ABI). `capi/build.rs` gives the library the same SONAME.
pub fn soversion() -> String {
    let mut parts = VERSION.split('.');
    let major = parts.next().unwrap_or("0");
    let minor = parts.next().unwrap_or("0");
    if major == "0" {
        format!("0.{minor}")
    } else {
        major.to_string()
    }
}

/// Where the files go.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The installation prefix, written into `actkern.pc` and the CMake files.
    pub prefix: PathBuf,
    /// Libraries, `actkern.pc` (in `pkgconfig/`) and the CMake package (in `cmake/actkern/`).
    pub libdir: PathBuf,
    /// `actkern.h`.
    pub includedir: PathBuf,
    /// A staging directory prepended to every path written to, but not to paths written into
    /// files.
    pub destdir: Option<PathBuf>,
}

impl Layout {
    /// `<prefix>/lib` and `<prefix>/include`, no staging directory.
    pub fn under(prefix: &Path) -> Layout {
        Layout {
            prefix: prefix.to_path_buf(),
            libdir: prefix.join("lib"),
            includedir: prefix.join("include"),
            destdir: None,
        }
    }

    /// Where a final path is written to: under `destdir` when there is one.
    fn staged(&self, path: &Path) -> PathBuf {
        match &self.destdir {
            Some(dest) => dest.join(path.strip_prefix("/").unwrap_or(path)),
            None => path.to_path_buf(),
        }
    }
}

/// The text of `actkern.pc`.
///
/// `Libs` links the shared library (the linker prefers it when both are in `libdir`). To link
/// the static one, name `${libdir}/libactkern.a` and add the `native_static_libs` variable,
/// which `Libs.private` repeats for `pkg-config --static`.
pub fn pc_file(layout: &Layout) -> String {
    format!(
        "prefix={prefix}\n\
         libdir={libdir}\n\
         includedir={includedir}\n\
         native_static_libs={NATIVE_STATIC_LIBS}\n\
         \n\
         Name: actkern\n\
         Description: SIMD activation functions and their gradients over float buffers (C ABI)\n\
         Version: {VERSION}\n\
         Cflags: -I${{includedir}}\n\
         Libs: -L${{libdir}} -lactkern\n\
         Libs.private: ${{native_static_libs}}\n",
        prefix = layout.prefix.display(),
        libdir = layout.libdir.display(),
        includedir = layout.includedir.display(),
    )
}

/// The text of `actkernConfig.cmake`: imported targets `actkern::actkern` (shared) and
/// `actkern::actkern_static`.
pub fn cmake_config(layout: &Layout) -> String {
    let libdir = layout.libdir.display();
    let includedir = layout.includedir.display();
    let so = shared_file_name();
    let soname = format!("libactkern.so.{}", soversion());
    format!(
        "# actkern {VERSION}: the C ABI of the actkern activation kernels.\n\
         #   find_package(actkern CONFIG REQUIRED)\n\
         #   target_link_libraries(app PRIVATE actkern::actkern)          # shared\n\
         #   target_link_libraries(app PRIVATE actkern::actkern_static)   # static\n\
         include(CMakeFindDependencyMacro)\n\
         find_dependency(Threads)\n\
         if(NOT TARGET actkern::actkern)\n\
         \x20 add_library(actkern::actkern SHARED IMPORTED)\n\
         \x20 set_target_properties(actkern::actkern PROPERTIES\n\
         \x20   IMPORTED_LOCATION \"{libdir}/{so}\"\n\
         \x20   IMPORTED_SONAME \"{soname}\"\n\
         \x20   INTERFACE_INCLUDE_DIRECTORIES \"{includedir}\")\n\
         endif()\n\
         if(NOT TARGET actkern::actkern_static)\n\
         \x20 add_library(actkern::actkern_static STATIC IMPORTED)\n\
         \x20 set_target_properties(actkern::actkern_static PROPERTIES\n\
         \x20   IMPORTED_LOCATION \"{libdir}/libactkern.a\"\n\
         \x20   INTERFACE_INCLUDE_DIRECTORIES \"{includedir}\"\n\
         \x20   INTERFACE_LINK_LIBRARIES \"Threads::Threads;${{CMAKE_DL_LIBS}};m;rt;util\")\n\
         endif()\n"
    )
}

/// The text of `actkernConfigVersion.cmake`: a request for version X.Y is met when X.Y is this
/// version's major (and, while it is 0, minor) and X.Y.Z is not newer than this one.
pub fn cmake_config_version() -> String {
    let abi = soversion();
    format!(
        "set(PACKAGE_VERSION \"{VERSION}\")\n\
         set(PACKAGE_VERSION_COMPATIBLE FALSE)\n\
         if(PACKAGE_FIND_VERSION VERSION_LESS_EQUAL PACKAGE_VERSION)\n\
         \x20 if(\"{abi}\" MATCHES \"^0\\\\.\")\n\
         \x20   set(_actkern_abi \"${{PACKAGE_FIND_VERSION_MAJOR}}.${{PACKAGE_FIND_VERSION_MINOR}}\")\n\
         \x20 else()\n\
         \x20   set(_actkern_abi \"${{PACKAGE_FIND_VERSION_MAJOR}}\")\n\
         \x20 endif()\n\
         \x20 if(_actkern_abi STREQUAL \"{abi}\")\n\
         \x20   set(PACKAGE_VERSION_COMPATIBLE TRUE)\n\
         \x20 endif()\n\
         endif()\n\
         if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)\n\
         \x20 set(PACKAGE_VERSION_EXACT TRUE)\n\
         endif()\n"
    )
}

/// `libactkern.so.<x.y.z>`.
pub fn shared_file_name() -> String {
    format!("libactkern.so.{VERSION}")
}

fn copy(from: &Path, to: &Path, installed: &mut Vec<PathBuf>) -> io::Result<()> {
    fs::copy(from, to)
        .map_err(|e| io::Error::new(e.kind(), format!("copying {} to {}: {e}", from.display(), to.display())))?;
    installed.push(to.to_path_buf());
    Ok(())
}

fn write(path: &Path, text: &str, installed: &mut Vec<PathBuf>) -> io::Result<()> {
    fs::write(path, text).map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))?;
    installed.push(path.to_path_buf());
    Ok(())
}

/// Replaces whatever is at `link` with a symbolic link to `target` (a file name in the same
/// directory).
#[cfg(unix)]
fn symlink(target: &str, link: &Path, installed: &mut Vec<PathBuf>) -> io::Result<()> {
    match fs::symlink_metadata(link) {
        Ok(_) => fs::remove_file(link)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::os::unix::fs::symlink(target, link)
        .map_err(|e| io::Error::new(e.kind(), format!("linking {} to {target}: {e}", link.display())))?;
    installed.push(link.to_path_buf());
    Ok(())
}

/// Installs the header `header`, and `libactkern.a` and `libactkern.so` from `artifacts` (a
/// cargo profile directory such as `target/release`), as laid out above. Returns the paths
/// written. Every source is checked before anything is written.
pub fn install(artifacts: &Path, header: &Path, layout: &Layout) -> io::Result<Vec<PathBuf>> {
    let static_lib = artifacts.join("libactkern.a");
    let shared_lib = artifacts.join("libactkern.so");
    for source in [header, static_lib.as_path(), shared_lib.as_path()] {
        if !source.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} does not exist; build it first with `cargo build --release -p actkern-capi`",
                    source.display()
                ),
            ));
        }
    }
    let includedir = layout.staged(&layout.includedir);
    let libdir = layout.staged(&layout.libdir);
    let pkgconfig = libdir.join("pkgconfig");
    let cmake = libdir.join("cmake").join("actkern");
    for dir in [&includedir, &libdir, &pkgconfig, &cmake] {
        fs::create_dir_all(dir).map_err(|e| io::Error::new(e.kind(), format!("creating {}: {e}", dir.display())))?;
    }

    let mut installed = Vec::new();
    copy(header, &includedir.join("actkern.h"), &mut installed)?;
    copy(&static_lib, &libdir.join("libactkern.a"), &mut installed)?;
    let versioned = shared_file_name();
    let soname = format!("libactkern.so.{}", soversion());
    // Through a new file and a rename: a running program keeps the library it mapped.
    let tmp = libdir.join(format!(".{versioned}.tmp"));
    fs::copy(&shared_lib, &tmp)
        .map_err(|e| io::Error::new(e.kind(), format!("copying {}: {e}", shared_lib.display())))?;
    fs::rename(&tmp, libdir.join(&versioned))?;
    installed.push(libdir.join(&versioned));
    #[cfg(unix)]
    {
        symlink(&versioned, &libdir.join(&soname), &mut installed)?;
        symlink(&soname, &libdir.join("libactkern.so"), &mut installed)?;
    }
    #[cfg(not(unix))]
    let _ = soname;
    write(&pkgconfig.join("actkern.pc"), &pc_file(layout), &mut installed)?;
    write(
        &cmake.join("actkernConfig.cmake"),
        &cmake_config(layout),
        &mut installed,
    )?;
    write(
        &cmake.join("actkernConfigVersion.cmake"),
        &cmake_config_version(),
        &mut installed,
    )?;
    Ok(installed)
}
