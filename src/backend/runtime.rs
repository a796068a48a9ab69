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
//! once per process ([`init`]).

use std::ffi::{CStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The ONNX Runtime version the installer fetches and geneval was verified with.
pub const ORT_VERSION: &str = "1.31.1";

/// The environment variable naming the library (also read by `ort` itself).
pub const ENV_VAR: &str = "ORT_DYLIB_PATH";

/// The command that installs the library into the cache.
pub const INSTALL_COMMAND: &str = "scripts/install-onnxruntime";

/// The oldest ONNX Runtime minor version `ort` accepts (its `api-NN` feature).
pub const MIN_MINOR: u32 = ort::MINOR_VERSION;

/// Which place a library was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `--ort-lib PATH`.
    Flag,
    /// The `ORT_DYLIB_PATH` environment variable.
    EnvVar,
    /// geneval's cache (`scripts/install-onnxruntime`); `gpu` tells the flavour.
    Cache {
        /// Whether it is the `onnxruntime-gpu` build.
        gpu: bool,
    },
    /// An importable Python `onnxruntime` package.
    PythonPackage,
}

impl Which {
    /// Whether a failure here is final (the user named this library).
    pub fn is_explicit(self) -> bool {
        matches!(self, Which::Flag | Which::EnvVar)
    }
}

impl fmt::Display for Which {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Which::Flag => f.write_str("--ort-lib"),
            Which::EnvVar => write!(f, "{ENV_VAR}"),
            Which::Cache { gpu: false } => f.write_str("geneval cache (cpu)"),
            Which::Cache { gpu: true } => f.write_str("geneval cache (gpu)"),
            Which::PythonPackage => f.write_str("Python onnxruntime package"),
        }
    }
}

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
    pub fn hint(&self) -> String {
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

/// A library that opened and reported a usable version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The library's path.
    pub path: PathBuf,
    /// Its version string, e.g. `1.31.1`.
    pub version: String,
}

/// One place looked at, and what was there.
#[derive(Debug, Clone)]
pub struct Looked {
    /// The place.
    pub which: Which,
    /// The path tried, when the place gave one.
    pub path: Option<PathBuf>,
    /// The library found, or why not.
    pub outcome: Result<Probe, String>,
}

impl fmt::Display for Looked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, &self.outcome) {
            (Some(p), Ok(probe)) => write!(
                f,
                "{}: {} (version {})",
                self.which,
                p.display(),
                probe.version
            ),
            (Some(p), Err(why)) if why.contains(&p.display().to_string()) => {
                write!(f, "{}: {why}", self.which)
            }
            (Some(p), Err(why)) => write!(f, "{}: {}: {why}", self.which, p.display()),
            (None, Err(why)) => write!(f, "{}: {why}", self.which),
            (None, Ok(probe)) => write!(f, "{}: {}", self.which, probe.path.display()),
        }
    }
}

/// The library found by a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where it was found.
    pub which: Which,
    /// Path and version.
    pub probe: Probe,
}

/// Where to look; [`SearchPlan::from_env`] reads the process environment,
/// tests build one by hand.
#[derive(Debug, Clone, Default)]
pub struct SearchPlan {
    /// `--ort-lib`.
    pub explicit: Option<PathBuf>,
    /// The value of `ORT_DYLIB_PATH` (empty counts as unset).
    pub env_var: Option<OsString>,
    /// geneval's cache root (the folder holding `onnxruntime/`).
    pub cache_root: Option<PathBuf>,
    /// The Python interpreter to ask for an `onnxruntime` package (`None`: skip).
    pub python: Option<OsString>,
}

/// geneval's cache root: `$GENEVAL_CACHE_DIR`, else `$XDG_CACHE_HOME/geneval`,
/// else `$HOME/.cache/geneval` (the installer's rule).
pub fn cache_root() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("GENEVAL_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("geneval"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache").join("geneval"))
}

/// The installer's library path under a cache root for one flavour.
pub fn cached_library(cache_root: &Path, gpu: bool) -> PathBuf {
    cache_root
        .join("onnxruntime")
        .join(ORT_VERSION)
        .join(if gpu { "gpu" } else { "cpu" })
        .join(format!("libonnxruntime.so.{ORT_VERSION}"))
}

