//! The C ABI: what `libactkern.a`, `libactkern.so` and `include/actkern.h` offer C and C++.
//!
//! The generic entry points come in three element types: `float` (`actkern_forward`, ...),
//! bfloat16 and IEEE binary16 (`actkern_forward_bf16`, `actkern_forward_f16`, ..., over
//! `uint16_t` buffers). All of them share one code path, generic over [`Element`]: [`run`],
//! [`execute`] and [`through_copy`].
//!
//! The header is generated from this file and from `src/direct.rs` by cbindgen (configured by
//! `cbindgen.toml`); `tests/c_abi.rs` regenerates both and fails when the committed copies are
//! stale. The doc comments here are written for C readers: they become the header's comments.
//!
//! Every entry point runs inside [`guard`], so no panic ever unwinds into C. All the pointer
//! checks are in [`run`], in units of the element type; the only slices made from C pointers
//! are made in [`execute`] and [`through_copy`], after those checks, and never a shared and a
//! mutable slice over the same memory: exact aliasing goes through the in-place methods of
//! [`Apply`] or through a copy. The functions over buffers of several shapes (gated, bias,
//! prelu) are in `shaped.rs`, with checks of their own and the same rules.
//!
//! This crate's `unsafe` is all about those pointer arguments (the library's own is confined
//! to its `backend` module); every `unsafe` block states why it is sound in a `// Safety:`
//! comment, which clippy enforces.
#![deny(clippy::undocumented_unsafe_blocks)]

use actkern::half::{bf16, f16};
use actkern::{Activation, Apply, Element, Fast, FromOutputError, Kernel, ParamKind, ParamValue, Serial, Tier};
use core::ffi::{CStr, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

/// One entry point per activation with explicit parameters, generated from the registry.
#[rustfmt::skip]
mod direct;
/// softmax, log_softmax and softmin over rows.
mod rows;
/// Gated activations, bias + activation and prelu: buffers of more than one shape.
mod shaped;

/// Success.
pub const ACTKERN_OK: c_int = 0;
/// A pointer argument is NULL: the activation handle (always), or a buffer while n > 0.
pub const ACTKERN_ERR_NULL_POINTER: c_int = -1;
/// The output buffer partially overlaps an input buffer. An output pointer equal to an input
/// pointer (exact aliasing) is the in-place case and is allowed.
pub const ACTKERN_ERR_OVERLAP: c_int = -2;
/// actkern_backward_from_output was asked of an activation whose derivative cannot be
/// recovered from its output (gelu, silu, hardswish, elu with alpha <= 0, ...); use
/// actkern_backward with the input instead. Nothing was written.
pub const ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT: c_int = -3;
/// A spec string that does not parse, or a parameter of a direct entry point
/// (actkern_elu_forward, ...) out of its range: NaN, infinite, or outside the range the
/// function's comment gives.
pub const ACTKERN_ERR_BAD_SPEC: c_int = -4;
/// A buffer that cannot exist: a pointer not aligned to its element type (`float`, or
/// `uint16_t` for the _bf16 and _f16 functions), or n elements from the pointer run past the end
/// of the address space.
pub const ACTKERN_ERR_BAD_BUFFER: c_int = -5;
/// actkern_set_backend: the name is not one of "scalar", "portable", "avx2", "avx512", or this
/// CPU lacks the instructions it needs.
pub const ACTKERN_ERR_BAD_BACKEND: c_int = -6;
/// A Rust panic was caught at the boundary (its message went to stderr): a bug in actkern. What
/// may have been written is unspecified. (An ACTKERN_BACKEND environment variable naming an
/// unknown or unsupported backend is not an error: see actkern_backend.)
pub const ACTKERN_ERR_INTERNAL: c_int = -7;

/// Buffers of at least this many elements are split across threads, unless
/// actkern_set_serial(1) was called.
pub const ACTKERN_PARALLEL_THRESHOLD: usize = 131072;
const _: () = assert!(ACTKERN_PARALLEL_THRESHOLD == actkern::PARALLEL_THRESHOLD);
// The _bf16 and _f16 entry points cast `uint16_t` pointers to these types.
const _: () = assert!(size_of::<bf16>() == size_of::<u16>() && align_of::<bf16>() == align_of::<u16>());
const _: () = assert!(size_of::<f16>() == size_of::<u16>() && align_of::<f16>() == align_of::<u16>());

/// Elements per block when an input that aliases the output is copied aside first (derivative
/// in place, backward with dx == x, backward from the output in place): 1 MiB of scratch for
/// `f32` (512 KiB for the 16-bit types), and a block is still long enough to be split across
/// threads.
const ALIAS_BLOCK: usize = 2 * actkern::PARALLEL_THRESHOLD;

/// Set by actkern_set_serial.
static SERIAL: AtomicBool = AtomicBool::new(false);

/// An activation function with its parameters, made by actkern_parse (or actkern_parse_fast)
/// and released by actkern_free. It is immutable: one handle can be used by any number of
/// threads at once.
pub struct ActivationHandle {
    activation: Activation,
    tier: Tier,
}

const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<ActivationHandle>()
};

