//! `geneval eval` arguments.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::kid::{parse_kid_subset_size, parse_kid_subsets};
use super::values::count_in;
use super::ExtractArgs;

/// A metric `eval` can compute, and the feature network it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ValueEnum)]
pub enum EvalMetric {
    /// Fréchet distance on the `--model` network (FID on fid-inception).
    Fid,
    /// Kernel Inception Distance on the `--model` network (torch-fidelity's).
    Kid,
    /// Precision, recall, density, coverage and improved precision/recall on
    /// the `--model` network.
    Prdc,
    /// Inception Score of the generated side (needs a classifier: fid-inception).
    Is,
    /// Fréchet distance on DINOv2 ViT-L/14 features (dgm-eval's FD_DINOv2).
    #[value(name = "fd-dinov2")]
    FdDinov2,
    /// CMMD on CLIP ViT-L/14@336 embeddings (Jayasumana et al. 2024).
    Cmmd,
}

fn parse_cmmd_batch(text: &str) -> Result<usize, String> {
    count_in(text, 1, 1 << 20, "images per batch")
}

/// `geneval eval`
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The real images: a folder or @list.txt.
    pub real: PathBuf,
    /// The generated images: a folder or @list.txt.
    pub fake: PathBuf,
    /// The metrics, comma-separated. Each feature network runs once per
    /// side, whatever the number of metrics computed from it.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "fid,fd-dinov2,cmmd",
        value_name = "fid,kid,prdc,is,fd-dinov2,cmmd"
    )]
    pub metrics: Vec<EvalMetric>,
    /// KID: number of random subsets (1 to 100000).
    #[arg(long, default_value_t = 100, value_parser = parse_kid_subsets)]
    pub kid_subsets: usize,
    /// KID: samples per subset [default: min(N_real, N_fake, 1000)].
    #[arg(long, value_parser = parse_kid_subset_size)]
    pub kid_subset_size: Option<usize>,
    /// PRDC: neighbours for precision, recall, density and coverage.
    #[arg(long, default_value_t = 5)]
    pub prdc_k: usize,
    /// PRDC: neighbours for improved precision/recall.
    #[arg(long, default_value_t = 3)]
    pub pr_k: usize,
    /// Inception Score: number of splits.
    #[arg(long, default_value_t = 10)]
    pub is_splits: usize,
    /// Seed of KID's subsets and the Inception Score's shuffle (numpy RandomState).
    #[arg(long, default_value_t = 2020)]
    pub seed: u32,
    /// CMMD: keep only whole batches of this size on each side, as CMMD's
    /// reference code does (its default batch is 32); by default every
    /// image counts.
    #[arg(long, value_name = "BATCH", value_parser = parse_cmmd_batch)]
    pub cmmd_drop_remainder: Option<usize>,
    /// Feature extraction. `--model` chooses the network of fid, kid, prdc
    /// and is (default fid-inception); fd-dinov2 and cmmd always use
    /// dinov2-vitl14 and clip-vit-l14-336 with their reference preprocessing.
    #[command(flatten)]
    pub extract: ExtractArgs,
}
