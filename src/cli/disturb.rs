//! `geneval disturb` arguments.

use clap::Args;
use std::path::PathBuf;

use super::values::parse_disturbance;
use crate::generate::Disturbance;

/// `geneval disturb`
#[derive(Debug, Args)]
pub struct DisturbArgs {
    /// Folder of images to read.
    pub input: PathBuf,
    /// Folder to write (same file names, PNG).
    pub out: PathBuf,
    /// The disturbance, KIND:LEVEL.
    #[arg(value_name = "KIND:LEVEL", value_parser = parse_disturbance)]
    pub disturbance: Disturbance,
    /// Seed of the disturbance's randomness.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}
