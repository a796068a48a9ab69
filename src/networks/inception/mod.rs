//! pytorch-fid's FID Inception-v3 network as an ONNX graph, written by
//! geneval from a state dict ([`build_onnx`]).
//!
//! # The network
//!
//! pytorch-fid 0.3's `fid_inception_v3()`: torchvision's `Inception3` with
//! 1008 classes and no auxiliary classifier, its Mixed blocks replaced by
//! `FIDInceptionA` (Mixed_5b–5d), `FIDInceptionC` (Mixed_6b–6e),
//! `FIDInceptionE_1` (Mixed_7b) and `FIDInceptionE_2` (Mixed_7c). The FID
//! blocks average-pool their pool branch without counting the padding
//! (`count_include_pad=False`, as TensorFlow does), and `FIDInceptionE_2`
//! max-pools it instead. Every convolution is a `BasicConv2d`: a bias-free
//! conv, `BatchNorm2d(eps=0.001)` in inference mode, ReLU.
//!
//! The graph starts after pytorch-fid's own preprocessing (bilinear resize
//! to 299 × 299 and `2x − 1`), which geneval does in Rust
//! ([`crate::preprocess`]); its input [`INPUT_NAME`] is the normalised image
//! batch, float32 `[N, 3, 299, 299]`. Outputs, each `[N, dims]` float32:
//!
//! | output | dims | what |
//! |---|---|---|
//! | [`POOL3`] | 2048 | pytorch-fid block 3: Mixed_7c, global average pool (`--dims 2048`, the FID features) |
//! | [`BLOCK64`] | 64 | block 0 (Conv2d_1a–2b, max pool) globally averaged (`--dims 64`) |
//! | [`BLOCK192`] | 192 | block 1 (Conv2d_3b–4a, max pool) globally averaged (`--dims 192`) |
//! | [`BLOCK768`] | 768 | block 2 (Mixed_5b–6e) globally averaged (`--dims 768`) |
//! | [`LOGITS_UNBIASED`] | 1008 | `pool3 · fcᵀ` without the bias: torch-fidelity's Inception Score input |
//! | [`LOGITS`] | 1008 | `logits_unbiased + fc.bias`, the classifier's logits |
//!
//! The global averages are what pytorch-fid's `get_activations` computes
//! (`adaptive_avg_pool2d` to 1 × 1) for the lower `--dims`; for pool3 the
//! network's own `AdaptiveAvgPool2d` does the same.
//!
//! # Batch norm
//!
//! Each batch norm is folded into its convolution in f64 and rounded once
//! to f32 (`w' = w·γ/√(σ²+ε)`, `b' = β − μ·γ/√(σ²+ε)`). Keeping
//! `BatchNormalization` nodes gives the same numbers to rounding (ONNX
//! Runtime folds them itself at load time, in f32): measured on the seeded
//! fixture's twelve images with pytorch-fid's own input tensors, both stay
//! within 6.3e-7 of PyTorch's float32 features (relative to their scale)
//! for every output, and the folded graph is the closer one to PyTorch in
//! float64 (pool3: 1.9e-7 against 3.8e-7). Folding also keeps the file free
//! of four batch-norm tensors per layer and its numbers independent of how a
//! runtime fuses. The global averages are `ReduceMean`s, not
//! `GlobalAveragePool`s: see `graph.rs`.
//!
//! # Parity
//!
//! `tests/e2e/inception.rs` runs the fixture folders of
//! `tests/fixtures/inception/` (PNG and JPEG, grayscale, RGBA, palette,
//! 33 × 57 to 320 × 240) through geneval's pipeline with this graph built
//! from the seeded weights ([`crate::networks::inception::seeded`]) and compares with
//! pytorch-fid and torch-fidelity on the same weights: features of every
//! `--dims` within 8.4e-7 of their scale, FID within 4.3e-7 relative,
//! Inception Score within 1.6e-7 (pytorch-fid mode and tf mode alike; the
//! fixture's tolerance is 1e-5).
//!
//! # State dict
//!
//! The layout is that of `pt_inception-2015-12-05-6726825d.pth`
//! ([`expected_keys`]: 472 tensors, 23,885,392 values; `num_batches_tracked`
//! buffers are ignored). [`build_onnx`] checks every key and shape first and
//! reports all that is missing, unexpected or misshapen in one
//! [`InceptionError::Layout`].

