//! Reading numpy arrays (`.npy`, or one member of an `.npz`) as f64 whatever
//! their float dtype or memory order.
//!
//! ndarray-npy refuses to read a float32 array as f64 (it is an error, not a
//! cast), and feature files come in both; the bytes are read once and parsed
//! as f64 first, then as f32 widened to f64.
//!
//! The header is untrusted: ndarray-npy reserves `shape × itemsize` bytes as
//! soon as it has read it, so a 128-byte file declaring `(2**40, 2)` would
//! abort the process. [`check_declared_size`] compares what the header
//! declares with the bytes that follow it before ndarray-npy sees the file.

use super::error::FileError;
use crate::fs::WriteError;
use ndarray::{Array, ArrayD, Dimension};
use ndarray_npy::{ReadNpyError, ReadNpyExt};
use std::path::Path;

/// numpy's own cap on the header's dictionary (`numpy.lib.format`'s
/// `_MAX_HEADER_SIZE`: `np.load` refuses longer headers since numpy 1.24),
/// so that a length field of 4 GiB is refused before it is read.
pub const MAX_HEADER_BYTES: usize = 10_000;

/// What an `.npy` header declares, read before any memory is reserved for
/// the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// The declared shape.
    pub shape: Vec<usize>,
    /// The dtype descriptor as written (`<f8`, `|u1`, or a Python literal).
    pub descr: String,
    /// Bytes per element for plain numeric descriptors (`<f8` → 8); `None`
    /// for the others, which ndarray-npy refuses before it allocates.
    pub item_size: Option<u64>,
    /// Where the data starts: magic, version, length field and dictionary.
    pub data_offset: usize,
    /// Whether the data is in Fortran (column-major) order.
    pub fortran_order: bool,
}

impl NpyHeader {
    /// Bytes the data must have: elements × item size; `None` when that
    /// overflows u64 (or the item size is unknown).
    pub fn data_bytes(&self) -> Option<u64> {
        let elements = self
            .shape
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n as u64))?;
        elements.checked_mul(self.item_size?)
    }
}

/// Bytes in front of the header's dictionary: magic (6), version (2) and a
/// length field of 2 (version 1) or 4 bytes (versions 2 and 3).
fn preamble_len(bytes: &[u8]) -> Result<(usize, usize), String> {
    const MAGIC: &[u8] = b"\x93NUMPY";
    if !bytes.starts_with(MAGIC) && !MAGIC.starts_with(bytes) {
        return Err("not an .npy array (no \\x93NUMPY magic string at its start)".into());
    }
    if bytes.len() < 10 {
        return Err("the header is cut short".into());
    }
    match bytes[6] {
        1 => Ok((10, usize::from(u16::from_le_bytes([bytes[8], bytes[9]])))),
        2 | 3 if bytes.len() >= 12 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            Ok((12, usize::try_from(len).unwrap_or(usize::MAX)))
        }
        2 | 3 => Err("the header is cut short".into()),
        major => Err(format!(
            ".npy format version {major} is not one numpy writes"
        )),
    }
}

/// Parses the header at the start of `bytes`, which may be only a prefix of
/// the file (at least [`header_len`] bytes).
pub fn read_header(bytes: &[u8]) -> Result<NpyHeader, String> {
    let data_offset = header_len(bytes)?;
    let Some(mut header_bytes) = bytes.get(..data_offset) else {
        return Err("the header is cut short".into());
    };
    let header = ndarray_npy::npy::header::Header::from_reader(&mut header_bytes)
        .map_err(|e| format!("unreadable .npy header ({e})"))?;
    let descr = header.type_descriptor.to_string();
    let plain = descr.trim_matches('\'');
    Ok(NpyHeader {
        shape: header.shape,
        item_size: plain_item_size(plain),
        descr: plain.to_owned(),
        data_offset,
        fortran_order: header.layout == ndarray_npy::npy::header::Layout::Fortran,
    })
}

/// The header's total length (where the data starts), from its first 12
/// bytes; refuses a dictionary longer than [`MAX_HEADER_BYTES`].
pub fn header_len(bytes: &[u8]) -> Result<usize, String> {
    let (preamble, dict) = preamble_len(bytes)?;
    if dict > MAX_HEADER_BYTES {
        return Err(format!(
            "its header declares a {dict}-byte dictionary; numpy refuses headers over {MAX_HEADER_BYTES} bytes"
        ));
    }
    Ok(preamble + dict)
}

