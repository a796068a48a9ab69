//! Perplexity against transformers' values in `tests/fixtures/ppl/expected.json`
//! (made by `tests/fixtures/ppl/generate.py`). Tests that run the model are
//! skipped (with a note) where ONNX Runtime is not installed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;
use crate::backend::runtime::{cache_root, cached_library, init, Runtime, INSTALL_COMMAND};

const TOLERANCE: f64 = 1e-4;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ppl")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("valid JSON")
}

fn runtime() -> Option<&'static Runtime> {
    let installed = cache_root().is_some_and(|root| cached_library(&root, false).is_file());
    if !installed {
        eprintln!("note: ONNX Runtime not installed (run {INSTALL_COMMAND}); skipped");
        return None;
    }
    Some(init(None).expect("the installed ONNX Runtime initialises"))
}

fn lm(rt: &Runtime) -> LmSession {
    LmSession::from_file(rt, &fixtures().join("model.onnx"), &one_thread())
        .expect("the fixture model")
}

fn one_thread() -> LmOptions {
    LmOptions {
        threads: Some(1),
        ..LmOptions::default()
    }
}

fn tokenizer() -> TextTokenizer {
    TextTokenizer::from_file(&fixtures().join("tokenizer.json")).expect("the fixture tokenizer")
}

fn texts() -> Vec<String> {
    std::fs::read_to_string(fixtures().join("texts.jsonl"))
        .expect("texts.jsonl")
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            v["text"].as_str().expect("a text").to_owned()
        })
        .collect()
}

/// The fixture corpus and its ids.
fn corpus_and_ids() -> (String, Vec<u32>) {
    let bytes = std::fs::read(fixtures().join("corpus.txt")).unwrap();
    let corpus = text_from_bytes(&bytes, "corpus.txt").unwrap().to_owned();
    let ids = tokenizer().encode(&corpus, 0).unwrap();
    (corpus, ids)
}

/// The ids of every text.
fn encode_all(tok: &TextTokenizer, texts: &[&str]) -> Vec<Vec<u32>> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| tok.encode(t, i).unwrap())
        .collect()
}

fn assert_close(got: f64, want: f64, what: &str) {
    let rel = ((got - want) / want).abs();
    eprintln!("relative error {rel:.3e} {what}");
    assert!(
        rel <= TOLERANCE,
        "{what}: got {got}, want {want} (relative error {rel:e})"
    );
}

#[test]
fn token_ids_equal_python_tokenizers() {
    let tok = tokenizer();
    let exp = expected();
    assert_eq!(tok.vocab_size() as u64, exp["vocab_size"].as_u64().unwrap());
    assert_eq!(
        tok.token_to_id("<|endoftext|>").map(u64::from),
        exp["bos_id"].as_u64()
    );
    for (i, text) in texts().iter().enumerate() {
        let want: Vec<u32> = serde_json::from_value(exp["token_ids"]["texts"][i].clone()).unwrap();
        assert_eq!(tok.encode(text, i).unwrap(), want, "text {i}");
    }
    let corpus = std::fs::read_to_string(fixtures().join("corpus.txt")).unwrap();
    let ids = tok.encode(&corpus, 0).unwrap();
    let want: Vec<u32> =
        serde_json::from_value(exp["token_ids"]["corpus_first_64"].clone()).unwrap();
    assert_eq!(&ids[..64], &want[..]);
    assert_eq!(
        ids.len() as u64,
        exp["corpus"]["tokens_total"].as_u64().unwrap()
    );
}

