//! Float files: format detection, opening and checking inputs, and reading them in chunks of
//! their element type (`f32`, `bf16` or `f16`, little-endian in the file).

use super::CliError;
use super::npy::{self, Header, NpyError, ReadError};
use actkern::{Dtype, Element};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The two file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// NumPy `.npy`, dtype `<f4` or `<f2`.
    Npy,
    /// Raw little-endian elements of --dtype (f32, bf16 or f16), no header.
    Raw,
}

impl Format {
    /// The format an extension implies: `.npy`, or `.f32` / `.bin` / `.raw`.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "npy" => Some(Format::Npy),
            "f32" | "bin" | "raw" => Some(Format::Raw),
            _ => None,
        }
    }

    /// The format of an input: `--input-format`'s when given, else its extension's, else an
    /// error (standard input, `-`, has no extension).
    pub fn of_input(path: &Path, role: &str, flag: Option<Format>) -> Result<Format, CliError> {
        flag.or_else(|| Format::from_extension(path)).ok_or_else(|| {
            let what = if is_stdin(path) {
                format!("{role} `-` (standard input) has no extension to tell its format by")
            } else {
                format!(
                    "cannot tell the format of {role} `{}` from its extension",
                    path.display()
                )
            };
            CliError::input(format!(
                "{what}; name a .npy, .f32, .bin or .raw file, or give --input-format npy|raw"
            ))
        })
    }
}

/// Whether `path` means standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Standard input as a file handle of its own (a duplicate of descriptor 0), so that it is
/// read like any other input.
fn stdin_file() -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?))
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle;
        Ok(File::from(io::stdin().as_handle().try_clone_to_owned()?))
    }
}

/// An input file, opened and checked, positioned at its first data byte.
pub struct Input {
    /// As given on the command line, for messages.
    pub path: PathBuf,
    /// `INPUT` or `DY`, for messages.
    pub role: &'static str,
    /// The `.npy` header, or `None` for raw data.
    pub header: Option<Header>,
    /// The element type: the header's for `.npy`, the one asked for raw data.
    pub dtype: Dtype,
    /// Element count when it is known before reading: always for `.npy`, for raw data when the
    /// input is a regular file.
    pub elements: Option<u64>,
    /// The file's identity, to refuse writing over it without --in-place.
    pub identity: Option<FileId>,
    file: File,
}

/// What identifies a file: its canonical path and, on Unix, its device and inode (so hard links
/// to the same file compare equal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileId {
    canonical: PathBuf,
    #[cfg(unix)]
    dev_ino: (u64, u64),
}

impl FileId {
    /// The identity of an existing file; `None` if it cannot be determined.
    pub fn of(path: &Path) -> Option<FileId> {
        let canonical = fs::canonicalize(path).ok()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let meta = fs::metadata(&canonical).ok()?;
            Some(FileId {
                canonical,
                dev_ino: (meta.dev(), meta.ino()),
            })
        }
        #[cfg(not(unix))]
        Some(FileId { canonical })
    }

    /// Whether both name the same file.
    pub fn same_file(&self, other: &FileId) -> bool {
        #[cfg(unix)]
        if self.dev_ino == other.dev_ino {
            return true;
        }
        self.canonical == other.canonical
    }
}

