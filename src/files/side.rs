//! What one side of a comparison (`geneval fid A B`) is, decided by the path.
//!
//! A folder or an `@list.txt` is images ([`is_images`]: they go through the
//! extraction stage); `.npz` is statistics (pytorch-fid's or geneval's
//! partial ones); `.npy` is an `N × D` feature matrix. This is the one place
//! that decides it.

use super::error::FileError;
use super::npy::{read_features_native, Features};
use super::npz::{read_statistics, StatisticsFile};
use crate::fs::read::ReadError;
use geneval_metrics::Gaussian;
use std::path::Path;

/// A loaded side of a Fréchet-distance comparison.
#[derive(Debug, Clone)]
pub enum FidSide {
    /// Statistics; `count` is known for partial statistics only.
    Statistics {
        /// The Gaussian.
        gaussian: Gaussian,
        /// Number of samples, when the file records it.
        count: Option<u64>,
    },
    /// Raw features, one row per sample.
    Features(Features),
}

impl FidSide {
    /// Feature dimension.
    pub fn dim(&self) -> usize {
        match self {
            Self::Statistics { gaussian, .. } => gaussian.dim(),
            Self::Features(f) => f.dim().1,
        }
    }

    /// Number of samples, when known.
    pub fn count(&self) -> Option<u64> {
        match self {
            Self::Statistics { count, .. } => *count,
            Self::Features(f) => Some(f.dim().0 as u64),
        }
    }

    /// Short name of the input kind for records.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Statistics { count: None, .. } => "statistics",
            Self::Statistics { .. } => "partial-statistics",
            Self::Features(_) => "features",
        }
    }
}

/// Whether a command-line side names images (a folder, `@list.txt`, tar
/// shards or a uint8 pixel array) rather than a statistics or features file.
pub fn is_images(side: &Path) -> bool {
    crate::images::discover::list_file_path(side).is_some()
        || side.is_dir()
        || crate::images::archive::is_archive_side(side)
}

/// The kind of file a path names, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.npz`
    Statistics,
    /// `.npy`
    Features,
}

/// Classifies a path by extension (case-insensitive).
pub fn file_kind(path: &Path) -> Result<FileKind, FileError> {
    if !path.exists() {
        return Err(ReadError::MissingPath {
            path: path.to_owned(),
        }
        .into());
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("npz") => Ok(FileKind::Statistics),
        Some("npy") => Ok(FileKind::Features),
        _ => Err(FileError::Unsupported {
            path: path.to_owned(),
            reason: "unknown file type (expected an image folder, @list.txt, .npz statistics or .npy features)".into(),
        }),
    }
}

/// Loads one side of `geneval fid`.
pub fn load_fid_side(path: &Path) -> Result<FidSide, FileError> {
    match file_kind(path)? {
        FileKind::Statistics => {
            let file = read_statistics(path)?;
            let count = match &file {
                StatisticsFile::Partial(moments, _) => Some(moments.count()),
                StatisticsFile::Gaussian(_) => None,
            };
            Ok(FidSide::Statistics {
                gaussian: file.gaussian(path)?,
                count,
            })
        }
        FileKind::Features => Ok(FidSide::Features(read_features_native(path)?)),
    }
}
