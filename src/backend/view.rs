//! The buffers of one call as vector-wide views: 1–3 inputs and 1–2 outputs of one length,
//! each with its own element type, where an output may be the very buffer of an input (in
//! place). The driver's map reads and writes whole vectors through [`Io`] and never holds a
//! slice, so an input and an output over the same memory never coexist as references.
//!
//! [`Io`]'s constructors take slices, whose borrows last as long as it; its methods check every
//! index against the length, so all of this is safe to use. The unsafe code is the pointer
//! arithmetic behind them.

use super::Vector;
use crate::element::Element;
use core::marker::PhantomData;

/// A read-only view of one input buffer; its length is the [`Io`]'s.
pub(crate) struct In<'a, E> {
    ptr: *const E,
    _borrow: PhantomData<&'a [E]>,
}

/// A writable view of one output buffer; its length is the [`Io`]'s.
pub(crate) struct Out<'a, E> {
    ptr: *mut E,
    _borrow: PhantomData<&'a mut [E]>,
}

impl<E> In<'_, E> {
    /// The view starting `mid` elements further on.
    ///
    /// # Safety
    /// `mid` is at most the buffer's length.
    unsafe fn offset(&self, mid: usize) -> Self {
        // Safety: within the buffer or one past its end (caller).
        let ptr = unsafe { self.ptr.add(mid) };
        In {
            ptr,
            _borrow: PhantomData,
        }
    }
}

impl<E> Out<'_, E> {
    /// As [`In::offset`].
    ///
    /// # Safety
    /// `mid` is at most the buffer's length.
    unsafe fn offset(&self, mid: usize) -> Self {
        // Safety: within the buffer or one past its end (caller).
        let ptr = unsafe { self.ptr.add(mid) };
        Out {
            ptr,
            _borrow: PhantomData,
        }
    }
}

/// A tuple of [`In`] views: the inputs of one call, loaded together.
pub(crate) trait Inputs: Sized {
    /// One vector per input: `V` for one input, `(V, V)` for two, `(V, V, V)` for three.
    type Vectors<V: Vector>: Copy;
    /// Loads `count` elements (`V::LANES`, or fewer and zero-padded) from `i` of every input.
    ///
    /// # Safety
    /// `i + count` is at most the buffers' length.
    unsafe fn load<V: Vector>(&self, i: usize, count: usize) -> Self::Vectors<V>;
    /// # Safety
    /// As [`In::offset`].
    unsafe fn offset(&self, mid: usize) -> Self;
}

/// A tuple of [`Out`] views: the outputs of one call, stored together.
pub(crate) trait Outputs: Sized {
    /// One vector per output: `V` for one output, `(V, V)` for two.
    type Vectors<V: Vector>: Copy;
    /// Whether any output holds bf16 ([`VectorOp::STORES_BF16`](super::VectorOp::STORES_BF16)).
    const STORES_BF16: bool;
    /// Stores the first `count` lanes (`V::LANES`, or fewer) at `i` of every output.
    ///
    /// # Safety
    /// `i + count` is at most the buffers' length, and nothing else reads or writes them now.
    unsafe fn store<V: Vector>(&self, i: usize, count: usize, v: Self::Vectors<V>);
    /// # Safety
    /// As [`Out::offset`].
    unsafe fn offset(&self, mid: usize) -> Self;
}

/// Loads `count` elements of one input at `i`.
///
/// # Safety
/// As [`Inputs::load`].
#[inline(always)]
unsafe fn load_one<V: Vector, E: Element>(view: &In<'_, E>, i: usize, count: usize) -> V {
    // Safety: `i + count` elements are in bounds (caller), and the slice lives only for this
    // load, while no reference to an aliasing output exists (outputs are written through
    // slices that live only for one store).
    let src = unsafe { core::slice::from_raw_parts(view.ptr.add(i), count) };
    if count == V::LANES {
        E::load(src)
    } else {
        E::load_partial(src)
    }
}

