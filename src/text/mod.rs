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

mod error;
mod lm;
mod perplexity;
mod tokenizer;

pub use error::TextError;
pub use lm::LmSession;
pub use perplexity::{
    corpus_nll, count_words, per_text_nll, text_from_bytes, PerTextOptions, Perplexity, Windows,
};
pub use tokenizer::TextTokenizer;

#[cfg(test)]
mod tests;
