//! Deterministic stand-in weights in the published ViT layouts
//! ([`seeded_state_dict`]), for tests and benchmarks: the official DINOv2
//! and CLIP files are gigabyte downloads that CI cannot make.
//!
//! The draws are those of the Inception stand-in
//! ([`crate::networks::inception::seeded`]: one splitmix64 stream per key,
//! `u ∈ [-1, 1)`, value `u·a + b` in f32), with `(a, b)` by key, the first
//! matching rule winning:
//!
//! | key | a | b |
//! |---|---|---|
//! | ends with `cls_token`, `pos_embed`, `mask_token`, `class_embedding`, `position_embedding.weight` | 1 | 0 |
//! | ends with `.gamma` (LayerScale) | 0.25 | 0.5 |
//! | `logit_scale` | 0 | ln 100 |
//! | 1-D `*.weight` (LayerNorm) | 0.25 | 1 |
//! | `*.bias` | 0.1 | 0 |
//! | ≥ 2-D `*.weight` `[out, in, …]` | `√(3 / fan_in)` | 0 |
//!
//! Uniform weights of variance `1/fan_in` keep the activations' scale
//! through the linear layers, and the LayerScale and LayerNorm parameters
//! stay away from the identity so that a mistake in either shows.
//! `tests/fixtures/vit/generate.py` draws the same tensors in Python (the
//! fixture records [`content_sha256`]) and runs the reference code on them.
//! **Features made with these weights are not DINOv2 or CLIP features.**

use super::{expected_keys, Family, VitConfig};
pub use crate::networks::inception::seeded::content_sha256;
use crate::networks::inception::seeded::uniform;
use crate::networks::{StateDict, TensorF32};

/// The seed of the DINOv2 fixture.
pub const DINOV2_SEED: u64 = 2023;
/// The seed of the CLIP fixture.
pub const CLIP_SEED: u64 = 2024;

/// The CLIP file's decoy keys of the text tower (with shapes), which the
/// reader must ignore as it ignores a real file's text tower.
pub const CLIP_TEXT_KEYS: [(&str, &[usize]); 4] = [
    ("logit_scale", &[]),
    ("text_model.final_layer_norm.bias", &[64]),
    ("text_model.final_layer_norm.weight", &[64]),
    ("text_projection.weight", &[96, 64]),
];

/// The tiny configuration of the committed fixtures: width 128 (2 heads),
/// 2 blocks, patch 14, DINOv2's 37 × 37 trained grid (so the 224 input
/// interpolates it) and CLIP's 24 × 24 at 336, MLP 512, projection 96.
pub fn tiny(family: Family) -> VitConfig {
    VitConfig {
        width: 128,
        depth: 2,
        heads: 2,
        mlp: 512,
        projection: VitConfig::large(family).projection.map(|_| 96),
        ..VitConfig::large(family)
    }
}

/// `(a, b)` of `u·a + b` for `key` of `shape` (the module's table).
fn affine(key: &str, shape: &[usize]) -> (f32, f32) {
    const TOKENS: [&str; 5] = [
        "cls_token",
        "pos_embed",
        "mask_token",
        "class_embedding",
        "position_embedding.weight",
    ];
    if TOKENS.iter().any(|t| key.ends_with(t)) {
        (1.0, 0.0)
    } else if key.ends_with(".gamma") {
        (0.25, 0.5)
    } else if key == "logit_scale" {
        (0.0, 100f64.ln() as f32)
    } else if key.ends_with(".weight") && shape.len() == 1 {
        (0.25, 1.0)
    } else if key.ends_with(".bias") {
        (0.1, 0.0)
    } else if key.ends_with(".weight") {
        let fan_in: usize = shape[1..].iter().product();
        ((3.0 / fan_in as f64).sqrt() as f32, 0.0)
    } else {
        unreachable!("{key} is not a ViT parameter")
    }
}

fn draw(seed: u64, key: &str, shape: &[usize]) -> TensorF32 {
    let (a, b) = affine(key, shape);
    let n = shape.iter().product();
    let data = uniform(seed, key, n)
        .into_iter()
        .map(|u| u * a + b)
        .collect();
    TensorF32::new(shape.to_vec(), data).expect("n values fill the shape")
}

/// Every key of `config`'s layout drawn from `seed`; for CLIP also the
/// text-tower decoys of [`CLIP_TEXT_KEYS`] (a whole CLIPModel file).
pub fn seeded_state_dict(config: &VitConfig, seed: u64) -> StateDict {
    let mut dict: StateDict = expected_keys(config)
        .into_iter()
        .map(|(key, shape)| {
            let tensor = draw(seed, &key, &shape);
            (key, tensor)
        })
        .collect();
    if config.family == Family::Clip {
        for (key, shape) in CLIP_TEXT_KEYS {
            dict.insert(key.to_owned(), draw(seed, key, shape));
        }
    }
    dict
}

/// CLIP files' int64 `position_ids` buffer `[1, positions]` (0, 1, …).
pub fn clip_position_ids(config: &VitConfig) -> (Vec<usize>, Vec<i64>) {
    let n = config.trained_grid * config.trained_grid + 1;
    (vec![1, n], (0..n as i64).collect())
}
