//! Reading numpy arrays (`.npy`, or one member of an `.npz`) as f64 whatever
//! their float dtype or memory order.
//!
//! ndarray-npy refuses to read a float32 array as f64 (it is an error, not a
//! cast), and feature files come in both; the bytes are read once and parsed
//! as f64 first, then as f32 widened to f64.

use super::error::InputError;
use ndarray::{Array, ArrayD, Dimension};
use ndarray_npy::{ReadNpyError, ReadNpyExt};
use std::path::Path;

/// Parses `.npy` bytes as an f64 array of any rank.
pub fn parse_f64(bytes: &[u8], path: &Path, key: &str) -> Result<ArrayD<f64>, InputError> {
    let bad = |reason: String| InputError::BadArray {
        path: path.to_owned(),
        key: key.to_owned(),
        reason,
    };
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
) -> Result<Array<f64, D>, InputError> {
    let shape = a.shape().to_vec();
    a.into_dimensionality::<D>()
        .map_err(|_| InputError::WrongShape {
            path: path.to_owned(),
            key: key.to_owned(),
            found: shape,
            expected: expected.to_owned(),
        })
}

/// Reads a whole file.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, InputError> {
    std::fs::read(path).map_err(|source| InputError::Io {
        path: path.to_owned(),
        source,
    })
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
pub fn read_features_native(path: &Path) -> Result<Features, InputError> {
    let bytes = read_bytes(path)?;
    let key = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bad = |reason: String| InputError::BadArray {
        path: path.to_owned(),
        key: key.clone(),
        reason,
    };
    let shape_error = |shape: &[usize]| InputError::WrongShape {
        path: path.to_owned(),
        key: key.clone(),
        found: shape.to_vec(),
        expected: "N x D (2 dimensions)".into(),
    };
    match ArrayD::<f32>::read_npy(bytes.as_slice()) {
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
    let array = parse_f64(&bytes, path, &key)?;
    let shape = array.shape().to_vec();
    array
        .into_dimensionality()
        .map(Features::F64)
        .map_err(|_| shape_error(&shape))
}

/// Reads an `N × D` features `.npy` (float32 or float64, C or Fortran order).
pub fn read_features(path: &Path) -> Result<ndarray::Array2<f64>, InputError> {
    let bytes = read_bytes(path)?;
    let key = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let array = parse_f64(&bytes, path, &key)?;
    let features: ndarray::Array2<f64> = with_rank(array, path, &key, "N x D (2 dimensions)")?;
    geneval_metrics::finite::ensure_finite_matrix("features", features.view()).map_err(
        |source| InputError::Invalid {
            path: path.to_owned(),
            source,
        },
    )?;
    Ok(features)
}
/// Writes a float32 matrix as `.npy` (what numpy's `np.save` writes for
/// float32), atomically.
pub fn write_matrix_f32(path: &Path, rows: &ndarray::Array2<f32>) -> Result<(), InputError> {
    use ndarray_npy::WriteNpyExt;
    crate::fs::write_atomically(path, |file| {
        rows.write_npy(file).map_err(|e| InputError::Write {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    })
}
