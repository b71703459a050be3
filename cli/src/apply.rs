//! `actkern apply`: stream a file through an activation in bounded chunks.
//!
//! Two stages overlap: a producer thread fills chunk buffers from INPUT (and DY) and runs the
//! kernel on each (on rayon's pool), while the calling thread appends results to OUTPUT: a
//! temporary file beside it when it is a regular file, else the stream itself (standard output,
//! a pipe, a device). [`IN_FLIGHT`] buffer sets circulate between them, so memory stays at
//! `IN_FLIGHT × streams × CHUNK × 4` bytes (at most 36 MiB) whatever the file size.

use super::Tiered;
use super::files::{Format, Input, Source, is_stdin, to_le};
use super::npy::{self, Header};
use super::output::{self, AtomicOutput, Destination};
use super::{ApplyArgs, CliError, configure, install_interrupt_handler, parse_spec};
use actkern::Apply;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Elements per chunk: 4 MiB per buffer, large enough that rayon splits it across every core
/// and that per-chunk overhead (a few system calls, two channel hand-offs) is negligible.
const CHUNK: usize = 1 << 20;

/// Buffer sets in circulation: one being read and computed, one being written, one spare so
/// neither stage waits for the other's hand-off.
const IN_FLIGHT: usize = 3;

/// Inputs smaller than this finish too fast for a progress bar to help.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

/// What to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Forward,
    Derivative,
    /// dx = dy · f'(x), INPUT holding x.
    Backward,
    /// dx = dy · f'(x), INPUT holding y = f(x).
    BackwardFromOutput,
}

/// The buffers one chunk needs. Unused ones stay empty.
struct Chunk {
    /// INPUT's elements; the result of `Forward`.
    a: Vec<f32>,
    /// DY's elements; the result of `Backward`.
    b: Vec<f32>,
    /// The result of `Derivative` and `BackwardFromOutput`.
    c: Vec<f32>,
    len: usize,
}

impl Chunk {
    fn new(mode: Mode) -> Chunk {
        let (b, c) = match mode {
            Mode::Forward => (0, 0),
            Mode::Derivative => (0, CHUNK),
            Mode::Backward => (CHUNK, 0),
            Mode::BackwardFromOutput => (CHUNK, CHUNK),
        };
        Chunk {
            a: vec![0.0; CHUNK],
            b: vec![0.0; b],
            c: vec![0.0; c],
            len: 0,
        }
    }

    fn compute(&mut self, act: &Tiered, mode: Mode) {
        let n = self.len;
        match mode {
            Mode::Forward => act.forward_inplace(&mut self.a[..n]),
            Mode::Derivative => act.derivative(&self.a[..n], &mut self.c[..n]),
            Mode::Backward => act.backward_inplace(&self.a[..n], &mut self.b[..n]),
            Mode::BackwardFromOutput => act
                .backward_from_output(&self.a[..n], &self.b[..n], &mut self.c[..n])
                .expect("checked before reading"),
        }
    }

