//! The slice API shared by [`Activation`](crate::Activation), every typed kernel and [`Serial`].

use crate::backend::view::Io;
use crate::driver::{self, BinaryFn, Task, UnaryFn, Work, rows};
use crate::element::Element;
use crate::kernel::{FromOutputSupport, Kernel};
use core::fmt;

/// Something that can be done with a kernel whose type is only known at run time: implement
/// this to write code generic over the activation inside an [`Activation`](crate::Activation).
///
/// ```
/// use actkern::{Activation, Apply, Kernel, KernelVisitor};
/// struct Name;
/// impl KernelVisitor<&'static str> for Name {
///     fn visit<K: Kernel>(self, _kernel: &K) -> &'static str { K::NAME }
/// }
/// let act: Activation = "leaky_relu(negative_slope=0.2)".parse().unwrap();
/// assert_eq!(act.visit(Name), "leaky_relu");
/// ```
pub trait KernelVisitor<R> {
    /// Called with the concrete kernel.
    fn visit<K: Kernel>(self, kernel: &K) -> R;
}

/// `backward_from_output` (or `derivative_from_output`) was asked of an activation whose
/// derivative cannot be recovered from its output (CONTRACT §2.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FromOutputError {
    /// The activation's spec string.
    pub activation: String,
}

impl FromOutputError {
    /// Why, without advice on what to call instead (which depends on the interface: the CLI
    /// says `--backward DY`, Rust code [`Apply::backward`]).
    pub fn reason(&self) -> String {
        let supported: Vec<String> = crate::ACTIVATIONS
            .iter()
            .filter_map(|info| match info.from_output {
                FromOutputSupport::Never => None,
                FromOutputSupport::Always => Some(info.name.to_string()),
                FromOutputSupport::When(condition) => Some(format!("{} with {condition}", info.name)),
            })
            .collect();
        format!(
            "`{}` has no backward from the output: f'(x) cannot be recovered from y = f(x) \
             (supported: {})",
            self.activation,
            supported.join(", ")
        )
    }
}

impl fmt::Display for FromOutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; use backward(x, dy, dx) with the input x", self.reason())
    }
}

impl std::error::Error for FromOutputError {}

/// Checks that a buffer of `len` elements is whole rows of `cols` (the bias's length).
#[track_caller]
fn check_rows(name: &str, len: usize, cols: usize) {
    if cols == 0 && len != 0 {
        panic!("actkern: `bias` is empty but `{name}` has {len} elements");
    }
    if cols != 0 && !len.is_multiple_of(cols) {
        panic!("actkern: `{name}` has {len} elements, not a whole number of rows of bias.len() = {cols}");
    }
}

#[track_caller]
fn check_len(a_name: &str, a: usize, b_name: &str, b: usize) {
    if a != b {
        panic!("actkern: length mismatch: `{a_name}` has {a} elements but `{b_name}` has {b}");
    }
}

