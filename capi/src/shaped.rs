//! The entry points with more than one shape of buffer (issue 12): gated activations (two
//! inputs, or the halves layout [rows, 2·cols] → [rows, cols]), bias + activation over
//! [rows, cols], and prelu over [outer, C, inner].
//!
//! Their buffers have different lengths, so instead of [`run`](super::run) each entry point
//! describes its buffers as [`Span`]s (checked by [`spans`]: NULL, then alignment and length)
//! and states its own overlap rule with [`overlap`] and [`same`]. A buffer of zero elements
//! may be NULL or misaligned: it is never checked, never overlaps anything and is never made
//! into a slice from its pointer. Slices are made only after the checks, and never a shared
//! and a mutable one over the same memory: the allowed exact aliases go through the library's
//! in-place methods.

use super::{
    ACTKERN_ERR_BAD_BUFFER, ACTKERN_ERR_INTERNAL, ACTKERN_ERR_NULL_POINTER, ACTKERN_ERR_OVERLAP, ACTKERN_OK,
    ActivationHandle, SERIAL, guard, handle, write_message,
};
use actkern::half::{bf16, f16};
use actkern::{Apply, Element, Fast, Gated, Serial, Tier};
use core::ffi::{CStr, c_char, c_int};
use std::sync::atomic::Ordering;

/// A gated activation ("glu", "swiglu", "geglu", "geglu(approximate=tanh)", "reglu"), made by
/// actkern_gated_parse and released by actkern_gated_free. It is immutable: one handle can be
/// used by any number of threads at once.
pub struct GatedHandle {
    gated: Gated,
}

const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<GatedHandle>()
};

/// A checked buffer argument: its first byte and its size in bytes (0 for an empty buffer,
/// whatever its pointer).
#[derive(Clone, Copy, Debug)]
struct Span {
    addr: usize,
    bytes: usize,
}

/// Whether two buffers share a byte (empty buffers share none).
fn overlap(a: Span, b: Span) -> bool {
    a.bytes > 0 && b.bytes > 0 && a.addr < b.addr + b.bytes && b.addr < a.addr + a.bytes
}

/// Whether two non-empty buffers are the same memory exactly (the in-place case).
fn same(a: Span, b: Span) -> bool {
    a.bytes > 0 && a.addr == b.addr && a.bytes == b.bytes
}

/// `a · b · c` elements, or `None` when the product overflows.
fn elements(a: usize, b: usize, c: usize) -> Option<usize> {
    a.checked_mul(b)?.checked_mul(c)
}

/// Checks buffers given as (pointer address, count of `E` elements, `None` when the shape's
/// product overflowed): first that no non-empty one is NULL (ACTKERN_ERR_NULL_POINTER), then
/// that each non-empty one has a count, is aligned and fits in the address space and in
/// isize::MAX bytes (ACTKERN_ERR_BAD_BUFFER).
fn spans<E, const N: usize>(bufs: [(usize, Option<usize>); N]) -> Result<[Span; N], c_int> {
    // A length that overflowed (`None`) is a bad buffer, but a NULL pointer is reported first.
    if bufs.iter().any(|&(addr, n)| addr == 0 && n != Some(0)) {
        return Err(ACTKERN_ERR_NULL_POINTER);
    }
    let mut out = [Span { addr: 0, bytes: 0 }; N];
    for (span, &(addr, n)) in out.iter_mut().zip(&bufs) {
        let n = n.ok_or(ACTKERN_ERR_BAD_BUFFER)?;
        if n == 0 {
            continue;
        }
        let bytes = n
            .checked_mul(size_of::<E>())
            .filter(|&b| b <= isize::MAX as usize)
            .ok_or(ACTKERN_ERR_BAD_BUFFER)?;
        if !addr.is_multiple_of(align_of::<E>()) || addr.checked_add(bytes).is_none() {
            return Err(ACTKERN_ERR_BAD_BUFFER);
        }
        *span = Span { addr, bytes };
    }
    Ok(out)
}

/// An input slice of `n` elements (empty, whatever `p`, when `n` is 0).
///
/// # Safety
/// When `n > 0`: `p` is non-null, aligned and points to `n` initialized elements that nothing
/// writes while the slice lives.
unsafe fn input<'a, E>(p: *const E, n: usize) -> &'a [E] {
    if n == 0 {
        return &[];
    }
    // Safety: guaranteed by the caller (see above).
    unsafe { std::slice::from_raw_parts(p, n) }
}

