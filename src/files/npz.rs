//! Statistics files: pytorch-fid's `.npz` (`mu`, `sigma`) and geneval's own
//! partial statistics (`count`, `mean`, `comoment`, metadata) that `merge`
//! combines exactly.
//!
//! Reading accepts what pytorch-fid, clean-fid and TTUR write: compressed or
//! not, float32 or float64, C or Fortran order, extra keys ignored. Writing
//! produces `np.savez` files (float64) that those tools read back.

use super::error::FileError;
use super::npy::{ensure_not_empty, parse_f64, with_rank};
use crate::fs::write_atomically;
use crate::fs::WriteError;
use geneval_metrics::{Gaussian, Moments};
use ndarray::{arr0, Array1, Array2, Ix0, Ix1, Ix2};
use ndarray_npy::{NpzWriter, ReadNpyExt};
use serde::{Deserialize, Serialize};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

/// The array holding a partial-statistics file's metadata (UTF-8 JSON bytes).
pub const PARTIAL_METADATA_KEY: &str = "geneval_partial";

/// The largest feature dimension whose statistics geneval reads: 8× the
/// 2048 of pytorch-fid's Inception, 16× DINOv2 ViT-L's 1024. One FID at this
/// size already needs ~10 GiB and half an hour of eigendecomposition; a
/// header declaring more is corrupt or hostile.
pub const MAX_STATISTICS_DIM: u64 = 16_384;

/// The most bytes one array of a statistics `.npz` may declare: a float64
/// `sigma` of [`MAX_STATISTICS_DIM`]² (2 GiB). Checked on the member's
/// header, before anything is reserved or decompressed.
pub const MAX_ARRAY_BYTES: u64 = MAX_STATISTICS_DIM * MAX_STATISTICS_DIM * 8;

/// The most bytes of a partial file's metadata (a short JSON object).
pub const MAX_METADATA_BYTES: u64 = 1 << 16;

/// The largest sample count a statistics file may hold: counts are stored
/// as float64, which holds every whole number up to 2^53 exactly, and
/// merging checks its sums against the same bound.
pub const MAX_COUNT: f64 = geneval_metrics::moments::MAX_COUNT as f64;

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
    /// The preprocessing mode, when the features came from images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Which part of a side's image list this is (`--shard K/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardMetadata>,
}

/// A shard's place in its side: written by `stats --partial --shard K/N`,
/// checked by `merge` (every index once, one list, one network).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardMetadata {
    /// K, from 0.
    pub index: usize,
    /// N.
    pub count: usize,
    /// Images in the whole list.
    pub list_images: u64,
    /// SHA-256 of the whole list (`images::shard::list_sha256`).
    pub list_sha256: String,
}

impl PartialMetadata {
    /// Metadata of the current format version.
    pub fn new(feature: impl Into<String>, model_id: impl Into<String>) -> Self {
        Self {
            format: "geneval-partial-statistics".into(),
            version: 1,
            feature: feature.into(),
            model_id: model_id.into(),
            mode: None,
            shard: None,
        }
    }
}

/// The `format` of a features shard's sidecar (`features --shard`).
pub const FEATURES_SHARD_FORMAT: &str = "geneval-features-shard";

/// The sidecar that describes a features shard `rows.npy`:
/// `rows.npy.shard.json`.
pub fn shard_sidecar_path(rows: &Path) -> PathBuf {
    let mut name = rows.as_os_str().to_owned();
    name.push(".shard.json");
    PathBuf::from(name)
}

/// Writes the sidecar of the features shard `rows` (atomically).
pub fn write_shard_sidecar(rows: &Path, metadata: &PartialMetadata) -> Result<(), FileError> {
    let path = shard_sidecar_path(rows);
    let json = serde_json::to_vec_pretty(metadata).map_err(|e| write_error(&path, e))?;
    write_atomically(&path, |file| {
        use std::io::Write;
        file.write_all(&json).map_err(|e| write_error(&path, e))
    })
}

