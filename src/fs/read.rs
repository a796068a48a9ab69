//! Opening untrusted paths: only regular files (and links to them) are
//! read. A device such as `/dev/zero` never ends, so reading it whole fills
//! memory; opening a FIFO blocks until something writes to it. Both are
//! refused from their metadata, before they are opened.

use std::io::Read;
use std::path::Path;

/// A path that cannot be read as a whole regular file. Image and
/// statistics readers wrap it in their own error types (transparently, so the
/// message is the same everywhere).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A device, FIFO, socket or folder where a file was expected.
    #[error("{path} is {kind}, not a regular file")]
    NotARegularFile {
        /// The path.
        path: std::path::PathBuf,
        /// What it is, in words.
        kind: &'static str,
    },
    /// Nothing at the path.
    #[error("{path} does not exist")]
    MissingPath {
        /// The path.
        path: std::path::PathBuf,
    },
}

impl ReadError {
    /// What the user can do about it, printed after the error as `hint:`.
    pub(crate) fn hint_text(&self) -> &'static str {
        match self {
            Self::Io { .. } => "check that the path exists and is readable",
            Self::NotARegularFile { .. } => {
                "give a regular file (a symbolic link to one is fine); devices, FIFOs and sockets are never read"
            }
            Self::MissingPath { .. } => {
                "give a folder of images, a list file as @list.txt, or a statistics/features file"
            }
        }
    }
}

impl crate::diagnostics::Hint for ReadError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(self.hint_text().into())
    }
}

/// Reads a whole regular file.
///
/// Anything else is refused before it is opened: `/dev/zero` (or a link to
/// it named `x.npy`) never ends, and opening a FIFO blocks until something
/// writes to it.
pub fn read_regular(path: &Path) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    ensure_regular_file(path)?;
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).unwrap_or(usize::MAX))
        .map_err(|_| ReadError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::OutOfMemory,
                format!("no memory for its {len} bytes"),
            ),
        })?;
    // A file that grows while it is read is read as long as it was.
    file.take(len).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// Reads a whole regular file of at most `limit` bytes (`None`: as large as
/// memory allows), for the files other modules read whole: gate configs,
/// model spec sidecars, `tokenizer.json`, `config.json`, text corpora.
///
/// Devices and FIFOs are refused before they are opened, as by
/// [`read_regular`]. The error is a plain `io::Error` whose message says what
/// the path is ("it is a FIFO (named pipe), not a regular file") or how large
/// it is, so that each module wraps it in its own error type beside the path
/// and its own hint. The size is checked from the metadata, before any
/// memory is reserved, and again on the opened file (it may have been
/// replaced in between); a file that grows while it is read is read as long
/// as it was.
pub fn read_regular_limited(path: &Path, limit: Option<u64>) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind};
    let check = |meta: &std::fs::Metadata| -> std::io::Result<u64> {
        if let Some(kind) = special_file_kind(meta) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("it is {kind}, not a regular file; only regular files are read"),
            ));
        }
        let len = meta.len();
        match limit {
            Some(limit) if len > limit => Err(Error::new(
                ErrorKind::InvalidData,
                format!(
                    "it is {len} bytes, over the limit of {limit} bytes ({} MiB) for such a file",
                    limit >> 20
                ),
            )),
            _ => Ok(len),
        }
    };
    check(&std::fs::metadata(path)?)?;
    let file = std::fs::File::open(path)?;
    let len = check(&file.metadata()?)?;
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).unwrap_or(usize::MAX))
        .map_err(|_| {
            Error::new(
                ErrorKind::OutOfMemory,
                format!("no memory for its {len} bytes"),
            )
        })?;
    file.take(len).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Refuses anything but a regular file (symbolic links are followed), naming
/// what it is.
pub fn ensure_regular_file(path: &Path) -> Result<(), ReadError> {
    let meta = std::fs::metadata(path).map_err(|source| ReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    match special_file_kind(&meta) {
        None => Ok(()),
        Some(kind) => Err(ReadError::NotARegularFile {
            path: path.to_owned(),
            kind,
        }),
    }
}

/// What a non-regular file is, in words; `None` for a regular file.
pub fn special_file_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let file_type = meta.file_type();
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some("a device");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_regular_limited_refuses_devices_folders_and_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.json");
        std::fs::write(&small, b"{}").unwrap();
        assert_eq!(read_regular_limited(&small, Some(2)).unwrap(), b"{}");
        assert_eq!(read_regular_limited(&small, None).unwrap(), b"{}");
        let err = read_regular_limited(&small, Some(1)).unwrap_err();
        assert!(
            err.to_string().contains("2 bytes, over the limit of 1"),
            "{err}"
        );
        let err = read_regular_limited(dir.path(), None).unwrap_err();
        assert!(
            err.to_string().contains("a folder, not a regular file"),
            "{err}"
        );
        #[cfg(unix)]
        {
            let zero = dir.path().join("zero.json");
            std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
            let err = read_regular_limited(&zero, None).unwrap_err();
            assert!(
                err.to_string().contains("a device, not a regular file"),
                "{err}"
            );
        }
    }
}
