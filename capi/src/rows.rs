//! The row functions: softmax, log_softmax and softmin over the rows of a `[rows, cols]`
//! buffer, forward and backward from the output, on `float`, bfloat16 and binary16 buffers.
//! One checked path, [`row_call`], generic over the element type.

use super::{ACTKERN_ERR_BAD_BUFFER, ACTKERN_ERR_INTERNAL, ACTKERN_OK, SERIAL, guard};
use actkern::half::{bf16, f16};
use actkern::{Element, RowFn, Rows};
use core::ffi::c_int;
use std::sync::atomic::Ordering;

/// Checks the arguments and runs row function `op` (backward when `backward`): `a` is x (or y
/// for the backward), `b` is dy (backward only), `out` is y (or dx), each `rows * cols`
/// elements.
///
/// # Safety
/// Each non-null pointer among `a`, `b` (backward) and `out` points to `rows * cols` elements of
/// `E`, readable for the inputs and writable for `out`, for the duration of the call, and no
/// other thread writes them meanwhile.
unsafe fn row_call<E: Element>(
    op: Rows,
    backward: bool,
    a: *const E,
    b: *const E,
    out: *mut E,
    rows: usize,
    cols: usize,
) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        let Some(n) = rows.checked_mul(cols) else {
            return ACTKERN_ERR_BAD_BUFFER;
        };
        if n == 0 {
            return ACTKERN_OK;
        }
        let inputs = if backward { &[a, b][..] } else { &[a][..] };
        let aliased = match super::check_buffers(inputs, out, n) {
            Ok(aliased) => aliased,
            Err(status) => return status,
        };
        let op = op.parallel(!SERIAL.load(Ordering::Relaxed));
        // Safety: the pointers were just checked non-null, aligned and `n` elements long without
        // wrapping or exceeding isize::MAX bytes; each input either is `out` (flagged in
        // `aliased`) or does not overlap it, and no shared slice is made over `out`'s memory
        // while the mutable one lives (an aliased y is copied aside first); the caller vouches
        // for the memory itself.
        unsafe {
            let input = |p: *const E| std::slice::from_raw_parts(p, n);
            let output = || std::slice::from_raw_parts_mut(out, n);
            match (backward, aliased) {
                (false, [false, _]) => op.forward(input(a), cols, output()),
                (false, [true, _]) => op.forward_inplace(output(), cols),
                (true, [false, false]) => op.backward(input(a), input(b), cols, output()),
                (true, [false, true]) => op.backward_inplace(input(a), output(), cols),
                (true, [true, dy_too]) => {
                    // dx over y (and maybe dy): y is read by both passes of a row, so a copy
                    // of it is taken first.
                    let y = input(a).to_vec();
                    if dy_too {
                        op.backward_inplace(&y, output(), cols)
                    } else {
                        op.backward(&y, input(b), cols, output())
                    }
                }
            }
        }
        ACTKERN_OK
    })
}

/// softmax over rows: y[r*cols + i] = exp(x_i - m) / sum_j exp(x_j - m) for each of the `rows`
/// rows of `cols` contiguous floats, m being the row's maximum. `y` may equal `x` (in place).
///
/// PyTorch's semantics: a row holding a NaN or a +inf, or only -inf, gives NaN everywhere (see
/// actkern_softmax_masked_rows_zero for zeros instead on fully masked rows); -inf elements give
/// 0. Within 3 ULP of the exact value.
///
/// Returns ACTKERN_OK or, writing nothing, an error: rows * cols = 0 succeeds whatever the
/// pointers; then ACTKERN_ERR_NULL_POINTER for a NULL buffer, ACTKERN_ERR_BAD_BUFFER for a
/// misaligned one or rows * cols elements running past the end of the address space (or
/// overflowing size_t), ACTKERN_ERR_OVERLAP for an output that partially overlaps an input. The
/// same holds for every row function below. Calls of at least ACTKERN_PARALLEL_THRESHOLD
/// elements run their rows on actkern's threads unless actkern_set_serial(1) was called; the
/// result is the same bits either way.
///
/// # Safety
/// Each non-NULL buffer points to rows * cols floats (readable input, writable output) that no
/// other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmax(x: *const f32, y: *mut f32, rows: usize, cols: usize) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs.
    unsafe { row_call(Rows::new(RowFn::Softmax), false, x, std::ptr::null(), y, rows, cols) }
}

