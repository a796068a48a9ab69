//! The built-in feature network: a small convolutional net with fixed-seed
//! random weights that geneval writes itself ([`model_bytes`]).
//!
//! # Why
//!
//! Every other feature network is a file that has to be downloaded or
//! converted first. This one needs nothing, so the demo, CI gates and
//! `geneval doctor`-style self-checks run offline and fast (about 60 M
//! multiply-adds per image, against Inception-v3's 5.7 G). Random
//! convolutional features still separate image distributions: FID rises
//! with blur, noise or a shifted colour balance, so tests of the whole
//! pipeline get meaningful numbers.
//!
//! **Numbers made with it are not comparable with published FID, IS or KID
//! values**, which all use Inception-v3 weights; they are comparable only
//! with other numbers made with the same [`BUILTIN_ID`].
//!
//! # The network (`builtin-randconv-v1`)
//!
//! * input `images`: float32 `[N, 3, 128, 128]`, values in `[-1, 1]`;
//! * four `Conv` (kernel 3×3, stride 2, pads 1, with bias) each followed by
//!   `Relu`; channels 3 → 32 → 64 → 128 → 256, spatial 128 → 64 → 32 → 16 → 8;
//! * `GlobalAveragePool`, `Flatten(axis=1)` → output `features` `[N, 256]`;
//! * `Gemm(features, fc.weight[256, 16], fc.bias[16])` → output `logits`
//!   `[N, 16]`, no softmax (consumers apply it).
//!
//! # The weights
//!
//! One numpy legacy `RandomState(SEED)` stream of `random_sample()` doubles
//! `u`, used in this order, each tensor in C order, computed in f64 and cast
//! to f32:
//!
//! 1. for each conv layer: the weight `[out, in, 3, 3]` as
//!    `(2u − 1) · sqrt(6 / fan_in)` with `fan_in = in · 9` (He-uniform: the
//!    ReLU activations keep their scale through the layers), then the bias
//!    `[out]` as `(2u − 1) · 0.1`;
//! 2. `fc.weight [256, 16]` as `(2u − 1) · sqrt(6 / 256) · 4`, then
//!    `fc.bias [16]` as `(2u − 1) · 0.1`.
//!
//! The factor 4 on the classifier: with He-uniform scale alone the logits of
//! an image spread by under one unit (standard deviation about 0.85 over the
//! 16 classes), so every softmax is nearly uniform and the Inception Score of
//! any image set is about 1.0. With 4 the spread is about 3.4 units: on 64
//! images of distinct flat colours IS is about 1.5, on 64 uniform-noise
//! images (which all look alike to the net) about 1.02. Larger factors
//! saturate the softmax on the classes every image favours.
//!
//! `tests/fixtures/builtin/generate.py` rebuilds the network independently
//! with numpy and `onnx.helper`; the tests check that the two models are
//! byte-identical and give the same outputs in ONNX Runtime.

use geneval_metrics::numpy_random::RandomState;

use crate::onnx::{Attribute, Dim, ElemType, GraphBuilder, ModelBuilder};

/// The network's identity, recorded with every result made with it.
pub const BUILTIN_ID: &str = "builtin-randconv-v1";

/// The input's name: float32 `[N, 3, INPUT_SIZE, INPUT_SIZE]`, NCHW, `[-1, 1]`.
pub const INPUT_NAME: &str = "images";

/// The input's height and width.
pub const INPUT_SIZE: u32 = 128;

/// The feature output's name: float32 `[N, FEATURES_DIM]`.
pub const FEATURES_OUTPUT: &str = "features";

/// The feature dimension.
pub const FEATURES_DIM: usize = 256;

/// The logits output's name: float32 `[N, LOGITS_DIM]`, before softmax.
pub const LOGITS_OUTPUT: &str = "logits";

/// The number of classes.
pub const LOGITS_DIM: usize = 16;

/// The numpy `RandomState` seed the weights are drawn from.
pub const SEED: u32 = 2015;

/// Channels of the input and of each conv layer's output.
const CHANNELS: [usize; 5] = [3, 32, 64, 128, FEATURES_DIM];

/// The classifier weight scale over He-uniform (see the module docs).
const LOGIT_GAIN: f64 = 4.0;

