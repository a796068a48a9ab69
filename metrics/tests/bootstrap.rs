//! FID bootstrap against numpy + scipy (pytorch-fid's formula) on the same
//! draws: `tests/fixtures/bootstrap/generate.py` wrote `expected.json`.

use geneval_metrics::frechet_bootstrap;
use ndarray::Array2;
use ndarray_npy::read_npy;
use serde_json::Value;
use std::path::PathBuf;

#[test]
fn bootstrap_replicates_and_interval_equal_numpy_scipy() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let text = std::fs::read_to_string(root.join("bootstrap/expected.json")).unwrap();
    let expected: Value = serde_json::from_str(&text).unwrap();
    let rtol = expected["rtol"].as_f64().unwrap();
    let close = |got: f64, want: f64, what: &str| {
        assert!(
            (got - want).abs() <= rtol * want.abs(),
            "{what}: got {got}, want {want}"
        );
    };
    for case in expected["cases"].as_array().unwrap() {
        let a: Array2<f64> =
            read_npy(root.join("reference").join(case["a"].as_str().unwrap())).unwrap();
        let b: Array2<f64> =
            read_npy(root.join("reference").join(case["b"].as_str().unwrap())).unwrap();
        let got = frechet_bootstrap(
            a.view(),
            b.view(),
            case["replicates"].as_u64().unwrap() as usize,
            case["level"].as_f64().unwrap(),
            case["seed"].as_u64().unwrap() as u32,
        )
        .unwrap();
        let want: Vec<f64> = case["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(got.replicates.len(), want.len());
        for (i, (g, w)) in got.replicates.iter().zip(&want).enumerate() {
            close(*g, *w, &format!("{} replicate {i}", case["a"]));
        }
        close(got.low, case["low"].as_f64().unwrap(), "low");
        close(got.high, case["high"].as_f64().unwrap(), "high");
        close(got.std, case["std"].as_f64().unwrap(), "std");
    }
}
