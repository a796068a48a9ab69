//! `geneval disturb` arguments.

use clap::Args;
use std::path::PathBuf;

/// `geneval disturb`
#[derive(Debug, Args)]
pub struct DisturbArgs {
    /// Folder of images to read.
    pub input: PathBuf,
    /// Folder to write (same file names, PNG).
    pub out: PathBuf,
    /// The disturbance, KIND:LEVEL.
    #[arg(value_name = "KIND:LEVEL")]
    pub disturbance: String,
    /// Seed of the disturbance's randomness.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}
