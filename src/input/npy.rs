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
