//! `geneval nn`: copies of the real set planted in a generated set are all
//! found, each paired with the image it copies; a clean twin set has none.

use crate::common::*;
use std::path::Path;

fn generate(folder: &Path, seed: u64) {
    generate_set(folder, 30, 32, seed, &[]);
}

#[test]
fn planted_copies_are_found_and_a_clean_twin_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let (real, twin) = (dir.path().join("real"), dir.path().join("twin"));
    generate(&real, 1);
    generate(&twin, 2);
    let clean = run_json(&["nn", s(&real), s(&twin), "--model", "builtin"]);
    assert_eq!(clean["metric"], "authpct");
    assert_eq!(clean["values"]["copies"], 0.0, "{clean}");
    let authpct = clean["value"].as_f64().unwrap();
    assert!(authpct > 0.0 && authpct <= 100.0);

    // Four real images copied into the generated set under other names.
    let planted = ["00003.png", "00011.png", "00017.png", "00029.png"];
    for (k, name) in planted.iter().enumerate() {
        std::fs::copy(real.join(name), twin.join(format!("zz_copy{k}.png"))).unwrap();
    }
    for distance in ["euclidean", "cosine"] {
        let found = run_json(&[
            "nn",
            s(&real),
            s(&twin),
            "--model",
            "builtin",
            "--distance",
            distance,
        ]);
        assert_eq!(found["values"]["copies"], 4.0, "{distance}: {found}");
        let copies = found["settings"]["possible_copies"].as_array().unwrap();
        for pair in copies {
            let fake = pair["fake"].as_str().unwrap();
            let k: usize = fake[fake.len() - 5..fake.len() - 4].parse().unwrap();
            assert!(
                pair["real"].as_str().unwrap().ends_with(planted[k]),
                "{pair}"
            );
            assert!(pair["distance"].as_f64().unwrap() < 1e-6);
        }
        assert!(found["value"].as_f64().unwrap() < authpct);
        assert_eq!(found["settings"]["distance"], distance);
        assert_eq!(found["settings"]["outliers"].as_array().unwrap().len(), 10);
    }
}

/// `generate --copies 0.1 --copies-of 1` plants exact copies of the set
/// drawn with seed 1, as a model that memorised it would: `nn` finds every
/// one of them, paired with the image it copies, and nothing else.
#[test]
fn generated_copies_of_the_training_set_are_all_found() {
    use geneval::generate::{copy_source, Copies, GenerateOptions};
    let dir = tempfile::tempdir().unwrap();
    let (real, fake) = (dir.path().join("real"), dir.path().join("fake"));
    generate(&real, 1);
    let out = geneval()
        .args(["generate", s(&fake), "--n", "30", "--size", "32"])
        .args([
            "--seed",
            "2",
            "--copies",
            "0.1",
            "--copies-of",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    assert_success(&out, "");
    let options = GenerateOptions {
        n: 30,
        size: 32,
        seed: 2,
        copies: Some(Copies {
            fraction: 0.1,
            of_seed: 1,
        }),
        ..GenerateOptions::default()
    };
    let planted: Vec<(usize, usize)> = (0..30)
        .filter_map(|i| copy_source(&options, i).map(|j| (i, j)))
        .collect();
    assert_eq!(planted.len(), 3, "{planted:?}");
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["values"]["copies"], 3.0);
    let found = run_json(&["nn", s(&real), s(&fake), "--model", "builtin"]);
    assert_eq!(found["values"]["copies"], 3.0, "{found}");
    let mut pairs: Vec<(String, String)> = found["settings"]["possible_copies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = |side: &str| {
                std::path::Path::new(p[side].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            };
            (name("fake"), name("real"))
        })
        .collect();
    pairs.sort();
    let want: Vec<(String, String)> = planted
        .iter()
        .map(|(i, j)| (format!("{i:05}.png"), format!("{j:05}.png")))
        .collect();
    assert_eq!(pairs, want);
}

/// The C_T data-copying test with a held-out real set: near 0 for a clean
/// twin, strongly negative when 30% of the samples are copies of the
/// training set, strongly positive with half the samples contaminated
/// (measured here: -0.94, -3.80, +5.04; the bounds leave room for other
/// CPUs' float kernels).
#[test]
fn c_t_is_near_zero_for_a_twin_and_negative_for_copies() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str, seed: u64, extra: &[&str]| {
        let path = dir.path().join(name);
        let n = if name == "few" { 30 } else { 200 };
        generate_set(&path, n, 32, seed, extra);
        path
    };
    let train = make("train", 1, &[]);
    let held = make("held", 3, &[]);
    let twin = make("twin", 2, &[]);
    let copies = make("copies", 2, &["--copies", "0.3", "--copies-of", "1"]);
    let c_t = |fake: &Path| {
        let r = run_json(&[
            "nn",
            s(&train),
            s(fake),
            "--model",
            "builtin",
            "--real-test",
            s(&held),
        ]);
        assert_eq!(r["settings"]["c_t"]["split"], "--real-test");
        assert_eq!(r["inputs"].as_array().unwrap().len(), 3);
        r["values"]["c_t"].as_f64().unwrap()
    };
    let (clean, copied) = (c_t(&twin), c_t(&copies));
    assert!(clean.abs() < 2.0, "twin C_T {clean}");
    assert!(
        copied < -3.0 && copied < clean - 2.0,
        "copies C_T {copied} vs twin {clean}"
    );
    // Contamination (images of another distribution) is the other tail:
    // farther from the training set than held-out samples (measured +5.04).
    let contaminated = make("contaminated", 2, &["--disturb", "contamination:0.5"]);
    let far = c_t(&contaminated);
    assert!(far > 3.0, "contaminated C_T {far}");
    // The human summary shows C_T and its cells.
    let out = geneval()
        .args(["nn", s(&train), s(&copies), "--model", "builtin"])
        .args(["--real-test", s(&held)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("C_T data-copying test: -3."), "{text}");
    assert!(text.contains("cells:  Z "), "{text}");
    // Too few generated samples for any cell: a warning, no value.
    let few = make("few", 4, &[]);
    let r = run_json(&["nn", s(&train), s(&few), "--model", "builtin"]);
    assert!(r["values"].get("c_t").is_none(), "{r}");
    assert!(r["warnings"].to_string().contains("C_T"), "{r}");
}

/// `nn` on the C_T reference fixtures (features as `.npy`, a held-out set
/// given) reports dgm-eval's value (`generate_ct.py`: scikit-learn +
/// scipy), and the same value with `--distance cosine`: C_T is defined on
/// the raw features. Regression: the training side used to be normalised
/// for cosine while the held-out side was not (C_T of the copying set then
/// came out far from -3.56).
#[test]
fn c_t_of_features_equals_the_reference_for_either_distance() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reference_fixture("ct_expected.json")).unwrap(),
    )
    .unwrap();
    let train = reference_fixture("ct_train.npy");
    let test = reference_fixture("ct_test.npy");
    for name in ["clean", "copying", "underfit"] {
        let want = expected["c_t"][name].as_f64().unwrap();
        let gen = reference_fixture(&format!("ct_gen_{name}.npy"));
        for distance in ["euclidean", "cosine"] {
            let r = run_json(&[
                "nn",
                s(&train),
                s(&gen),
                "--real-test",
                s(&test),
                "--distance",
                distance,
            ]);
            let got = r["values"]["c_t"].as_f64().unwrap();
            // The metrics test's tolerance (same cells, same ranks).
            assert!(
                (got - want).abs() < 1e-9,
                "{name} {distance}: {got} vs {want}"
            );
        }
    }
}