/// An output slice of `n` elements (empty, whatever `p`, when `n` is 0).
///
/// # Safety
/// When `n > 0`: `p` is non-null, aligned and points to `n` writable elements that no other
/// reference reaches while the slice lives.
unsafe fn output<'a, E>(p: *mut E, n: usize) -> &'a mut [E] {
    if n == 0 {
        return &mut [];
    }
    // Safety: guaranteed by the caller (see above).
    unsafe { std::slice::from_raw_parts_mut(p, n) }
}

fn serial() -> bool {
    SERIAL.load(Ordering::Relaxed)
}

/// A gated activation with the threading actkern_set_serial chose at the call.
#[derive(Clone, Copy)]
struct Runner {
    gated: Gated,
    serial: bool,
}

/// The `Runner` of the handle `g`, or `None` when `g` is NULL.
///
/// # Safety
/// `g` is NULL or a live handle from actkern_gated_parse.
unsafe fn runner(g: *const GatedHandle) -> Option<Runner> {
    // Safety: non-null, hence live and from actkern_gated_parse (caller); only read.
    unsafe { g.as_ref() }.map(|h| Runner {
        gated: h.gated,
        serial: serial(),
    })
}

/// Forwards each method to `Gated` or `Serial<Gated>`.
macro_rules! runner_methods {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        impl Runner {
            $(fn $name<E: Element>(self, $($arg: $ty),*) {
                if self.serial {
                    Serial(self.gated).$name($($arg),*)
                } else {
                    self.gated.$name($($arg),*)
                }
            })*
        }
    };
}

runner_methods! {
    forward(a: &[E], b: &[E], out: &mut [E]);
    forward_inplace(a_out: &mut [E], b: &[E]);
    backward(a: &[E], b: &[E], dout: &[E], da: &mut [E], db: &mut [E]);
    backward_inplace(a_da: &mut [E], b_db: &mut [E], dout: &[E]);
    forward_halves(x: &[E], cols: usize, out: &mut [E]);
    backward_halves(x: &[E], dout: &[E], cols: usize, dx: &mut [E]);
    backward_halves_inplace(x_dx: &mut [E], dout: &[E], cols: usize);
}

/// Runs `$body` with `$a` bound to the handle's activation in its tier, on the threads or
/// serially as actkern_set_serial says.
macro_rules! with_activation {
    ($act:expr, $tier:expr, |$a:ident| $body:expr) => {
        match ($tier, serial()) {
            (Tier::Accurate, false) => {
                let $a = &$act;
                $body
            }
            (Tier::Accurate, true) => {
                let $a = &Serial($act);
                $body
            }
            (Tier::Fast, false) => {
                let $a = &Fast($act);
                $body
            }
            (Tier::Fast, true) => {
                let $a = &Serial(Fast($act));
                $body
            }
        }
    };
}

