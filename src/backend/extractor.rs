//! `FeatureExtractor`: batches of preprocessed images in, one feature vector
//! (and optionally class logits) per image out. `OnnxExtractor` is the
//! implementation: any ONNX model through ONNX Runtime, on the CPU or CUDA.

use ndarray::{Array2, ArrayViewD, Axis, Ix2};
use ort::session::Session;
use ort::value::{TensorRef, ValueType};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use super::device::Device;
use super::runtime;
use super::session::build_session;
use super::spec::{
    resolve, sidecar_path, Layout, ModelSpec, Pooling, Port, SpecOverrides, ValueRange,
};
use super::BackendError;
use crate::networks::download::hex;
use crate::networks::{builtin, filterbank};

/// What one batch gives.
#[derive(Debug, Clone)]
pub struct BatchOutput {
    /// `[N, D]` features.
    pub features: Array2<f32>,
    /// `[N, classes]` logits, when the spec names a logits output.
    pub logits: Option<Array2<f32>>,
}

/// Turns preprocessed image batches into feature vectors.
pub trait FeatureExtractor {
    /// What the model expects (size, layout, normalisation) and gives.
    fn spec(&self) -> &ModelSpec;

    /// An identifier of the model's exact weights, recorded with results and in
    /// partial statistics so that features of different models never mix.
    fn model_id(&self) -> &str;

    /// Runs `count` images laid out as the spec says (`input.len()` is
    /// `count · 3 · height · width`).
    fn extract(&mut self, input: &[f32], count: usize) -> Result<BatchOutput, BackendError>;
}

/// Which model: one of geneval's built-in networks, or an ONNX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// Made by geneval, no download; not comparable with published numbers.
    Builtin(BuiltinNetwork),
    /// An `.onnx` file.
    File(PathBuf),
}

/// geneval's built-in networks. Both take the same input and give 256
/// features and 16 logits, so they share [`builtin_spec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinNetwork {
    /// `builtin`: [`builtin`], random convolutions (`builtin-randconv-v1`),
    /// kept so that old records can be reproduced and compared.
    RandConv,
    /// `builtin-filterbank`: [`filterbank`], oriented filter energies
    /// (`builtin-filterbank-v1`), which sees every disturbance of the
    /// self-check.
    FilterBank,
}

impl BuiltinNetwork {
    /// Every built-in network, in the order `models list` shows them.
    pub const ALL: [BuiltinNetwork; 2] = [BuiltinNetwork::RandConv, BuiltinNetwork::FilterBank];

    /// The name `--model` takes.
    pub fn name(self) -> &'static str {
        match self {
            BuiltinNetwork::RandConv => "builtin",
            BuiltinNetwork::FilterBank => "builtin-filterbank",
        }
    }

    /// The id records carry.
    pub fn id(self) -> &'static str {
        match self {
            BuiltinNetwork::RandConv => builtin::BUILTIN_ID,
            BuiltinNetwork::FilterBank => filterbank::FILTERBANK_ID,
        }
    }

    /// What it is, in a few words, for `models list`.
    pub fn description(self) -> &'static str {
        match self {
            BuiltinNetwork::RandConv => "random convolutions",
            BuiltinNetwork::FilterBank => {
                "oriented filter energies; sees every self-check disturbance"
            }
        }
    }

    /// The ONNX model.
    pub fn model_bytes(self) -> Vec<u8> {
        match self {
            BuiltinNetwork::RandConv => builtin::model_bytes(),
            BuiltinNetwork::FilterBank => filterbank::model_bytes(),
        }
    }

    /// The built-in network with this `--model` name.
    pub fn named(text: &str) -> Option<BuiltinNetwork> {
        Self::ALL.into_iter().find(|n| n.name() == text)
    }

    /// The built-in network with this model id.
    pub fn with_id(id: &str) -> Option<BuiltinNetwork> {
        Self::ALL.into_iter().find(|n| n.id() == id)
    }
}

