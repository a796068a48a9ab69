//! `geneval ppl`: perplexity of text files under an ONNX causal language
//! model, in corpus mode (transformers' sliding windows, or llama.cpp's
//! second-half chunks) or per text (Hugging Face evaluate's metric).

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::Outcome;
use crate::backend::{runtime, Device};
use crate::cli::{GlobalArgs, PplArgs};
use crate::progress;
use crate::record::{input_record, ModelRecord, RecordBuilder, ResultRecord};
use crate::text::{
    corpus_nll_with, guide_spans, per_text_nll, per_text_sequence, read_corpus, read_texts,
    second_half_spans, LmFiles, LmOptions, LmSession, ModelConfig, PerTextOptions, Perplexity,
    TextError, TextTokenizer, Windows,
};

/// The context assumed when config.json does not give one (GPT-2's).
const DEFAULT_CONTEXT: usize = 1024;

/// Tokens the tokenizers try, in order, as the start token.
const BOS_CANDIDATES: [&str; 4] = ["<|endoftext|>", "<s>", "<bos>", "<|begin_of_text|>"];

/// A loaded model with what the record says about it.
struct Loaded {
    lm: LmSession,
    tokenizer: TextTokenizer,
    config: ModelConfig,
    files: LmFiles,
}

fn load(args: &PplArgs) -> Result<Loaded> {
    let files = LmFiles::resolve(&args.model, args.tokenizer.as_deref())?;
    let config = match &files.config {
        Some(path) => ModelConfig::from_file(path)?,
        None => ModelConfig::default(),
    };
    let tokenizer = TextTokenizer::from_file(&files.tokenizer)?;
    let rt = runtime::init(args.ort_lib.as_deref())?;
    let options = LmOptions {
        threads: args.threads,
        device: args.device,
        config: config.clone(),
    };
    let lm = LmSession::from_file(rt, &files.model, &options)?;
    lm.check_vocab(tokenizer.vocab_size())?;
    Ok(Loaded {
        lm,
        tokenizer,
        config,
        files,
    })
}

/// The start token: --start-token, config.json's bos_token_id, or a
/// well-known BOS the tokenizer has.
fn start_token(args: &PplArgs, loaded: &Loaded) -> Result<Option<u32>> {
    if args.no_start_token {
        return Ok(None);
    }
    if let Some(token) = &args.start_token {
        return match loaded.tokenizer.token_to_id(token) {
            Some(id) => Ok(Some(id)),
            None => bail!(
                "the tokenizer has no token `{token}` (hint: pass the model's BOS token, \
                 or --no-start-token)"
            ),
        };
    }
    if let Some(id) = loaded.config.bos_token_id {
        return Ok(Some(id));
    }
    match BOS_CANDIDATES
        .iter()
        .find_map(|t| loaded.tokenizer.token_to_id(t))
    {
        Some(id) => Ok(Some(id)),
        None => bail!(
            "no start (BOS) token known for {} (hint: pass --start-token TOKEN, or \
             --no-start-token to score texts from their second token)",
            loaded.files.tokenizer.display()
        ),
    }
}

fn check_positions(what: &str, length: usize, loaded: &Loaded) -> Result<(), TextError> {
    match loaded.config.max_positions {
        Some(positions) if length > positions => Err(TextError::TooLong {
            what: what.to_owned(),
            length,
            positions,
            path: loaded.files.model.clone(),
        }),
        _ => Ok(()),
    }
}

fn set_perplexity(record: &mut ResultRecord, p: &Perplexity) {
    record
        .set("perplexity", p.perplexity())
        .set("tokens", p.tokens as f64)
        .set("nll_sum", p.nll_sum)
        .set("bits_per_byte", p.bits_per_byte())
        .set("word_perplexity", p.word_perplexity())
        .set("bytes", p.bytes as f64)
        .set("words", p.words as f64);
}

fn describe_model(record: &mut ResultRecord, loaded: &Loaded, args: &PplArgs) {
    record.device = args.device.to_string();
    record.setting("model", loaded.files.model.display().to_string());
    record.setting("tokenizer", loaded.files.tokenizer.display().to_string());
    if let Some(positions) = loaded.config.max_positions {
        record.setting("model_positions", positions as u64);
    }
    record.setting("kv_cache_export", loaded.lm.has_past());
    for (path, kind) in [
        (&loaded.files.model, "model"),
        (&loaded.files.tokenizer, "tokenizer"),
    ] {
        record.inputs.push(input_record(path, kind, None, None));
    }
    record.model = Some(ModelRecord {
        name: args.model.display().to_string(),
        id: record.inputs[0]
            .sha256
            .as_ref()
            .map(|h| format!("sha256:{h}")),
    });
}

fn default_batch(device: Device, per_text: bool) -> usize {
    match (device, per_text) {
        (Device::Cpu, false) => 1,
        (Device::Cpu, true) => 8,
        (Device::Cuda(_), false) => 4,
        (Device::Cuda(_), true) => 32,
    }
}

