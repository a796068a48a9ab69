//! Errors of the text metrics.

use std::path::PathBuf;

/// Why a text metric could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// A tokenizer file could not be read or parsed.
    #[error(
        "cannot load tokenizer {path}: {message} (hint: pass a Hugging Face `tokenizer.json`)"
    )]
    Tokenizer {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Tokenizing a text failed.
    #[error("cannot tokenize text {index}: {message}")]
    Encode {
        /// Which text (0-based).
        index: usize,
        /// What went wrong.
        message: String,
    },
    /// A text is not UTF-8.
    #[error("{source_name} is not UTF-8: invalid byte at offset {offset}")]
    NotUtf8 {
        /// The file or text the bytes came from.
        source_name: String,
        /// The byte offset of the first invalid byte.
        offset: usize,
    },
    /// A text is empty or has too few tokens to be scored.
    #[error("{what} has {tokens} token(s); at least {needed} needed to score it")]
    TooShort {
        /// The text, named for the user.
        what: String,
        /// Its token count.
        tokens: usize,
        /// The least count that can be scored.
        needed: usize,
    },
    /// The model could not be loaded into ONNX Runtime.
    #[error("cannot load language model {path}: {message}")]
    ModelLoad {
        /// The model.
        path: PathBuf,
        /// ONNX Runtime's message.
        message: String,
    },
    /// The model does not have the inputs or outputs of a causal LM.
    #[error("{path} is not a causal language model geneval can run: {message}")]
    NotCausalLm {
        /// The model.
        path: PathBuf,
        /// What is missing or unsupported.
        message: String,
    },
    /// The tokenizer has ids the model's logits cannot score.
    #[error(
        "tokenizer has {tokenizer_vocab} tokens but {path} predicts only {model_vocab} \
         (hint: use the tokenizer the model was trained with)"
    )]
    VocabMismatch {
        /// The model.
        path: PathBuf,
        /// The tokenizer's vocabulary size, added tokens included.
        tokenizer_vocab: usize,
        /// The last dimension of the model's logits.
        model_vocab: usize,
    },
    /// Running the model failed.
    #[error("running {path} failed: {message}")]
    Run {
        /// The model.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A setting is out of range.
    #[error("{0}")]
    InvalidArgument(String),
}