impl Input {
    /// Opens `path` as `format` and checks everything that can be checked before reading the
    /// data: the header, the dtype, and that the size matches the shape (or is a multiple of the
    /// element size). Raw data is read as `raw_dtype`; a `.npy` header says its own.
    pub fn open(path: &Path, role: &'static str, format: Format, raw_dtype: Dtype) -> Result<Input, CliError> {
        let shown = path.display();
        let opened = if is_stdin(path) { stdin_file() } else { File::open(path) };
        let mut file = opened.map_err(|e| CliError::input(format!("cannot open {role} `{shown}`: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| CliError::input(format!("cannot read {role} `{shown}`: {e}")))?;
        if meta.is_dir() {
            return Err(CliError::input(format!("{role} `{shown}` is a directory")));
        }
        // Pipes and devices have no meaningful length: they are checked while reading.
        let file_len = meta.is_file().then_some(meta.len());
        let (header, dtype, elements) = match format {
            Format::Raw => {
                let size = raw_dtype.size() as u64;
                if let Some(len) = file_len
                    && !len.is_multiple_of(size)
                {
                    return Err(CliError::input(format!(
                        "{role} `{shown}` has {len} bytes, not a multiple of {size}: {}",
                        not_raw(raw_dtype)
                    )));
                }
                (None, raw_dtype, file_len.map(|len| len / size))
            }
            Format::Npy => {
                let (header, data_offset) = npy::read_header(&mut file, file_len).map_err(|e| match e {
                    ReadError::Npy(e) => CliError::input(format!("{role} `{shown}`: {e}")),
                    ReadError::Io(e) => CliError::input(format!("cannot read {role} `{shown}`: {e}")),
                })?;
                // The parser guarantees the byte count fits in a u64.
                let data_bytes = header.data_bytes().ok_or_else(|| {
                    CliError::input(format!(
                        "{role} `{shown}`: {}",
                        NpyError::ShapeOverflow(header.shape_repr())
                    ))
                })?;
                if let Some(len) = file_len {
                    let have = len - data_offset;
                    if have != data_bytes {
                        return Err(CliError::input(format!(
                            "{role} `{shown}`: the shape {} needs {data_bytes} bytes of {} data \
                             but the file has {have} after its header",
                            header.shape_repr(),
                            header.dtype.dtype()
                        )));
                    }
                }
                let elements = header.elements();
                let dtype = header.dtype.dtype();
                (Some(header), dtype, elements)
            }
        };
        Ok(Input {
            path: path.to_path_buf(),
            role,
            header,
            dtype,
            elements,
            identity: if is_stdin(path) { None } else { FileId::of(path) },
            file,
        })
    }

    /// The data bytes, for the progress bar.
    pub fn data_bytes(&self) -> Option<u64> {
        self.elements.and_then(|n| n.checked_mul(self.dtype.size() as u64))
    }

    /// A reader over the data, in chunks.
    pub fn into_source(self) -> Source {
        Source {
            remaining: self.elements,
            read: 0,
            dtype: self.dtype,
            path: self.path,
            role: self.role,
            file: self.file,
        }
    }
}

/// Reads an input's data in chunks and checks, while reading, what could not be checked
/// before: a stream's length, and that a regular file did not change size meanwhile.
pub struct Source {
    file: File,
    /// Elements still to read when the length is known.
    remaining: Option<u64>,
    /// Elements read so far.
    read: u64,
    /// The element type of the data.
    dtype: Dtype,
    path: PathBuf,
    role: &'static str,
}

impl Source {
    fn error(&self, what: String) -> CliError {
        CliError::input(format!("{} `{}`: {what}", self.role, self.path.display()))
    }

    fn read_error(&self, e: io::Error) -> CliError {
        CliError::input(format!("cannot read {} `{}`: {e}", self.role, self.path.display()))
    }

    /// Fills `buf` with the next elements, as many as fit or remain; returns how many were
    /// read, 0 at the end. `E` is the input's element type.
    pub fn read_chunk<E: Element>(&mut self, buf: &mut [E]) -> Result<usize, CliError> {
        assert_eq!(E::DTYPE, self.dtype, "a buffer of the input's element type");
        let size = self.dtype.size();
        let want = match self.remaining {
            Some(r) => buf.len().min(usize::try_from(r).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf[..want]);
        let got = npy::read_up_to(&mut self.file, bytes).map_err(|e| self.read_error(e))?;
        if let Some(r) = self.remaining {
            if got < bytes.len() {
                return Err(self.error(format!(
                    "the data ended after {} of {} bytes (was the file truncated while being \
                     read?)",
                    self.read * size as u64 + got as u64,
                    (self.read + r) * size as u64
                )));
            }
        } else if !got.is_multiple_of(size) {
            // A short read only happens at the end of the stream.
            return Err(self.error(format!(
                "the data has {} bytes, not a multiple of {size}: {}",
                self.read * size as u64 + got as u64,
                not_raw(self.dtype)
            )));
        }
        let n = got / size;
        from_le(&mut buf[..n]);
        self.read += n as u64;
        if let Some(r) = &mut self.remaining {
            *r -= n as u64;
        }
        Ok(n)
    }

    /// Reads exactly `buf.len()` elements: the gradient matching a chunk of the input.
    pub fn read_exact_chunk<E: Element>(&mut self, buf: &mut [E]) -> Result<(), CliError> {
        let before = self.read;
        let n = self.read_chunk(buf)?;
        if n < buf.len() {
            return Err(self.error(format!("it has {} elements, fewer than INPUT", before + n as u64)));
        }
        Ok(())
    }

    /// Checks that nothing follows the data read.
    pub fn finish(&mut self) -> Result<(), CliError> {
        let mut probe = [0u8; 1];
        let extra = npy::read_up_to(&mut self.file, &mut probe).map_err(|e| self.read_error(e))?;
        let remaining = self.remaining.unwrap_or(0);
        if extra > 0 || remaining > 0 {
            let what = if self.role == "INPUT" {
                "the file grew while being read".to_string()
            } else {
                format!("it has more elements than INPUT's {}", self.read)
            };
            return Err(self.error(what));
        }
        Ok(())
    }
}

/// Why data whose length is not a multiple of the element size is refused.
fn not_raw(dtype: Dtype) -> String {
    format!(
        "it cannot be raw {dtype} data ({} bytes an element; --dtype says which of f32, bf16, f16 \
         raw data holds)",
        dtype.size()
    )
}

/// Reverses the bytes of every element on big-endian CPUs: nothing to do on little-endian ones.
fn swap_if_big_endian<E: Element>(values: &mut [E]) {
    if cfg!(target_endian = "big") {
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(values);
        for element in bytes.chunks_exact_mut(size_of::<E>()) {
            element.reverse();
        }
    }
}

/// Converts little-endian file data to native elements.
pub fn from_le<E: Element>(values: &mut [E]) {
    swap_if_big_endian(values);
}

/// Converts native elements to little-endian file data.
pub fn to_le<E: Element>(values: &mut [E]) {
    swap_if_big_endian(values);
}
