//! `geneval nn`: copies of the real set planted in a generated set are all
//! found, each paired with the image it copies; a clean twin set has none.

use crate::common::*;
use std::path::Path;

fn generate(folder: &Path, seed: &str) {
    let out = geneval()
        .args([
            "generate",
            s(folder),
            "--n",
            "30",
            "--size",
            "32",
            "--seed",
            seed,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn planted_copies_are_found_and_a_clean_twin_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let (real, twin) = (dir.path().join("real"), dir.path().join("twin"));
    generate(&real, "1");
    generate(&twin, "2");
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
