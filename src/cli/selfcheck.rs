//! `geneval selfcheck` arguments.

use clap::Args;
use std::path::PathBuf;

use super::ExtractArgs;

/// `geneval selfcheck`
#[derive(Debug, Args)]
pub struct SelfcheckArgs {
    /// Folder for the generated sets, results.jsonl and report.md.
    #[arg(short, long, default_value = "geneval-selfcheck")]
    pub out: PathBuf,
    /// Images per set.
    #[arg(long, default_value_t = 500)]
    pub n: usize,
    /// Image side in pixels.
    #[arg(long, default_value_t = 64)]
    pub size: u32,
    /// Classes of the generator.
    #[arg(long, default_value_t = 10)]
    pub classes: usize,
    /// Seed of the reference set (the clean set uses seed + 1).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Feature extraction [default model: fid-inception if cached, else
    /// builtin-filterbank].
    #[command(flatten)]
    pub extract: ExtractArgs,
}
