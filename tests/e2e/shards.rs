//! Sharded statistics: `stats --partial` on pieces and `merge` equal one
//! pass over everything (the Slurm-array / indexed-job workflow).

use crate::common::*;
use ndarray::{s as slice, Array1, Array2};

#[test]
fn merged_partial_statistics_equal_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let all = random_features(500, 6, 7);
    let whole = dir.path().join("all.npy");
    ndarray_npy::write_npy(&whole, &all).unwrap();
    let mut parts = Vec::new();
    for (i, (lo, hi)) in [(0, 123), (123, 124), (124, 400), (400, 500)]
        .into_iter()
        .enumerate()
    {
        let f = dir.path().join(format!("part{i}.npy"));
        ndarray_npy::write_npy(&f, &all.slice(slice![lo..hi, ..]).to_owned()).unwrap();
        let p = dir.path().join(format!("part{i}.npz"));
        run_json(&["stats", "--partial", s(&f), "-o", s(&p)]);
        parts.push(p);
    }
    let merged = dir.path().join("merged.npz");
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(|p| s(p)));
    args.extend(["-o", s(&merged)]);
    let record = run_json(&args);
    assert_eq!(record["values"]["count"].as_f64().unwrap(), 500.0);
    let single = dir.path().join("single.npz");
    run_json(&["stats", s(&whole), "-o", s(&single)]);
    let read = |p: &std::path::Path| {
        let mut npz = ndarray_npy::NpzReader::new(std::fs::File::open(p).unwrap()).unwrap();
        let mu: Array1<f64> = npz.by_name("mu").unwrap();
        let sigma: Array2<f64> = npz.by_name("sigma").unwrap();
        (mu, sigma)
    };
    let (mu_m, sigma_m) = read(&merged);
    let (mu_s, sigma_s) = read(&single);
    for (a, b) in mu_m
        .iter()
        .zip(mu_s.iter())
        .chain(sigma_m.iter().zip(sigma_s.iter()))
    {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1e-3), "{a} vs {b}");
    }
    let fid = run_json(&["fid", s(&merged), s(&single)]);
    assert!(fid["value"].as_f64().unwrap() < 1e-9);
}

#[test]
fn partial_statistics_work_as_fid_side_and_refuse_final_ones_in_merge() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.npy");
    ndarray_npy::write_npy(&f, &random_features(50, 4, 3)).unwrap();
    let partial = dir.path().join("p.npz");
    run_json(&["stats", "--partial", s(&f), "-o", s(&partial)]);
    let record = run_json(&["fid", s(&partial), s(&f)]);
    assert!(record["value"].as_f64().unwrap() < 1e-9);
    assert_eq!(record["inputs"][0]["kind"], "partial-statistics");
    assert_eq!(record["inputs"][0]["count"], 50);
    let other_layer = dir.path().join("q.npz");
    run_json(&[
        "stats",
        "--partial",
        "--feature",
        "pool3",
        s(&f),
        "-o",
        s(&other_layer),
    ]);
    let stderr = run_error(&[
        "merge",
        s(&partial),
        s(&other_layer),
        "-o",
        s(&dir.path().join("m.npz")),
    ]);
    assert!(stderr.contains("pool3"), "{stderr}");
    let stderr = run_error(&[
        "merge",
        s(&fixture("npz/stats_other.npz")),
        "-o",
        s(&dir.path().join("m.npz")),
    ]);
    assert!(stderr.contains("--partial"), "{stderr}");
    assert!(!dir.path().join("m.npz").exists());
}
