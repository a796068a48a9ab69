//! `geneval report`: records written by the CLI itself for a few fake
//! checkpoints, rendered as HTML, Markdown, CSV and JSON; and the errors a
//! user meets (no records, another schema version, a truncated last line,
//! numbers from different modes or networks).

use crate::common::*;
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// Runs geneval and returns (stdout, stderr), asserting success.
fn run_ok(args: &[&str]) -> (String, String) {
    let out = geneval().args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "geneval {args:?} failed: {stderr}");
    (stdout, stderr)
}

/// Features of a "checkpoint": the reference shifted by `offset`.
fn features(dir: &Path, name: &str, seed: u64, offset: f64) -> PathBuf {
    let path = dir.join(format!("{name}.npy"));
    let f: Array2<f64> = random_features(160, 8, seed).mapv(|v| v + offset);
    ndarray_npy::write_npy(&path, &f).unwrap();
    path
}

/// FID, KID and PRDC for models a and b at steps 1000 and 2000 (b worse,
/// later steps better), IS at the last step; appended to `runs.jsonl`.
fn checkpoint_records(dir: &Path) -> PathBuf {
    let runs = dir.join("runs.jsonl");
    let real = features(dir, "real", 1, 0.0);
    let logits = reference_fixture("is_peaked.npy");
    for (model, base) in [("a", 0.2), ("b", 0.35)] {
        for (i, step) in ["1000", "2000"].iter().enumerate() {
            let offset = base / (i + 1) as f64;
            let fake = features(dir, &format!("{model}_{step}"), 2 + i as u64, offset);
            let (model_label, step_label) = (format!("model={model}"), format!("step={step}"));
            let labels = ["--label", &model_label, "--label", &step_label];
            for metric in ["fid", "kid", "prdc"] {
                let mut args = vec![metric, s(&real), s(&fake), "--record", s(&runs), "-q"];
                args.extend(labels);
                run_ok(&args);
            }
            if *step == "2000" {
                let mut args = vec!["is", s(&logits), "--record", s(&runs), "-q"];
                args.extend(labels);
                run_ok(&args);
            }
        }
    }
    runs
}

#[test]
fn html_report_of_checkpoints_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let runs = checkpoint_records(dir.path());
    let html = dir.path().join("r.html");
    let (stdout, _) = run_ok(&["report", s(&runs), "-o", s(&html), "--title", "Sweep <1>"]);
    assert!(
        stdout.contains("wrote the html report of 14 records"),
        "{stdout}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<meta charset=\"utf-8\">"));
    assert!(page.contains("<title>Sweep &lt;1&gt;</title>"));
    assert!(page.contains("Models × metrics"));
    assert!(page.contains("FID by step"));
    assert!(page.contains("class=\"num best\""));
    assert!(page.contains("<svg"), "charts are inline SVG");
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(!page.contains("<script"));
    assert!(
        !page.contains("<link") && !page.contains("src="),
        "nothing loaded from elsewhere"
    );

    // The command's own record.
    let record = run_json(&["report", s(&runs), "-o", s(&html)]);
    assert_eq!(record["metric"], "report");
    assert_eq!(record["outputs"][0], s(&html));
    assert_eq!(record["settings"]["format"], "html");
    assert_eq!(record["settings"]["records_read"], 14);
}

#[test]
fn markdown_on_stdout_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let runs = checkpoint_records(dir.path());
    for extra in [&[][..], &["--format", "md"][..]] {
        let mut args = vec!["report", s(&runs)];
        args.extend(extra);
        let (md, _) = run_ok(&args);
        assert!(md.starts_with("# geneval report\n"), "{md}");
        assert!(
            md.contains("| model | step | FID ↓ | KID ↓ | IS ↑ | precision ↑ |"),
            "{md}"
        );
        // a is better than b at the latest step, and in bold.
        let a_row = md.lines().find(|l| l.starts_with("| a | 2000 |")).unwrap();
        assert!(a_row.matches("**").count() >= 4, "{a_row}");
        assert!(md.contains("## FID by step"));
        assert!(md.contains("- FID (lower is better): best a,"), "{md}");
    }
}

#[test]
fn csv_and_json_reports() {
    let dir = tempfile::tempdir().unwrap();
    let runs = checkpoint_records(dir.path());
    let csv = dir.path().join("r.csv");
    run_ok(&["report", s(&runs), "-o", s(&csv)]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "model,step,fid,fid_uncertainty,kid,kid_uncertainty,is,is_uncertainty,precision,precision_uncertainty,recall,recall_uncertainty,density,density_uncertainty,coverage,coverage_uncertainty"
    );
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("a,2000,") && lines[2].starts_with("b,2000,"));

    let json_path = dir.path().join("r.json");
    run_ok(&["report", s(&runs), "-o", s(&json_path)]);
    let report = json(&json_path);
    assert_eq!(report["record_count"], 14);
    assert_eq!(report["tables"][0]["key"], "models");
    assert!(report["charts"].as_array().unwrap().len() >= 4);
    // The same on stdout with --format.
    let (stdout, _) = run_ok(&["report", s(&runs), "--format", "json"]);
    let again: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(again["tables"], report["tables"]);
}

