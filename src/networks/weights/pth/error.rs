//! `PthError`: why a `.pth` file could not be read (or written). Every variant
//! names the file, and its [`Hint`](crate::diagnostics::Hint) says what to do.

use std::path::PathBuf;

/// A `.pth` state dict could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PthError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Neither a torch zip archive nor a legacy `torch.save` stream.
    #[error("{path} is not a PyTorch .pth file: {reason}")]
    NotPth {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// A PyTorch file of a kind geneval does not read (legacy tar, TorchScript,
    /// big-endian, another serialization protocol).
    #[error("{path}: unsupported PyTorch file: {reason}")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// Which kind.
        reason: String,
    },
    /// The zip container is unreadable (truncated, damaged).
    #[error("{path}: cannot read the zip archive: {reason}")]
    Zip {
        /// The file.
        path: PathBuf,
        /// The zip reader's complaint.
        reason: String,
    },
    /// The file ends before the data it announces.
    #[error("{path}: the file ends early: {what}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was being read.
        what: String,
    },
    /// A record the pickle or torch's layout needs is missing from the archive.
    #[error("{path}: the archive has no record `{record}`")]
    MissingRecord {
        /// The file.
        path: PathBuf,
        /// The record's name inside the archive.
        record: String,
    },
    /// The pickle is malformed (wrong types, stack underflow, bad lengths).
    #[error("{path}: malformed pickle in {part} at byte {offset}: {reason}")]
    Pickle {
        /// The file.
        path: PathBuf,
        /// Which pickle (`archive/data.pkl`, or a part of the legacy stream).
        part: String,
        /// Byte offset of the offending opcode inside that pickle's stream.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// A pickle opcode outside the subset a state dict needs.
    #[error("{path}: {part} uses the pickle opcode {name} (0x{opcode:02x}) at byte {offset}, which geneval does not execute")]
    UnsupportedOpcode {
        /// The file.
        path: PathBuf,
        /// Which pickle.
        part: String,
        /// Byte offset of the opcode.
        offset: usize,
        /// The opcode byte.
        opcode: u8,
        /// Its name in Python's pickletools (`NEWOBJ`, `INST`, ...).
        name: &'static str,
    },
    /// The pickle imports something a state dict never contains (`os.system`,
    /// a model class, ...). Refused before anything could run.
    #[error("{path}: refusing the pickle global `{global}` in {part}: a state dict never contains it, and geneval never runs code from a .pth file")]
    ForbiddenGlobal {
        /// The file.
        path: PathBuf,
        /// Which pickle.
        part: String,
        /// `module.name`.
        global: String,
    },
    /// The pickled object is not a dict of tensors.
    #[error("{path} does not hold a state dict: {reason}")]
    NotAStateDict {
        /// The file.
        path: PathBuf,
        /// What it holds instead.
        reason: String,
    },
    /// A storage's declared size does not match its data.
    #[error("{path}: storage `{storage}`: {reason}")]
    StorageSize {
        /// The file.
        path: PathBuf,
        /// The storage key.
        storage: String,
        /// What disagrees.
        reason: String,
    },
    /// A tensor's shape, stride and offset reach outside its storage.
    #[error("{path}: tensor `{tensor}` reads outside its storage: {reason}")]
    OutOfBounds {
        /// The file.
        path: PathBuf,
        /// The tensor's name in the state dict.
        tensor: String,
        /// Which index and how large the storage is.
        reason: String,
    },
    /// A tensor geneval cannot turn into float32 values (conjugate view, ...).
    #[error("{path}: tensor `{tensor}`: {reason}")]
    UnsupportedTensor {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// Why.
        reason: String,
    },
    /// A safety limit against hostile files was reached.
    #[error("{path}: {what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// The file.
        path: PathBuf,
        /// What grew too large.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// Writing a `.pth` file failed.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file (or archive name).
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl PthError {
    /// What the user can do about it.
    pub(crate) fn hint_text(&self) -> String {
        const RESAVE: &str =
            "load it with torch and re-save the weights alone: torch.save(model.state_dict(), \"weights.pth\")";
        const DAMAGED: &str =
            "the file is damaged or incomplete (interrupted download?): download or copy it again";
        match self {
            PthError::Io { .. } => "check that the file exists and is readable".into(),
            PthError::NotPth { .. } => format!(
                "expected a file written by torch.save (a zip archive, or the legacy stream of torch < 1.6); check the path, or {RESAVE}"
            ),
            PthError::UnsupportedFormat { .. } => RESAVE.into(),
            PthError::Zip { .. }
            | PthError::Truncated { .. }
            | PthError::MissingRecord { .. }
            | PthError::StorageSize { .. } => DAMAGED.into(),
            PthError::Pickle { .. } => {
                format!("{DAMAGED}; if it is intact, it is not a plain state dict: {RESAVE}")
            }
            PthError::UnsupportedOpcode { .. } => format!(
                "geneval reads the pickle subset torch.save writes for a state dict (protocols 2-5 without custom classes); {RESAVE}"
            ),
            PthError::ForbiddenGlobal { .. } => format!(
                "geneval accepts only what a state dict pickles (collections.OrderedDict, torch._utils._rebuild_tensor*, torch.*Storage); if this is a whole pickled model or an untrusted file, do not torch.load it with weights_only=False; from a trusted copy, {RESAVE}"
            ),
            PthError::NotAStateDict { .. } => {
                "expected a dict of tensor name -> tensor (model.state_dict()); from a checkpoint dict, save its model entry alone, e.g. torch.save(ckpt[\"state_dict\"], \"weights.pth\")".into()
            }
            PthError::OutOfBounds { .. } => format!(
                "{DAMAGED}; a file torch.save wrote never does this, so if it came from elsewhere, do not trust it"
            ),
            PthError::UnsupportedTensor { .. } => format!(
                "make the tensor a plain dense float tensor before saving (t.resolve_conj().contiguous()), or {RESAVE}"
            ),
            PthError::LimitExceeded { .. } => {
                "a file this large or deep is hostile or corrupt; if it is trusted, raise the limit in geneval::networks::weights::pth::Limits".into()
            }
            PthError::Write { .. } => {
                "check that the folder exists, is writable and has free space".into()
            }
        }
    }
}

impl crate::diagnostics::Hint for PthError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(self.hint_text().into())
    }
}