impl ModelSource {
    /// A built-in network's name or a path.
    pub fn parse(text: &str) -> ModelSource {
        match BuiltinNetwork::named(text) {
            Some(network) => ModelSource::Builtin(network),
            None => ModelSource::File(PathBuf::from(text)),
        }
    }

    /// How records name it.
    pub fn display(&self) -> String {
        match self {
            ModelSource::Builtin(network) => network.name().into(),
            ModelSource::File(path) => path.display().to_string(),
        }
    }
}

/// How to open a model.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// A spec file to use instead of the sidecar next to the model.
    pub spec_file: Option<PathBuf>,
    /// Overrides from the command line, applied last.
    pub overrides: SpecOverrides,
    /// Where to run.
    pub device: Device,
    /// ONNX Runtime's intra-op threads (default: its own choice, the physical cores).
    pub threads: Option<usize>,
    /// The ONNX Runtime library to load (`--ort-lib`).
    pub ort_lib: Option<PathBuf>,
    /// The id results carry, instead of the file's SHA-256 (registered models
    /// are named by their source weights).
    pub model_id: Option<String>,
}

/// An ONNX model in an ONNX Runtime session.
pub struct OnnxExtractor {
    session: Session,
    spec: ModelSpec,
    model_id: String,
    /// The model's path, or `builtin`, for error messages.
    name: PathBuf,
    /// The model's fixed batch size, if it declares one.
    fixed_batch: Option<usize>,
    device: Device,
}

impl std::fmt::Debug for OnnxExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxExtractor")
            .field("spec", &self.spec)
            .field("model_id", &self.model_id)
            .field("name", &self.name)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

fn ports(outlets: &[ort::value::Outlet]) -> Vec<Port> {
    outlets
        .iter()
        .map(|o| match o.dtype() {
            ValueType::Tensor { ty, shape, .. } => Port {
                name: o.name().to_owned(),
                is_f32: *ty == ort::value::TensorElementType::Float32,
                shape: Some(
                    shape
                        .iter()
                        .map(|&d| u64::try_from(d).ok().filter(|_| d >= 0))
                        .collect(),
                ),
            },
            _ => Port {
                name: o.name().to_owned(),
                is_f32: false,
                shape: None,
            },
        })
        .collect()
}

/// The built-in networks' spec: what [`builtin::model_bytes`] and
/// [`filterbank::model_bytes`] declare.
pub fn builtin_spec() -> ModelSpec {
    ModelSpec {
        input: builtin::INPUT_NAME.into(),
        layout: Layout::Nchw,
        width: builtin::INPUT_SIZE,
        height: builtin::INPUT_SIZE,
        range: ValueRange::MINUS_ONE_ONE,
        mean: None,
        std: None,
        features: builtin::FEATURES_OUTPUT.into(),
        pooling: Pooling::None,
        logits: Some(builtin::LOGITS_OUTPUT.into()),
    }
}

/// A model's declared inputs and outputs, and the spec geneval resolves for it.
#[derive(Debug)]
pub struct ModelPorts {
    /// Declared inputs.
    pub inputs: Vec<Port>,
    /// Declared outputs.
    pub outputs: Vec<Port>,
    /// The sidecar or `--model-spec` file used, if any.
    pub spec_file: Option<PathBuf>,
    /// The resolved spec, or why it does not resolve.
    pub spec: Result<ModelSpec, BackendError>,
    /// See [`FeatureExtractor::model_id`].
    pub model_id: String,
}

/// The model's bytes, its name for messages, and its id: `given` when the
/// caller already knows it (registered models are named by their source
/// weights and were just hash-checked), else the SHA-256 of the file.
fn read_model(
    source: &ModelSource,
    given: Option<&String>,
) -> Result<(Vec<u8>, PathBuf, String), BackendError> {
    match source {
        ModelSource::Builtin(network) => Ok((
            network.model_bytes(),
            PathBuf::from(network.name()),
            network.id().to_owned(),
        )),
        ModelSource::File(path) => {
            if !path.exists() {
                return Err(BackendError::ModelMissing { path: path.clone() });
            }
            let bytes = std::fs::read(path).map_err(|source| BackendError::Io {
                path: path.clone(),
                source,
            })?;
            let id = match given {
                Some(id) => id.clone(),
                None => format!("sha256:{}", hex(&Sha256::digest(&bytes))),
            };
            Ok((bytes, path.clone(), id))
        }
    }
}