/// Unwraps checked spans, returning the error code from the entry point otherwise.
macro_rules! check {
    ($result:expr) => {
        match $result {
            Ok(spans) => spans,
            Err(code) => return code,
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Gated activations

/// Parses a gated activation's spec: "glu" (a·sigmoid(b), PyTorch's F.glu), "swiglu"
/// (silu(a)·b), "geglu" or "geglu(approximate=tanh)" (gelu(a)·b) or "reglu" (relu(a)·b); white
/// space is ignored and names are case-insensitive.
///
/// Returns a new handle, to be released with actkern_gated_free, or NULL when the spec is NULL,
/// not UTF-8, or does not parse. When `err` is not NULL and `err_len` > 0, the error message (or
/// "" on success) is written there, NUL-terminated and cut to `err_len` bytes, as actkern_parse
/// does.
///
/// # Safety
/// `spec` is NULL or a NUL-terminated string; `err` is NULL or points to `err_len` writable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_parse(
    spec: *const c_char,
    err: *mut c_char,
    err_len: usize,
) -> *mut GatedHandle {
    guard(std::ptr::null_mut(), || {
        let parsed = if spec.is_null() {
            Err("spec is NULL".to_string())
        } else {
            // Safety: non-null, so a NUL-terminated string (caller).
            match unsafe { CStr::from_ptr(spec) }.to_str() {
                Ok(s) => s.parse::<Gated>().map_err(|e| e.to_string()),
                Err(_) => Err("spec is not valid UTF-8".to_string()),
            }
        };
        let (result, message) = match parsed {
            Ok(gated) => (Box::into_raw(Box::new(GatedHandle { gated })), String::new()),
            Err(message) => (std::ptr::null_mut(), message),
        };
        // Safety: `err` is NULL or has `err_len` writable bytes (caller).
        unsafe { write_message(err, err_len, &message) };
        result
    })
}

/// Releases a handle from actkern_gated_parse. NULL is fine (nothing happens).
///
/// # Safety
/// `g` is NULL or a handle from actkern_gated_parse not yet released, which no other thread is
/// using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_free(g: *mut GatedHandle) {
    guard((), || {
        if !g.is_null() {
            // Safety: a live handle from actkern_gated_parse, i.e. from Box::into_raw (caller).
            drop(unsafe { Box::from_raw(g) });
        }
    })
}

/// Writes the spec string of `g` ("swiglu", "geglu(approximate=tanh)", ...: what
/// actkern_gated_parse parses back to the same activation) into `buf`, NUL-terminated and cut
/// to `buf_len` bytes. Returns the length of the whole string without the NUL, like snprintf;
/// 0 when `g` is NULL.
///
/// # Safety
/// `g` is NULL or a live handle; `buf` is NULL or points to `buf_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_spec(g: *const GatedHandle, buf: *mut c_char, buf_len: usize) -> usize {
    guard(0, || {
        // Safety: `g` is NULL or live (caller); only read.
        let spec = unsafe { g.as_ref() }.map_or_else(String::new, |h| h.gated.to_string());
        // Safety: `buf` is NULL or has `buf_len` writable bytes (caller).
        unsafe { write_message(buf, buf_len, &spec) };
        spec.len()
    })
}

/// The body of actkern_gated_forward and its _bf16 and _f16 forms.
///
/// # Safety
/// As for actkern_gated_forward, with `E` elements.
unsafe fn gated_forward<E: Element>(g: *const GatedHandle, a: *const E, b: *const E, out: *mut E, n: usize) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        // Safety: forwarded from the caller.
        let Some(run) = (unsafe { runner(g) }) else {
            return ACTKERN_ERR_NULL_POINTER;
        };
        let [sa, sb, sout] = check!(spans::<E, 3>([
            (a.addr(), Some(n)),
            (b.addr(), Some(n)),
            (out.addr(), Some(n))
        ]));
        let in_place = same(sout, sa);
        if (!in_place && overlap(sout, sa)) || overlap(sout, sb) {
            return ACTKERN_ERR_OVERLAP;
        }
        // Safety: the buffers were checked non-null (when non-empty), aligned and in range; `out`
        // is disjoint from `b`, and from `a` unless it is `a` exactly, which goes through the
        // in-place method with the one mutable slice.
        unsafe {
            if in_place {
                run.forward_inplace(output(out, n), input(b, n));
            } else {
                run.forward(input(a, n), input(b, n), output(out, n));
            }
        }
        ACTKERN_OK
    })
}

/// Gated forward over two buffers: out[i] = f(a[i])·b[i] (glu: a[i]·sigmoid(b[i])) for i < n:
/// the gate's activation computed as actkern_forward computes it (same bits) and the product
/// rounded once to float, so within 3 ULP of the exact result where f(a[i]) is a normal float.
///
/// `out` may equal `a` (in place); any other overlap of `out` with `a` or `b` (`b` equal to
/// `a` while `out` is `a` included) is ACTKERN_ERR_OVERLAP. `a` and `b` may overlap each other.
///
/// Returns ACTKERN_OK or, writing nothing, an error, in this order: ACTKERN_ERR_NULL_POINTER
/// for a NULL `g`; then n = 0 succeeds whatever the buffer pointers; then
/// ACTKERN_ERR_NULL_POINTER for a NULL buffer, ACTKERN_ERR_BAD_BUFFER for a misaligned or
/// impossibly long one, ACTKERN_ERR_OVERLAP. Runs on actkern's threads from
/// ACTKERN_PARALLEL_THRESHOLD elements unless actkern_set_serial(1) was called; the same bits
/// either way.
///
/// # Safety
/// `g` is NULL or a live handle. Each non-NULL buffer points to `n` floats (readable inputs,
/// writable output) that no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_forward(
    g: *const GatedHandle,
    a: *const f32,
    b: *const f32,
    out: *mut f32,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `gated_forward` needs.
    unsafe { gated_forward(g, a, b, out, n) }
}

