//! Atomic output: every file geneval writes appears whole or not at all.
//!
//! The content goes to a temporary file in the destination's folder, is
//! flushed and synced, then renamed over the destination, so an interrupted
//! run never leaves a half-written statistics file that a later `fid` or
//! `merge` would misread. The folder is synced after the rename as well:
//! without that, a power loss can forget the rename (the directory entry)
//! even though the file's bytes were on disk.
//!
//! [`same_file`] is how commands refuse to write over one of their own
//! inputs (`report r.json -o r.json`, `--record` naming an input).
//! [`read`] is the other direction: reading untrusted paths whole, regular
//! files only.

pub mod read;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// An output that could not be written; the previous file, if any, is
/// still there.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {reason}")]
pub struct WriteError {
    /// The output.
    pub path: std::path::PathBuf,
    /// Why.
    pub reason: String,
}

impl WriteError {
    /// A write error for `path`.
    pub fn new(path: &Path, reason: impl ToString) -> Self {
        WriteError {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// What the user can do about it, printed after the error as `hint:`.
    pub(crate) fn hint_text(&self) -> &'static str {
        "check that the output folder exists and is writable"
    }
}

impl crate::diagnostics::Hint for WriteError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(self.hint_text().into())
    }
}

/// Writes `path` atomically with `write`, which gets a buffered file. Its
/// error type is the caller's, so a writer can fail with its own errors.
pub fn write_atomically<F, E>(path: &Path, write: F) -> Result<(), E>
where
    F: FnOnce(&mut BufWriter<&mut File>) -> Result<(), E>,
    E: From<WriteError>,
{
    let fail = |reason: String| E::from(WriteError::new(path, reason));
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".geneval-")
        .suffix(".tmp")
        .tempfile_in(folder)
        .map_err(|e| {
            fail(format!(
                "cannot create a temporary file in {}: {e}",
                folder.display()
            ))
        })?;
    {
        let mut writer = BufWriter::new(temp.as_file_mut());
        write(&mut writer)?;
        writer.flush().map_err(|e| fail(e.to_string()))?;
    }
    // A temporary file is created private (0600); the output gets the mode
    // of the file it replaces, or the usual 0644 for a new one.
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions())
        .unwrap_or_else(|_| std::os::unix::fs::PermissionsExt::from_mode(0o644));
    std::fs::set_permissions(temp.path(), mode).map_err(|e| fail(e.to_string()))?;
    temp.as_file().sync_all().map_err(|e| fail(e.to_string()))?;
    temp.persist(path).map_err(|e| fail(e.error.to_string()))?;
    sync_folder(folder).map_err(|e| {
        fail(format!(
            "written, but syncing its folder {} failed: {e}",
            folder.display()
        ))
    })?;
    Ok(())
}

/// Syncs a folder so that a rename or a new file in it survives a power
/// loss. Filesystems and folders that cannot be opened or synced this way
/// (`EINVAL`/`ENOTSUP` on some network and FUSE filesystems, a folder we
/// may write but not read) are not an error: there is nothing more we can
/// do there, and the file itself is already synced.
pub fn sync_folder(folder: &Path) -> std::io::Result<()> {
    let Ok(dir) = File::open(folder) else {
        return Ok(());
    };
    match dir.sync_all() {
        Ok(()) => Ok(()),
        Err(e) if unsupported(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Errors meaning "this folder cannot be synced", not "the data was
/// lost": `EINVAL` (InvalidInput) and `ENOTSUP` (Unsupported), and `EBADF`
/// that some systems give for a folder opened read-only.
fn unsupported(e: &std::io::Error) -> bool {
    const EBADF: i32 = 9;
    matches!(
        e.kind(),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
    ) || e.raw_os_error() == Some(EBADF)
}

/// Whether `a` and `b` name the same file: the same device and inode when
/// both exist (which also sees through symbolic links, hard links and
/// `./`/`../` spellings), else the same path once the existing part of
/// each is canonicalised (an output that does not exist yet).
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(ma), Ok(mb)) => ma.dev() == mb.dev() && ma.ino() == mb.ino(),
        (Err(_), Err(_)) => match (resolved(a), resolved(b)) {
            (Some(ra), Some(rb)) => ra == rb,
            _ => false,
        },
        // One exists and the other does not: different files.
        _ => false,
    }
}

/// `path` made absolute with its folder canonicalised (the file itself
/// may not exist yet); `None` when the folder does not exist either.
fn resolved(path: &Path) -> Option<std::path::PathBuf> {
    let name = path.file_name()?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(folder).ok()?.join(name))
}

/// Writes bytes atomically.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomically(path, |w| {
        w.write_all(bytes).map_err(|e| WriteError::new(path, e))
    })
}

/// SHA-256 of a file's bytes, hex, read in 1 MiB pieces (model files are
/// gigabytes): the one hash behind records' inputs, cache entries and model
/// manifests.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(crate::networks::download::hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_bytes_atomically(&path, b"hello").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn outputs_are_readable_like_normal_files_and_keep_an_existing_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.bin");
        write_bytes_atomically(&path, b"x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_bytes_atomically(&path, b"y").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn failed_write_keeps_previous_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, b"old").unwrap();
        let err = write_atomically(&path, |_| Err(WriteError::new(&path, "simulated")));
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn folder_sync_is_done_and_tolerates_filesystems_without_it() {
        let dir = tempfile::tempdir().unwrap();
        sync_folder(dir.path()).unwrap();
        // procfs cannot sync a folder (EINVAL): not an error.
        sync_folder(Path::new("/proc/self")).unwrap();
        // Nor is a folder that does not exist or cannot be opened.
        sync_folder(Path::new("/nonexistent-geneval")).unwrap();
        // And the atomic write still lands in a synced folder.
        let path = dir.path().join("out.txt");
        write_bytes_atomically(&path, b"synced").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"synced");
    }

    #[test]
    fn same_file_sees_through_links_spellings_and_missing_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.npy");
        std::fs::write(&a, b"a").unwrap();
        let hard = dir.path().join("hard.npy");
        std::fs::hard_link(&a, &hard).unwrap();
        let soft = dir.path().join("soft.npy");
        std::os::unix::fs::symlink(&a, &soft).unwrap();
        let dotted = dir.path().join(".").join("sub").join("..").join("a.npy");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for other in [&a, &hard, &soft, &dotted] {
            assert!(same_file(&a, other), "{}", other.display());
        }
        let b = dir.path().join("b.npy");
        std::fs::write(&b, b"a").unwrap();
        assert!(!same_file(&a, &b));
        // Outputs that do not exist yet: compared by resolved path.
        let new = dir.path().join("new.jsonl");
        assert!(same_file(&new, &dir.path().join("sub/../new.jsonl")));
        assert!(!same_file(&new, &dir.path().join("other.jsonl")));
        assert!(!same_file(&new, &a));
    }

    #[test]
    fn missing_folder_is_a_clear_error() {
        let err =
            write_bytes_atomically(Path::new("/nonexistent-geneval/x.npz"), b"x").unwrap_err();
        assert!(err.to_string().contains("/nonexistent-geneval"), "{err}");
    }
}
