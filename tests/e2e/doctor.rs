//! `geneval doctor` and the ONNX Runtime it finds: a bogus library is a
//! clear error (never a panic), the installed one (scripts/install-onnxruntime,
//! which CI runs first) is found, reported and runs a model.

use crate::common::*;
use geneval::backend::runtime::{self, ORT_VERSION};
use std::path::PathBuf;

/// The library the installer puts in the cache, when it is there.
fn installed_library() -> Option<PathBuf> {
    let path = runtime::cached_library(&runtime::cache_root()?, false);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "note: {} is absent (run scripts/install-onnxruntime); skipped",
            path.display()
        );
        None
    }
}

#[test]
fn bogus_ort_dylib_path_is_an_error_with_the_path_and_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("libonnxruntime.so.bogus");
    std::fs::write(&bogus, "not a shared library\n").unwrap();
    let out = geneval()
        .arg("doctor")
        .env("ORT_DYLIB_PATH", &bogus)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error:"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(stderr.contains(s(&bogus)), "names the file: {stderr}");
    assert!(stderr.contains("ORT_DYLIB_PATH"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "no data on failure");
}

#[test]
fn missing_ort_lib_flag_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.so");
    let stderr = run_error(&["doctor", "--ort-lib", s(&missing)]);
    assert!(stderr.contains(s(&missing)), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn nothing_found_lists_each_place_and_the_install_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = geneval()
        .arg("doctor")
        .env_remove("ORT_DYLIB_PATH")
        .env("GENEVAL_CACHE_DIR", dir.path())
        .env("PYTHON", dir.path().join("no-python"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(stderr.contains("scripts/install-onnxruntime"), "{stderr}");
    let cached = runtime::cached_library(dir.path(), false);
    assert!(stderr.contains(s(&cached)), "lists the cache: {stderr}");
    assert!(
        stderr.contains("no-python"),
        "lists the Python probe: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn doctor_reports_the_installed_runtime() {
    let Some(lib) = installed_library() else {
        return;
    };
    let record = run_json(&["doctor", "--ort-lib", s(&lib)]);
    assert_eq!(record["metric"], "doctor");
    let found = &record["settings"];
    assert_eq!(found["schema"], "geneval.doctor/v1");
    assert_eq!(found["version"], ORT_VERSION);
    assert_eq!(found["found_via"], "--ort-lib");
    assert_eq!(found["usable"], true);
    assert_eq!(found["smoke_test"]["ok"], true);
    let providers = found["providers"].as_array().unwrap();
    assert!(
        providers.iter().any(|p| p == "CPUExecutionProvider"),
        "{providers:?}"
    );
    assert!(found["cuda"]["reason"].as_str().unwrap().contains("CUDA"));

    let out = geneval()
        .args(["doctor", "--ort-lib", s(&lib)])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("ONNX Runtime {ORT_VERSION}")),
        "{text}"
    );
    assert!(text.contains(s(&lib)), "{text}");
}

#[test]
fn doctor_finds_the_cache_without_being_told() {
    let Some(lib) = installed_library() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cached = runtime::cached_library(dir.path(), false);
    std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&lib, &cached).unwrap();
    let out = geneval()
        .args(["doctor", "--json"])
        .env_remove("ORT_DYLIB_PATH")
        .env("GENEVAL_CACHE_DIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["settings"]["found_via"], "geneval cache (cpu)");
    assert_eq!(record["settings"]["library"], s(&cached));
    assert_eq!(
        record["settings"]["onnxruntime_cache"]["cpu_installed"],
        true
    );
}

/// The committed one-node model (tests/fixtures/onnx/generate.py) through
/// `ort` in this process gives exactly what onnxruntime in Python gave.
#[test]
fn a_fixture_model_runs_like_onnxruntime_in_python() {
    let Some(lib) = installed_library() else {
        return;
    };
    let runtime = runtime::init(Some(&lib)).unwrap();
    assert_eq!(runtime.version, ORT_VERSION);
    runtime.smoke_test().unwrap();

    let expected = json(&fixture("onnx/expected.json"));
    let matrix = |key: &str| -> Vec<f32> {
        expected[key]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
            })
            .collect()
    };
    let mut session = ort::session::Session::builder(&runtime.environment)
        .unwrap()
        .commit_from_file(fixture("onnx/add.onnx"))
        .unwrap();
    let x = ort::value::Tensor::from_array(([2usize, 3], matrix("x"))).unwrap();
    let y = ort::value::Tensor::from_array(([2usize, 3], matrix("y"))).unwrap();
    let outputs = session.run(ort::inputs!["x" => x, "y" => y]).unwrap();
    let (shape, z) = outputs["z"].try_extract_tensor::<f32>().unwrap();
    assert_eq!(shape.to_vec(), vec![2i64, 3]);
    assert_eq!(z, matrix("z").as_slice());
}

#[test]
fn doctor_lists_a_models_ports_and_resolved_spec() {
    let model = fixture("models/tiny_nhwc.onnx");
    let record = run_json(&["doctor", "--model", s(&model)]);
    let m = &record["settings"]["model"];
    assert!(
        m["inputs"][0]
            .as_str()
            .unwrap()
            .starts_with("img (float32 [?, 12, 10, 3])"),
        "{m}"
    );
    assert_eq!(m["spec"]["layout"], "NHWC");
    assert_eq!(m["spec"]["features"], "emb");
    assert!(m["spec_file"]
        .as_str()
        .unwrap()
        .ends_with("tiny_nhwc.onnx.json"));

    let bad = fixture("models/int_input.onnx");
    let record = run_json(&["doctor", "--model", s(&bad)]);
    let error = record["settings"]["model"]["spec"]["error"]
        .as_str()
        .unwrap();
    assert!(error.contains("float32"), "{error}");
}