/// actkern_gated_forward on bfloat16 buffers (uint16_t bits, see actkern_forward_bf16): the
/// product is computed in float on the widened inputs and rounded once to nearest-even
/// bfloat16. Overlap rules and status codes as for actkern_gated_forward, with buffers aligned
/// to uint16_t and n counting 2-byte elements.
///
/// # Safety
/// As for actkern_gated_forward, with `n` uint16_t per buffer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_forward_bf16(
    g: *const GatedHandle,
    a: *const u16,
    b: *const u16,
    out: *mut u16,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `gated_forward` needs; `bf16` is a `u16` in
    // layout (same size and alignment, every bit pattern valid).
    unsafe { gated_forward(g, a.cast::<bf16>(), b.cast::<bf16>(), out.cast::<bf16>(), n) }
}

/// actkern_gated_forward on binary16 buffers (uint16_t bits, see actkern_forward_f16): the
/// product is computed in float on the widened inputs and rounded once to nearest-even binary16
/// (beyond 65504 in magnitude: +-infinity). Overlap rules and status codes as for
/// actkern_gated_forward, with buffers aligned to uint16_t and n counting 2-byte elements.
///
/// # Safety
/// As for actkern_gated_forward, with `n` uint16_t per buffer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_forward_f16(
    g: *const GatedHandle,
    a: *const u16,
    b: *const u16,
    out: *mut u16,
    n: usize,
) -> c_int {
    // Safety: the caller's contract is the one `gated_forward` needs; `f16` is a `u16` in
    // layout (same size and alignment, every bit pattern valid).
    unsafe { gated_forward(g, a.cast::<f16>(), b.cast::<f16>(), out.cast::<f16>(), n) }
}

/// Gated backward over two buffers: from dout, the gradient of out = f(a)·b, writes
/// da[i] = dout[i]·b[i]·f'(a[i]) (through the activation's fused backward, so exactly 0 where f
/// is flat) and db[i] = dout[i]·f(a[i]); for glu, da[i] = dout[i]·sigmoid(b[i]) and
/// db[i] = dout[i]·a[i]·sigmoid'(b[i]).
///
/// In place: `da` may equal `a` and `db` equal `b`, both at once (then `a` and `b` must not
/// overlap). Otherwise `da` and `db` must not overlap each other, `a`, `b` or `dout`:
/// ACTKERN_ERR_OVERLAP. The inputs may overlap each other. Status codes, their order and
/// threading as for actkern_gated_forward.
///
/// # Safety
/// `g` is NULL or a live handle. Each non-NULL buffer points to `n` floats (readable inputs,
/// writable outputs) that no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_backward(
    g: *const GatedHandle,
    a: *const f32,
    b: *const f32,
    dout: *const f32,
    da: *mut f32,
    db: *mut f32,
    n: usize,
) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        // Safety: `g` is NULL or live (caller).
        let Some(run) = (unsafe { runner(g) }) else {
            return ACTKERN_ERR_NULL_POINTER;
        };
        let [sa, sb, sdout, sda, sdb] = check!(spans::<f32, 5>([
            (a.addr(), Some(n)),
            (b.addr(), Some(n)),
            (dout.addr(), Some(n)),
            (da.addr(), Some(n)),
            (db.addr(), Some(n)),
        ]));
        let in_place = same(sda, sa) && same(sdb, sb);
        let outputs_clash = overlap(sda, sdb) || overlap(sda, sdout) || overlap(sdb, sdout);
        let inputs_clash = !in_place && [sa, sb].iter().any(|&s| overlap(sda, s) || overlap(sdb, s));
        if outputs_clash || inputs_clash {
            return ACTKERN_ERR_OVERLAP;
        }
        // Safety: checked buffers; `da` and `db` are disjoint from each other and from `dout`,
        // and from `a` and `b` unless they are exactly `a` and `b`, which goes through the
        // in-place method with one mutable slice each.
        unsafe {
            if in_place {
                run.backward_inplace(output(da, n), output(db, n), input(dout, n));
            } else {
                run.backward(input(a, n), input(b, n), input(dout, n), output(da, n), output(db, n));
            }
        }
        ACTKERN_OK
    })
}