#[test]
fn corpus_perplexity_equals_transformers_guide_for_every_window_setting() {
    let Some(rt) = runtime() else { return };
    let mut lm = lm(rt);
    let tok = tokenizer();
    lm.check_vocab(tok.vocab_size()).unwrap();
    let bytes = std::fs::read(fixtures().join("corpus.txt")).unwrap();
    let corpus = text_from_bytes(&bytes, "corpus.txt").unwrap();
    let ids = tok.encode(corpus, 0).unwrap();
    let exp = expected();
    assert_eq!(
        count_words(corpus),
        exp["corpus"]["words"].as_u64().unwrap()
    );
    for w in exp["corpus"]["windows"].as_array().unwrap() {
        let windows = Windows {
            max_length: w["max_length"].as_u64().unwrap() as usize,
            stride: w["stride"].as_u64().unwrap() as usize,
        };
        let what = format!("{windows:?}");
        let start = std::time::Instant::now();
        let got = corpus_nll(&mut lm, &ids, corpus, windows).unwrap();
        eprintln!("{what}: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(got.tokens, w["tokens"].as_u64().unwrap(), "{what}");
        assert_close(got.nll_sum, w["nll_sum"].as_f64().unwrap(), &what);
        assert_close(got.perplexity(), w["perplexity"].as_f64().unwrap(), &what);
        assert_close(
            got.bits_per_byte(),
            w["bits_per_byte"].as_f64().unwrap(),
            &what,
        );
        assert_close(
            got.word_perplexity(),
            w["word_perplexity"].as_f64().unwrap(),
            &what,
        );
        // Batching windows does not change the sum (beyond f32 kernels).
        let spans = guide_spans(ids.len(), windows).unwrap();
        let mut fed = 0;
        let batched = corpus_nll_with(&mut lm, &ids, corpus, &spans, 3, &mut |n| fed += n).unwrap();
        assert_eq!(batched.tokens, got.tokens, "{what}");
        assert_close(batched.nll_sum, got.nll_sum, &format!("{what} batch 3"));
        let expected_fed: usize = spans.iter().map(|s| s.end - s.begin).sum();
        assert_eq!(fed as usize, expected_fed);
        // The guide's own accumulation is the exact one when no window overlaps.
        if windows.stride == windows.max_length {
            assert_close(
                got.perplexity(),
                w["guide_perplexity"].as_f64().unwrap(),
                &what,
            );
        }
    }
}

#[test]
fn per_text_perplexity_equals_evaluate_and_does_not_depend_on_batch_size() {
    let Some(rt) = runtime() else { return };
    let mut lm = lm(rt);
    let tok = tokenizer();
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let encoded = encode_all(&tok, &refs);
    let exp = expected();
    let bos = tok.token_to_id("<|endoftext|>");
    let mut by_batch = Vec::new();
    for batch_size in [1, 4, 6] {
        let options = PerTextOptions {
            start_token: bos,
            batch_size,
            max_length: None,
        };
        let got = per_text_nll(&mut lm, &refs, &encoded, options, &mut |_| {}).unwrap();
        let want = &exp["texts"]["add_start_token"];
        for (g, w) in got.iter().zip(want["per_text"].as_array().unwrap()) {
            let what = format!("text {} batch {batch_size}", w["text_index"]);
            assert_eq!(g.tokens, w["tokens"].as_u64().unwrap(), "{what}");
            assert_close(g.perplexity(), w["perplexity"].as_f64().unwrap(), &what);
            assert_close(g.nll_sum, w["nll_sum"].as_f64().unwrap(), &what);
            assert_close(
                g.bits_per_byte(),
                w["bits_per_byte"].as_f64().unwrap(),
                &what,
            );
            assert_close(
                g.word_perplexity(),
                w["word_perplexity"].as_f64().unwrap(),
                &what,
            );
        }
        let mean = got.iter().map(Perplexity::perplexity).sum::<f64>() / got.len() as f64;
        assert_close(mean, want["mean_perplexity"].as_f64().unwrap(), "mean");
        by_batch.push(got);
    }
    for other in &by_batch[1..] {
        for (a, b) in by_batch[0].iter().zip(other) {
            let rel = ((a.nll_sum - b.nll_sum) / a.nll_sum).abs();
            assert!(
                rel < 1e-6,
                "batch size changed nll {} → {}",
                a.nll_sum,
                b.nll_sum
            );
        }
    }
    // Without a start token: texts of at least two tokens only.
    let want = exp["texts"]["no_start_token"]["per_text"]
        .as_array()
        .unwrap();
    let idx: Vec<usize> = want
        .iter()
        .map(|w| w["text_index"].as_u64().unwrap() as usize)
        .collect();
    let sub: Vec<&str> = idx.iter().map(|&i| refs[i]).collect();
    let sub_enc: Vec<Vec<u32>> = idx.iter().map(|&i| encoded[i].clone()).collect();
    let options = PerTextOptions {
        start_token: None,
        batch_size: 4,
        max_length: None,
    };
    let got = per_text_nll(&mut lm, &sub, &sub_enc, options, &mut |_| {}).unwrap();
    for (g, w) in got.iter().zip(want) {
        assert_close(
            g.perplexity(),
            w["perplexity"].as_f64().unwrap(),
            "no start token",
        );
    }
    // The one-token text cannot be scored without a start token.
    let short = idx.len() < refs.len();
    assert!(short, "the fixture has a text shorter than two tokens");
    let err = per_text_nll(&mut lm, &refs, &encoded, options, &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, TextError::TooShort { needed: 2, .. }),
        "{err}"
    );
}

