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
pub fn geneval() -> Command {
    let mut cmd = Command::cargo_bin("geneval").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

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
