//! Errors of reading and writing feature (`.npy`) and statistics (`.npz`)
//! files, each naming the file and what to do about it.

use std::path::PathBuf;

use crate::fs::read::ReadError;

/// File errors; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file or folder could not be read as a regular file.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The file could not be written (the previous one is kept).
    #[error(transparent)]
    Write(#[from] crate::fs::WriteError),
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
    /// An array's header declares more data than the file (or `.npz` member)
    /// holds: refused before memory is reserved for it.
    #[error(
        "{path}: array '{key}' declares shape {shape:?} of {descr} ({}), but only {present} bytes follow its header",
        match declared { Some(n) => format!("{n} bytes"), None => "more than 2^64 bytes".to_owned() }
    )]
    DeclaredTooLarge {
        /// The file.
        path: PathBuf,
        /// The array's name (the file name for a plain `.npy`).
        key: String,
        /// The shape the header declares.
        shape: Vec<usize>,
        /// The dtype descriptor (`<f8`).
        descr: String,
        /// Bytes the shape needs (`None`: over 2^64).
        declared: Option<u64>,
        /// Bytes present after the header.
        present: u64,
    },
    /// An array of a statistics file is larger than geneval accepts.
    #[error(
        "{path}: array '{key}' declares shape {shape:?} ({}), over the limit of {limit} bytes for one array of a statistics file",
        match declared { Some(n) => format!("{n} bytes"), None => "more than 2^64 bytes".to_owned() }
    )]
    OverLimit {
        /// The file.
        path: PathBuf,
        /// The array's name.
        key: String,
        /// The shape the header declares.
        shape: Vec<usize>,
        /// Bytes the shape needs (`None`: over 2^64).
        declared: Option<u64>,
        /// The limit in force.
        limit: u64,
    },
    /// A features (or logits) matrix with no rows or no columns.
    #[error("{path}: array '{key}' has shape {shape:?}, which holds no values")]
    EmptyArray {
        /// The file.
        path: PathBuf,
        /// The array's name.
        key: String,
        /// The shape found.
        shape: Vec<usize>,
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
}

impl FileError {
    /// What the user can do about it, printed after the error as `hint:`.
    pub(crate) fn hint_text(&self) -> Option<&'static str> {
        match self {
            Self::Read(e) => Some(e.hint_text()),
            Self::Write(e) => Some(e.hint_text()),
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
            Self::DeclaredTooLarge { .. } => Some(
                "the file is truncated, or its header was not written by numpy; regenerate it (np.save / np.savez)",
            ),
            Self::OverLimit { .. } => Some(
                "statistics of up to 16384 dimensions are accepted (a 2 GiB float64 sigma); a larger header is corrupt or hostile",
            ),
            Self::EmptyArray { .. } => Some(
                "features are N x D with at least one sample (N) and one dimension (D); regenerate the file",
            ),
            Self::Invalid { .. } => Some("recompute the file from valid features"),
            Self::Unsupported { .. } => {
                Some("give a statistics .npz (mu, sigma), a partial-statistics .npz or a features .npy")
            }
        }
    }
}

impl crate::diagnostics::Hint for FileError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        self.hint_text().map(Into::into)
    }
}