/// The body of actkern_gated_forward_halves and its _bf16 and _f16 forms.
///
/// # Safety
/// As for actkern_gated_forward_halves, with `E` elements.
unsafe fn gated_forward_halves<E: Element>(
    g: *const GatedHandle,
    x: *const E,
    out: *mut E,
    rows: usize,
    cols: usize,
) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        // Safety: forwarded from the caller.
        let Some(run) = (unsafe { runner(g) }) else {
            return ACTKERN_ERR_NULL_POINTER;
        };
        let (nx, nout) = (elements(rows, 2, cols), elements(rows, cols, 1));
        let [sx, sout] = check!(spans::<E, 2>([(x.addr(), nx), (out.addr(), nout)]));
        if overlap(sout, sx) {
            return ACTKERN_ERR_OVERLAP;
        }
        let (nx, nout) = (sx.bytes / size_of::<E>(), sout.bytes / size_of::<E>());
        // Safety: checked buffers of these lengths (empty ones are not read), disjoint.
        unsafe { run.forward_halves(input(x, nx), cols, output(out, nout)) };
        ACTKERN_OK
    })
}

/// Gated forward in the halves layout of a fused projection (PyTorch's x.chunk(2, -1)): `x`
/// holds rows·2·cols floats, each row [a | b] with a and b `cols` long, and
/// out[r·cols + j] = f(a[j])·b[j] of row r (glu: a[j]·sigmoid(b[j])), as actkern_gated_forward
/// computes it, into `out` of rows·cols floats.
///
/// `out` must not overlap `x` at all (ACTKERN_ERR_OVERLAP). rows·2·cols elements that do not
/// fit in size_t (or in the address space) are ACTKERN_ERR_BAD_BUFFER. A buffer of zero
/// elements (rows or cols 0) may be NULL. Otherwise status codes, their order and threading as
/// for actkern_gated_forward (work is split by rows).
///
/// # Safety
/// `g` is NULL or a live handle. `x` points to rows·2·cols readable floats and `out` to
/// rows·cols writable ones (either may be NULL when that is 0) that no other thread writes
/// during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_forward_halves(
    g: *const GatedHandle,
    x: *const f32,
    out: *mut f32,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: the caller's contract is the one `gated_forward_halves` needs.
    unsafe { gated_forward_halves(g, x, out, rows, cols) }
}

/// actkern_gated_forward_halves on bfloat16 buffers (uint16_t bits, see actkern_forward_bf16),
/// each result rounded once to nearest-even bfloat16. Rules and status codes as for
/// actkern_gated_forward_halves, with buffers aligned to uint16_t and sizes in 2-byte elements.
///
/// # Safety
/// As for actkern_gated_forward_halves, with uint16_t elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_forward_halves_bf16(
    g: *const GatedHandle,
    x: *const u16,
    out: *mut u16,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: the caller's contract is the one `gated_forward_halves` needs; `bf16` is a `u16`
    // in layout (same size and alignment, every bit pattern valid).
    unsafe { gated_forward_halves(g, x.cast::<bf16>(), out.cast::<bf16>(), rows, cols) }
}

/// actkern_gated_forward_halves on binary16 buffers (uint16_t bits, see actkern_forward_f16),
/// each result rounded once to nearest-even binary16. Rules and status codes as for
/// actkern_gated_forward_halves, with buffers aligned to uint16_t and sizes in 2-byte elements.
///
/// # Safety
/// As for actkern_gated_forward_halves, with uint16_t elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_forward_halves_f16(
    g: *const GatedHandle,
    x: *const u16,
    out: *mut u16,
    rows: usize,
    cols: usize,
) -> c_int {
    // Safety: the caller's contract is the one `gated_forward_halves` needs; `f16` is a `u16`
    // in layout (same size and alignment, every bit pattern valid).
    unsafe { gated_forward_halves(g, x.cast::<f16>(), out.cast::<f16>(), rows, cols) }
}

