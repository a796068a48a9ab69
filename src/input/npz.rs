//! Statistics files: pytorch-fid's `.npz` (`mu`, `sigma`) and geneval's own
//! partial statistics (`count`, `mean`, `comoment`, metadata) that `merge`
//! combines exactly.
//!
//! Reading accepts what pytorch-fid, clean-fid and TTUR write: compressed or
//! not, float32 or float64, C or Fortran order, extra keys ignored. Writing
//! produces `np.savez` files (float64) that those tools read back.

use super::error::InputError;
use super::npy::{parse_f64, with_rank};
use crate::fs::write_atomically;
use geneval_metrics::{Gaussian, Moments};
use ndarray::{arr0, Array1, Array2, Ix0, Ix1, Ix2};
use ndarray_npy::{NpzWriter, ReadNpyExt};
use serde::{Deserialize, Serialize};
use std::io::{Cursor, Read};
use std::path::Path;

/// The array holding a partial-statistics file's metadata (UTF-8 JSON bytes).
pub const PARTIAL_METADATA_KEY: &str = "geneval_partial";

/// What a partial-statistics file says about how it was made, so that only
/// compatible parts are merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialMetadata {
    /// Always `geneval-partial-statistics`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// Which features (e.g. `pool3`, or the features file's name).
    pub feature: String,
    /// Which model made the features (`unknown` when given as features).
    pub model_id: String,
}

impl PartialMetadata {
    /// Metadata of the current format version.
    pub fn new(feature: impl Into<String>, model_id: impl Into<String>) -> Self {
        Self {
            format: "geneval-partial-statistics".into(),
            version: 1,
            feature: feature.into(),
            model_id: model_id.into(),
        }
    }
}

/// The content of a statistics `.npz`.
#[derive(Debug, Clone)]
pub enum StatisticsFile {
    /// Final statistics (pytorch-fid format); the sample count is unknown.
    Gaussian(Gaussian),
    /// geneval's mergeable partial statistics.
    Partial(Moments, PartialMetadata),
}

impl StatisticsFile {
    /// The Gaussian of the statistics (a partial file needs 2 samples).
    pub fn gaussian(&self, path: &Path) -> Result<Gaussian, InputError> {
        match self {
            Self::Gaussian(g) => Ok(g.clone()),
            Self::Partial(m, _) => m.gaussian().map_err(|source| InputError::Invalid {
                path: path.to_owned(),
                source,
            }),
        }
    }
}

struct Archive<'a> {
    path: &'a Path,
    zip: zip::ZipArchive<Cursor<Vec<u8>>>,
}

impl<'a> Archive<'a> {
    fn open(path: &'a Path) -> Result<Self, InputError> {
        let bytes = super::npy::read_bytes(path)?;
        let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| InputError::NotNpz {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self { path, zip })
    }

    fn names(&self) -> Vec<String> {
        self.zip
            .file_names()
            .map(|n| n.strip_suffix(".npy").unwrap_or(n).to_owned())
            .collect()
    }

    fn has(&self, key: &str) -> bool {
        self.names().iter().any(|n| n == key)
    }

    fn member_bytes(&mut self, key: &str) -> Result<Vec<u8>, InputError> {
        let path = self.path.to_owned();
        let present = self.names().join(", ");
        let name = if self.zip.index_for_name(key).is_some() {
            key.to_owned()
        } else {
            format!("{key}.npy")
        };
        let mut file = self.zip.by_name(&name).map_err(|e| match e {
            zip::result::ZipError::FileNotFound => InputError::MissingKey {
                path: path.clone(),
                key: key.to_owned(),
                present,
            },
            other => InputError::NotNpz {
                path: path.clone(),
                reason: other.to_string(),
            },
        })?;
        let mut bytes = Vec::with_capacity(file.size() as usize);
        file.read_to_end(&mut bytes)
            .map_err(|e| InputError::BadArray {
                path,
                key: key.to_owned(),
                reason: format!("cannot decompress ({e}); the file may be truncated"),
            })?;
        Ok(bytes)
    }

    fn array<D: ndarray::Dimension>(
        &mut self,
        key: &str,
        expected: &str,
    ) -> Result<ndarray::Array<f64, D>, InputError> {
        let bytes = self.member_bytes(key)?;
        let array = parse_f64(&bytes, self.path, key)?;
        with_rank(array, self.path, key, expected)
    }
}