/// Applies an activation to slices of `f32`, [`bf16`](half::bf16) or [`f16`](half::f16):
/// forward, derivative and backward.
///
/// Implemented by [`Activation`](crate::Activation) (chosen at run time), by every typed kernel
/// such as [`Tanh`](crate::Tanh) or [`Elu`](crate::Elu) (known at compile time, no `match`), by
/// [`Serial`] (the same, never on more than the calling thread), by references and boxes of any
/// of these, and by [`Custom`] (a [`Kernel`] of another crate).
///
/// # Threads
/// Buffers of at least [`PARALLEL_THRESHOLD`](crate::PARALLEL_THRESHOLD) elements are split
/// into chunks run on rayon's current pool (the caller's pool under `ThreadPool::install`, else
/// the global one); shorter ones run on the calling thread and never touch rayon. Wrap the
/// activation in [`Serial`] to always stay on the calling thread. The bits of every output are
/// the same either way, whatever the thread count, length or alignment.
///
/// # Element types
/// Every method is generic over the [`Element`] type, the same for all slices of one call.
/// `bf16` and `f16` elements are widened exactly, the `f32` kernel runs, and each result is
/// rounded once to nearest-even: the bits of `bf16::from_f32` (or `f16::from_f32`) of the `f32`
/// method's result on the widened input.
///
/// # Panics
/// Every method panics, before writing anything, when its slices differ in length; the message
/// names both lengths. Empty slices are fine.
///
/// ```
/// use actkern::{Activation, Apply, Elu, Tanh};
/// let x = [-2.0f32, -0.5, 0.0, 0.5, 2.0];
/// let mut y = [0.0f32; 5];
///
/// Tanh.forward(&x, &mut y); // typed: no string, no match
/// assert!((y[4] - 2.0f32.tanh()).abs() <= f32::EPSILON);
///
/// let elu: Activation = "elu(alpha=0.5)".parse().unwrap();
/// elu.forward(&x, &mut y);
/// assert_eq!(y[4], 2.0);
/// assert_eq!(elu, Activation::Elu(Elu { alpha: 0.5 }));
///
/// let dy = [1.0f32; 5];
/// let mut dx = [0.0f32; 5];
/// elu.backward(&x, &dy, &mut dx); // dx = dy · f'(x)
/// assert_eq!(dx[3], 1.0);
///
/// // The same methods take bf16 and f16 buffers.
/// use half::f16;
/// let x16 = x.map(f16::from_f32);
/// let mut y16 = [f16::ZERO; 5];
/// Tanh.forward(&x16, &mut y16);
/// assert_eq!(y16[4], f16::from_f32(2.0f32.tanh()));
/// ```
pub trait Apply {
    /// Calls `visitor` with the concrete kernel.
    fn visit<R>(&self, visitor: impl KernelVisitor<R>) -> R;

    /// Whether long buffers may be split across rayon threads (`false` for [`Serial`]).
    fn allows_threads(&self) -> bool {
        true
    }

    /// The accuracy tier the slice methods run in ([`Tier::Fast`] for [`Fast`]).
    fn tier(&self) -> Tier {
        Tier::Accurate
    }

    /// Runs one slice-method call: through [`Apply::visit`] by default. [`Activation`] and the
    /// typed kernels of this crate override it with a non-generic function, so that the driver
    /// and the kernels are compiled once, in this crate, and not again in every crate that
    /// calls a slice method (release builds do not share generic instantiations across crates);
    /// the wrappers forward it. Not for calling directly.
    ///
    /// [`Activation`]: crate::Activation
    #[doc(hidden)]
    fn run(&self, call: Call<'_>) -> Result<(), FromOutputError> {
        self.visit(call)
    }

    /// `y[i] = f(x[i])`.
    #[track_caller]
    fn forward<E: Element>(&self, x: &[E], y: &mut [E]) {
        check_len("x", x.len(), "y", y.len());
        let _ = self.run(Call::new(self, Task::Unary(UnaryFn::Forward, Io::unary(x, y))));
    }

    /// `x[i] = f(x[i])`.
    fn forward_inplace<E: Element>(&self, x: &mut [E]) {
        let _ = self.run(Call::new(self, Task::Unary(UnaryFn::Forward, Io::unary_in_place(x))));
    }

    /// `d[i] = f'(x[i])`.
    #[track_caller]
    fn derivative<E: Element>(&self, x: &[E], d: &mut [E]) {
        check_len("x", x.len(), "d", d.len());
        let _ = self.run(Call::new(self, Task::Unary(UnaryFn::Derivative, Io::unary(x, d))));
    }

    /// `dx[i] = dy[i] · f'(x[i])`, fused; exactly `dy[i]` or `0` on linear pieces of slope 1 or 0.
    #[track_caller]
    fn backward<E: Element>(&self, x: &[E], dy: &[E], dx: &mut [E]) {
        check_len("x", x.len(), "dy", dy.len());
        check_len("x", x.len(), "dx", dx.len());
        let _ = self.run(Call::new(self, Task::Binary(BinaryFn::Backward, Io::binary(x, dy, dx))));
    }

