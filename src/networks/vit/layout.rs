//! The key layouts of the two families, and the sizes read from them.

use super::{Family, VitError, DINOV2_INPUT_SIZE, HEAD_DIM};
use crate::networks::weights::layout::{check_layout, first_non_finite};
use crate::networks::StateDict;

/// A ViT's sizes, read from its weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VitConfig {
    /// Which network.
    pub family: Family,
    /// Token width.
    pub width: usize,
    /// Number of blocks.
    pub depth: usize,
    /// Attention heads (`width / 64`).
    pub heads: usize,
    /// Patch side in pixels.
    pub patch: usize,
    /// Side of the trained position grid (37 for DINOv2, 24 for CLIP-336).
    pub trained_grid: usize,
    /// Hidden width of the MLP.
    pub mlp: usize,
    /// Width of CLIP's projection; `None` for DINOv2.
    pub projection: Option<usize>,
    /// The input side the graph takes (224 for DINOv2 as dgm-eval runs it,
    /// the trained size for CLIP).
    pub input_size: usize,
}

impl VitConfig {
    /// ViT-L/14 as published (DINOv2 at 518, CLIP at 336).
    pub fn large(family: Family) -> Self {
        let (trained_grid, projection, input_size) = match family {
            Family::Dinov2 => (37, None, DINOV2_INPUT_SIZE),
            Family::Clip => (24, Some(768), 336),
        };
        VitConfig {
            family,
            width: 1024,
            depth: 24,
            heads: 16,
            patch: 14,
            trained_grid,
            mlp: 4096,
            projection,
            input_size,
        }
    }

    /// Side of the patch grid at [`Self::input_size`].
    pub fn grid(&self) -> usize {
        self.input_size / self.patch
    }

    /// Reads the sizes from `dict`'s shapes. Where a key that gives a size
    /// is missing or has the wrong rank, ViT-L's sizes are assumed, so that
    /// the layout check then lists every key against the published layout.
    pub fn infer(dict: &StateDict, family: Family) -> Result<Self, VitError> {
        let names = Names::of(family);
        let shape = |key: &str| dict.get(key).map(|t| t.shape.as_slice());
        let large = VitConfig::large(family);
        let width = match (family, shape(names.class_token)) {
            (Family::Dinov2, Some([1, 1, w])) | (Family::Clip, Some([w])) => *w,
            _ => return Ok(large),
        };
        if width == 0 || width % HEAD_DIM != 0 {
            return Err(VitError::Width { width });
        }
        let patch = match shape(names.patch_weight) {
            Some([_, 3, p, q]) if p == q && *p > 0 => *p,
            _ => return Ok(large),
        };
        let positions = match (family, shape(names.positions)) {
            (Family::Dinov2, Some([1, n, _])) | (Family::Clip, Some([n, _])) => *n,
            _ => return Ok(large),
        };
        let trained_grid = (1..=positions)
            .find(|g| g * g + 1 >= positions)
            .filter(|g| g * g + 1 == positions)
            .ok_or_else(|| VitError::Grid {
                key: names.positions.to_owned(),
                positions,
            })?;
        let depth = (0..)
            .take_while(|&i| dict.contains_key(&names.block(i, "norm1.weight")))
            .count();
        let mlp = match shape(&names.block(0, "fc1.weight")) {
            Some([h, _]) => *h,
            _ => return Ok(large),
        };
        let projection = match family {
            Family::Dinov2 => None,
            Family::Clip => match shape(CLIP_PROJECTION) {
                Some([p, _]) => Some(*p),
                _ => return Ok(large),
            },
        };
        let input_size = match family {
            Family::Dinov2 => DINOV2_INPUT_SIZE,
            Family::Clip => trained_grid * patch,
        };
        Ok(VitConfig {
            family,
            width,
            depth,
            heads: width / HEAD_DIM,
            patch,
            trained_grid,
            mlp,
            projection,
            input_size,
        })
    }
}

/// CLIP's projection (no bias).
pub(super) const CLIP_PROJECTION: &str = "visual_projection.weight";

/// Where each part lives in a family's state dict.
#[derive(Debug, Clone, Copy)]
pub(super) struct Names {
    pub family: Family,
    pub class_token: &'static str,
    pub positions: &'static str,
    pub patch_weight: &'static str,
    /// The patch convolution's bias (DINOv2 has one, CLIP none).
    pub patch_bias: Option<&'static str>,
    /// CLIP's LayerNorm after the embeddings.
    pub pre_norm: Option<&'static str>,
    pub final_norm: &'static str,
    block_prefix: &'static str,
}