/// `<f8` → 8, `|u1` → 1, `<c16` → 16: the numeric kinds whose descriptor
/// ends in the item size. Others (strings, datetimes, records) → `None`.
fn plain_item_size(descr: &str) -> Option<u64> {
    let rest = descr.strip_prefix(['<', '>', '|', '=']).unwrap_or(descr);
    let mut chars = rest.chars();
    if !matches!(chars.next(), Some('f' | 'i' | 'u' | 'b' | 'c')) {
        return None;
    }
    chars.as_str().parse().ok()
}

/// Refuses an array whose header declares more data than `bytes` holds
/// after it: checked before ndarray-npy reserves memory from the header.
pub fn check_declared_size(bytes: &[u8], path: &Path, key: &str) -> Result<NpyHeader, FileError> {
    let header = read_header(bytes).map_err(|reason| FileError::BadArray {
        path: path.to_owned(),
        key: key.to_owned(),
        reason,
    })?;
    let present = (bytes.len() - header.data_offset) as u64;
    // Unknown item sizes are left to ndarray-npy: it refuses their dtype
    // before it allocates anything.
    let declared = header.data_bytes();
    if header.item_size.is_some() && declared.is_none_or(|d| d > present) {
        return Err(FileError::DeclaredTooLarge {
            path: path.to_owned(),
            key: key.to_owned(),
            shape: header.shape,
            descr: header.descr,
            declared,
            present,
        });
    }
    Ok(header)
}

/// Parses `.npy` bytes as an f64 array of any rank.
pub fn parse_f64(bytes: &[u8], path: &Path, key: &str) -> Result<ArrayD<f64>, FileError> {
    let bad = |reason: String| FileError::BadArray {
        path: path.to_owned(),
        key: key.to_owned(),
        reason,
    };
    check_declared_size(bytes, path, key)?;
    match ArrayD::<f64>::read_npy(bytes) {
        Ok(a) => Ok(a),
        Err(ReadNpyError::WrongDescriptor(_)) => match ArrayD::<f32>::read_npy(bytes) {
            Ok(a) => Ok(a.mapv(f64::from)),
            Err(ReadNpyError::WrongDescriptor(descr)) => {
                Err(bad(format!("dtype {descr} is not float32 or float64")))
            }
            Err(e) => Err(bad(describe(e))),
        },
        Err(e) => Err(bad(describe(e))),
    }
}

fn describe(e: ReadNpyError) -> String {
    match e {
        ReadNpyError::MissingData => {
            "the data is shorter than its header says (truncated file?)".into()
        }
        ReadNpyError::ParseHeader(h) => {
            format!("unreadable .npy header ({h}); written by an unsupported numpy version?")
        }
        other => other.to_string(),
    }
}

/// Converts to a fixed rank, or says which shape was expected.
pub fn with_rank<D: Dimension>(
    a: ArrayD<f64>,
    path: &Path,
    key: &str,
    expected: &str,
) -> Result<Array<f64, D>, FileError> {
    let shape = a.shape().to_vec();
    a.into_dimensionality::<D>()
        .map_err(|_| FileError::WrongShape {
            path: path.to_owned(),
            key: key.to_owned(),
            found: shape,
            expected: expected.to_owned(),
        })
}

/// Reads a whole regular file (see [`crate::fs::read::read_regular`]).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, FileError> {
    Ok(crate::fs::read::read_regular(path)?)
}

/// A feature matrix in the float type it was stored in.
///
/// Statistics are computed straight from float32 rows (widened block by
/// block), so a 50,000 × 2048 float32 file never needs an 800 MB float64 copy.
#[derive(Debug, Clone)]
pub enum Features {
    /// Stored as float32.
    F32(ndarray::Array2<f32>),
    /// Stored as float64.
    F64(ndarray::Array2<f64>),
}

impl Features {
    /// `(rows, dimension)`.
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Self::F32(a) => a.dim(),
            Self::F64(a) => a.dim(),
        }
    }

    /// Streaming moments of the rows (checks every value is finite).
    pub fn moments(&self) -> Result<geneval_metrics::Moments, geneval_metrics::MetricsError> {
        match self {
            Self::F32(a) => geneval_metrics::Moments::from_features(a.view()),
            Self::F64(a) => geneval_metrics::Moments::from_features(a.view()),
        }
    }

    /// The rows as float64.
    pub fn to_f64(&self) -> ndarray::Array2<f64> {
        match self {
            Self::F32(a) => a.mapv(f64::from),
            Self::F64(a) => a.clone(),
        }
    }
}

