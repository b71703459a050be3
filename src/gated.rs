//! Gated activations: the feed-forward blocks of current language models, fused so that the
//! gate and the product are one pass over the buffers (CONTRACT §6).

use crate::Serial;
use crate::backend::Vector;
use crate::backend::view::{In, Io, Out};
use crate::driver::rows;
use crate::driver::{VectorFn, run_fn};
use crate::element::Element;
use crate::kernel::Kernel;
use crate::kernels::gelu::{Approximate, Gelu};
use crate::kernels::{relu::Relu, sigmoid::Sigmoid, silu::Silu};
use core::fmt;
use std::str::FromStr;

/// A gated activation: an activation of one input times the other. `a` is the first input (or
/// the first half of a row), `b` the second.
///
/// | spec | forward | as in |
/// |---|---|---|
/// | `glu` | a·σ(b) | PyTorch `F.glu` |
/// | `swiglu` | silu(a)·b | LLaMA, Mistral, Qwen; vLLM `silu_and_mul` |
/// | `geglu`, `geglu(approximate=tanh)` | gelu(a)·b | Gemma, T5 |
/// | `reglu` | relu(a)·b | ggml `reglu` |
///
/// The backward of `f(a)·b` is `da = f.backward(a, dout·b)` (the activation's fused backward,
/// so exactly 0 on a flat piece of `f`) and `db = dout·f(a)`; of glu, `da = dout·σ(b)` and
/// `db = σ.backward(b, dout·a)`.
///
/// Two slices, or the halves layout of a fused projection (PyTorch's `chunk(2, -1)`: each row of
/// `x` is `[a | b]`, `2·cols` long):
///
/// ```
/// use actkern::Gated;
///
/// let swiglu: Gated = "swiglu".parse()?;
/// let (a, b) = ([1.0f32, -2.0], [3.0f32, 0.5]);
/// let mut out = [0.0f32; 2];
/// swiglu.forward(&a, &b, &mut out);
/// assert!((out[0] - 3.0 / (1.0 + (-1.0f32).exp())).abs() < 1e-6);
///
/// // Two rows of [a | b] with cols = 2: the output is [rows, cols].
/// let x = [1.0f32, -2.0, 3.0, 0.5, /* row 2 */ 0.0, 0.0, 1.0, 1.0];
/// let mut y = [0.0f32; 4];
/// swiglu.forward_halves(&x, 2, &mut y);
/// assert_eq!(&y[..2], &out);
///
/// // Gradients of both halves from the gradient of the output.
/// let dout = [1.0f32; 4];
/// let mut dx = [0.0f32; 8];
/// swiglu.backward_halves(&x, &dout, 2, &mut dx);
/// assert_eq!(dx[6], y[2]); // db = dout · silu(a)
/// # Ok::<(), actkern::GatedParseError>(())
/// ```
///
/// Buffers of at least [`PARALLEL_THRESHOLD`](crate::PARALLEL_THRESHOLD) elements run on rayon's
/// threads (by rows in the halves layout); [`Serial`]`(gated)` has the same methods on the
/// calling thread. Every method takes `f32`, `bf16` or `f16` buffers (one type per call), with
/// the element-type rule of [`Apply`](crate::Apply). Gated activations run the accurate tier.
///
/// # Panics
/// When the slices' lengths do not fit (the message names them), before writing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Gated {
    /// a·σ(b).
    Glu,
    /// silu(a)·b.
    Swiglu,
    /// gelu(a)·b, with gelu's exact form or its tanh approximation.
    Geglu(Approximate),
    /// relu(a)·b.
    Reglu,
}

/// Every gated activation, with the names the parser accepts.
pub const GATED: &[Gated] = &[
    Gated::Glu,
    Gated::Swiglu,
    Gated::Geglu(Approximate::None),
    Gated::Geglu(Approximate::Tanh),
    Gated::Reglu,
];

/// Why a gated spec string did not parse: names what was wrong and what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatedParseError {
    /// The spec string as given.
    pub spec: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for GatedParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot parse gated activation `{}`: {}; expected one of: glu, swiglu, geglu, \
             geglu(approximate=tanh), reglu",
            self.spec, self.reason
        )
    }
}

impl std::error::Error for GatedParseError {}

impl FromStr for Gated {
    type Err = GatedParseError;

