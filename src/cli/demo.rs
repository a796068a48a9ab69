//! `geneval demo` arguments.

use clap::Args;
use std::path::PathBuf;

use super::ExtractArgs;

/// `geneval demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo's images, statistics and self-check report.
    #[arg(long, default_value = "geneval-demo")]
    pub out: PathBuf,
    /// Images per set.
    #[arg(long, default_value_t = 300)]
    pub n: usize,
    /// Image side in pixels.
    #[arg(long, default_value_t = 64)]
    pub size: u32,
    /// Images per set in the closing self-check (0: skip it).
    #[arg(long, default_value_t = 150)]
    pub selfcheck_n: usize,
    /// Feature extraction [default model: fid-inception if cached, else
    /// builtin-filterbank].
    #[command(flatten)]
    pub extract: ExtractArgs,
}
