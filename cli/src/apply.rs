//! `actkern apply`: stream a file through an activation in bounded chunks.
//!
//! Two stages overlap: a producer thread fills chunk buffers from INPUT (and DY) and runs the
//! kernel on each (on rayon's pool), while the calling thread appends results to OUTPUT: a
//! temporary file beside it when it is a regular file, else the stream itself (standard output,
//! a pipe, a device). [`IN_FLIGHT`] buffer sets circulate between them, so memory stays at
//! `IN_FLIGHT × streams × CHUNK × element size` bytes (at most 36 MiB) whatever the file size.
//!
//! The buffers hold the files' element type, `f32`, `bf16` or `f16` (one type for INPUT, DY and
//! OUTPUT), and the library's generic slice methods run on them directly: a 16-bit element is
//! widened to `f32` inside the kernel and its result rounded once, to nearest-even.

use super::Tiered;
use super::files::{Format, Input, Source, is_stdin, to_le};
use super::npy::{self, Header, NpyDtype};
use super::output::{self, Destination};
use super::{ApplyArgs, CliError, configure, install_interrupt_handler, parse_spec, rows};
use actkern::half::{bf16, f16};
use actkern::{Apply, Dtype, Element};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Elements per chunk: 4 MiB per `f32` buffer (2 MiB for 16-bit elements), large enough that
/// rayon splits it across every core and that per-chunk overhead (a few system calls, two
/// channel hand-offs) is negligible.
pub(super) const CHUNK: usize = 1 << 20;

/// Buffer sets in circulation: one being read and computed, one being written, one spare so
/// neither stage waits for the other's hand-off.
const IN_FLIGHT: usize = 3;

/// Inputs smaller than this finish too fast for a progress bar to help.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

/// What to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Forward,
    Derivative,
    /// dx = dy · f'(x), INPUT holding x.
    Backward,
    /// dx = dy · f'(x), INPUT holding y = f(x).
    BackwardFromOutput,
}

/// The buffers one chunk needs, of the files' element type. Unused ones stay empty.
struct Chunk<E> {
    /// INPUT's elements; the result of `Forward`.
    a: Vec<E>,
    /// DY's elements; the result of `Backward`.
    b: Vec<E>,
    /// The result of `Derivative` and `BackwardFromOutput`.
    c: Vec<E>,
    len: usize,
}

/// What runs on each chunk: an activation, element by element, or a row function over rows of
/// `cols` elements (chunks then hold whole rows).
#[derive(Clone, Copy)]
enum Op<'a> {
    Act(&'a Tiered),
    Rows(actkern::Rows, usize),
}

impl Op<'_> {
    /// Elements per chunk: [`CHUNK`], or for rows the most whole rows that fit in it (at least
    /// one, however long).
    fn chunk_len(self) -> usize {
        match self {
            Op::Act(_) => CHUNK,
            Op::Rows(_, cols) => (CHUNK / cols).max(1) * cols,
        }
    }
}

impl<E: Element> Chunk<E> {
    fn new(mode: Mode, len: usize) -> Chunk<E> {
        let (b, c) = match mode {
            Mode::Forward => (0, 0),
            Mode::Derivative => (0, len),
            Mode::Backward => (len, 0),
            Mode::BackwardFromOutput => (len, len),
        };
        Chunk {
            a: vec![E::default(); len],
            b: vec![E::default(); b],
            c: vec![E::default(); c],
            len: 0,
        }
    }

    fn compute(&mut self, op: Op<'_>, mode: Mode) {
        let n = self.len;
        match (op, mode) {
            (Op::Act(act), Mode::Forward) => act.forward_inplace(&mut self.a[..n]),
            (Op::Act(act), Mode::Derivative) => act.derivative(&self.a[..n], &mut self.c[..n]),
            (Op::Act(act), Mode::Backward) => act.backward_inplace(&self.a[..n], &mut self.b[..n]),
            (Op::Act(act), Mode::BackwardFromOutput) => act
                .backward_from_output(&self.a[..n], &self.b[..n], &mut self.c[..n])
                .expect("checked before reading"),
            (Op::Rows(rows, cols), Mode::Forward) => rows.forward_inplace(&mut self.a[..n], cols),
            (Op::Rows(rows, cols), Mode::BackwardFromOutput) => {
                rows.backward(&self.a[..n], &self.b[..n], cols, &mut self.c[..n])
            }
            (Op::Rows(..), _) => unreachable!("refused before reading"),
        }
    }

    fn result(&mut self, mode: Mode) -> &mut [E] {
        let n = self.len;
        match mode {
            Mode::Forward => &mut self.a[..n],
            Mode::Backward => &mut self.b[..n],
            Mode::Derivative | Mode::BackwardFromOutput => &mut self.c[..n],
        }
    }
}

