//! `BackendError`: why a model could not be opened, checked or run. Every
//! variant names the model file, and its [`Hint`](crate::diagnostics::Hint) says what to do.

use std::path::PathBuf;

use super::runtime::{RuntimeError, INSTALL_COMMAND};

/// A feature model could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// No ONNX Runtime library.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The model file does not exist.
    #[error("model file {path} does not exist")]
    ModelMissing {
        /// The path given.
        path: PathBuf,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// ONNX Runtime refused the model.
    #[error("ONNX Runtime cannot load the model {path}: {message}")]
    ModelLoad {
        /// The model.
        path: PathBuf,
        /// ONNX Runtime's message.
        message: String,
    },
    /// A model spec sidecar does not parse.
    #[error("model spec {path} is not valid: {message}")]
    Spec {
        /// The sidecar.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The model does not have the inputs/outputs its spec says.
    #[error("model {model} does not match its spec: {message}")]
    SpecMismatch {
        /// The model.
        model: PathBuf,
        /// What differs.
        message: String,
    },
    /// Running a batch failed.
    #[error("running the model {model} failed: {message}")]
    Run {
        /// The model.
        model: PathBuf,
        /// ONNX Runtime's message.
        message: String,
    },
    /// An output has a shape the spec cannot turn into one vector per image.
    #[error("model {model}: output `{output}` has shape {shape:?}: {message}")]
    OutputShape {
        /// The model.
        model: PathBuf,
        /// The output.
        output: String,
        /// Its shape.
        shape: Vec<i64>,
        /// Why it does not fit.
        message: String,
    },
    /// The requested device cannot be used.
    #[error("cannot run on {device}: {reason}")]
    Device {
        /// The device asked for.
        device: String,
        /// Why not.
        reason: String,
    },
    /// A command-line value is out of range.
    #[error("{0}")]
    InvalidArgument(String),
}

impl BackendError {
    /// What the user can do about it.
    pub(crate) fn hint_text(&self) -> String {
        match self {
            BackendError::Runtime(e) => e.hint_text(),
            BackendError::ModelMissing { .. } => {
                "check the path, or use --model builtin (geneval's own network, no download)".into()
            }
            BackendError::Io { .. } => "check that the file exists and is readable".into(),
            BackendError::ModelLoad { .. } => {
                "the file is not an ONNX model ONNX Runtime can run (truncated download? exported with a newer opset?); re-export it, or use --model builtin".into()
            }
            BackendError::Spec { .. } => {
                "fields: input, layout (NCHW|NHWC), width, height, range [low, high], mean, std, features, pooling (none|spatial|tokens|first-token), logits".into()
            }
            BackendError::SpecMismatch { .. } | BackendError::OutputShape { .. } => {
                "write a spec next to the model (MODEL.onnx.json) or pass --model-spec FILE; `geneval doctor --model MODEL` lists its inputs and outputs".into()
            }
            BackendError::Run { .. } => {
                "try a smaller --batch-size; if the model's input size is fixed, check width/height in its spec".into()
            }
            BackendError::Device { .. } => format!(
                "use --device cpu, or install the GPU build with `{INSTALL_COMMAND} --gpu` on a machine with an NVIDIA driver; `geneval doctor` shows what is missing"
            ),
            BackendError::InvalidArgument(_) => "see `geneval help`".into(),
        }
    }
}

impl crate::diagnostics::Hint for BackendError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(self.hint_text().into())
    }
}
