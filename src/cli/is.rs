//! `geneval is` arguments.

use clap::Args;
use std::path::PathBuf;

use super::ExtractArgs;

/// `geneval is`
#[derive(Debug, Args)]
pub struct IsArgs {
    /// Images (folder or @list.txt), or logits N x classes (.npy). For FID
    /// Inception use the logits without the fc bias.
    pub logits: PathBuf,
    /// Number of splits.
    #[arg(long, default_value_t = 10)]
    pub splits: usize,
    /// Seed of the permutation of samples before splitting (numpy RandomState).
    #[arg(long, default_value_t = 2020)]
    pub seed: u32,
    /// Keep the samples in file order instead of permuting them.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}