/// Runs `body`, turning a panic into `on_panic`: nothing unwinds into C.
fn guard<R>(on_panic: R, body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(payload) => {
            // The payload's destructor is arbitrary code too; keep a panic in it contained.
            if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                std::mem::forget(again);
            }
            on_panic
        }
    }
}

/// Which function of the activation an entry point computes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Func {
    Forward,
    Derivative,
    Backward,
    BackwardFromOutput,
}

impl Func {
    fn inputs(self) -> usize {
        match self {
            Func::Forward | Func::Derivative => 1,
            Func::Backward | Func::BackwardFromOutput => 2,
        }
    }
}

/// Checks the buffers of a call of `n > 0` elements each: none NULL
/// (`ACTKERN_ERR_NULL_POINTER`), each aligned and within the address space and `isize::MAX`
/// bytes (`ACTKERN_ERR_BAD_BUFFER`), and each input either exactly `out` (in place: its flag in
/// the result is set) or disjoint from it (`ACTKERN_ERR_OVERLAP`).
pub(crate) fn check_buffers<E>(inputs: &[*const E], out: *mut E, n: usize) -> Result<[bool; 2], c_int> {
    if out.is_null() || inputs.iter().any(|p| p.is_null()) {
        return Err(ACTKERN_ERR_NULL_POINTER);
    }
    let Some(bytes) = n
        .checked_mul(size_of::<E>())
        .filter(|&bytes| bytes <= isize::MAX as usize)
    else {
        return Err(ACTKERN_ERR_BAD_BUFFER);
    };
    let fits = |addr: usize| addr.is_multiple_of(align_of::<E>()) && addr.checked_add(bytes).is_some();
    if !fits(out.addr()) || !inputs.iter().all(|p| fits(p.addr())) {
        return Err(ACTKERN_ERR_BAD_BUFFER);
    }
    let mut aliased = [false; 2];
    for (alias, p) in aliased.iter_mut().zip(inputs) {
        let (start, out_start) = (p.addr(), out.addr());
        if start == out_start {
            *alias = true;
        } else if start < out_start + bytes && out_start < start + bytes {
            return Err(ACTKERN_ERR_OVERLAP);
        }
    }
    Ok(aliased)
}

/// Checks the arguments and runs `func`: the body of every kernel entry point, generic or
/// direct, whatever the element type `E`. `b` is only read for two-input functions. Sizes,
/// alignment and overlap are judged in elements of `E` (4 bytes for `f32`, 2 for `bf16`/`f16`).
///
/// # Safety
/// Each non-null pointer among `a`, `b` (if used) and `out` points to `n` elements of `E`,
/// readable for the inputs and writable for `out`, for the duration of the call, and no other
/// thread writes them meanwhile.
unsafe fn run<A: Apply + Copy, E: Element>(
    act: A,
    func: Func,
    a: *const E,
    b: *const E,
    out: *mut E,
    n: usize,
) -> c_int {
    if func == Func::BackwardFromOutput && !act.has_backward_from_output() {
        return ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT;
    }
    if n == 0 {
        return ACTKERN_OK;
    }
    let inputs = &[a, b][..func.inputs()];
    let aliased = match check_buffers(inputs, out, n) {
        Ok(aliased) => aliased,
        Err(status) => return status,
    };
    let serial = SERIAL.load(Ordering::Relaxed);
    // Safety: the pointers were just checked non-null, aligned, and `n` elements long without
    // wrapping or exceeding isize::MAX bytes; each input either is `out` (flagged in `aliased`)
    // or does not overlap it; the caller vouches for the memory itself.
    let result = unsafe {
        if serial {
            execute(&Serial(act), func, a, b, out, n, aliased)
        } else {
            execute(&act, func, a, b, out, n, aliased)
        }
    };
    match result {
        Ok(()) => ACTKERN_OK,
        Err(FromOutputError { .. }) => ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT,
    }
}

