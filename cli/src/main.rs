//! `actkern`: apply activation functions to large float files (`.npy` of `float32` or
//! `float16`, or raw `f32`, `bf16` or `f16`), list them, benchmark them and plot them. Run
//! `actkern --help`.
#![forbid(unsafe_code)]

mod apply;
mod bench;
mod files;
mod gated;
mod list;
mod npy;
mod output;
mod plot;
mod rows;

use actkern::Dtype;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status for bad input: arguments, files, specs (also what clap uses for usage errors).
const EXIT_BAD_INPUT: u8 = 2;
/// Exit status when something else failed (a write, a full disk).
const EXIT_FAILURE: u8 = 1;
/// Exit status after Ctrl-C or SIGTERM (128 + SIGINT).
const EXIT_INTERRUPTED: i32 = 130;

/// SIMD activation functions over large float files.
#[derive(Parser, Debug)]
#[command(name = "actkern", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Apply an activation, its derivative or its backward to a float file, streaming; or a
    /// row function (softmax, log_softmax, softmin) over the last dimension, and its backward
    /// with --backward-from-output.
    ///
    /// Formats: .npy (little-endian float32 '<f4' or float16 '<f2', any shape, C or Fortran
    /// order kept) and raw little-endian elements of --dtype: f32 (the default), bf16 or f16
    /// (.f32, .bin, .raw). OUTPUT holds INPUT's element type: an '<f2' file gives an '<f2' file,
    /// and bf16 data, which numpy has no dtype for, can only be written raw. OUTPUT's format is
    /// --format's, else its extension's; standard output (`-`) and other streams without a known
    /// extension take INPUT's. A regular-file OUTPUT is written to a temporary file beside it
    /// and renamed over it only on success (through symbolic links, which stay); standard
    /// output, pipes and devices are written as a stream and never replaced.
    Apply(ApplyArgs),
    /// List every activation: parameters with defaults and ranges, formula, and whether its
    /// backward can be computed from the output.
    List(ListArgs),
    /// Measure forward and backward throughput of every activation next to a plain copy of the
    /// same buffer and a naive scalar loop, for each element type of --dtype.
    Bench(BenchArgs),
    /// Draw f and f' of an activation as an SVG or PNG image.
    Plot(PlotArgs),
}

/// Arguments of `actkern apply`.
#[derive(Args, Debug)]
struct ApplyArgs {
    /// Activation spec, e.g. `tanh`, `elu(alpha=0.5)` or `hardtanh(min_val=-2, max_val=2)`; or a
    /// gated activation (glu, swiglu, geglu, geglu(approximate=tanh), reglu), applied to the
    /// halves layout: each row of INPUT along its last dimension is [a | b] (an even width),
    /// OUTPUT is f(a)·b (glu: a·sigmoid(b)), half as wide, and with --backward DY (DY shaped
    /// like that OUTPUT) OUTPUT is dx = [da | db], shaped like INPUT (the accurate tier whatever
    /// --fast says); or a row function, `softmax`, `log_softmax` or `softmin`, over INPUT's rows.
    spec: String,
    /// File to read, or `-` for standard input (never modified, except by --in-place through a
    /// temporary file).
    input: PathBuf,
    /// File to write, or `-` for standard output; may be omitted with --in-place.
    #[arg(required_unless_present = "in_place")]
    output: Option<PathBuf>,
    /// Write f'(x) instead of f(x).
    #[arg(long, conflicts_with_all = ["backward", "backward_from_output"])]
    derivative: bool,
    /// Write dx = dy · f'(x), reading the incoming gradient dy from DY (same shape and element
    /// type as INPUT; for a gated activation, the shape of its forward OUTPUT).
    #[arg(long, value_name = "DY", conflicts_with = "backward_from_output")]
    backward: Option<PathBuf>,
    /// Write dx = dy · f'(x) where INPUT holds the forward's output y = f(x).
    #[arg(long, value_name = "DY")]
    backward_from_output: Option<PathBuf>,
    /// Replace INPUT (through a temporary file); required when OUTPUT is INPUT.
    #[arg(long)]
    in_place: bool,
    /// Format of OUTPUT; default: OUTPUT's extension (.npy, or .f32/.bin/.raw for raw), or
    /// INPUT's format for standard output and other streams.
    #[arg(long, value_enum)]
    format: Option<files::Format>,
    /// Format of INPUT and DY; default: their extensions. Needed for standard input and for
    /// files named otherwise.
    #[arg(long, value_enum, value_name = "FORMAT")]
    input_format: Option<files::Format>,
    /// Element type of raw INPUT data, little-endian: f32 (the default), bf16 or f16. A .npy
    /// INPUT's header says its own ('<f4' is f32, '<f2' is f16); a --dtype that differs is an
    /// error. DY and OUTPUT hold INPUT's type (a raw DY is read as it); bf16 is written raw only.
    #[arg(long, value_name = "DTYPE", value_parser = dtype_parser(), ignore_case = true)]
    dtype: Option<Dtype>,
    /// The row width of raw INPUT, which has no shape (required there): for a row function, N
    /// elements per row; for a gated activation, rows of [a | b], 2·N elements, and OUTPUT's
    /// rows N wide. A .npy INPUT's last dimension gives the rows, and --cols must agree with it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..).try_map(usize::try_from))]
    cols: Option<usize>,
    /// Row functions: a fully masked row (every element -inf; softmin: +inf) gives zeros
    /// (log_softmax: -inf) instead of NaN.
    #[arg(long)]
    masked_rows_zero: bool,
    #[command(flatten)]
    run: RunArgs,
}

