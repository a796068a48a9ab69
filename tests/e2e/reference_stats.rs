//! `reference-stats/`: the shipped statistics are reproducible from their
//! provenance (the smallest one is regenerated here with the commands its
//! `.toml` records) and usable as a side of `geneval fid`.

use crate::common::*;
use std::path::PathBuf;

fn reference_stats(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("reference-stats")
        .join(name)
}

/// `key = "value"` from a flat TOML file (what reference-stats/make.sh writes).
fn toml_value(text: &str, key: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in the provenance file"));
    serde_json::from_str::<serde_json::Value>(line.split_once(" = ").unwrap().1)
        .unwrap()
        .to_string()
        .trim_matches('"')
        .to_owned()
}

#[test]
fn the_smallest_reference_statistics_regenerate_from_their_provenance() {
    let name = "geneval-shapes10_seed0-n500_pytorch-fid_builtin_64";
    let npz = reference_stats(&format!("{name}.npz"));
    let toml = std::fs::read_to_string(reference_stats(&format!("{name}.toml"))).unwrap();
    assert_eq!(toml_value(&toml, "model_id"), "builtin-randconv-v1");
    assert_eq!(toml_value(&toml, "mode"), "pytorch-fid");

    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    let out = dir.path().join("again.npz");
    let generate = toml_value(&toml, "generate_command").replace("IMAGES", s(&images));
    let stats = toml_value(&toml, "stats_command")
        .replace("IMAGES", s(&images))
        .replace(&format!("reference-stats/{name}.npz"), s(&out));
    for command in [generate, stats] {
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        run_json(&args);
    }
    // Same images, same network, same CPU kernels: the same statistics (a
    // different CPU may move the last bits of the features, hence 1e-9).
    for key in ["mu", "sigma"] {
        let read = |path: &std::path::Path| -> ndarray::ArrayD<f64> {
            let mut npz = ndarray_npy::NpzReader::new(std::fs::File::open(path).unwrap()).unwrap();
            npz.by_name(key).unwrap()
        };
        let (shipped, again) = (read(&npz), read(&out));
        assert_eq!(shipped.shape(), again.shape());
        let scale = shipped.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = shipped
            .iter()
            .zip(again.iter())
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            worst <= 1e-9 * scale,
            "{key}: max |diff| {worst} (scale {scale})"
        );
    }

    // And they serve as the real side of a comparison with a folder.
    let fake = dir.path().join("fake");
    run_json(&[
        "generate",
        s(&fake),
        "--n",
        "60",
        "--size",
        "64",
        "--seed",
        "5",
        "--disturb",
        "blur:2",
    ]);
    let record = run_json(&["fid", s(&npz), s(&fake), "--model", "builtin"]);
    assert!(record["value"].as_f64().unwrap() > 0.0, "{record}");
}