/// An input slice of `n` elements.
///
/// # Safety
/// `p` is non-null, aligned and points to `n` initialized elements that nothing writes while the
/// slice lives.
unsafe fn input<'a, E: Element>(p: *const E, n: usize) -> &'a [E] {
    // Safety: guaranteed by the caller (see above).
    unsafe { std::slice::from_raw_parts(p, n) }
}

/// The output slice of `n` elements.
///
/// # Safety
/// `p` is non-null, aligned and points to `n` writable elements that no other reference reaches
/// while the slice lives.
unsafe fn output<'a, E: Element>(p: *mut E, n: usize) -> &'a mut [E] {
    // Safety: guaranteed by the caller (see above).
    unsafe { std::slice::from_raw_parts_mut(p, n) }
}

/// Runs `func` over buffers already checked by [`run`]; `aliased[i]` says input `i` is `out`.
///
/// # Safety
/// As established by [`run`]: valid non-empty buffers of `n` elements, inputs either equal to
/// `out` or disjoint from it.
unsafe fn execute<A: Apply, E: Element>(
    act: &A,
    func: Func,
    a: *const E,
    b: *const E,
    out: *mut E,
    n: usize,
    aliased: [bool; 2],
) -> Result<(), FromOutputError> {
    // Safety: for every slice below, the buffers are valid (caller), the inputs sliced here are
    // disjoint from `out` (their `aliased` flag is false), and the output slice is the only
    // reference to its memory. Cases where an input is `out` use an in-place method, which
    // takes the one mutable slice, or `through_copy`.
    unsafe {
        match (func, aliased) {
            (Func::Forward, [false, _]) => act.forward(input(a, n), output(out, n)),
            (Func::Forward, [true, _]) => act.forward_inplace(output(out, n)),
            (Func::Derivative, [false, _]) => act.derivative(input(a, n), output(out, n)),
            (Func::Backward, [false, false]) => act.backward(input(a, n), input(b, n), output(out, n)),
            (Func::Backward, [false, true]) => act.backward_inplace(input(a, n), output(out, n)),
            (Func::BackwardFromOutput, [false, false]) => {
                act.backward_from_output(input(a, n), input(b, n), output(out, n))?
            }
            _ => through_copy(act, func, a, b, out, n, aliased)?,
        }
    }
    Ok(())
}

/// Runs `func` block by block, reading the inputs that alias `out` from a copy of the block
/// taken before it is overwritten. Elements do not depend on their neighbours, so the result
/// is the same as out of place, bit for bit.
///
/// # Safety
/// As for [`execute`].
unsafe fn through_copy<A: Apply, E: Element>(
    act: &A,
    func: Func,
    a: *const E,
    b: *const E,
    out: *mut E,
    n: usize,
    aliased: [bool; 2],
) -> Result<(), FromOutputError> {
    let mut scratch = vec![E::default(); n.min(ALIAS_BLOCK)];
    let mut start = 0;
    while start < n {
        let len = ALIAS_BLOCK.min(n - start);
        // Safety: `start + len <= n`, so these are blocks of the checked buffers. The inputs
        // sliced are the ones disjoint from `out` (the aliased ones are read from `scratch`),
        // and `out_block` is the only reference to its memory while it lives.
        let (out_block, x, y) = unsafe {
            let out_block = output(out.add(start), len);
            scratch[..len].copy_from_slice(out_block);
            let pick = |p: *const E, alias: bool| {
                if alias {
                    &scratch[..len]
                } else {
                    input(p.add(start), len)
                }
            };
            let second = if func.inputs() == 2 {
                pick(b, aliased[1])
            } else {
                &[][..]
            };
            (out_block, pick(a, aliased[0]), second)
        };
        match func {
            Func::Forward => act.forward(x, out_block),
            Func::Derivative => act.derivative(x, out_block),
            Func::Backward => act.backward(x, y, out_block),
            Func::BackwardFromOutput => act.backward_from_output(x, y, out_block)?,
        }
        start += len;
    }
    Ok(())
}

/// The activation behind a handle.
///
/// # Safety
/// `act` is NULL or a live pointer from actkern_parse.
unsafe fn handle(act: *const ActivationHandle) -> Option<(Activation, Tier)> {
    // Safety: non-null, hence live and from actkern_parse (caller); the value is only read.
    unsafe { act.as_ref() }.map(|h| (h.activation, h.tier))
}