#[test]
fn empty_and_non_utf8_text_are_errors_with_the_offset() {
    let err = text_from_bytes(b"", "a.txt").unwrap_err();
    assert!(
        matches!(err, TextError::TooShort { tokens: 0, .. }),
        "{err}"
    );
    let err = text_from_bytes(b"caf\xc3\xa9 \xff rest", "b.txt").unwrap_err();
    assert!(matches!(err, TextError::NotUtf8 { offset: 6, .. }), "{err}");
    assert!(err.to_string().contains("b.txt") && err.to_string().contains("offset 6"));
}

#[test]
fn words_are_counted_as_python_re_split() {
    assert_eq!(count_words("a b  c"), 3);
    assert_eq!(count_words(" a b "), 4);
    assert_eq!(count_words("a\n\tb\u{a0}c"), 3);
    assert_eq!(count_words("x\u{1f}y"), 2);
    assert_eq!(count_words(""), 1);
}

#[test]
fn vocab_mismatch_is_an_error() {
    let Some(rt) = runtime() else { return };
    let mut lm = lm(rt);
    let vocab = expected()["vocab_size"].as_u64().unwrap() as usize;
    lm.check_vocab(vocab).unwrap();
    let err = lm.check_vocab(vocab + 1).unwrap_err();
    assert!(matches!(err, TextError::VocabMismatch { .. }), "{err}");
    // Ids beyond the logits are caught even when the model's V is dynamic.
    let ids = [1u32, 2, vocab as u32 + 3];
    let err = corpus_nll(
        &mut lm,
        &ids,
        "x y",
        Windows {
            max_length: 8,
            stride: 8,
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, TextError::VocabMismatch { .. }) || matches!(err, TextError::Run { .. }),
        "{err}"
    );
}

#[test]
fn model_without_input_ids_is_refused() {
    let Some(rt) = runtime() else { return };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/tiny_nchw.onnx");
    let err = LmSession::from_file(rt, &path, &one_thread()).unwrap_err();
    assert!(matches!(err, TextError::NotCausalLm { .. }), "{err}");
    assert!(err.to_string().contains("input_ids"), "{err}");
}

#[test]
fn second_half_perplexity_equals_the_llama_cpp_convention_in_torch() {
    let Some(rt) = runtime() else { return };
    let mut lm = lm(rt);
    let (corpus, ids) = corpus_and_ids();
    let corpus = corpus.as_str();
    for w in expected()["corpus_second_half"].as_array().unwrap() {
        let n_ctx = w["n_ctx"].as_u64().unwrap() as usize;
        let spans = second_half_spans(ids.len(), n_ctx).unwrap();
        assert_eq!(spans.len() as u64, w["chunks"].as_u64().unwrap());
        let got = corpus_nll_with(&mut lm, &ids, corpus, &spans, 4, &mut |_| {}).unwrap();
        let what = format!("second half, n_ctx {n_ctx}");
        assert_eq!(got.tokens, w["tokens"].as_u64().unwrap(), "{what}");
        assert_close(got.nll_sum, w["nll_sum"].as_f64().unwrap(), &what);
        assert_close(got.perplexity(), w["perplexity"].as_f64().unwrap(), &what);
        assert_close(
            got.bits_per_byte(),
            w["bits_per_byte"].as_f64().unwrap(),
            &what,
        );
    }
}

