//! Hugging Face `.safetensors` files into a [`StateDict`], through the
//! `safetensors` crate (the format's reference implementation): an 8-byte
//! header length, a JSON header of names, dtypes, shapes and byte ranges
//! (validated by the crate: ranges in order, inside the file, no overlap),
//! then the raw little-endian data. Nothing in the file is executed, so,
//! unlike `.pth`, no restricted reader is needed.
//!
//! Float tensors (F32, F16, BF16) become float32 exactly; others (the int64
//! `position_ids` buffer of older CLIP files) are listed as skipped. `keep`
//! chooses the keys that are converted, so a whole CLIP file's text tower
//! is never widened.

use std::path::{Path, PathBuf};

use ::safetensors::{Dtype, SafeTensors};

use super::pth::tensor::f16_to_f32;
use super::{StateDict, TensorF32};

/// Why a `.safetensors` file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SafetensorsError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The reason.
        source: std::io::Error,
    },
    /// The header or the byte ranges are not a valid safetensors file.
    #[error("{path}: not a valid .safetensors file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The crate's message.
        reason: String,
    },
}

impl crate::diagnostics::Hint for SafetensorsError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(match self {
            SafetensorsError::Io { .. } => "check the path and its permissions".into(),
            SafetensorsError::Invalid { .. } => {
                "the file is truncated or not safetensors; download it again".into()
            }
        })
    }
}

/// What was read: the kept float tensors, and the kept keys that were not
/// floats (name, dtype).
#[derive(Debug, Default)]
pub struct SafetensorsContents {
    /// Float tensors as float32.
    pub tensors: StateDict,
    /// Kept keys of other dtypes, not converted.
    pub skipped: Vec<(String, String)>,
}

/// Reads the tensors of `path` whose names `keep` accepts.
pub fn read_safetensors(
    path: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<SafetensorsContents, SafetensorsError> {
    let bytes = crate::fs::read::read_regular(path).map_err(|e| SafetensorsError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    read_safetensors_bytes(&bytes, path, keep)
}

/// [`read_safetensors`] from bytes in memory; `path` is named in errors.
pub fn read_safetensors_bytes(
    bytes: &[u8],
    path: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<SafetensorsContents, SafetensorsError> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| SafetensorsError::Invalid {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let mut contents = SafetensorsContents::default();
    for (name, view) in file.iter() {
        if !keep(name) {
            continue;
        }
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16))
                .collect(),
            other => {
                contents
                    .skipped
                    .push((name.to_owned(), format!("{other:?}")));
                continue;
            }
        };
        let tensor = TensorF32::new(view.shape().to_vec(), values).ok_or_else(|| {
            SafetensorsError::Invalid {
                path: path.to_owned(),
                reason: format!("{name}: its bytes do not fill its shape"),
            }
        })?;
        contents.tensors.insert(name.to_owned(), tensor);
    }
    Ok(contents)
}

/// Writes `dict` (float32) and `extra` int64 tensors as a `.safetensors`
/// file: the test fixtures' stand-in for a Hugging Face checkpoint.
pub fn write_safetensors(
    dict: &StateDict,
    extra_i64: &[(&str, Vec<usize>, Vec<i64>)],
    path: &Path,
) -> Result<(), SafetensorsError> {
    let invalid = |reason: String| SafetensorsError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = dict
        .iter()
        .map(|(k, t)| {
            let bytes = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (k.clone(), Dtype::F32, t.shape.clone(), bytes)
        })
        .collect();
    for (name, shape, values) in extra_i64 {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        owned.push(((*name).to_owned(), Dtype::I64, shape.clone(), bytes));
    }
    let views = owned
        .iter()
        .map(|(k, dtype, shape, bytes)| {
            ::safetensors::tensor::TensorView::new(*dtype, shape.clone(), bytes)
                .map(|view| (k.clone(), view))
                .map_err(|e| invalid(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = ::safetensors::serialize(views, None).map_err(|e| invalid(e.to_string()))?;
    crate::fs::write_bytes_atomically(path, &bytes).map_err(|e| SafetensorsError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_and_other_dtypes_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let mut dict = StateDict::new();
        dict.insert(
            "a.weight".into(),
            TensorF32::new(vec![2, 3], vec![1.0, -2.5, 3.25, 0.0, 1e-8, f32::MAX]).unwrap(),
        );
        dict.insert("text.x".into(), TensorF32::new(vec![], vec![4.0]).unwrap());
        write_safetensors(&dict, &[("ids", vec![1, 3], vec![0, 1, 2])], &path).unwrap();
        let read = read_safetensors(&path, |k| !k.starts_with("text.")).unwrap();
        assert_eq!(read.tensors.len(), 1);
        assert_eq!(read.tensors["a.weight"], dict["a.weight"]);
        assert_eq!(read.skipped, [("ids".to_owned(), "I64".to_owned())]);
    }

    #[test]
    fn a_truncated_file_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let mut dict = StateDict::new();
        dict.insert("w".into(), TensorF32::new(vec![4], vec![1.0; 4]).unwrap());
        write_safetensors(&dict, &[], &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = read_safetensors(&path, |_| true).unwrap_err();
        assert!(err.to_string().contains("m.safetensors"), "{err}");
        std::fs::write(&path, b"\xff\xff\xff\xff\xff\xff\xff\xffjunk").unwrap();
        assert!(read_safetensors(&path, |_| true).is_err());
    }
}
