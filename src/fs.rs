//! Atomic output: every file geneval writes appears whole or not at all.
//!
//! The content goes to a temporary file in the destination's folder, is
//! flushed and synced, then renamed over the destination, so an interrupted
//! run never leaves a half-written statistics file that a later `fid` or
//! `merge` would misread.

use crate::input::error::InputError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `path` atomically with `write`, which gets a buffered file.
pub fn write_atomically<F>(path: &Path, write: F) -> Result<(), InputError>
where
    F: FnOnce(&mut BufWriter<&mut File>) -> Result<(), InputError>,
{
    let fail = |reason: String| InputError::Write {
        path: path.to_owned(),
        reason,
    };
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
    Ok(())
}

/// Writes bytes atomically.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), InputError> {
    write_atomically(path, |w| {
        w.write_all(bytes).map_err(|e| InputError::Write {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    })
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
        let err = write_atomically(&path, |_| {
            Err(InputError::Write {
                path: path.clone(),
                reason: "simulated".into(),
            })
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_folder_is_a_clear_error() {
        let err =
            write_bytes_atomically(Path::new("/nonexistent-geneval/x.npz"), b"x").unwrap_err();
        assert!(err.to_string().contains("/nonexistent-geneval"), "{err}");
    }
}