/// The spec file that applies: `--model-spec`, else the sidecar if present.
fn spec_file(source: &ModelSource, options: &OpenOptions) -> Option<PathBuf> {
    match source {
        ModelSource::Builtin(_) => None,
        ModelSource::File(path) => options
            .spec_file
            .clone()
            // `exists`, not `is_file`: a sidecar that is a FIFO or a device
            // is found and then refused by `SpecOverrides::read`, instead of
            // being skipped without a word (the user's spec dropped).
            .or_else(|| Some(sidecar_path(path)).filter(|p| p.exists())),
    }
}

fn resolve_spec(
    source: &ModelSource,
    name: &Path,
    inputs: &[Port],
    outputs: &[Port],
    options: &OpenOptions,
) -> Result<ModelSpec, BackendError> {
    match source {
        ModelSource::Builtin(_) => {
            let spec = builtin_spec();
            // The built-in spec is fixed; still prove the graph agrees with it.
            resolve(name, inputs, outputs, overrides_of(&spec))?;
            Ok(spec)
        }
        ModelSource::File(_) => {
            let from_file = match spec_file(source, options) {
                Some(file) => SpecOverrides::read(&file)?,
                None => SpecOverrides::default(),
            };
            resolve(
                name,
                inputs,
                outputs,
                from_file.then(options.overrides.clone()),
            )
        }
    }
}

impl OnnxExtractor {
    /// Loads ONNX Runtime (if not yet), reads and checks the model against its
    /// spec, and builds a session on the requested device.
    pub fn open(source: &ModelSource, options: &OpenOptions) -> Result<Self, BackendError> {
        let (bytes, name, model_id) = read_model(source, options.model_id.as_ref())?;
        let rt = runtime::init(options.ort_lib.as_deref())?;
        let session = build_session(rt, &bytes, &name, options.threads, options.device)?;
        let inputs = ports(session.inputs());
        let outputs = ports(session.outputs());
        let spec = resolve_spec(source, &name, &inputs, &outputs, options)?;
        let fixed_batch = inputs
            .iter()
            .find(|p| p.name == spec.input)
            .and_then(|p| p.shape.as_ref()?.first().copied().flatten())
            .map(|b| b as usize);
        Ok(OnnxExtractor {
            session,
            spec,
            model_id,
            name,
            fixed_batch,
            device: options.device,
        })
    }

    /// What `geneval doctor --model` shows: the declared ports and the spec,
    /// even when the spec does not resolve (that is when it is needed most).
    pub fn inspect(
        source: &ModelSource,
        options: &OpenOptions,
    ) -> Result<ModelPorts, BackendError> {
        let (bytes, name, model_id) = read_model(source, options.model_id.as_ref())?;
        let rt = runtime::init(options.ort_lib.as_deref())?;
        let cpu = OpenOptions {
            device: Device::Cpu,
            ..options.clone()
        };
        let session = build_session(rt, &bytes, &name, cpu.threads, cpu.device)?;
        let inputs = ports(session.inputs());
        let outputs = ports(session.outputs());
        let spec = resolve_spec(source, &name, &inputs, &outputs, options);
        Ok(ModelPorts {
            inputs,
            outputs,
            spec_file: spec_file(source, options),
            spec,
            model_id,
        })
    }

    /// The device the session runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The model's fixed batch size, when its input declares one.
    pub fn fixed_batch(&self) -> Option<usize> {
        self.fixed_batch
    }