/// Runs a generic entry point, on elements of type `E`.
///
/// # Safety
/// As for [`run`], and `act` as for [`handle`].
unsafe fn generic<E: Element>(
    act: *const ActivationHandle,
    func: Func,
    a: *const E,
    b: *const E,
    out: *mut E,
    n: usize,
) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        // Safety: forwarded from the caller.
        match unsafe { handle(act) } {
            // Safety: forwarded from the caller.
            Some((act, Tier::Accurate)) => unsafe { run(act, func, a, b, out, n) },
            // Safety: forwarded from the caller.
            Some((act, Tier::Fast)) => unsafe { run(Fast(act), func, a, b, out, n) },
            None => ACTKERN_ERR_NULL_POINTER,
        }
    })
}

/// Runs a direct entry point of kernel `K` with parameter values in `K::PARAMS` order, which
/// are checked as the spec parser checks them. The direct entry points take `float` buffers only.
///
/// # Safety
/// As for [`run`].
unsafe fn direct<K: Kernel + Apply>(
    params: &[ParamValue],
    func: Func,
    a: *const f32,
    b: *const f32,
    out: *mut f32,
    n: usize,
) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || match build::<K>(params) {
        // Safety: forwarded from the caller.
        // The kernel's own `Apply`, compiled in the library: `Custom(k)` would compile the
        // driver and the kernel again here.
        Some(k) => unsafe { run(k, func, a, b, out, n) },
        None => ACTKERN_ERR_BAD_SPEC,
    })
}

/// The kernel with these parameter values, if each is in its range and they fit together.
fn build<K: Kernel>(values: &[ParamValue]) -> Option<K> {
    if values.len() != K::PARAMS.len() {
        return None;
    }
    for (param, value) in K::PARAMS.iter().zip(values) {
        let ok = match (param.kind, *value) {
            (ParamKind::Real { range, .. }, ParamValue::Real(v)) => range.contains(v),
            (ParamKind::Choice { choices, .. }, ParamValue::Choice(i)) => i < choices.len(),
            _ => false,
        };
        if !ok {
            return None;
        }
    }
    K::from_params(values).ok()
}

/// A choice parameter from C: negative values become an index no choice list has.
fn choice(value: c_int) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// Copies `message` into `buf` (at most `len` bytes with the terminating NUL, cut at a UTF-8
/// character boundary). Does nothing when `buf` is NULL or `len` is 0.
///
/// # Safety
/// `buf` is NULL or points to `len` writable bytes.
unsafe fn write_message(buf: *mut c_char, len: usize, message: &str) {
    if buf.is_null() || len == 0 {
        return;
    }
    let mut end = message.len().min(len - 1);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    // Safety: `buf` has `len > end` writable bytes (caller), and `message` is a distinct Rust
    // string, so the ranges do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), end);
        *buf.add(end) = 0;
    }
}

/// Parses a spec string such as "tanh", "elu(alpha=0.5)" or
/// "hardtanh(min_val=-2, max_val=2)" (PyTorch's functional name and parameter names; white
/// space is ignored, omitted parameters take PyTorch's defaults).
///
/// Returns a new handle, to be released with actkern_free, or NULL when the spec is NULL, not
/// UTF-8, or does not parse. When `err` is not NULL and `err_len` > 0, the error message (or ""
/// on success) is written there, NUL-terminated and cut to `err_len` bytes; the message names
/// what is wrong and what is allowed.
///
/// # Safety
/// `spec` is NULL or a NUL-terminated string; `err` is NULL or points to `err_len` writable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_parse(spec: *const c_char, err: *mut c_char, err_len: usize) -> *mut ActivationHandle {
    // Safety: the caller's contract is the one `parse` needs.
    unsafe { parse(spec, err, err_len, Tier::Accurate) }
}

/// As actkern_parse, but the handle's calls run the fast tier: at most 4 ULP forward and
/// derivative and 5 ULP backward wherever the result is a normal float (the bound rten-vecmath
/// and XNNPACK document), with the same NaN, infinity, signed-zero and kink rules, for
/// engines that accept it. Results may differ between backends. Activations without a fast
/// tier of their own (the piecewise-linear ones) run exactly as from actkern_parse.
///
/// # Safety
/// As for actkern_parse.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_parse_fast(
    spec: *const c_char,
    err: *mut c_char,
    err_len: usize,
) -> *mut ActivationHandle {
    // Safety: the caller's contract is the one `parse` needs.
    unsafe { parse(spec, err, err_len, Tier::Fast) }
}

