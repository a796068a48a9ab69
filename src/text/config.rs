//! Where a language model's files are and what its `config.json` says.
//!
//! Hugging Face exports (optimum, `transformers.onnx`) put `model.onnx` (or
//! `decoder_model_merged.onnx` / `decoder_model.onnx`), `tokenizer.json` and
//! `config.json` in one folder; `--model` may name that folder or the ONNX
//! file, whose siblings are then used.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::input::MODEL_FILE_LIMIT;
use super::TextError;
use crate::fs::read::read_regular_limited;

/// ONNX file names looked for in a model folder, in order.
pub const MODEL_FILE_NAMES: [&str; 3] = [
    "model.onnx",
    "decoder_model_merged.onnx",
    "decoder_model.onnx",
];

/// The files of a language model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmFiles {
    /// The ONNX graph.
    pub model: PathBuf,
    /// The `tokenizer.json`.
    pub tokenizer: PathBuf,
    /// The `config.json`, when there is one.
    pub config: Option<PathBuf>,
}

impl LmFiles {
    /// Resolves `--model` (folder or .onnx file) and `--tokenizer`.
    pub fn resolve(model: &Path, tokenizer: Option<&Path>) -> Result<Self, TextError> {
        let missing = |path: &Path, message: String| TextError::ModelLoad {
            path: path.to_owned(),
            message,
        };
        let (model_file, folder) = if model.is_dir() {
            let file = MODEL_FILE_NAMES
                .iter()
                .map(|name| model.join(name))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    missing(
                        model,
                        format!("the folder has none of {}", MODEL_FILE_NAMES.join(", ")),
                    )
                })?;
            (file, model.to_owned())
        } else if model.is_file() {
            let folder = model
                .parent()
                .map(Path::to_owned)
                .unwrap_or_else(|| PathBuf::from("."));
            (model.to_owned(), folder)
        } else {
            return Err(missing(model, "no such file or folder".into()));
        };
        let tokenizer = match tokenizer {
            Some(path) => path.to_owned(),
            None => {
                let beside = folder.join("tokenizer.json");
                // `exists`, not `is_file`: a FIFO or device of that name is
                // refused by `TextTokenizer::from_file` as what it is, not
                // reported as missing.
                if !beside.exists() {
                    return Err(TextError::Tokenizer {
                        path: beside,
                        message: "not found next to the model; pass --tokenizer".into(),
                    });
                }
                beside
            }
        };
        // Anything named config.json is read (and refused there when it is
        // a FIFO or a device) rather than silently skipped: its context and
        // BOS change the numbers.
        let config = Some(folder.join("config.json")).filter(|p| p.exists());
        Ok(LmFiles {
            model: model_file,
            tokenizer,
            config,
        })
    }
}

/// What geneval uses from a Hugging Face `config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelConfig {
    /// The number of positions the model was trained with (its context).
    pub max_positions: Option<usize>,
    /// Key/value heads per layer (for an empty KV cache).
    pub kv_heads: Option<usize>,
    /// Size of one head (for an empty KV cache).
    pub head_dim: Option<usize>,
    /// The BOS token id.
    pub bos_token_id: Option<u32>,
}

fn first_usize(value: &Value, keys: &[&str]) -> Option<usize> {
    keys.iter()
        .find_map(|k| value.get(*k)?.as_u64())
        .and_then(|v| usize::try_from(v).ok())
        .filter(|&v| v > 0)
}

