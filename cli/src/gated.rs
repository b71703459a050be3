//! `actkern apply` with a gated spec (`glu`, `swiglu`, `geglu`, `geglu(approximate=tanh)`,
//! `reglu`): INPUT is the halves layout of a fused projection, each row `[a | b]` along the
//! last dimension (PyTorch's `x.chunk(2, -1)`), and OUTPUT is `f(a)·b`, half as wide
//! ([`Gated::forward_halves`]). With `--backward DY` (DY shaped like that output) OUTPUT is
//! `dx`, shaped like INPUT, each row `[da | db]` ([`Gated::backward_halves`]).
//!
//! The data is streamed in chunks of whole rows (about [`CHUNK`] elements of INPUT, at least one
//! row however long), read, computed and written in turn. Checks, formats and where OUTPUT goes
//! are those of the element-wise `apply`.

use super::apply::{CHUNK, check_dtype_flag, check_overwrite, check_same_dtype, output_format, progress_bar};
use super::files::{Format, Input, Source, is_stdin, to_le};
use super::npy::{self, Header, NpyDtype};
use super::output;
use super::{ApplyArgs, CliError, configure, install_interrupt_handler};
use actkern::half::{bf16, f16};
use actkern::{Dtype, Element, Gated};
use indicatif::ProgressBar;
use std::io::Write;

/// The gated activation whose name `spec` has (before any parenthesis), if it has one: then
/// its parse error is the one to report, not the activations' "unknown name".
pub fn named(spec: &str) -> bool {
    let name = spec.split('(').next().unwrap_or("").trim().to_ascii_lowercase();
    actkern::GATED.iter().any(|g| g.name() == name)
}

/// The halves layout of INPUT: rows of `2·cols` elements.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// Elements of `a` (and of `b`) in a row: the output's row width.
    cols: usize,
}

impl Layout {
    fn width(self) -> usize {
        2 * self.cols
    }
}

/// Runs `actkern apply` for a gated activation.
pub fn run(args: ApplyArgs, gated: Gated) -> Result<(), CliError> {
    configure(&args.run)?;
    if args.derivative {
        return Err(CliError::input(format!(
            "--derivative: gated activation `{gated}` has two inputs, a and b; its gradients come \
             from --backward DY (OUTPUT is then dx = [da | db], shaped like INPUT)"
        )));
    }
    if args.backward_from_output.is_some() {
        return Err(CliError::input(format!(
            "--backward-from-output: the output of gated activation `{gated}` does not determine \
             its gradients; use --backward DY with INPUT holding x = [a | b]"
        )));
    }
    let dout_path = args.backward.as_deref();
    let backward = dout_path.is_some();
    if args.in_place && !backward {
        return Err(CliError::input(format!(
            "--in-place: the output of gated activation `{gated}` is half as wide as INPUT, so it \
             cannot replace it; name an OUTPUT (--in-place works with --backward, whose dx has \
             INPUT's shape)"
        )));
    }
    let output_arg = args.output.as_deref().unwrap_or(args.input.as_path());
    if is_stdin(&args.input) && args.in_place {
        return Err(CliError::input(
            "--in-place replaces INPUT, which cannot be standard input (`-`); name a file",
        ));
    }
    if dout_path.is_some_and(is_stdin) && is_stdin(&args.input) {
        return Err(CliError::input(
            "INPUT and DY cannot both be standard input (`-`); one of them must be a file",
        ));
    }

    // Everything is opened and checked before any file is created.
    let input_format = Format::of_input(&args.input, "INPUT", args.input_format)?;
    let input = Input::open(&args.input, "INPUT", input_format, args.dtype.unwrap_or(Dtype::F32))?;
    check_dtype_flag(args.dtype, &input)?;
    let dtype = input.dtype;
    let layout = layout(&input, args.cols, gated)?;
    let dout = match dout_path {
        Some(path) => {
            let format = Format::of_input(path, "DY", args.input_format)?;
            let dout = Input::open(path, "DY", format, dtype)?;
            check_same_dtype(&input, &dout)?;
            check_dout_shape(&input, &dout, layout)?;
            Some(dout)
        }
        None => None,
    };
    let dest = output::destination(output_arg)?;
    let output_format = output_format(args.format, output_arg, &dest, input_format)?;
    check_overwrite(&args, &input, dout.as_ref(), &dest)?;
    let header = match output_format {
        Format::Npy => Some(npy::header_bytes(&output_header(&input, layout, backward)?)),
        Format::Raw => None,
    };

    install_interrupt_handler(dest.is_stream())?;
    let progress = progress_bar(input.data_bytes());
    let job = Job {
        gated,
        layout,
        x: input.into_source(),
        dout: dout.map(Input::into_source),
        header: header.as_deref(),
        progress: &progress,
    };
    dest.write_with(|out, name| {
        job.run(dtype, out, name)?;
        progress.finish_and_clear();
        Ok(())
    })
}

