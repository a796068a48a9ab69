//! The README's main command runs on built-in data and its numbers move the
//! right way: a second sample of the same distribution is closer than a
//! shifted, stretched one.

use crate::common::*;

#[test]
fn demo_runs_and_ranks_the_twin_above_the_fake() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let record = run_json(&["demo", "--out", s(&out), "--samples", "400"]);
    let v = &record["values"];
    for metric in ["fid", "kid"] {
        let twin = v[format!("{metric}_twin")].as_f64().unwrap();
        let fake = v[format!("{metric}_fake")].as_f64().unwrap();
        assert!(
            twin < fake,
            "{metric}: twin {twin} should be below fake {fake}"
        );
    }
    assert!(v["precision_twin"].as_f64().unwrap() > v["precision_fake"].as_f64().unwrap());
    for name in [
        "real_features.npy",
        "fake_features.npy",
        "real_stats.npz",
        "fake_stats.npz",
    ] {
        assert!(out.join(name).exists(), "{name} missing");
    }
    // The written statistics reproduce the demo's FID through `geneval fid`.
    let fid = run_json(&[
        "fid",
        s(&out.join("real_stats.npz")),
        s(&out.join("fake_stats.npz")),
    ]);
    let from_demo = v["fid_fake"].as_f64().unwrap();
    assert_rel(
        fid["value"].as_f64().unwrap(),
        from_demo,
        1e-9,
        "demo fid vs fid command",
    );
}