impl SearchPlan {
    /// The plan for this process: `explicit` from `--ort-lib`, the rest from
    /// the environment, Python from `$PYTHON` or `python3`.
    pub fn from_env(explicit: Option<&Path>) -> Self {
        SearchPlan {
            explicit: explicit.map(Path::to_path_buf),
            env_var: std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()),
            cache_root: cache_root(),
            python: Some(
                std::env::var_os("PYTHON")
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "python3".into()),
            ),
        }
    }

    /// Looks in order and stops at the first usable library; returns it (or
    /// the error) and every place looked at. An explicit path (`--ort-lib`,
    /// `ORT_DYLIB_PATH`) that fails ends the search with its own error.
    pub fn search(&self) -> (Result<Found, RuntimeError>, Vec<Looked>) {
        let mut looked = Vec::new();
        let explicit = [
            (Which::Flag, self.explicit.clone()),
            (Which::EnvVar, self.env_var.clone().map(PathBuf::from)),
        ];
        for (which, path) in explicit {
            let Some(path) = path else { continue };
            let outcome = probe(&path, which);
            looked.push(Looked {
                which,
                path: Some(path),
                outcome: outcome.clone().map_err(|e| e.to_string()),
            });
            return (outcome.map(|probe| Found { which, probe }), looked);
        }
        match &self.cache_root {
            Some(root) => {
                for gpu in [true, false] {
                    let which = Which::Cache { gpu };
                    let path = cached_library(root, gpu);
                    if let Some(found) = try_place(which, path, &mut looked) {
                        return (Ok(found), looked);
                    }
                }
            }
            None => looked.push(Looked {
                which: Which::Cache { gpu: false },
                path: None,
                outcome: Err(
                    "no cache folder (HOME, XDG_CACHE_HOME and GENEVAL_CACHE_DIR unset)".into(),
                ),
            }),
        }
        if let Some(python) = &self.python {
            match python_package_library(python) {
                Ok(path) => {
                    if let Some(found) = try_place(Which::PythonPackage, path, &mut looked) {
                        return (Ok(found), looked);
                    }
                }
                Err(why) => looked.push(Looked {
                    which: Which::PythonPackage,
                    path: None,
                    outcome: Err(why),
                }),
            }
        }
        let error = RuntimeError::NotFound {
            looked: looked.iter().map(ToString::to_string).collect(),
        };
        (Err(error), looked)
    }
}

fn try_place(which: Which, path: PathBuf, looked: &mut Vec<Looked>) -> Option<Found> {
    let outcome = probe(&path, which);
    let found = outcome.clone().ok().map(|probe| Found { which, probe });
    looked.push(Looked {
        which,
        path: Some(path),
        outcome: outcome.map_err(|e| match e {
            RuntimeError::Missing { .. } => "not there".to_owned(),
            other => other.to_string(),
        }),
    });
    found
}

/// The code the Python probe runs: where the `onnxruntime` package is.
const PYTHON_PROBE: &str = "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))";

/// The command that asks `python` where its `onnxruntime` package is.
///
/// Isolated mode (`-I`) and a neutral working folder (`/`): plain `python3
/// -c` puts the working folder first on `sys.path`, so an `onnxruntime.py`
/// there (a gate's `[[run]]` runs in the config's folder, which may come
/// from a pull request) would run instead of the package. `-I` also ignores
/// `PYTHON*` variables and the user's site-packages; a package installed
/// with `pip install --user` is then not found (the error says so), while
/// virtual environments and system installs are.
fn python_probe_command(python: &std::ffi::OsStr) -> Command {
    let mut command = Command::new(python);
    command
        .args(["-I", "-c", PYTHON_PROBE])
        .current_dir("/")
        .stdin(std::process::Stdio::null());
    command
}

/// The library inside an importable Python `onnxruntime` package.
fn python_package_library(python: &std::ffi::OsStr) -> Result<PathBuf, String> {
    let output = python_probe_command(python)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.to_string_lossy()))?;
    if !output.status.success() {
        return Err(format!(
            "{} -I (isolated: no user site-packages, no PYTHONPATH) cannot import onnxruntime",
            python.to_string_lossy()
        ));
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()).join("capi");
    let mut libraries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
        .collect();
    libraries.sort();
    // Prefer the versioned name (the wheel ships no plain libonnxruntime.so).
    libraries
        .pop()
        .ok_or_else(|| format!("no libonnxruntime.so* in {}", dir.display()))
}