/// Gated backward in the halves layout: from `dout` (rows·cols floats, the gradient of
/// actkern_gated_forward_halves' output) and `x` (rows·2·cols floats, rows [a | b]), writes
/// `dx` shaped like `x`, each row [da | db] with da and db as actkern_gated_backward computes
/// them.
///
/// `dx` may equal `x` (in place); any other overlap of `dx` with `x`, and any overlap with
/// `dout`, is ACTKERN_ERR_OVERLAP. Sizes, NULL and status codes as for
/// actkern_gated_forward_halves.
///
/// # Safety
/// `g` is NULL or a live handle. `x` and `dx` point to rows·2·cols floats, `dout` to rows·cols
/// (readable inputs, writable output; NULL allowed when the count is 0), that no other thread
/// writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_gated_backward_halves(
    g: *const GatedHandle,
    x: *const f32,
    dout: *const f32,
    dx: *mut f32,
    rows: usize,
    cols: usize,
) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        // Safety: `g` is NULL or live (caller).
        let Some(run) = (unsafe { runner(g) }) else {
            return ACTKERN_ERR_NULL_POINTER;
        };
        let (nx, nout) = (elements(rows, 2, cols), elements(rows, cols, 1));
        let [sx, sdout, sdx] = check!(spans::<f32, 3>([(x.addr(), nx), (dout.addr(), nout), (dx.addr(), nx)]));
        let in_place = same(sdx, sx);
        if overlap(sdx, sdout) || (!in_place && overlap(sdx, sx)) {
            return ACTKERN_ERR_OVERLAP;
        }
        let (nx, nout) = (sx.bytes / size_of::<f32>(), sdout.bytes / size_of::<f32>());
        // Safety: checked buffers; `dx` is disjoint from `dout`, and from `x` unless it is `x`
        // exactly, which goes through the in-place method.
        unsafe {
            if in_place {
                run.backward_halves_inplace(output(dx, nx), input(dout, nout), cols);
            } else {
                run.backward_halves(input(x, nx), input(dout, nout), cols, output(dx, nx));
            }
        }
        ACTKERN_OK
    })
}

// ---------------------------------------------------------------------------------------------
// Bias + activation

/// Bias + activation: y[r·cols + j] = f(x[r·cols + j] + bias[j]) for x of rows·cols floats
/// (row-major [rows, cols]) and `bias` of cols floats. The sum is rounded to float first, so y
/// is bit-identical to adding the bias and then calling actkern_forward, in one pass over the
/// buffers. The handle's tier applies (actkern_parse_fast: the fast tier).
///
/// `y` may equal `x` (in place); any other overlap of `y` with `x`, and any overlap with `bias`,
/// is ACTKERN_ERR_OVERLAP. rows·cols elements that do not fit in size_t (or in the address
/// space) are ACTKERN_ERR_BAD_BUFFER. A buffer of zero elements may be NULL (`x` and `y` when
/// rows or cols is 0, `bias` when cols is 0); a non-empty NULL one is ACTKERN_ERR_NULL_POINTER.
/// Otherwise status codes, their order and threading as for actkern_forward.
///
/// # Safety
/// `act` is NULL or a live handle. `x` and `y` point to rows·cols floats and `bias` to cols
/// (readable inputs, writable output), that no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_forward_bias(
    act: *const ActivationHandle,
    x: *const f32,
    bias: *const f32,
    y: *mut f32,
    rows: usize,
    cols: usize,
) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        // Safety: `act` is NULL or live (caller).
        let Some((activation, tier)) = (unsafe { handle(act) }) else {
            return ACTKERN_ERR_NULL_POINTER;
        };
        let n = elements(rows, cols, 1);
        let [sx, sbias, sy] = check!(spans::<f32, 3>([
            (x.addr(), n),
            (bias.addr(), Some(cols)),
            (y.addr(), n)
        ]));
        let in_place = same(sy, sx);
        if overlap(sy, sbias) || (!in_place && overlap(sy, sx)) {
            return ACTKERN_ERR_OVERLAP;
        }
        let n = sx.bytes / size_of::<f32>();
        // Safety: checked buffers; `y` is disjoint from `bias`, and from `x` unless it is `x`
        // exactly, which goes through the in-place method. `n` is a multiple of `cols`.
        unsafe {
            with_activation!(activation, tier, |a| if in_place {
                a.forward_bias_inplace(output(y, n), input(bias, cols))
            } else {
                a.forward_bias(input(x, n), input(bias, cols), output(y, n))
            })
        }
        ACTKERN_OK
    })
}

