//! `geneval doctor` arguments.

use clap::Args;
use std::path::PathBuf;

/// `geneval doctor`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The ONNX Runtime library to check (libonnxruntime.so.*) instead of
    /// searching ORT_DYLIB_PATH, the cache and the Python package.
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Also show a model's inputs, outputs and the spec geneval resolves for
    /// it (`builtin` or an .onnx file, with its MODEL.onnx.json sidecar).
    #[arg(long, value_name = "builtin|PATH")]
    pub model: Option<String>,
    /// A spec file for --model instead of its sidecar.
    #[arg(long, value_name = "FILE")]
    pub model_spec: Option<PathBuf>,
}