/// Options shared by `apply` and `bench`.
#[derive(Args, Debug)]
struct RunArgs {
    /// Worker threads for the kernels (default: one per CPU).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// SIMD backend: scalar, portable, avx2 or avx512 (default: the widest this CPU has, or
    /// the ACTKERN_BACKEND environment variable).
    #[arg(long, value_name = "B")]
    backend: Option<String>,
    /// Run the fast tier: at most 4 ULP forward and derivative, 5 backward, where the result is
    /// a normal float (the accurate default: 2 and 3). Piecewise-linear activations have one
    /// tier.
    #[arg(long)]
    fast: bool,
}

impl RunArgs {
    /// The tier `--fast` chose.
    fn tier(&self) -> actkern::Tier {
        if self.fast {
            actkern::Tier::Fast
        } else {
            actkern::Tier::Accurate
        }
    }
}

/// An activation run in the tier chosen on the command line.
type Tiered = actkern::InTier<actkern::Activation>;

/// Arguments of `actkern list`.
#[derive(Args, Debug)]
struct ListArgs {
    /// Print only the default spec string of each activation, one a line.
    #[arg(long)]
    specs: bool,
}

/// Arguments of `actkern bench`.
#[derive(Args, Debug)]
struct BenchArgs {
    /// Buffer lengths in elements, comma-separated; K and M multiply by 1024 and 1024².
    #[arg(long, value_name = "N,N,...", default_value = "64K,4M")]
    sizes: String,
    /// Only this activation (a spec); repeat for several. Default: every activation.
    #[arg(long = "activation", short = 'a', value_name = "SPEC")]
    activations: Vec<String>,
    /// Time spent measuring each function at each size, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    min_time_ms: u64,
    /// Element types to measure, comma-separated: f32, bf16, f16. Each is timed with buffers of
    /// its own type (16-bit elements are widened to f32 in the kernel and rounded back) next to
    /// a copy of the same bytes.
    #[arg(
        long,
        value_name = "DTYPE,...",
        value_delimiter = ',',
        default_value = "f32",
        value_parser = dtype_parser(),
        ignore_case = true
    )]
    dtype: Vec<Dtype>,
    /// Print JSON records on stdout instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    run: RunArgs,
}

/// Arguments of `actkern plot`.
#[derive(Args, Debug)]
struct PlotArgs {
    /// Activation spec, e.g. `gelu(approximate=tanh)`.
    spec: String,
    /// Image file to write: .svg or .png (the extension chooses the format).
    #[arg(short, long, value_name = "FILE.svg|FILE.png")]
    output: PathBuf,
    /// Range of x, as A:B.
    #[arg(long, value_name = "A:B", default_value = "-6:6", allow_hyphen_values = true)]
    range: String,
}

/// A failure: its message (one line) and the exit status it leads to.
#[derive(Debug)]
pub struct CliError {
    message: String,
    code: u8,
}

impl CliError {
    /// Bad input: a file, a spec, a value. Exit status 2.
    pub fn input(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: EXIT_BAD_INPUT,
        }
    }

    /// Anything else (a failed write). Exit status 1.
    pub fn failure(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: EXIT_FAILURE,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever a message from the OS or a library holds.
        f.write_str(&self.message.replace(['\n', '\r'], " "))
    }
}

/// Runs the command line and returns the process's exit status.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Apply(args) => apply::run(args),
        Command::List(args) => list::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Plot(args) => plot::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("actkern: error: {e}");
            ExitCode::from(e.code)
        }
    }
}

/// Parses `--dtype`: one of the library's element type names (clap lists them, and suggests
/// one, on a mistake), through [`Dtype`]'s `FromStr`.
fn dtype_parser() -> impl TypedValueParser<Value = Dtype> {
    PossibleValuesParser::new(Dtype::ALL.map(Dtype::name)).try_map(|s| s.parse::<Dtype>())
}

/// Parses a spec string; the library's message lists the valid names and suggests one.
fn parse_spec(spec: &str) -> Result<actkern::Activation, CliError> {
    spec.parse()
        .map_err(|e: actkern::ParseError| CliError::input(e.to_string()))
}

/// Chooses the backend and sizes rayon's global pool, before any kernel runs. The backend comes
/// from `--backend`, else `ACTKERN_BACKEND` (checked here, so a bad value is an error rather
/// than the library's panic), else the widest the CPU has.
fn configure(run: &RunArgs) -> Result<(), CliError> {
    let chosen = match &run.backend {
        Some(name) => Some(("--backend", name.clone())),
        None => std::env::var("ACTKERN_BACKEND")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| ("ACTKERN_BACKEND", v)),
    };
    if let Some((source, name)) = chosen {
        let backend: actkern::Backend = name
            .parse()
            .map_err(|e: actkern::BackendError| CliError::input(format!("{source}: {e}")))?;
        actkern::set_backend(backend).map_err(|e| CliError::input(format!("{source}: {e}")))?;
    }
    if let Some(n) = run.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global()
            .map_err(|e| CliError::failure(format!("cannot start {n} threads: {e}")))?;
    }
    Ok(())
}

/// Writes `text` to stdout; a closed pipe (`actkern list | head`) is not an error.
fn print_stdout(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::failure(format!("cannot write to stdout: {e}"))),
    }
}

/// Installs the Ctrl-C / SIGTERM / SIGHUP handler that removes unfinished outputs and exits.
/// `streaming` says OUTPUT is a stream (standard output, a pipe, a device), where what was
/// written cannot be taken back.
fn install_interrupt_handler(streaming: bool) -> Result<(), CliError> {
    ctrlc::set_handler(move || {
        output::remove_pending();
        if streaming {
            eprintln!("actkern: interrupted; the output stream is incomplete");
        } else {
            eprintln!("actkern: interrupted; no output was written");
        }
        std::process::exit(EXIT_INTERRUPTED);
    })
    .map_err(|e| CliError::failure(format!("cannot install the Ctrl-C handler: {e}")))
}
