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
    /// A line of a JSONL file is not an object with the text field.
    #[error("{path}:{line}: {message}")]
    BadJsonl {
        /// The file.
        path: PathBuf,
        /// The line number (1-based).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A text file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The system's message.
        message: String,
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
    /// The model's `config.json` could not be read.
    #[error("cannot read model config {path}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A window or text is longer than the model's positions.
    #[error("{what} ({length} tokens) is longer than the {positions} positions of {path}")]
    TooLong {
        /// The window or text.
        what: String,
        /// Its length in tokens.
        length: usize,
        /// The model's context (from its config.json).
        positions: usize,
        /// The model.
        path: PathBuf,
    },
    /// ONNX Runtime or the device refused the model.
    #[error(transparent)]
    Backend(#[from] crate::backend::BackendError),
    /// A setting is out of range.
    #[error("{0}")]
    InvalidArgument(String),
}

impl TextError {
    /// What the user can do about it.
    pub(crate) fn hint_text(&self) -> String {
        match self {
            TextError::Tokenizer { .. } => {
                "pass the model's Hugging Face `tokenizer.json` with --tokenizer".into()
            }
            TextError::Encode { .. } => "check the text's encoding and the tokenizer".into(),
            TextError::NotUtf8 { .. } => {
                "convert the file to UTF-8 (e.g. `iconv -f latin1 -t utf-8`)".into()
            }
            TextError::TooShort { .. } => {
                "give a longer text; per-text mode (--per-text) skips and counts short texts".into()
            }
            TextError::ModelLoad { .. } => {
                "pass an ONNX export of a causal LM (a file or the folder holding model.onnx)"
                    .into()
            }
            TextError::NotCausalLm { .. } => "export the model with Hugging Face optimum \
                 (`optimum-cli export onnx --task text-generation`) or torch.onnx; \
                 see the README's perplexity section"
                .into(),
            TextError::VocabMismatch { .. } => {
                "use the tokenizer.json exported with this model".into()
            }
            TextError::Run { .. } => "check that the model is a causal LM taking int64 \
                 input_ids; a window longer than its positions also fails here \
                 (lower --max-length)"
                .into(),
            TextError::Config { .. } => "fix or remove the model's config.json".into(),
            TextError::BadJsonl { .. } => {
                "each line must be a JSON object with the text field (see --text-field); \
                 plain files hold one text per line"
                    .into()
            }
            TextError::Read { .. } => "check the path and its permissions".into(),
            TextError::TooLong { .. } => {
                "lower --max-length to the model's context (or truncate texts with --max-length)"
                    .into()
            }
            TextError::Backend(e) => e.hint_text(),
            TextError::InvalidArgument(_) => "see `geneval ppl --help`".into(),
        }
    }
}

impl crate::diagnostics::Hint for TextError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(self.hint_text().into())
    }
}
