//! NumPy's `.npy` format: a strict header parser and a writer that produces the bytes
//! `numpy.save` produces.
//!
//! A file is `\x93NUMPY`, a major and a minor version byte, the header length (`u16` little
//! endian for version 1, `u32` for versions 2 and 3), then the header: a Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and ended
//! by `\n`; the data follows. Only little-endian `float32` (`'<f4'`) and `float16` (`'<f2'`)
//! data are accepted ([`NpyDtype`]); numpy has no `bfloat16` dtype.
//!
//! The parser never trusts a number it reads: the header length is capped before anything is
//! allocated for it, the shape is at most [`MAX_DIMS`] entries, and the element and byte counts
//! are computed with checked arithmetic. Nothing here allocates according to the shape.

use actkern::Dtype;
use std::fmt;
use std::io::{self, Read};

/// The six bytes every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Longest header accepted. numpy writes a few hundred bytes at most for a float array; this
/// bounds what a lying length field can make us read into memory.
pub const MAX_HEADER_LEN: usize = 1 << 20;

/// Most dimensions accepted (numpy's own limit, `NPY_MAXDIMS`, since numpy 2.0).
pub const MAX_DIMS: usize = 64;

/// numpy aligns the start of the data to this many bytes.
const ARRAY_ALIGN: usize = 64;

/// numpy pads the header so the growing axis can reach this many digits in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// The element types a `.npy` file may hold here: those of [`Dtype`] that numpy has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NpyDtype {
    /// `'<f4'`: little-endian IEEE binary32, [`Dtype::F32`].
    F4,
    /// `'<f2'`: little-endian IEEE binary16, [`Dtype::F16`].
    F2,
}

impl NpyDtype {
    /// Both, in the order messages list them.
    pub const ALL: [NpyDtype; 2] = [NpyDtype::F4, NpyDtype::F2];

    /// numpy's type string: `<f4` or `<f2`.
    pub fn descr(self) -> &'static str {
        match self {
            NpyDtype::F4 => "<f4",
            NpyDtype::F2 => "<f2",
        }
    }

    /// The element type.
    pub fn dtype(self) -> Dtype {
        match self {
            NpyDtype::F4 => Dtype::F32,
            NpyDtype::F2 => Dtype::F16,
        }
    }

    /// The `.npy` type of an element type; `None` for `bf16`, which numpy does not have.
    pub fn of(dtype: Dtype) -> Option<NpyDtype> {
        NpyDtype::ALL.into_iter().find(|d| d.dtype() == dtype)
    }

    /// Bytes per element.
    pub fn size(self) -> u64 {
        self.dtype().size() as u64
    }
}

/// What a `.npy` header says about the array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Dimensions; empty for a 0-d array (one element).
    pub shape: Vec<u64>,
    /// Column-major (Fortran) element order instead of row-major (C).
    pub fortran_order: bool,
    /// The element type.
    pub dtype: NpyDtype,
}

impl Header {
    /// Number of elements, or `None` when the product overflows `u64`.
    pub fn elements(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d))
    }

    /// Number of data bytes (4 or 2 per element), or `None` on overflow.
    pub fn data_bytes(&self) -> Option<u64> {
        self.elements()?.checked_mul(self.dtype.size())
    }

    /// The shape as Python prints it: `()`, `(5,)`, `(2, 3)`.
    pub fn shape_repr(&self) -> String {
        match self.shape.as_slice() {
            [] => "()".to_string(),
            [d] => format!("({d},)"),
            dims => {
                let parts: Vec<String> = dims.iter().map(u64::to_string).collect();
                format!("({})", parts.join(", "))
            }
        }
    }

    /// Whether elements sit in the same order in the files of `self` and `other`: equal shapes,
    /// and equal order unless at most one dimension exceeds 1 (then C and Fortran coincide).
    /// The element types are not compared.
    pub fn same_layout(&self, other: &Header) -> bool {
        self.shape == other.shape
            && (self.fortran_order == other.fortran_order || self.shape.iter().filter(|&&d| d > 1).count() <= 1)
    }
}

