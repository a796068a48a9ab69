//! The metric commands on the reference fixtures give the reference numbers,
//! and print one versioned JSON record.

use crate::common::*;
use serde_json::Value;

fn reference() -> Value {
    json(&reference_fixture("expected.json"))
}

fn check(got: f64, e: &Value, what: &str) {
    let value = e["value"].as_f64().unwrap();
    let bound = e["atol"].as_f64().unwrap() + e["rtol"].as_f64().unwrap() * value.abs();
    assert!((got - value).abs() <= bound, "{what}: {got} vs {value}");
}

#[test]
fn fid_from_features_and_from_statistics() {
    let r = reference();
    let c = &r["fid"]["well_conditioned"];
    let want = &c["expected"]["fid_sqrtm"];
    let feats = run_json(&[
        "fid",
        s(&reference_fixture(c["inputs"]["a"].as_str().unwrap())),
        s(&reference_fixture(c["inputs"]["b"].as_str().unwrap())),
    ]);
    check(feats["value"].as_f64().unwrap(), want, "fid features");
    assert_eq!(feats["schema"], "geneval.result/v1");
    assert_eq!(feats["metric"], "fid");
    assert_eq!(feats["inputs"][0]["kind"], "features");
    assert_eq!(feats["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    let stats = run_json(&[
        "fid",
        s(&reference_fixture(c["inputs"]["stats_a"].as_str().unwrap())),
        s(&reference_fixture(c["inputs"]["stats_b"].as_str().unwrap())),
    ]);
    check(stats["value"].as_f64().unwrap(), want, "fid statistics");
    // Mixed: features on one side, statistics on the other.
    let mixed = run_json(&[
        "fid",
        s(&reference_fixture(c["inputs"]["a"].as_str().unwrap())),
        s(&reference_fixture(c["inputs"]["stats_b"].as_str().unwrap())),
    ]);
    check(mixed["value"].as_f64().unwrap(), want, "fid mixed");
}