/// actkern_softmax, except that a fully masked row (every element -inf) gives zeros instead of
/// NaN, as attention needs. A row holding a NaN still gives NaN. Status codes as for
/// actkern_softmax.
///
/// # Safety
/// As for actkern_softmax.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmax_masked_rows_zero(
    x: *const f32,
    y: *mut f32,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs.
    unsafe {
        row_call(
            Rows::new(RowFn::Softmax).masked_rows_zero(true),
            false,
            x,
            std::ptr::null(),
            y,
            rows,
            cols,
        )
    }
}

/// log_softmax over rows: y_i = (x_i - m) - log(sum_j exp(x_j - m)), accurate at the row's
/// maximum too (within 3 ULP). Special rows as for actkern_softmax (-inf elements give -inf).
/// `y` may equal `x`. Status codes as for actkern_softmax.
///
/// # Safety
/// As for actkern_softmax.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_log_softmax(x: *const f32, y: *mut f32, rows: usize, cols: usize) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs.
    unsafe { row_call(Rows::new(RowFn::LogSoftmax), false, x, std::ptr::null(), y, rows, cols) }
}

/// softmin over rows: the softmax of -x. `y` may equal `x`. Status codes as for
/// actkern_softmax.
///
/// # Safety
/// As for actkern_softmax.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmin(x: *const f32, y: *mut f32, rows: usize, cols: usize) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs.
    unsafe { row_call(Rows::new(RowFn::Softmin), false, x, std::ptr::null(), y, rows, cols) }
}

/// The backward of actkern_softmax from its output y: dx_i = y_i * (dy_i - sum_j dy_j * y_j),
/// per row. `dx` may equal `dy`, `y`, or both. Status codes as for actkern_softmax.
///
/// # Safety
/// As for actkern_softmax, for the three buffers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmax_backward(
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs.
    unsafe { row_call(Rows::new(RowFn::Softmax), true, y, dy, dx, rows, cols) }
}

/// The backward of actkern_log_softmax from its output y: dx_i = dy_i - exp(y_i) * sum_j dy_j,
/// per row. `dx` may equal `dy`, `y`, or both. Status codes as for actkern_softmax.
///
/// # Safety
/// As for actkern_softmax_backward.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_log_softmax_backward(
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs.
    unsafe { row_call(Rows::new(RowFn::LogSoftmax), true, y, dy, dx, rows, cols) }
}

/// The backward of actkern_softmin from its output y: dx_i = -y_i * (dy_i - sum_j dy_j * y_j),
/// per row. `dx` may equal `dy`, `y`, or both. Status codes as for actkern_softmax.
///
/// # Safety
/// As for actkern_softmax_backward.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmin_backward(
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs.
    unsafe { row_call(Rows::new(RowFn::Softmin), true, y, dy, dx, rows, cols) }
}

/// actkern_softmax on bfloat16 buffers: each row widened exactly to float, computed as
/// actkern_softmax, each result rounded once to nearest-even bfloat16 (each uint16_t holding
/// the upper half of a float's bits). The same holds for every _bf16 and _f16 row function
/// (IEEE binary16 for _f16); status codes as for actkern_softmax, with 2-byte elements.
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable input, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmax_bf16(x: *const u16, y: *mut u16, rows: usize, cols: usize) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs; `bf16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid).
    unsafe {
        row_call(
            Rows::new(RowFn::Softmax),
            false,
            x.cast::<bf16>(),
            std::ptr::null(),
            y.cast::<bf16>(),
            rows,
            cols,
        )
    }
}

/// actkern_log_softmax on bfloat16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable input, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_log_softmax_bf16(x: *const u16, y: *mut u16, rows: usize, cols: usize) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs; `bf16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid).
    unsafe {
        row_call(
            Rows::new(RowFn::LogSoftmax),
            false,
            x.cast::<bf16>(),
            std::ptr::null(),
            y.cast::<bf16>(),
            rows,
            cols,
        )
    }
}

/// actkern_softmin on bfloat16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable input, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmin_bf16(x: *const u16, y: *mut u16, rows: usize, cols: usize) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs; `bf16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid).
    unsafe {
        row_call(
            Rows::new(RowFn::Softmin),
            false,
            x.cast::<bf16>(),
            std::ptr::null(),
            y.cast::<bf16>(),
            rows,
            cols,
        )
    }
}

