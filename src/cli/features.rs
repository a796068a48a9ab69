//! `geneval features` arguments.

use clap::Args;
use std::path::PathBuf;

use super::{ExtractArgs, ShardArgs};

/// `geneval features`
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// Images: a folder or @list.txt.
    pub images: PathBuf,
    /// Output features (.npy, float32, N x D, rows in file order).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also write the logits (.npy, N x classes), for `geneval is`.
    #[arg(long, value_name = "FILE")]
    pub logits: Option<PathBuf>,
    /// This process's part of the image list.
    #[command(flatten)]
    pub shard: ShardArgs,
    /// Feature extraction.
    #[command(flatten)]
    pub extract: ExtractArgs,
}
