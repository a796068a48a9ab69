//! Every metric against its reference implementation, on the fixtures that
//! `tests/fixtures/reference/generate.py` wrote with pytorch-fid, torch-fidelity,
//! the `prdc` package, numpy and mpmath, and `generate_cmmd.py` with numpy
//! (versions and tolerances are in `expected.json` and `cmmd_expected.json`
//! beside them; nothing here needs Python).

use geneval_metrics::cmmd::{cmmd, CmmdOptions};
use geneval_metrics::inception_score::{inception_score, InceptionScoreSettings};
use geneval_metrics::kid::{kid, KidSettings};
use geneval_metrics::numpy_random::RandomState;
use geneval_metrics::prdc::{improved_precision_recall, prdc};
use geneval_metrics::{frechet_distance, frechet_distance_from_features, Gaussian};
use ndarray::{Array1, Array2};
use ndarray_npy::{read_npy, NpzReader};
use serde_json::Value;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference")
}

fn expected() -> Value {
    read_json("expected.json")
}

fn read_json(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn features(name: &Value) -> Array2<f64> {
    read_npy(fixtures().join(name.as_str().unwrap())).unwrap()
}

fn statistics(name: &Value) -> Gaussian {
    let file = std::fs::File::open(fixtures().join(name.as_str().unwrap())).unwrap();
    let mut npz = NpzReader::new(file).unwrap();
    let mu: Array1<f64> = npz.by_name("mu").unwrap();
    let sigma: Array2<f64> = npz.by_name("sigma").unwrap();
    Gaussian::new(mu, sigma).unwrap()
}

/// Asserts `|got − value| ≤ atol + rtol·|value|` for an expected-value object.
fn check(got: f64, e: &Value, label: &str) {
    let value = e["value"].as_f64().unwrap();
    let rtol = e["rtol"].as_f64().unwrap();
    let atol = e["atol"].as_f64().unwrap();
    let bound = atol + rtol * value.abs();
    assert!(
        (got - value).abs() <= bound,
        "{label}: got {got}, expected {value} (|diff| {:e} > {bound:e}; reference: {})",
        (got - value).abs(),
        e["reference"]
    );
}

#[test]
fn fid_matches_pytorch_fid_and_high_precision_references() {
    let all = expected();
    let cases = all["fid"].as_object().unwrap();
    assert!(cases.len() >= 6);
    for (case, c) in cases {
        let a = features(&c["inputs"]["a"]);
        let b = features(&c["inputs"]["b"]);
        let from_features = frechet_distance_from_features(a.view(), b.view()).unwrap();
        let from_statistics = frechet_distance(
            &statistics(&c["inputs"]["stats_a"]),
            &statistics(&c["inputs"]["stats_b"]),
        )
        .unwrap();
        let e = &c["expected"];
        for (route, d) in [
            ("features", &from_features),
            ("statistics", &from_statistics),
        ] {
            let label = format!("{case} via {route}");
            check(d.value, &e["fid_sqrtm"], &format!("{label} vs pytorch-fid"));
            // Both routes, singular covariances included (N < D), must meet
            // the 50-digit reference at 1e-6.
            check(d.value, &e["fid_mpmath"], &format!("{label} vs mpmath"));
            // Beyond the fixture's tolerance: geneval's eigenvalue route is
            // accurate to ~1e-12 even where scipy's sqrtm loses 1e-8 (the
            // README states this, so it is tested).
            let exact = e["fid_mpmath"]["value"].as_f64().unwrap();
            if exact > 1e-6 {
                assert!(
                    (d.value - exact).abs() <= 1e-11 * exact,
                    "{label}: {} vs mpmath {exact}",
                    d.value
                );
            }
            check(
                d.value,
                &e["fid_nuclear"],
                &format!("{label} vs nuclear norm"),
            );
            check(d.value, &e["fid_eigh"], &format!("{label} vs eigh"));
            let comp = &c["components"];
            check(
                d.mean_term,
                &comp["mean_sq_diff"],
                &format!("{label} mean term"),
            );
            check(
                d.trace_a,
                &comp["trace_sigma_a"],
                &format!("{label} trace a"),
            );
            check(
                d.trace_b,
                &comp["trace_sigma_b"],
                &format!("{label} trace b"),
            );
            check(
                d.trace_sqrt_product,
                &comp["trace_sqrt_product"],
                &format!("{label} sqrt trace"),
            );
            assert!(d.value >= 0.0 && d.value.is_finite(), "{label}: {d:?}");
        }
        if let Some(inv) = c.get("invariant") {
            check(
                from_statistics.value,
                &inv["fid_equals_mean_sq_diff"],
                &format!("{case} invariant"),
            );
        }
    }
}

#[test]
fn fid_statistics_from_features_match_numpy_cov() {
    let all = expected();
    for (case, c) in all["fid"].as_object().unwrap() {
        let ours = Gaussian::from_features(features(&c["inputs"]["a"]).view()).unwrap();
        let theirs = statistics(&c["inputs"]["stats_a"]);
        let scale = theirs.sigma.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, y) in ours.sigma.iter().zip(theirs.sigma.iter()) {
            assert!((x - y).abs() <= 1e-12 * scale, "{case}: sigma {x} vs {y}");
        }
        for (x, y) in ours.mu.iter().zip(theirs.mu.iter()) {
            assert!(
                (x - y).abs() <= 1e-12 * y.abs().max(1.0),
                "{case}: mu {x} vs {y}"
            );
        }
    }
}

