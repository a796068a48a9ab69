//! `geneval stats` arguments.

use clap::Args;
use std::path::PathBuf;

use super::{ExtractArgs, ShardArgs};

/// `geneval stats`
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Images (folder or @list.txt) or features (.npy, N x D).
    pub features: PathBuf,
    /// Output statistics file (.npz).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write mergeable partial statistics instead of pytorch-fid's mu/sigma.
    #[arg(long)]
    pub partial: bool,
    /// Name of the feature layer, recorded in partial statistics so that
    /// `merge` refuses to mix layers.
    /// [default: the model's features output for images, else "unknown"]
    #[arg(long)]
    pub feature: Option<String>,
    /// Identifier of the model that made the features (e.g. its SHA-256),
    /// recorded in partial statistics so that `merge` refuses to mix models.
    /// [default: the model's id for images, else "unknown"]
    #[arg(long)]
    pub model_id: Option<String>,
    /// This process's part of the image list (needs --partial).
    #[command(flatten)]
    pub shard: ShardArgs,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}