#[test]
fn fid_with_fewer_samples_than_dimensions_warns() {
    let r = reference();
    let c = &r["fid"]["n_less_than_d"];
    let out = geneval()
        .args([
            "fid",
            s(&reference_fixture("n_less_than_d_a.npy")),
            s(&reference_fixture("n_less_than_d_b.npy")),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("singular"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value: f64 = stdout
        .trim()
        .strip_prefix("FID: ")
        .unwrap()
        .parse()
        .unwrap();
    check(value, &c["expected"]["fid_mpmath"], "fid N<D");
    // --quiet silences the warning.
    let quiet = geneval()
        .args([
            "fid",
            "-q",
            s(&reference_fixture("n_less_than_d_a.npy")),
            s(&reference_fixture("n_less_than_d_b.npy")),
        ])
        .output()
        .unwrap();
    assert!(quiet.stderr.is_empty());
}

#[test]
fn is_kid_prdc_commands_match_references() {
    let r = reference();
    let c = &r["inception_score"]["random"];
    let is = run_json(&[
        "is",
        s(&reference_fixture(c["inputs"]["logits"].as_str().unwrap())),
    ]);
    check(
        is["value"].as_f64().unwrap(),
        &c["results"][0]["mean"],
        "is mean",
    );
    check(
        is["uncertainty"].as_f64().unwrap(),
        &c["results"][0]["std"],
        "is std",
    );

    let c = &r["kid"]["medium"];
    let p = &c["params"];
    let kid = run_json(&[
        "kid",
        s(&reference_fixture(c["inputs"]["a"].as_str().unwrap())),
        s(&reference_fixture(c["inputs"]["b"].as_str().unwrap())),
        "--subsets",
        &p["subsets"].to_string(),
        "--subset-size",
        &p["subset_size"].to_string(),
    ]);
    check(kid["value"].as_f64().unwrap(), &c["mean"], "kid mean");
    check(kid["uncertainty"].as_f64().unwrap(), &c["std"], "kid std");

    let c = &r["prdc"]["gaussian"];
    let prdc = run_json(&[
        "prdc",
        s(&reference_fixture(c["inputs"]["real"].as_str().unwrap())),
        s(&reference_fixture(c["inputs"]["fake"].as_str().unwrap())),
    ]);
    let k5 = c["prdc"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["nearest_k"] == 5)
        .unwrap();
    for name in ["precision", "recall", "density", "coverage"] {
        check(prdc["values"][name].as_f64().unwrap(), &k5[name], name);
    }
    let tf3 = c["torch_fidelity_prc"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["neighborhood"] == 3)
        .unwrap();
    check(
        prdc["values"]["improved_precision"].as_f64().unwrap(),
        &tf3["precision"],
        "improved precision",
    );
    check(
        prdc["values"]["improved_recall"].as_f64().unwrap(),
        &tf3["recall"],
        "improved recall",
    );
}

#[test]
fn human_output_is_one_line_per_number() {
    let out = geneval()
        .args([
            "fid",
            s(&fixture("npz/stats_uncompressed.npz")),
            s(&fixture("npz/stats_other.npz")),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("FID: 33.80553"), "{stdout}");
}

#[test]
fn fid_bootstrap_interval_equals_numpy_and_needs_samples() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let expected = json(&root.join("metrics/tests/fixtures/bootstrap/expected.json"));
    let case = &expected["cases"][0];
    let a = reference_fixture(case["a"].as_str().unwrap());
    let b = reference_fixture(case["b"].as_str().unwrap());
    let record = run_json(&[
        "fid",
        s(&a),
        s(&b),
        "--bootstrap",
        &case["replicates"].to_string(),
        "--bootstrap-level",
        &case["level"].to_string(),
        "--seed",
        &case["seed"].to_string(),
    ]);
    let interval = record["interval"].as_array().unwrap();
    assert_rel(
        interval[0].as_f64().unwrap(),
        case["low"].as_f64().unwrap(),
        1e-6,
        "low",
    );
    assert_rel(
        interval[1].as_f64().unwrap(),
        case["high"].as_f64().unwrap(),
        1e-6,
        "high",
    );
    assert_rel(
        record["uncertainty"].as_f64().unwrap(),
        case["std"].as_f64().unwrap(),
        1e-6,
        "std",
    );
    assert_rel(
        record["value"].as_f64().unwrap(),
        case["fid"].as_f64().unwrap(),
        1e-6,
        "fid",
    );
    assert_eq!(record["settings"]["bootstrap"], case["replicates"]);
    // Image folders keep their features for it; statistics files cannot.
    let images = crate::common::fixture("models/images");
    let record = run_json(&[
        "fid",
        s(&images),
        s(&images),
        "--model",
        "builtin",
        "--bootstrap",
        "5",
    ]);
    assert!(record["interval"][1].as_f64().unwrap() >= record["interval"][0].as_f64().unwrap());
    let stats = reference_fixture("well_conditioned_stats_a.npz");
    let stats = if stats.exists() {
        stats
    } else {
        reference_fixture("identical_stats_a.npz")
    };
    let err = run_error(&["fid", s(&stats), s(&stats), "--bootstrap", "5"]);
    assert!(err.contains("only their statistics"), "{err}");
}

/// `kid --subsets 1000000000` aborted after reserving 48 GB of index
/// vectors, and `--subsets`/`--bootstrap` 2^64−1 panicked: the counts are
/// now bounded while parsing, so each refusal is immediate and small.
#[test]
#[cfg(target_os = "linux")]
fn huge_subset_and_replicate_counts_are_refused_at_parse_time() {
    let a = reference_fixture("n_less_than_d_a.npy");
    let b = reference_fixture("n_less_than_d_b.npy");
    let cases: [(&str, &[&str], &str); 5] = [
        ("kid", &["--subsets", "1000000000"], "100000"),
        ("kid", &["--subsets", "18446744073709551615"], "100000"),
        ("kid", &["--subsets", "0"], "at least 1"),
        (
            "kid",
            &["--subset-size", "18446744073709551616"],
            "samples per subset",
        ),
        ("fid", &["--bootstrap", "18446744073709551615"], "100000"),
    ];
    for (command, flags, bound) in cases {
        let mut cmd = geneval_std();
        cmd.args([command, s(&a), s(&b)]).args(flags);
        let start = std::time::Instant::now();
        let run = run_measured(cmd, std::time::Duration::from_secs(20));
        let took = start.elapsed();
        assert_eq!(run.code, Some(2), "{command} {flags:?}: {}", run.stderr);
        assert!(run.stderr.contains(bound), "{flags:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(took.as_secs_f64() < 5.0, "{flags:?} took {took:?}");
        assert!(
            run.peak_rss_mib() < 200.0,
            "{flags:?}: peak RSS {:.0} MiB",
            run.peak_rss_mib()
        );
    }
}