/// The row layout of INPUT: a `.npy` file's last dimension (even, C order), or raw data's
/// `--cols`.
fn layout(input: &Input, cols: Option<usize>, gated: Gated) -> Result<Layout, CliError> {
    let shown = input.path.display();
    let Some(header) = &input.header else {
        let Some(cols) = cols else {
            return Err(CliError::input(format!(
                "gated activation `{gated}` needs the row width of INPUT `{shown}`, and raw data \
                 has no shape: give --cols N (each row of INPUT is [a | b], 2·N elements) or use \
                 a .npy INPUT"
            )));
        };
        let width = cols
            .checked_mul(2)
            .ok_or_else(|| CliError::input(format!("--cols {cols} is too large")))?;
        if let Some(n) = input.elements
            && !n.is_multiple_of(width as u64)
        {
            return Err(CliError::input(format!(
                "INPUT `{shown}` has {n} elements, not a whole number of rows of 2·cols = {width} \
                 (--cols {cols}): each row is [a | b]"
            )));
        }
        return Ok(Layout { cols });
    };
    let shape = header.shape_repr();
    if header.fortran_order && header.shape.iter().filter(|&&d| d > 1).count() > 1 {
        return Err(CliError::input(format!(
            "INPUT `{shown}` has shape {shape} in Fortran order; the halves layout [a | b] of \
             gated activation `{gated}` needs rows along the last dimension in C order (numpy: \
             np.ascontiguousarray)"
        )));
    }
    let Some(&last) = header.shape.last() else {
        return Err(CliError::input(format!(
            "INPUT `{shown}` is a 0-d array (shape ()); gated activation `{gated}` needs rows \
             [a | b] along an even last dimension"
        )));
    };
    if !last.is_multiple_of(2) {
        return Err(CliError::input(format!(
            "INPUT `{shown}` has shape {shape}: gated activation `{gated}` splits the last \
             dimension into halves [a | b], so it must be even, not {last}"
        )));
    }
    let half = usize::try_from(last / 2)
        .map_err(|_| CliError::input(format!("INPUT `{shown}`: the rows of shape {shape} are too long")))?;
    if let Some(cols) = cols
        && cols != half
    {
        return Err(CliError::input(format!(
            "--cols {cols} conflicts with INPUT `{shown}`, whose shape {shape} gives cols = {half} \
             (half its last dimension); drop --cols, which is for raw INPUT"
        )));
    }
    Ok(Layout { cols: half })
}

/// The output's shape for a `.npy` INPUT: the last dimension halved.
fn halved(header: &Header) -> Vec<u64> {
    let mut shape = header.shape.clone();
    if let Some(last) = shape.last_mut() {
        *last /= 2;
    }
    shape
}

/// DY must hold one gradient per element of the forward's output: INPUT's shape with the last
/// dimension halved (or, for raw data, half INPUT's elements).
fn check_dout_shape(input: &Input, dout: &Input, layout: Layout) -> Result<(), CliError> {
    let describe = |i: &Input| match (&i.header, i.elements) {
        (Some(h), _) => format!("shape {}", h.shape_repr()),
        (None, Some(n)) => format!("{n} raw elements"),
        (None, None) => "a stream of raw elements".to_string(),
    };
    let want = input.header.as_ref().map(halved);
    let ok = match (&want, &dout.header) {
        (Some(want), Some(h)) => {
            h.shape == *want && !(h.fortran_order && h.shape.iter().filter(|&&d| d > 1).count() > 1)
        }
        _ => match (input.elements, dout.elements) {
            (Some(x), Some(d)) => x / 2 == d,
            _ => true, // a stream: checked while reading
        },
    };
    if ok {
        return Ok(());
    }
    let expected = match &want {
        Some(shape) => {
            let h = Header {
                shape: shape.clone(),
                fortran_order: false,
                dtype: NpyDtype::F4,
            };
            format!("shape {} in C order", h.shape_repr())
        }
        None => match input.elements {
            Some(n) => format!("{} elements (rows × cols, cols = {})", n / 2, layout.cols),
            None => format!("rows × cols elements (cols = {})", layout.cols),
        },
    };
    Err(CliError::input(format!(
        "DY `{}` has {} but INPUT `{}` has {}: DY, the gradient of the gated output, must have {expected} \
         (INPUT's last dimension halved)",
        dout.path.display(),
        describe(dout),
        input.path.display(),
        describe(input)
    )))
}