    /// `dy_dx[i] = dy_dx[i] · f'(x[i])`: the incoming gradient is overwritten by the outgoing one.
    #[track_caller]
    fn backward_inplace<E: Element>(&self, x: &[E], dy_dx: &mut [E]) {
        check_len("x", x.len(), "dy_dx", dy_dx.len());
        let _ = self.run(Call::new(
            self,
            Task::Binary(BinaryFn::Backward, Io::binary_in_place(x, dy_dx)),
        ));
    }

    /// `d[i] = f'(x[i])` computed from `y[i] = f(x[i])` alone (CONTRACT §2.3), for engines that keep
    /// only the output. An error, writing nothing, for activations where `y` does not determine
    /// `f'(x)`.
    #[track_caller]
    fn derivative_from_output<E: Element>(&self, y: &[E], d: &mut [E]) -> Result<(), FromOutputError> {
        check_len("y", y.len(), "d", d.len());
        self.run(Call::new(
            self,
            Task::Unary(UnaryFn::DerivativeFromOutput, Io::unary(y, d)),
        ))
    }

    /// `dx[i] = dy[i] · f'(x[i])` computed from `y[i] = f(x[i])` (CONTRACT §2.3). An error, writing
    /// nothing, for activations where `y` does not determine `f'(x)`.
    #[track_caller]
    fn backward_from_output<E: Element>(&self, y: &[E], dy: &[E], dx: &mut [E]) -> Result<(), FromOutputError> {
        check_len("y", y.len(), "dy", dy.len());
        check_len("y", y.len(), "dx", dx.len());
        self.run(Call::new(
            self,
            Task::Binary(BinaryFn::BackwardFromOutput, Io::binary(y, dy, dx)),
        ))
    }

    /// Bias + activation over `x` of shape [rows, cols], `cols = bias.len()`:
    /// `y[r, j] = f(x[r, j] + bias[j])`. The sum is rounded to `f32` first, so `y` is
    /// bit-identical to an add followed by [`forward`](Apply::forward). Rows of 256 or more are
    /// one pass, the sum formed in the registers; shorter rows are summed into a block that the
    /// activation then runs on while it is in L1. Either way the buffers are read and written once.
    ///
    /// ```
    /// use actkern::{Apply, Relu};
    /// let x = [1.0f32, -2.0, -1.0, 3.0]; // 2 rows × 2 cols
    /// let mut y = [0.0f32; 4];
    /// Relu.forward_bias(&x, &[0.5, 1.5], &mut y);
    /// assert_eq!(y, [1.5, 0.0, 0.0, 4.5]);
    /// ```
    ///
    /// # Panics
    /// When `x.len()` is not a multiple of `bias.len()` (or `bias` is empty and `x` is not), or
    /// `y`'s length differs from `x`'s.
    #[track_caller]
    fn forward_bias<E: Element>(&self, x: &[E], bias: &[E], y: &mut [E])
    where
        Self: Sync,
    {
        check_len("x", x.len(), "y", y.len());
        check_rows("x", x.len(), bias.len());
        rows::forward_bias(self, Some(x), bias, y, true);
    }

    /// As [`forward_bias`](Apply::forward_bias), in place: `x[r, j] = f(x[r, j] + bias[j])`.
    #[track_caller]
    fn forward_bias_inplace<E: Element>(&self, x: &mut [E], bias: &[E])
    where
        Self: Sync,
    {
        check_rows("x", x.len(), bias.len());
        rows::forward_bias(self, None, bias, x, true);
    }

