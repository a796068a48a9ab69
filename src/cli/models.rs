//! `geneval models` subcommands.

use clap::Subcommand;
use std::path::PathBuf;

/// `geneval models ...`
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// The registered models and whether each is cached.
    List,
    /// Download a model's official weights, verify their SHA-256, convert to ONNX, cache.
    Fetch {
        /// The model's name: fid-inception, dinov2-vitl14 or clip-vit-l14-336.
        #[arg(default_value = "fid-inception")]
        name: String,
        /// Accept only weights with this SHA-256 (a pin where none is
        /// published; other weights on purpose).
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
    },
    /// Import a local copy of the official weights (offline machines).
    Import {
        /// The weights file, e.g. pt_inception-2015-12-05-6726825d.pth,
        /// dinov2_vitl14_pretrain.pth or CLIP's model.safetensors.
        path: PathBuf,
        /// The model it is.
        #[arg(long, default_value = "fid-inception")]
        name: String,
        /// Accept only weights with this SHA-256.
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
    },
}