/// Why a `.npy` header was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NpyError {
    /// The file ends inside the magic string, the length field or the header.
    Truncated {
        /// Bytes the header part needs.
        needed: u64,
        /// Bytes the file has.
        got: u64,
    },
    /// The file does not start with `\x93NUMPY`.
    BadMagic,
    /// A version other than 1.0, 2.0 or 3.0.
    UnsupportedVersion(u8, u8),
    /// The header length field exceeds [`MAX_HEADER_LEN`].
    HeaderTooLong(u64),
    /// The header is not the dict numpy writes.
    Malformed(String),
    /// The dtype is neither `'<f4'` nor `'<f2'`.
    UnsupportedDtype(String),
    /// The product of the dimensions (times the element size) overflows 64 bits.
    ShapeOverflow(String),
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NpyError::Truncated { needed, got } => write!(
                f,
                "truncated .npy header: it needs {needed} bytes but the file has only {got}"
            ),
            NpyError::BadMagic => write!(f, "not a .npy file: it does not start with the magic string \\x93NUMPY"),
            NpyError::UnsupportedVersion(major, minor) => write!(
                f,
                "unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)"
            ),
            NpyError::HeaderTooLong(len) => write!(
                f,
                "malformed .npy header: its length field says {len} bytes, more than the \
                 {MAX_HEADER_LEN} accepted"
            ),
            NpyError::Malformed(why) => write!(f, "malformed .npy header: {why}"),
            NpyError::UnsupportedDtype(descr) => write!(
                f,
                "unsupported dtype '{descr}'{}: actkern reads little-endian float32 ('<f4') and \
                 float16 ('<f2'); convert with numpy: a.astype('{}')",
                describe_dtype(descr).map(|d| format!(" ({d})")).unwrap_or_default(),
                // A 16-bit float in another byte order stays 16-bit.
                if descr.ends_with("f2") { "<f2" } else { "<f4" }
            ),
            NpyError::ShapeOverflow(shape) => write!(
                f,
                "the .npy shape {shape} has more elements than a 64-bit size can count"
            ),
        }
    }
}

impl std::error::Error for NpyError {}

/// A readable name for a numpy type string such as `>f4` or `|u1`.
fn describe_dtype(descr: &str) -> Option<String> {
    let bytes = descr.as_bytes();
    let (order, rest) = match bytes.first()? {
        b'<' => ("little-endian ", &descr[1..]),
        b'>' => ("big-endian ", &descr[1..]),
        b'=' => ("native-endian ", &descr[1..]),
        b'|' => ("", &descr[1..]),
        _ => ("", descr),
    };
    let mut chars = rest.chars();
    let kind = chars.next()?;
    let size: u32 = chars.as_str().parse().ok()?;
    let name = match kind {
        'f' => "float",
        'i' => "int",
        'u' => "uint",
        'c' => "complex",
        'b' => return Some("bool".into()),
        'S' | 'a' => return Some(format!("bytes of length {size}")),
        'U' => return Some(format!("unicode string of length {size}")),
        'V' => return Some(format!("void of {size} bytes")),
        'M' => return Some(format!("{order}datetime64")),
        'm' => return Some(format!("{order}timedelta64")),
        'O' => return Some("Python objects".into()),
        _ => return None,
    };
    Some(format!("{order}{name}{}", size.checked_mul(8)?))
}

/// The fixed part before the header: version and header length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    /// Major format version (1, 2 or 3).
    pub major: u8,
    /// Length of the header dict text, padding and newline included.
    pub header_len: usize,
}

impl Prefix {
    /// Bytes before the header text: 10 for version 1, 12 for versions 2 and 3.
    pub fn len(self) -> usize {
        if self.major == 1 { 10 } else { 12 }
    }

    /// Offset of the first data byte.
    pub fn data_offset(self) -> u64 {
        (self.len() + self.header_len) as u64
    }
}

/// Parses the magic string, version and header length from the start of a file. `bytes` may be
/// shorter than 12; a file that short is [`NpyError::Truncated`] (`file_len` is what we report).
pub fn parse_prefix(bytes: &[u8], file_len: u64) -> Result<Prefix, NpyError> {
    let truncated = |needed: usize| NpyError::Truncated {
        needed: needed as u64,
        got: file_len,
    };
    // Compare what is there of the magic first, so a short non-npy file is "not .npy".
    let have = bytes.len().min(MAGIC.len());
    if bytes[..have] != MAGIC[..have] {
        return Err(NpyError::BadMagic);
    }
    if bytes.len() < 8 {
        return Err(truncated(8));
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let len_size = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(NpyError::UnsupportedVersion(major, minor)),
    };
    if bytes.len() < 8 + len_size {
        return Err(truncated(8 + len_size));
    }
    let header_len = if len_size == 2 {
        u64::from(u16::from_le_bytes([bytes[8], bytes[9]]))
    } else {
        u64::from(u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]))
    };
    if header_len > MAX_HEADER_LEN as u64 {
        return Err(NpyError::HeaderTooLong(header_len));
    }
    Ok(Prefix {
        major,
        header_len: header_len as usize,
    })
}

