//! Checks that the registry `kernels/mod.rs` names every kernel file, so that a new file of
//! `kernels/` is not silently left out of the crate. The registry is a checked-in file written
//! by `cargo xtask codegen`; this only warns (so that the generator, which links this crate,
//! still builds), and the test `generated_files_are_up_to_date` fails on any difference.

use std::path::Path;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join("kernels");
    println!("cargo:rerun-if-changed={}", dir.display());
    let registry = std::fs::read_to_string(dir.join("mod.rs")).unwrap_or_default();
    let files = std::fs::read_dir(&dir).expect("kernels/ exists");
    for path in files.map(|entry| entry.expect("a readable kernels/ entry").path()) {
        let Some(module) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let is_kernel = path.extension().is_some_and(|e| e == "rs") && module != "mod";
        if is_kernel && !registry.lines().any(|l| l == format!("pub mod {module};")) {
            println!(
                "cargo:warning=kernels/{module}.rs is not in the registry kernels/mod.rs: \
                 run `cargo xtask codegen`"
            );
        }
    }
}
