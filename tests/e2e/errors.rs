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

#[test]
fn features_with_no_columns_or_no_rows_exit_2_instead_of_fid_0() {
    // Was: a (10, 0) features file gave `FID: 0`, exit 0.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.npy");
    ndarray_npy::write_npy(&good, &random_features(10, 3, 1)).unwrap();
    for (name, shape) in [("cols0.npy", (10, 0)), ("rows0.npy", (0, 3))] {
        let path = dir.path().join(name);
        ndarray_npy::write_npy(&path, &ndarray::Array2::<f32>::zeros(shape)).unwrap();
        for args in [
            vec!["fid", s(&path), s(&path)],
            vec!["kid", s(&path), s(&good)],
            vec!["stats", s(&path), "-o", "/tmp/never-written.npz"],
            vec!["is", s(&path)],
        ] {
            let stderr = run_error(&args);
            assert!(
                stderr.contains(name) && stderr.contains("holds no values"),
                "{args:?}: {stderr}"
            );
        }
    }
}

/// A partial-statistics `.npz` as geneval writes it, with any `count`.
fn partial_with_count(path: &std::path::Path, count: f64) {
    let mut npz = ndarray_npy::NpzWriter::new(std::fs::File::create(path).unwrap());
    let meta =
        br#"{"format":"geneval-partial-statistics","version":1,"feature":"f","model_id":"m"}"#;
    npz.add_array("geneval_partial", &ndarray::Array1::from(meta.to_vec()))
        .unwrap();
    npz.add_array("count", &ndarray::arr0(count)).unwrap();
    npz.add_array("mean", &ndarray::Array1::from(vec![1.0, 2.0]))
        .unwrap();
    npz.add_array("comoment", &ndarray::Array2::<f64>::eye(2))
        .unwrap();
    npz.finish().unwrap();
}

#[test]
fn merging_counts_past_2_pow_53_exits_2_instead_of_overflowing() {
    // Was: count 1e19 overflowed `count += other` (a panic in debug builds,
    // exit 0 with a wrong covariance in release builds).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("merged.npz");
    let huge = dir.path().join("huge.npz");
    let half = dir.path().join("half.npz");
    for count in [1e19, 1e300] {
        partial_with_count(&huge, count);
        let stderr = run_error(&["merge", s(&huge), s(&huge), "-o", s(&out)]);
        assert!(
            stderr.contains("huge.npz") && stderr.contains("2^53"),
            "{stderr}"
        );
    }
    // Each part is valid on its own; their sum is not.
    partial_with_count(&half, 2f64.powi(52) + 1.0);
    let stderr = run_error(&["merge", s(&half), s(&half), "-o", s(&out)]);
    assert!(
        stderr.contains("half.npz") && stderr.contains("2^53"),
        "{stderr}"
    );
    assert!(!out.exists());
}