    /// `glu`, `swiglu`, `geglu`, `geglu(approximate=none|tanh)` or `reglu`; white space is
    /// ignored, names are case-insensitive, the value may be quoted.
    fn from_str(spec: &str) -> Result<Gated, GatedParseError> {
        let error = |reason: String| GatedParseError {
            spec: spec.to_string(),
            reason,
        };
        let compact: String = spec
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let (name, args) = match compact.split_once('(') {
            None => (compact.as_str(), None),
            Some((name, rest)) => {
                let args = rest
                    .strip_suffix(')')
                    .ok_or_else(|| error("expected `)` at the end".into()))?;
                (name, Some(args))
            }
        };
        let takes_none = |g: Gated| match args {
            None | Some("") => Ok(g),
            Some(args) => Err(error(format!("`{name}` takes no parameters, got `{args}`"))),
        };
        match name {
            "glu" => takes_none(Gated::Glu),
            "swiglu" => takes_none(Gated::Swiglu),
            "reglu" => takes_none(Gated::Reglu),
            "geglu" => match args {
                None | Some("") => Ok(Gated::Geglu(Approximate::None)),
                Some(args) => {
                    let (key, value) = args
                        .split_once('=')
                        .ok_or_else(|| error(format!("expected `approximate=none|tanh`, got `{args}`")))?;
                    if key != "approximate" {
                        return Err(error(format!(
                            "`geglu` has no parameter `{key}`; its one parameter is `approximate`"
                        )));
                    }
                    match value.trim_matches(|c| c == '\'' || c == '"') {
                        "none" => Ok(Gated::Geglu(Approximate::None)),
                        "tanh" => Ok(Gated::Geglu(Approximate::Tanh)),
                        other => Err(error(format!(
                            "invalid value `{other}` for `approximate`; it must be one of: none, tanh"
                        ))),
                    }
                }
            },
            "" => Err(error("empty name".into())),
            other => Err(error(format!("unknown gated activation `{other}`"))),
        }
    }
}

/// The spec string; it parses back to an equal value.
impl fmt::Display for Gated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Gated::Glu => "glu",
            Gated::Swiglu => "swiglu",
            Gated::Geglu(Approximate::None) => "geglu",
            Gated::Geglu(Approximate::Tanh) => "geglu(approximate=tanh)",
            Gated::Reglu => "reglu",
        })
    }
}

/// `f(a)·b` for `GLU` false, `a·f(b)` for `GLU` true (glu's σ gates the second input).
struct Product<K, const GLU: bool>(K);
/// The backward of [`Product`]: `(a, b, dout)` to `(da, db)`.
struct ProductBackward<K, const GLU: bool>(K);

impl<'a, E: Element, K: Kernel, const GLU: bool> VectorFn<(In<'a, E>, In<'a, E>), (Out<'a, E>,)> for Product<K, GLU> {
    #[inline(always)]
    fn apply<V: Vector>(&self, (a, b): (V, V)) -> V {
        if GLU {
            a * self.0.forward(b)
        } else {
            self.0.forward(a) * b
        }
    }
}

impl<'a, E: Element, K: Kernel, const GLU: bool> VectorFn<(In<'a, E>, In<'a, E>, In<'a, E>), (Out<'a, E>, Out<'a, E>)>
    for ProductBackward<K, GLU>
{
    #[inline(always)]
    fn apply<V: Vector>(&self, (a, b, dout): (V, V, V)) -> (V, V) {
        if GLU {
            (dout * self.0.forward(b), self.0.backward(b, dout * a))
        } else {
            (self.0.backward(a, dout * b), dout * self.0.forward(a))
        }
    }
}

/// Something to do with a gated activation's kernel, known at compile time.
trait GateVisitor {
    fn visit<K: Kernel, const GLU: bool>(self, k: K);
}

impl Gated {
    fn visit(self, v: impl GateVisitor) {
        match self {
            Gated::Glu => v.visit::<_, true>(Sigmoid),
            Gated::Swiglu => v.visit::<_, false>(Silu),
            Gated::Geglu(approximate) => v.visit::<_, false>(Gelu { approximate }),
            Gated::Reglu => v.visit::<_, false>(Relu),
        }
    }

    /// `f(x)` and `f'(x)` of the gate's activation in `f64`, from [`crate::reference`].
    fn reference_gate(self, x: f64) -> (f64, f64) {
        fn of<K: Kernel>(k: K, x: f64) -> (f64, f64) {
            (k.reference_forward(x), k.reference_derivative(x))
        }
        match self {
            Gated::Glu => of(Sigmoid, x),
            Gated::Swiglu => of(Silu, x),
            Gated::Geglu(approximate) => of(Gelu { approximate }, x),
            Gated::Reglu => of(Relu, x),
        }
    }

    /// The forward in `f64`: `f(a)·b` (glu: `a·σ(b)`), from the activation's reference.
    pub fn reference_forward(self, a: f64, b: f64) -> f64 {
        if self == Gated::Glu {
            a * self.reference_gate(b).0
        } else {
            self.reference_gate(a).0 * b
        }
    }

