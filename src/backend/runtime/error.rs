//! Why no usable ONNX Runtime library was found or loaded, and what to do.

use std::path::PathBuf;

use super::{Which, ENV_VAR, INSTALL_COMMAND, ORT_VERSION};

/// Why no usable ONNX Runtime library was found or loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RuntimeError {
    /// A named library does not exist.
    #[error("ONNX Runtime library {path} (from {which}) does not exist")]
    Missing {
        /// Where the path came from.
        which: Which,
        /// The path.
        path: PathBuf,
    },
    /// `dlopen` failed (not a shared library, wrong architecture, missing dependency).
    #[error("cannot load ONNX Runtime library {path} (from {which}): {message}")]
    Dlopen {
        /// Where the path came from.
        which: Which,
        /// The path.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// The file is a shared library but not ONNX Runtime.
    #[error(
        "{path} (from {which}) is not an ONNX Runtime library: it does not export OrtGetApiBase"
    )]
    NotOnnxRuntime {
        /// Where the path came from.
        which: Which,
        /// The path.
        path: PathBuf,
    },
    /// The library returned no usable version string.
    #[error("ONNX Runtime library {path} (from {which}) reports no valid version")]
    BadVersionString {
        /// Where the path came from.
        which: Which,
        /// The path.
        path: PathBuf,
    },
    /// The library is older than `ort` needs.
    #[error("ONNX Runtime {version} at {path} (from {which}) is too old: geneval needs 1.{required} or newer")]
    TooOld {
        /// Where the path came from.
        which: Which,
        /// The path.
        path: PathBuf,
        /// The version it reports.
        version: String,
        /// The minor version needed.
        required: u32,
    },
    /// Nothing was found in any place.
    #[error("no ONNX Runtime library found (looked in: {})", .looked.join("; "))]
    NotFound {
        /// Each place looked and what was there.
        looked: Vec<String>,
    },
    /// `ort` failed to initialise from a library that passed the checks.
    #[error("ONNX Runtime at {path} failed to initialise: {message}")]
    Init {
        /// The path.
        path: PathBuf,
        /// `ort`'s message.
        message: String,
    },
    /// A different library is already loaded in this process.
    #[error("ONNX Runtime is already loaded from {loaded}; cannot switch to {requested} in the same process")]
    AlreadyLoaded {
        /// The library in use.
        loaded: PathBuf,
        /// The one asked for.
        requested: PathBuf,
    },
}

impl RuntimeError {
    /// What the user can do about it.
    pub(crate) fn hint_text(&self) -> String {
        let install = format!(
            "run {INSTALL_COMMAND} (ONNX Runtime {ORT_VERSION} from PyPI into geneval's cache), \
             or pass a library with --ort-lib PATH"
        );
        match self {
            RuntimeError::Missing { which, .. }
            | RuntimeError::Dlopen { which, .. }
            | RuntimeError::NotOnnxRuntime { which, .. }
            | RuntimeError::BadVersionString { which, .. }
            | RuntimeError::TooOld { which, .. } => match which {
                Which::EnvVar => {
                    format!("unset {ENV_VAR} or point it at libonnxruntime.so; {install}")
                }
                Which::Flag => format!(
                    "give --ort-lib the path of libonnxruntime.so.{ORT_VERSION}, or {install}"
                ),
                Which::Cache { .. } => format!("reinstall with {INSTALL_COMMAND} --force"),
                Which::PythonPackage => install,
            },
            RuntimeError::NotFound { .. } | RuntimeError::Init { .. } => install,
            RuntimeError::AlreadyLoaded { .. } => {
                "use one ONNX Runtime library per process (one --ort-lib / ORT_DYLIB_PATH)".into()
            }
        }
    }
}

impl crate::diagnostics::Hint for RuntimeError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(self.hint_text().into())
    }
}
