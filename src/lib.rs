//! # actkern
//!
//! SIMD-vectorized neural-network activation functions and their gradients over `f32`, `bf16`
//! and `f16` slices, following PyTorch's CPU semantics. Every formula, parameter, value at a kink, special-value
//! rule and accuracy bound is in the contract, `docs/CONTRACT.md` (shipped with the crate); the
//! code and tests cite it as `CONTRACT §n`.
//!
//! Every activation is written once, in its own file under `kernels/`, as loop-free functions of
//! a [`Vector`]; the same source is instantiated for AVX-512, AVX2+FMA, portable `wide::f32x8`
//! and one-lane `f32`, chosen at run time ([`Backend`]). One driver owns loops, tails and rayon.
//!
//! ```
//! use actkern::{Activation, Apply, Gelu, Tanh};
//!
//! let x: Vec<f32> = (-8..8).map(|i| i as f32 * 0.5).collect();
//! let mut y = vec![0.0; x.len()];
//!
//! // Known at compile time: a typed kernel.
//! Tanh.forward(&x, &mut y);
//!
//! // Chosen at run time: parse a spec string.
//! let act: Activation = "leaky_relu(negative_slope=0.2)".parse()?;
//! act.forward(&x, &mut y);
//! assert_eq!(y[0], -0.8);
//!
//! // Gradients: dx = dy · f'(x), fused.
//! let dy = vec![1.0; x.len()];
//! let mut dx = vec![0.0; x.len()];
//! act.backward(&x, &dy, &mut dx);
//! assert_eq!(dx[0], 0.2);
//! # Ok::<(), actkern::ParseError>(())
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[macro_use]
#[path = "../kernels/mod.rs"]
pub mod kernels;

pub mod accuracy;
mod activation;
mod apply;
#[allow(unsafe_code)]
mod backend;
mod driver;
mod element;
mod gated;
pub mod kernel;
pub mod math;
mod prelu;
pub mod reference;
mod softmax;
mod spec;

pub use activation::{ACTIVATIONS, Activation, ActivationInfo};
pub use apply::{Apply, Custom, Fast, FromOutputError, InTier, KernelVisitor, Serial, Tier};
pub use backend::{Backend, BackendError, Vector, backend, backend_from_env, set_backend, with_backend};
pub use driver::PARALLEL_THRESHOLD;
pub use element::{Dtype, DtypeError, Element};
pub use gated::{GATED, Gated, GatedParseError};
/// The `half` crate, whose [`bf16`](half::bf16) and [`f16`](half::f16) are the 16-bit element
/// types, re-exported so that a user's version always matches actkern's.
pub use half;
pub use kernel::{FromOutput, FromOutputSupport, Kernel, Param, ParamKind, ParamType, ParamValue, Params, Range};
pub use prelu::{
    prelu, prelu_backward, prelu_backward_inplace, prelu_inplace, rrelu_slope, rrelu_train, rrelu_train_backward,
};
pub use softmax::{
    RowFn, RowFnError, Rows, log_softmax, log_softmax_backward, log_softmax_inplace, softmax, softmax_backward,
    softmax_inplace, softmax_masked_rows_zero, softmin, softmin_backward, softmin_inplace,
};

/// The typed kernels by name (`actkern::Gelu`, `actkern::Tanh`, ...), documented at the root.
macro_rules! export_kernels {
    ($($module:ident :: $ty:ident),* $(,)?) => {
        $(
            #[doc(inline)]
            pub use kernels::$module::$ty;
        )*
    };
}
for_each_kernel!(export_kernels);
/// Which formula [`Gelu`] computes: exact or its tanh approximation.
#[doc(inline)]
pub use kernels::gelu::Approximate as GeluApproximate;
pub use spec::ParseError;

/// The README's Rust program, compiled and run as a doc-test so that it works as pasted.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
