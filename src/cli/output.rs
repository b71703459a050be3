//! Writing a file all or nothing: a temporary file beside the destination, renamed over it only
//! on success, deleted on failure, on drop and on Ctrl-C.

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

/// Where OUTPUT really goes: the file a symbolic link points to when it exists (as `cp` writes
/// through links), else `OUTPUT` in its canonical directory.
pub fn resolve(output: &Path) -> Result<PathBuf, CliError> {
    match fs::canonicalize(output) {
        Ok(path) => {
            if path.is_dir() {
                return Err(CliError::input(format!("OUTPUT `{}` is a directory", output.display())));
            }
            Ok(path)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let name = output
                .file_name()
                .ok_or_else(|| CliError::input(format!("OUTPUT `{}` is not a file name", output.display())))?;
            let parent = match output.parent() {
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
        Err(e) => Err(CliError::input(format!(
            "cannot write OUTPUT `{}`: {e}",
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