/// Runs `geneval ppl`.
pub fn run(args: &PplArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("ppl");
    let mut loaded = load(args)?;
    let batch_size = args
        .batch_size
        .unwrap_or_else(|| default_batch(args.device, args.per_text));
    if batch_size == 0 {
        bail!(TextError::InvalidArgument(
            "--batch-size must be at least 1".into()
        ));
    }
    describe_model(builder.record(), &loaded, args);
    builder.record().setting("batch_size", batch_size as u64);
    let summary = if args.per_text {
        run_per_text(args, global, &mut loaded, batch_size, builder.record())?
    } else {
        run_corpus(args, global, &mut loaded, batch_size, builder.record())?
    };
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}

fn run_corpus(
    args: &PplArgs,
    global: &GlobalArgs,
    loaded: &mut Loaded,
    batch_size: usize,
    record: &mut ResultRecord,
) -> Result<Vec<String>> {
    let mut parts = Vec::new();
    for path in &args.files {
        parts.push(read_corpus(path)?);
        record.inputs.push(input_record(path, "text", None, None));
    }
    let text = parts.join("\n\n");
    let ids = loaded.tokenizer.encode_with_special_tokens(&text, 0)?;
    let max_length = args
        .max_length
        .or(loaded.config.max_positions)
        .unwrap_or(DEFAULT_CONTEXT);
    check_positions("--max-length", max_length, loaded)?;
    let (spans, mode) = if args.score_second_half {
        (second_half_spans(ids.len(), max_length)?, "second-half")
    } else {
        if ids.len() < 2 {
            bail!(TextError::TooShort {
                what: "the corpus".into(),
                tokens: ids.len(),
                needed: 2,
            });
        }
        let stride = args.stride.unwrap_or(max_length);
        record.setting("stride", stride as u64);
        let windows = Windows { max_length, stride };
        (guide_spans(ids.len(), windows)?, "corpus")
    };
    record.setting("mode", mode);
    record.mode = Some(mode.to_owned());
    record.setting("max_length", max_length as u64);
    let fed: u64 = spans.iter().map(|s| (s.end - s.begin) as u64).sum();
    let bar = progress::tokens(fed, "ppl", progress::enabled(global.quiet));
    let started = Instant::now();
    let result = corpus_nll_with(&mut loaded.lm, &ids, &text, &spans, batch_size, &mut |n| {
        bar.inc(n)
    })
    .with_context(|| format!("scoring {}", loaded.files.model.display()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    set_perplexity(record, &result);
    record.value = Some(result.perplexity());
    record
        .set("windows", spans.len() as f64)
        .set("tokens_fed", fed as f64)
        .set("tokens_per_second", fed as f64 / seconds.max(1e-9))
        .set("model_seconds", seconds);
    if args.max_length.is_none() && loaded.config.max_positions.is_none() {
        record.warnings.push(format!(
            "no config.json with the model's context next to it; windows of {DEFAULT_CONTEXT} \
             tokens assumed (set --max-length)"
        ));
    }
    Ok(vec![
        format!(
            "perplexity {:.6}  ({} tokens scored in {} windows of ≤{max_length}; {mode})",
            result.perplexity(),
            result.tokens,
            spans.len()
        ),
        format!(
            "nll_sum {:.6}  bits/byte {:.6}  word perplexity {:.4}",
            result.nll_sum,
            result.bits_per_byte(),
            result.word_perplexity()
        ),
        format!(
            "{fed} tokens through the model in {seconds:.2} s ({:.0} tokens/s)",
            fed as f64 / seconds.max(1e-9)
        ),
    ])
}

/// A text and why it was not scored, if it was not.
struct Item {
    source: String,
    text: String,
    ids: Vec<u32>,
    /// Tokens fed to the model: start token and ids, truncated.
    sequence_len: usize,
    skipped: Option<String>,
}

fn run_per_text(
    args: &PplArgs,
    global: &GlobalArgs,
    loaded: &mut Loaded,
    batch_size: usize,
    record: &mut ResultRecord,
) -> Result<Vec<String>> {
    let start = start_token(args, loaded)?;
    let options = PerTextOptions {
        start_token: start,
        batch_size,
        max_length: args.max_length,
    };
    let mut items = Vec::new();
    for path in &args.files {
        let texts = read_texts(path, &args.text_field)?;
        record
            .inputs
            .push(input_record(path, "texts", Some(texts.len() as u64), None));
        for (line, text) in texts.into_iter().enumerate() {
            let index = items.len();
            let ids = loaded.tokenizer.encode(&text, index)?;
            let sequence_len = per_text_sequence(&ids, &options).len();
            let skipped = (sequence_len < 2).then(|| {
                format!(
                    "{} token(s); {} needed",
                    ids.len(),
                    if start.is_some() { 1 } else { 2 }
                )
            });
            items.push(Item {
                source: format!("{}:{}", path.display(), line + 1),
                text,
                ids,
                sequence_len,
                skipped,
            });
        }
    }
    if items.is_empty() {
        bail!(TextError::TooShort {
            what: "the input (no texts)".into(),
            tokens: 0,
            needed: 1,
        });
    }
    let scored: Vec<&Item> = items.iter().filter(|i| i.skipped.is_none()).collect();
    if scored.is_empty() {
        bail!(TextError::TooShort {
            what: format!("every one of the {} texts", items.len()),
            tokens: 0,
            needed: if start.is_some() { 1 } else { 2 },
        });
    }
    if args.max_length.is_none() {
        if let Some(longest) = scored.iter().map(|i| i.sequence_len).max() {
            check_positions("the longest text", longest, loaded)?;
        }
    }
    let texts: Vec<&str> = scored.iter().map(|i| i.text.as_str()).collect();
    let encoded: Vec<Vec<u32>> = scored.iter().map(|i| i.ids.clone()).collect();
    let fed: u64 = scored.iter().map(|i| i.sequence_len as u64).sum();
    let bar = progress::tokens(fed, "ppl", progress::enabled(global.quiet));
    let started = Instant::now();
    let results = per_text_nll(&mut loaded.lm, &texts, &encoded, options, &mut |n| {
        bar.inc(n)
    })
    .with_context(|| format!("scoring {}", loaded.files.model.display()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();

    let mut total = Perplexity {
        tokens: 0,
        nll_sum: 0.0,
        bytes: 0,
        words: 0,
    };
    for r in &results {
        total.tokens += r.tokens;
        total.nll_sum += r.nll_sum;
        total.bytes += r.bytes;
        total.words += r.words;
    }
    let mean = results.iter().map(Perplexity::perplexity).sum::<f64>() / results.len() as f64;
    let mut rows = Vec::with_capacity(items.len());
    let mut next = results.iter();
    for (index, item) in items.iter().enumerate() {
        let row = match &item.skipped {
            Some(reason) => json!({"index": index, "source": item.source, "skipped": reason}),
            None => {
                let r = next.next().expect("one result per scored text");
                json!({
                    "index": index, "source": item.source, "tokens": r.tokens,
                    "nll_sum": r.nll_sum, "perplexity": r.perplexity(),
                    "bits_per_byte": r.bits_per_byte(), "word_perplexity": r.word_perplexity(),
                })
            }
        };
        rows.push(row);
    }
    let skipped = items.len() - results.len();
    if let Some(path) = &args.output {
        write_jsonl(path, &rows)?;
        record.outputs.push(path.display().to_string());
    }
    set_perplexity(record, &total);
    record.value = Some(mean);
    record
        .set("mean_perplexity", mean)
        .set("texts", results.len() as f64)
        .set("skipped_texts", skipped as f64)
        .set("tokens_fed", fed as f64)
        .set("tokens_per_second", fed as f64 / seconds.max(1e-9))
        .set("model_seconds", seconds);
    record.setting("mode", "per-text");
    record.mode = Some("per-text".into());
    record.setting("add_start_token", start.is_some());
    if let Some(id) = start {
        record.setting("start_token_id", id as u64);
    }
    if let Some(max) = args.max_length {
        record.setting("max_length", max as u64);
    }
    if skipped > 0 {
        record.warnings.push(format!(
            "{skipped} text(s) too short to score were skipped (see `skipped` in the items)"
        ));
    }
    record.items = rows;

    let mut summary = vec![format!(
        "mean perplexity {mean:.6} over {} texts ({skipped} skipped); perplexity over all tokens {:.6}",
        results.len(),
        total.perplexity()
    )];
    const SHOWN: usize = 20;
    for row in record.items.iter().take(SHOWN) {
        let line = match row.get("perplexity").and_then(|v| v.as_f64()) {
            Some(p) => format!(
                "  {:>5}  {:>12.4}  {:>6} tokens  {}",
                row["index"],
                p,
                row["tokens"],
                row["source"].as_str().unwrap_or("")
            ),
            None => format!(
                "  {:>5}  {:>12}  {}  {}",
                row["index"],
                "skipped",
                row["skipped"].as_str().unwrap_or(""),
                row["source"].as_str().unwrap_or("")
            ),
        };
        summary.push(line);
    }
    if record.items.len() > SHOWN {
        summary.push(format!(
            "  … {} more (--output FILE.jsonl or --json for all)",
            record.items.len() - SHOWN
        ));
    }
    summary.push(format!(
        "{fed} tokens through the model in {seconds:.2} s ({:.0} tokens/s)",
        fed as f64 / seconds.max(1e-9)
    ));
    Ok(summary)
}

fn write_jsonl(path: &Path, rows: &[serde_json::Value]) -> Result<()> {
    let mut bytes = Vec::new();
    for row in rows {
        serde_json::to_writer(&mut bytes, row)?;
        bytes.push(b'\n');
    }
    crate::fs::write_bytes_atomically(path, &bytes)?;
    Ok(())
}
