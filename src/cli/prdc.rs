//! `geneval prdc` arguments.

use clap::Args;
use std::path::PathBuf;

use super::ExtractArgs;

/// `geneval prdc`
#[derive(Debug, Args)]
pub struct PrdcArgs {
    /// The real set: an image folder, @list.txt or features (.npy).
    pub real: PathBuf,
    /// The generated set.
    pub fake: PathBuf,
    /// Neighbours for precision/recall/density/coverage (Naeem et al.).
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Neighbours for improved precision/recall (Kynkäänniemi et al.).
    #[arg(long, default_value_t = 3)]
    pub pr_k: usize,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}
