//! `geneval merge` arguments.

use clap::Args;
use std::path::PathBuf;

/// `geneval merge`
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Partial statistics files (.npz) written by `geneval stats --partial`,
    /// or features parts (.npy) written by `geneval features --shard K/N`.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output statistics file (.npz), or features file (.npy) for features parts.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write the merged result as partial statistics (to merge further).
    #[arg(long)]
    pub partial: bool,
}