/// Returns 1 when `act` came from actkern_parse_fast, 0 when from actkern_parse, and
/// ACTKERN_ERR_NULL_POINTER when `act` is NULL.
///
/// # Safety
/// `act` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_is_fast(act: *const ActivationHandle) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        // Safety: `act` is NULL or live (caller).
        match unsafe { handle(act) } {
            Some((_, tier)) => c_int::from(tier == Tier::Fast),
            None => ACTKERN_ERR_NULL_POINTER,
        }
    })
}

/// The body of actkern_parse and actkern_parse_fast.
///
/// # Safety
/// `spec` is NULL or a NUL-terminated string; `err` is NULL or points to `err_len` writable
/// bytes.
unsafe fn parse(spec: *const c_char, err: *mut c_char, err_len: usize, tier: Tier) -> *mut ActivationHandle {
    guard(std::ptr::null_mut(), || {
        let parsed = if spec.is_null() {
            Err("spec is NULL".to_string())
        } else {
            // Safety: non-null, so a NUL-terminated string (caller).
            match unsafe { CStr::from_ptr(spec) }.to_str() {
                Ok(s) => s.parse::<Activation>().map_err(|e| e.to_string()),
                Err(_) => Err("spec is not valid UTF-8".to_string()),
            }
        };
        let (result, message) = match parsed {
            Ok(activation) => (
                Box::into_raw(Box::new(ActivationHandle { activation, tier })),
                String::new(),
            ),
            Err(message) => (std::ptr::null_mut(), message),
        };
        // Safety: `err` is NULL or has `err_len` writable bytes (caller).
        unsafe { write_message(err, err_len, &message) };
        result
    })
}

/// Releases a handle from actkern_parse or actkern_parse_fast. NULL is fine (nothing happens).
///
/// # Safety
/// `act` is NULL or a handle from actkern_parse or actkern_parse_fast not yet released, which
/// no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_free(act: *mut ActivationHandle) {
    guard((), || {
        if !act.is_null() {
            // Safety: a live handle from actkern_parse, i.e. from Box::into_raw (caller).
            drop(unsafe { Box::from_raw(act) });
        }
    })
}

/// Writes the spec string of `act` (what actkern_parse would parse back to the same
/// activation, with the parameters that differ from their defaults) into `buf`, NUL-terminated
/// and cut to `buf_len` bytes. Returns the length of the whole string without the NUL, like
/// snprintf, so a return value >= `buf_len` means it was cut; 0 when `act` is NULL.
///
/// # Safety
/// `act` is NULL or a live handle; `buf` is NULL or points to `buf_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_spec(act: *const ActivationHandle, buf: *mut c_char, buf_len: usize) -> usize {
    guard(0, || {
        // Safety: `act` is NULL or live (caller).
        let spec = unsafe { handle(act) }.map_or_else(String::new, |(a, _)| a.to_string());
        // Safety: `buf` is NULL or has `buf_len` writable bytes (caller).
        unsafe { write_message(buf, buf_len, &spec) };
        spec.len()
    })
}

/// Returns 1 when actkern_backward_from_output works for `act`, 0 when it would return
/// ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT, and ACTKERN_ERR_NULL_POINTER when `act` is NULL.
///
/// # Safety
/// `act` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_has_backward_from_output(act: *const ActivationHandle) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        // Safety: `act` is NULL or live (caller).
        match unsafe { handle(act) } {
            Some((act, _)) => c_int::from(act.has_backward_from_output()),
            None => ACTKERN_ERR_NULL_POINTER,
        }
    })
}

/// Forward: y[i] = f(x[i]) for i < n. `y` may equal `x` (in place).
///
/// Returns ACTKERN_OK or, writing nothing, an error, checked in this order:
/// ACTKERN_ERR_NULL_POINTER for a NULL `act`; then n = 0 succeeds whatever the buffer
/// pointers (NULL included); then ACTKERN_ERR_NULL_POINTER for a NULL buffer,
/// ACTKERN_ERR_BAD_BUFFER for a misaligned or impossibly long one, ACTKERN_ERR_OVERLAP for an
/// output that partially overlaps an input. The same rules hold for every function below
/// that takes buffers.
///
/// Buffers of at least ACTKERN_PARALLEL_THRESHOLD elements are split across the threads of a
/// pool that actkern starts on first use, unless actkern_set_serial(1) was called. The result
/// is the same bits either way.
///
/// # Safety
/// `act` is NULL or a live handle. Each non-NULL buffer points to `n` floats (readable inputs,
/// writable output) that no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_forward(act: *const ActivationHandle, x: *const f32, y: *mut f32, n: usize) -> c_int {
    // Safety: the caller's contract is the one `generic` needs.
    unsafe { generic(act, Func::Forward, x, std::ptr::null(), y, n) }
}