    /// The backward of [`forward_bias`](Apply::forward_bias): `dx[r, j] = dy[r, j]·f'(x[r, j] +
    /// bias[j])`, bit-identical to an add followed by [`backward`](Apply::backward), and
    /// `dbias[j] = Σ_r dx[r, j]`, summed in `f64` from the `dx` written and rounded once.
    ///
    /// ```
    /// use actkern::{Apply, Relu};
    /// let x = [1.0f32, -2.0, -1.0, 3.0]; // 2 rows × 2 cols
    /// let dy = [1.0f32, 2.0, 3.0, 4.0];
    /// let (mut dx, mut dbias) = ([0.0f32; 4], [0.0f32; 2]);
    /// Relu.backward_bias(&x, &[0.5, 1.5], &dy, &mut dx, &mut dbias);
    /// assert_eq!(dx, [1.0, 0.0, 0.0, 4.0]);
    /// assert_eq!(dbias, [1.0, 4.0]);
    /// ```
    ///
    /// # Panics
    /// As [`forward_bias`](Apply::forward_bias), and when `dbias.len() != bias.len()`.
    #[track_caller]
    fn backward_bias<E: Element>(&self, x: &[E], bias: &[E], dy: &[E], dx: &mut [E], dbias: &mut [E])
    where
        Self: Sync,
    {
        check_len("x", x.len(), "dy", dy.len());
        check_len("x", x.len(), "dx", dx.len());
        check_rows("x", x.len(), bias.len());
        check_len("bias", bias.len(), "dbias", dbias.len());
        rows::backward_bias(self, x, bias, Some(dy), dx, dbias, true);
    }

    /// As [`backward_bias`](Apply::backward_bias), with `dx` written over `dy` (`dy_dx`).
    #[track_caller]
    fn backward_bias_inplace<E: Element>(&self, x: &[E], bias: &[E], dy_dx: &mut [E], dbias: &mut [E])
    where
        Self: Sync,
    {
        check_len("x", x.len(), "dy_dx", dy_dx.len());
        check_rows("x", x.len(), bias.len());
        check_len("bias", bias.len(), "dbias", dbias.len());
        rows::backward_bias(self, x, bias, None, dy_dx, dbias, true);
    }

    /// Whether [`Apply::backward_from_output`] is supported.
    fn has_backward_from_output(&self) -> bool {
        struct Has;
        impl KernelVisitor<bool> for Has {
            fn visit<K: Kernel>(self, k: &K) -> bool {
                k.has_derivative_from_output()
            }
        }
        self.visit(Has)
    }
}

/// One slice-method call: its slices, with the threading and tier of the [`Apply`] it was
/// called on. Opaque: only this crate's slice methods make one.
#[doc(hidden)]
pub struct Call<'a> {
    work: Work<'a>,
    parallel: bool,
    tier: Tier,
}

impl<'a> Call<'a> {
    pub(crate) fn new<A: Apply + ?Sized, E: Element>(on: &A, task: Task<'a, E>) -> Call<'a> {
        Call {
            work: E::work(task),
            parallel: on.allows_threads(),
            tier: on.tier(),
        }
    }
}

impl KernelVisitor<Result<(), FromOutputError>> for Call<'_> {
    fn visit<K: Kernel>(self, k: &K) -> Result<(), FromOutputError> {
        driver::execute(k, self.work, self.parallel, self.tier)
    }
}

/// A borrowed activation applies like the activation itself, so `Serial(&act)` and generic
/// code taking `impl Apply` accept a reference.
///
/// ```
/// use actkern::{Activation, Apply, Serial};
/// let act: Activation = "gelu".parse().unwrap();
/// let mut y = [0.0f32; 2];
/// Serial(&act).forward(&[0.0, 1.0], &mut y);
/// assert_eq!(y[0], 0.0);
/// ```
impl<A: Apply + ?Sized> Apply for &A {
    fn visit<R>(&self, visitor: impl KernelVisitor<R>) -> R {
        (**self).visit(visitor)
    }
    fn run(&self, call: Call<'_>) -> Result<(), FromOutputError> {
        (**self).run(call)
    }
    fn allows_threads(&self) -> bool {
        (**self).allows_threads()
    }
    fn tier(&self) -> Tier {
        (**self).tier()
    }
}

