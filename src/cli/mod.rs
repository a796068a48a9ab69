//! Command-line definitions (clap derive) and nothing else: every command's
//! behaviour lives in `commands/`. This file holds the top-level [`Cli`],
//! the [`Command`] enum and the global options; each subcommand's arguments
//! have their own file, `extract.rs` the feature-extraction options the
//! image commands share and `values.rs` the value parsers several share.

mod cache;
mod demo;
mod disturb;
mod doctor;
mod eval;
mod extract;
mod features;
mod fid;
mod gate;
mod generate;
mod is;
mod kid;
mod merge;
mod models;
mod nn;
mod ppl;
mod prdc;
mod report;
mod selfcheck;
mod shard;
mod stats;
mod values;

pub use cache::CacheCommand;
pub use demo::DemoArgs;
pub use disturb::DisturbArgs;
pub use doctor::DoctorArgs;
pub use eval::{EvalArgs, EvalMetric};
pub use extract::ExtractArgs;
pub use features::FeaturesArgs;
pub use fid::FidArgs;
pub use gate::GateArgs;
pub use generate::GenerateArgs;
pub use is::IsArgs;
pub use kid::KidArgs;
pub use merge::MergeArgs;
pub use models::ModelsCommand;
pub use nn::{Distance, NnArgs};
pub use ppl::PplArgs;
pub use prdc::PrdcArgs;
pub use report::ReportArgs;
pub use selfcheck::SelfcheckArgs;
pub use shard::ShardArgs;
pub use stats::StatsArgs;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Evaluate generative models with the numbers of the reference tools.
#[derive(Debug, Parser)]
#[command(name = "geneval", version, about, propagate_version = true)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Print one JSON result record on stdout instead of the human summary.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress or warnings on stderr (errors are still printed).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Also append the result record as one line to this JSONL file (for
    /// `geneval report` and `geneval gate`).
    #[arg(long, global = true, value_name = "FILE.jsonl")]
    pub record: Option<PathBuf>,
    /// A label stored in the record, KEY=VALUE (repeatable): `--label
    /// model=ours --label step=20000`.
    #[arg(long = "label", global = true, value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every metric from one pass per feature network: FID, KID, PRDC, IS, FD_DINOv2, CMMD.
    Eval(EvalArgs),
    /// Fréchet distance (FID) between two sides: image folders, statistics .npz or features .npy.
    Fid(FidArgs),
    /// Inception Score of images or of logits (N x classes .npy), as torch-fidelity.
    Is(IsArgs),
    /// Kernel Inception Distance between two sides (images or features), as torch-fidelity.
    Kid(KidArgs),
    /// Precision, recall, density and coverage (Naeem et al.) and improved precision/recall.
    Prdc(PrdcArgs),
    /// Nearest real neighbours of generated samples: AuthPct, possible copies, outliers, C_T.
    Nn(NnArgs),
    /// Mean and covariance of images' features, written as pytorch-fid statistics.
    Stats(StatsArgs),
    /// Features (and logits) of a folder of images, written as .npy.
    Features(FeaturesArgs),
    /// Merge partial statistics exactly into one statistics file.
    Merge(MergeArgs),
    /// Generate images, run every metric on them and a short self-check (no download needed).
    Demo(DemoArgs),
    /// Show which ONNX Runtime library geneval finds and what it can do.
    Doctor(DoctorArgs),
    /// Write a deterministic reference image set (procedural classes), optionally disturbed.
    Generate(GenerateArgs),
    /// Apply one of the FID paper's disturbances to a folder of images.
    Disturb(DisturbArgs),
    /// Check that every metric moves the right way under the FID paper's disturbances.
    Selfcheck(SelfcheckArgs),
    /// The models geneval can fetch (FID Inception, DINOv2 ViT-L/14, CLIP ViT-L/14@336) and its cache.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Perplexity of text under an ONNX causal language model, as transformers computes it.
    Ppl(PplArgs),
    /// Tables, charts and a self-contained HTML report from result records.
    Report(ReportArgs),
    /// The statistics cache: list, size, clear (`--no-cache` skips it).
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Quality gate for CI: rules and regressions over result records; exit 1 when one fails.
    Gate(GateArgs),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
