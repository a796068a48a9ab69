//! `geneval ppl` arguments.

use clap::Args;
use std::path::PathBuf;

use crate::backend::Device;

/// `geneval ppl`.
#[derive(Debug, Args)]
pub struct PplArgs {
    /// UTF-8 text files. Corpus mode: their texts joined with a blank line
    /// ("\n\n", as transformers' perplexity guide joins a dataset). With
    /// --per-text: .jsonl files (one JSON object with a `text` field per
    /// line) or plain files (one text per line).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The ONNX causal LM: a folder (model.onnx, decoder_model_merged.onnx or
    /// decoder_model.onnx, with tokenizer.json and config.json) or an .onnx file.
    #[arg(long, value_name = "MODEL_DIR_OR_ONNX")]
    pub model: PathBuf,
    /// The Hugging Face tokenizer.json [default: next to the model].
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// Tokens per window [default: the model's context from config.json, else 1024].
    /// With --per-text: truncate texts to this many tokens (start token included).
    #[arg(long, value_name = "N")]
    pub max_length: Option<usize>,
    /// How far each window moves [default: --max-length, no overlap].
    #[arg(long, value_name = "N")]
    pub stride: Option<usize>,
    /// llama.cpp's convention: non-overlapping chunks of --max-length tokens,
    /// each scoring only its second half.
    #[arg(long, conflicts_with_all = ["stride", "per_text"])]
    pub score_second_half: bool,
    /// One perplexity per text (Hugging Face evaluate's `perplexity` metric),
    /// with their mean and the perplexity over all of them.
    #[arg(long)]
    pub per_text: bool,
    /// The JSONL field holding the text.
    #[arg(long, default_value = "text", value_name = "NAME")]
    pub text_field: String,
    /// Score each text's first token after the BOS token (evaluate's default).
    #[arg(long, overrides_with = "no_start_token")]
    pub add_start_token: bool,
    /// Score each text from its second token, without a start token.
    #[arg(long)]
    pub no_start_token: bool,
    /// The start token (default: config.json's bos_token_id, else the
    /// tokenizer's `<|endoftext|>`, `<s>`, `<bos>` or `<|begin_of_text|>`).
    #[arg(long, value_name = "TOKEN")]
    pub start_token: Option<String>,
    /// Write one JSON line per text (index, tokens, NLL, perplexity...) here.
    #[arg(long, short, value_name = "FILE.jsonl", requires = "per_text")]
    pub output: Option<PathBuf>,
    /// Windows or texts per model call [default: 1 window / 8 texts on cpu, 4 / 32 on cuda].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Where the model runs: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: Device,
    /// ONNX Runtime threads [default: its own choice].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// The ONNX Runtime library (libonnxruntime.so) [default: found as `geneval doctor` shows].
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
}
