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
        /// The model's name.
        #[arg(default_value = "fid-inception")]
        name: String,
    },
    /// Import a local copy of the official weights (offline machines).
    Import {
        /// The weights file, e.g. pt_inception-2015-12-05-6726825d.pth.
        path: PathBuf,
        /// The model it is.
        #[arg(long, default_value = "fid-inception")]
        name: String,
    },
}