/// Reads an `N × D` features `.npy` keeping its float type; values are not
/// checked here (the statistics check them as they stream).
pub fn read_features_native(path: &Path) -> Result<Features, FileError> {
    parse_features_native(&read_bytes(path)?, path)
}

/// [`read_features_native`] on bytes already read from `path` (named in
/// errors), so a caller that also hashes the file reads it once.
pub fn parse_features_native(bytes: &[u8], path: &Path) -> Result<Features, FileError> {
    let key = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bad = |reason: String| FileError::BadArray {
        path: path.to_owned(),
        key: key.clone(),
        reason,
    };
    let shape_error = |shape: &[usize]| FileError::WrongShape {
        path: path.to_owned(),
        key: key.clone(),
        found: shape.to_vec(),
        expected: "N x D (2 dimensions)".into(),
    };
    let header = check_declared_size(bytes, path, &key)?;
    if header.shape.len() != 2 {
        return Err(shape_error(&header.shape));
    }
    ensure_not_empty(&header.shape, path, &key)?;
    match ArrayD::<f32>::read_npy(bytes) {
        Ok(a) => {
            let shape = a.shape().to_vec();
            return a
                .into_dimensionality()
                .map(Features::F32)
                .map_err(|_| shape_error(&shape));
        }
        Err(ReadNpyError::WrongDescriptor(_)) => {}
        Err(e) => return Err(bad(describe(e))),
    }
    let array = parse_f64(bytes, path, &key)?;
    let shape = array.shape().to_vec();
    array
        .into_dimensionality()
        .map(Features::F64)
        .map_err(|_| shape_error(&shape))
}

/// Refuses an `N × D` matrix without rows or without columns: with D = 0
/// every distance is 0, so `fid` would print `FID: 0` for a file that holds
/// no features at all.
pub fn ensure_not_empty(shape: &[usize], path: &Path, key: &str) -> Result<(), FileError> {
    if shape.contains(&0) {
        return Err(FileError::EmptyArray {
            path: path.to_owned(),
            key: key.to_owned(),
            shape: shape.to_vec(),
        });
    }
    Ok(())
}

