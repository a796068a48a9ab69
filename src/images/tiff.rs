//! A check of a TIFF's directory before the `tiff` crate reads it.
//!
//! The `tiff` crate checks a tag's declared value size against its decoder
//! limit, but keeps each value in a 32-byte enum: a 266-byte file whose
//! Compression tag declares 5.4 million SHORTs (10.9 MB, under the limit)
//! made it hold 174 MB (found by `scripts/fuzz`, target `image_tiff`), and
//! with the default pixel limit a larger count reaches tens of GB. A tag's
//! values are stored in the file (inline or at an offset), so a tag that
//! declares more bytes than the whole file has cannot be valid: refusing it
//! from the directory, before decoding, bounds what the `tiff` crate
//! reserves by 16 × the file's size.

use std::path::Path;

use super::ImageError;

/// At most this many directories are walked (a chain can loop).
const MAX_DIRECTORIES: usize = 64;

/// Refuses a TIFF whose directory declares tag values larger than the file.
///
/// Anything this check cannot follow (a bad header, an offset past the end,
/// a loop) is left to the decoder, which reports it as a bad image: only
/// sizes are judged here.
pub fn check_declared_sizes(bytes: &[u8], path: &Path) -> Result<(), ImageError> {
    let big_endian = match bytes.get(..2) {
        Some(b"II") => false,
        Some(b"MM") => true,
        _ => return Ok(()),
    };
    let read = |at: u64, len: usize| -> Option<u64> {
        let start = usize::try_from(at).ok()?;
        let slice = bytes.get(start..start.checked_add(len)?)?;
        let mut value = 0u64;
        for i in 0..len {
            let byte = if big_endian {
                slice[i]
            } else {
                slice[len - 1 - i]
            };
            value = (value << 8) | u64::from(byte);
        }
        Some(value)
    };
    // Classic TIFF: 12-byte entries with a u32 count; BigTIFF: 20-byte
    // entries with a u64 count.
    let (mut directory, count_len, entry_len, header_len) = match read(2, 2) {
        Some(42) => (read(4, 4), 4usize, 12u64, 2usize),
        Some(43) => (read(8, 8), 8usize, 20u64, 8usize),
        _ => return Ok(()),
    };
    let file_len = bytes.len() as u64;
    let mut seen = Vec::new();
    while let Some(offset) = directory.filter(|&o| o != 0) {
        if seen.contains(&offset) || seen.len() == MAX_DIRECTORIES {
            break;
        }
        seen.push(offset);
        let Some(entries) = read(offset, header_len) else {
            break;
        };
        let first = offset + header_len as u64;
        for index in 0..entries {
            let entry = first.saturating_add(index.saturating_mul(entry_len));
            let (Some(tag), Some(kind), Some(count)) = (
                read(entry, 2),
                read(entry + 2, 2),
                read(entry + 4, count_len),
            ) else {
                return Ok(());
            };
            let declared = u128::from(count) * u128::from(value_size(kind));
            if declared > u128::from(file_len) {
                return Err(ImageError::BadImage {
                    path: path.to_path_buf(),
                    reason: format!(
                        "TIFF tag {tag} declares {count} values ({declared} bytes), more than the whole file ({file_len} bytes)"
                    ),
                });
            }
        }
        directory = read(
            first.saturating_add(entries.saturating_mul(entry_len)),
            count_len,
        );
    }
    Ok(())
}

/// Bytes per value of a TIFF field type (TIFF 6.0 and BigTIFF); unknown
/// types count as one byte.
fn value_size(kind: u64) -> u64 {
    match kind {
        3 | 8 => 2,                      // SHORT, SSHORT
        4 | 9 | 11 | 13 => 4,            // LONG, SLONG, FLOAT, IFD
        5 | 10 | 12 | 16 | 17 | 18 => 8, // RATIONAL, SRATIONAL, DOUBLE, LONG8, SLONG8, IFD8
        _ => 1,                          // BYTE, ASCII, SBYTE, UNDEFINED, unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian classic TIFF header and one directory holding
    /// `entries` (tag, type, count, value).
    fn classic(entries: &[(u16, u16, u32, u32)]) -> Vec<u8> {
        let mut bytes = b"II".to_vec();
        bytes.extend(42u16.to_le_bytes());
        bytes.extend(8u32.to_le_bytes());
        bytes.extend((entries.len() as u16).to_le_bytes());
        for &(tag, kind, count, value) in entries {
            bytes.extend(tag.to_le_bytes());
            bytes.extend(kind.to_le_bytes());
            bytes.extend(count.to_le_bytes());
            bytes.extend(value.to_le_bytes());
        }
        bytes.extend(0u32.to_le_bytes());
        bytes
    }

    #[test]
    fn a_tag_declaring_more_values_than_the_file_holds_is_refused() {
        // Compression (259) as 5.4 million SHORTs: the fuzz finding.
        let bytes = classic(&[(256, 3, 1, 4), (259, 3, 5_450_000, 0)]);
        let err = check_declared_sizes(&bytes, Path::new("x.tif")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("x.tif"), "{message}");
        assert!(message.contains("TIFF tag 259"), "{message}");
    }

    #[test]
    fn ordinary_directories_and_what_cannot_be_followed_pass_to_the_decoder() {
        let ok = classic(&[(256, 3, 1, 4), (257, 3, 1, 4), (273, 4, 1, 8)]);
        check_declared_sizes(&ok, Path::new("x.tif")).unwrap();
        // Big-endian, a directory offset past the end, a looping chain.
        let mut big = b"MM".to_vec();
        big.extend(42u16.to_be_bytes());
        big.extend(1000u32.to_be_bytes());
        check_declared_sizes(&big, Path::new("x.tif")).unwrap();
        let mut looping = classic(&[(256, 3, 1, 4)]);
        let next = looping.len() - 4;
        looping[next..].copy_from_slice(&8u32.to_le_bytes());
        check_declared_sizes(&looping, Path::new("x.tif")).unwrap();
        check_declared_sizes(b"II", Path::new("x.tif")).unwrap();
    }

    #[test]
    fn bigtiff_counts_are_checked_too() {
        let mut bytes = b"II".to_vec();
        bytes.extend(43u16.to_le_bytes());
        bytes.extend(8u16.to_le_bytes());
        bytes.extend(0u16.to_le_bytes());
        bytes.extend(16u64.to_le_bytes());
        bytes.extend(1u64.to_le_bytes());
        bytes.extend(259u16.to_le_bytes());
        bytes.extend(16u16.to_le_bytes()); // LONG8
        bytes.extend((1u64 << 40).to_le_bytes());
        bytes.extend(0u64.to_le_bytes());
        bytes.extend(0u64.to_le_bytes());
        assert!(check_declared_sizes(&bytes, Path::new("x.tif")).is_err());
    }
}