/// Runs `actkern apply`.
pub fn run(args: ApplyArgs) -> Result<(), CliError> {
    // Gated names differ from the activations': a spec with one is the halves layout.
    match args.spec.parse::<actkern::Gated>() {
        Ok(gated) => return super::gated::run(args, gated),
        Err(e) if super::gated::named(&args.spec) => return Err(CliError::input(e.to_string())),
        Err(_) => {}
    }
    configure(&args.run)?;
    let row_fn = args.spec.parse::<actkern::RowFn>().ok();
    let act: Option<Tiered> = match row_fn {
        Some(_) => None,
        None => Some(actkern::InTier(
            parse_spec(&args.spec).map_err(|mut e| {
                e.message += "; or a gated activation over rows [a | b]: glu, swiglu, geglu, reglu; \
                              or a row function: softmax, log_softmax, softmin";
                e
            })?,
            args.run.tier(),
        )),
    };
    let (mode, dy_path) = match (&args.backward, &args.backward_from_output, args.derivative) {
        (Some(dy), _, _) => (Mode::Backward, Some(dy.as_path())),
        (_, Some(dy), _) => (Mode::BackwardFromOutput, Some(dy.as_path())),
        (_, _, true) => (Mode::Derivative, None),
        _ => (Mode::Forward, None),
    };
    if let Some(f) = row_fn {
        rows::check_args(f, &args, mode)?;
    } else if args.cols.is_some() || args.masked_rows_zero {
        return Err(CliError::input(format!(
            "--cols gives the row width of a gated activation (glu, swiglu, geglu, reglu) or a \
             row function (softmax, log_softmax, softmin), and --masked-rows-zero applies to the \
             row functions; `{}` is applied element by element: drop them",
            args.spec
        )));
    }
    if let Some(act) = &act
        && mode == Mode::BackwardFromOutput
        && !act.has_backward_from_output()
    {
        let e = act
            .backward_from_output::<f32>(&[], &[], &mut [])
            .expect_err("has_backward_from_output is false");
        return Err(CliError::input(format!(
            "{}; use --backward DY with INPUT holding x instead",
            e.reason()
        )));
    }

    let output_arg = match (&args.output, args.in_place) {
        (Some(out), _) => out.as_path(),
        (None, _) => args.input.as_path(),
    };
    if is_stdin(&args.input) && args.in_place {
        return Err(CliError::input(
            "--in-place replaces INPUT, which cannot be standard input (`-`); name a file",
        ));
    }
    if dy_path.is_some_and(is_stdin) && is_stdin(&args.input) {
        return Err(CliError::input(
            "INPUT and DY cannot both be standard input (`-`); one of them must be a file",
        ));
    }

    // Open and check everything before creating any file. The element type is INPUT's: its
    // header's for .npy, --dtype's (default f32) for raw data; raw DY and OUTPUT share it.
    let input_format = Format::of_input(&args.input, "INPUT", args.input_format)?;
    let raw_dtype = args.dtype.unwrap_or(Dtype::F32);
    let input = Input::open(&args.input, "INPUT", input_format, raw_dtype)?;
    check_dtype_flag(args.dtype, &input)?;
    let dtype = input.dtype;
    let dy = match dy_path {
        Some(path) => {
            let format = Format::of_input(path, "DY", args.input_format)?;
            let dy = Input::open(path, "DY", format, dtype)?;
            check_same_dtype(&input, &dy)?;
            check_same_shape(&input, &dy)?;
            Some(dy)
        }
        None => None,
    };
    let dest = output::destination(output_arg)?;
    let output_format = output_format(args.format, output_arg, &dest, input_format)?;
    check_overwrite(&args, &input, dy.as_ref(), &dest)?;
    let out_header = match output_format {
        Format::Npy => Some(npy::header_bytes(&output_header(&input)?)),
        Format::Raw => None,
    };

    let op = match row_fn {
        Some(f) => Op::Rows(
            actkern::Rows::new(f).masked_rows_zero(args.masked_rows_zero),
            rows::cols(&input, args.cols)?,
        ),
        None => Op::Act(act.as_ref().expect("an activation when not a row function")),
    };

    install_interrupt_handler(dest.is_stream())?;
    let progress = progress_bar(input.data_bytes());
    let job = Job {
        op,
        mode,
        x: input.into_source(),
        dy: dy.map(Input::into_source),
        header: out_header.as_deref(),
        progress: &progress,
    };
    dest.write_with(|out, name| {
        job.run(dtype, out, name)?;
        progress.finish_and_clear();
        Ok(())
    })
}