/// The scale of every bias.
const BIAS_SCALE: f64 = 0.1;

/// The model's documentation string.
const DOC: &str = "geneval built-in feature network builtin-randconv-v1: fixed-seed random \
                   weights (numpy RandomState(2015)); its FID/IS/KID values are not comparable \
                   with published ones";

/// The ONNX model, the same bytes on every call and every geneval version.
pub fn model_bytes() -> Vec<u8> {
    model()
        .to_bytes()
        .expect("the built-in network is a well-formed graph (tested)")
}

/// The model before encoding.
fn model() -> ModelBuilder {
    let mut rng = RandomState::new(SEED);
    let mut g = GraphBuilder::new(BUILTIN_ID);
    let batch = Dim::symbolic("N");
    let size = INPUT_SIZE as usize;
    g.input(
        INPUT_NAME,
        ElemType::Float,
        &[batch.clone(), CHANNELS[0].into(), size.into(), size.into()],
    );
    let mut x = INPUT_NAME.to_owned();
    for (layer, pair) in CHANNELS.windows(2).enumerate() {
        let (c_in, c_out) = (pair[0], pair[1]);
        let fan_in = c_in * 9;
        let (weight, bias) = (
            format!("conv{}.weight", layer + 1),
            format!("conv{}.bias", layer + 1),
        );
        let w = uniform(&mut rng, c_out * fan_in, (6.0 / fan_in as f64).sqrt());
        g.initializer_f32(&weight, &[c_out, c_in, 3, 3], &w);
        g.initializer_f32(&bias, &[c_out], &uniform(&mut rng, c_out, BIAS_SCALE));
        let (conv, relu) = (format!("conv{}", layer + 1), format!("relu{}", layer + 1));
        g.node(
            "Conv",
            &[&x, &weight, &bias],
            &[&conv],
            [
                ("kernel_shape", Attribute::Ints(vec![3, 3])),
                ("pads", Attribute::Ints(vec![1, 1, 1, 1])),
                ("strides", Attribute::Ints(vec![2, 2])),
            ],
        )
        .named(&conv);
        g.node("Relu", &[&conv], &[&relu], []).named(&relu);
        x = relu;
    }
    g.node("GlobalAveragePool", &[&x], &["pool"], [])
        .named("pool");
    g.node(
        "Flatten",
        &["pool"],
        &[FEATURES_OUTPUT],
        [("axis", Attribute::Int(1))],
    )
    .named("flatten");
    let fc_scale = (6.0 / FEATURES_DIM as f64).sqrt() * LOGIT_GAIN;
    let fc_weight = uniform(&mut rng, FEATURES_DIM * LOGITS_DIM, fc_scale);
    g.initializer_f32("fc.weight", &[FEATURES_DIM, LOGITS_DIM], &fc_weight);
    let fc_bias = uniform(&mut rng, LOGITS_DIM, BIAS_SCALE);
    g.initializer_f32("fc.bias", &[LOGITS_DIM], &fc_bias);
    g.node(
        "Gemm",
        &[FEATURES_OUTPUT, "fc.weight", "fc.bias"],
        &[LOGITS_OUTPUT],
        [],
    )
    .named("fc");
    finish(g, batch, DOC)
}

/// Declares the two outputs both built-in networks share and wraps the
/// graph in a model with no producer version: the bytes must not change
/// with geneval's version.
pub(super) fn finish(mut g: GraphBuilder, batch: Dim, doc: &str) -> ModelBuilder {
    g.output(
        FEATURES_OUTPUT,
        ElemType::Float,
        &[batch.clone(), FEATURES_DIM.into()],
    );
    g.output(LOGITS_OUTPUT, ElemType::Float, &[batch, LOGITS_DIM.into()]);
    ModelBuilder::new(g).producer("geneval", "").doc_string(doc)
}

