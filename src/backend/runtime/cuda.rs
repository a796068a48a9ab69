//! What the loaded runtime can run on: its compiled execution providers and
//! whether the CUDA one is usable on this machine.

use std::ffi::CStr;
use std::path::Path;

use super::probe::loader_message;
use super::{Runtime, RuntimeError, INSTALL_COMMAND};

impl Runtime {
    /// The execution providers this ONNX Runtime build was compiled with
    /// (`CPUExecutionProvider`, `CUDAExecutionProvider`, ...). Compiled in
    /// does not mean usable: see [`Runtime::cuda_status`].
    pub fn compiled_providers(&self) -> Result<Vec<String>, RuntimeError> {
        let api = ort::api();
        let mut list: *mut *mut std::ffi::c_char = std::ptr::null_mut();
        let mut count: std::ffi::c_int = 0;
        // SAFETY: the C API's GetAvailableProviders/ReleaseAvailableProviders
        // contract; the runtime is initialised (self exists).
        unsafe {
            check_status(
                api,
                (api.GetAvailableProviders)(&mut list, &mut count),
                &self.path,
            )?;
            if list.is_null() {
                return Ok(Vec::new());
            }
            let names = (0..usize::try_from(count).unwrap_or(0))
                .map(|i| *list.add(i))
                .filter(|p| !p.is_null())
                .map(|p| CStr::from_ptr(p).to_string_lossy().into_owned())
                .collect();
            check_status(
                api,
                (api.ReleaseAvailableProviders)(list, count),
                &self.path,
            )?;
            Ok(names)
        }
    }

    /// Whether the CUDA execution provider can be used, and why not.
    pub fn cuda_status(&self) -> CudaStatus {
        let compiled = self
            .compiled_providers()
            .map(|p| p.iter().any(|n| n == "CUDAExecutionProvider"))
            .unwrap_or(false);
        if !compiled {
            return CudaStatus {
                available: false,
                reason: format!(
                    "CUDA execution provider not available: this ONNX Runtime build has none \
                     (CPU build); run {INSTALL_COMMAND} --gpu"
                ),
                devices: None,
            };
        }
        let devices = match cuda_device_count() {
            Ok(n) => n,
            Err(why) => {
                return CudaStatus {
                    available: false,
                    reason: format!("CUDA execution provider not available: {why}"),
                    devices: None,
                }
            }
        };
        if devices == 0 {
            return CudaStatus {
                available: false,
                reason: "CUDA execution provider not available: the NVIDIA driver sees no GPU"
                    .into(),
                devices: Some(0),
            };
        }
        let provider = self
            .path
            .parent()
            .unwrap_or(Path::new("."))
            .join("libonnxruntime_providers_cuda.so");
        // SAFETY: ONNX Runtime's own CUDA provider library, opened to check
        // that its CUDA/cuDNN dependencies resolve; it stays loaded.
        match unsafe { libloading::Library::new(&provider) } {
            Ok(lib) => {
                std::mem::forget(lib);
                CudaStatus {
                    available: true,
                    reason: format!("{devices} CUDA device(s); {} loads", provider.display()),
                    devices: Some(devices),
                }
            }
            Err(e) => CudaStatus {
                available: false,
                reason: format!(
                    "CUDA execution provider not available: {} does not load: {}",
                    provider.display(),
                    loader_message(&e)
                ),
                devices: Some(devices),
            },
        }
    }
}

/// The CUDA execution provider's state on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CudaStatus {
    /// Whether sessions can use it.
    pub available: bool,
    /// Why (not).
    pub reason: String,
    /// CUDA devices the driver reports, when the driver loads.
    pub devices: Option<u32>,
}

/// Number of CUDA devices, through the driver library (`libcuda.so.1`).
fn cuda_device_count() -> Result<u32, String> {
    // SAFETY: the NVIDIA driver library; cuInit(0) and cuDeviceGetCount(int*)
    // are its documented C entry points.
    unsafe {
        let driver = libloading::Library::new("libcuda.so.1")
            .map_err(|e| format!("no NVIDIA driver (libcuda.so.1: {})", loader_message(&e)))?;
        let cu_init: libloading::Symbol<unsafe extern "C" fn(u32) -> i32> =
            driver
                .get(b"cuInit")
                .map_err(|e| format!("libcuda.so.1 has no cuInit: {e}"))?;
        let rc = cu_init(0);
        if rc != 0 {
            return Err(format!("cuInit failed with CUDA error {rc}"));
        }
        let get_count: libloading::Symbol<unsafe extern "C" fn(*mut i32) -> i32> = driver
            .get(b"cuDeviceGetCount")
            .map_err(|e| format!("libcuda.so.1 has no cuDeviceGetCount: {e}"))?;
        let mut count = 0i32;
        let rc = get_count(&mut count);
        if rc != 0 {
            return Err(format!("cuDeviceGetCount failed with CUDA error {rc}"));
        }
        let count = u32::try_from(count).unwrap_or(0);
        // The driver stays loaded for the CUDA provider.
        std::mem::forget(driver);
        Ok(count)
    }
}

/// Turns an `OrtStatus` into a result, releasing it.
///
/// # Safety
/// `status` is null or a status returned by `api`.
unsafe fn check_status(
    api: &ort::sys::OrtApi,
    status: ort::sys::OrtStatusPtr,
    path: &Path,
) -> Result<(), RuntimeError> {
    if status.0.is_null() {
        return Ok(());
    }
    // SAFETY: per the caller, status is a live status of this API.
    let message = unsafe {
        let text = (api.GetErrorMessage)(status.0);
        let message = if text.is_null() {
            "unknown error".to_owned()
        } else {
            CStr::from_ptr(text).to_string_lossy().into_owned()
        };
        (api.ReleaseStatus)(status.0);
        message
    };
    Err(RuntimeError::Init {
        path: path.to_path_buf(),
        message,
    })
}