/// actkern_softmax_backward on bfloat16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable inputs, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmax_backward_bf16(
    y: *const u16,
    dy: *const u16,
    dx: *mut u16,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: as for actkern_softmax_bf16.
    unsafe {
        row_call(
            Rows::new(RowFn::Softmax),
            true,
            y.cast::<bf16>(),
            dy.cast::<bf16>(),
            dx.cast::<bf16>(),
            rows,
            cols,
        )
    }
}

/// actkern_log_softmax_backward on bfloat16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable inputs, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_log_softmax_backward_bf16(
    y: *const u16,
    dy: *const u16,
    dx: *mut u16,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: as for actkern_log_softmax_bf16.
    unsafe {
        row_call(
            Rows::new(RowFn::LogSoftmax),
            true,
            y.cast::<bf16>(),
            dy.cast::<bf16>(),
            dx.cast::<bf16>(),
            rows,
            cols,
        )
    }
}

/// actkern_softmin_backward on bfloat16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable inputs, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmin_backward_bf16(
    y: *const u16,
    dy: *const u16,
    dx: *mut u16,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: as for actkern_softmin_bf16.
    unsafe {
        row_call(
            Rows::new(RowFn::Softmin),
            true,
            y.cast::<bf16>(),
            dy.cast::<bf16>(),
            dx.cast::<bf16>(),
            rows,
            cols,
        )
    }
}

/// actkern_softmax on binary16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable input, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmax_f16(x: *const u16, y: *mut u16, rows: usize, cols: usize) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs; `f16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid).
    unsafe {
        row_call(
            Rows::new(RowFn::Softmax),
            false,
            x.cast::<f16>(),
            std::ptr::null(),
            y.cast::<f16>(),
            rows,
            cols,
        )
    }
}

/// actkern_log_softmax on binary16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable input, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_log_softmax_f16(x: *const u16, y: *mut u16, rows: usize, cols: usize) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs; `f16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid).
    unsafe {
        row_call(
            Rows::new(RowFn::LogSoftmax),
            false,
            x.cast::<f16>(),
            std::ptr::null(),
            y.cast::<f16>(),
            rows,
            cols,
        )
    }
}

/// actkern_softmin on binary16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable input, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmin_f16(x: *const u16, y: *mut u16, rows: usize, cols: usize) -> c_int {
    // Safety: the caller's contract is the one `row_call` needs; `f16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid).
    unsafe {
        row_call(
            Rows::new(RowFn::Softmin),
            false,
            x.cast::<f16>(),
            std::ptr::null(),
            y.cast::<f16>(),
            rows,
            cols,
        )
    }
}

/// actkern_softmax_backward on binary16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable inputs, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmax_backward_f16(
    y: *const u16,
    dy: *const u16,
    dx: *mut u16,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: as for actkern_softmax_f16.
    unsafe {
        row_call(
            Rows::new(RowFn::Softmax),
            true,
            y.cast::<f16>(),
            dy.cast::<f16>(),
            dx.cast::<f16>(),
            rows,
            cols,
        )
    }
}

/// actkern_log_softmax_backward on binary16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable inputs, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_log_softmax_backward_f16(
    y: *const u16,
    dy: *const u16,
    dx: *mut u16,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: as for actkern_log_softmax_f16.
    unsafe {
        row_call(
            Rows::new(RowFn::LogSoftmax),
            true,
            y.cast::<f16>(),
            dy.cast::<f16>(),
            dx.cast::<f16>(),
            rows,
            cols,
        )
    }
}

/// actkern_softmin_backward on binary16 buffers (see actkern_softmax_bf16).
///
/// # Safety
/// Each non-NULL buffer points to rows * cols uint16_t (readable inputs, writable output) that
/// no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_softmin_backward_f16(
    y: *const u16,
    dy: *const u16,
    dx: *mut u16,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: as for actkern_softmin_f16.
    unsafe {
        row_call(
            Rows::new(RowFn::Softmin),
            true,
            y.cast::<f16>(),
            dy.cast::<f16>(),
            dx.cast::<f16>(),
            rows,
            cols,
        )
    }
}