/// `n` draws of `(2u − 1) · scale` in f64, cast to f32.
pub(super) fn uniform(rng: &mut RandomState, n: usize, scale: f64) -> Vec<f32> {
    (0..n)
        .map(|_| ((2.0 * rng.random_sample() - 1.0) * scale) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use ndarray_npy::ReadNpyExt;
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::onnx::runtime_tests::{
        builtin_fixture_differences, fixture_expected, fixture_npy, run, session,
    };

    fn npy<T: ReadNpyExt>(name: &str) -> T {
        fixture_npy("builtin", name)
    }

    fn expected() -> serde_json::Value {
        fixture_expected("builtin")
    }

    fn sha256_hex(bytes: &[u8]) -> String {
        crate::networks::download::hex(&Sha256::digest(bytes))
    }

    #[test]
    fn bytes_are_deterministic() {
        let bytes = model_bytes();
        assert_eq!(bytes, model_bytes());
        // 392,880 float weights plus a few kilobytes of graph.
        assert!(bytes.len() > 392_528 * 4 && bytes.len() < 392_528 * 4 + 4096);
    }

    #[test]
    fn weights_follow_the_documented_draws() {
        let model = model();
        let initializers = model.graph().initializers();
        let names: Vec<&str> = initializers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "conv1.weight",
                "conv1.bias",
                "conv2.weight",
                "conv2.bias",
                "conv3.weight",
                "conv3.bias",
                "conv4.weight",
                "conv4.bias",
                "fc.weight",
                "fc.bias"
            ]
        );
        // The first weight is numpy's first draw, 0.7375952275959086:
        // (2u - 1) * sqrt(6 / 27) as f32.
        let first = f32::from_le_bytes(initializers[0].1.raw_data()[..4].try_into().unwrap());
        assert_eq!(
            first,
            ((2.0 * 0.7375952275959086 - 1.0) * (6.0f64 / 27.0).sqrt()) as f32
        );
        let total: usize = initializers.iter().map(|(_, t)| t.element_count()).sum();
        assert_eq!(total, 392_528);
    }

    #[test]
    fn is_byte_identical_to_the_independent_python_construction() {
        let expected = expected();
        assert_eq!(expected["builtin_id"], BUILTIN_ID);
        let model = model();
        for (name, tensor) in model.graph().initializers() {
            let pinned = &expected["initializers"][name.as_str()];
            assert_eq!(pinned["sha256"], sha256_hex(tensor.raw_data()), "{name}");
            let dims: Vec<usize> = serde_json::from_value(pinned["shape"].clone()).unwrap();
            assert_eq!(dims, tensor.dims(), "{name}");
        }
        assert_eq!(expected["model_sha256"], sha256_hex(&model_bytes()));
    }

    #[test]
    fn onnx_runtime_gives_the_python_outputs() {
        let expected = expected();
        let tolerance = expected["tolerance"].as_f64().unwrap();
        assert_eq!(tolerance, 1e-5);
        let Some(differences) = builtin_fixture_differences("builtin", &model_bytes()) else {
            return;
        };
        for (max_diff, _) in differences {
            assert!(max_diff <= tolerance, "max |difference| {max_diff}");
        }
        let features: Array2<f32> = npy("features.npy");
        let logits: Array2<f32> = npy("logits.npy");
        // Pinned summary values, so a regenerated fixture that drifted shows.
        let mean = |a: &Array2<f32>| a.iter().map(|&v| f64::from(v)).sum::<f64>() / a.len() as f64;
        let pinned = &expected["summary"];
        assert!((mean(&features) - pinned["features_mean"].as_f64().unwrap()).abs() < 1e-6);
        assert!((mean(&logits) - pinned["logits_mean"].as_f64().unwrap()).abs() < 1e-6);
    }

    #[test]
    fn output_shapes_follow_the_batch() {
        let Some(mut session) = session(&model_bytes(), 2) else {
            return;
        };
        let size = INPUT_SIZE as usize;
        let input = vec![0.25f32; 2 * 3 * size * size];
        let got = run(
            &mut session,
            INPUT_NAME,
            &[2, 3, size, size],
            input,
            &[FEATURES_OUTPUT, LOGITS_OUTPUT],
        );
        assert_eq!(got[0].0, [2, FEATURES_DIM as i64]);
        assert_eq!(got[1].0, [2, LOGITS_DIM as i64]);
        // Two equal images give equal rows; ReLU features are never negative.
        assert_eq!(got[0].1[..FEATURES_DIM], got[0].1[FEATURES_DIM..]);
        assert!(got[0].1.iter().all(|&v| v >= 0.0));
    }
}
