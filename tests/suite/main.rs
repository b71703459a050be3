//! The library's integration tests, in one test binary so that every kernel is instantiated
//! once per profile (each file of `tests/` would otherwise be a crate of its own, compiling
//! every kernel on every backend again). Run one group with `cargo test --release --test suite
//! <module>::`, e.g. `strided_sweep::`.
//!
//! The C ABI's tests are `capi/tests/c_abi.rs` and the command line's `cli/tests/cli.rs`.

mod common;

mod backend_ops;
mod driver;
mod fused;
mod half_types;
mod packaging;
mod random_inputs;
mod reference;
mod softmax;
mod spec_strings;
mod special_values;
mod strided_sweep;