/// Reads and parses the prefix and header from `r`, leaving it at the first data byte.
/// `file_len` is the file's size when known (for messages and an early truncation check).
pub fn read_header(r: &mut impl Read, file_len: Option<u64>) -> Result<(Header, u64), ReadError> {
    let mut prefix = [0u8; 12];
    let got = read_up_to(r, &mut prefix[..10])?;
    let len_hint = file_len.unwrap_or(got as u64);
    // Versions 2 and 3 have two more length bytes.
    let got = if got == 10 && prefix[6] != 1 {
        10 + read_up_to(r, &mut prefix[10..12])?
    } else {
        got
    };
    let p = parse_prefix(&prefix[..got], len_hint.max(got as u64))?;
    if let Some(len) = file_len
        && len < p.data_offset()
    {
        return Err(NpyError::Truncated {
            needed: p.data_offset(),
            got: len,
        }
        .into());
    }
    // `header_len` is at most MAX_HEADER_LEN: this allocation is bounded.
    let mut text = vec![0u8; p.header_len];
    let got_text = read_up_to(r, &mut text)?;
    if got_text < p.header_len {
        return Err(NpyError::Truncated {
            needed: p.data_offset(),
            got: (p.len() + got_text) as u64,
        }
        .into());
    }
    let header = parse_header_text(&text, p.major)?;
    Ok((header, p.data_offset()))
}

/// An error while reading a header: the bytes were wrong, or reading failed.
#[derive(Debug)]
pub enum ReadError {
    /// The header is not acceptable.
    Npy(NpyError),
    /// The read itself failed.
    Io(io::Error),
}

