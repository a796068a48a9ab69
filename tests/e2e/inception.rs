//! The FID Inception graph geneval writes (`src/networks/inception/`) against
//! pytorch-fid 0.3 and torch-fidelity 0.4 themselves, on the seeded stand-in
//! weights (`src/networks/inception/seeded.rs`) and the two image folders of
//! `tests/fixtures/inception/` (made by its `generate.py`): features for each
//! `--dims`, statistics, FID and Inception Score through geneval's own
//! pipeline (decode, resize mode, ONNX Runtime, collector, metrics), in the
//! pytorch-fid and the tf mode.

use crate::common::*;
use geneval::backend::{FeatureExtractor, ModelSource, OnnxExtractor, OpenOptions, SpecOverrides};
use geneval::images::decode::DecodeOptions;
use geneval::images::discover::{discover, DiscoverOptions};
use geneval::networks::inception::{self, seeded};
use geneval::pipeline::{self, batch::BatchRecipe, Collector, Want};
use geneval::preprocess::{Preprocessor, ResizeMode};
use geneval_metrics::inception_score::{inception_score, InceptionScore, InceptionScoreSettings};
use geneval_metrics::{frechet_distance, Moments};
use ndarray::Array2;
use ndarray_npy::ReadNpyExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn dir() -> PathBuf {
    fixture("inception")
}

fn expected() -> &'static Value {
    static EXPECTED: OnceLock<Value> = OnceLock::new();
    EXPECTED.get_or_init(|| json(&dir().join("expected.json")))
}

fn seed() -> u64 {
    expected()["seed"].as_u64().unwrap()
}

fn npy(name: &Value) -> Array2<f32> {
    let path = dir().join(name.as_str().unwrap());
    Array2::<f32>::read_npy(std::fs::File::open(&path).unwrap()).unwrap()
}

/// The tolerances of `expected.json` (1e-5 relative). The expected values
/// were computed by pytorch-fid / torch-fidelity (torch, CPU) on the machine
/// that generated the fixtures; geneval computes with ONNX Runtime here.
/// Measured on 2026-12-03 (AMD EPYC, AVX2) for folder `a`, pool3: geneval vs
/// pytorch-fid 4.8e-7 of scale natively, 4.0e-7 with ONNX Runtime forced onto
/// its SSE4.2 kernels (`qemu-x86_64 -cpu Nehalem`), and the two geneval runs
/// 1.8e-7 apart; the FID moves by less than 1.4e-6 relative between machines
/// (`../shared/NOTES.md`). 1e-5 leaves a factor of 7 or more on each.
fn tolerance(path: &[&str]) -> f64 {
    let mut v = &expected()["tolerance"];
    for key in path {
        v = &v[*key];
    }
    v.as_f64().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The ONNX model of the seeded weights, written once per build into cargo's
/// temporary folder for integration tests.
fn model_path() -> &'static PathBuf {
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dict = seeded::seeded_state_dict(seed());
        let bytes = inception::build_onnx(&dict).unwrap();
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("fid_inception_seeded_{}.onnx", seed()));
        if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            let temp = path.with_extension("tmp");
            std::fs::write(&temp, &bytes).unwrap();
            std::fs::rename(&temp, &path).unwrap();
        }
        path
    })
}

/// One folder through the pipeline: the `features` output's rows, the
/// unbiased logits and the streaming moments.
struct Run {
    rows: Array2<f32>,
    logits: Array2<f32>,
    moments: Moments,
}

