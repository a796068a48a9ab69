//! Helpers: fixture paths, running the CLI, temporary folders, npy writing.

use assert_cmd::Command;
use ndarray::Array2;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// `metrics/tests/fixtures/reference/<name>`.
pub fn reference_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("metrics/tests/fixtures/reference")
        .join(name)
}

/// Parsed JSON file.
pub fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The geneval binary, quiet about colour.
///
/// `GENEVAL_TEST_RUNNER` (e.g. `qemu-x86_64 -cpu Nehalem`) runs it through a
/// wrapper, as cargo's `runner` does for test binaries: that is how the
/// suite is run with another instruction set forced (an emulated CPU
/// without AVX makes ONNX Runtime and faer pick their SSE kernels), to
/// measure the cross-machine spread the tolerances are set from.
pub fn geneval() -> Command {
    let bin = assert_cmd::cargo::cargo_bin("geneval");
    let runner = std::env::var("GENEVAL_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let mut cmd = match words.next() {
        Some(program) => {
            let mut cmd = Command::new(program);
            cmd.args(words).arg(bin);
            cmd
        }
        None => Command::new(bin),
    };
    cmd.env("NO_COLOR", "1").env(CACHE_CAP.0, CACHE_CAP.1);
    cmd
}

/// The tests' statistics-cache cap: entries the tests leave in the user's
/// cache (temporary folders, never hit again) stay within 200 MB.
pub const CACHE_CAP: (&str, &str) = ("GENEVAL_CACHE_MAX_BYTES", "200000000");

/// Runs geneval with `--json` and returns the record; panics with stderr on failure.
pub fn run_json(args: &[&str]) -> Value {
    let out = geneval().args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "geneval {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "--json prints exactly one line: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap()
}

/// Runs geneval expecting exit code 2 and returns stderr.
pub fn run_error(args: &[&str]) -> String {
    let out = geneval().args(args).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "geneval {args:?} should fail with 2; stderr: {stderr}"
    );
    assert!(stderr.contains("error:"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Deterministic features (xorshift), N × D, f64.
pub fn random_features(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array2::from_shape_fn((rows, cols), |(_, j)| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 + j as f64 * 0.01
    })
}

/// Asserts `|got − want| ≤ rtol·|want|`.
pub fn assert_rel(got: f64, want: f64, rtol: f64, what: &str) {
    assert!(
        (got - want).abs() <= rtol * want.abs(),
        "{what}: got {got}, want {want}"
    );
}

/// What [`run_measured`] saw: exit code, output and the child's peak memory.
#[derive(Debug)]
pub struct Measured {
    /// Exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Peak resident set size of the child, in KiB.
    pub peak_rss_kib: u64,
}

impl Measured {
    /// Peak RSS in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

/// The geneval binary as a plain `std::process::Command` (never through
/// `GENEVAL_TEST_RUNNER`: its memory is what is measured), colour off.
pub fn geneval_std() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("geneval"));
    cmd.env("NO_COLOR", "1").env(CACHE_CAP.0, CACHE_CAP.1);
    cmd
}

