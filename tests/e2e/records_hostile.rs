//! Records and reports against hostile or careless inputs: `--record`
//! naming an input or output, a gate's records file outside its folder,
//! non-finite results, records holding `null`s, a report written over its
//! own records. Each test is named after what broke.

use crate::common::*;
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// Small features `<name>.npy` in `dir`.
fn features(dir: &Path, name: &str, seed: u64) -> PathBuf {
    let path = dir.join(format!("{name}.npy"));
    ndarray_npy::write_npy(&path, &random_features(40, 4, seed)).unwrap();
    path
}

/// A FID record line as `--json` prints it.
fn fid_line(dir: &Path) -> String {
    let a = features(dir, "line_a", 1);
    let b = features(dir, "line_b", 2);
    serde_json::to_string(&run_json(&["fid", s(&a), s(&b)])).unwrap()
}

#[test]
fn record_naming_an_input_destroyed_it() {
    let dir = tempfile::tempdir().unwrap();
    let victim = features(dir.path(), "victim", 1);
    let b = features(dir.path(), "b", 2);
    let bytes = std::fs::read(&victim).unwrap();
    // The input itself (not a .jsonl), and a hard link to it named .jsonl.
    let link = dir.path().join("runs.jsonl");
    std::fs::hard_link(&victim, &link).unwrap();
    for record in [&victim, &link] {
        let err = run_error(&["fid", s(&victim), s(&b), "--record", s(record)]);
        assert!(err.contains("--record") || err.contains(".jsonl"), "{err}");
        assert_eq!(std::fs::read(&victim).unwrap(), bytes);
    }
    let err = run_error(&["fid", s(&victim), s(&b), "--record", s(&link)]);
    assert!(err.contains("is also"), "{err}");
}

#[test]
fn record_naming_the_output_destroyed_it() {
    let dir = tempfile::tempdir().unwrap();
    let parts: Vec<PathBuf> = (0..2)
        .map(|i| {
            let f = features(dir.path(), &format!("f{i}"), i);
            let p = dir.path().join(format!("p{i}.npz"));
            run_json(&["stats", "--partial", s(&f), "-o", s(&p)]);
            p
        })
        .collect();
    let same = dir.path().join("same.npz");
    std::fs::write(&same, b"an earlier output").unwrap();
    let err = run_error(&[
        "merge",
        s(&parts[0]),
        s(&parts[1]),
        "-o",
        s(&same),
        "--record",
        s(&same),
    ]);
    assert!(err.contains(".jsonl"), "{err}");
    assert_eq!(std::fs::read(&same).unwrap(), b"an earlier output");
    // A report whose records are also its --record.
    let runs = dir.path().join("runs.jsonl");
    std::fs::write(&runs, format!("{}\n", fid_line(dir.path()))).unwrap();
    let before = std::fs::read(&runs).unwrap();
    let out = dir.path().join("r.md");
    let err = run_error(&["report", s(&runs), "-o", s(&out), "--record", s(&runs)]);
    assert!(err.contains("is also"), "{err}");
    assert_eq!(std::fs::read(&runs).unwrap(), before);
    assert!(!out.exists(), "refused before the report was made");
}

#[test]
fn gate_records_outside_its_folder_lost_their_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let ci = dir.path().join("ci");
    std::fs::create_dir(&ci).unwrap();
    features(&ci, "a", 1);
    features(&ci, "b", 2);
    let config = ci.join("quality.toml");
    let gate_with = |records: &str| {
        std::fs::write(
            &config,
            format!(
                "records = [{records:?}]\n\
                 [[run]]\nargs = [\"fid\", \"a.npy\", \"b.npy\"]\n\
                 [[rule]]\nmetric = \"fid\"\nmax = 1e9\n"
            ),
        )
        .unwrap();
        geneval().args(["gate", s(&config)]).output().unwrap()
    };
    // Not a records file: untouched, exit 2.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes\nlast line, no newline").unwrap();
    let out = gate_with("../notes.txt");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "my notes\nlast line, no newline"
    );
    // A records file whose last record lacks its newline: kept.
    let history = dir.path().join("history.jsonl");
    let first = fid_line(dir.path());
    std::fs::write(&history, &first).unwrap();
    let out = gate_with("../history.jsonl");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&history).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert_eq!(text.lines().next().unwrap(), first);
    assert!(text.ends_with('\n'));
}

#[test]
fn kid_of_overflowing_features_printed_nan_and_recorded_null() {
    let dir = tempfile::tempdir().unwrap();
    // Finite, but (x·y/d + 1)³ overflows f64: the KID was `NaN ± NaN`.
    let huge: Array2<f64> = random_features(30, 4, 3).mapv(|v| (v + 1.0) * 1e154);
    let a = dir.path().join("huge_a.npy");
    let b = dir.path().join("huge_b.npy");
    ndarray_npy::write_npy(&a, &huge).unwrap();
    ndarray_npy::write_npy(&b, &huge.mapv(|v| v * 1.5)).unwrap();
    let runs = dir.path().join("runs.jsonl");
    let out = geneval()
        .args(["kid", s(&a), s(&b), "--subsets", "5", "--subset-size", "10"])
        .args(["--record", s(&runs), "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error:") && stderr.contains("hint:"),
        "{stderr}"
    );
    assert!(stderr.to_lowercase().contains("kid"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!runs.exists(), "no record is written");
}

#[test]
fn a_record_with_null_values_made_every_report_and_gate_fail() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs.jsonl");
    // What `kid` appended for a NaN result before it was refused.
    let kid_nan = r#"{"schema":"geneval.result/v1","metric":"kid","value":null,"uncertainty":null,"values":{"kid_mean":null,"kid_std":null,"subsets":5.0},"settings":{},"seed":0,"inputs":[],"outputs":[],"warnings":[],"geneval_version":"0.1.0","device":"cpu","started_at":"2026-11-29T00:00:00Z","duration_s":0.1}"#;
    std::fs::write(&runs, format!("{}\n{kid_nan}\n", fid_line(dir.path()))).unwrap();
    let out = geneval().args(["report", s(&runs)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("runs.jsonl:2: values.kid_mean, values.kid_std stored as null"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("FID"));
    // A gate on the FID is not stopped by the broken KID line.
    let config = dir.path().join("q.toml");
    std::fs::write(
        &config,
        format!(
            "records = [{:?}]\n[[rule]]\nmetric = \"fid\"\nmax = 1e9\n",
            s(&runs)
        ),
    )
    .unwrap();
    let out = geneval().args(["gate", s(&config)]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn report_over_its_own_records_overwrote_them() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("r.json");
    std::fs::write(&records, fid_line(dir.path())).unwrap();
    let before = std::fs::read(&records).unwrap();
    let alias = dir.path().join("alias.json");
    std::os::unix::fs::symlink(&records, &alias).unwrap();
    for output in [&records, &alias] {
        let err = run_error(&["report", s(&records), "-o", s(output)]);
        assert!(err.contains("would overwrite the records file"), "{err}");
        assert_eq!(std::fs::read(&records).unwrap(), before);
    }
    // Through a folder of records too.
    let err = run_error(&["report", s(dir.path()), "-o", s(&records)]);
    assert!(err.contains("would overwrite"), "{err}");
    assert_eq!(std::fs::read(&records).unwrap(), before);
}