#[test]
fn kv_cache_export_fed_an_empty_past_gives_the_same_perplexity() {
    let Some(rt) = runtime() else { return };
    let mut lm = LmSession::from_file(rt, &fixtures().join("model_with_past.onnx"), &one_thread())
        .expect("the with-past export");
    assert!(lm.has_past());
    let (corpus, ids) = corpus_and_ids();
    let corpus = corpus.as_str();
    let exp = expected();
    let w = &exp["corpus"]["windows"][1];
    let windows = Windows {
        max_length: w["max_length"].as_u64().unwrap() as usize,
        stride: w["stride"].as_u64().unwrap() as usize,
    };
    let got = corpus_nll(&mut lm, &ids, corpus, windows).unwrap();
    assert_eq!(got.tokens, w["tokens"].as_u64().unwrap());
    assert_close(
        got.nll_sum,
        w["nll_sum"].as_f64().unwrap(),
        "with past, corpus",
    );
    // Per text, padded batches (the mask covers past + sequence = sequence).
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tok = tokenizer();
    let encoded = encode_all(&tok, &refs);
    let options = PerTextOptions {
        start_token: Some(exp["bos_id"].as_u64().unwrap() as u32),
        batch_size: 4,
        max_length: None,
    };
    let got = per_text_nll(&mut lm, &refs, &encoded, options, &mut |_| {}).unwrap();
    for (g, w) in got.iter().zip(
        exp["texts"]["add_start_token"]["per_text"]
            .as_array()
            .unwrap(),
    ) {
        assert_close(
            g.nll_sum,
            w["nll_sum"].as_f64().unwrap(),
            "with past, per text",
        );
    }
}

#[test]
fn spans_follow_the_guide_and_llama_cpp() {
    let spans = guide_spans(
        10,
        Windows {
            max_length: 4,
            stride: 2,
        },
    )
    .unwrap();
    let got: Vec<_> = spans
        .iter()
        .map(|s| (s.begin, s.end, s.score_from))
        .collect();
    assert_eq!(got, [(0, 4, 1), (2, 6, 4), (4, 8, 6), (6, 10, 8)]);
    let spans = guide_spans(
        9,
        Windows {
            max_length: 4,
            stride: 4,
        },
    )
    .unwrap();
    let got: Vec<_> = spans
        .iter()
        .map(|s| (s.begin, s.end, s.score_from))
        .collect();
    assert_eq!(got, [(0, 4, 1), (4, 8, 5), (8, 9, 9)]);
    // llama.cpp: 2 full chunks of 8, scoring targets 5, 6, 7 of each.
    let spans = second_half_spans(20, 8).unwrap();
    let got: Vec<_> = spans
        .iter()
        .map(|s| (s.begin, s.end, s.score_from))
        .collect();
    assert_eq!(got, [(0, 8, 5), (8, 16, 13)]);
}

#[test]
fn too_short_corpus_and_bad_windows_are_errors() {
    let Some(rt) = runtime() else { return };
    let mut lm = lm(rt);
    let w = Windows {
        max_length: 8,
        stride: 4,
    };
    assert!(matches!(
        corpus_nll(&mut lm, &[5], "a", w),
        Err(TextError::TooShort { .. })
    ));
    let bad = Windows {
        max_length: 8,
        stride: 0,
    };
    let gap = Windows {
        max_length: 8,
        stride: 9,
    };
    assert!(matches!(
        guide_spans(100, gap),
        Err(TextError::InvalidArgument(_))
    ));
    assert!(matches!(
        second_half_spans(7, 8),
        Err(TextError::TooShort { .. })
    ));
    assert!(matches!(
        corpus_nll(&mut lm, &[5, 6], "a", bad),
        Err(TextError::InvalidArgument(_))
    ));
}