/// Derivative: d[i] = f'(x[i]). `d` may equal `x`. Status codes as for actkern_forward.
///
/// # Safety
/// As for actkern_forward.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_derivative(
    act: *const ActivationHandle,
    x: *const f32,
    d: *mut f32,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs.
    unsafe { generic(act, Func::Derivative, x, std::ptr::null(), d, n) }
}

/// Backward: dx[i] = dy[i] * f'(x[i]), fused; exactly dy[i] or 0 where f is linear with
/// slope 1 or 0. `dx` may equal `dy` (the usual in-place gradient), `x`, or both. Status codes
/// as for actkern_forward.
///
/// # Safety
/// As for actkern_forward.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_backward(
    act: *const ActivationHandle,
    x: *const f32,
    dy: *const f32,
    dx: *mut f32,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs.
    unsafe { generic(act, Func::Backward, x, dy, dx, n) }
}

/// Backward from the output: dx[i] = dy[i] * f'(x[i]) computed from y[i] = f(x[i]), for
/// engines that keep only the output of the forward. `dx` may equal `y`, `dy`, or both.
///
/// Returns ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT, writing nothing and whatever `n`, for
/// activations whose derivative cannot be recovered from the output (see
/// actkern_has_backward_from_output); otherwise status codes as for actkern_forward.
///
/// # Safety
/// As for actkern_forward.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_backward_from_output(
    act: *const ActivationHandle,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs.
    unsafe { generic(act, Func::BackwardFromOutput, y, dy, dx, n) }
}

/// Forward on bfloat16 buffers: y[i] = f(x[i]) as actkern_forward, but `x` and `y` hold n
/// bfloat16 values, each uint16_t being the upper half of the bits of an IEEE-754 float (1 sign,
/// 8 exponent and 7 fraction bits: float's range with 8 significant bits). Each input is widened
/// exactly to float, the float kernel runs, and each result is rounded once to bfloat16, to
/// nearest with ties to even: y[i] equals actkern_forward's result for the widened x[i], so
/// rounded (NaN stays NaN). `y` may equal `x` (in place).
///
/// Status codes as for actkern_forward, with the buffers aligned to uint16_t (2 bytes) and n
/// counting 2-byte elements: ACTKERN_ERR_BAD_BUFFER for a misaligned pointer or n elements
/// running past the end of the address space, ACTKERN_ERR_OVERLAP when the output partially
/// overlaps an input. The same holds for every _bf16 and _f16 function below. The handle (from
/// actkern_parse or actkern_parse_fast), actkern_set_serial and actkern_set_backend apply as for
/// float buffers.
///
/// # Safety
/// `act` is NULL or a live handle. Each non-NULL buffer points to `n` uint16_t (readable
/// inputs, writable output) that no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_forward_bf16(
    act: *const ActivationHandle,
    x: *const u16,
    y: *mut u16,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs; `bf16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid), so the casts keep it.
    unsafe {
        generic(
            act,
            Func::Forward,
            x.cast::<bf16>(),
            std::ptr::null(),
            y.cast::<bf16>(),
            n,
        )
    }
}

/// Derivative on bfloat16 buffers: d[i] = f'(x[i]), computed in float on the widened input and
/// rounded once to nearest-even bfloat16 (see actkern_forward_bf16). `d` may equal `x`. Status
/// codes as for actkern_forward_bf16.
///
/// # Safety
/// As for actkern_forward_bf16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_derivative_bf16(
    act: *const ActivationHandle,
    x: *const u16,
    d: *mut u16,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs; `bf16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid), so the casts keep it.
    unsafe {
        generic(
            act,
            Func::Derivative,
            x.cast::<bf16>(),
            std::ptr::null(),
            d.cast::<bf16>(),
            n,
        )
    }
}

