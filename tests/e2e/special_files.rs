//! The readers of whole files other than arrays and images: `geneval ppl`'s
//! texts, `tokenizer.json` and `config.json`, `geneval gate`'s config and a
//! model spec sidecar. Each, given a link to `/dev/zero` (which never ends:
//! read whole, it fills memory) or a FIFO (whose open blocks until something
//! writes to it), exits 2 within seconds with a message naming the file and
//! saying it is not a regular file, and its peak RSS (read as in `bounds.rs`)
//! stays near that of a valid run.
//!
//! Was: each read its file with `read_to_string`/`fs::read`; a FIFO named
//! `gate.toml` hung forever, and `config.json -> /dev/zero` was silently
//! skipped while `--tokenizer` pointing at it grew without end.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Peak RSS allowed: ONNX Runtime and the tiny models of the fixtures are
/// loaded by some of these runs (a valid `ppl` on the fixture peaks far
/// below this); `/dev/zero` read whole passes it within a fraction of a second.
const BOUND_MIB: f64 = 160.0;
/// A refusal takes well under a second; this is for a loaded CI machine.
/// A run still going at [`KILL_AFTER`] is killed and fails the test.
const WITHIN: Duration = Duration::from_secs(20);
const KILL_AFTER: Duration = Duration::from_secs(60);

/// Makes `dir/name` a link to `/dev/zero` (`fifo` false) or a FIFO, and
/// returns it with what the message must call it.
fn special(dir: &Path, name: &str, fifo: bool) -> (PathBuf, &'static str) {
    let path = dir.join(name);
    if fifo {
        mkfifo(&path);
        (path, "a FIFO (named pipe), not a regular file")
    } else {
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        (path, "a device, not a regular file")
    }
}

/// Runs geneval with `args`: exit 2, `names` in the message, quick, small.
fn refused(args: &[&str], names: &[&str]) {
    let mut cmd = geneval_std();
    cmd.args(args);
    let start = Instant::now();
    let run = run_measured(cmd, KILL_AFTER);
    let took = start.elapsed();
    assert_refused(args, &run, names, BOUND_MIB);
    assert!(took < WITHIN, "geneval {args:?} took {took:?}");
    eprintln!(
        "{args:?}: exit 2 in {:.2} s at {:.1} MiB peak RSS",
        took.as_secs_f64(),
        run.peak_rss_mib()
    );
}

fn ppl(rel: &str) -> PathBuf {
    fixture("ppl").join(rel)
}

#[test]
fn ppl_texts_that_are_dev_zero_or_a_fifo_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = ppl("");
    for fifo in [false, true] {
        let sub = dir.path().join(if fifo { "fifo" } else { "zero" });
        std::fs::create_dir(&sub).unwrap();
        let (corpus, kind) = special(&sub, "corpus.txt", fifo);
        refused(
            &["ppl", "--model", s(&model), s(&corpus)],
            &["corpus.txt", kind],
        );
        let (texts, kind) = special(&sub, "texts.jsonl", fifo);
        refused(
            &["ppl", "--model", s(&model), "--per-text", s(&texts)],
            &["texts.jsonl", kind],
        );
    }
}

#[test]
fn ppl_tokenizer_and_config_that_are_dev_zero_or_a_fifo_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = ppl("corpus.txt");
    for fifo in [false, true] {
        // Named by --tokenizer.
        let sub = dir.path().join(if fifo { "fifo" } else { "zero" });
        std::fs::create_dir(&sub).unwrap();
        let (tokenizer, kind) = special(&sub, "tokenizer.json", fifo);
        refused(
            &[
                "ppl",
                "--model",
                s(&ppl("")),
                "--tokenizer",
                s(&tokenizer),
                s(&corpus),
            ],
            &["tokenizer.json", kind],
        );

        // Beside the model, found by name: refused as what they are, not
        // reported missing (tokenizer) or silently skipped (config).
        let folder = sub.join("model");
        std::fs::create_dir(&folder).unwrap();
        std::os::unix::fs::symlink(ppl("model.onnx"), folder.join("model.onnx")).unwrap();
        std::os::unix::fs::symlink(ppl("config.json"), folder.join("config.json")).unwrap();
        special(&folder, "tokenizer.json", fifo);
        refused(
            &["ppl", "--model", s(&folder), s(&corpus)],
            &["tokenizer.json", kind],
        );
        std::fs::remove_file(folder.join("tokenizer.json")).unwrap();
        std::fs::remove_file(folder.join("config.json")).unwrap();
        std::os::unix::fs::symlink(ppl("tokenizer.json"), folder.join("tokenizer.json")).unwrap();
        special(&folder, "config.json", fifo);
        refused(
            &["ppl", "--model", s(&folder), s(&corpus)],
            &["config.json", kind],
        );
    }
}

#[test]
fn gate_config_that_is_dev_zero_or_a_fifo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for fifo in [false, true] {
        let sub = dir.path().join(if fifo { "fifo" } else { "zero" });
        std::fs::create_dir(&sub).unwrap();
        let (config, kind) = special(&sub, "gate.toml", fifo);
        refused(&["gate", s(&config)], &["gate.toml", kind]);
    }
}

#[test]
fn model_spec_that_is_dev_zero_or_a_fifo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let images = fixture("models/images");
    let model = fixture("models/tiny_nchw.onnx");
    let out = dir.path().join("out.npy");
    for fifo in [false, true] {
        let sub = dir.path().join(if fifo { "fifo" } else { "zero" });
        std::fs::create_dir(&sub).unwrap();
        let (spec, kind) = special(&sub, "m.onnx.json", fifo);
        refused(
            &[
                "features",
                s(&images),
                "--model",
                s(&model),
                "--model-spec",
                s(&spec),
                "-o",
                s(&out),
            ],
            &["m.onnx.json", kind],
        );
    }
    assert!(!out.exists(), "nothing written after an error");

    // The automatic sidecar beside the model (MODEL.onnx.json): was skipped
    // without a word when it was not a regular file, dropping the user's spec.
    for fifo in [false, true] {
        let sub = dir
            .path()
            .join(if fifo { "auto-fifo" } else { "auto-zero" });
        std::fs::create_dir(&sub).unwrap();
        let copy = sub.join("m.onnx");
        std::fs::copy(&model, &copy).unwrap();
        let (_, kind) = special(&sub, "m.onnx.json", fifo);
        refused(
            &["features", s(&images), "--model", s(&copy), "-o", s(&out)],
            &["m.onnx.json", kind],
        );
    }
    assert!(!out.exists(), "nothing written after an error");
}