    /// `(da, db)` in `f64`: `dout·b·f'(a)` and `dout·f(a)` (glu: `dout·σ(b)` and `dout·a·σ'(b)`).
    pub fn reference_backward(self, a: f64, b: f64, dout: f64) -> (f64, f64) {
        if self == Gated::Glu {
            let (s, ds) = self.reference_gate(b);
            (dout * s, dout * a * ds)
        } else {
            let (f, df) = self.reference_gate(a);
            (dout * b * df, dout * f)
        }
    }
}

#[track_caller]
fn check_len(a_name: &str, a: usize, b_name: &str, b: usize) {
    if a != b {
        panic!("actkern: length mismatch: `{a_name}` has {a} elements but `{b_name}` has {b}");
    }
}

/// Checks the halves layout: `x` is [rows, 2·cols], `other` (named) is [rows, cols·factor].
#[track_caller]
fn check_halves(x: usize, cols: usize, other_name: &str, other: usize, factor: usize) {
    if cols == 0 {
        if x != 0 || other != 0 {
            panic!("actkern: cols is 0 but `x` has {x} elements and `{other_name}` {other}");
        }
        return;
    }
    if !x.is_multiple_of(2 * cols) {
        panic!(
            "actkern: `x` has {x} elements, not a whole number of rows of 2·cols = {}",
            2 * cols
        );
    }
    check_len(other_name, other, "x's rows × cols", x / 2 * factor);
}

/// The slice methods, written once for [`Gated`] (threads above the threshold) and
/// [`Serial`]`<Gated>` (the calling thread only).
macro_rules! gated_methods {
    ($gated:ident, $parallel:expr) => {
        /// `out[i] = f(a[i])·b[i]` (glu: `a[i]·σ(b[i])`).
        #[track_caller]
        pub fn forward<E: Element>(&self, a: &[E], b: &[E], out: &mut [E]) {
            check_len("a", a.len(), "b", b.len());
            check_len("a", a.len(), "out", out.len());
            let parallel = $parallel;
            struct Run<'a, E> {
                io: Io<'a, (In<'a, E>, In<'a, E>), (Out<'a, E>,)>,
                parallel: bool,
            }
            impl<E: Element> GateVisitor for Run<'_, E> {
                fn visit<K: Kernel, const GLU: bool>(self, k: K) {
                    run_fn(self.io, &Product::<K, GLU>(k), self.parallel)
                }
            }
            let $gated = self.gated();
            $gated.visit(Run {
                io: Io::binary(a, b, out),
                parallel,
            })
        }

        /// As [`forward`](Self::forward), with the output written over `a` (`a_out`).
        #[track_caller]
        pub fn forward_inplace<E: Element>(&self, a_out: &mut [E], b: &[E]) {
            check_len("a_out", a_out.len(), "b", b.len());
            let parallel = $parallel;
            struct Run<'a, E> {
                io: Io<'a, (In<'a, E>, In<'a, E>), (Out<'a, E>,)>,
                parallel: bool,
            }
            impl<E: Element> GateVisitor for Run<'_, E> {
                fn visit<K: Kernel, const GLU: bool>(self, k: K) {
                    run_fn(self.io, &Product::<K, GLU>(k), self.parallel)
                }
            }
            let $gated = self.gated();
            $gated.visit(Run {
                io: Io::binary_in_place_first(a_out, b),
                parallel,
            })
        }

        /// `da[i]`, `db[i]`: the gradients of both inputs from the output's, `dout`.
        #[track_caller]
        pub fn backward<E: Element>(&self, a: &[E], b: &[E], dout: &[E], da: &mut [E], db: &mut [E]) {
            check_len("a", a.len(), "b", b.len());
            check_len("a", a.len(), "dout", dout.len());
            check_len("a", a.len(), "da", da.len());
            check_len("a", a.len(), "db", db.len());
            let parallel = $parallel;
            let $gated = self.gated();
            $gated.visit(RunBackward {
                io: Io::ternary_pair(a, b, dout, da, db),
                parallel,
            })
        }

        /// As [`backward`](Self::backward), with `da` written over `a` and `db` over `b`.
        #[track_caller]
        pub fn backward_inplace<E: Element>(&self, a_da: &mut [E], b_db: &mut [E], dout: &[E]) {
            check_len("a_da", a_da.len(), "b_db", b_db.len());
            check_len("a_da", a_da.len(), "dout", dout.len());
            let parallel = $parallel;
            let $gated = self.gated();
            $gated.visit(RunBackward {
                io: Io::ternary_pair_in_place(a_da, b_db, dout),
                parallel,
            })
        }

        /// The halves layout: `x` is [rows, 2·cols], each row `[a | b]`; `out` is [rows, cols].
        #[track_caller]
        pub fn forward_halves<E: Element>(&self, x: &[E], cols: usize, out: &mut [E]) {
            check_halves(x.len(), cols, "out", out.len(), 1);
            struct Run<'x, 'o, E> {
                x: &'x [E],
                cols: usize,
                out: &'o mut [E],
                parallel: bool,
            }
            impl<E: Element> GateVisitor for Run<'_, '_, E> {
                fn visit<K: Kernel, const GLU: bool>(self, k: K) {
                    rows::halves_forward(self.x, self.cols, self.out, &Product::<K, GLU>(k), self.parallel)
                }
            }
            let parallel = $parallel;
            let $gated = self.gated();
            $gated.visit(Run {
                x,
                cols,
                out,
                parallel,
            })
        }

        /// The halves layout's backward: `dout` is [rows, cols], `dx` has `x`'s shape, each row
        /// `[da | db]`.
        #[track_caller]
        pub fn backward_halves<E: Element>(&self, x: &[E], dout: &[E], cols: usize, dx: &mut [E]) {
            check_halves(x.len(), cols, "dout", dout.len(), 1);
            check_len("x", x.len(), "dx", dx.len());
            struct Run<'x, 'o, E> {
                x: &'x [E],
                dout: &'x [E],
                cols: usize,
                dx: &'o mut [E],
                parallel: bool,
            }
            impl<E: Element> GateVisitor for Run<'_, '_, E> {
                fn visit<K: Kernel, const GLU: bool>(self, k: K) {
                    let f = ProductBackward::<K, GLU>(k);
                    rows::halves_backward(self.x, self.dout, self.cols, self.dx, &f, self.parallel)
                }
            }
            let parallel = $parallel;
            let $gated = self.gated();
            $gated.visit(Run {
                x,
                dout,
                cols,
                dx,
                parallel,
            })
        }

        /// As [`backward_halves`](Self::backward_halves), with the gradient written over `x`
        /// (`x_dx`).
        #[track_caller]
        pub fn backward_halves_inplace<E: Element>(&self, x_dx: &mut [E], dout: &[E], cols: usize) {
            check_halves(x_dx.len(), cols, "dout", dout.len(), 1);
            struct Run<'x, 'o, E> {
                x_dx: &'o mut [E],
                dout: &'x [E],
                cols: usize,
                parallel: bool,
            }
            impl<E: Element> GateVisitor for Run<'_, '_, E> {
                fn visit<K: Kernel, const GLU: bool>(self, k: K) {
                    let f = ProductBackward::<K, GLU>(k);
                    rows::halves_backward_in_place(self.x_dx, self.dout, self.cols, &f, self.parallel)
                }
            }
            let parallel = $parallel;
            let $gated = self.gated();
            $gated.visit(Run {
                x_dx,
                dout,
                cols,
                parallel,
            })
        }
    };
}