/// Reads an `N × D` features `.npy` (float32 or float64, C or Fortran order).
pub fn read_features(path: &Path) -> Result<ndarray::Array2<f64>, FileError> {
    let bytes = read_bytes(path)?;
    let key = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let array = parse_f64(&bytes, path, &key)?;
    let features: ndarray::Array2<f64> = with_rank(array, path, &key, "N x D (2 dimensions)")?;
    ensure_not_empty(features.shape(), path, &key)?;
    geneval_metrics::finite::ensure_finite_matrix("features", features.view()).map_err(
        |source| FileError::Invalid {
            path: path.to_owned(),
            source,
        },
    )?;
    Ok(features)
}
/// Writes a float32 matrix as `.npy` (what numpy's `np.save` writes for
/// float32), atomically.
pub fn write_matrix_f32(path: &Path, rows: &ndarray::Array2<f32>) -> Result<(), FileError> {
    use ndarray_npy::WriteNpyExt;
    crate::fs::write_atomically(path, |file| {
        rows.write_npy(file)
            .map_err(|e| FileError::from(WriteError::new(path, e)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::read::ReadError;

    /// A version-1.0 header for `descr` and `shape` (a Python tuple).
    fn header(descr: &str, shape: &str) -> Vec<u8> {
        let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n");
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((dict.len() as u16).to_le_bytes());
        out.extend(dict.as_bytes());
        out
    }

    #[test]
    fn huge_declared_shapes_are_refused_before_ndarray_npy_allocates() {
        // Was: abort with `memory allocation of 8192000000000 bytes failed`.
        let path = Path::new("huge.npy");
        for (descr, shape, declared) in [
            ("<f4", "(1000000000, 2048)", Some(8_192_000_000_000)),
            ("<f8", "(1099511627776, 2)", Some(17_592_186_044_416)),
            ("<f8", "(4294967296, 4294967296)", None),
        ] {
            let mut bytes = header(descr, shape);
            bytes.extend([0u8; 24]);
            let error = parse_f64(&bytes, path, "huge.npy").unwrap_err();
            match &error {
                FileError::DeclaredTooLarge {
                    declared: d,
                    present,
                    ..
                } => assert_eq!((*d, *present), (declared, 24), "{shape}"),
                other => panic!("{shape}: {other:?}"),
            }
            let message = error.to_string();
            assert!(
                message.contains("huge.npy") && message.contains("24 bytes"),
                "{message}"
            );
        }
        // The exact size still reads; one byte short is refused.
        let mut bytes = header("<f8", "(2, 3)");
        bytes.extend([0u8; 48]);
        assert_eq!(parse_f64(&bytes, path, "k").unwrap().shape(), [2, 3]);
        let error = parse_f64(&bytes[..bytes.len() - 1], path, "k").unwrap_err();
        assert!(
            matches!(error, FileError::DeclaredTooLarge { present: 47, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn header_lengths_over_numpys_cap_are_refused_unread() {
        // Version 2.0: a 4-byte length field announcing 4 GiB of header.
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend(u32::MAX.to_le_bytes());
        bytes.extend(b"{'descr': '<f8'");
        let error = read_header(&bytes).unwrap_err();
        assert!(
            error.contains("numpy refuses headers over 10000 bytes"),
            "{error}"
        );
        assert!(read_header(b"\x93NUM").unwrap_err().contains("cut short"));
        assert!(read_header(b"PK\x03\x04 not npy")
            .unwrap_err()
            .contains("magic"));
        assert!(read_header(b"\x93NUMPY\x07\x00\x10\x00")
            .unwrap_err()
            .contains("version 7"));
    }

    #[test]
    fn nesting_within_the_header_cap_is_an_error_not_a_stack_overflow() {
        // The cap bounds nesting too: at most ~5000 levels fit in 10000 bytes.
        let depth = (MAX_HEADER_BYTES - 80) / 2;
        let shape = format!("{}{}", "(".repeat(depth), ")".repeat(depth));
        let bytes = header("<f8", &shape);
        assert!(bytes.len() - 10 <= MAX_HEADER_BYTES);
        let error = read_header(&bytes).unwrap_err();
        assert!(error.contains("unreadable .npy header"), "{error}");
    }

    #[test]
    fn item_sizes_of_plain_descriptors() {
        for (descr, size) in [
            ("<f8", Some(8)),
            ("<f4", Some(4)),
            ("|u1", Some(1)),
            (">c16", Some(16)),
            ("|b1", Some(1)),
        ] {
            assert_eq!(plain_item_size(descr), size, "{descr}");
        }
        for descr in ["<U10", "|S5", "<M8[ns]", "[('a', '<f8')]", "|O"] {
            assert_eq!(plain_item_size(descr), None, "{descr}");
        }
        let parsed = read_header(&header("<f4", "(3, 5)")).unwrap();
        assert_eq!(
            (parsed.shape.as_slice(), parsed.descr.as_str()),
            (&[3, 5][..], "<f4")
        );
        assert_eq!(parsed.data_bytes(), Some(60));
    }

    #[test]
    fn features_with_zero_rows_or_columns_are_refused() {
        // Was: a (10, 0) file gave `FID: 0` and exit 0.
        let dir = tempfile::tempdir().unwrap();
        for shape in [(10, 0), (0, 5)] {
            let path = dir.path().join(format!("{}x{}.npy", shape.0, shape.1));
            ndarray_npy::write_npy(&path, &ndarray::Array2::<f32>::zeros(shape)).unwrap();
            let error = read_features_native(&path).unwrap_err();
            assert!(matches!(error, FileError::EmptyArray { .. }), "{error:?}");
            assert!(error.to_string().contains("holds no values"), "{error}");
            let error = read_features(&path).unwrap_err();
            assert!(matches!(error, FileError::EmptyArray { .. }), "{error:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_without_being_opened() {
        let dir = tempfile::tempdir().unwrap();
        let zero = dir.path().join("zero.npy");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let error = read_bytes(&zero).unwrap_err();
        assert!(
            matches!(
                error,
                FileError::Read(ReadError::NotARegularFile {
                    kind: "a device",
                    ..
                })
            ),
            "{error:?}"
        );
        let fifo = dir.path().join("fifo.npy");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        // Opening it would block this test forever.
        let error = read_bytes(&fifo).unwrap_err();
        assert!(error.to_string().contains("FIFO"), "{error}");
        assert!(error.hint_text().is_some());
    }
}
