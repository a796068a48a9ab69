//! The README's main command: generated images through the built-in
//! network (no download), numbers that move the right way, and a closing
//! self-check that passes.

use crate::common::*;

#[test]
fn demo_ranks_the_twin_above_the_fake_and_its_selfcheck_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let record = run_json(&[
        "demo",
        "--out",
        s(&out),
        "--n",
        "150",
        "--selfcheck-n",
        "150",
        "--model",
        "builtin",
    ]);
    assert_eq!(
        record["passed"], true,
        "{}",
        record["settings"]["selfcheck"]
    );
    let v = &record["values"];
    for metric in ["fid", "kid"] {
        let twin = v[format!("{metric}_twin")].as_f64().unwrap();
        let fake = v[format!("{metric}_fake")].as_f64().unwrap();
        assert!(
            twin < fake,
            "{metric}: twin {twin} should be below fake {fake}"
        );
    }
    assert!(v["recall_twin"].as_f64().unwrap() > v["recall_fake"].as_f64().unwrap());
    // report.md is the report renderer's Markdown of the self-check record,
    // the page report.html shows: its tables, with `<` escaped.
    let markdown = std::fs::read_to_string(out.join("selfcheck/report.md")).unwrap();
    for part in [
        "## Self-check: metrics under disturbances",
        "## Self-check: checks",
        "&lt;",
    ] {
        assert!(markdown.contains(part), "{part} not in:\n{markdown}");
    }
    assert!(out.join("real/labels.csv").is_file());

    // The written statistics and the fake folder reproduce the demo's FID.
    let fid = run_json(&[
        "fid",
        s(&out.join("real_stats.npz")),
        s(&out.join("fake")),
        "--model",
        "builtin",
    ]);
    assert_rel(
        fid["value"].as_f64().unwrap(),
        v["fid_fake"].as_f64().unwrap(),
        1e-9,
        "fid from the written statistics",
    );
}