/// A boxed activation applies like the activation itself.
impl<A: Apply + ?Sized> Apply for Box<A> {
    fn visit<R>(&self, visitor: impl KernelVisitor<R>) -> R {
        (**self).visit(visitor)
    }
    fn run(&self, call: Call<'_>) -> Result<(), FromOutputError> {
        (**self).run(call)
    }
    fn allows_threads(&self) -> bool {
        (**self).allows_threads()
    }
    fn tier(&self) -> Tier {
        (**self).tier()
    }
}

/// Applies a [`Kernel`] written outside actkern (actkern's own kernels implement [`Apply`]
/// directly). A blanket `impl Apply for K: Kernel` would keep `&A` and `Box<A>` from
/// implementing [`Apply`], so kernels of other crates are wrapped instead.
///
/// ```
/// use actkern::{Apply, Custom, Kernel, Vector};
///
/// actkern::kernel_params! {
///     /// f(x) = 2x.
///     struct Double;
/// }
///
/// impl Kernel for Double {
///     const NAME: &'static str = "double";
///     const FORMULA: &'static str = "2x; f'(x) = 2";
///     const EXAMPLES: &'static [&'static str] = &[];
///     fn forward<V: Vector>(&self, x: V) -> V { x + x }
///     fn derivative<V: Vector>(&self, x: V) -> V { x * V::splat(0.0) + V::splat(2.0) }
///     fn reference_forward(&self, x: f64) -> f64 { 2.0 * x }
///     fn reference_derivative(&self, _: f64) -> f64 { 2.0 }
/// }
///
/// let mut y = [0.0f32; 3];
/// Custom(Double).forward(&[1.0, -2.0, 0.5], &mut y);
/// assert_eq!(y, [2.0, -4.0, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Custom<K>(pub K);

impl<K: Kernel> Apply for Custom<K> {
    fn visit<R>(&self, visitor: impl KernelVisitor<R>) -> R {
        visitor.visit(&self.0)
    }
}

/// Every kernel of `kernels/` implements [`Apply`] itself.
macro_rules! impl_apply_for_kernels {
    ($($module:ident :: $ty:ident),* $(,)?) => {
        $(
            impl Apply for crate::kernels::$module::$ty {
                fn visit<R>(&self, visitor: impl KernelVisitor<R>) -> R {
                    visitor.visit(self)
                }
                fn run(&self, call: Call<'_>) -> Result<(), FromOutputError> {
                    call.visit(self)
                }
            }
        )*
    };
}

for_each_kernel!(impl_apply_for_kernels);

/// Runs the wrapped activation on the calling thread only, whatever the buffer length: for
/// engines that bring their own threads. It wraps anything that implements [`Apply`]: a typed
/// kernel, an [`Activation`](crate::Activation), or a reference to either.
///
/// ```
/// use actkern::{Activation, Apply, Serial, Sigmoid};
/// let x = vec![0.0f32; 1 << 20];
/// let mut y = vec![0.0f32; 1 << 20];
/// Serial(Sigmoid).forward(&x, &mut y); // never touches rayon
/// assert!(y.iter().all(|&v| v == 0.5));
///
/// let act: Activation = "sigmoid".parse().unwrap();
/// Serial(&act).forward(&x, &mut y); // borrowed: `act` stays usable
/// assert_eq!(act.name(), "sigmoid");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Serial<A>(pub A);

impl<A: Apply> Apply for Serial<A> {
    fn visit<R>(&self, visitor: impl KernelVisitor<R>) -> R {
        self.0.visit(visitor)
    }
    fn run(&self, call: Call<'_>) -> Result<(), FromOutputError> {
        self.0.run(call)
    }
    fn allows_threads(&self) -> bool {
        false
    }
    fn tier(&self) -> Tier {
        self.0.tier()
    }
}

