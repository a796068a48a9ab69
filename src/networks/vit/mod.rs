//! Vision transformers as ONNX graphs written by geneval from published
//! state dicts ([`build_onnx`]): the feature networks of FD-DINOv2 and CMMD.
//!
//! # The two networks
//!
//! | family | weights | input | features |
//! |---|---|---|---|
//! | [`Family::Dinov2`] | Meta's `dinov2_vitl14_pretrain.pth` (torch hub layout, `blocks.N.attn.qkv`, LayerScale `ls1`/`ls2`) | 224 × 224, dgm-eval's preprocessing | the class token after the final LayerNorm, [`FEATURES`] (1024-d) |
//! | [`Family::Clip`] | Hugging Face `openai/clip-vit-large-patch14-336` `model.safetensors` (`vision_model.*`, `visual_projection`) | 336 × 336, CMMD's preprocessing | the class token after `post_layernorm`, projected ([`IMAGE_EMBEDS`], 768-d), and L2-normalised ([`EMBEDDING`]: what CMMD measures) |
//!
//! One builder serves both: patch embedding (a stride-`p` convolution), the
//! class token, position embeddings, pre-norm blocks (`x + attn(ln1(x))`,
//! `x + mlp(ln2(x))`, LayerScale where the weights have it), the final norm.
//! What differs is read from [`Family`]: fused or separate q/k/v, GELU
//! (exact, erf) or CLIP's QuickGELU (`x·σ(1.702x)`), LayerNorm ε (1e-6 or
//! 1e-5), CLIP's extra `pre_layrnorm` after the embeddings, and the head.
//!
//! # Sizes come from the weights
//!
//! Width, depth, patch size, trained grid, MLP width and projection width
//! are read from the tensors' shapes ([`VitConfig::infer`]); the number of
//! heads cannot be, and is `width / 64` ([`HEAD_DIM`]) as in every DINOv2
//! and CLIP ViT. So the seeded test weights (width 128, 2 blocks) go through
//! the same code as ViT-L/14 (width 1024, 24 blocks).
//!
//! # Position embeddings
//!
//! DINOv2 was trained at 518 × 518 (a 37 × 37 grid) and dgm-eval runs it at
//! 224 × 224 (16 × 16): the hub model's `interpolate_pos_encoding` resizes
//! the grid with torch's bicubic (a = −0.75, no antialias) using the scale
//! factor `(16 + 0.1) / 37`, not the size — a historical offset that moves
//! the sampling positions, reproduced here ([`position`]). The weights are
//! constants, so the interpolation is done once, in f64, when the graph is
//! written. CLIP runs at its trained size: no interpolation.

mod graph;
mod layout;
pub mod position;
pub mod seeded;

pub use layout::{expected_keys, ignored, VitConfig};

use crate::networks::weights::layout::LayoutMismatch;
use crate::networks::StateDict;
use crate::onnx::OnnxError;

/// The input's name: float32 `[N, 3, size, size]`, already normalised by the
/// family's preprocessing mode.
pub const INPUT_NAME: &str = "images";

/// DINOv2's output: the normalised class token, `[N, width]`.
pub const FEATURES: &str = "features";

/// CLIP's projected class token, `[N, projection]` (transformers' `image_embeds`).
pub const IMAGE_EMBEDS: &str = "image_embeds";

/// CLIP's projected class token divided by its L2 norm, `[N, projection]`:
/// the embedding CMMD's model returns and measures.
pub const EMBEDDING: &str = "embedding";

/// Width of one attention head in every DINOv2 and CLIP ViT.
pub const HEAD_DIM: usize = 64;

/// dgm-eval's DINOv2 input side.
pub const DINOV2_INPUT_SIZE: usize = 224;

/// Which published network a state dict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Meta's DINOv2 (torch hub / timm key layout).
    Dinov2,
    /// OpenAI's CLIP image tower with its projection (Hugging Face layout).
    Clip,
}

impl Family {
    /// How layout errors name the network.
    pub fn network(self) -> &'static str {
        match self {
            Family::Dinov2 => "a DINOv2 ViT (dinov2_vit*14_pretrain.pth layout)",
            Family::Clip => "a CLIP ViT image tower (Hugging Face CLIPModel layout)",
        }
    }

    /// LayerNorm epsilon.
    pub fn layer_norm_epsilon(self) -> f32 {
        match self {
            Family::Dinov2 => 1e-6,
            Family::Clip => 1e-5,
        }
    }

    /// The output the registry names as features.
    pub fn features_output(self) -> &'static str {
        match self {
            Family::Dinov2 => FEATURES,
            Family::Clip => EMBEDDING,
        }
    }
}

/// Why a state dict cannot be turned into a ViT graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VitError {
    /// Keys missing, unexpected or misshapen.
    #[error("{0}")]
    Layout(LayoutMismatch),
    /// The width is not a multiple of the head width.
    #[error("width {width} is not a multiple of {HEAD_DIM}: not a DINOv2/CLIP ViT")]
    Width {
        /// The width read from the weights.
        width: usize,
    },
    /// The position embeddings are not a square grid plus the class token.
    #[error("{key} has {positions} positions: not 1 + a square grid")]
    Grid {
        /// The key.
        key: String,
        /// Its number of rows.
        positions: usize,
    },
    /// A weight is NaN or infinite.
    #[error("weight {key}[{index}] is {value}: the weights file is corrupt")]
    NonFinite {
        /// The key.
        key: String,
        /// The index.
        index: usize,
        /// The value.
        value: f32,
    },
    /// The graph could not be written.
    #[error("writing the ViT graph: {0}")]
    Onnx(#[from] OnnxError),
}

/// Writes the ONNX graph of `family` from `dict` (checked first: every
/// missing, unexpected or misshapen key is reported at once).
pub fn build_onnx(dict: &StateDict, family: Family) -> Result<Vec<u8>, VitError> {
    let config = VitConfig::infer(dict, family)?;
    layout::check(dict, &config)?;
    graph::write(dict, &config)
}

#[cfg(test)]
mod tests;