/// Opens `path` with `libloading`, checks that it exports `OrtGetApiBase`,
/// reads its version and checks it is at least 1.[`MIN_MINOR`]. Never
/// initialises `ort`, never panics on a bad file.
pub fn probe(path: &Path, which: Which) -> Result<Probe, RuntimeError> {
    let err_path = path.to_path_buf();
    if !path.is_file() {
        return Err(RuntimeError::Missing {
            which,
            path: err_path,
        });
    }
    let path = &load_path(path);
    // SAFETY: loading a library runs its initialisers; the user (or the
    // installer) named this file as ONNX Runtime.
    let library = unsafe { libloading::Library::new(path) }.map_err(|e| RuntimeError::Dlopen {
        which,
        path: err_path.clone(),
        message: loader_message(&e),
    })?;
    let version = {
        // SAFETY: the signature of OrtGetApiBase in onnxruntime_c_api.h.
        let get_base: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> =
            unsafe { library.get(b"OrtGetApiBase") }.map_err(|_| RuntimeError::NotOnnxRuntime {
                which,
                path: err_path.clone(),
            })?;
        // SAFETY: OrtGetApiBase takes nothing and returns a static struct.
        let base = unsafe { get_base() };
        if base.is_null() {
            return Err(RuntimeError::BadVersionString {
                which,
                path: err_path,
            });
        }
        // SAFETY: base is non-null and points at the library's static OrtApiBase.
        let version_ptr = unsafe { ((*base).GetVersionString)() };
        if version_ptr.is_null() {
            return Err(RuntimeError::BadVersionString {
                which,
                path: err_path,
            });
        }
        // SAFETY: a NUL-terminated static string per the C API.
        let version = unsafe { CStr::from_ptr(version_ptr) }
            .to_str()
            .map_err(|_| RuntimeError::BadVersionString {
                which,
                path: err_path.clone(),
            })?
            .to_owned();
        match parse_version(&version) {
            Some((1, minor)) if minor >= MIN_MINOR => {}
            Some(_) => {
                return Err(RuntimeError::TooOld {
                    which,
                    path: err_path,
                    version,
                    required: MIN_MINOR,
                })
            }
            None => {
                return Err(RuntimeError::BadVersionString {
                    which,
                    path: err_path,
                })
            }
        }
        version
    };
    // Keep ONNX Runtime mapped: unloading it is not supported well, and
    // `ort` opens the same file again.
    std::mem::forget(library);
    Ok(Probe {
        path: path.clone(),
        version,
    })
}

