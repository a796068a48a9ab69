//! A causal language model in an ONNX Runtime session.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use ndarray::Array3;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::{Tensor, TensorElementType, ValueType};

use super::TextError;
use crate::backend::runtime::Runtime;

/// An ONNX causal LM: `input_ids` `[B, T]` (int64), optionally
/// `attention_mask` and `position_ids` (int64, `[B, T]`), and logits
/// `[B, T, V]` (f32) as its first output or the output named `logits`.
///
/// Models with `past_key_values` inputs (KV-cache exports) are refused:
/// export without the cache (`use_cache=False`).
pub struct LmSession {
    session: Session,
    path: PathBuf,
    input_ids: String,
    attention_mask: Option<String>,
    position_ids: Option<String>,
    logits: String,
    /// V when the model declares it.
    declared_vocab: Option<usize>,
}

impl std::fmt::Debug for LmSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LmSession")
            .field("path", &self.path)
            .field("attention_mask", &self.attention_mask)
            .field("position_ids", &self.position_ids)
            .field("logits", &self.logits)
            .field("declared_vocab", &self.declared_vocab)
            .finish_non_exhaustive()
    }
}

fn int64_input(session: &Session, name: &str, path: &Path) -> Result<Option<String>, TextError> {
    let Some(outlet) = session.inputs().iter().find(|o| o.name() == name) else {
        return Ok(None);
    };
    match outlet.dtype() {
        ValueType::Tensor { ty, .. } if *ty == TensorElementType::Int64 => {
            Ok(Some(name.to_owned()))
        }
        other => Err(TextError::NotCausalLm {
            path: path.to_owned(),
            message: format!("input `{name}` is {other:?}; int64 expected"),
        }),
    }
}