/// How close to the exact result an activation's slice methods are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Tier {
    /// The default: within CONTRACT §4's bounds (at most 2 ULP for the transcendental functions),
    /// the same bits on every backend with fused multiply-add.
    #[default]
    Accurate,
    /// The bound that rten-vecmath and XNNPACK document, for engines that accept it: at most
    /// 4 ULP forward and derivative and 5 ULP backward wherever the result is a normal float,
    /// with the accurate tier's NaN, infinity, signed-zero and kink rules. The contract lets
    /// results differ between backends; in this release they still agree bit for bit, because
    /// the fast tier divides as the accurate one does instead of refining a reciprocal estimate
    /// (whose bits differ between AVX-512 and AVX2; `docs/DESIGN.md` says why). The measured
    /// errors are in the README's accuracy table.
    Fast,
}

impl Tier {
    /// `"accurate"` or `"fast"`.
    pub const fn name(self) -> &'static str {
        match self {
            Tier::Accurate => "accurate",
            Tier::Fast => "fast",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs the wrapped activation in the fast tier ([`Tier::Fast`]): cheaper steps in the shared
/// math of the transcendental functions (a shorter polynomial for eˣ, rounding errors no longer
/// carried as low parts through a corrected division), within 4 ULP forward
/// and derivative and 5 ULP backward wherever the result is a normal float. Piecewise-linear
/// activations have one tier and run unchanged. It wraps anything that implements [`Apply`] and
/// composes with [`Serial`] either way round.
///
/// ```
/// use actkern::{Activation, Apply, Fast, Serial, Sigmoid, Tier};
/// let x = [-3.0f32, -0.5, 0.0, 0.5, 3.0];
/// let (mut accurate, mut fast) = ([0.0f32; 5], [0.0f32; 5]);
/// Sigmoid.forward(&x, &mut accurate);
/// Fast(Sigmoid).forward(&x, &mut fast);
/// for (a, f) in accurate.iter().zip(&fast) {
///     assert!((a - f).abs() <= 4.0 * f32::EPSILON * a.abs());
/// }
///
/// let act: Activation = "gelu(approximate=tanh)".parse().unwrap();
/// assert_eq!(Serial(Fast(&act)).tier(), Tier::Fast);
/// Fast(Serial(&act)).forward(&x, &mut fast); // one thread, fast tier
/// assert_eq!(fast[2], 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fast<A>(pub A);

impl<A: Apply> Apply for Fast<A> {
    fn visit<R>(&self, visitor: impl KernelVisitor<R>) -> R {
        self.0.visit(visitor)
    }
    fn run(&self, call: Call<'_>) -> Result<(), FromOutputError> {
        self.0.run(call)
    }
    fn allows_threads(&self) -> bool {
        self.0.allows_threads()
    }
    fn tier(&self) -> Tier {
        Tier::Fast
    }
}

/// Runs the wrapped activation in a tier chosen at run time (a command-line flag, a C handle):
/// `InTier(act, Tier::Fast)` is [`Fast`]`(act)`, `InTier(act, Tier::Accurate)` is `act`.
///
/// ```
/// use actkern::{Apply, Fast, InTier, Sigmoid, Tier};
/// let x = [-3.0f32, 0.5, 3.0];
/// let (mut a, mut b) = ([0.0f32; 3], [0.0f32; 3]);
/// InTier(Sigmoid, Tier::Fast).forward(&x, &mut a);
/// Fast(Sigmoid).forward(&x, &mut b);
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InTier<A>(pub A, pub Tier);

impl<A: Apply> Apply for InTier<A> {
    fn visit<R>(&self, visitor: impl KernelVisitor<R>) -> R {
        self.0.visit(visitor)
    }
    fn run(&self, call: Call<'_>) -> Result<(), FromOutputError> {
        self.0.run(call)
    }
    fn allows_threads(&self) -> bool {
        self.0.allows_threads()
    }
    fn tier(&self) -> Tier {
        self.1
    }
}