/// `path` made absolute: `dlopen` looks a name without a slash
/// (`libonnxruntime.so`) up in the system's library folders, not in the
/// working folder where [`probe`] checked it, so it would load another file
/// than the one checked. The probe and `ort` both load this path.
fn load_path(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A `libloading` error with its causes (the loader's own message).
fn loader_message(error: &libloading::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `"1.31.1"` → `(1, 31)`.
fn parse_version(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The ONNX Runtime this process uses, initialised once.
pub struct Runtime {
    /// The library.
    pub path: PathBuf,
    /// Its version string.
    pub version: String,
    /// Where it was found.
    pub source: Which,
    /// The `ort` environment sessions are created in.
    pub environment: ort::environment::Environment,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("path", &self.path)
            .field("version", &self.version)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Finds the library ([`SearchPlan::from_env`]), checks it ([`probe`]) and
/// initialises `ort` from it, once per process; later calls return the same
/// runtime. A later call naming a different `explicit` library is an error.
pub fn init(explicit: Option<&Path>) -> Result<&'static Runtime, RuntimeError> {
    init_with(&SearchPlan::from_env(explicit))
}

/// [`init`] with a given plan.
pub fn init_with(plan: &SearchPlan) -> Result<&'static Runtime, RuntimeError> {
    let _guard = INIT_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(runtime) = RUNTIME.get() {
        if let Some(requested) = &plan.explicit {
            if !same_file(requested, &runtime.path) {
                return Err(RuntimeError::AlreadyLoaded {
                    loaded: runtime.path.clone(),
                    requested: requested.clone(),
                });
            }
        }
        return Ok(runtime);
    }
    let (found, _) = plan.search();
    let found = found?;
    let path = found.probe.path.clone();
    let init_error = |message: String| RuntimeError::Init {
        path: path.clone(),
        message,
    };
    let environment = ort::init_from(&path)
        .map_err(|e| init_error(e.to_string()))?
        .with_name("geneval")
        .with_telemetry(false)
        .build()
        .map_err(|e| init_error(e.to_string()))?;
    Ok(RUNTIME.get_or_init(|| Runtime {
        path: found.probe.path,
        version: found.probe.version,
        source: found.which,
        environment,
    }))
}

/// The runtime if [`init`] has succeeded in this process.
pub fn current() -> Option<&'static Runtime> {
    RUNTIME.get()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

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

/// A one-node ONNX model (`y = x + x`, float32 `[3]`, opset 13), encoded
/// by hand so that checking the runtime needs no file.
pub fn smoke_model() -> Vec<u8> {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn int(field: u64, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(&mut out, field << 3);
        varint(&mut out, v);
        out
    }
    fn bytes(field: u64, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(&mut out, (field << 3) | 2);
        varint(&mut out, body.len() as u64);
        out.extend_from_slice(body);
        out
    }
    let value_info = |name: &str| {
        let dim = bytes(1, &int(1, 3)); // TensorShapeProto.dim { dim_value: 3 }
        let tensor = [int(1, 1), bytes(2, &dim)].concat(); // elem_type FLOAT, shape
                                                           // ValueInfoProto { name, type { tensor_type } }
        [bytes(1, name.as_bytes()), bytes(2, &bytes(1, &tensor))].concat()
    };
    let node = [
        bytes(1, b"x"),
        bytes(1, b"x"),
        bytes(2, b"y"),
        bytes(4, b"Add"),
    ]
    .concat();
    let graph = [
        bytes(1, &node),
        bytes(2, b"geneval-smoke"),
        bytes(11, &value_info("x")),
        bytes(12, &value_info("y")),
    ]
    .concat();
    let opset = int(2, 13);
    [int(1, 8), bytes(7, &graph), bytes(8, &opset)].concat()
}

impl Runtime {
    /// Builds a session from [`smoke_model`] on the CPU, runs it on
    /// `[1, 2, 3]` and checks the output is `[2, 4, 6]`.
    pub fn smoke_test(&self) -> Result<(), RuntimeError> {
        let fail = |message: String| RuntimeError::Init {
            path: self.path.clone(),
            message,
        };
        let mut session = ort::session::Session::builder(&self.environment)
            .and_then(|mut b| b.commit_from_memory(&smoke_model()))
            .map_err(|e| fail(format!("cannot build a session from a one-node model: {e}")))?;
        let input = ort::value::Tensor::from_array(([3usize], vec![1.0f32, 2.0, 3.0]))
            .map_err(|e| fail(e.to_string()))?;
        let outputs = session
            .run(ort::inputs!["x" => input])
            .map_err(|e| fail(format!("running a one-node model failed: {e}")))?;
        let (_, y) = outputs["y"]
            .try_extract_tensor::<f32>()
            .map_err(|e| fail(e.to_string()))?;
        if y != [2.0, 4.0, 6.0] {
            return Err(fail(format!(
                "a one-node model gave {y:?}, expected [2, 4, 6]"
            )));
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn installed() -> Option<PathBuf> {
        let root = cache_root()?;
        let path = cached_library(&root, false);
        path.is_file().then_some(path)
    }

    fn plan(dir: &Path) -> SearchPlan {
        SearchPlan {
            explicit: None,
            env_var: None,
            cache_root: Some(dir.join("cache")),
            python: None,
        }
    }

    #[test]
    fn the_python_probe_is_isolated_and_runs_in_a_neutral_folder() {
        let command = python_probe_command("python3".as_ref());
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(args[0], "-I", "{args:?}");
        assert_eq!(args[1], "-c");
        assert_eq!(command.get_current_dir(), Some(Path::new("/")));
    }

    #[test]
    fn an_onnxruntime_py_in_the_working_folder_is_not_run() {
        // The probe's folder is `/`, but a hostile module planted in the
        // caller's folder is what it must not reach: put one in a temp
        // folder and check `-I` keeps it off sys.path even from there.
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        std::fs::write(
            dir.path().join("onnxruntime.py"),
            format!("open({:?}, 'w').write('x')\n", marker.display().to_string()),
        )
        .unwrap();
        let mut command = python_probe_command("python3".as_ref());
        command
            .current_dir(dir.path())
            .env("PYTHONPATH", dir.path());
        let Ok(output) = command.output() else {
            eprintln!("note: no python3; skipped");
            return;
        };
        assert!(!marker.exists(), "{output:?}");
    }

    #[test]
    fn bare_library_names_are_loaded_from_the_working_folder() {
        let path = load_path(Path::new("libonnxruntime.so.1.31.1"));
        assert!(path.is_absolute(), "{}", path.display());
        assert_eq!(
            path,
            std::env::current_dir()
                .unwrap()
                .join("libonnxruntime.so.1.31.1")
        );
        assert_eq!(
            load_path(Path::new("/opt/lib.so")),
            Path::new("/opt/lib.so")
        );
    }

    #[test]
    fn parses_versions() {
        assert_eq!(parse_version("1.31.1"), Some((1, 31)));
        assert_eq!(parse_version("1.32.0-dev"), Some((1, 32)));
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn missing_file_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("libonnxruntime.so");
        let err = probe(&path, Which::Flag).unwrap_err();
        assert!(
            matches!(
                err,
                RuntimeError::Missing {
                    which: Which::Flag,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(&path.display().to_string()));
        assert!(err.hint().contains("--ort-lib"));
    }

    #[test]
    fn text_file_is_a_typed_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("libonnxruntime.so");
        std::fs::write(&path, "this is not a shared library\n").unwrap();
        let err = probe(&path, Which::EnvVar).unwrap_err();
        assert!(
            matches!(
                err,
                RuntimeError::Dlopen {
                    which: Which::EnvVar,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(&path.display().to_string()));
        assert!(err.hint().contains(ENV_VAR));
        assert!(err.hint().contains(INSTALL_COMMAND));
    }

    #[test]
    fn shared_library_without_ort_api_is_rejected() {
        // libc is a shared library everywhere this runs, and is not ONNX Runtime.
        let err = probe(Path::new("/lib/x86_64-linux-gnu/libc.so.6"), Which::Flag);
        if let Err(RuntimeError::Missing { .. }) = err {
            eprintln!("note: no libc at the Debian path; skipped");
            return;
        }
        assert!(
            matches!(err, Err(RuntimeError::NotOnnxRuntime { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn explicit_path_wins_and_its_failure_is_final() {
        let dir = tempfile::tempdir().unwrap();
        let bogus = dir.path().join("bogus.so");
        std::fs::write(&bogus, "x").unwrap();
        let mut plan = plan(dir.path());
        plan.explicit = Some(bogus.clone());
        plan.env_var = installed().map(Into::into);
        let (result, looked) = plan.search();
        assert!(matches!(
            result,
            Err(RuntimeError::Dlopen {
                which: Which::Flag,
                ..
            })
        ));
        assert_eq!(
            looked.len(),
            1,
            "nothing after a failing --ort-lib: {looked:?}"
        );
    }

    #[test]
    fn env_var_comes_before_the_cache_and_fails_loudly() {
        let dir = tempfile::tempdir().unwrap();
        let bogus = dir.path().join("missing.so");
        let mut plan = plan(dir.path());
        plan.env_var = Some(bogus.clone().into());
        let (result, looked) = plan.search();
        match result {
            Err(RuntimeError::Missing {
                which: Which::EnvVar,
                path,
            }) => assert_eq!(path, bogus),
            other => panic!("{other:?}"),
        }
        assert_eq!(looked.len(), 1);
    }

    #[test]
    fn nothing_found_lists_every_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut plan = plan(dir.path());
        plan.python = Some("geneval-no-such-python".into());
        let (result, looked) = plan.search();
        let err = result.unwrap_err();
        assert!(matches!(err, RuntimeError::NotFound { .. }));
        let whiches: Vec<Which> = looked.iter().map(|l| l.which).collect();
        assert_eq!(
            whiches,
            [
                Which::Cache { gpu: true },
                Which::Cache { gpu: false },
                Which::PythonPackage
            ]
        );
        let message = err.to_string();
        assert!(message.contains(
            &cached_library(&dir.path().join("cache"), false)
                .display()
                .to_string()
        ));
        assert!(message.contains("geneval-no-such-python"), "{message}");
        assert!(err.hint().contains(INSTALL_COMMAND));
    }

    #[test]
    fn corrupt_cache_falls_through_to_the_next_place() {
        let dir = tempfile::tempdir().unwrap();
        let cached = cached_library(&dir.path().join("cache"), true);
        std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
        std::fs::write(&cached, "truncated").unwrap();
        let (result, looked) = plan(dir.path()).search();
        assert!(matches!(result, Err(RuntimeError::NotFound { .. })));
        assert!(looked[0]
            .outcome
            .as_ref()
            .unwrap_err()
            .contains("cannot load"));
        assert_eq!(looked[1].outcome.as_ref().unwrap_err(), "not there");
    }

    #[test]
    fn finds_the_installed_library_in_the_cache() {
        let Some(lib) = installed() else {
            eprintln!("note: ONNX Runtime not installed (run {INSTALL_COMMAND}); skipped");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let cached = cached_library(&dir.path().join("cache"), false);
        std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&lib, &cached).unwrap();
        let (result, looked) = plan(dir.path()).search();
        let found = result.unwrap();
        assert_eq!(found.which, Which::Cache { gpu: false });
        assert_eq!(found.probe.version, ORT_VERSION);
        assert_eq!(looked.len(), 2);
    }
}
