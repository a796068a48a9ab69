//! `geneval ppl` against transformers' values (tests/fixtures/ppl/expected.json,
//! made by tests/fixtures/ppl/generate.py): corpus windows, llama.cpp's second
//! half, per text as evaluate, a KV-cache export, and bad input.

use crate::common::{assert_rel, assert_success, fixture, geneval, run_error, run_json, s};
use serde_json::Value;
use std::path::PathBuf;

/// Perplexities against transformers (torch, CPU, on the fixture machine):
/// ONNX Runtime and torch sum the logits in other orders, so agreement is to
/// float32 rounding of the logits, far below 1e-4; the tests pass unchanged
/// with ONNX Runtime on its SSE4.2 kernels (`GENEVAL_TEST_RUNNER="qemu-x86_64
/// -cpu Nehalem"`), where the corpus perplexity (`--max-length 64`) moved by
/// 1.6e-9 relative (7.24903353853 vs 7.24903352682, 2026-12-03).
const RTOL: f64 = 1e-4;

fn ppl(rel: &str) -> PathBuf {
    fixture("ppl").join(rel)
}

fn expected() -> Value {
    crate::common::json(&ppl("expected.json"))
}

#[test]
fn corpus_perplexity_equals_transformers_for_every_window_and_batch_size() {
    let dir = ppl("");
    let corpus = ppl("corpus.txt");
    let exp = expected();
    for w in exp["corpus"]["windows"].as_array().unwrap() {
        let (max_length, stride) = (w["max_length"].to_string(), w["stride"].to_string());
        for batch in ["1", "3"] {
            let record = run_json(&[
                "ppl",
                "--model",
                s(&dir),
                s(&corpus),
                "--max-length",
                &max_length,
                "--stride",
                &stride,
                "--batch-size",
                batch,
                "--quiet",
            ]);
            let what = format!("({max_length}, {stride}) batch {batch}");
            assert_eq!(record["metric"], "ppl");
            assert_eq!(
                record["values"]["tokens"],
                w["tokens"].as_f64().unwrap(),
                "{what}"
            );
            let value = record["value"].as_f64().unwrap();
            assert_rel(value, w["perplexity"].as_f64().unwrap(), RTOL, &what);
            for key in ["nll_sum", "bits_per_byte", "word_perplexity"] {
                assert_rel(
                    record["values"][key].as_f64().unwrap(),
                    w[key].as_f64().unwrap(),
                    RTOL,
                    &format!("{what} {key}"),
                );
            }
            assert_eq!(record["settings"]["mode"], "corpus");
        }
    }
    // Without --max-length the window is the model's context from config.json (128).
    let record = run_json(&["ppl", "--model", s(&dir), s(&corpus)]);
    assert_eq!(record["settings"]["max_length"], 128);
    assert_eq!(record["settings"]["stride"], 128);
    let w = &exp["corpus"]["windows"][3];
    assert_eq!(w["max_length"], 128);
    assert_rel(
        record["value"].as_f64().unwrap(),
        w["perplexity"].as_f64().unwrap(),
        RTOL,
        "default",
    );
    assert!(record["warnings"].as_array().unwrap().is_empty());
    let hashes: Vec<&str> = record["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(
        hashes.len(),
        3,
        "model, tokenizer and the text are recorded"
    );
}

#[test]
fn second_half_equals_the_llama_cpp_convention() {
    let exp = expected();
    for w in exp["corpus_second_half"].as_array().unwrap() {
        let n_ctx = w["n_ctx"].to_string();
        let record = run_json(&[
            "ppl",
            "--model",
            s(&ppl("")),
            s(&ppl("corpus.txt")),
            "--score-second-half",
            "--max-length",
            &n_ctx,
            "--batch-size",
            "4",
        ]);
        assert_eq!(record["settings"]["mode"], "second-half");
        assert_eq!(record["values"]["windows"], w["chunks"].as_f64().unwrap());
        assert_eq!(record["values"]["tokens"], w["tokens"].as_f64().unwrap());
        assert_rel(
            record["value"].as_f64().unwrap(),
            w["perplexity"].as_f64().unwrap(),
            RTOL,
            &n_ctx,
        );
        assert_rel(
            record["values"]["nll_sum"].as_f64().unwrap(),
            w["nll_sum"].as_f64().unwrap(),
            RTOL,
            &n_ctx,
        );
    }
}