    fn result(&mut self, mode: Mode) -> &mut [f32] {
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
    configure(&args.run)?;
    let act: Tiered = actkern::InTier(parse_spec(&args.spec)?, args.run.tier());
    let (mode, dy_path) = match (&args.backward, &args.backward_from_output, args.derivative) {
        (Some(dy), _, _) => (Mode::Backward, Some(dy.as_path())),
        (_, Some(dy), _) => (Mode::BackwardFromOutput, Some(dy.as_path())),
        (_, _, true) => (Mode::Derivative, None),
        _ => (Mode::Forward, None),
    };
    if mode == Mode::BackwardFromOutput && !act.has_backward_from_output() {
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

    // Open and check everything before creating any file.
    let input_format = Format::of_input(&args.input, "INPUT", args.input_format)?;
    let input = Input::open(&args.input, "INPUT", input_format)?;
    let dy = match dy_path {
        Some(path) => {
            let dy = Input::open(path, "DY", Format::of_input(path, "DY", args.input_format)?)?;
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

    install_interrupt_handler(dest.is_stream())?;
    let progress = progress_bar(input.data_bytes());
    let x = input.into_source();
    let dy = dy.map(Input::into_source);
    match &dest {
        Destination::File(path) => {
            let mut out = AtomicOutput::create(path)?;
            let name = out.path().display().to_string();
            stream(&act, mode, x, dy, out_header.as_deref(), out.file(), &name, &progress)?;
            progress.finish_and_clear();
            out.commit()
        }
        Destination::Stdout => {
            let mut stdout = std::io::stdout().lock();
            stream(
                &act,
                mode,
                x,
                dy,
                out_header.as_deref(),
                &mut stdout,
                "standard output",
                &progress,
            )?;
            progress.finish_and_clear();
            Ok(())
        }
        Destination::Stream(path) => {
            let name = path.display().to_string();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| CliError::failure(format!("cannot open OUTPUT `{name}` for writing: {e}")))?;
            stream(&act, mode, x, dy, out_header.as_deref(), &mut file, &name, &progress)?;
            progress.finish_and_clear();
            Ok(())
        }
    }
}

/// The output's format: `--format`'s when given, else OUTPUT's extension's. Standard output and
/// other streams without one take INPUT's format; a file without one is an error.
fn output_format(flag: Option<Format>, output: &Path, dest: &Destination, input: Format) -> Result<Format, CliError> {
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
fn check_overwrite(args: &ApplyArgs, input: &Input, dy: Option<&Input>, dest: &Destination) -> Result<(), CliError> {
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

/// The `.npy` header of the output: INPUT's shape and order, or 1-d for raw input.
fn output_header(input: &Input) -> Result<Header, CliError> {
    match (&input.header, input.elements) {
        (Some(h), _) => Ok(h.clone()),
        (None, Some(n)) => Ok(Header {
            shape: vec![n],
            fortran_order: false,
        }),
        (None, None) => Err(CliError::input(
            "a .npy OUTPUT needs the element count in its header, which a raw stream does not \
             tell in advance; write a raw OUTPUT (.f32) instead",
        )),
    }
}

fn progress_bar(total: Option<u64>) -> ProgressBar {
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

/// Writes `header`, then reads, computes and writes every chunk to `out` (called `name` in
/// messages); returns the first error of either stage (an input error first: a write failing
/// after the reader found bad data is a consequence).
#[allow(clippy::too_many_arguments)]
fn stream(
    act: &Tiered,
    mode: Mode,
    mut x: Source,
    mut dy: Option<Source>,
    header: Option<&[u8]>,
    out: &mut dyn Write,
    name: &str,
    progress: &ProgressBar,
) -> Result<(), CliError> {
    let write_error = |e: std::io::Error| CliError::failure(format!("cannot write `{name}`: {e}"));
    if let Some(h) = header {
        out.write_all(h).map_err(write_error)?;
    }
    let (free_tx, free_rx) = sync_channel::<Chunk>(IN_FLIGHT);
    let (full_tx, full_rx) = sync_channel::<Chunk>(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        free_tx
            .send(Chunk::new(mode))
            .expect("the channel holds IN_FLIGHT chunks");
    }
    std::thread::scope(|s| {
        let producer = s.spawn(move || produce(act, mode, &mut x, dy.as_mut(), &free_rx, &full_tx));
        // This thread writes, so writing overlaps reading and computing the next chunks.
        let written = (|| -> Result<(), CliError> {
            for mut chunk in full_rx {
                let result = chunk.result(mode);
                to_le(result);
                out.write_all(bytemuck::cast_slice(result)).map_err(write_error)?;
                progress.inc(result.len() as u64 * 4);
                // The producer may have finished and dropped its end: nothing to recycle then.
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

/// The producing stage: fills free chunks from the inputs, runs the kernel on them (on
/// rayon's pool) and passes them on, until the input ends.
fn produce(
    act: &Tiered,
    mode: Mode,
    x: &mut Source,
    mut dy: Option<&mut Source>,
    free: &Receiver<Chunk>,
    full: &SyncSender<Chunk>,
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
        chunk.len = n;
        chunk.compute(act, mode);
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
