//! What a Rust dependent of `actkern` compiles: the library crate only (no `staticlib` or
//! `cdylib`, which would build `libactkern.a` and `libactkern.so` into every dependent's target
//! directory, and no binary), with `wide`, `rayon` and `bytemuck` as its only dependencies.
//! Read from `cargo metadata`, the manifests as cargo sees them.

use serde_json::Value;
use std::process::Command;

/// `cargo metadata --no-deps` of this workspace.
fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

fn package<'a>(metadata: &'a Value, name: &str) -> &'a Value {
    metadata["packages"]
        .as_array()
        .expect("a package list")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

/// The kinds of each target that is not a test, bench, example or build script.
fn targets(package: &Value) -> Vec<(String, Vec<String>)> {
    let skip = ["test", "bench", "example", "custom-build"];
    package["targets"]
        .as_array()
        .expect("a target list")
        .iter()
        .map(|t| {
            let kinds: Vec<String> = t["kind"]
                .as_array()
                .expect("kinds")
                .iter()
                .map(|k| k.as_str().expect("a kind").to_string())
                .collect();
            (t["name"].as_str().expect("a name").to_string(), kinds)
        })
        .filter(|(_, kinds)| !kinds.iter().any(|k| skip.contains(&k.as_str())))
        .collect()
}

#[test]
fn the_library_is_a_plain_rust_library() {
    let m = metadata();
    assert_eq!(
        targets(package(&m, "actkern")),
        [("actkern".to_string(), vec!["lib".to_string()])]
    );
}

#[test]
fn the_library_depends_on_wide_rayon_bytemuck_and_half_only() {
    let m = metadata();
    let mut normal: Vec<&str> = package(&m, "actkern")["dependencies"]
        .as_array()
        .expect("a dependency list")
        .iter()
        .filter(|d| d["kind"].is_null())
        .map(|d| d["name"].as_str().expect("a name"))
        .collect();
    normal.sort_unstable();
    assert_eq!(normal, ["bytemuck", "half", "rayon", "wide"]);
}

#[test]
fn the_c_libraries_and_the_binary_are_packages_of_their_own() {
    let m = metadata();
    let kinds = |kinds: &[&str]| kinds.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    assert_eq!(
        targets(package(&m, "actkern-capi")),
        [("actkern".to_string(), kinds(&["staticlib", "cdylib"]))]
    );
    assert_eq!(
        targets(package(&m, "actkern-cli")),
        [("actkern".to_string(), kinds(&["bin"]))]
    );
}
