//! Where OUTPUT goes ([`destination`]) and writing a regular file all or nothing
//! ([`AtomicOutput`]): a temporary file beside the destination, renamed over it only on success,
//! deleted on failure, on drop and on Ctrl-C. Standard output, pipes and devices are never
//! replaced: they are written as streams.

use super::CliError;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tempfile::NamedTempFile;

/// Temporary files not yet renamed or deleted. The interrupt handler deletes these; holding the
/// lock while renaming or deleting means a signal sees each file either pending or gone.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Deletes every unfinished output. Called by the interrupt handler, which then exits while
/// still holding the lock so no rename can follow.
pub fn remove_pending() {
    let list = pending();
    for path in list.iter() {
        let _ = fs::remove_file(path);
    }
    // Keep the lock until the process exits.
    std::mem::forget(list);
}

/// Where OUTPUT goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Standard output: `-`, or a path naming it (`/dev/stdout`, `/dev/fd/1`,
    /// `/proc/self/fd/1`). Written as a stream, through the process's own handle.
    Stdout,
    /// An existing file that is not a regular file (a FIFO, a character device such as
    /// `/dev/null`, a socket): opened and written as a stream, never replaced.
    Stream(PathBuf),
    /// A regular file, existing or new, at the end of any symbolic links (which stay): written
    /// all or nothing through a temporary file beside it.
    File(PathBuf),
}

impl Destination {
    /// Whether the result is written as it is computed, so a failure part-way leaves part of
    /// it written (there is no file to replace atomically).
    pub fn is_stream(&self) -> bool {
        !matches!(self, Destination::File(_))
    }

    /// Runs `write` on this destination's writer and name: a temporary file committed over the
    /// file only once `write` succeeds, standard output, or the stream opened for writing.
    pub fn write_with(
        &self,
        write: impl FnOnce(&mut dyn io::Write, &str) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        match self {
            Destination::File(path) => {
                let mut out = AtomicOutput::create(path)?;
                let name = out.path().display().to_string();
                write(out.file(), &name)?;
                out.commit()
            }
            Destination::Stdout => write(&mut io::stdout().lock(), "standard output"),
            Destination::Stream(path) => {
                let name = path.display().to_string();
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| CliError::failure(format!("cannot open OUTPUT `{name}` for writing: {e}")))?;
                write(&mut file, &name)
            }
        }
    }
}

/// The paths that name this process's standard output.
fn is_stdout_alias(path: &Path) -> bool {
    [
        Path::new("/dev/stdout"),
        Path::new("/dev/fd/1"),
        Path::new("/proc/self/fd/1"),
    ]
    .contains(&path)
}

/// How many symbolic links are followed before giving up (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Where OUTPUT really goes (see [`Destination`]). A symbolic link, even a dangling one, is
/// written through to the file it names, as `cp` writes through links; a directory is an error.
pub fn destination(output: &Path) -> Result<Destination, CliError> {
    let shown = output.display();
    if output.as_os_str() == "-" {
        return Ok(Destination::Stdout);
    }
    let mut path = output.to_path_buf();
    for _ in 0..MAX_LINKS {
        if is_stdout_alias(&path) {
            return Ok(Destination::Stdout);
        }
        // Through every link, as opening the path would go.
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                return Err(CliError::input(format!("OUTPUT `{shown}` is a directory")));
            }
            // Opened by its original name: the kernel follows links such as /proc/self/fd/N,
            // whose text is not a path.
            Ok(meta) if !meta.is_file() => return Ok(Destination::Stream(output.to_path_buf())),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(CliError::input(format!("cannot write OUTPUT `{shown}`: {e}"))),
        }
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&path)
                    .map_err(|e| CliError::input(format!("cannot read the link OUTPUT `{shown}`: {e}")))?;
                path = match path.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                };
            }
            // A regular file, or nothing yet: the temporary file goes in its directory.
            _ => return file_in_canonical_dir(output, &path).map(Destination::File),
        }
    }
    Err(CliError::input(format!(
        "cannot write OUTPUT `{shown}`: more than {MAX_LINKS} symbolic links to follow"
    )))
}

/// `path` with its directory made canonical (the temporary file must be created there).
fn file_in_canonical_dir(output: &Path, path: &Path) -> Result<PathBuf, CliError> {
    let name = path
        .file_name()
        .ok_or_else(|| CliError::input(format!("OUTPUT `{}` is not a file name", output.display())))?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = fs::canonicalize(parent).map_err(|e| {
        CliError::input(format!(
            "cannot write OUTPUT `{}`: its directory `{}`: {e}",
            output.display(),
            parent.display()
        ))
    })?;
    Ok(dir.join(name))
}

/// Where a file that must be a regular file goes (`actkern plot --output`): like
/// [`destination`], but standard output and other streams are refused.
pub fn resolve(output: &Path) -> Result<PathBuf, CliError> {
    match destination(output)? {
        Destination::File(path) => Ok(path),
        _ => Err(CliError::input(format!(
            "--output `{}` is not a regular file; name an image file",
            output.display()
        ))),
    }
}

/// A temporary file that becomes `dest` on [`AtomicOutput::commit`] and disappears otherwise.
pub struct AtomicOutput {
    tmp: Option<NamedTempFile>,
    dest: PathBuf,
}

impl AtomicOutput {
    /// Creates a hidden temporary file in the directory of `dest` (a path from [`resolve`]).
    /// When `dest` exists, the temporary file gets its permissions.
    pub fn create(dest: &Path) -> Result<AtomicOutput, CliError> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".actkern-tmp");
        #[cfg(unix)]
        {
            // Like any new file: 0666 less the umask (tempfile's default is 0600).
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o666));
        }
        // Register under the lock, so an interrupt between creating and registering cannot
        // miss the file.
        let mut list = pending();
        let tmp = builder
            .tempfile_in(dir)
            .map_err(|e| CliError::input(format!("cannot create a temporary file in `{}`: {e}", dir.display())))?;
        list.push(tmp.path().to_path_buf());
        drop(list);
        let out = AtomicOutput {
            tmp: Some(tmp),
            dest: dest.to_path_buf(),
        };
        if let Ok(meta) = fs::metadata(dest) {
            fs::set_permissions(out.path(), meta.permissions()).map_err(|e| {
                CliError::failure(format!("cannot set the permissions of `{}`: {e}", out.path().display()))
            })?;
        }
        Ok(out)
    }

    /// The temporary file's path.
    pub fn path(&self) -> &Path {
        self.tmp.as_ref().map_or(Path::new(""), |t| t.path())
    }

    /// The temporary file, to write to.
    pub fn file(&mut self) -> &mut File {
        self.tmp
            .as_mut()
            .expect("the temporary file exists until commit or drop")
            .as_file_mut()
    }

    /// Renames the temporary file over the destination.
    pub fn commit(mut self) -> Result<(), CliError> {
        let tmp = self.tmp.take().expect("commit is called once");
        let mut list = pending();
        let tmp_path = tmp.path().to_path_buf();
        list.retain(|p| *p != tmp_path);
        // On failure the returned NamedTempFile is dropped here, still under the lock,
        // which deletes it.
        tmp.persist(&self.dest).map_err(|e| {
            CliError::failure(format!(
                "cannot rename the temporary file to `{}`: {}",
                self.dest.display(),
                e.error
            ))
        })?;
        Ok(())
    }
}

impl Drop for AtomicOutput {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let mut list = pending();
            list.retain(|p| p != tmp.path());
            drop(tmp); // deletes the file, under the lock
        }
    }
}