impl LmSession {
    /// Loads an ONNX model file; `threads` sets ONNX Runtime's intra-op threads.
    pub fn from_file(rt: &Runtime, path: &Path, threads: Option<usize>) -> Result<Self, TextError> {
        let bytes = std::fs::read(path).map_err(|e| TextError::ModelLoad {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Self::from_memory(rt, &bytes, path, threads)
    }

    /// Loads an ONNX model from memory; `path` names it in errors.
    pub fn from_memory(
        rt: &Runtime,
        bytes: &[u8],
        path: &Path,
        threads: Option<usize>,
    ) -> Result<Self, TextError> {
        let load_error = |message: String| TextError::ModelLoad {
            path: path.to_owned(),
            message,
        };
        let mut builder = Session::builder(&rt.environment)
            .map_err(|e| load_error(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| load_error(e.to_string()))?;
        if let Some(threads) = threads {
            if threads == 0 {
                return Err(TextError::InvalidArgument(
                    "--threads must be at least 1".into(),
                ));
            }
            builder = builder
                .with_intra_threads(threads)
                .map_err(|e| load_error(e.to_string()))?;
        }
        let session = builder
            .commit_from_memory(bytes)
            .map_err(|e| load_error(e.to_string()))?;
        Self::from_session(session, path)
    }

    fn from_session(session: Session, path: &Path) -> Result<Self, TextError> {
        let not_lm = |message: String| TextError::NotCausalLm {
            path: path.to_owned(),
            message,
        };
        let names: Vec<String> = session
            .inputs()
            .iter()
            .map(|o| o.name().to_owned())
            .collect();
        if let Some(past) = names
            .iter()
            .find(|n| n.starts_with("past_key_values") || n.starts_with("past."))
        {
            return Err(not_lm(format!(
                "it takes a KV cache (`{past}`); export it without past key values \
                 (use_cache=False)"
            )));
        }
        let input_ids = int64_input(&session, "input_ids", path)?.ok_or_else(|| {
            not_lm(format!(
                "no `input_ids` input (inputs: {})",
                names.join(", ")
            ))
        })?;
        let attention_mask = int64_input(&session, "attention_mask", path)?;
        let position_ids = int64_input(&session, "position_ids", path)?;
        if let Some(other) = names
            .iter()
            .find(|n| !matches!(n.as_str(), "input_ids" | "attention_mask" | "position_ids"))
        {
            return Err(not_lm(format!("unsupported input `{other}`")));
        }
        let outputs = session.outputs();
        let output = outputs
            .iter()
            .find(|o| o.name() == "logits")
            .or_else(|| outputs.first())
            .ok_or_else(|| not_lm("no outputs".into()))?;
        let declared_vocab = match output.dtype() {
            ValueType::Tensor { ty, shape, .. } if *ty == TensorElementType::Float32 => {
                if shape.len() != 3 {
                    return Err(not_lm(format!(
                        "output `{}` has rank {}; logits [batch, sequence, vocab] expected",
                        output.name(),
                        shape.len()
                    )));
                }
                usize::try_from(shape[2]).ok().filter(|&v| v > 0)
            }
            other => {
                return Err(not_lm(format!(
                    "output `{}` is {other:?}; f32 logits expected",
                    output.name()
                )))
            }
        };
        let logits = output.name().to_owned();
        Ok(LmSession {
            session,
            path: path.to_owned(),
            input_ids,
            attention_mask,
            position_ids,
            logits,
            declared_vocab,
        })
    }

    /// The model file, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The vocabulary size the model declares (the logits' last dimension), if static.
    pub fn declared_vocab(&self) -> Option<usize> {
        self.declared_vocab
    }

    /// Whether the model takes an attention mask (needed for padded batches).
    pub fn has_attention_mask(&self) -> bool {
        self.attention_mask.is_some()
    }

    /// Errors if ids up to `tokenizer_vocab - 1` cannot be scored by the model.
    pub fn check_vocab(&self, tokenizer_vocab: usize) -> Result<(), TextError> {
        match self.declared_vocab {
            Some(v) if tokenizer_vocab > v => Err(TextError::VocabMismatch {
                path: self.path.clone(),
                tokenizer_vocab,
                model_vocab: v,
            }),
            _ => Ok(()),
        }
    }

    /// Logits `[batch, len, V]` for `ids` (row-major `[batch, len]`); `mask`
    /// (1 = token, 0 = padding) is passed as `attention_mask` when the model
    /// takes one; `position_ids` are 0..len for every row (right padding).
    pub fn logits(
        &mut self,
        ids: &[i64],
        mask: &[i64],
        batch: usize,
        len: usize,
    ) -> Result<Array3<f32>, TextError> {
        let run_error = |message: String| TextError::Run {
            path: self.path.clone(),
            message,
        };
        if ids.len() != batch * len || mask.len() != batch * len {
            return Err(TextError::InvalidArgument(format!(
                "ids and mask must hold {batch}×{len} values"
            )));
        }
        if self.attention_mask.is_none() && mask.contains(&0) {
            return Err(TextError::InvalidArgument(format!(
                "{} takes no attention_mask; score texts with batch size 1",
                self.path.display()
            )));
        }
        let tensor = |data: Vec<i64>| {
            Tensor::from_array(([batch, len], data)).map_err(|e| run_error(e.to_string()))
        };
        let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> = vec![(
            Cow::from(self.input_ids.as_str()),
            tensor(ids.to_vec())?.into(),
        )];
        if let Some(name) = &self.attention_mask {
            inputs.push((Cow::from(name.as_str()), tensor(mask.to_vec())?.into()));
        }
        if let Some(name) = &self.position_ids {
            let positions = (0..batch).flat_map(|_| 0..len as i64).collect();
            inputs.push((Cow::from(name.as_str()), tensor(positions)?.into()));
        }
        let outputs = self
            .session
            .run(inputs)
            .map_err(|e| run_error(e.to_string()))?;
        let value = outputs
            .get(self.logits.as_str())
            .ok_or_else(|| run_error(format!("no output `{}`", self.logits)))?;
        let view = value
            .try_extract_array::<f32>()
            .map_err(|e| run_error(format!("output `{}`: {e}", self.logits)))?;
        let shape = view.shape().to_vec();
        if shape.len() != 3 || shape[0] != batch || shape[1] != len {
            return Err(run_error(format!(
                "logits have shape {shape:?}; [{batch}, {len}, vocab] expected"
            )));
        }
        let view = view
            .into_dimensionality::<ndarray::Ix3>()
            .map_err(|e| run_error(e.to_string()))?;
        Ok(view.to_owned())
    }
}
