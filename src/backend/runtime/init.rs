//! The process-wide runtime: `ort` initialised once from the library found.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use super::{RuntimeError, SearchPlan, Which};

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

/// Finds the library ([`SearchPlan::from_env`]), checks it ([`probe`](fn@super::probe)) and
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