/// The buffers of a gated backward: `a`, `b`, `dout` in, `da`, `db` out.
type BackwardIo<'a, E> = Io<'a, (In<'a, E>, In<'a, E>, In<'a, E>), (Out<'a, E>, Out<'a, E>)>;

/// Runs a gated backward over `io`.
struct RunBackward<'a, E> {
    io: BackwardIo<'a, E>,
    parallel: bool,
}

impl<E: Element> GateVisitor for RunBackward<'_, E> {
    fn visit<K: Kernel, const GLU: bool>(self, k: K) {
        run_fn(self.io, &ProductBackward::<K, GLU>(k), self.parallel)
    }
}

impl Gated {
    fn gated(&self) -> Gated {
        *self
    }

    /// The spec name without parameters (`"geglu"` for both of its forms).
    pub fn name(&self) -> &'static str {
        match self {
            Gated::Glu => "glu",
            Gated::Swiglu => "swiglu",
            Gated::Geglu(_) => "geglu",
            Gated::Reglu => "reglu",
        }
    }

    gated_methods!(gated, true);
}

/// [`Gated`]'s methods on the calling thread only, whatever the buffer length.
///
/// ```
/// use actkern::{Gated, Serial};
/// let mut out = [0.0f32; 3];
/// Serial(Gated::Reglu).forward(&[-1.0, 0.0, 2.0], &[5.0, 5.0, 5.0], &mut out);
/// assert_eq!(out, [0.0, 0.0, 10.0]);
/// ```
impl Serial<Gated> {
    fn gated(&self) -> Gated {
        self.0
    }

    gated_methods!(gated, false);
}
