//! Tokenizers from Hugging Face `tokenizer.json` files.

use std::path::{Path, PathBuf};

use super::TextError;

/// A Hugging Face tokenizer (`tokenizer.json`), with the ids that the
/// Python `tokenizers` package gives.
pub struct TextTokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("path", &self.path)
            .field("vocab_size", &self.vocab_size())
            .finish_non_exhaustive()
    }
}

impl TextTokenizer {
    /// Loads a `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self, TextError> {
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| TextError::Tokenizer {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok(TextTokenizer {
            inner,
            path: path.to_owned(),
        })
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of ids, added (special) tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The id of a token, such as `<|endoftext|>`.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The ids of `text`, without special tokens (as `add_special_tokens=False`);
    /// `index` names the text in errors.
    pub fn encode(&self, text: &str, index: usize) -> Result<Vec<u32>, TextError> {
        self.encode_ids(text, index, false)
    }

    /// The ids of `text` with the special tokens its post-processor adds (a
    /// BOS for Llama-style tokenizers, nothing for GPT-2's), as
    /// `tokenizer(text)` gives them: what transformers' perplexity guide feeds.
    pub fn encode_with_special_tokens(
        &self,
        text: &str,
        index: usize,
    ) -> Result<Vec<u32>, TextError> {
        self.encode_ids(text, index, true)
    }

    fn encode_ids(&self, text: &str, index: usize, special: bool) -> Result<Vec<u32>, TextError> {
        let encoding = self
            .inner
            .encode(text, special)
            .map_err(|e| TextError::Encode {
                index,
                message: e.to_string(),
            })?;
        Ok(encoding.get_ids().to_vec())
    }
}
