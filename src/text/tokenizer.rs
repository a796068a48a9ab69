//! Tokenizers from Hugging Face `tokenizer.json` files.

use std::path::{Path, PathBuf};

use super::input::MODEL_FILE_LIMIT;
use super::TextError;
use crate::fs::read::read_regular_limited;

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
    ///
    /// `tokenizers` 0.23 panics on some malformed files instead of
    /// returning an error (`{"decoder":"`, a truncated file, hits an
    /// `.expect` in its decoder deserializer; found by `scripts/fuzz`): the
    /// bytes are checked to be one well-formed JSON value first, which
    /// turns every truncation into an ordinary error, and a panic left in
    /// the library is caught and reported as an error naming the file.
    pub fn from_file(path: &Path) -> Result<Self, TextError> {
        let error = |message: String| TextError::Tokenizer {
            path: path.to_owned(),
            message,
        };
        // Read here, not by `Tokenizer::from_file`: only a regular file of
        // at most `MODEL_FILE_LIMIT` bytes (a link to `/dev/zero` would fill
        // memory, a FIFO would block the open).
        let bytes =
            read_regular_limited(path, Some(MODEL_FILE_LIMIT)).map_err(|e| error(e.to_string()))?;
        serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
            .map_err(|e| error(format!("not valid JSON: {e}")))?;
        let inner = std::panic::catch_unwind(|| tokenizers::Tokenizer::from_bytes(&bytes))
            .map_err(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                error(format!("the tokenizers library could not read it ({what})"))
            })?
            .map_err(|e| error(e.to_string()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_decoder_is_an_error_not_a_panic_in_tokenizers() {
        // The fuzz finding (fuzz/regressions/tokenizer/): 12 bytes that made
        // tokenizers 0.23.2 panic in its decoder deserializer.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        for bytes in [&b"{\"decoder\":\""[..], b"{\"decoder\":{\"type\":1}}", b""] {
            std::fs::write(&path, bytes).unwrap();
            let err = TextTokenizer::from_file(&path).unwrap_err();
            assert!(err.to_string().contains("tokenizer.json"), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_tokenizer_linked_to_dev_zero_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let err = TextTokenizer::from_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("tokenizer.json") && err.contains("a device, not a regular file"),
            "{err}"
        );
    }
}
