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

/// `geneval generate`d images split by `--shard K/4` over four processes
/// run at once, as a Slurm array or an Indexed Job would: the merge equals
/// one pass over the folder, and FID from it equals FID from one pass.
#[test]
fn four_parallel_shards_merge_into_one_pass_of_images() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    generate_set(&images, 23, 32, 4, &[]);
    let part = |k: usize| dir.path().join(format!("part.{k}.npz"));
    let children: Vec<_> = (0..4)
        .map(|k| {
            geneval_std()
                .args(["stats", s(&images), "--partial", "--model", "builtin", "-q"])
                .args(["--shard", &format!("{k}/4"), "-o", s(&part(k))])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let merged = dir.path().join("merged.npz");
    let parts: Vec<String> = (0..4).map(|k| s(&part(k)).to_owned()).collect();
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend(["-o", s(&merged)]);
    let record = run_json(&args);
    assert_eq!(record["values"]["count"].as_f64().unwrap(), 23.0);
    assert_eq!(record["settings"]["shards"], 4);
    let single = dir.path().join("single.npz");
    run_json(&["stats", s(&images), "--model", "builtin", "-o", s(&single)]);
    let ((mu_m, sigma_m), (mu_s, sigma_s)) = (read_mu_sigma(&merged), read_mu_sigma(&single));
    let scale = sigma_s.iter().fold(0f64, |m, v| m.max(v.abs()));
    for (a, b) in mu_m.iter().zip(&mu_s).chain(sigma_m.iter().zip(&sigma_s)) {
        assert!((a - b).abs() <= 1e-12 * scale.max(1.0), "{a} vs {b}");
    }
    // FID of the merged statistics against the images equals one pass's.
    let fid = |stats: &std::path::Path| {
        run_json(&["fid", s(stats), s(&images), "--model", "builtin"])["value"]
            .as_f64()
            .unwrap()
    };
    assert_rel(fid(&merged), fid(&single), 1e-12, "FID from merged shards");

    // A missing shard and a repeated one are refused, naming the shards.
    let error = |parts: &[&str]| {
        let mut args = vec!["merge"];
        args.extend_from_slice(parts);
        args.extend(["-o", s(&merged)]);
        run_error(&args)
    };
    let missing = error(&[&parts[0], &parts[1], &parts[3]]);
    assert!(missing.contains("shards 2 of 4 are missing"), "{missing}");
    let twice = error(&[&parts[0], &parts[1], &parts[1], &parts[2], &parts[3]]);
    assert!(twice.contains("shard 1/4 is given twice"), "{twice}");
    // Another list (one image more) is not the same side.
    std::fs::copy(images.join("00000.png"), images.join("zz_extra.png")).unwrap();
    let other = dir.path().join("other.npz");
    run_json(&[
        "stats",
        s(&images),
        "--partial",
        "--model",
        "builtin",
        "--shard",
        "3/4",
        "-o",
        s(&other),
    ]);
    let mixed = error(&[&parts[0], &parts[1], &parts[2], s(&other)]);
    assert!(mixed.contains("different image lists"), "{mixed}");
}

#[test]
fn a_shard_without_partial_or_of_features_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.npy");
    ndarray_npy::write_npy(&f, &random_features(10, 3, 1)).unwrap();
    let out = dir.path().join("o.npz");
    let e = run_error(&["stats", s(&f), "--partial", "--shard", "0/2", "-o", s(&out)]);
    assert!(e.contains("slices the image list"), "{e}");
    let e = run_error(&["stats", s(&f), "--shard", "0/2", "-o", s(&out)]);
    assert!(e.contains("add --partial"), "{e}");
    let e = run_error(&["stats", s(&f), "--partial", "--shard", "2/2", "-o", s(&out)]);
    assert!(e.contains("2/2"), "{e}");
}

/// `features --shard K/3` parts (for KID and PRDC, which need every row)
/// are concatenated by `merge` in shard order, whatever order they are
/// given in; a missing part and rows without a shard description are
/// refused.
#[test]
fn features_shards_concatenate_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    generate_set(&images, 11, 32, 5, &[]);
    let part = |k: usize| dir.path().join(format!("rows.{k}.npy"));
    for k in 0..3 {
        run_json(&[
            "features",
            s(&images),
            "--model",
            "builtin",
            "--shard",
            &format!("{k}/3"),
            "-o",
            s(&part(k)),
        ]);
        assert!(dir
            .path()
            .join(format!("rows.{k}.npy.shard.json"))
            .is_file());
    }
    let merged = dir.path().join("rows.npy");
    let record = run_json(&[
        "merge",
        s(&part(2)),
        s(&part(0)),
        s(&part(1)),
        "-o",
        s(&merged),
    ]);
    assert_eq!(record["values"]["count"].as_f64().unwrap(), 11.0);
    assert_eq!(record["settings"]["shards"], 3);
    let whole = dir.path().join("whole.npy");
    run_json(&[
        "features",
        s(&images),
        "--model",
        "builtin",
        "-o",
        s(&whole),
    ]);
    let a: Array2<f32> = ndarray_npy::read_npy(&merged).unwrap();
    let b: Array2<f32> = ndarray_npy::read_npy(&whole).unwrap();
    assert_eq!(a.dim(), b.dim());
    // Rows of other batch sizes may differ in the last bits of the
    // network's float kernels; a wrong order would differ by the features'
    // own spread.
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-5 * scale, "{x} vs {y}");
    }
    let missing = run_error(&["merge", s(&part(0)), s(&part(2)), "-o", s(&merged)]);
    assert!(missing.contains("shards 1 of 3 are missing"), "{missing}");
    let plain = dir.path().join("plain.npy");
    std::fs::copy(&whole, &plain).unwrap();
    let e = run_error(&["merge", s(&part(0)), s(&plain), "-o", s(&merged)]);
    assert!(e.contains("features --shard"), "{e}");
}
