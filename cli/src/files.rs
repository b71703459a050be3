//! Float files: format detection, opening and checking inputs, and reading them in chunks.

use super::CliError;
use super::npy::{self, Header, NpyError, ReadError};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The two file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// NumPy `.npy`, dtype `<f4`.
    Npy,
    /// Raw little-endian `f32`, no header.
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
    /// data: the header, the dtype, and that the size matches the shape (or is a multiple of 4).
    pub fn open(path: &Path, role: &'static str, format: Format) -> Result<Input, CliError> {
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
        let (header, elements) = match format {
            Format::Raw => {
                if let Some(len) = file_len
                    && !len.is_multiple_of(4)
                {
                    return Err(CliError::input(format!(
                        "{role} `{shown}` has {len} bytes, not a multiple of 4: it cannot be raw \
                         float32 data"
                    )));
                }
                (None, file_len.map(|len| len / 4))
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
                            "{role} `{shown}`: the shape {} needs {data_bytes} bytes of float32 \
                             data but the file has {have} after its header",
                            header.shape_repr()
                        )));
                    }
                }
                let elements = header.elements();
                (Some(header), elements)
            }
        };
        Ok(Input {
            path: path.to_path_buf(),
            role,
            header,
            elements,
            identity: if is_stdin(path) { None } else { FileId::of(path) },
            file,
        })
    }

    /// The data bytes, for the progress bar.
    pub fn data_bytes(&self) -> Option<u64> {
        self.elements.and_then(|n| n.checked_mul(4))
    }

    /// A reader over the data, in chunks.
    pub fn into_source(self) -> Source {
        Source {
            remaining: self.elements,
            read: 0,
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
    /// read, 0 at the end.
    pub fn read_chunk(&mut self, buf: &mut [f32]) -> Result<usize, CliError> {
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
                    self.read * 4 + got as u64,
                    (self.read + r) * 4
                )));
            }
        } else if !got.is_multiple_of(4) {
            // A short read only happens at the end of the stream.
            return Err(self.error(format!(
                "the data has {} bytes, not a multiple of 4: it cannot be raw float32 data",
                self.read * 4 + got as u64
            )));
        }
        let n = got / 4;
        from_le(&mut buf[..n]);
        self.read += n as u64;
        if let Some(r) = &mut self.remaining {
            *r -= n as u64;
        }
        Ok(n)
    }

    /// Reads exactly `buf.len()` elements: the gradient matching a chunk of the input.
    pub fn read_exact_chunk(&mut self, buf: &mut [f32]) -> Result<(), CliError> {
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

/// Converts little-endian file data to native floats (nothing to do on little-endian CPUs).
pub fn from_le(values: &mut [f32]) {
    if cfg!(target_endian = "big") {
        for v in values {
            *v = f32::from_bits(u32::from_le(v.to_bits()));
        }
    }
}

/// Converts native floats to little-endian file data (nothing to do on little-endian CPUs).
pub fn to_le(values: &mut [f32]) {
    if cfg!(target_endian = "big") {
        for v in values {
            *v = f32::from_bits(v.to_bits().to_le());
        }
    }
}