/// Stores the first `count` lanes of `v` into one output at `i`.
///
/// # Safety
/// As [`Outputs::store`].
#[inline(always)]
unsafe fn store_one<V: Vector, E: Element>(view: &Out<'_, E>, i: usize, count: usize, v: V) {
    // Safety: `i + count` elements are in bounds and nothing else reaches them while the slice
    // lives, for this one store (caller; loads make their slices only for one load).
    let dst = unsafe { core::slice::from_raw_parts_mut(view.ptr.add(i), count) };
    if count == V::LANES {
        E::store(v, dst)
    } else {
        E::store_partial(v, dst)
    }
}

impl<A: Element> Inputs for (In<'_, A>,) {
    type Vectors<V: Vector> = V;
    #[inline(always)]
    unsafe fn load<V: Vector>(&self, i: usize, count: usize) -> V {
        // Safety: forwarded (caller).
        unsafe { load_one(&self.0, i, count) }
    }
    unsafe fn offset(&self, mid: usize) -> Self {
        // Safety: forwarded (caller).
        unsafe { (self.0.offset(mid),) }
    }
}

impl<A: Element, B: Element> Inputs for (In<'_, A>, In<'_, B>) {
    type Vectors<V: Vector> = (V, V);
    #[inline(always)]
    unsafe fn load<V: Vector>(&self, i: usize, count: usize) -> (V, V) {
        // Safety: forwarded (caller).
        unsafe { (load_one(&self.0, i, count), load_one(&self.1, i, count)) }
    }
    unsafe fn offset(&self, mid: usize) -> Self {
        // Safety: forwarded (caller).
        unsafe { (self.0.offset(mid), self.1.offset(mid)) }
    }
}

impl<A: Element, B: Element, C: Element> Inputs for (In<'_, A>, In<'_, B>, In<'_, C>) {
    type Vectors<V: Vector> = (V, V, V);
    #[inline(always)]
    unsafe fn load<V: Vector>(&self, i: usize, count: usize) -> (V, V, V) {
        // Safety: forwarded (caller).
        unsafe {
            (
                load_one(&self.0, i, count),
                load_one(&self.1, i, count),
                load_one(&self.2, i, count),
            )
        }
    }
    unsafe fn offset(&self, mid: usize) -> Self {
        // Safety: forwarded (caller).
        unsafe { (self.0.offset(mid), self.1.offset(mid), self.2.offset(mid)) }
    }
}

impl<A: Element> Outputs for (Out<'_, A>,) {
    type Vectors<V: Vector> = V;
    const STORES_BF16: bool = A::IS_BF16;
    #[inline(always)]
    unsafe fn store<V: Vector>(&self, i: usize, count: usize, v: V) {
        // Safety: forwarded (caller).
        unsafe { store_one(&self.0, i, count, v) }
    }
    unsafe fn offset(&self, mid: usize) -> Self {
        // Safety: forwarded (caller).
        unsafe { (self.0.offset(mid),) }
    }
}

impl<A: Element, B: Element> Outputs for (Out<'_, A>, Out<'_, B>) {
    type Vectors<V: Vector> = (V, V);
    const STORES_BF16: bool = A::IS_BF16 || B::IS_BF16;
    #[inline(always)]
    unsafe fn store<V: Vector>(&self, i: usize, count: usize, v: (V, V)) {
        // Safety: forwarded (caller).
        unsafe {
            store_one(&self.0, i, count, v.0);
            store_one(&self.1, i, count, v.1);
        }
    }
    unsafe fn offset(&self, mid: usize) -> Self {
        // Safety: forwarded (caller).
        unsafe { (self.0.offset(mid), self.1.offset(mid)) }
    }
}

/// The buffers of one call, all `len` elements long: inputs `I`, outputs `O`.
pub(crate) struct Io<'a, I, O> {
    ins: I,
    outs: O,
    len: usize,
    _borrow: PhantomData<&'a mut ()>,
}

// Safety: an `Io` is a bundle of shared borrows of its inputs and exclusive borrows of its
// outputs (as the constructors take them), of element types that are plain numbers, so moving
// it to another thread is moving those borrows; two `Io`s never reach the same memory
// (`split_at` hands out disjoint halves).
unsafe impl<I: Inputs, O: Outputs> Send for Io<'_, I, O> {}

