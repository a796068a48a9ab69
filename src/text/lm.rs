//! A causal language model in an ONNX Runtime session.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use ndarray::ArrayView3;
use ort::session::{Session, SessionInputValue};
use ort::value::{Tensor, TensorElementType, ValueType};

use super::{ModelConfig, TextError};
use crate::backend::runtime::Runtime;
use crate::backend::session::{build_session, build_session_from_file};
use crate::backend::Device;

/// How to open a language model.
#[derive(Debug, Clone, Default)]
pub struct LmOptions {
    /// ONNX Runtime intra-op threads (its default when `None`).
    pub threads: Option<usize>,
    /// Where it runs.
    pub device: Device,
    /// Its `config.json`, for the KV-cache shape when the graph leaves it open.
    pub config: ModelConfig,
}

/// One KV-cache input, fed empty: `[batch, heads, 0, head_dim]`.
#[derive(Debug, Clone)]
struct PastInput {
    name: String,
    heads: usize,
    head_dim: usize,
}

/// An ONNX causal LM as Hugging Face's exporters write it: `input_ids`
/// `[B, T]` (int64), optionally `attention_mask` and `position_ids` (int64),
/// `past_key_values.*` (`[B, heads, past, head_dim]`, fed empty: every
/// window is scored from scratch, as transformers does) and optimum's
/// `use_cache_branch` (fed `false`); logits `[B, T, V]` (f32) as the output
/// named `logits` or the first output.
pub struct LmSession {
    session: Session,
    path: PathBuf,
    input_ids: String,
    attention_mask: Option<String>,
    position_ids: Option<String>,
    past: Vec<PastInput>,
    use_cache_branch: Option<String>,
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
            .field("past", &self.past.len())
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

fn is_past(name: &str) -> bool {
    name.starts_with("past_key_values") || name.starts_with("past.")
}

/// The empty-cache shape of a `past_key_values.*` input: heads and head
/// size from the graph when static, else from `config.json`.
fn past_input(
    session: &Session,
    name: &str,
    config: &ModelConfig,
    path: &Path,
) -> Result<PastInput, TextError> {
    let not_lm = |message: String| TextError::NotCausalLm {
        path: path.to_owned(),
        message,
    };
    let outlet = session
        .inputs()
        .iter()
        .find(|o| o.name() == name)
        .expect("the name came from the session");
    let shape = match outlet.dtype() {
        ValueType::Tensor { ty, shape, .. } if *ty == TensorElementType::Float32 => shape.clone(),
        other => {
            return Err(not_lm(format!(
                "KV-cache input `{name}` is {other:?}; f32 expected"
            )))
        }
    };
    if shape.len() != 4 {
        return Err(not_lm(format!(
            "KV-cache input `{name}` has rank {}; [batch, heads, past, head_dim] expected",
            shape.len()
        )));
    }
    let fixed = |d: i64| usize::try_from(d).ok().filter(|&d| d > 0);
    let heads = fixed(shape[1]).or(config.kv_heads);
    let head_dim = fixed(shape[3]).or(config.head_dim);
    match (heads, head_dim) {
        (Some(heads), Some(head_dim)) => Ok(PastInput {
            name: name.to_owned(),
            heads,
            head_dim,
        }),
        _ => Err(not_lm(format!(
            "KV-cache input `{name}` has no fixed heads/head size and config.json \
             does not give them (put the model's config.json next to it)"
        ))),
    }
}

impl LmSession {
    /// Loads an ONNX model file (and its external data file, if any, from
    /// beside it).
    pub fn from_file(rt: &Runtime, path: &Path, options: &LmOptions) -> Result<Self, TextError> {
        if !path.is_file() {
            return Err(TextError::ModelLoad {
                path: path.to_owned(),
                message: "no such file".into(),
            });
        }
        let session = build_session_from_file(rt, path, options.threads, options.device)?;
        Self::from_session(session, path, &options.config)
    }

    /// Loads an ONNX model from memory; `path` names it in errors.
    pub fn from_memory(
        rt: &Runtime,
        bytes: &[u8],
        path: &Path,
        options: &LmOptions,
    ) -> Result<Self, TextError> {
        let session = build_session(rt, bytes, path, options.threads, options.device)?;
        Self::from_session(session, path, &options.config)
    }

    fn from_session(
        session: Session,
        path: &Path,
        config: &ModelConfig,
    ) -> Result<Self, TextError> {
        let not_lm = |message: String| TextError::NotCausalLm {
            path: path.to_owned(),
            message,
        };
        let names: Vec<String> = session
            .inputs()
            .iter()
            .map(|o| o.name().to_owned())
            .collect();
        let input_ids = int64_input(&session, "input_ids", path)?.ok_or_else(|| {
            not_lm(format!(
                "no `input_ids` input (inputs: {})",
                names.join(", ")
            ))
        })?;
        let attention_mask = int64_input(&session, "attention_mask", path)?;
        let position_ids = int64_input(&session, "position_ids", path)?;
        let mut past = Vec::new();
        let mut use_cache_branch = None;
        for name in &names {
            match name.as_str() {
                "input_ids" | "attention_mask" | "position_ids" => {}
                "use_cache_branch" => use_cache_branch = Some(name.clone()),
                n if is_past(n) => past.push(past_input(&session, n, config, path)?),
                other => return Err(not_lm(format!("unsupported input `{other}`"))),
            }
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
            past,
            use_cache_branch,
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

    /// Whether the model is a KV-cache export (fed an empty cache).
    pub fn has_past(&self) -> bool {
        !self.past.is_empty()
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

    /// Runs the model on `ids` (row-major `[batch, len]`) and hands the
    /// logits `[batch, len, V]` to `score` while ONNX Runtime still owns
    /// them (nothing of size V·len outlives one batch). `mask` (1 = token,
    /// 0 = padding) is passed as `attention_mask` when the model takes one;
    /// `position_ids` are 0..len for every row (right padding).
    pub fn with_logits<R>(
        &mut self,
        ids: &[i64],
        mask: &[i64],
        batch: usize,
        len: usize,
        score: impl FnOnce(ArrayView3<'_, f32>) -> R,
    ) -> Result<R, TextError> {
        let path = self.path.clone();
        let run_error = |message: String| TextError::Run {
            path: path.clone(),
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
        for past in &self.past {
            let empty =
                Tensor::from_array(([batch, past.heads, 0, past.head_dim], Vec::<f32>::new()))
                    .map_err(|e| run_error(format!("empty `{}`: {e}", past.name)))?;
            inputs.push((Cow::from(past.name.as_str()), empty.into()));
        }
        if let Some(name) = &self.use_cache_branch {
            let no = Tensor::from_array(([1usize], vec![false]))
                .map_err(|e| run_error(e.to_string()))?;
            inputs.push((Cow::from(name.as_str()), no.into()));
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
        Ok(score(view))
    }
}
