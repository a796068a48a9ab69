//! Checking a candidate library before `ort` touches it: `dlopen` with
//! `libloading`, the `OrtGetApiBase` export and the version.

use std::ffi::CStr;
use std::path::{Path, PathBuf};

use super::{RuntimeError, Which, MIN_MINOR};

/// A library that opened and reported a usable version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The library's path.
    pub path: PathBuf,
    /// Its version string, e.g. `1.31.1`.
    pub version: String,
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
pub(super) fn loader_message(error: &libloading::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::runtime::{ENV_VAR, INSTALL_COMMAND};

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
        assert!(err.hint_text().contains("--ort-lib"));
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
        assert!(err.hint_text().contains(ENV_VAR));
        assert!(err.hint_text().contains(INSTALL_COMMAND));
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
}