#[track_caller]
fn same_len(lens: &[usize]) -> usize {
    assert!(
        lens.windows(2).all(|w| w[0] == w[1]),
        "actkern: buffers of one call differ in length: {lens:?}"
    );
    lens[0]
}

fn input<E>(x: &[E]) -> In<'_, E> {
    In {
        ptr: x.as_ptr(),
        _borrow: PhantomData,
    }
}

fn output<E>(y: &mut [E]) -> Out<'_, E> {
    Out {
        ptr: y.as_mut_ptr(),
        _borrow: PhantomData,
    }
}

/// The output and the input it overwrites, over one buffer.
fn in_place<E>(xy: &mut [E]) -> (In<'_, E>, Out<'_, E>) {
    let ptr = xy.as_mut_ptr();
    (
        In {
            ptr,
            _borrow: PhantomData,
        },
        Out {
            ptr,
            _borrow: PhantomData,
        },
    )
}

impl<'a, A: Element, Y: Element> Io<'a, (In<'a, A>,), (Out<'a, Y>,)> {
    /// `y = f(x)`.
    pub(crate) fn unary(x: &'a [A], y: &'a mut [Y]) -> Self {
        let len = same_len(&[x.len(), y.len()]);
        Io {
            ins: (input(x),),
            outs: (output(y),),
            len,
            _borrow: PhantomData,
        }
    }
}

impl<'a, A: Element> Io<'a, (In<'a, A>,), (Out<'a, A>,)> {
    /// `x = f(x)`.
    pub(crate) fn unary_in_place(xy: &'a mut [A]) -> Self {
        let len = xy.len();
        let (x, y) = in_place(xy);
        Io {
            ins: (x,),
            outs: (y,),
            len,
            _borrow: PhantomData,
        }
    }
}

impl<'a, A: Element, B: Element, Y: Element> Io<'a, (In<'a, A>, In<'a, B>), (Out<'a, Y>,)> {
    /// `y = f(a, b)`.
    pub(crate) fn binary(a: &'a [A], b: &'a [B], y: &'a mut [Y]) -> Self {
        let len = same_len(&[a.len(), b.len(), y.len()]);
        Io {
            ins: (input(a), input(b)),
            outs: (output(y),),
            len,
            _borrow: PhantomData,
        }
    }
}

impl<'a, A: Element, B: Element> Io<'a, (In<'a, A>, In<'a, B>), (Out<'a, B>,)> {
    /// `b = f(a, b)`: the second input is overwritten.
    pub(crate) fn binary_in_place(a: &'a [A], b: &'a mut [B]) -> Self {
        let len = same_len(&[a.len(), b.len()]);
        let (b, y) = in_place(b);
        Io {
            ins: (input(a), b),
            outs: (y,),
            len,
            _borrow: PhantomData,
        }
    }
}

impl<'a, A: Element, B: Element> Io<'a, (In<'a, A>, In<'a, B>), (Out<'a, A>,)> {
    /// `a = f(a, b)`: the first input is overwritten.
    pub(crate) fn binary_in_place_first(a: &'a mut [A], b: &'a [B]) -> Self {
        let len = same_len(&[a.len(), b.len()]);
        let (a, y) = in_place(a);
        Io {
            ins: (a, input(b)),
            outs: (y,),
            len,
            _borrow: PhantomData,
        }
    }
}

impl<'a, A: Element, B: Element, C: Element, Y: Element> Io<'a, (In<'a, A>, In<'a, B>, In<'a, C>), (Out<'a, Y>,)> {
    /// `y = f(a, b, c)`.
    pub(crate) fn ternary(a: &'a [A], b: &'a [B], c: &'a [C], y: &'a mut [Y]) -> Self {
        let len = same_len(&[a.len(), b.len(), c.len(), y.len()]);
        Io {
            ins: (input(a), input(b), input(c)),
            outs: (output(y),),
            len,
            _borrow: PhantomData,
        }
    }
}

