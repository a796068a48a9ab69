//! The feature-extraction options every image-reading command shares.

use clap::Args;
use std::path::PathBuf;

use crate::backend::Device;
use crate::preprocess::ResizeMode;

/// How images become features; used when a side is a folder or `@list.txt`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Feature extraction (image folders)")]
pub struct ExtractArgs {
    /// Feature model: `fid-inception` (default: pytorch-fid's network,
    /// fetched and converted once), `dinov2-vitl14` (FD_DINOv2's network),
    /// `clip-vit-l14-336` (CMMD's network), `builtin-filterbank` or `builtin`
    /// (geneval's own networks: oriented filter energies, or the first one's
    /// random convolutions; no download; not comparable with published
    /// numbers) or an .onnx file.
    #[arg(long, value_name = "NAME|PATH")]
    pub model: Option<String>,
    /// FID Inception feature layer, as pytorch-fid's --dims: 2048 (pool3),
    /// 768, 192 or 64.
    #[arg(long, value_name = "2048|768|192|64")]
    pub dims: Option<usize>,
    /// Model spec (JSON) [default: MODEL.onnx.json next to the model, if any].
    #[arg(long, value_name = "FILE")]
    pub model_spec: Option<PathBuf>,
    /// Name of the model output holding the features (overrides the spec).
    #[arg(long, value_name = "NAME")]
    pub features_output: Option<String>,
    /// Name of the model output holding class logits (overrides the spec).
    #[arg(long, value_name = "NAME")]
    pub logits_output: Option<String>,
    /// Resize and normalisation: pytorch-fid, tf (torch-fidelity), clean
    /// (clean-fid), dgm-eval (DINOv2) or cmmd (CLIP) [default: the reference
    /// tool's of the chosen model: pytorch-fid for fid-inception, builtin
    /// and ONNX files, dgm-eval for dinov2-vitl14, cmmd for clip-vit-l14-336].
    #[arg(long, value_name = "MODE")]
    pub mode: Option<ResizeMode>,
    /// Where the model runs: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: Device,
    /// Images per model call [default: 50 on cpu, 200 on cuda].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// ONNX Runtime threads [default: its own choice].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Skip files that cannot be decoded (listed in the result) instead of stopping.
    #[arg(long)]
    pub skip_bad: bool,
    /// Also read images in subfolders.
    #[arg(long)]
    pub recursive: bool,
    /// Refuse images with more pixels than this [default: Pillow's bomb limit, 178956970].
    #[arg(long, value_name = "PIXELS")]
    pub max_pixels: Option<u64>,
    /// Neither read nor write the statistics cache (a side's moments kept
    /// under a key of its files, network and preprocessing: `geneval cache`).
    #[arg(long)]
    pub no_cache: bool,
    /// Hash every image's bytes while decoding (they are read anyway) and
    /// record the dataset's fingerprint (`content_sha256` in the record's
    /// inputs); every image is then read, so the statistics cache is skipped.
    #[arg(long)]
    pub verify_inputs: bool,
    /// The ONNX Runtime library (libonnxruntime.so.*) to load.
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
}