impl Names {
    pub fn of(family: Family) -> Self {
        match family {
            Family::Dinov2 => Names {
                family,
                class_token: "cls_token",
                positions: "pos_embed",
                patch_weight: "patch_embed.proj.weight",
                patch_bias: Some("patch_embed.proj.bias"),
                pre_norm: None,
                final_norm: "norm",
                block_prefix: "blocks",
            },
            Family::Clip => Names {
                family,
                class_token: "vision_model.embeddings.class_embedding",
                positions: "vision_model.embeddings.position_embedding.weight",
                patch_weight: "vision_model.embeddings.patch_embedding.weight",
                patch_bias: None,
                pre_norm: Some("vision_model.pre_layrnorm"),
                final_norm: "vision_model.post_layernorm",
                block_prefix: "vision_model.encoder.layers",
            },
        }
    }

    /// A key of block `i`, named by a short part name (`norm1.weight`,
    /// `qkv.bias`, `q.weight`, `proj.weight`, `ls1.gamma`, `fc1.bias`, …)
    /// translated to the family's module path.
    pub fn block(&self, i: usize, part: &str) -> String {
        let (module, parameter) = part.split_once('.').expect("a part is module.parameter");
        let module = match (self.family, module) {
            (Family::Dinov2, "qkv" | "proj") => format!("attn.{module}"),
            (Family::Dinov2, "fc1" | "fc2") | (Family::Clip, "fc1" | "fc2") => {
                format!("mlp.{module}")
            }
            (Family::Dinov2, _) => module.to_owned(),
            (Family::Clip, "norm1") => "layer_norm1".to_owned(),
            (Family::Clip, "norm2") => "layer_norm2".to_owned(),
            (Family::Clip, "proj") => "self_attn.out_proj".to_owned(),
            (Family::Clip, _) => format!("self_attn.{module}_proj"),
        };
        format!("{}.{i}.{module}.{parameter}", self.block_prefix)
    }
}

/// Every key `config`'s family and sizes need, with its shape.
pub fn expected_keys(config: &VitConfig) -> Vec<(String, Vec<usize>)> {
    let names = Names::of(config.family);
    let (w, m) = (config.width, config.mlp);
    let positions = config.trained_grid * config.trained_grid + 1;
    let mut keys: Vec<(String, Vec<usize>)> = Vec::new();
    let mut add = |key: String, shape: Vec<usize>| keys.push((key, shape));
    match config.family {
        Family::Dinov2 => {
            add(names.class_token.into(), vec![1, 1, w]);
            add(names.positions.into(), vec![1, positions, w]);
            add("mask_token".into(), vec![1, w]);
        }
        Family::Clip => {
            add(names.class_token.into(), vec![w]);
            add(names.positions.into(), vec![positions, w]);
        }
    }
    add(
        names.patch_weight.into(),
        vec![w, 3, config.patch, config.patch],
    );
    if let Some(bias) = names.patch_bias {
        add(bias.into(), vec![w]);
    }
    for norm in names.pre_norm.into_iter().chain([names.final_norm]) {
        add(format!("{norm}.weight"), vec![w]);
        add(format!("{norm}.bias"), vec![w]);
    }
    for i in 0..config.depth {
        let mut part = |p: &str, shape: Vec<usize>| add(names.block(i, p), shape);
        for norm in ["norm1", "norm2"] {
            part(&format!("{norm}.weight"), vec![w]);
            part(&format!("{norm}.bias"), vec![w]);
        }
        match config.family {
            Family::Dinov2 => {
                part("qkv.weight", vec![3 * w, w]);
                part("qkv.bias", vec![3 * w]);
                part("ls1.gamma", vec![w]);
                part("ls2.gamma", vec![w]);
            }
            Family::Clip => {
                for p in ["q", "k", "v"] {
                    part(&format!("{p}.weight"), vec![w, w]);
                    part(&format!("{p}.bias"), vec![w]);
                }
            }
        }
        part("proj.weight", vec![w, w]);
        part("proj.bias", vec![w]);
        part("fc1.weight", vec![m, w]);
        part("fc1.bias", vec![m]);
        part("fc2.weight", vec![w, m]);
        part("fc2.bias", vec![w]);
    }
    if let Some(p) = config.projection {
        add(CLIP_PROJECTION.into(), vec![p, w]);
    }
    keys.sort();
    keys
}

/// Keys a family's file may hold that the image network does not use: the
/// text tower and buffers of a whole CLIP checkpoint.
pub fn ignored(family: Family, key: &str) -> bool {
    match family {
        Family::Dinov2 => false,
        Family::Clip => {
            !(key.starts_with("vision_model.") || key == CLIP_PROJECTION)
                || key == "vision_model.embeddings.position_ids"
        }
    }
}

/// Checks `dict` against `config`'s layout and for non-finite weights.
pub(super) fn check(dict: &StateDict, config: &VitConfig) -> Result<(), VitError> {
    let expected = expected_keys(config);
    let mismatch = check_layout(dict, &expected, config.family.network(), |k| {
        ignored(config.family, k)
    });
    if !mismatch.is_empty() {
        return Err(VitError::Layout(mismatch));
    }
    if let Some(bad) = first_non_finite(dict, &expected) {
        return Err(VitError::NonFinite {
            key: bad.key,
            index: bad.index,
            value: bad.value,
        });
    }
    Ok(())
}