/// The `.npy` header of OUTPUT: INPUT's shape with the last dimension halved (the forward) or
/// kept (dx), C order; for raw INPUT, [rows, cols] or [rows, 2·cols].
fn output_header(input: &Input, layout: Layout, backward: bool) -> Result<Header, CliError> {
    let Some(dtype) = NpyDtype::of(input.dtype) else {
        return Err(CliError::input(format!(
            "a .npy OUTPUT cannot hold {} data: numpy has no bfloat16 dtype (.npy holds f32 as \
             '<f4' and f16 as '<f2'); write a raw OUTPUT instead (.bin or .raw, or --format raw)",
            input.dtype
        )));
    };
    let shape = match (&input.header, input.elements) {
        (Some(h), _) if backward => h.shape.clone(),
        (Some(h), _) => halved(h),
        (None, Some(n)) => {
            let width = layout.width() as u64;
            let rows = n.checked_div(width).unwrap_or(0);
            vec![rows, if backward { width } else { width / 2 }]
        }
        (None, None) => {
            return Err(CliError::input(
                "a .npy OUTPUT needs the element count in its header, which a raw stream does not \
                 tell in advance; write a raw OUTPUT (.f32) instead",
            ));
        }
    };
    Ok(Header {
        shape,
        fortran_order: false,
        dtype,
    })
}

/// One gated run, everything checked.
struct Job<'a> {
    gated: Gated,
    layout: Layout,
    x: Source,
    dout: Option<Source>,
    header: Option<&'a [u8]>,
    progress: &'a ProgressBar,
}

impl Job<'_> {
    fn run(self, dtype: Dtype, out: &mut dyn Write, name: &str) -> Result<(), CliError> {
        match dtype {
            Dtype::F32 => self.stream::<f32>(out, name),
            Dtype::Bf16 => self.stream::<bf16>(out, name),
            Dtype::F16 => self.stream::<f16>(out, name),
            other => Err(CliError::input(format!(
                "element type {other} is not supported by this actkern command"
            ))),
        }
    }

    /// Writes the header, then each chunk of whole rows: read, computed, written.
    fn stream<E: Element>(self, out: &mut dyn Write, name: &str) -> Result<(), CliError> {
        let Job {
            gated,
            layout,
            mut x,
            mut dout,
            header,
            progress,
        } = self;
        let write_error = |e: std::io::Error| CliError::failure(format!("cannot write `{name}`: {e}"));
        if let Some(h) = header {
            out.write_all(h).map_err(write_error)?;
        }
        let (cols, width) = (layout.cols, layout.width());
        // Whole rows, about CHUNK elements of INPUT, and one row however long.
        let rows = (CHUNK / width.max(1)).max(1);
        let mut xs = vec![E::default(); rows * width];
        let mut ys = vec![E::default(); rows * cols];
        let mut read = 0u64;
        loop {
            let n = x.read_chunk(&mut xs)?;
            if n == 0 {
                break;
            }
            read += n as u64;
            if !n.is_multiple_of(width) {
                return Err(CliError::input(format!(
                    "INPUT: the data ends inside a row: {read} elements are not a whole number \
                     of rows of 2·cols = {width}"
                )));
            }
            let half = n / 2;
            let result: &mut [E] = match dout.as_mut() {
                None => {
                    gated.forward_halves(&xs[..n], cols, &mut ys[..half]);
                    &mut ys[..half]
                }
                Some(dout) => {
                    dout.read_exact_chunk(&mut ys[..half])?;
                    gated.backward_halves_inplace(&mut xs[..n], &ys[..half], cols);
                    &mut xs[..n]
                }
            };
            to_le(result);
            out.write_all(bytemuck::cast_slice(result)).map_err(write_error)?;
            progress.inc((n * size_of::<E>()) as u64);
        }
        x.finish()?;
        if let Some(dout) = dout.as_mut() {
            dout.finish()?;
        }
        out.flush().map_err(write_error)
    }
}
