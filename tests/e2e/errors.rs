//! Bad input: every malformed file gets exit code 2, its own path in the
//! message and a hint, never a panic.

use crate::common::*;

#[test]
fn every_bad_fixture_is_a_clear_error() {
    let e = json(&fixture("npz/expected.json"));
    let good_stats = fixture("npz/stats_other.npz");
    let mut checked = 0;
    for (name, file) in e["files"].as_object().unwrap() {
        if file["expect"] != "error" {
            continue;
        }
        let path = fixture(&format!("npz/{name}"));
        let stderr = if file["kind"] == "stats" {
            run_error(&["fid", s(&path), s(&good_stats)])
        } else {
            run_error(&["stats", s(&path), "-o", "/tmp/never-written.npz"])
        };
        assert!(
            stderr.contains(name.as_str()),
            "{name}: message must name the file: {stderr}"
        );
        let expected_words = match file["error_kind"].as_str().unwrap() {
            "missing_key" => "no array named",
            "shape" => "shape",
            "non_finite" => "non-finite",
            "zip" => "not a readable .npz",
            "rank" => "shape",
            "dtype" => "dtype",
            other => panic!("unknown error kind {other}"),
        };
        assert!(
            stderr.contains(expected_words),
            "{name}: expected '{expected_words}' in: {stderr}"
        );
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} error fixtures checked");
    assert!(!std::path::Path::new("/tmp/never-written.npz").exists());
}

#[test]
fn dimension_mismatch_between_sides_names_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.npy");
    let b = dir.path().join("b.npy");
    ndarray_npy::write_npy(&a, &random_features(10, 3, 1)).unwrap();
    ndarray_npy::write_npy(&b, &random_features(10, 4, 2)).unwrap();
    let stderr = run_error(&["fid", s(&a), s(&b)]);
    assert!(
        stderr.contains("a.npy") && stderr.contains("b.npy"),
        "{stderr}"
    );
    let stderr = run_error(&["kid", s(&a), s(&b)]);
    assert!(stderr.contains("dimension"), "{stderr}");
    let stderr = run_error(&["fid", s(&a), s(&fixture("npz/stats_other.npz"))]);
    assert!(stderr.contains("dimensions differ"), "{stderr}");
}

#[test]
fn too_few_samples_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.npy");
    ndarray_npy::write_npy(&one, &random_features(1, 3, 1)).unwrap();
    let stderr = run_error(&["fid", s(&one), s(&one)]);
    assert!(stderr.contains("at least 2 samples"), "{stderr}");
    let stderr = run_error(&["stats", s(&one), "-o", s(&dir.path().join("x.npz"))]);
    assert!(stderr.contains("at least 2"), "{stderr}");
    let stderr = run_error(&["fid", "/nonexistent/a.npz", s(&one)]);
    assert!(stderr.contains("/nonexistent/a.npz"), "{stderr}");
    // A folder is a side of images; this one holds only the .npy.
    let stderr = run_error(&["fid", s(dir.path()), s(&one), "--model", "builtin"]);
    assert!(stderr.contains("has no images"), "{stderr}");
    let stderr = run_error(&["is", s(&one), "--splits", "10"]);
    assert!(stderr.contains("one.npy"), "{stderr}");
}

#[test]
fn unwritable_output_keeps_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.npy");
    ndarray_npy::write_npy(&f, &random_features(10, 3, 1)).unwrap();
    let stderr = run_error(&["stats", s(&f), "-o", "/nonexistent-dir/out.npz"]);
    assert!(stderr.contains("/nonexistent-dir"), "{stderr}");
}
