//! `actkern apply softmax|log_softmax|softmin`: the row functions over the last dimension,
//! checked before anything is read; [`super::apply`] streams them in chunks of whole rows.

use super::files::Input;
use super::{ApplyArgs, CliError};
use actkern::RowFn;

/// The options that make no sense for a row function are refused, naming what works instead.
pub fn check_args(f: RowFn, args: &ApplyArgs, mode: super::apply::Mode) -> Result<(), CliError> {
    use super::apply::Mode;
    if matches!(mode, Mode::Derivative | Mode::Backward) {
        return Err(CliError::input(format!(
            "`{f}` is a row function: its gradient is computed from its output; use \
             --backward-from-output DY with INPUT holding y = {f}(x) (--derivative and --backward \
             apply to activations)"
        )));
    }
    if args.run.fast {
        return Err(CliError::input(format!(
            "--fast applies to activations; `{f}` has one tier (within 3 ULP)"
        )));
    }
    Ok(())
}

/// The row length: a .npy INPUT's last dimension (C order; --cols, if given, must agree), or
/// --cols for raw data.
pub fn cols(input: &Input, flag: Option<usize>) -> Result<usize, CliError> {
    let flag = flag.map(|c| c as u64);
    let name = input.path.display();
    let cols = match (&input.header, flag) {
        (Some(h), _) if h.fortran_order && h.shape.iter().filter(|&&d| d != 1).count() > 1 => {
            return Err(CliError::input(format!(
                "INPUT `{name}` is in Fortran order (shape {}): its rows over the last dimension \
                 are not contiguous; save it in C order (numpy.ascontiguousarray)",
                h.shape_repr()
            )));
        }
        (Some(h), flag) => {
            // A 0-d array is one row of one element.
            let last = h.shape.last().copied().unwrap_or(1);
            if let Some(asked) = flag.filter(|&c| c != last) {
                return Err(CliError::input(format!(
                    "--cols {asked} conflicts with INPUT `{name}`, whose last dimension is {last} \
                     (shape {}); drop --cols",
                    h.shape_repr()
                )));
            }
            if last == 0 {
                // No element at all: any row length will do.
                1
            } else {
                last
            }
        }
        (None, Some(cols)) => cols,
        (None, None) => {
            return Err(CliError::input(format!(
                "raw INPUT `{name}` has no shape: give the row length with --cols N (or use a \
                 .npy file, whose last dimension is the row)"
            )));
        }
    };
    let cols =
        usize::try_from(cols).map_err(|_| CliError::input(format!("rows of {cols} elements do not fit in memory")))?;
    if let Some(n) = input.elements
        && n % cols as u64 != 0
    {
        return Err(CliError::input(format!(
            "INPUT `{name}` has {n} elements, not a whole number of rows of --cols {cols}"
        )));
    }
    Ok(cols)
}

/// A chunk of a stream must end on a row boundary (known-size inputs are checked up front).
pub fn check_whole_rows(n: usize, cols: usize) -> Result<(), CliError> {
    if n.is_multiple_of(cols) {
        Ok(())
    } else {
        Err(CliError::input(format!(
            "INPUT ended inside a row: its element count is not a multiple of --cols {cols}"
        )))
    }
}