/// Reads the sidecar of the features shard `rows`; `None` when there is
/// none (rows not written by `features --shard`).
pub fn read_shard_sidecar(rows: &Path) -> Result<Option<PartialMetadata>, FileError> {
    let path = shard_sidecar_path(rows);
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = crate::fs::read::read_regular(&path)?;
    let metadata: PartialMetadata =
        serde_json::from_slice(&bytes).map_err(|e| FileError::BadArray {
            path: path.clone(),
            key: "shard.json".into(),
            reason: format!("not a features shard description: {e}"),
        })?;
    if metadata.format != FEATURES_SHARD_FORMAT || metadata.shard.is_none() {
        return Err(FileError::BadArray {
            path,
            key: "shard.json".into(),
            reason: format!("format {} without a shard", metadata.format),
        });
    }
    Ok(Some(metadata))
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
    pub fn gaussian(&self, path: &Path) -> Result<Gaussian, FileError> {
        match self {
            Self::Gaussian(g) => Ok(g.clone()),
            Self::Partial(m, _) => m.gaussian().map_err(|source| FileError::Invalid {
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
    fn open(path: &'a Path) -> Result<Self, FileError> {
        let bytes = super::npy::read_bytes(path)?;
        let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| FileError::NotNpz {
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

    /// A member's bytes (an `.npy`), read no further than its header
    /// declares: the zip's own size field is not trusted (it can claim 2^63
    /// bytes), and a deflated member can inflate a thousandfold (a 1 MB file
    /// to 1 GiB), so the array's declared size, checked against `max_data`,
    /// bounds both what is reserved and what is decompressed.
    fn member_bytes(&mut self, key: &str, max_data: u64) -> Result<Vec<u8>, FileError> {
        let path = self.path.to_owned();
        let present = self.names().join(", ");
        let name = if self.zip.index_for_name(key).is_some() {
            key.to_owned()
        } else {
            format!("{key}.npy")
        };
        let file = self.zip.by_name(&name).map_err(|e| match e {
            zip::result::ZipError::FileNotFound => FileError::MissingKey {
                path: path.clone(),
                key: key.to_owned(),
                present,
            },
            other => FileError::NotNpz {
                path: path.clone(),
                reason: other.to_string(),
            },
        })?;
        let bad = |reason: String| FileError::BadArray {
            path: path.clone(),
            key: key.to_owned(),
            reason,
        };
        let unreadable = |e: std::io::Error| {
            bad(format!(
                "cannot decompress ({e}); the file may be truncated"
            ))
        };
        // The most this member can hold: a stored member is as long as its
        // bytes in the archive; deflate expands at most 1032:1.
        let plausible = match file.compression() {
            zip::CompressionMethod::Stored => file.compressed_size(),
            _ => file
                .compressed_size()
                .saturating_mul(1032)
                .saturating_add(1024),
        };
        let mut reader = file;
        // The preamble (12 bytes), then the header it announces.
        let mut bytes = Vec::new();
        (&mut reader)
            .take(12)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        let header_len = super::npy::header_len(&bytes).map_err(&bad)?;
        (&mut reader)
            .take(header_len.saturating_sub(bytes.len()) as u64)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        let header = super::npy::read_header(&bytes).map_err(&bad)?;
        let declared = header.data_bytes();
        if declared.is_none_or(|d| d > max_data) {
            return Err(FileError::OverLimit {
                path: path.clone(),
                key: key.to_owned(),
                shape: header.shape,
                declared,
                limit: max_data,
            });
        }
        let total = (header.data_offset as u64).saturating_add(declared.unwrap_or(0));
        let capacity = total.saturating_add(1).min(plausible.saturating_add(1));
        bytes
            .try_reserve_exact(
                usize::try_from(capacity)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(bytes.len()),
            )
            .map_err(|_| bad(format!("no memory for its {total} bytes")))?;
        // One byte more than declared shows a member that goes on (a bomb).
        reader
            .take((total + 1).saturating_sub(bytes.len() as u64))
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        if bytes.len() as u64 > total {
            return Err(bad(format!(
                "the member holds more than the {total} bytes its header declares (shape {:?} of {})",
                header.shape, header.descr
            )));
        }
        Ok(bytes)
    }

    fn array<D: ndarray::Dimension>(
        &mut self,
        key: &str,
        expected: &str,
    ) -> Result<ndarray::Array<f64, D>, FileError> {
        let bytes = self.member_bytes(key, MAX_ARRAY_BYTES)?;
        let array = parse_f64(&bytes, self.path, key)?;
        with_rank(array, self.path, key, expected)
    }
}

/// Reads a statistics `.npz`: pytorch-fid's `mu`/`sigma`, or a partial file.
pub fn read_statistics(path: &Path) -> Result<StatisticsFile, FileError> {
    let mut archive = Archive::open(path)?;
    let invalid = |source| FileError::Invalid {
        path: path.to_owned(),
        source,
    };
    if archive.has(PARTIAL_METADATA_KEY) {
        let raw = archive.member_bytes(PARTIAL_METADATA_KEY, MAX_METADATA_BYTES)?;
        let bytes = Array1::<u8>::read_npy(raw.as_slice()).map_err(|e| FileError::BadArray {
            path: path.to_owned(),
            key: PARTIAL_METADATA_KEY.into(),
            reason: e.to_string(),
        })?;
        let metadata: PartialMetadata = serde_json::from_slice(bytes.as_slice().unwrap_or(&[]))
            .map_err(|e| FileError::BadArray {
                path: path.to_owned(),
                key: PARTIAL_METADATA_KEY.into(),
                reason: format!("metadata is not valid JSON: {e}"),
            })?;
        if metadata.version != 1 {
            return Err(FileError::Unsupported {
                path: path.to_owned(),
                reason: format!(
                    "partial statistics format version {} is newer than this geneval understands (1)",
                    metadata.version
                ),
            });
        }
        let count = archive.array::<Ix0>("count", "a scalar")?.into_scalar();
        if !(count >= 0.0 && count.fract() == 0.0) {
            return Err(FileError::BadArray {
                path: path.to_owned(),
                key: "count".into(),
                reason: format!("{count} is not a sample count"),
            });
        }
        if count > MAX_COUNT {
            return Err(FileError::BadArray {
                path: path.to_owned(),
                key: "count".into(),
                reason: format!(
                    "{count} samples is over 2^53, the largest count float64 holds exactly"
                ),
            });
        }
        let mean = archive.array::<Ix1>("mean", "D (1 dimension)")?;
        ensure_not_empty(mean.shape(), path, "mean")?;
        let comoment = archive.array::<Ix2>("comoment", "D x D")?;
        let moments = Moments::from_parts(count as u64, mean, comoment).map_err(invalid)?;
        return Ok(StatisticsFile::Partial(moments, metadata));
    }
    let mu = archive.array::<Ix1>("mu", "D (1 dimension)")?;
    ensure_not_empty(mu.shape(), path, "mu")?;
    let sigma: Array2<f64> = archive.array::<Ix2>("sigma", "D x D")?;
    if sigma.dim() != (mu.len(), mu.len()) {
        return Err(FileError::WrongShape {
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

fn write_error(path: &Path, e: impl std::fmt::Display) -> FileError {
    WriteError::new(path, e).into()
}

/// Writes pytorch-fid statistics (`np.savez` with float64 `mu`, `sigma`).
pub fn write_statistics(path: &Path, gaussian: &Gaussian) -> Result<(), FileError> {
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
) -> Result<(), FileError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn npy(array: &Array1<f64>) -> Vec<u8> {
        use ndarray_npy::WriteNpyExt;
        let mut out = Vec::new();
        array.write_npy(&mut out).unwrap();
        out
    }

    fn npy_2d(array: &Array2<f64>) -> Vec<u8> {
        use ndarray_npy::WriteNpyExt;
        let mut out = Vec::new();
        array.write_npy(&mut out).unwrap();
        out
    }

    /// Writes a zip of `(name, bytes, options)` members to `path`.
    fn write_zip(path: &Path, members: &[(&str, &[u8], SimpleFileOptions)]) {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, bytes, options) in members {
            zip.start_file(*name, *options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }

    fn stored() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)
    }

    #[test]
    fn zip_sizes_of_2_pow_40_and_2_pow_63_reserve_nothing() {
        // Was: `Vec::with_capacity(file.size())`: abort on 2^40, a
        // `capacity overflow` panic on 2^63 + 5. The zip64 extra fields of a
        // large-file member hold its uncompressed size; they are rewritten.
        let dir = tempfile::tempdir().unwrap();
        let mu = npy(&Array1::from(vec![1.0, 2.0]));
        let sigma = npy_2d(&Array2::eye(2));
        for declared in [1u64 << 40, (1u64 << 63) + 5] {
            let path = dir.path().join("sizes.npz");
            let large = stored().large_file(true);
            write_zip(
                &path,
                &[("mu.npy", &mu, large), ("sigma.npy", &sigma, large)],
            );
            let mut bytes = std::fs::read(&path).unwrap();
            let mut patched = 0;
            for len in [mu.len(), sigma.len()] {
                // Extra field 0x0001 (zip64): uncompressed size first.
                let mut needle = vec![0x01, 0x00];
                let at: Vec<usize> = bytes
                    .windows(12)
                    .enumerate()
                    .filter(|(_, w)| w[..2] == needle[..] && w[4..12] == (len as u64).to_le_bytes())
                    .map(|(i, _)| i)
                    .collect();
                for i in at {
                    bytes[i + 4..i + 12].copy_from_slice(&declared.to_le_bytes());
                    patched += 1;
                }
                needle.clear();
            }
            assert!(patched >= 2, "no zip64 size field found");
            std::fs::write(&path, &bytes).unwrap();
            match read_statistics(&path) {
                Ok(StatisticsFile::Gaussian(g)) => assert_eq!(g.mu.to_vec(), [1.0, 2.0]),
                Ok(other) => panic!("{other:?}"),
                // The zip reader may refuse the sizes itself: fine, as long
                // as nothing was reserved from them.
                Err(e) => assert!(e.to_string().contains("sizes.npz"), "{e}"),
            }
        }
    }

    #[test]
    fn a_member_inflating_past_its_header_is_cut_off() {
        // Was: inflated whole (1-3 GiB) before ndarray-npy saw the excess.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.npz");
        let mu = npy(&Array1::from(vec![1.0, 2.0]));
        let mut sigma = npy_2d(&Array2::eye(2));
        sigma.resize(sigma.len() + (16 << 20), 0);
        let deflated = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        write_zip(
            &path,
            &[("mu.npy", &mu, stored()), ("sigma.npy", &sigma, deflated)],
        );
        let started = std::time::Instant::now();
        let error = read_statistics(&path).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("more than the 160 bytes its header declares"),
            "{error}"
        );
        assert!(
            started.elapsed().as_secs_f64() < 0.5,
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn members_over_the_statistics_limit_are_refused_from_their_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.npz");
        let mu = npy(&Array1::from(vec![1.0, 2.0]));
        // Only the header of a (200000, 200000) float64 sigma: 320 GB.
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (200000, 200000), }\n";
        let mut sigma = b"\x93NUMPY\x01\x00".to_vec();
        sigma.extend((dict.len() as u16).to_le_bytes());
        sigma.extend(dict.as_bytes());
        write_zip(
            &path,
            &[("mu.npy", &mu, stored()), ("sigma.npy", &sigma, stored())],
        );
        let error = read_statistics(&path).unwrap_err();
        match &error {
            FileError::OverLimit {
                shape,
                declared,
                limit,
                ..
            } => {
                assert_eq!(shape, &[200_000, 200_000]);
                assert_eq!(*declared, Some(320_000_000_000));
                assert_eq!(*limit, MAX_ARRAY_BYTES);
            }
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains("huge.npz"), "{error}");
    }

    /// A partial file whose count is `count` (written as numpy would).
    fn partial_with_count(path: &Path, count: f64) {
        let json = serde_json::to_vec(&PartialMetadata::new("pool3", "m")).unwrap();
        let mut npz = NpzWriter::new(std::fs::File::create(path).unwrap());
        npz.add_array(PARTIAL_METADATA_KEY, &Array1::from(json))
            .unwrap();
        npz.add_array("count", &arr0(count)).unwrap();
        npz.add_array("mean", &Array1::from(vec![1.0, 2.0]))
            .unwrap();
        npz.add_array("comoment", &Array2::<f64>::eye(2)).unwrap();
        npz.finish().unwrap();
    }

    #[test]
    fn counts_over_2_pow_53_are_refused_on_read() {
        // Was: 1e19 and 1e300 were accepted (`as u64` saturates) and
        // overflowed a merge.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part.npz");
        for count in [1e19, 1e300, 9_007_199_254_740_994.0] {
            partial_with_count(&path, count);
            let error = read_statistics(&path).unwrap_err();
            assert!(error.to_string().contains("over 2^53"), "{count}: {error}");
        }
        partial_with_count(&path, 9_007_199_254_740_992.0);
        match read_statistics(&path).unwrap() {
            StatisticsFile::Partial(m, _) => assert_eq!(m.count(), 1 << 53),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn statistics_of_dimension_zero_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.npz");
        write_statistics(
            &path,
            &Gaussian {
                mu: Array1::zeros(0),
                sigma: Array2::zeros((0, 0)),
            },
        )
        .unwrap();
        let error = read_statistics(&path).unwrap_err();
        assert!(matches!(error, FileError::EmptyArray { .. }), "{error:?}");
    }
}
