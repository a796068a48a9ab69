//! Image folders through ONNX models: features equal onnxruntime-in-Python's
//! on the same images (tests/fixtures/models, made by its generate.py), every
//! command over folders with the built-in network, and bad input.

use crate::common::*;
use ndarray::Array2;
use ndarray_npy::ReadNpyExt;
use std::path::{Path, PathBuf};

fn models(rel: &str) -> PathBuf {
    fixture(&format!("models/{rel}"))
}

fn read_f32(path: &Path) -> Array2<f32> {
    Array2::<f32>::read_npy(std::fs::File::open(path).unwrap()).unwrap()
}

fn assert_close(got: &Array2<f32>, want: &Array2<f32>, tol: f32, what: &str) {
    assert_eq!(got.dim(), want.dim(), "{what}: shapes");
    let worst = got
        .iter()
        .zip(want.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= tol, "{what}: max |diff| {worst} > {tol}");
}

/// `expected.json`'s 1e-5 (absolute; features of order 1): the expected
/// features were computed by onnxruntime in Python on the fixture machine.
/// The tests using it pass unchanged with the binary run on an emulated
/// SSE4.2 CPU (`GENEVAL_TEST_RUNNER="qemu-x86_64 -cpu Nehalem"`), where the
/// built-in network's features move by 1.5e-8 of scale
/// (`tests/fixtures/spread/measured.json`, `fake_mu_vs_native`).
fn tolerance() -> f32 {
    json(&models("expected.json"))["tolerance"]
        .as_f64()
        .unwrap() as f32
}

/// `geneval features` of the fixture images with `model` and `extra` flags,
/// compared with onnxruntime-in-Python's `expected` file; returns the record.
fn features_match(model: &str, extra: &[&str], expected: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let (images, model) = (models("images"), models(model));
    let mut args = vec!["features", s(&images), "--model", s(&model), "-o", s(&out)];
    args.extend_from_slice(extra);
    let record = run_json(&args);
    assert_close(
        &read_f32(&out),
        &read_f32(&models(expected)),
        tolerance(),
        expected,
    );
    record
}

/// A folder of `n` small PNGs; `shift` changes their content.
fn image_folder(dir: &Path, name: &str, n: u32, shift: u8) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..n {
        let img = image::RgbImage::from_fn(32 + i % 5, 24 + i % 3, |x, y| {
            let v = (x * 7 + y * 13 + i * 31) as u8;
            image::Rgb([
                v.wrapping_add(shift),
                (v / 2).wrapping_mul(3),
                shift.wrapping_mul(x as u8),
            ])
        });
        img.save(folder.join(format!("{i:03}.png"))).unwrap();
    }
    folder
}

#[test]
fn features_equal_onnxruntime_python_nchw_with_logits_and_spatial_pooling() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("vec.npy");
    let logits = dir.path().join("logits.npy");
    let record = run_json(&[
        "features",
        s(&models("images")),
        "--model",
        s(&models("tiny_nchw.onnx")),
        "--features-output",
        "vec",
        "--logits-output",
        "logits",
        "--logits",
        s(&logits),
        "-o",
        s(&out),
        "--batch-size",
        "2",
    ]);
    assert_eq!(record["metric"], "features");
    assert_eq!(record["values"]["images"], 5.0);
    assert_close(
        &read_f32(&out),
        &read_f32(&models("tiny_nchw.vec.npy")),
        tolerance(),
        "vec",
    );
    assert_close(
        &read_f32(&logits),
        &read_f32(&models("tiny_nchw.logits.npy")),
        tolerance(),
        "logits",
    );

    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, r#"{"features": "map", "pooling": "spatial"}"#).unwrap();
    features_match(
        "tiny_nchw.onnx",
        &["--model-spec", s(&spec)],
        "tiny_nchw.map_pooled.npy",
    );
}

#[test]
fn features_equal_onnxruntime_python_nhwc_with_sidecar_normalisation() {
    features_match("tiny_nhwc.onnx", &[], "tiny_nhwc.emb.npy");
}