/// Backward on bfloat16 buffers: dx[i] = dy[i] * f'(x[i]), computed in float (as
/// actkern_backward) on the widened inputs and rounded once to nearest-even bfloat16 (see
/// actkern_forward_bf16). `dx` may equal `dy`, `x`, or both. Status codes as for
/// actkern_forward_bf16.
///
/// # Safety
/// As for actkern_forward_bf16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_backward_bf16(
    act: *const ActivationHandle,
    x: *const u16,
    dy: *const u16,
    dx: *mut u16,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs; `bf16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid), so the casts keep it.
    unsafe {
        generic(
            act,
            Func::Backward,
            x.cast::<bf16>(),
            dy.cast::<bf16>(),
            dx.cast::<bf16>(),
            n,
        )
    }
}

/// Backward from the output on bfloat16 buffers: dx[i] = dy[i] * f'(x[i]) from y[i] = f(x[i]),
/// computed in float (as actkern_backward_from_output) on the widened inputs and rounded once to
/// nearest-even bfloat16 (see actkern_forward_bf16). `dx` may equal `y`, `dy`, or both.
///
/// Returns ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT, writing nothing and whatever `n`, where
/// actkern_backward_from_output does; otherwise status codes as for actkern_forward_bf16.
///
/// # Safety
/// As for actkern_forward_bf16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_backward_from_output_bf16(
    act: *const ActivationHandle,
    y: *const u16,
    dy: *const u16,
    dx: *mut u16,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs; `bf16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid), so the casts keep it.
    unsafe {
        generic(
            act,
            Func::BackwardFromOutput,
            y.cast::<bf16>(),
            dy.cast::<bf16>(),
            dx.cast::<bf16>(),
            n,
        )
    }
}

/// Forward on IEEE-754 binary16 ("half", _Float16) buffers: y[i] = f(x[i]) as actkern_forward,
/// but `x` and `y` hold n binary16 values as uint16_t bits (1 sign, 5 exponent and 10 fraction
/// bits: 11 significant bits, finite up to 65504). Each input is widened exactly to float, the
/// float kernel runs, and each result is rounded once to binary16, to nearest with ties to even:
/// y[i] equals actkern_forward's result for the widened x[i], so rounded. Results beyond the
/// range round to +-infinity (from 65520 in magnitude), tiny ones to subnormals or zero, and NaN
/// stays NaN. `y` may equal `x` (in place).
///
/// Status codes and rules as for actkern_forward_bf16: buffers aligned to uint16_t, n counting
/// 2-byte elements.
///
/// # Safety
/// As for actkern_forward_bf16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_forward_f16(
    act: *const ActivationHandle,
    x: *const u16,
    y: *mut u16,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs; `f16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid), so the casts keep it.
    unsafe {
        generic(
            act,
            Func::Forward,
            x.cast::<f16>(),
            std::ptr::null(),
            y.cast::<f16>(),
            n,
        )
    }
}

/// Derivative on binary16 buffers: d[i] = f'(x[i]), computed in float on the widened input and
/// rounded once to nearest-even binary16 (see actkern_forward_f16). `d` may equal `x`. Status
/// codes as for actkern_forward_bf16.
///
/// # Safety
/// As for actkern_forward_bf16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_derivative_f16(
    act: *const ActivationHandle,
    x: *const u16,
    d: *mut u16,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs; `f16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid), so the casts keep it.
    unsafe {
        generic(
            act,
            Func::Derivative,
            x.cast::<f16>(),
            std::ptr::null(),
            d.cast::<f16>(),
            n,
        )
    }
}