    fn run_batch(&mut self, input: &[f32], count: usize) -> Result<BatchOutput, BackendError> {
        let (w, h) = (self.spec.width as usize, self.spec.height as usize);
        let shape = match self.spec.layout {
            Layout::Nchw => [count, 3, h, w],
            Layout::Nhwc => [count, h, w, 3],
        };
        let run_error = |message: String| BackendError::Run {
            model: self.name.clone(),
            message,
        };
        let tensor =
            TensorRef::from_array_view((shape, input)).map_err(|e| run_error(e.to_string()))?;
        let outputs = self
            .session
            .run(ort::inputs![self.spec.input.as_str() => tensor])
            .map_err(|e| BackendError::Run {
                model: self.name.clone(),
                message: e.to_string(),
            })?;
        let extract = |name: &str, pooling: Pooling| -> Result<Array2<f32>, BackendError> {
            let value = outputs.get(name).ok_or_else(|| BackendError::Run {
                model: self.name.clone(),
                message: format!("no output `{name}`"),
            })?;
            let view = value
                .try_extract_array::<f32>()
                .map_err(|e| BackendError::Run {
                    model: self.name.clone(),
                    message: format!("output `{name}`: {e}"),
                })?;
            pool(view, pooling, count).map_err(|message| BackendError::OutputShape {
                model: self.name.clone(),
                output: name.to_owned(),
                shape: value.shape().iter().copied().collect(),
                message,
            })
        };
        let features = extract(&self.spec.features, self.spec.pooling)?;
        let logits = match &self.spec.logits {
            Some(name) => Some(extract(name, Pooling::None)?),
            None => None,
        };
        Ok(BatchOutput { features, logits })
    }
}

fn overrides_of(spec: &ModelSpec) -> SpecOverrides {
    SpecOverrides {
        input: Some(spec.input.clone()),
        layout: Some(spec.layout),
        width: Some(spec.width),
        height: Some(spec.height),
        range: Some([spec.range.low, spec.range.high]),
        mean: spec.mean,
        std: spec.std,
        features: Some(spec.features.clone()),
        pooling: Some(spec.pooling),
        logits: spec.logits.clone(),
    }
}

/// One vector per image from an output of any rank, as `pooling` says.
fn pool(view: ArrayViewD<'_, f32>, pooling: Pooling, count: usize) -> Result<Array2<f32>, String> {
    let shape = view.shape().to_vec();
    if shape.first() != Some(&count) {
        return Err(format!("expected {count} rows (one per image)"));
    }
    let mean_over = |axes_from: usize| -> Array2<f32> {
        let (n, c) = (shape[0], shape[1]);
        let per: usize = shape[axes_from..].iter().product();
        let mut out = Array2::<f32>::zeros((n, c));
        for i in 0..n {
            for j in 0..c {
                let sub = view.index_axis(Axis(0), i);
                let sub = sub.index_axis(Axis(0), j);
                let sum: f64 = sub.iter().map(|&x| f64::from(x)).sum();
                out[[i, j]] = (sum / per.max(1) as f64) as f32;
            }
        }
        out
    };
    match pooling {
        Pooling::None => {
            if shape.len() < 2 || shape[2..].iter().any(|&d| d != 1) {
                return Err(
                    "the features must be one vector per image ([N, D] or [N, D, 1, 1]); set \"pooling\" in the spec (spatial, tokens or first-token)".into(),
                );
            }
            Ok(view
                .to_shape((shape[0], shape[1]))
                .map_err(|e| e.to_string())?
                .to_owned())
        }
        Pooling::Spatial => {
            if shape.len() < 2 {
                return Err("spatial pooling needs [N, C, ...]".into());
            }
            if shape.len() == 2 {
                return Ok(view
                    .into_dimensionality::<Ix2>()
                    .map_err(|e| e.to_string())?
                    .to_owned());
            }
            Ok(mean_over(2))
        }
        Pooling::Tokens | Pooling::FirstToken => {
            if shape.len() != 3 {
                return Err("token pooling needs [N, tokens, D]".into());
            }
            let (n, t, d) = (shape[0], shape[1], shape[2]);
            if t == 0 {
                return Err("no tokens".into());
            }
            let v = view
                .into_dimensionality::<ndarray::Ix3>()
                .map_err(|e| e.to_string())?;
            if pooling == Pooling::FirstToken {
                return Ok(v.index_axis(Axis(1), 0).to_owned());
            }
            let mut out = Array2::<f32>::zeros((n, d));
            for i in 0..n {
                for k in 0..d {
                    let sum: f64 = (0..t).map(|j| f64::from(v[[i, j, k]])).sum();
                    out[[i, k]] = (sum / t as f64) as f32;
                }
            }
            Ok(out)
        }
    }
}