#[test]
fn fixed_batch_models_get_padded_batches() {
    let record = features_match("fixed_batch.onnx", &[], "fixed_batch.vec.npy");
    assert_eq!(record["values"]["images"], 5.0);
}

#[test]
fn builtin_fid_over_folders_and_statistics_agree() {
    let dir = tempfile::tempdir().unwrap();
    let a = image_folder(dir.path(), "a", 12, 0);
    let b = image_folder(dir.path(), "b", 10, 90);
    let same = run_json(&["fid", s(&a), s(&a), "--model", "builtin"]);
    assert!(same["value"].as_f64().unwrap().abs() < 1e-6, "{same}");
    let record = run_json(&[
        "fid",
        s(&a),
        s(&b),
        "--model",
        "builtin",
        "--batch-size",
        "4",
    ]);
    let fid = record["value"].as_f64().unwrap();
    assert!(fid > 0.0, "{record}");
    assert_eq!(record["settings"]["model"], "builtin");
    assert_eq!(record["settings"]["mode"], "pytorch-fid");
    assert_eq!(record["inputs"][0]["kind"], "images");
    assert_eq!(record["inputs"][0]["count"], 12);
    assert_eq!(record["values"]["images"], 22.0);
    let warnings = record["warnings"].to_string();
    assert!(warnings.contains("NOT comparable"), "{warnings}");

    // Batch size does not change the number; statistics files give the same FID.
    let other = run_json(&[
        "fid",
        s(&a),
        s(&b),
        "--model",
        "builtin",
        "--batch-size",
        "50",
    ]);
    assert_rel(other["value"].as_f64().unwrap(), fid, 1e-9, "batch size");
    let stats = dir.path().join("a.npz");
    run_json(&["stats", s(&a), "-o", s(&stats), "--model", "builtin"]);
    let via_stats = run_json(&["fid", s(&stats), s(&b), "--model", "builtin"]);
    assert_rel(
        via_stats["value"].as_f64().unwrap(),
        fid,
        1e-9,
        "stats file",
    );

    // Another preprocessing mode is another number, and is recorded.
    let clean = run_json(&["fid", s(&a), s(&b), "--model", "builtin", "--mode", "clean"]);
    assert_eq!(clean["settings"]["mode"], "clean");
    assert_ne!(clean["value"].as_f64().unwrap(), fid);
}

#[test]
fn partial_statistics_from_folders_merge_to_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let a = image_folder(dir.path(), "a", 9, 0);
    let b = image_folder(dir.path(), "b", 7, 40);
    let list = dir.path().join("all.txt");
    let mut lines = String::new();
    for folder in [&a, &b] {
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            lines.push_str(&format!("{}\n", f.display()));
        }
    }
    std::fs::write(&list, lines).unwrap();
    let (pa, pb, merged, whole) = (
        dir.path().join("a.npz"),
        dir.path().join("b.npz"),
        dir.path().join("m.npz"),
        dir.path().join("w.npz"),
    );
    for (folder, out) in [(&a, &pa), (&b, &pb)] {
        run_json(&[
            "stats",
            s(folder),
            "--partial",
            "-o",
            s(out),
            "--model",
            "builtin",
        ]);
    }
    run_json(&["merge", s(&pa), s(&pb), "-o", s(&merged)]);
    let at_list = format!("@{}", list.display());
    run_json(&["stats", &at_list, "-o", s(&whole), "--model", "builtin"]);
    let d = run_json(&["fid", s(&merged), s(&whole)]);
    assert!(d["value"].as_f64().unwrap().abs() < 1e-6, "{d}");
}