impl<'a, A: Element, B: Element, C: Element> Io<'a, (In<'a, A>, In<'a, B>, In<'a, C>), (Out<'a, C>,)> {
    /// `c = f(a, b, c)`: the third input is overwritten.
    pub(crate) fn ternary_in_place(a: &'a [A], b: &'a [B], c: &'a mut [C]) -> Self {
        let len = same_len(&[a.len(), b.len(), c.len()]);
        let (c, y) = in_place(c);
        Io {
            ins: (input(a), input(b), c),
            outs: (y,),
            len,
            _borrow: PhantomData,
        }
    }
}

impl<'a, A: Element, B: Element, C: Element, Y: Element, Z: Element>
    Io<'a, (In<'a, A>, In<'a, B>, In<'a, C>), (Out<'a, Y>, Out<'a, Z>)>
{
    /// `(y, z) = f(a, b, c)`.
    pub(crate) fn ternary_pair(a: &'a [A], b: &'a [B], c: &'a [C], y: &'a mut [Y], z: &'a mut [Z]) -> Self {
        let len = same_len(&[a.len(), b.len(), c.len(), y.len(), z.len()]);
        Io {
            ins: (input(a), input(b), input(c)),
            outs: (output(y), output(z)),
            len,
            _borrow: PhantomData,
        }
    }
}

impl<'a, A: Element, B: Element, C: Element> Io<'a, (In<'a, A>, In<'a, B>, In<'a, C>), (Out<'a, A>, Out<'a, B>)> {
    /// `(a, b) = f(a, b, c)`: the first two inputs are overwritten.
    pub(crate) fn ternary_pair_in_place(a: &'a mut [A], b: &'a mut [B], c: &'a [C]) -> Self {
        let len = same_len(&[a.len(), b.len(), c.len()]);
        let (a, y) = in_place(a);
        let (b, z) = in_place(b);
        Io {
            ins: (a, b, input(c)),
            outs: (y, z),
            len,
            _borrow: PhantomData,
        }
    }
}

impl<I: Inputs, O: Outputs> Io<'_, I, O> {
    /// Elements in every buffer.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The first `mid` elements and the rest, as two calls over disjoint memory.
    pub(crate) fn split_at(self, mid: usize) -> (Self, Self) {
        assert!(mid <= self.len);
        // Safety: `mid <= len` (checked), so both offsets stay within the buffers.
        let (ins, outs) = unsafe { (self.ins.offset(mid), self.outs.offset(mid)) };
        let tail = Io {
            ins,
            outs,
            len: self.len - mid,
            _borrow: PhantomData,
        };
        (Io { len: mid, ..self }, tail)
    }

    /// One vector of every input: elements `i .. i + V::LANES`.
    #[inline(always)]
    pub(crate) fn load<V: Vector>(&self, i: usize) -> I::Vectors<V> {
        assert!(i <= self.len && V::LANES <= self.len - i);
        // Safety: `i + V::LANES <= len`.
        unsafe { self.ins.load(i, V::LANES) }
    }

    /// Stores one vector into every output: elements `i .. i + V::LANES`. `&mut self`: no load
    /// is in progress meanwhile.
    #[inline(always)]
    pub(crate) fn store<V: Vector>(&mut self, i: usize, v: O::Vectors<V>) {
        assert!(i <= self.len && V::LANES <= self.len - i);
        // Safety: `i + V::LANES <= len`, and the exclusive borrow of `self` keeps any other
        // access to the outputs out for the duration.
        unsafe { self.outs.store(i, V::LANES, v) }
    }

    /// The last elements of every input, `i .. len` (fewer than `V::LANES`), zero-padded.
    #[inline(always)]
    pub(crate) fn load_tail<V: Vector>(&self, i: usize) -> I::Vectors<V> {
        assert!(i < self.len && self.len - i < V::LANES);
        // Safety: `i + (len - i) = len`.
        unsafe { self.ins.load(i, self.len - i) }
    }

    /// Stores the first `len - i` lanes (fewer than `V::LANES`) into every output at `i`.
    #[inline(always)]
    pub(crate) fn store_tail<V: Vector>(&mut self, i: usize, v: O::Vectors<V>) {
        assert!(i < self.len && self.len - i < V::LANES);
        // Safety: `i + (len - i) = len`; exclusive as in `store`.
        unsafe { self.outs.store(i, self.len - i, v) }
    }
}