#[test]
fn inception_score_matches_torch_fidelity() {
    let all = expected();
    let cases = all["inception_score"].as_object().unwrap();
    assert!(cases.len() >= 3);
    for (case, c) in cases {
        let logits = features(&c["inputs"]["logits"]);
        let permutation: Vec<usize> = c["permutation_seed_2020"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(
            RandomState::new(2020).permutation(logits.nrows()),
            permutation,
            "{case}"
        );
        for r in c["results"].as_array().unwrap() {
            let p = &r["params"];
            let settings = InceptionScoreSettings {
                splits: p["splits"].as_u64().unwrap() as usize,
                shuffle_seed: if p["shuffle"].as_bool().unwrap() {
                    Some(p["rng_seed"].as_u64().unwrap() as u32)
                } else {
                    None
                },
            };
            let score = inception_score(logits.view(), &settings).unwrap();
            check(
                score.mean,
                &r["mean"],
                &format!("IS {case} {settings:?} mean"),
            );
            check(score.std, &r["std"], &format!("IS {case} {settings:?} std"));
        }
    }
}

#[test]
fn kid_matches_torch_fidelity() {
    let all = expected();
    let cases = all["kid"].as_object().unwrap();
    assert!(cases.len() >= 3);
    for (case, c) in cases {
        let a = features(&c["inputs"]["a"]);
        let b = features(&c["inputs"]["b"]);
        let p = &c["params"];
        let settings = KidSettings {
            subsets: p["subsets"].as_u64().unwrap() as usize,
            subset_size: Some(p["subset_size"].as_u64().unwrap() as usize),
            degree: p["degree"].as_u64().unwrap() as u32,
            gamma: p["gamma"].as_f64(),
            coef0: p["coef0"].as_f64().unwrap(),
            seed: p["rng_seed"].as_u64().unwrap() as u32,
        };
        let result = kid(a.view(), b.view(), &settings).unwrap();
        check(result.mean, &c["mean"], &format!("KID {case} mean"));
        check(result.std, &c["std"], &format!("KID {case} std"));
    }
}

#[test]
fn kid_subset_draws_equal_numpy() {
    let all = expected();
    let seq = &all["numpy_random"]["kid_choice_sequence"];
    let (n_a, n_b, m) = (
        seq["n_a"].as_u64().unwrap() as usize,
        seq["n_b"].as_u64().unwrap() as usize,
        seq["subset_size"].as_u64().unwrap() as usize,
    );
    let mut rng = RandomState::new(seq["seed"].as_u64().unwrap() as u32);
    let as_vec = |v: &Value| -> Vec<usize> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    };
    for pair in seq["pairs"].as_array().unwrap() {
        assert_eq!(rng.choice_without_replacement(n_a, m), as_vec(&pair["a"]));
        assert_eq!(rng.choice_without_replacement(n_b, m), as_vec(&pair["b"]));
    }
    for p in all["numpy_random"]["permutations"].as_array().unwrap() {
        let seed = p["seed"].as_u64().unwrap() as u32;
        let n = p["n"].as_u64().unwrap() as usize;
        assert_eq!(
            RandomState::new(seed).permutation(n),
            as_vec(&p["permutation"]),
            "seed {seed} n {n}"
        );
    }
}

#[test]
fn prdc_matches_prdc_package_and_torch_fidelity() {
    let all = expected();
    let cases = all["prdc"].as_object().unwrap();
    assert!(cases.len() >= 2);
    for (case, c) in cases {
        let real = features(&c["inputs"]["real"]);
        let fake = features(&c["inputs"]["fake"]);
        for e in c["prdc"].as_array().unwrap() {
            let k = e["nearest_k"].as_u64().unwrap() as usize;
            let r = prdc(real.view(), fake.view(), k).unwrap();
            check(
                r.precision,
                &e["precision"],
                &format!("{case} k={k} precision"),
            );
            check(r.recall, &e["recall"], &format!("{case} k={k} recall"));
            check(r.density, &e["density"], &format!("{case} k={k} density"));
            check(
                r.coverage,
                &e["coverage"],
                &format!("{case} k={k} coverage"),
            );
        }
        for e in c["torch_fidelity_prc"].as_array().unwrap() {
            let k = e["neighborhood"].as_u64().unwrap() as usize;
            let r = improved_precision_recall(real.view(), fake.view(), k).unwrap();
            let ratio = |v: &Value| v[0].as_f64().unwrap() / v[1].as_f64().unwrap();
            assert_eq!(
                r.precision,
                ratio(&e["precision_count"]),
                "{case} k={k} improved precision count"
            );
            assert_eq!(
                r.recall,
                ratio(&e["recall_count"]),
                "{case} k={k} improved recall count"
            );
            check(
                r.precision,
                &e["precision"],
                &format!("{case} k={k} improved precision"),
            );
            check(
                r.recall,
                &e["recall"],
                &format!("{case} k={k} improved recall"),
            );
        }
    }
}