impl ModelConfig {
    /// Reads the fields geneval needs; the names differ between model
    /// families (GPT-2's `n_positions`, Llama's `max_position_embeddings`).
    pub fn from_json(text: &str, path: &Path) -> Result<Self, TextError> {
        let value: Value = serde_json::from_str(text).map_err(|e| TextError::Config {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if !value.is_object() {
            return Err(TextError::Config {
                path: path.to_owned(),
                message: "a JSON object expected".into(),
            });
        }
        let max_positions = first_usize(
            &value,
            &[
                "n_positions",
                "max_position_embeddings",
                "n_ctx",
                "seq_length",
            ],
        );
        let heads = first_usize(&value, &["num_attention_heads", "n_head", "num_heads"]);
        let kv_heads = first_usize(&value, &["num_key_value_heads", "n_head_kv"]).or(heads);
        let hidden = first_usize(&value, &["hidden_size", "n_embd", "d_model"]);
        let head_dim = first_usize(&value, &["head_dim"]).or(match (hidden, heads) {
            (Some(h), Some(n)) if h % n == 0 => Some(h / n),
            _ => None,
        });
        let bos_token_id = value
            .get("bos_token_id")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok());
        Ok(ModelConfig {
            max_positions,
            kv_heads,
            head_dim,
            bos_token_id,
        })
    }

    /// Reads `config.json`: a regular file of at most 256 MiB (a link to
    /// `/dev/zero` or a FIFO named `config.json` is refused, not read).
    pub fn from_file(path: &Path) -> Result<Self, TextError> {
        let error = |message: String| TextError::Config {
            path: path.to_owned(),
            message,
        };
        let bytes =
            read_regular_limited(path, Some(MODEL_FILE_LIMIT)).map_err(|e| error(e.to_string()))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            error(format!(
                "not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ))
        })?;
        Self::from_json(text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gpt2_and_llama_names() {
        let p = Path::new("config.json");
        let gpt2 = ModelConfig::from_json(
            r#"{"n_positions": 1024, "n_head": 12, "n_embd": 768, "bos_token_id": 50256}"#,
            p,
        )
        .unwrap();
        assert_eq!(gpt2.max_positions, Some(1024));
        assert_eq!(gpt2.kv_heads, Some(12));
        assert_eq!(gpt2.head_dim, Some(64));
        assert_eq!(gpt2.bos_token_id, Some(50256));
        let llama = ModelConfig::from_json(
            r#"{"max_position_embeddings": 4096, "num_attention_heads": 32,
                "num_key_value_heads": 8, "hidden_size": 4096, "bos_token_id": 1}"#,
            p,
        )
        .unwrap();
        assert_eq!(llama.max_positions, Some(4096));
        assert_eq!(llama.kv_heads, Some(8));
        assert_eq!(llama.head_dim, Some(128));
        assert!(ModelConfig::from_json("[1]", p).is_err());
        assert!(ModelConfig::from_json("{", p).is_err());
    }

    #[test]
    fn resolves_folder_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = LmFiles::resolve(dir.path(), None).unwrap_err();
        assert!(err.to_string().contains("model.onnx"), "{err}");
        std::fs::write(dir.path().join("decoder_model.onnx"), b"x").unwrap();
        let err = LmFiles::resolve(dir.path(), None).unwrap_err();
        assert!(err.to_string().contains("--tokenizer"), "{err}");
        std::fs::write(dir.path().join("tokenizer.json"), b"{}").unwrap();
        let files = LmFiles::resolve(dir.path(), None).unwrap();
        assert_eq!(files.model, dir.path().join("decoder_model.onnx"));
        assert_eq!(files.config, None);
        std::fs::write(dir.path().join("config.json"), b"{}").unwrap();
        let files = LmFiles::resolve(&dir.path().join("decoder_model.onnx"), None).unwrap();
        assert_eq!(files.config, Some(dir.path().join("config.json")));
        let other = dir.path().join("other.json");
        let files = LmFiles::resolve(dir.path(), Some(&other)).unwrap();
        assert_eq!(files.tokenizer, other);
    }

    #[cfg(unix)]
    #[test]
    fn a_config_or_tokenizer_linked_to_dev_zero_is_found_then_refused() {
        // Was: a non-regular config.json was silently skipped (its context
        // and BOS lost), and reading one named directly never ended.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.onnx"), b"x").unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("tokenizer.json")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("config.json")).unwrap();
        let files = LmFiles::resolve(dir.path(), None).unwrap();
        assert_eq!(files.tokenizer, dir.path().join("tokenizer.json"));
        let config = files.config.unwrap();
        let err = ModelConfig::from_file(&config).unwrap_err().to_string();
        assert!(
            err.contains("config.json") && err.contains("a device, not a regular file"),
            "{err}"
        );
        let big = dir.path().join("big.json");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MODEL_FILE_LIMIT + 1)
            .unwrap();
        let err = ModelConfig::from_file(&big).unwrap_err().to_string();
        assert!(err.contains("over the limit"), "{err}");
    }
}