impl From<NpyError> for ReadError {
    fn from(e: NpyError) -> Self {
        ReadError::Npy(e)
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads until `buf` is full or the reader is exhausted; returns the bytes read.
pub fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Parses a whole file prefix held in memory (prefix, header, anything after): the header and
/// the data offset. The same checks as [`read_header`]; used by tests.
#[cfg_attr(not(test), allow(dead_code))]
pub fn parse(bytes: &[u8]) -> Result<(Header, u64), NpyError> {
    let p = parse_prefix(&bytes[..bytes.len().min(12)], bytes.len() as u64)?;
    let end = p.len() + p.header_len;
    let text = bytes.get(p.len()..end).ok_or(NpyError::Truncated {
        needed: end as u64,
        got: bytes.len() as u64,
    })?;
    Ok((parse_header_text(text, p.major)?, p.data_offset()))
}

/// Parses the header dict (the text after the length field, padding and newline included).
pub fn parse_header_text(text: &[u8], major: u8) -> Result<Header, NpyError> {
    if major == 3 && std::str::from_utf8(text).is_err() {
        return Err(NpyError::Malformed("a version 3 header must be UTF-8".into()));
    }
    let mut p = Parser { text, pos: 0 };
    p.skip_ws();
    p.expect(b'{')?;
    let mut descr: Option<Descr> = None;
    let mut fortran_order: Option<bool> = None;
    let mut shape: Option<Vec<u64>> = None;
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.skip_ws();
        p.expect(b':')?;
        p.skip_ws();
        let duplicate = match key.as_slice() {
            b"descr" => descr.replace(p.descr()?).is_some(),
            b"fortran_order" => fortran_order.replace(p.boolean()?).is_some(),
            b"shape" => shape.replace(p.shape()?).is_some(),
            other => {
                return Err(NpyError::Malformed(format!(
                    "unexpected key '{}' (numpy writes only 'descr', 'fortran_order' and 'shape')",
                    String::from_utf8_lossy(other)
                )));
            }
        };
        if duplicate {
            return Err(NpyError::Malformed(format!(
                "key '{}' appears twice",
                String::from_utf8_lossy(&key)
            )));
        }
        p.skip_ws();
        if p.eat(b',') {
            continue;
        }
        p.skip_ws();
        p.expect(b'}')?;
        break;
    }
    // numpy pads with spaces and ends with a newline; nothing else may follow the dict.
    p.skip_ws();
    if p.pos != text.len() {
        return Err(NpyError::Malformed(format!(
            "unexpected {} after the dict",
            p.describe_here()
        )));
    }
    let missing = |k: &str| NpyError::Malformed(format!("the key '{k}' is missing"));
    let descr = descr.ok_or_else(|| missing("descr"))?;
    let fortran_order = fortran_order.ok_or_else(|| missing("fortran_order"))?;
    let shape = shape.ok_or_else(|| missing("shape"))?;
    let dtype = match descr {
        Descr::Simple(s) => match NpyDtype::ALL.into_iter().find(|d| d.descr() == s) {
            Some(d) => d,
            None => return Err(NpyError::UnsupportedDtype(s)),
        },
        Descr::Structured => {
            return Err(NpyError::UnsupportedDtype("a structured dtype (list of fields)".into()));
        }
    };
    let header = Header {
        shape,
        fortran_order,
        dtype,
    };
    if header.data_bytes().is_none() {
        return Err(NpyError::ShapeOverflow(header.shape_repr()));
    }
    Ok(header)
}

enum Descr {
    Simple(String),
    Structured,
}

/// A cursor over the header text: the subset of Python literal syntax numpy headers use.
struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn describe_here(&self) -> String {
        match self.peek() {
            None => "end of header".into(),
            Some(c) if c.is_ascii_graphic() => format!("'{}' at byte {}", c as char, self.pos),
            Some(c) => format!("byte 0x{c:02x} at byte {}", self.pos),
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), NpyError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(NpyError::Malformed(format!(
                "expected '{}' but found {}",
                c as char,
                self.describe_here()
            )))
        }
    }

    /// A quoted string without escapes (numpy's keys and type strings need none).
    fn string(&mut self) -> Result<Vec<u8>, NpyError> {
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => {
                return Err(NpyError::Malformed(format!(
                    "expected a quoted string but found {}",
                    self.describe_here()
                )));
            }
        };
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None | Some(b'\n') => {
                    return Err(NpyError::Malformed("unterminated string".into()));
                }
                Some(b'\\') => {
                    return Err(NpyError::Malformed(
                        "escape sequences in strings are not supported".into(),
                    ));
                }
                Some(c) if c == quote => break,
                Some(_) => self.pos += 1,
            }
        }
        let s = self.text[start..self.pos].to_vec();
        self.pos += 1;
        Ok(s)
    }

    /// Skips a bracketed value such as a structured dtype's `[('a', '<f4'), ...]`, whose
    /// content does not matter since it is rejected anyway. Iterative: nesting costs no stack.
    fn skip_bracketed(&mut self) -> Result<(), NpyError> {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => {
                    return Err(NpyError::Malformed("unbalanced brackets".into()));
                }
                Some(b'[' | b'(' | b'{') => depth += 1,
                Some(b']' | b')' | b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return Ok(());
                    }
                }
                Some(b'\'' | b'"') => {
                    self.string()?;
                    continue;
                }
                Some(_) => {}
            }
            self.pos += 1;
        }
    }

    fn descr(&mut self) -> Result<Descr, NpyError> {
        match self.peek() {
            Some(b'[') => {
                self.skip_bracketed()?;
                Ok(Descr::Structured)
            }
            _ => {
                let s = self.string()?;
                // Type strings are short; cap what an error message repeats.
                let mut s = String::from_utf8_lossy(&s).into_owned();
                if s.len() > 40 {
                    let mut cut = 40;
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s.truncate(cut);
                    s.push('…');
                }
                Ok(Descr::Simple(s))
            }
        }
    }

    fn boolean(&mut self) -> Result<bool, NpyError> {
        let rest = &self.text[self.pos..];
        let (value, len) = if rest.starts_with(b"True") {
            (true, 4)
        } else if rest.starts_with(b"False") {
            (false, 5)
        } else {
            return Err(NpyError::Malformed(format!(
                "'fortran_order' must be True or False but found {}",
                self.describe_here()
            )));
        };
        self.pos += len;
        if self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
            return Err(NpyError::Malformed("'fortran_order' must be True or False".into()));
        }
        Ok(value)
    }

    /// A tuple of non-negative integers: `()`, `(n,)`, `(a, b)`, `(a, b,)`.
    fn shape(&mut self) -> Result<Vec<u64>, NpyError> {
        if self.peek() != Some(b'(') {
            return Err(NpyError::Malformed(format!(
                "'shape' must be a tuple such as (2, 3) but found {}",
                self.describe_here()
            )));
        }
        self.pos += 1;
        let mut dims = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(b')') {
                break;
            }
            if dims.len() == MAX_DIMS {
                return Err(NpyError::Malformed(format!(
                    "the shape has more than {MAX_DIMS} dimensions"
                )));
            }
            dims.push(self.dimension()?);
            self.skip_ws();
            if self.eat(b',') {
                continue;
            }
            self.expect(b')')?;
            // Python reads `(5)` as the integer 5, not a tuple.
            if dims.len() == 1 {
                return Err(NpyError::Malformed(
                    "'shape' must be a tuple; a 1-d shape is written (n,)".into(),
                ));
            }
            break;
        }
        Ok(dims)
    }

    fn dimension(&mut self) -> Result<u64, NpyError> {
        if self.peek() == Some(b'-') {
            return Err(NpyError::Malformed("a dimension of the shape is negative".into()));
        }
        let start = self.pos;
        let mut value: u64 = 0;
        let mut overflow = false;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            match value.checked_mul(10).and_then(|v| v.checked_add(u64::from(c - b'0'))) {
                Some(v) => value = v,
                None => overflow = true,
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(NpyError::Malformed(format!(
                "expected a dimension (a non-negative integer) but found {}",
                self.describe_here()
            )));
        }
        // Python 2's numpy wrote long integers as `3L`; numpy still reads them.
        if self.peek() == Some(b'L') {
            self.pos += 1;
        }
        if overflow {
            return Err(NpyError::ShapeOverflow(format!(
                "with dimension {}",
                String::from_utf8_lossy(&self.text[start..self.pos])
            )));
        }
        Ok(value)
    }
}