mod graph;
mod network;
pub mod seeded;

use crate::networks::weights::layout::{check_layout, first_non_finite};
pub use crate::networks::weights::layout::{LayoutMismatch, ShapeMismatch};
use crate::networks::StateDict;
use crate::onnx::{Dim, ElemType, GraphBuilder, ModelBuilder, OnnxError};

pub(crate) use graph::BatchNorm;
use graph::Emitter;
use network::{trunk, Net, Value};

/// The input's name: float32 `[N, 3, INPUT_SIZE, INPUT_SIZE]`, NCHW, values
/// `2x − 1` of the resized `[0, 1]` image.
pub const INPUT_NAME: &str = "images";

/// The input's height and width.
pub const INPUT_SIZE: u32 = 299;

/// The FID features: block 3 globally averaged, `[N, POOL3_DIMS]`.
pub const POOL3: &str = "pool3";

/// The FID feature dimension (pytorch-fid's default `--dims`).
pub const POOL3_DIMS: usize = 2048;

/// Block 0 globally averaged, `[N, 64]`.
pub const BLOCK64: &str = "block64";

/// Block 1 globally averaged, `[N, 192]`.
pub const BLOCK192: &str = "block192";

/// Block 2 globally averaged, `[N, 768]`.
pub const BLOCK768: &str = "block768";

/// The classifier's logits with the fc bias, `[N, CLASSES]`.
pub const LOGITS: &str = "logits";

/// The classifier's logits without the fc bias, `[N, CLASSES]`: what
/// torch-fidelity's Inception Score uses.
pub const LOGITS_UNBIASED: &str = "logits_unbiased";

/// The number of classes (1000 ImageNet classes plus 8 unused).
pub const CLASSES: usize = 1008;

/// pytorch-fid's `--dims` values and the output holding each, largest first.
pub const DIMS: [(usize, &str); 4] = [
    (POOL3_DIMS, POOL3),
    (768, BLOCK768),
    (192, BLOCK192),
    (64, BLOCK64),
];

/// `BatchNorm2d`'s epsilon in every `BasicConv2d`.
pub const BN_EPSILON: f64 = 0.001;

/// The graph's name.
pub const GRAPH_NAME: &str = "fid-inception-v3";

/// The model's documentation string.
const DOC: &str = "pytorch-fid 0.3 FID Inception-v3 (FIDInceptionV3), written by geneval from a \
                   state dict; input: images resized to 299x299 (bilinear) and scaled to 2x-1";

/// Keys of the state dict that are ignored when present: BatchNorm2d's step
/// counter, which inference does not use.
/// What layout errors call this network.
const NETWORK: &str = "pytorch-fid's FID Inception network";

const IGNORED_SUFFIX: &str = ".num_batches_tracked";

/// The output naming pytorch-fid's `--dims d`, if `d` is one of 2048, 768,
/// 192, 64.
pub fn output_for_dims(dims: usize) -> Option<&'static str> {
    DIMS.iter().find(|(d, _)| *d == dims).map(|(_, name)| *name)
}

/// Every tensor of the FID Inception state dict with its shape, in the order
/// PyTorch's `state_dict()` lists them (without `num_batches_tracked`).
pub fn expected_keys() -> Vec<(String, Vec<usize>)> {
    let mut net = Net::listing();
    trunk(&mut net, image_value());
    net.fc_keys(POOL3_DIMS, CLASSES);
    net.keys
}