#[test]
fn is_kid_prdc_run_over_folders() {
    let dir = tempfile::tempdir().unwrap();
    let a = image_folder(dir.path(), "a", 12, 0);
    let b = image_folder(dir.path(), "b", 12, 77);
    let is = run_json(&["is", s(&a), "--model", "builtin", "--splits", "2"]);
    assert!(is["value"].as_f64().unwrap() >= 1.0, "{is}");
    assert_eq!(is["inputs"][0]["dim"], 16);
    let kid = run_json(&[
        "kid",
        s(&a),
        s(&b),
        "--model",
        "builtin",
        "--subsets",
        "5",
        "--subset-size",
        "6",
    ]);
    assert!(kid["value"].as_f64().unwrap().is_finite());
    let prdc = run_json(&[
        "prdc",
        s(&a),
        s(&b),
        "--model",
        "builtin",
        "--k",
        "3",
        "--pr-k",
        "3",
    ]);
    assert!(prdc["values"]["coverage"].as_f64().unwrap() >= 0.0);

    // Folder and the features file written from it give the same KID.
    let feats = dir.path().join("a.npy");
    run_json(&["features", s(&a), "-o", s(&feats), "--model", "builtin"]);
    let kid_file = run_json(&[
        "kid",
        s(&feats),
        s(&b),
        "--model",
        "builtin",
        "--subsets",
        "5",
        "--subset-size",
        "6",
    ]);
    assert_rel(
        kid_file["value"].as_f64().unwrap(),
        kid["value"].as_f64().unwrap(),
        1e-12,
        "kid from file",
    );
}

#[test]
fn bad_images_stop_with_the_path_or_are_skipped_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let a = image_folder(dir.path(), "a", 6, 0);
    std::fs::write(a.join("zz_corrupt.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    std::fs::write(a.join("zz_empty.jpg"), b"").unwrap();
    let stderr = run_error(&["fid", s(&a), s(&a), "--model", "builtin"]);
    assert!(stderr.contains("zz_corrupt.png"), "{stderr}");
    assert!(stderr.contains("--skip-bad"), "{stderr}");

    let record = run_json(&["fid", s(&a), s(&a), "--model", "builtin", "--skip-bad"]);
    assert_eq!(record["inputs"][0]["count"], 6);
    let skipped = record["settings"]["skipped"].to_string();
    assert!(
        skipped.contains("zz_corrupt.png") && skipped.contains("zz_empty.jpg"),
        "{skipped}"
    );
    assert!(
        record["warnings"].to_string().contains("skipped 2"),
        "{record}"
    );

    let only_bad = dir.path().join("bad");
    std::fs::create_dir(&only_bad).unwrap();
    std::fs::write(only_bad.join("x.png"), b"").unwrap();
    let stderr = run_error(&[
        "stats",
        s(&only_bad),
        "-o",
        "/tmp/never.npz",
        "--model",
        "builtin",
        "--skip-bad",
    ]);
    assert!(stderr.contains("none of the 1 images"), "{stderr}");
}

#[test]
fn empty_folders_and_folders_without_images_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let stderr = run_error(&[
        "stats",
        s(&empty),
        "-o",
        "/tmp/never.npz",
        "--model",
        "builtin",
    ]);
    assert!(stderr.contains("empty"), "{stderr}");
    let texts = dir.path().join("texts");
    std::fs::create_dir(&texts).unwrap();
    std::fs::write(texts.join("notes.txt"), "hello").unwrap();
    let stderr = run_error(&[
        "stats",
        s(&texts),
        "-o",
        "/tmp/never.npz",
        "--model",
        "builtin",
    ]);
    assert!(stderr.contains("texts"), "{stderr}");
    assert!(!dir.path().join("never.npz").exists());
}

#[test]
fn unreadable_folder_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let locked = image_folder(dir.path(), "locked", 2, 0);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable_anyway = std::fs::read_dir(&locked).is_ok();
    if !readable_anyway {
        let stderr = run_error(&[
            "stats",
            s(&locked),
            "-o",
            "/tmp/never.npz",
            "--model",
            "builtin",
        ]);
        assert!(stderr.contains("locked"), "{stderr}");
    } else {
        eprintln!(
            "note: running as root, a mode-000 folder stays readable; checked a file in its place"
        );
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A side that is neither a folder nor a known file type.
    let file = dir.path().join("images.tar");
    std::fs::write(&file, b"x").unwrap();
    let stderr = run_error(&["fid", s(&file), s(&locked), "--model", "builtin"]);
    assert!(stderr.contains("images.tar"), "{stderr}");
}