/// The header `numpy.save` writes for an array of this dtype, shape and order, prefix
/// included: keys sorted, room for the growing axis, padded so the data starts at a multiple
/// of 64 bytes, version 1.0 unless the header needs the 4-byte length of version 2.0.
pub fn header_bytes(header: &Header) -> Vec<u8> {
    let fortran = if header.fortran_order { "True" } else { "False" };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': {fortran}, 'shape': {}, }}",
        header.dtype.descr(),
        header.shape_repr()
    );
    let growth_axis = if header.fortran_order {
        header.shape.last()
    } else {
        header.shape.first()
    };
    if let Some(d) = growth_axis {
        let digits = d.to_string().len();
        dict.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
    }
    // numpy: hlen = len(header) + 1 (the newline); pad to the alignment, a full 64 when
    // already aligned.
    let hlen = dict.len() + 1;
    let wrap = |len_size: usize| {
        let pad = ARRAY_ALIGN - (MAGIC.len() + 2 + len_size + hlen) % ARRAY_ALIGN;
        (pad, hlen + pad)
    };
    let (pad, total, major) = match wrap(2) {
        (pad, total) if total <= usize::from(u16::MAX) => (pad, total, 1u8),
        _ => {
            let (pad, total) = wrap(4);
            (pad, total, 2u8)
        }
    };
    let mut out = Vec::with_capacity(12 + total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[major, 0]);
    if major == 1 {
        out.extend_from_slice(&(total as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(total as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    fn header(shape: &[u64], fortran_order: bool) -> Header {
        typed(shape, fortran_order, NpyDtype::F4)
    }

    fn typed(shape: &[u64], fortran_order: bool, dtype: NpyDtype) -> Header {
        Header {
            shape: shape.to_vec(),
            fortran_order,
            dtype,
        }
    }

    #[test]
    fn writes_what_numpy_writes() {
        // Bytes of np.save(f, np.zeros(shape, '<f4', order)) with numpy 2.4, header only.
        let c23 = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let bytes = header_bytes(&header(&[2, 3], false));
        assert_eq!(&bytes[..c23.len()], &c23[..]);
        assert_eq!(bytes.len(), 128);
        assert_eq!(bytes.len() % 64, 0);
        assert_eq!(*bytes.last().unwrap(), b'\n');
        let f = header_bytes(&header(&[3, 5], true));
        assert!(f.windows(22).any(|w| w == b"'fortran_order': True,"));
        assert_eq!(header_bytes(&header(&[], false)).len() % 64, 0);
        // np.save(f, np.zeros((2, 3), '<f2')): the same header but for the type string.
        let f2 = header_bytes(&typed(&[2, 3], false, NpyDtype::F2));
        assert_eq!(f2.len(), 128);
        let mut want = bytes.clone();
        want[21..24].copy_from_slice(b"<f2");
        assert_eq!(f2, want);
    }

    #[test]
    fn dtypes_map_to_the_library_types() {
        assert_eq!(NpyDtype::of(Dtype::F32), Some(NpyDtype::F4));
        assert_eq!(NpyDtype::of(Dtype::F16), Some(NpyDtype::F2));
        assert_eq!(NpyDtype::of(Dtype::Bf16), None, "numpy has no bfloat16");
        assert_eq!(typed(&[3, 5], false, NpyDtype::F2).data_bytes(), Some(30));
        assert_eq!(typed(&[3, 5], false, NpyDtype::F4).data_bytes(), Some(60));
    }

    #[test]
    fn round_trips() {
        for (shape, fortran) in [
            (vec![], false),
            (vec![0], false),
            (vec![7], false),
            (vec![2, 3, 4], false),
            (vec![3, 5], true),
            (vec![u32::MAX as u64, 1 << 20], true),
            (vec![1; MAX_DIMS], false),
        ] {
            for dtype in NpyDtype::ALL {
                let h = typed(&shape, fortran, dtype);
                let bytes = header_bytes(&h);
                let (parsed, offset) = parse(&bytes).unwrap();
                assert_eq!(parsed, h);
                assert_eq!(offset, bytes.len() as u64);
            }
        }
    }

    #[test]
    fn accepts_what_numpy_accepts() {
        let ok = |text: &str| parse_header_text(text.as_bytes(), 1);
        let h = ok("{\"shape\":(4,),\"fortran_order\":True,\"descr\":\"<f4\"}\n").unwrap();
        assert_eq!(h, header(&[4], true));
        let h = ok("{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 2 , 3 , ) }  \n").unwrap();
        assert_eq!(h, header(&[2, 3], false));
        assert_eq!(
            ok("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 2L), }").unwrap(),
            header(&[3, 2], false)
        );
        assert_eq!(
            ok("{'descr': '<f2', 'fortran_order': True, 'shape': (3, 2), }").unwrap(),
            typed(&[3, 2], true, NpyDtype::F2)
        );
    }

    #[test]
    fn names_the_rejected_dtype() {
        for (descr, words) in [
            ("<f8", "little-endian float64"),
            (">f4", "big-endian float32"),
            ("|u1", "uint8"),
            ("<i4", "little-endian int32"),
            ("|b1", "bool"),
            (">f2", "big-endian float16"),
            ("=f2", "native-endian float16"),
        ] {
            let text = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (3,), }}");
            let err = parse_header_text(text.as_bytes(), 1).unwrap_err();
            assert_eq!(err, NpyError::UnsupportedDtype(descr.into()));
            let msg = err.to_string();
            assert!(msg.contains(descr) && msg.contains(words), "{msg}");
            // Both accepted types are named, and the conversion keeps a float16 16-bit.
            assert!(msg.contains("'<f4'") && msg.contains("'<f2'"), "{msg}");
            let target = if descr.ends_with("f2") { "'<f2'" } else { "'<f4'" };
            assert!(msg.ends_with(&format!("a.astype({target})")), "{msg}");
        }
        let text = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }";
        assert!(matches!(
            parse_header_text(text.as_bytes(), 1),
            Err(NpyError::UnsupportedDtype(_))
        ));
    }

    #[test]
    fn rejects_bad_headers() {
        let bad = |text: &str| parse_header_text(text.as_bytes(), 1).unwrap_err();
        let d = "'descr': '<f4'";
        let o = "'fortran_order': False";
        for text in [
            format!("{{{d}, {o}}}"),
            format!("{{{d}, {o}, 'shape': (3,), 'extra': 1}}"),
            format!("{{{d}, {o}, 'shape': (3,), {d}}}"),
            format!("{{{d}, 'fortran_order': false, 'shape': (3,)}}"),
            format!("{{{d}, 'fortran_order': Falsey, 'shape': (3,)}}"),
            format!("{{{d}, {o}, 'shape': (3)}}"),
            format!("{{{d}, {o}, 'shape': (-3,)}}"),
            format!("{{{d}, {o}, 'shape': (3,), }} x"),
            format!("{{{d}, {o}, 'shape': [3]}}"),
            format!("{{{d}, {o}, 'shape': (3,)"),
            format!("{{{d} {o}, 'shape': (3,)}}"),
            format!("{{'descr': '<f4, {o}, 'shape': (3,)}}"),
            format!("{{{d}, {o}, 'shape': ({})}}", "1, ".repeat(MAX_DIMS + 1)),
            String::new(),
        ] {
            assert!(matches!(bad(&text), NpyError::Malformed(_)), "{text}");
        }
        assert!(matches!(
            bad(&format!("{{{d}, {o}, 'shape': (99999999999999999999999,)}}")),
            NpyError::ShapeOverflow(_)
        ));
        assert!(matches!(
            bad(&format!("{{{d}, {o}, 'shape': (4294967296, 4294967296)}}")),
            NpyError::ShapeOverflow(_)
        ));
        // Fits in u64 elements, but not in u64 bytes: 4 bytes each overflow, 2 do not.
        assert!(matches!(
            bad(&format!("{{{d}, {o}, 'shape': (4611686018427387904,)}}")),
            NpyError::ShapeOverflow(_)
        ));
        let f2 = "{'descr': '<f2', 'fortran_order': False, 'shape': (4611686018427387904,)}";
        assert_eq!(parse_header_text(f2.as_bytes(), 1).unwrap().data_bytes(), Some(1 << 63));
        assert!(matches!(
            bad("{'descr': '<f2', 'fortran_order': False, 'shape': (9223372036854775808,)}"),
            NpyError::ShapeOverflow(_)
        ));
    }

    #[test]
    fn rejects_bad_prefixes() {
        let good = header_bytes(&header(&[2], false));
        assert_eq!(parse(b"PK\x03\x04 zip file"), Err(NpyError::BadMagic));
        assert_eq!(parse(b""), Err(NpyError::Truncated { needed: 8, got: 0 }));
        assert_eq!(parse(&good[..3]), Err(NpyError::Truncated { needed: 8, got: 3 }));
        assert_eq!(parse(&good[..9]), Err(NpyError::Truncated { needed: 10, got: 9 }));
        assert_eq!(
            parse(&good[..40]),
            Err(NpyError::Truncated {
                needed: good.len() as u64,
                got: 40
            })
        );
        let mut v4 = good.clone();
        v4[6] = 4;
        assert_eq!(parse(&v4), Err(NpyError::UnsupportedVersion(4, 0)));
        let mut huge = b"\x93NUMPY\x02\x00".to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&huge), Err(NpyError::HeaderTooLong(u32::MAX.into())));
    }

    /// A valid header, chosen at random: shape, order, version, key order, quoting, spacing.
    fn random_valid(rng: &mut StdRng) -> (Vec<u8>, Header) {
        let ndim = rng.random_range(0..6usize);
        let shape: Vec<u64> = (0..ndim)
            .map(|_| match rng.random_range(0..10u32) {
                // Shapes far larger than any file: 2^31 .. 2^64 - 1 elements.
                0 => 1u64 << rng.random_range(31..64u32),
                1 => u64::MAX >> rng.random_range(0..8u32),
                _ => rng.random_range(0..1000u64),
            })
            .collect();
        let dtype = NpyDtype::ALL[rng.random_range(0..2usize)];
        let h = typed(&shape, rng.random_bool(0.5), dtype);
        if rng.random_bool(0.5) {
            return (header_bytes(&h), h);
        }
        let q = if rng.random_bool(0.5) { "'" } else { "\"" };
        let (sp1, sp2) = (
            " ".repeat(rng.random_range(0..3usize)),
            " ".repeat(rng.random_range(0..3usize)),
        );
        let mut entries = [
            format!("{q}descr{q}:{sp1}{q}{}{q}", dtype.descr()),
            format!(
                "{q}fortran_order{q}: {}",
                if h.fortran_order { "True" } else { "False" }
            ),
            format!("{q}shape{q}: {}", h.shape_repr()),
        ];
        let k = rng.random_range(0..3usize);
        entries.swap(0, k);
        let comma = if rng.random_bool(0.5) { ", " } else { "" };
        let text = format!("{{{}{comma}}}{sp2}\n", entries.join(", "));
        let major: u8 = rng.random_range(1..=3);
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[major, 0]);
        if major == 1 {
            out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(text.as_bytes());
        (out, h)
    }

    /// Tokens that steer mutations toward the parser's edge cases: lying shapes, huge numbers,
    /// nested brackets, other dtypes, lengths near the caps.
    const SPLICES: &[&[u8]] = &[
        b"(18446744073709551615,)",
        b"(4294967296, 4294967296)",
        b"(17179869184,)",
        b"(1073741824, 1073741824, 16)",
        b"99999999999999999999999999",
        b"-1",
        b"((((((",
        b"[('a', '<f4')]",
        b"'<f8'",
        b"'>f4'",
        b"'<f2'",
        b"'>f2'",
        b"'|u1'",
        b"'\xff\xfe'",
        b"\\",
        b"True",
        b"False",
        b"L",
        b",,",
        b"}",
        b"{",
        b"\x00",
        b"\xff\xff\xff\xff",
        b"\x93NUMPY\x02\x00",
    ];

    fn mutate(rng: &mut StdRng, bytes: &mut Vec<u8>) {
        for _ in 0..rng.random_range(1..4usize) {
            let at = rng.random_range(0..=bytes.len());
            match rng.random_range(0..6u32) {
                0 if !bytes.is_empty() => {
                    let i = rng.random_range(0..bytes.len());
                    bytes[i] = rng.random();
                }
                1 if !bytes.is_empty() => {
                    let i = rng.random_range(0..bytes.len());
                    bytes[i] ^= 1 << rng.random_range(0..8u32);
                }
                2 => bytes.truncate(at),
                3 => {
                    let splice = SPLICES[rng.random_range(0..SPLICES.len())];
                    bytes.splice(at..at, splice.iter().copied());
                }
                4 if at < bytes.len() => {
                    let end = rng.random_range(at..=bytes.len());
                    bytes.drain(at..end);
                }
                _ => {
                    // Overwrite the length field with something plausible or absurd.
                    if bytes.len() >= 12 {
                        let len: u32 = match rng.random_range(0..3u32) {
                            0 => rng.random_range(0..300),
                            1 => MAX_HEADER_LEN as u32 + rng.random_range(0..2),
                            _ => rng.random(),
                        };
                        bytes[8..12].copy_from_slice(&len.to_le_bytes());
                    }
                }
            }
        }
    }

    /// The properties of any accepted header: its numbers are consistent and bounded.
    fn check_accepted(bytes: &[u8], h: &Header, offset: u64) {
        assert!(h.shape.len() <= MAX_DIMS);
        let n = h.elements().expect("accepted shapes have a finite element count");
        assert!(n.checked_mul(h.dtype.size()).is_some());
        assert!(offset <= bytes.len() as u64);
        assert!(offset <= 12 + MAX_HEADER_LEN as u64);
    }

    /// Thousands of random, truncated and mutated headers: every one gives a result, never a
    /// panic; valid ones parse to what was written; the streaming reader agrees with the
    /// in-memory parser. Shapes that lie (up to 2^64 - 1 elements) are included: a parser that
    /// allocated according to them would abort this test.
    #[test]
    fn survives_garbage() {
        let mut rng = StdRng::seed_from_u64(0x6e70_795f_6675_7a7a);
        let (mut accepted, mut rejected) = (0u32, 0u32);
        for round in 0..100_000 {
            let (mut bytes, h) = random_valid(&mut rng);
            let mutated = round % 5 != 0;
            if mutated {
                mutate(&mut rng, &mut bytes);
            } else if h.data_bytes().is_some() {
                let (parsed, offset) = parse(&bytes).expect("a valid header parses");
                assert_eq!(parsed, h);
                assert_eq!(offset, bytes.len() as u64);
            } else {
                assert!(matches!(parse(&bytes), Err(NpyError::ShapeOverflow(_))));
            }
            if round % 7 == 0 {
                // Pure noise, sometimes behind a valid magic string.
                let len = rng.random_range(0..200usize);
                bytes = (0..len).map(|_| rng.random()).collect();
                if rng.random_bool(0.5) {
                    bytes.splice(0..0, b"\x93NUMPY\x01\x00".iter().copied());
                }
            }
            let in_memory = parse(&bytes);
            let streamed = read_header(&mut &bytes[..], Some(bytes.len() as u64));
            let streamed_unknown_len = read_header(&mut &bytes[..], None);
            match (&in_memory, &streamed, &streamed_unknown_len) {
                (Ok((h1, o1)), Ok((h2, o2)), Ok((h3, o3))) => {
                    assert_eq!((h1, o1), (h2, o2));
                    assert_eq!((h1, o1), (h3, o3));
                    check_accepted(&bytes, h1, *o1);
                    accepted += 1;
                }
                (Err(e1), Err(ReadError::Npy(e2)), Err(ReadError::Npy(_))) => {
                    assert_eq!(e1, e2, "{bytes:?}");
                    let msg = e1.to_string();
                    assert!(!msg.contains('\n'), "{msg}");
                    rejected += 1;
                }
                other => panic!("parsers disagree on {bytes:?}: {other:?}"),
            }
        }
        // Both outcomes were exercised substantially.
        assert!(accepted > 7_500 && rejected > 50_000, "{accepted} {rejected}");
    }
}
