//! `actkern`: apply activation functions to large float files (`.npy` or raw `f32`), list
//! them, benchmark them and plot them. Run `actkern --help`.
#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