#[test]
fn kv_cache_export_gives_the_same_numbers() {
    let exp = expected();
    let w = &exp["corpus"]["windows"][1];
    let record = run_json(&[
        "ppl",
        "--model",
        s(&ppl("model_with_past.onnx")),
        s(&ppl("corpus.txt")),
        "--max-length",
        "32",
        "--stride",
        "16",
        "--batch-size",
        "2",
    ]);
    assert_eq!(record["settings"]["kv_cache_export"], true);
    assert_rel(
        record["value"].as_f64().unwrap(),
        w["perplexity"].as_f64().unwrap(),
        RTOL,
        "with past",
    );
}

#[test]
fn per_text_equals_evaluate_with_and_without_start_token() {
    let exp = expected();
    let texts = ppl("texts.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("per_text.jsonl");
    let want = &exp["texts"]["add_start_token"];
    for batch in ["1", "4"] {
        let record = run_json(&[
            "ppl",
            "--model",
            s(&ppl("")),
            "--per-text",
            s(&texts),
            "--batch-size",
            batch,
            "-o",
            s(&out),
        ]);
        assert_eq!(record["settings"]["mode"], "per-text");
        assert_eq!(record["settings"]["start_token_id"], exp["bos_id"]);
        assert_rel(
            record["value"].as_f64().unwrap(),
            want["mean_perplexity"].as_f64().unwrap(),
            RTOL,
            "mean_perplexity",
        );
        let items = record["items"].as_array().unwrap();
        let per_text = want["per_text"].as_array().unwrap();
        assert_eq!(items.len(), per_text.len());
        let (mut nll, mut tokens) = (0.0, 0.0);
        for (got, w) in items.iter().zip(per_text) {
            let what = format!("text {} batch {batch}", w["text_index"]);
            assert_eq!(got["tokens"], w["tokens"], "{what}");
            assert_rel(
                got["perplexity"].as_f64().unwrap(),
                w["perplexity"].as_f64().unwrap(),
                RTOL,
                &what,
            );
            assert_rel(
                got["nll_sum"].as_f64().unwrap(),
                w["nll_sum"].as_f64().unwrap(),
                RTOL,
                &what,
            );
            nll += w["nll_sum"].as_f64().unwrap();
            tokens += w["tokens"].as_f64().unwrap();
        }
        assert_rel(
            record["values"]["perplexity"].as_f64().unwrap(),
            (nll / tokens).exp(),
            RTOL,
            "perplexity over all texts",
        );
        // The --output file holds the same rows.
        let lines: Vec<Value> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(&lines, items);
    }
    // Without a start token the one-token text is skipped and counted.
    let record = run_json(&[
        "ppl",
        "--model",
        s(&ppl("")),
        "--per-text",
        s(&texts),
        "--no-start-token",
    ]);
    let want = &exp["texts"]["no_start_token"];
    assert_eq!(record["values"]["skipped_texts"], 1.0);
    assert_eq!(
        record["values"]["texts"],
        want["per_text"].as_array().unwrap().len() as f64
    );
    assert_rel(
        record["value"].as_f64().unwrap(),
        want["mean_perplexity"].as_f64().unwrap(),
        RTOL,
        "mean without start token",
    );
    let skipped = &record["items"][2];
    assert!(
        skipped["skipped"].as_str().unwrap().contains("1 token"),
        "{skipped}"
    );
    assert!(record["warnings"][0]
        .as_str()
        .unwrap()
        .contains("1 text(s)"));
    // A plain file holds one text per line.
    let plain = dir.path().join("texts.txt");
    let lines: Vec<String> = std::fs::read_to_string(&texts)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .filter(|t| !t.contains('\n'))
        .collect();
    std::fs::write(&plain, lines.join("\n") + "\n").unwrap();
    let record = run_json(&["ppl", "--model", s(&ppl("")), "--per-text", s(&plain)]);
    assert_eq!(record["items"].as_array().unwrap().len(), lines.len());
    assert_rel(
        record["items"][0]["perplexity"].as_f64().unwrap(),
        exp["texts"]["add_start_token"]["per_text"][0]["perplexity"]
            .as_f64()
            .unwrap(),
        RTOL,
        "plain text line 1",
    );
}

#[test]
fn human_summary_and_no_progress_in_a_pipe() {
    let out = geneval()
        .args([
            "ppl",
            "--model",
            s(&ppl("")),
            s(&ppl("corpus.txt")),
            "--max-length",
            "64",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("perplexity "), "{stdout}");
    assert!(stdout.contains("tokens/s"), "{stdout}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_input_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = ppl("");
    let m = s(&model);
    // Empty file, one-token corpus, non-UTF-8 with the offset.
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    let err = run_error(&["ppl", "--model", m, s(&empty)]);
    assert!(err.contains("empty.txt has 0 token(s)"), "{err}");
    let short = dir.path().join("short.txt");
    std::fs::write(&short, b"a").unwrap();
    let err = run_error(&["ppl", "--model", m, s(&short)]);
    assert!(err.contains("the corpus has 1 token(s)"), "{err}");
    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"caf\xe9 au lait").unwrap();
    let err = run_error(&["ppl", "--model", m, s(&latin1)]);
    assert!(err.contains("not UTF-8: invalid byte at offset 3"), "{err}");
    assert!(err.contains("iconv"), "{err}");
    // Per text: every text too short; a broken JSONL line.
    let blanks = dir.path().join("blanks.txt");
    std::fs::write(&blanks, b"\n\n").unwrap();
    let err = run_error(&["ppl", "--model", m, "--per-text", s(&blanks)]);
    assert!(err.contains("every one of the 2 texts"), "{err}");
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, "{\"text\": \"fine\"}\n{\"text\": \"cut").unwrap();
    let err = run_error(&["ppl", "--model", m, "--per-text", s(&broken)]);
    assert!(err.contains("broken.jsonl:2:"), "{err}");
    // A window longer than the model's 128 positions.
    let corpus = ppl("corpus.txt");
    let err = run_error(&["ppl", "--model", m, s(&corpus), "--max-length", "256"]);
    assert!(err.contains("longer than the 128 positions"), "{err}");
    assert!(err.contains("--max-length"), "{err}");
    // A tokenizer with ids the model cannot score.
    let mut tok: Value = crate::common::json(&ppl("tokenizer.json"));
    tok["added_tokens"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": 700, "content": "<extra>", "single_word": false, "lstrip": false,
            "rstrip": false, "normalized": false, "special": true
        }));
    let big = dir.path().join("big_tokenizer.json");
    std::fs::write(&big, tok.to_string()).unwrap();
    let err = run_error(&["ppl", "--model", m, "--tokenizer", s(&big), s(&corpus)]);
    assert!(err.contains("predicts only 500"), "{err}");
    // A model that is not a language model; a missing model.
    let image_model = fixture("models/tiny_nchw.onnx");
    let err = run_error(&[
        "ppl",
        "--model",
        s(&image_model),
        "--tokenizer",
        s(&ppl("tokenizer.json")),
        s(&corpus),
    ]);
    assert!(err.contains("no `input_ids` input"), "{err}");
    let err = run_error(&["ppl", "--model", s(&dir.path().join("nope")), s(&corpus)]);
    assert!(err.contains("no such file or folder"), "{err}");
    // An unknown start token.
    let err = run_error(&[
        "ppl",
        "--model",
        m,
        "--per-text",
        s(&ppl("texts.jsonl")),
        "--start-token",
        "<nope>",
    ]);
    assert!(err.contains("no token `<nope>`"), "{err}");
}

#[test]
fn external_data_is_found_beside_the_model_from_any_working_directory() {
    let exp = expected();
    let w = &exp["corpus"]["windows"][1];
    let elsewhere = tempfile::tempdir().unwrap();
    let out = geneval()
        .current_dir(elsewhere.path())
        .args([
            "ppl",
            "--model",
            s(&ppl("external")),
            s(&ppl("corpus.txt")),
            "--max-length",
            "32",
            "--stride",
            "16",
            "--json",
        ])
        .output()
        .unwrap();
    assert_success(&out, "");
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_rel(
        record["value"].as_f64().unwrap(),
        w["perplexity"].as_f64().unwrap(),
        RTOL,
        "external data",
    );
}