#[test]
fn cmmd_matches_a_float64_reimplementation_of_google_research_cmmd() {
    let all = read_json("cmmd_expected.json");
    let cases = all["cmmd"].as_object().unwrap();
    assert!(cases.len() >= 3);
    // The fixture's numbers themselves, so a regenerated file that moved
    // them is noticed (the extended-precision value of the CLIP-like case).
    assert_eq!(
        all["cmmd"]["clip_like_shifted"]["results"][0]["value_extended"]["value"].as_f64(),
        Some(1.5384188811622876)
    );
    for (case, c) in cases {
        let x = features(&c["inputs"]["x"]);
        let y = features(&c["inputs"]["y"]);
        for r in c["results"].as_array().unwrap() {
            let p = &r["params"];
            // The default tiles (one per sum here) and small uneven ones.
            for block_rows in [CmmdOptions::default().block_rows, 48] {
                let options = CmmdOptions {
                    sigma: p["sigma"].as_f64().unwrap(),
                    scale: p["scale"].as_f64().unwrap(),
                    block_rows,
                };
                let got = cmmd(x.view(), y.view(), &options).unwrap();
                let label = format!("CMMD {case} {options:?}");
                // Against the float64 numpy transcription (plain exp, rtol 1e-9)...
                check(got.value, &r["value"], &label);
                check(got.mean_k_xx(), &r["mean_k_xx"], &format!("{label} K_xx"));
                check(got.mean_k_yy(), &r["mean_k_yy"], &format!("{label} K_yy"));
                check(got.mean_k_xy(), &r["mean_k_xy"], &format!("{label} K_xy"));
                // ...and against the long-double value of these inputs,
                // which summing k − 1 in float64 meets to rtol 1e-12.
                check(
                    got.value,
                    &r["value_extended"],
                    &format!("{label} extended"),
                );
                for (part, key) in [
                    (got.mean_xx_minus_one, "mean_xx_minus_one_extended"),
                    (got.mean_yy_minus_one, "mean_yy_minus_one_extended"),
                    (got.mean_xy_minus_one, "mean_xy_minus_one_extended"),
                ] {
                    check(part, &r[key], &format!("{label} {key}"));
                }
            }
        }
    }
}

/// C_T against scikit-learn's PCA/KMeans/NearestNeighbors and scipy's
/// Mann–Whitney U as dgm-eval's `compute_CTscore` uses them
/// (`generate_ct.py`, clusters clear enough that every k-means finds the
/// same cells): near 0 for fresh samples, strongly negative with half the
/// samples copied from the training set, positive for underfitting. The
/// fixture also holds dgm-eval's own `compute_CTscore` on the same inputs
/// (with its pinned numpy 1.23.3, scipy 1.9.3, scikit-learn 1.1.3): the
/// same three values to the bit, checked here too.
#[test]
fn c_t_matches_dgm_eval_definition_with_sklearn_and_scipy() {
    use geneval_metrics::data_copying::data_copying;
    let all = read_json("ct_expected.json");
    let train: Array2<f64> = read_npy(fixtures().join("ct_train.npy")).unwrap();
    let test: Array2<f64> = read_npy(fixtures().join("ct_test.npy")).unwrap();
    // The fixture's own numbers, so a regenerated file that moved is noticed.
    assert_eq!(all["c_t"]["copying"].as_f64(), Some(-3.5564606880917884));
    for (name, want) in all["c_t"].as_object().unwrap() {
        let gen: Array2<f64> = read_npy(fixtures().join(format!("ct_gen_{name}.npy"))).unwrap();
        let got = data_copying(train.view(), test.view(), gen.view()).unwrap();
        let want = want.as_f64().unwrap();
        // Tolerance from the fixture's JSON: same cells, same ranks.
        assert!(
            (got.c_t - want).abs() < 1e-9,
            "C_T {name}: {} vs {want}",
            got.c_t
        );
        let dgm_eval = all["dgm_eval"]["c_t"][name].as_f64().unwrap();
        assert!(
            (got.c_t - dgm_eval).abs() < 1e-9,
            "C_T {name}: {} vs dgm-eval's own {dgm_eval}",
            got.c_t
        );
    }
}
