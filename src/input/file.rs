//! Opening untrusted paths: only regular files (and links to them) are
//! read. A device such as `/dev/zero` never ends, so reading it whole fills
//! memory; opening a FIFO blocks until something writes to it. Both are
//! refused from their metadata, before they are opened.

use std::io::Read;
use std::path::Path;

use super::InputError;

/// Reads a whole regular file.
///
/// Anything else is refused before it is opened: `/dev/zero` (or a link to
/// it named `x.npy`) never ends, and opening a FIFO blocks until something
/// writes to it.
pub fn read_regular(path: &Path) -> Result<Vec<u8>, InputError> {
    let io = |source| InputError::Io {
        path: path.to_owned(),
        source,
    };
    ensure_regular_file(path)?;
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).unwrap_or(usize::MAX))
        .map_err(|_| InputError::Io {
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

/// Refuses anything but a regular file (symbolic links are followed), naming
/// what it is.
pub fn ensure_regular_file(path: &Path) -> Result<(), InputError> {
    let meta = std::fs::metadata(path).map_err(|source| InputError::Io {
        path: path.to_owned(),
        source,
    })?;
    match special_file_kind(&meta) {
        None => Ok(()),
        Some(kind) => Err(InputError::NotARegularFile {
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