/// Why a state dict cannot be turned into the FID Inception graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InceptionError {
    /// Keys missing, unexpected or of the wrong shape (all of them, in one error).
    #[error("{0}")]
    Layout(LayoutMismatch),
    /// A weight is NaN or infinite.
    #[error("weight {key}[{index}] is {value}: the weights file is corrupt")]
    NonFinite {
        /// The tensor.
        key: String,
        /// The flat (C-order) index of the first bad value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// The graph could not be written (a bug in geneval).
    #[error("writing the FID Inception graph: {0}")]
    Onnx(#[from] OnnxError),
}

/// Compares `dict` with [`expected_keys`]: every key and shape, then every
/// value's finiteness.
pub fn check_state_dict(dict: &StateDict) -> Result<(), InceptionError> {
    let expected = expected_keys();
    let mismatch = check_layout(dict, &expected, NETWORK, |k| k.ends_with(IGNORED_SUFFIX));
    if !mismatch.is_empty() {
        return Err(InceptionError::Layout(mismatch));
    }
    if let Some(bad) = first_non_finite(dict, &expected) {
        return Err(InceptionError::NonFinite {
            key: bad.key,
            index: bad.index,
            value: bad.value,
        });
    }
    Ok(())
}

/// The FID Inception ONNX model (see the module docs) from a state dict
/// with the layout of `pt_inception-2015-12-05-6726825d.pth`. The bytes
/// depend only on the weights: the same state dict gives the same file
/// with every geneval version.
pub fn build_onnx(dict: &StateDict) -> Result<Vec<u8>, InceptionError> {
    build_onnx_with(dict, BatchNorm::Fold)
}

/// [`build_onnx`] with a choice of batch-norm treatment (for the tests that
/// measure both).
pub(crate) fn build_onnx_with(
    dict: &StateDict,
    batch_norm: BatchNorm,
) -> Result<Vec<u8>, InceptionError> {
    check_state_dict(dict)?;
    let batch = Dim::symbolic("N");
    let size = INPUT_SIZE as usize;
    let mut g = GraphBuilder::new(GRAPH_NAME);
    g.input(
        INPUT_NAME,
        ElemType::Float,
        &[batch.clone(), 3.into(), size.into(), size.into()],
    );
    let mut net = Net::emitting(Emitter::new(g, dict, batch_norm));
    let taps = trunk(&mut net, image_value());
    let mut e = net.emitter.take().expect("the net was built emitting");
    for (name, tap) in [
        (POOL3, &taps.block2048),
        (BLOCK64, &taps.block64),
        (BLOCK192, &taps.block192),
        (BLOCK768, &taps.block768),
    ] {
        e.global_pool(name, &tap.name);
    }
    let fc_weight = e.values("fc.weight");
    let fc_bias = e.values("fc.bias");
    e.graph
        .initializer_f32("fc.weight", &[CLASSES, POOL3_DIMS], fc_weight);
    e.graph.initializer_f32("fc.bias", &[CLASSES], fc_bias);
    e.graph
        .node(
            "Gemm",
            &[POOL3, "fc.weight"],
            &[LOGITS_UNBIASED],
            [("transB", crate::onnx::Attribute::Int(1))],
        )
        .named("fc");
    e.graph
        .node("Add", &[LOGITS_UNBIASED, "fc.bias"], &[LOGITS], [])
        .named("fc.bias_add");
    let mut g = e.graph;
    for (name, dims) in [
        (POOL3, POOL3_DIMS),
        (BLOCK64, 64),
        (BLOCK192, 192),
        (BLOCK768, 768),
        (LOGITS_UNBIASED, CLASSES),
        (LOGITS, CLASSES),
    ] {
        g.output(name, ElemType::Float, &[batch.clone(), dims.into()]);
    }
    // No producer version: the bytes must not change with geneval's version.
    Ok(ModelBuilder::new(g)
        .producer("geneval", "")
        .doc_string(DOC)
        .to_bytes()?)
}

/// The graph input as the network description sees it.
fn image_value() -> Value {
    Value {
        name: INPUT_NAME.to_owned(),
        channels: 3,
    }
}

#[cfg(test)]
mod tests;
