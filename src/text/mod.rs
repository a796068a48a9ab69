//! Text metrics: perplexity of texts under an ONNX causal language model,
//! with the numbers of Hugging Face transformers.
//!
//! The flow: `text_from_bytes → TextTokenizer::encode → LmSession::logits →
//! corpus_nll / per_text_nll → Perplexity`.
//!
//! - [`corpus_nll`]: the sliding-window perplexity of transformers' guide
//!   "Perplexity of fixed-length models" (one token stream, windows of
//!   `max_length` tokens moving by `stride`, each token scored once), summed
//!   exactly over tokens.
//! - [`per_text_nll`]: Hugging Face `evaluate`'s `perplexity` metric (one
//!   value per text, optional start token, right padding with an attention
//!   mask; batch size does not change the values).
//! - [`Perplexity`]: token, byte and word counts with perplexity, bits per
//!   byte and word perplexity as lm-evaluation-harness defines them.

mod config;
mod error;
mod input;
mod lm;
mod perplexity;
mod tokenizer;

pub use config::{LmFiles, ModelConfig, MODEL_FILE_NAMES};
pub use error::TextError;
pub use input::{is_jsonl, read_corpus, read_texts};
pub use lm::{LmOptions, LmSession};
pub use perplexity::{
    corpus_nll, corpus_nll_with, count_words, guide_spans, per_text_nll, per_text_sequence,
    score_spans, second_half_spans, text_from_bytes, PerTextOptions, Perplexity, Span, Windows,
};
pub use tokenizer::TextTokenizer;

#[cfg(test)]
mod tests;
