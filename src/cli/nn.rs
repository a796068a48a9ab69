//! `geneval nn` arguments.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::ExtractArgs;

/// How two feature vectors' distance is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Distance {
    /// Euclidean distance of the features.
    Euclidean,
    /// Cosine distance (1 − cos), what copy detection on CLIP/DINOv2 uses.
    Cosine,
}

impl Distance {
    /// The name in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Distance::Euclidean => "euclidean",
            Distance::Cosine => "cosine",
        }
    }
}

/// `geneval nn`
#[derive(Debug, Args)]
pub struct NnArgs {
    /// The real (training) set: images (folder, @list) or features (.npy).
    pub real: PathBuf,
    /// The generated set.
    pub fake: PathBuf,
    /// Distance between features.
    #[arg(long, value_enum, default_value_t = Distance::Euclidean)]
    pub distance: Distance,
    /// A generated sample is a possible copy when its nearest real sample
    /// is closer than this fraction of that real sample's own nearest
    /// real neighbour.
    #[arg(long, default_value_t = 0.1, value_name = "RATIO")]
    pub copy_ratio: f64,
    /// How many possible copies and outliers to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// Held-out real samples for the C_T data-copying test (images or
    /// features): dgm-eval's `--test_path`, with REAL as its `--train`.
    /// Without it the real side is split, even rows the training set and
    /// odd rows the held-out set; copies of odd rows then look like unseen
    /// samples, so copying shows at about half strength. C_T always uses
    /// the raw features and Euclidean distance, whatever `--distance` says.
    #[arg(long, value_name = "PATH")]
    pub real_test: Option<PathBuf>,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}