/// Reads a statistics `.npz`: pytorch-fid's `mu`/`sigma`, or a partial file.
pub fn read_statistics(path: &Path) -> Result<StatisticsFile, InputError> {
    let mut archive = Archive::open(path)?;
    let invalid = |source| InputError::Invalid {
        path: path.to_owned(),
        source,
    };
    if archive.has(PARTIAL_METADATA_KEY) {
        let raw = archive.member_bytes(PARTIAL_METADATA_KEY)?;
        let bytes = Array1::<u8>::read_npy(raw.as_slice()).map_err(|e| InputError::BadArray {
            path: path.to_owned(),
            key: PARTIAL_METADATA_KEY.into(),
            reason: e.to_string(),
        })?;
        let metadata: PartialMetadata = serde_json::from_slice(bytes.as_slice().unwrap_or(&[]))
            .map_err(|e| InputError::BadArray {
                path: path.to_owned(),
                key: PARTIAL_METADATA_KEY.into(),
                reason: format!("metadata is not valid JSON: {e}"),
            })?;
        if metadata.version != 1 {
            return Err(InputError::Unsupported {
                path: path.to_owned(),
                reason: format!(
                    "partial statistics format version {} is newer than this geneval understands (1)",
                    metadata.version
                ),
            });
        }
        let count = archive.array::<Ix0>("count", "a scalar")?.into_scalar();
        if !(count >= 0.0 && count.fract() == 0.0) {
            return Err(InputError::BadArray {
                path: path.to_owned(),
                key: "count".into(),
                reason: format!("{count} is not a sample count"),
            });
        }
        let mean = archive.array::<Ix1>("mean", "D (1 dimension)")?;
        let comoment = archive.array::<Ix2>("comoment", "D x D")?;
        let moments = Moments::from_parts(count as u64, mean, comoment).map_err(invalid)?;
        return Ok(StatisticsFile::Partial(moments, metadata));
    }
    let mu = archive.array::<Ix1>("mu", "D (1 dimension)")?;
    let sigma: Array2<f64> = archive.array::<Ix2>("sigma", "D x D")?;
    if sigma.dim() != (mu.len(), mu.len()) {
        return Err(InputError::WrongShape {
            path: path.to_owned(),
            key: "sigma".into(),
            found: sigma.shape().to_vec(),
            expected: format!("{0} x {0} to match mu of length {0}", mu.len()),
        });
    }
    Gaussian::new(mu, sigma)
        .map(StatisticsFile::Gaussian)
        .map_err(invalid)
}

fn write_error(path: &Path, e: impl std::fmt::Display) -> InputError {
    InputError::Write {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// Writes pytorch-fid statistics (`np.savez` with float64 `mu`, `sigma`).
pub fn write_statistics(path: &Path, gaussian: &Gaussian) -> Result<(), InputError> {
    write_atomically(path, |file| {
        let mut npz = NpzWriter::new(file);
        npz.add_array("mu", &gaussian.mu)
            .map_err(|e| write_error(path, e))?;
        npz.add_array("sigma", &gaussian.sigma)
            .map_err(|e| write_error(path, e))?;
        npz.finish().map_err(|e| write_error(path, e))?;
        Ok(())
    })
}

/// Writes geneval's partial statistics, mergeable with `geneval merge`.
pub fn write_partial(
    path: &Path,
    moments: &Moments,
    metadata: &PartialMetadata,
) -> Result<(), InputError> {
    let json = serde_json::to_vec(metadata).map_err(|e| write_error(path, e))?;
    write_atomically(path, |file| {
        let mut npz = NpzWriter::new(file);
        npz.add_array(PARTIAL_METADATA_KEY, &Array1::from(json))
            .map_err(|e| write_error(path, e))?;
        npz.add_array("count", &arr0(moments.count() as f64))
            .map_err(|e| write_error(path, e))?;
        npz.add_array("mean", &moments.mean())
            .map_err(|e| write_error(path, e))?;
        npz.add_array("comoment", &moments.comoment())
            .map_err(|e| write_error(path, e))?;
        npz.finish().map_err(|e| write_error(path, e))?;
        Ok(())
    })
}