/// `--dtype` says what raw INPUT holds; a `.npy` INPUT's header says it, and a `--dtype` that
/// contradicts it is a mistake.
pub(super) fn check_dtype_flag(flag: Option<Dtype>, input: &Input) -> Result<(), CliError> {
    match (flag, &input.header) {
        (Some(asked), Some(header)) if asked != input.dtype => Err(CliError::input(format!(
            "--dtype {asked} conflicts with INPUT `{}`, whose .npy header says it holds {} \
             ('{}'); a .npy file's header decides its element type: drop --dtype or give \
             --dtype {}",
            input.path.display(),
            input.dtype,
            header.dtype.descr(),
            input.dtype
        ))),
        _ => Ok(()),
    }
}

/// DY must hold INPUT's element type (a raw DY is read as that type; a .npy DY says its own).
pub(super) fn check_same_dtype(input: &Input, dy: &Input) -> Result<(), CliError> {
    if dy.dtype == input.dtype {
        return Ok(());
    }
    let source = |i: &Input| match &i.header {
        Some(h) => format!("its .npy header says '{}'", h.dtype.descr()),
        None => "raw data, --dtype".to_string(),
    };
    Err(CliError::input(format!(
        "DY `{}` holds {} ({}) but INPUT `{}` holds {} ({}): DY must hold INPUT's element type",
        dy.path.display(),
        dy.dtype,
        source(dy),
        input.path.display(),
        input.dtype,
        source(input)
    )))
}

/// The output's format: `--format`'s when given, else OUTPUT's extension's. Standard output and
/// other streams without one take INPUT's format; a file without one is an error.
pub(super) fn output_format(
    flag: Option<Format>,
    output: &Path,
    dest: &Destination,
    input: Format,
) -> Result<Format, CliError> {
    if let Some(format) = flag.or_else(|| Format::from_extension(output)) {
        return Ok(format);
    }
    if dest.is_stream() {
        return Ok(input);
    }
    Err(CliError::input(format!(
        "cannot tell the format of OUTPUT `{}` from its extension; name a .npy, .f32, .bin or \
         .raw file, or give --format npy|raw",
        output.display()
    )))
}

/// DY must hold one gradient per element of INPUT, in the same order.
fn check_same_shape(input: &Input, dy: &Input) -> Result<(), CliError> {
    let describe = |i: &Input| match &i.header {
        Some(h) => format!(
            "shape {}{}",
            h.shape_repr(),
            if h.fortran_order { " (Fortran order)" } else { "" }
        ),
        None => match i.elements {
            Some(n) => format!("{n} raw elements"),
            None => "a stream of raw elements".to_string(),
        },
    };
    let same = match (&input.header, &dy.header) {
        (Some(a), Some(b)) => a.same_layout(b),
        // Raw data has no shape: only the element count can be compared.
        _ => match (input.elements, dy.elements) {
            (Some(a), Some(b)) => a == b,
            _ => true, // a stream: checked while reading
        },
    };
    if same {
        Ok(())
    } else {
        Err(CliError::input(format!(
            "DY `{}` has {} but INPUT `{}` has {}: they must match element for element",
            dy.path.display(),
            describe(dy),
            input.path.display(),
            describe(input)
        )))
    }
}

/// OUTPUT may be INPUT (or DY) only with --in-place, and --in-place means OUTPUT is INPUT.
pub(super) fn check_overwrite(
    args: &ApplyArgs,
    input: &Input,
    dy: Option<&Input>,
    dest: &Destination,
) -> Result<(), CliError> {
    let (dest_id, shown) = match dest {
        Destination::File(path) => (super::files::FileId::of(path), path.display().to_string()),
        Destination::Stream(path) => (super::files::FileId::of(path), path.display().to_string()),
        Destination::Stdout => (None, "-".to_string()),
    };
    let same = |i: &Input| match (&i.identity, &dest_id) {
        (Some(a), Some(b)) => a.same_file(b),
        _ => false,
    };
    if args.in_place {
        if dest.is_stream() {
            return Err(CliError::input(format!(
                "--in-place replaces INPUT through a temporary file, but `{shown}` is not a \
                 regular file; write to an OUTPUT instead"
            )));
        }
        if !same(input) {
            return Err(CliError::input(format!(
                "--in-place replaces INPUT, but OUTPUT `{shown}` is another file; drop OUTPUT or \
                 --in-place"
            )));
        }
        return Ok(());
    }
    for i in std::iter::once(input).chain(dy) {
        if same(i) {
            return Err(CliError::input(format!(
                "OUTPUT is the same file as {} `{}`; pass --in-place to replace it",
                i.role,
                i.path.display()
            )));
        }
    }
    Ok(())
}