#[test]
fn png_dir_gets_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let runs = checkpoint_records(dir.path());
    let pngs = dir.path().join("charts");
    let record = run_json(&[
        "report",
        s(&runs),
        "-o",
        s(&dir.path().join("r.md")),
        "--png-dir",
        s(&pngs),
    ]);
    let outputs = record["outputs"].as_array().unwrap();
    assert_eq!(
        outputs.len() as f64 - 1.0,
        record["values"]["charts"].as_f64().unwrap()
    );
    for png in &outputs[1..] {
        let bytes = std::fs::read(png.as_str().unwrap()).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }
}

#[test]
fn no_records_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let stderr = run_error(&["report", s(&empty)]);
    assert!(stderr.contains("no result records"), "{stderr}");
    assert!(stderr.contains("--record"), "{stderr}");
    let stderr = run_error(&["report", s(&dir.path().join("missing.jsonl"))]);
    assert!(stderr.contains("missing.jsonl"), "{stderr}");
}

#[test]
fn unknown_schema_versions_are_refused_or_skipped_with_lenient() {
    let dir = tempfile::tempdir().unwrap();
    let runs = checkpoint_records(dir.path());
    let mut text = std::fs::read_to_string(&runs).unwrap();
    let first = text.lines().next().unwrap().to_owned();
    text.push_str(&first.replace("geneval.result/v1", "geneval.result/v9"));
    text.push('\n');
    std::fs::write(&runs, text).unwrap();
    let stderr = run_error(&["report", s(&runs)]);
    assert!(stderr.contains("geneval.result/v9"), "{stderr}");
    assert!(stderr.contains("--lenient"), "{stderr}");
    let (md, stderr) = run_ok(&["report", s(&runs), "--lenient"]);
    assert!(
        stderr.contains("skipped a record of schema `geneval.result/v9`"),
        "{stderr}"
    );
    assert!(md.contains("14 records"), "{md}");
}

#[test]
fn a_truncated_last_line_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let runs = checkpoint_records(dir.path());
    let mut text = std::fs::read_to_string(&runs).unwrap();
    text.push_str("{\"schema\":\"geneval.result/v1\",\"metric\":\"fi");
    std::fs::write(&runs, text).unwrap();
    let (md, stderr) = run_ok(&["report", s(&runs)]);
    assert!(
        stderr.contains(":15: ignored an incomplete last line"),
        "{stderr}"
    );
    assert!(md.contains("## Warnings"), "{md}");
}

#[test]
fn mixed_preprocessing_modes_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs.jsonl");
    let images = fixture("models/images");
    for (model, mode) in [("a", "pytorch-fid"), ("b", "clean")] {
        run_ok(&[
            "fid",
            s(&images),
            s(&images),
            "--model",
            "builtin",
            "--mode",
            mode,
            "--record",
            s(&runs),
            "--label",
            &format!("model={model}"),
            "-q",
        ]);
    }
    let stderr = run_error(&["report", s(&runs)]);
    assert!(
        stderr.contains("FID column would mix preprocessing modes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`pytorch-fid`") && stderr.contains("`clean`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("runs.jsonl:1") && stderr.contains("runs.jsonl:2"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-mixed"), "{stderr}");
    let (md, stderr) = run_ok(&["report", s(&runs), "--allow-mixed"]);
    assert!(stderr.contains("mixes preprocessing modes"), "{stderr}");
    assert!(md.contains("builtin-randconv-v1 · clean"), "{md}");
}

#[test]
fn mixed_feature_networks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs.jsonl");
    let images = fixture("models/images");
    run_ok(&[
        "fid",
        s(&images),
        s(&images),
        "--model",
        "builtin",
        "--record",
        s(&runs),
        "--label",
        "model=a",
        "-q",
    ]);
    // The same record as if another network had made it.
    let text = std::fs::read_to_string(&runs).unwrap();
    let other = text
        .replace(
            "\"id\":\"builtin-randconv-v1\"",
            "\"id\":\"fid-inception@sha256:6726825d\"",
        )
        .replace("model=a", "model=b")
        .replace("\"model\":\"a\"", "\"model\":\"b\"");
    assert_ne!(other, text);
    std::fs::write(&runs, format!("{text}{other}")).unwrap();
    let stderr = run_error(&["report", s(&runs)]);
    assert!(stderr.contains("feature networks"), "{stderr}");
    assert!(stderr.contains("fid-inception@sha256:6726825d"), "{stderr}");
    run_ok(&["report", s(&runs), "--allow-mixed"]);
}

#[test]
fn output_format_must_be_known() {
    let dir = tempfile::tempdir().unwrap();
    let runs = checkpoint_records(dir.path());
    let stderr = run_error(&["report", s(&runs), "-o", s(&dir.path().join("r.txt"))]);
    assert!(stderr.contains("--format"), "{stderr}");
    // --json prints the record where the report would go.
    let stderr = run_error(&["report", s(&runs), "--json"]);
    assert!(stderr.contains("-o FILE"), "{stderr}");
    // An explicit format wins over the extension.
    let out = dir.path().join("r.txt");
    run_ok(&["report", s(&runs), "-o", s(&out), "--format", "csv"]);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("model,step,"));
}