/// `VmHWM` (peak RSS of the current program image, KiB) of process `pid`.
#[cfg(target_os = "linux")]
fn vm_hwm_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `cmd` to its end and returns its output and peak RSS, so a test can
/// assert that a hostile input was refused without reserving memory for it.
/// A run over `timeout` is killed and fails the test (a FIFO that blocks
/// must not hang the suite).
///
/// `wait4`'s `ru_maxrss` cannot be used alone: Linux records the RSS of the
/// image a process replaces at `exec`, which for a child spawned by this
/// multi-threaded test process is the test process's own (hundreds of MB
/// after a test built a bomb). So the child is traced (`PTRACE_TRACEME`),
/// stopped when it exits with its memory still mapped, and its `VmHWM`, the
/// peak of geneval's own image, is read then. Where tracing is not allowed,
/// `ru_maxrss` is used (an over-estimate, never an under-estimate).
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which std cannot see
pub fn run_measured(mut cmd: std::process::Command, timeout: std::time::Duration) -> Measured {
    use std::io::{Read, Seek};
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    use std::ptr::null_mut;
    let mut out = tempfile::tempfile().unwrap();
    let mut err = tempfile::tempfile().unwrap();
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap());
    let what = format!("{cmd:?}");
    let mut traced = cmd;
    // SAFETY: only an async-signal-safe syscall between fork and exec.
    unsafe {
        traced.pre_exec(|| {
            let traced = libc::ptrace(
                libc::PTRACE_TRACEME,
                0,
                null_mut::<libc::c_void>(),
                null_mut::<libc::c_void>(),
            );
            if traced == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (child, is_traced) = match traced.spawn() {
        Ok(child) => (child, true),
        // Tracing refused (a seccomp profile): spawn it untraced.
        Err(_) => {
            let mut plain = geneval_std();
            plain.args(traced.get_args());
            for (key, value) in traced.get_envs() {
                match value {
                    Some(value) => plain.env(key, value),
                    None => plain.env_remove(key),
                };
            }
            plain
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(err.try_clone().unwrap());
            (plain.spawn().unwrap(), false)
        }
    };
    let pid = child.id() as libc::pid_t;
    let start = std::time::Instant::now();
    let mut status: libc::c_int = 0;
    // SAFETY: plain syscalls on our own child; `usage` is written by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut hwm = None;
    if is_traced {
        // The stop at exec, then: stop again at exit.
        unsafe {
            assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
            assert!(
                libc::WIFSTOPPED(status),
                "child not stopped at exec: {status:#x}"
            );
            let options = libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_EXITKILL;
            libc::ptrace(
                libc::PTRACE_SETOPTIONS,
                pid,
                null_mut::<libc::c_void>(),
                options as usize as *mut libc::c_void,
            );
            libc::ptrace(
                libc::PTRACE_CONT,
                pid,
                null_mut::<libc::c_void>(),
                null_mut::<libc::c_void>(),
            );
        }
    }
    loop {
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(reaped >= 0, "wait4: {}", std::io::Error::last_os_error());
        if reaped == pid && libc::WIFSTOPPED(status) {
            let exiting = status >> 8 == (libc::SIGTRAP | (libc::PTRACE_EVENT_EXIT << 8));
            let forward = if exiting {
                hwm = vm_hwm_kib(pid);
                0
            } else {
                // A signal for the child: deliver it (SIGTRAP is our own).
                match libc::WSTOPSIG(status) {
                    libc::SIGTRAP => 0,
                    signal => signal,
                }
            };
            unsafe {
                libc::ptrace(
                    libc::PTRACE_CONT,
                    pid,
                    null_mut::<libc::c_void>(),
                    forward as usize as *mut libc::c_void,
                )
            };
            continue;
        }
        if reaped == pid {
            break;
        }
        if start.elapsed() > timeout {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            panic!("{what} still running after {timeout:?}: killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let read = |file: &mut std::fs::File| {
        let mut text = String::new();
        file.rewind().unwrap();
        file.read_to_string(&mut text).unwrap();
        text
    };
    Measured {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: read(&mut out),
        stderr: read(&mut err),
        peak_rss_kib: hwm.unwrap_or(usage.ru_maxrss as u64),
    }
}

/// Makes a FIFO at `path` (opening it for reading blocks until a writer
/// comes: what a reader of untrusted paths must never do).
#[cfg(target_os = "linux")]
pub fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// Asserts that the run of `geneval args` was refused as bad input: exit 2,
/// an `error:` and a `hint:`, no panic, every one of `names` in the
/// message, and a peak RSS under `bound_mib`.
#[cfg(target_os = "linux")]
pub fn assert_refused(args: &[&str], run: &Measured, names: &[&str], bound_mib: f64) {
    let stderr = &run.stderr;
    assert_eq!(run.code, Some(2), "geneval {args:?} should exit 2: {run:?}");
    assert!(
        stderr.contains("error:") && stderr.contains("hint:"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    for name in names {
        assert!(
            stderr.contains(name),
            "{args:?}: message lacks {name}: {stderr}"
        );
    }
    assert!(
        run.peak_rss_mib() < bound_mib,
        "geneval {args:?} peaked at {:.1} MiB (bound {bound_mib} MiB): {stderr}",
        run.peak_rss_mib()
    );
}

/// `geneval generate FOLDER --n N --size SIZE --seed SEED EXTRA...`, which
/// must succeed: the image sets most end-to-end tests start from.
pub fn generate_set(folder: &Path, n: usize, size: u32, seed: u64, extra: &[&str]) {
    let out = geneval()
        .args(["generate", s(folder), "--n", &n.to_string()])
        .args(["--size", &size.to_string(), "--seed", &seed.to_string()])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "generate {}: {}",
        folder.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `mu` and `sigma` of a statistics `.npz`.
pub fn read_mu_sigma(path: &Path) -> (ndarray::Array1<f64>, Array2<f64>) {
    let mut npz = ndarray_npy::NpzReader::new(std::fs::File::open(path).unwrap()).unwrap();
    (npz.by_name("mu").unwrap(), npz.by_name("sigma").unwrap())
}

/// Fails the test with the command's stderr (after `context: `, when given)
/// unless it exited 0.
pub fn assert_success(out: &std::process::Output, context: &str) {
    let separator = if context.is_empty() { "" } else { ": " };
    assert!(
        out.status.success(),
        "{context}{separator}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
