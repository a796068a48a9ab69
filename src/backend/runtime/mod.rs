//! Finding and loading the ONNX Runtime shared library.
//!
//! geneval uses `ort` with `load-dynamic`: the library is not linked but
//! opened at run time. It is looked for, in this order:
//! 1. an explicit path (`--ort-lib PATH`),
//! 2. the `ORT_DYLIB_PATH` environment variable,
//! 3. geneval's cache, where `scripts/install-onnxruntime` puts it:
//!    `${GENEVAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/geneval}/onnxruntime/<version>/{gpu,cpu}/`,
//! 4. an importable Python `onnxruntime` package (`capi/libonnxruntime.so*`).
//!
//! An explicit path or `ORT_DYLIB_PATH` that does not work is an error (it is
//! never silently replaced by another library); the cache and the Python
//! package are tried in turn. Each candidate is opened with `libloading`
//! first and must export `OrtGetApiBase` and report a version at least
//! `1.`[`ort::MINOR_VERSION`], because `ort` panics instead of returning an
//! error on some of these failures. Only then is `ort::init_from` called,
//! once per process ([`init`](fn@init)).

mod cuda;
mod error;
mod init;
mod locate;
mod probe;
mod smoke;

pub use cuda::CudaStatus;
pub use error::RuntimeError;
pub use init::{current, init, init_with, Runtime};
pub use locate::{cache_root, cached_library, Found, Looked, SearchPlan, Which};
pub use probe::{probe, Probe};
pub use smoke::smoke_model;

/// The ONNX Runtime version the installer fetches and geneval was verified with.
pub const ORT_VERSION: &str = "1.31.1";

/// The environment variable naming the library (also read by `ort` itself).
pub const ENV_VAR: &str = "ORT_DYLIB_PATH";

/// The command that installs the library into the cache.
pub const INSTALL_COMMAND: &str = "scripts/install-onnxruntime";

/// The oldest ONNX Runtime minor version `ort` accepts (its `api-NN` feature).
pub const MIN_MINOR: u32 = ort::MINOR_VERSION;
