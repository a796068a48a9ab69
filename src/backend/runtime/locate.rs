//! Where to look for the library: the search plan (`--ort-lib`,
//! `ORT_DYLIB_PATH`, geneval's cache, a Python `onnxruntime` package), the
//! cache root, and what each place held.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::probe::{probe, Probe};
use super::{RuntimeError, ENV_VAR, ORT_VERSION};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::runtime::INSTALL_COMMAND;

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
        assert!(err.hint_text().contains(INSTALL_COMMAND));
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