/// Backward on binary16 buffers: dx[i] = dy[i] * f'(x[i]), computed in float (as
/// actkern_backward) on the widened inputs and rounded once to nearest-even binary16 (see
/// actkern_forward_f16; a product beyond 65504 in magnitude becomes +-infinity). `dx` may equal
/// `dy`, `x`, or both. Status codes as for actkern_forward_bf16.
///
/// # Safety
/// As for actkern_forward_bf16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_backward_f16(
    act: *const ActivationHandle,
    x: *const u16,
    dy: *const u16,
    dx: *mut u16,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs; `f16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid), so the casts keep it.
    unsafe {
        generic(
            act,
            Func::Backward,
            x.cast::<f16>(),
            dy.cast::<f16>(),
            dx.cast::<f16>(),
            n,
        )
    }
}

/// Backward from the output on binary16 buffers: dx[i] = dy[i] * f'(x[i]) from y[i] = f(x[i]),
/// computed in float (as actkern_backward_from_output) on the widened inputs and rounded once to
/// nearest-even binary16 (see actkern_forward_f16). `dx` may equal `y`, `dy`, or both.
///
/// Returns ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT, writing nothing and whatever `n`, where
/// actkern_backward_from_output does; otherwise status codes as for actkern_forward_bf16.
///
/// # Safety
/// As for actkern_forward_bf16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_backward_from_output_f16(
    act: *const ActivationHandle,
    y: *const u16,
    dy: *const u16,
    dx: *mut u16,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `generic` needs; `f16` is a `u16` in layout
    // (same size and alignment, every bit pattern valid), so the casts keep it.
    unsafe {
        generic(
            act,
            Func::BackwardFromOutput,
            y.cast::<f16>(),
            dy.cast::<f16>(),
            dx.cast::<f16>(),
            n,
        )
    }
}

/// A static, NUL-terminated description of a status code ("unknown actkern status code" for
/// a value that is none of them). Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn actkern_strerror(status: c_int) -> *const c_char {
    let message: &CStr = match status {
        ACTKERN_OK => c"success",
        ACTKERN_ERR_NULL_POINTER => c"a pointer argument is NULL",
        ACTKERN_ERR_OVERLAP => c"the output buffer partially overlaps an input buffer",
        ACTKERN_ERR_NO_BACKWARD_FROM_OUTPUT => {
            c"this activation's derivative cannot be recovered from its output; use the backward from the input"
        }
        ACTKERN_ERR_BAD_SPEC => c"bad activation spec or parameter value",
        ACTKERN_ERR_BAD_BUFFER => c"misaligned buffer, or a length that runs past the end of the address space",
        ACTKERN_ERR_BAD_BACKEND => c"unknown backend, or one this CPU does not support",
        ACTKERN_ERR_INTERNAL => c"internal error: a panic was caught at the C boundary (a bug in actkern)",
        _ => c"unknown actkern status code",
    };
    message.as_ptr()
}

/// The instruction set kernels run on now: "avx512", "avx2", "portable" or "scalar". Chosen on
/// first use from the ACTKERN_BACKEND environment variable, else the widest the CPU supports;
/// changed by actkern_set_backend. When ACTKERN_BACKEND names an unknown backend or one this
/// CPU lacks, the library writes one message to stderr on first use, naming the variable, its
/// value and the backend used instead ("actkern: ACTKERN_BACKEND: unknown backend `sse9`; ...;
/// using `avx2`"), and runs on the widest backend the CPU supports: calls succeed as without
/// the variable. A static string; never NULL ("unknown" would name a backend newer than this
/// function).
#[unsafe(no_mangle)]
pub extern "C" fn actkern_backend() -> *const c_char {
    let name: &CStr = guard(c"unknown", || match actkern::backend() {
        actkern::Backend::Scalar => c"scalar",
        actkern::Backend::Portable => c"portable",
        actkern::Backend::Avx2 => c"avx2",
        actkern::Backend::Avx512 => c"avx512",
        _ => c"unknown",
    });
    name.as_ptr()
}

/// Makes every later call, on every thread, run on the backend named `name` ("scalar",
/// "portable", "avx2" or "avx512", as actkern_backend prints them). Returns ACTKERN_OK,
/// ACTKERN_ERR_NULL_POINTER, or ACTKERN_ERR_BAD_BACKEND (unknown name, or the CPU lacks the
/// instructions; nothing changes then). The fused backends (scalar, avx2, avx512) give the same
/// bits.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_set_backend(name: *const c_char) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        if name.is_null() {
            return ACTKERN_ERR_NULL_POINTER;
        }
        // Safety: non-null, so a NUL-terminated string (caller).
        let chosen = unsafe { CStr::from_ptr(name) }
            .to_str()
            .ok()
            .and_then(|s| s.parse::<actkern::Backend>().ok());
        match chosen.map(actkern::set_backend) {
            Some(Ok(())) => ACTKERN_OK,
            _ => ACTKERN_ERR_BAD_BACKEND,
        }
    })
}

/// Threading. With `serial` nonzero, every later call on every thread runs on its calling
/// thread only, whatever the length: for engines that run actkern from their own thread pool.
/// With 0 (the default), buffers of at least ACTKERN_PARALLEL_THRESHOLD elements are split
/// across a pool of worker threads (one per core) that actkern starts on first use; shorter
/// buffers always run on the calling thread. Returns the previous setting (1 serial, 0 not).
/// The results are the same bits either way.
#[unsafe(no_mangle)]
pub extern "C" fn actkern_set_serial(serial: c_int) -> c_int {
    c_int::from(SERIAL.swap(serial != 0, Ordering::Relaxed))
}

/// The version of the library, e.g. "0.1.0": compare it with the ACTKERN_VERSION macro of the
/// header it was compiled against. A static string; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn actkern_version() -> *const c_char {
    const VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the package version has no NUL"),
    };
    VERSION.as_ptr()
}