/// The `.npy` header of the output: INPUT's dtype, shape and order, or 1-d for raw input.
fn output_header(input: &Input) -> Result<Header, CliError> {
    let Some(dtype) = NpyDtype::of(input.dtype) else {
        return Err(CliError::input(format!(
            "a .npy OUTPUT cannot hold {} data: numpy has no bfloat16 dtype (.npy holds f32 as \
             '<f4' and f16 as '<f2'); write a raw OUTPUT instead (.bin or .raw, or --format raw)",
            input.dtype
        )));
    };
    match (&input.header, input.elements) {
        (Some(h), _) => Ok(h.clone()),
        (None, Some(n)) => Ok(Header {
            shape: vec![n],
            fortran_order: false,
            dtype,
        }),
        (None, None) => Err(CliError::input(
            "a .npy OUTPUT needs the element count in its header, which a raw stream does not \
             tell in advance; write a raw OUTPUT (.f32) instead",
        )),
    }
}

pub(super) fn progress_bar(total: Option<u64>) -> ProgressBar {
    match total {
        Some(bytes) if bytes >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal() => {
            let bar = ProgressBar::with_draw_target(Some(bytes), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .expect("the template is valid");
            bar.set_style(style);
            bar
        }
        _ => ProgressBar::hidden(),
    }
}

/// One run of `apply`, everything checked: what to compute, the inputs, the output's header.
struct Job<'a> {
    op: Op<'a>,
    mode: Mode,
    x: Source,
    dy: Option<Source>,
    header: Option<&'a [u8]>,
    progress: &'a ProgressBar,
}

impl Job<'_> {
    /// Streams the job to `out` (called `name` in messages) in buffers of `dtype`.
    fn run(self, dtype: Dtype, out: &mut dyn Write, name: &str) -> Result<(), CliError> {
        match dtype {
            Dtype::F32 => self.stream::<f32>(out, name),
            Dtype::Bf16 => self.stream::<bf16>(out, name),
            Dtype::F16 => self.stream::<f16>(out, name),
            // `Dtype` is non-exhaustive: a type a newer library adds has no buffers here yet.
            other => Err(CliError::input(format!(
                "element type {other} is not supported by this actkern command"
            ))),
        }
    }

    /// Writes the header, then reads, computes and writes every chunk to `out` (called `name`
    /// in messages); returns the first error of either stage (an input error first: a write
    /// failing after the reader found bad data is a consequence).
    fn stream<E: Element>(self, out: &mut dyn Write, name: &str) -> Result<(), CliError> {
        let Job {
            op,
            mode,
            mut x,
            mut dy,
            header,
            progress,
        } = self;
        let write_error = |e: std::io::Error| CliError::failure(format!("cannot write `{name}`: {e}"));
        if let Some(h) = header {
            out.write_all(h).map_err(write_error)?;
        }
        let (free_tx, free_rx) = sync_channel::<Chunk<E>>(IN_FLIGHT);
        let (full_tx, full_rx) = sync_channel::<Chunk<E>>(IN_FLIGHT);
        for _ in 0..IN_FLIGHT {
            free_tx
                .send(Chunk::new(mode, op.chunk_len()))
                .expect("the channel holds IN_FLIGHT chunks");
        }
        std::thread::scope(|s| {
            let producer = s.spawn(move || produce(op, mode, &mut x, dy.as_mut(), &free_rx, &full_tx));
            // This thread writes, so writing overlaps reading and computing the next chunks.
            let written = (|| -> Result<(), CliError> {
                for mut chunk in full_rx {
                    let result = chunk.result(mode);
                    to_le(result);
                    out.write_all(bytemuck::cast_slice(result)).map_err(write_error)?;
                    progress.inc(size_of_val(result) as u64);
                    // The producer may have finished and dropped its end: nothing to recycle.
                    let _ = free_tx.send(chunk);
                }
                out.flush().map_err(write_error)
            })();
            // On a write error, this drops the receiving end, which stops the producer.
            drop(free_tx);
            let produced = producer.join().expect("the producer thread does not panic");
            produced.and(written)
        })
    }
}

/// The producing stage: fills free chunks from the inputs, runs the kernel on them (on
/// rayon's pool) and passes them on, until the input ends.
fn produce<E: Element>(
    op: Op<'_>,
    mode: Mode,
    x: &mut Source,
    mut dy: Option<&mut Source>,
    free: &Receiver<Chunk<E>>,
    full: &SyncSender<Chunk<E>>,
) -> Result<(), CliError> {
    loop {
        let Ok(mut chunk) = free.recv() else {
            return Ok(()); // the writer stopped: its error is the one to report
        };
        let n = x.read_chunk(&mut chunk.a)?;
        if n == 0 {
            break;
        }
        if let Some(dy) = dy.as_deref_mut() {
            dy.read_exact_chunk(&mut chunk.b[..n])?;
        }
        if let Op::Rows(_, cols) = op {
            rows::check_whole_rows(n, cols)?;
        }
        chunk.len = n;
        chunk.compute(op, mode);
        if full.send(chunk).is_err() {
            return Ok(());
        }
    }
    x.finish()?;
    if let Some(dy) = dy {
        dy.finish()?;
    }
    Ok(())
}