/// The backward of actkern_forward_bias: dx[r·cols + j] = dy[r·cols + j]·f'(x[r·cols + j] +
/// bias[j]) (bit-identical to adding the bias and calling actkern_backward), and
/// dbias[j] = the sum over r of dx[r·cols + j], taken in double from the dx written and rounded
/// once to float (the same bits on any number of threads). rows = 0 writes dbias = 0.
///
/// `dx` may equal `dy` (in place); any other overlap of `dx` with `dy`, and any overlap of `dx`
/// with `x`, `bias` or `dbias`, or of `dbias` with any buffer, is ACTKERN_ERR_OVERLAP. Sizes,
/// NULL and status codes as for actkern_forward_bias (`dbias` has cols floats).
///
/// # Safety
/// `act` is NULL or a live handle. `x`, `dy` and `dx` point to rows·cols floats, `bias` and
/// `dbias` to cols (readable inputs, writable outputs), that no other thread writes during the
/// call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_backward_bias(
    act: *const ActivationHandle,
    x: *const f32,
    bias: *const f32,
    dy: *const f32,
    dx: *mut f32,
    dbias: *mut f32,
    rows: usize,
    cols: usize,
) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        // Safety: `act` is NULL or live (caller).
        let Some((activation, tier)) = (unsafe { handle(act) }) else {
            return ACTKERN_ERR_NULL_POINTER;
        };
        let n = elements(rows, cols, 1);
        let [sx, sbias, sdy, sdx, sdbias] = check!(spans::<f32, 5>([
            (x.addr(), n),
            (bias.addr(), Some(cols)),
            (dy.addr(), n),
            (dx.addr(), n),
            (dbias.addr(), Some(cols)),
        ]));
        let in_place = same(sdx, sdy);
        let dx_clash = [sx, sbias, sdbias].iter().any(|&s| overlap(sdx, s)) || (!in_place && overlap(sdx, sdy));
        let dbias_clash = [sx, sbias, sdy].iter().any(|&s| overlap(sdbias, s));
        if dx_clash || dbias_clash {
            return ACTKERN_ERR_OVERLAP;
        }
        let n = sx.bytes / size_of::<f32>();
        // Safety: checked buffers; `dbias` is disjoint from every other buffer, `dx` from `x`,
        // `bias` and `dbias`, and from `dy` unless it is `dy` exactly, which goes through the
        // in-place method. `n` is a multiple of `cols`.
        unsafe {
            with_activation!(activation, tier, |a| if in_place {
                a.backward_bias_inplace(input(x, n), input(bias, cols), output(dx, n), output(dbias, cols))
            } else {
                a.backward_bias(
                    input(x, n),
                    input(bias, cols),
                    input(dy, n),
                    output(dx, n),
                    output(dbias, cols),
                )
            })
        }
        ACTKERN_OK
    })
}

// ---------------------------------------------------------------------------------------------
// PReLU

