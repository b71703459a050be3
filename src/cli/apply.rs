//! `actkern apply`: stream a file through an activation in bounded chunks.
//!
//! Two stages overlap: a producer thread fills chunk buffers from INPUT (and DY) and runs the
//! kernel on each (on rayon's pool), while the calling thread appends results to a temporary
//! file beside OUTPUT. [`IN_FLIGHT`] buffer sets circulate between them, so memory stays at
//! `IN_FLIGHT × streams × CHUNK × 4` bytes (at most 36 MiB) whatever the file size.

use super::files::{Format, Input, Source, to_le};
use super::npy::{self, Header};
use super::output::{self, AtomicOutput};
use super::{ApplyArgs, CliError, configure, install_interrupt_handler, parse_spec};
use actkern::{Activation, Apply};
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

    fn compute(&mut self, act: &Activation, mode: Mode) {
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
    let act = parse_spec(&args.spec)?;
    let (mode, dy_path) = match (&args.backward, &args.backward_from_output, args.derivative) {
        (Some(dy), _, _) => (Mode::Backward, Some(dy.as_path())),
        (_, Some(dy), _) => (Mode::BackwardFromOutput, Some(dy.as_path())),
        (_, _, true) => (Mode::Derivative, None),
        _ => (Mode::Forward, None),
    };
    if mode == Mode::BackwardFromOutput && !act.has_backward_from_output() {
        let e = act
            .backward_from_output(&[], &[], &mut [])
            .expect_err("has_backward_from_output is false");
        return Err(CliError::input(e.to_string()));
    }

    let output_arg = match (&args.output, args.in_place) {
        (Some(out), _) => out.as_path(),
        (None, _) => args.input.as_path(),
    };

    // Open and check everything before creating any file.
    let input_format = Format::of(&args.input, "INPUT", args.format)?;
    let input = Input::open(&args.input, "INPUT", input_format)?;
    let dy = match dy_path {
        Some(path) => {
            let dy = Input::open(path, "DY", Format::of(path, "DY", args.format)?)?;
            check_same_shape(&input, &dy)?;
            Some(dy)
        }
        None => None,
    };
    let output_format = Format::from_extension(output_arg).unwrap_or(input_format);
    let dest = output::resolve(output_arg)?;
    check_overwrite(&args, &input, dy.as_ref(), &dest)?;
    let out_header = match output_format {
        Format::Npy => Some(npy::header_bytes(&output_header(&input)?)),
        Format::Raw => None,
    };

    install_interrupt_handler()?;
    let progress = progress_bar(input.data_bytes());
    let mut out = AtomicOutput::create(&dest)?;
    if let Some(h) = &out_header {
        out.file().write_all(h).map_err(|e| write_error(&out, e))?;
    }
    stream(
        &act,
        mode,
        input.into_source(),
        dy.map(Input::into_source),
        &mut out,
        &progress,
    )?;
    progress.finish_and_clear();
    out.commit()
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
fn check_overwrite(args: &ApplyArgs, input: &Input, dy: Option<&Input>, dest: &Path) -> Result<(), CliError> {
    let dest_id = super::files::FileId::of(dest);
    let same = |i: &Input| match (&i.identity, &dest_id) {
        (Some(a), Some(b)) => a.same_file(b),
        _ => false,
    };
    if args.in_place {
        if !same(input) {
            return Err(CliError::input(format!(
                "--in-place replaces INPUT, but OUTPUT `{}` is another file; drop OUTPUT or \
                 --in-place",
                dest.display()
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

fn write_error(out: &AtomicOutput, e: std::io::Error) -> CliError {
    CliError::failure(format!("cannot write `{}`: {e}", out.path().display()))
}

/// Reads, computes and writes every chunk; returns the first error of either stage (an input
/// error first: a write failing after the reader found bad data is a consequence).
fn stream(
    act: &Activation,
    mode: Mode,
    mut x: Source,
    mut dy: Option<Source>,
    out: &mut AtomicOutput,
    progress: &ProgressBar,
) -> Result<(), CliError> {
    let (free_tx, free_rx) = sync_channel::<Chunk>(IN_FLIGHT);
    let (full_tx, full_rx) = sync_channel::<Chunk>(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        free_tx
            .send(Chunk::new(mode))
            .expect("the channel holds IN_FLIGHT chunks");
    }
    let tmp_path = out.path().to_path_buf();
    let file = out.file();
    std::thread::scope(|s| {
        let producer = s.spawn(move || produce(act, mode, &mut x, dy.as_mut(), &free_rx, &full_tx));
        // This thread writes, so writing overlaps reading and computing the next chunks.
        let written = (|| -> Result<(), CliError> {
            for mut chunk in full_rx {
                let result = chunk.result(mode);
                to_le(result);
                file.write_all(bytemuck::cast_slice(result))
                    .map_err(|e| CliError::failure(format!("cannot write `{}`: {e}", tmp_path.display())))?;
                progress.inc(result.len() as u64 * 4);
                // The producer may have finished and dropped its end: nothing to recycle then.
                let _ = free_tx.send(chunk);
            }
            Ok(())
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
    act: &Activation,
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
