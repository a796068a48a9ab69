//! `geneval generate` and `geneval disturb`.

use crate::common::{run_error, run_json, s};
use std::path::Path;

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn generate_writes_a_labelled_deterministic_set() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let args = ["--n", "12", "--size", "32", "--seed", "3", "--classes", "4"];
    let record = run_json(&[&["generate", s(&a)][..], &args[..]].concat());
    assert_eq!(record["metric"], "generate");
    assert_eq!(record["values"]["images"], 12.0);
    assert_eq!(record["settings"]["classes"], 4);
    assert_eq!(record["settings"]["format"], "png");
    assert!(record["values"]["images_per_s"].as_f64().unwrap() > 0.0);
    run_json(&[&["generate", s(&b)][..], &args[..]].concat());
    let written = files(&a);
    assert_eq!(written.len(), 13);
    assert_eq!(written, files(&b));
    let labels = std::fs::read_to_string(a.join("labels.csv")).unwrap();
    assert!(
        labels.starts_with("file,class\n00000.png,0\n00001.png,1\n"),
        "{labels}"
    );
}

#[test]
fn generate_applies_disturbances_and_drops_modes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("jpeg");
    let record = run_json(&[
        "generate",
        s(&out),
        "--n",
        "8",
        "--size",
        "24",
        "--format",
        "jpeg",
        "--keep-classes",
        "2",
        "--disturb",
        "blur:1",
        "--disturb",
        "contamination:0.5",
    ]);
    assert_eq!(record["settings"]["disturbances"][0], "blur:1");
    assert_eq!(record["settings"]["disturbances"][1], "contamination:0.5");
    assert_eq!(record["values"]["contaminated"], 4.0);
    assert!(out.join("00007.jpg").exists());
    let labels = std::fs::read_to_string(out.join("labels.csv")).unwrap();
    for line in labels.lines().skip(1) {
        let class = line.split(',').nth(1).unwrap();
        assert!(["0", "1", "-1"].contains(&class), "{line}");
    }
}

#[test]
fn disturb_writes_pngs_and_level_zero_copies_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let (clean, same, noisy) = (
        dir.path().join("clean"),
        dir.path().join("same"),
        dir.path().join("noisy"),
    );
    run_json(&["generate", s(&clean), "--n", "3", "--size", "16"]);
    std::fs::remove_file(clean.join("labels.csv")).unwrap();
    let record = run_json(&["disturb", s(&clean), s(&same), "noise:0"]);
    assert_eq!(record["metric"], "disturb");
    assert_eq!(record["values"]["images"], 3.0);
    assert_eq!(files(&clean), files(&same));
    let record = run_json(&[
        "disturb",
        s(&clean),
        s(&noisy),
        "salt-pepper:0.3",
        "--seed",
        "2",
    ]);
    assert_eq!(record["settings"]["disturbance"], "salt-pepper:0.3");
    let noisy_files = files(&noisy);
    assert_eq!(noisy_files.len(), 3);
    assert_ne!(files(&clean), noisy_files);
}

#[test]
fn bad_disturbances_and_formats_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let stderr = run_error(&["generate", s(&out), "--n", "2", "--disturb", "fog:1"]);
    assert!(
        stderr.contains("unknown disturbance kind 'fog'"),
        "{stderr}"
    );
    assert!(stderr.contains("salt-pepper"), "{stderr}");
    let stderr = run_error(&["generate", s(&out), "--n", "2", "--disturb", "noise:2"]);
    assert!(stderr.contains("from 0 to 0.75"), "{stderr}");
    let stderr = run_error(&["generate", s(&out), "--n", "2", "--format", "gif"]);
    assert!(stderr.contains("png or jpeg"), "{stderr}");
    let stderr = run_error(&["generate", s(&out), "--keep-classes", "11"]);
    assert!(stderr.contains("--keep-classes"), "{stderr}");
    let stderr = run_error(&["disturb", s(&out), s(&dir.path().join("y")), "blur:1"]);
    assert!(stderr.contains(s(&out)), "{stderr}");
}