/// PReLU (PyTorch's F.prelu): y = x > 0 ? x : weight[c]·x, exactly (one rounding, as
/// leaky_relu), for `x` of layout [outer, channels, inner] (outer·channels·inner floats; c is
/// the element's channel) and `weight` of `channels` floats: NCHW is outer = N, inner = H·W;
/// channels last (NHWC) is outer = N·H·W, inner = 1. channels = 1 applies the one weight to
/// every element.
///
/// `y` may equal `x` (in place); any other overlap of `y` with `x`, and any overlap with
/// `weight`, is ACTKERN_ERR_OVERLAP. outer·channels·inner elements that do not fit in size_t
/// (or in the address space) are ACTKERN_ERR_BAD_BUFFER. A buffer of zero elements may be NULL
/// (`x` and `y` when outer, channels or inner is 0; `weight` when channels is 0, a no-op
/// success); a non-empty NULL one is ACTKERN_ERR_NULL_POINTER.
///
/// Threads: from ACTKERN_PARALLEL_THRESHOLD elements the work is split across actkern's
/// threads, and, unlike the other functions, also after actkern_set_serial(1) (the library
/// has no serial prelu yet); the same bits either way.
///
/// # Safety
/// `x` and `y` point to outer·channels·inner floats and `weight` to `channels` (readable
/// inputs, writable output), that no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_prelu(
    x: *const f32,
    weight: *const f32,
    y: *mut f32,
    outer: usize,
    channels: usize,
    inner: usize,
) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        let n = elements(outer, channels, inner);
        let [sx, sweight, sy] = check!(spans::<f32, 3>([
            (x.addr(), n),
            (weight.addr(), Some(channels)),
            (y.addr(), n)
        ]));
        let in_place = same(sy, sx);
        if overlap(sy, sweight) || (!in_place && overlap(sy, sx)) {
            return ACTKERN_ERR_OVERLAP;
        }
        let n = sx.bytes / size_of::<f32>();
        if n == 0 {
            return ACTKERN_OK;
        }
        // Safety: checked non-empty buffers (so channels >= 1 and inner >= 1); `y` is disjoint
        // from `weight`, and from `x` unless it is `x` exactly, which goes through the in-place
        // function. `n` is outer·channels·inner.
        unsafe {
            if in_place {
                actkern::prelu_inplace(output(y, n), input(weight, channels), inner);
            } else {
                actkern::prelu(input(x, n), input(weight, channels), inner, output(y, n));
            }
        }
        ACTKERN_OK
    })
}

/// PReLU's backward: dx = x > 0 ? dy : weight[c]·dy (NaN for a NaN x, exactly 0 for a zero
/// weight), and dweight[c] = the sum of (x > 0 ? 0 : x·dy) over the channel's elements, each
/// product exact, summed in double and rounded once to float (the same bits on any number of
/// threads). Layout as for actkern_prelu; `dweight` has `channels` floats, and is written 0 when
/// outer or inner is 0.
///
/// `dx` may equal `dy` (in place); any other overlap of `dx` with `dy`, and any overlap of `dx`
/// with `x`, `weight` or `dweight`, or of `dweight` with any buffer, is ACTKERN_ERR_OVERLAP.
/// Sizes, NULL, status codes and threads as for actkern_prelu.
///
/// # Safety
/// `x`, `dy` and `dx` point to outer·channels·inner floats, `weight` and `dweight` to
/// `channels` (readable inputs, writable outputs), that no other thread writes during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actkern_prelu_backward(
    x: *const f32,
    weight: *const f32,
    dy: *const f32,
    dx: *mut f32,
    dweight: *mut f32,
    outer: usize,
    channels: usize,
    inner: usize,
) -> c_int {
    guard(ACTKERN_ERR_INTERNAL, || {
        let n = elements(outer, channels, inner);
        let [sx, sweight, sdy, sdx, sdweight] = check!(spans::<f32, 5>([
            (x.addr(), n),
            (weight.addr(), Some(channels)),
            (dy.addr(), n),
            (dx.addr(), n),
            (dweight.addr(), Some(channels)),
        ]));
        let in_place = same(sdx, sdy);
        let dx_clash = [sx, sweight, sdweight].iter().any(|&s| overlap(sdx, s)) || (!in_place && overlap(sdx, sdy));
        let dweight_clash = [sx, sweight, sdy].iter().any(|&s| overlap(sdweight, s));
        if dx_clash || dweight_clash {
            return ACTKERN_ERR_OVERLAP;
        }
        if channels == 0 {
            return ACTKERN_OK;
        }
        let n = sx.bytes / size_of::<f32>();
        // With no elements `inner` may be 0, which the library refuses for several channels:
        // any inner describes an empty x, and dweight is written 0 all the same.
        let inner = if n == 0 { 1 } else { inner };
        // Safety: checked buffers; `dweight` is disjoint from every other buffer, `dx` from
        // `x`, `weight` and `dweight`, and from `dy` unless it is `dy` exactly, which goes
        // through the in-place function. `n` is outer·channels·inner (or 0).
        unsafe {
            if in_place {
                actkern::prelu_backward_inplace(
                    input(x, n),
                    input(weight, channels),
                    output(dx, n),
                    inner,
                    output(dweight, channels),
                );
            } else {
                actkern::prelu_backward(
                    input(x, n),
                    input(weight, channels),
                    input(dy, n),
                    inner,
                    output(dx, n),
                    output(dweight, channels),
                );
            }
        }
        ACTKERN_OK
    })
}