fn run(folder: &str, mode: ResizeMode, features: &str, batch: usize) -> Run {
    let options = OpenOptions {
        overrides: SpecOverrides {
            features: Some(features.into()),
            logits: Some(inception::LOGITS_UNBIASED.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut extractor = OnnxExtractor::open(&ModelSource::File(model_path().clone()), &options)
        .expect("ONNX Runtime opens the FID Inception graph (scripts/install-onnxruntime)");
    let size = inception::INPUT_SIZE;
    let recipe = BatchRecipe::for_spec(
        extractor.spec(),
        Preprocessor::new(mode, size, size).unwrap(),
        DecodeOptions::default(),
        false,
    );
    let paths = discover(
        &dir().join("images").join(folder),
        DiscoverOptions::default(),
    )
    .unwrap();
    let mut collector = Collector::new(Want {
        moments: true,
        rows: true,
        logits: true,
    });
    pipeline::run(
        &paths,
        &recipe,
        batch,
        &mut extractor,
        &mut collector,
        &mut |_| {},
    )
    .unwrap();
    Run {
        rows: collector.take_rows().unwrap(),
        logits: collector.take_logits().unwrap(),
        moments: collector.moments.take().unwrap(),
    }
}

/// `max |got − want| / max |want|`, after checking the shapes.
fn relative_error(got: &Array2<f32>, want: &Array2<f32>, what: &str) -> f64 {
    assert_eq!(got.dim(), want.dim(), "{what}: shapes");
    let scale = want.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
    let worst = got.iter().zip(want).fold(0.0f64, |m, (&a, &b)| {
        m.max((f64::from(a) - f64::from(b)).abs())
    });
    assert!(scale > 0.0, "{what}: reference is all zero");
    worst / scale
}

fn assert_features(got: &Array2<f32>, want: &Array2<f32>, what: &str) {
    let err = relative_error(got, want, what);
    let tol = tolerance(&["features", "rtol_of_scale"]);
    eprintln!("{what}: max relative difference {err:.2e}");
    assert!(
        err <= tol,
        "{what}: max |diff| / scale = {err:.3e} > {tol:e}"
    );
}

fn assert_rel(got: f64, want: f64, rtol: f64, what: &str) {
    let err = (got - want).abs() / want.abs();
    eprintln!("{what}: {got} vs {want} (relative {err:.2e})");
    assert!(
        err <= rtol,
        "{what}: {got} vs {want}, relative {err:.3e} > {rtol:e}"
    );
}

/// The mean within the relative tolerance; the standard deviation of the
/// split scores within the same tolerance of the mean (it is a small
/// difference of the split scores, whose error scales with the mean).
fn assert_score(got: &InceptionScore, want: &Value, what: &str) {
    let rtol = tolerance(&["inception_score", "rtol"]);
    let mean = want["mean"].as_f64().unwrap();
    assert_rel(got.mean, mean, rtol, &format!("{what}: mean"));
    let std = want["std"].as_f64().unwrap();
    eprintln!("{what}: std {} vs {std}", got.std);
    assert!(
        (got.std - std).abs() <= rtol * mean,
        "{what}: std {} vs {std}",
        got.std
    );
}

#[test]
fn seeded_weights_equal_the_fixtures() {
    let weights = &expected()["weights"];
    let dict = seeded::seeded_state_dict(seed());
    assert_eq!(
        seeded::content_sha256(&dict),
        weights["content_sha256"].as_str().unwrap()
    );
    for (key, values) in weights["samples"].as_object().unwrap() {
        let want: Vec<f32> = values
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(dict[key].data[..want.len()], want[..], "{key}");
    }
    // The layout is torch's state_dict() of pytorch-fid's FIDInceptionV3.
    let layout: String = inception::expected_keys()
        .iter()
        .map(|(key, shape)| {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("{key} {}\n", dims.join("x"))
        })
        .collect();
    assert_eq!(
        hex(&Sha256::digest(layout.as_bytes())),
        weights["layout_sha256"].as_str().unwrap()
    );
    assert_eq!(inception::expected_keys().len() as u64, weights["tensors"]);
}

#[test]
fn features_statistics_and_fid_equal_pytorch_fids_for_every_dims() {
    let pf = &expected()["pytorch_fid"];
    for (dims, output) in inception::DIMS {
        let key = dims.to_string();
        let a = run("a", ResizeMode::PytorchFid, output, 4);
        let b = run("b", ResizeMode::PytorchFid, output, 4);
        assert_features(
            &a.rows,
            &npy(&pf["features"][&key]["a"]),
            &format!("--dims {dims}, folder a"),
        );
        if let Some(name) = pf["features"][&key].get("b") {
            assert_features(&b.rows, &npy(name), &format!("--dims {dims}, folder b"));
        }
        let rtol = tolerance(&["fid", "rtol"]);
        let (ga, gb) = (a.moments.gaussian().unwrap(), b.moments.gaussian().unwrap());
        for (name, g) in [("a", &ga), ("b", &gb)] {
            let want = &pf["stats"][&key][name];
            let what = format!("--dims {dims}, folder {name}");
            assert_rel(
                g.mu.sum(),
                want["mu_sum"].as_f64().unwrap(),
                rtol,
                &format!("{what}: sum of mu"),
            );
            let trace: f64 = g.sigma.diag().sum();
            assert_rel(
                trace,
                want["sigma_trace"].as_f64().unwrap(),
                rtol,
                &format!("{what}: trace of sigma"),
            );
        }
        let fid = frechet_distance(&ga, &gb).unwrap().value;
        let want = &pf["fid"][&key];
        assert_rel(
            fid,
            want["value"].as_f64().unwrap(),
            rtol,
            &format!("--dims {dims}: FID"),
        );
        assert_rel(
            fid,
            want["pytorch_fid_sqrtm"].as_f64().unwrap(),
            rtol,
            &format!("--dims {dims}: FID vs pytorch-fid's sqrtm"),
        );
        if let Some(v) = want.get("pytorch_fid_calculate_fid_given_paths") {
            assert_rel(fid, v.as_f64().unwrap(), rtol, "calculate_fid_given_paths");
        }
    }
}

#[test]
fn logits_and_inception_score_equal_torch_fidelitys() {
    let isc = &expected()["inception_score"];
    let settings = InceptionScoreSettings {
        splits: isc["splits"].as_u64().unwrap() as usize,
        shuffle_seed: Some(isc["rng_seed"].as_u64().unwrap() as u32),
    };
    for folder in ["a", "b"] {
        // Batch 6 here (one batch), 4 in the FID test: the batch does not matter.
        let run = run(folder, ResizeMode::PytorchFid, inception::POOL3, 6);
        if folder == "a" {
            let want = npy(&isc["logits_unbiased_a"]);
            assert_features(&run.logits, &want, "logits_unbiased, folder a");
        }
        let score = inception_score(run.logits.mapv(f64::from).view(), &settings).unwrap();
        assert_score(&score, &isc[folder], &format!("IS, folder {folder}"));
    }
}

#[test]
fn tf_mode_equals_torch_fidelitys_inception_v3_compat() {
    let tf = &expected()["tf"];
    let a = run("a", ResizeMode::Tf, inception::POOL3, 3);
    let b = run("b", ResizeMode::Tf, inception::POOL3, 3);
    assert_features(
        &a.rows,
        &npy(&tf["features"]["2048"]["a"]),
        "tf mode, pool3, folder a",
    );
    assert_features(
        &a.logits,
        &npy(&tf["logits_unbiased_a"]),
        "tf mode, logits_unbiased, folder a",
    );
    let isc = &tf["inception_score_a"];
    let settings = InceptionScoreSettings {
        splits: isc["splits"].as_u64().unwrap() as usize,
        shuffle_seed: Some(isc["rng_seed"].as_u64().unwrap() as u32),
    };
    let score = inception_score(a.logits.mapv(f64::from).view(), &settings).unwrap();
    assert_score(&score, isc, "tf mode: IS");
    let fid = frechet_distance(
        &a.moments.gaussian().unwrap(),
        &b.moments.gaussian().unwrap(),
    )
    .unwrap()
    .value;
    assert_rel(
        fid,
        tf["fid"]["value"].as_f64().unwrap(),
        tolerance(&["fid", "rtol"]),
        "tf mode: FID",
    );
}

#[test]
fn the_graph_declares_its_outputs() {
    let options = OpenOptions::default();
    let extractor =
        OnnxExtractor::open(&ModelSource::File(model_path().clone()), &options).unwrap();
    let spec = extractor.spec();
    assert_eq!(spec.input, inception::INPUT_NAME);
    assert_eq!((spec.width, spec.height), (299, 299));
    // pool3 is the first output, so a plain `--model model.onnx` gets the FID features.
    assert_eq!(spec.features, inception::POOL3);
}
