//! ONNX Runtime sessions as geneval builds them for every model (feature
//! extractors and language models alike): full graph optimisation, the
//! requested intra-op threads, and the CUDA provider registered so that it
//! fails loudly instead of falling back to the CPU.

use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::Session;
use std::path::Path;

use super::device::Device;
use super::runtime::Runtime;
use super::BackendError;

/// A session for the model `bytes` (`name` is the file, for messages) on
/// `device`, with `threads` intra-op threads when given.
pub fn build_session(
    rt: &Runtime,
    bytes: &[u8],
    name: &Path,
    threads: Option<usize>,
    device: Device,
) -> Result<Session, BackendError> {
    configured(rt, name, threads, device)?
        .commit_from_memory(bytes)
        .map_err(|e| BackendError::ModelLoad {
            path: name.to_owned(),
            message: e.to_string(),
        })
}

/// A session for the model file `path`, loaded by ONNX Runtime itself so
/// that weights kept beside it (`model.onnx.data`, as exports over 2 GB
/// are written) are found next to the file, not in the working directory.
pub fn build_session_from_file(
    rt: &Runtime,
    path: &Path,
    threads: Option<usize>,
    device: Device,
) -> Result<Session, BackendError> {
    configured(rt, path, threads, device)?
        .commit_from_file(path)
        .map_err(|e| BackendError::ModelLoad {
            path: path.to_owned(),
            message: e.to_string(),
        })
}

fn configured(
    rt: &Runtime,
    name: &Path,
    threads: Option<usize>,
    device: Device,
) -> Result<SessionBuilder, BackendError> {
    let load_error = |message: String| BackendError::ModelLoad {
        path: name.to_owned(),
        message,
    };
    let mut builder = Session::builder(&rt.environment)
        .map_err(|e| load_error(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| load_error(e.to_string()))?;
    if let Some(threads) = threads {
        if threads == 0 {
            return Err(BackendError::InvalidArgument(
                "--threads must be at least 1".into(),
            ));
        }
        builder = builder
            .with_intra_threads(threads)
            .map_err(|e| load_error(e.to_string()))?;
    }
    if let Device::Cuda(index) = device {
        let status = rt.cuda_status();
        if !status.available {
            return Err(BackendError::Device {
                device: device.to_string(),
                reason: status.reason,
            });
        }
        if let Some(devices) = status.devices {
            if index >= devices {
                return Err(BackendError::Device {
                    device: device.to_string(),
                    reason: format!("this machine has {devices} CUDA device(s)"),
                });
            }
        }
        // Registration must fail loudly: ONNX Runtime otherwise falls back to
        // the CPU without a word, and a "GPU" benchmark would measure the CPU.
        let cuda = ort::ep::CUDA::default()
            .with_device_id(index as i32)
            .build()
            .error_on_failure();
        builder = builder
            .with_execution_providers([cuda])
            .map_err(|e| BackendError::Device {
                device: device.to_string(),
                reason: e.to_string(),
            })?;
    }
    Ok(builder)
}