impl FeatureExtractor for OnnxExtractor {
    fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn extract(&mut self, input: &[f32], count: usize) -> Result<BatchOutput, BackendError> {
        let per = 3 * self.spec.width as usize * self.spec.height as usize;
        if input.len() != count * per {
            return Err(BackendError::InvalidArgument(format!(
                "a batch of {count} images needs {} floats, got {}",
                count * per,
                input.len()
            )));
        }
        match self.fixed_batch {
            // A model exported with a fixed batch: pad the last batch with
            // zeros and drop the padding's outputs.
            Some(fixed) if fixed != count => {
                if count > fixed {
                    return Err(BackendError::InvalidArgument(format!(
                        "model {} takes batches of exactly {fixed}; use --batch-size {fixed}",
                        self.name.display()
                    )));
                }
                let mut padded = input.to_vec();
                padded.resize(fixed * per, 0.0);
                let out = self.run_batch(&padded, fixed)?;
                Ok(BatchOutput {
                    features: out.features.slice(ndarray::s![..count, ..]).to_owned(),
                    logits: out
                        .logits
                        .map(|l| l.slice(ndarray::s![..count, ..]).to_owned()),
                })
            }
            _ => self.run_batch(input, count),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, IxDyn};

    #[test]
    fn pooling_turns_any_rank_into_rows() {
        let a = Array::from_shape_fn(IxDyn(&[2, 3, 2, 2]), |i| {
            (i[0] * 100 + i[1] * 10 + i[2] * 2 + i[3]) as f32
        });
        let pooled = pool(a.view(), Pooling::Spatial, 2).unwrap();
        assert_eq!(pooled.dim(), (2, 3));
        assert_eq!(pooled[[1, 2]], 120.0 + 1.5);
        assert!(pool(a.view(), Pooling::None, 2)
            .unwrap_err()
            .contains("pooling"));
        assert!(pool(a.view(), Pooling::Spatial, 3)
            .unwrap_err()
            .contains("3 rows"));

        let squeezed = Array::from_shape_fn(IxDyn(&[2, 4, 1, 1]), |i| i[1] as f32);
        assert_eq!(
            pool(squeezed.view(), Pooling::None, 2)
                .unwrap()
                .row(1)
                .to_vec(),
            [0.0, 1.0, 2.0, 3.0]
        );

        let tokens = Array::from_shape_fn(IxDyn(&[1, 3, 2]), |i| (i[1] * 2 + i[2]) as f32);
        assert_eq!(
            pool(tokens.view(), Pooling::Tokens, 1)
                .unwrap()
                .row(0)
                .to_vec(),
            [2.0, 3.0]
        );
        assert_eq!(
            pool(tokens.view(), Pooling::FirstToken, 1)
                .unwrap()
                .row(0)
                .to_vec(),
            [0.0, 1.0]
        );
    }

    #[test]
    fn model_source_parses() {
        assert_eq!(
            ModelSource::parse("builtin"),
            ModelSource::Builtin(BuiltinNetwork::RandConv)
        );
        assert_eq!(
            ModelSource::parse("builtin-filterbank"),
            ModelSource::Builtin(BuiltinNetwork::FilterBank)
        );
        assert_eq!(
            ModelSource::parse("m.onnx"),
            ModelSource::File("m.onnx".into())
        );
    }
}