#[test]
fn model_problems_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let a = image_folder(dir.path(), "a", 3, 0);
    let out = dir.path().join("f.npy");
    let run = |model: &str, extra: &[&str]| {
        let mut args = vec!["features", s(&a), "-o", s(&out), "--model", model];
        args.extend_from_slice(extra);
        run_error(&args)
    };
    let stderr = run(s(&dir.path().join("missing.onnx")), &[]);
    assert!(
        stderr.contains("missing.onnx") && stderr.contains("does not exist"),
        "{stderr}"
    );
    assert!(stderr.contains("--model builtin"), "{stderr}");

    let garbage = dir.path().join("garbage.onnx");
    std::fs::write(&garbage, b"this is not protobuf").unwrap();
    let stderr = run(s(&garbage), &[]);
    assert!(stderr.contains("garbage.onnx"), "{stderr}");

    let stderr = run(s(&models("int_input.onnx")), &[]);
    assert!(
        stderr.contains("int_input.onnx") && stderr.contains("float32"),
        "{stderr}"
    );

    let stderr = run(
        s(&models("tiny_nchw.onnx")),
        &["--features-output", "pool3"],
    );
    assert!(
        stderr.contains("pool3") && stderr.contains("vec"),
        "{stderr}"
    );

    // `map` is [N, 4, 8, 8]: without pooling in the spec it is refused.
    let stderr = run(s(&models("tiny_nchw.onnx")), &["--features-output", "map"]);
    assert!(stderr.contains("pooling"), "{stderr}");

    let stderr = run(s(&models("nan_output.onnx")), &[]);
    assert!(
        stderr.contains("NaN") && stderr.contains("000.png"),
        "{stderr}"
    );

    let bad_spec = dir.path().join("bad.json");
    std::fs::write(&bad_spec, r#"{"layuot": "NCHW"}"#).unwrap();
    let stderr = run(
        s(&models("tiny_nchw.onnx")),
        &["--model-spec", s(&bad_spec)],
    );
    assert!(
        stderr.contains("bad.json") && stderr.contains("layuot"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written after an error");
}

#[test]
fn offline_default_model_and_cuda_without_a_gpu_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let a = image_folder(dir.path(), "a", 2, 0);
    // Without --model: fid-inception, which an offline machine without it
    // in the cache cannot get; the message names both ways out.
    let cache = tempfile::tempdir().unwrap();
    let out = geneval()
        .args(["fid", s(&a), s(&a)])
        .env("GENEVAL_CACHE_DIR", cache.path())
        .env("GENEVAL_OFFLINE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--model builtin"), "{stderr}");
    assert!(stderr.contains("models import"), "{stderr}");
    // The CPU build of ONNX Runtime (what CI installs) has no CUDA provider.
    let out = geneval()
        .args([
            "fid",
            s(&a),
            s(&a),
            "--model",
            "builtin",
            "--device",
            "cuda",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        eprintln!(
            "note: a CUDA-capable ONNX Runtime is installed here; the refusal is not checked"
        );
    } else {
        assert!(stderr.contains("cannot run on cuda:0"), "{stderr}");
        assert!(stderr.contains("--device cpu"), "{stderr}");
    }
}

#[test]
fn progress_stays_off_stderr_when_it_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let a = image_folder(dir.path(), "a", 3, 0);
    let out = geneval()
        .args([
            "stats",
            s(&a),
            "-o",
            s(&dir.path().join("s.npz")),
            "--model",
            "builtin",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("3/3"),
        "no progress bar in a pipe: {stderr}"
    );
}
