//! Errors of reading and writing geneval's inputs and outputs, each naming
//! the file and what to do about it.

use std::path::PathBuf;

/// Why an input file could not be used (or an output not written).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An `.npz` file is not a readable zip archive (truncated, or another format).
    #[error("{path} is not a readable .npz archive ({reason})")]
    NotNpz {
        /// The file.
        path: PathBuf,
        /// The zip reader's complaint.
        reason: String,
    },
    /// A required array is missing from an `.npz` file.
    #[error("{path} has no array named '{key}' (it has: {present})")]
    MissingKey {
        /// The file.
        path: PathBuf,
        /// The missing array's name.
        key: String,
        /// The arrays the file does have.
        present: String,
    },
    /// An array could not be parsed (bad header, unsupported dtype, short data).
    #[error("{path}: array '{key}' cannot be read: {reason}")]
    BadArray {
        /// The file.
        path: PathBuf,
        /// The array's name (the file name for a plain `.npy`).
        key: String,
        /// What went wrong.
        reason: String,
    },
    /// An array has the wrong number of dimensions or the wrong shape.
    #[error("{path}: array '{key}' has shape {found:?}, expected {expected}")]
    WrongShape {
        /// The file.
        path: PathBuf,
        /// The array's name.
        key: String,
        /// The shape found.
        found: Vec<usize>,
        /// The shape expected, in words.
        expected: String,
    },
    /// The content is well-formed but its values are unusable.
    #[error("{path}: {source}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The statistics core's reason (NaN, too few samples, ...).
        source: geneval_metrics::MetricsError,
    },
    /// The file's kind is not one geneval reads here.
    #[error("{path}: {reason}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// An output could not be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl InputError {
    /// What the user can do about it, printed after the error as `hint:`.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Io { .. } => Some("check that the path exists and is readable"),
            Self::NotNpz { .. } => Some(
                "the file may be truncated or not an .npz; regenerate it (np.savez, pytorch-fid --save-stats or geneval stats)",
            ),
            Self::MissingKey { .. } => Some(
                "statistics files need 'mu' and 'sigma' (pytorch-fid format) or geneval's partial-statistics arrays",
            ),
            Self::BadArray { .. } => {
                Some("arrays must be float32 or float64 .npy data written by numpy (np.save / np.savez)")
            }
            Self::WrongShape { .. } => {
                Some("features are N x D (one row per sample); statistics are mu (D) and sigma (D x D)")
            }
            Self::Invalid { .. } => Some("recompute the file from valid features"),
            Self::Unsupported { .. } => {
                Some("give a statistics .npz (mu, sigma), a partial-statistics .npz or a features .npy")
            }
            Self::Write { .. } => Some("check that the output folder exists and is writable"),
        }
    }
}
