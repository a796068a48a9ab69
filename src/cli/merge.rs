//! `geneval merge` arguments.

use clap::Args;
use std::path::PathBuf;

/// `geneval merge`
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Partial statistics files (.npz) written by `geneval stats --partial`.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output statistics file (.npz).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write the merged result as partial statistics (to merge further).
    #[arg(long)]
    pub partial: bool,
}
