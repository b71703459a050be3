//! Gives `libactkern.so` its SONAME, `libactkern.so.<major>` (`libactkern.so.0` while the
//! version is 0.x, whose minor releases may break the ABI: `libactkern.so.0.<minor>` then),
//! so programs linked against it name the ABI they were built for. `cargo xtask install` lays
//! out the versioned file and the links that SONAME expects.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets the version");
    let soname = if major == "0" {
        format!("libactkern.so.0.{minor}")
    } else {
        format!("libactkern.so.{major}")
    };
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
