//! `geneval generate` arguments.

use clap::Args;
use std::path::PathBuf;

/// `geneval generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output folder (created; existing images with the same names are replaced).
    pub out: PathBuf,
    /// Number of images.
    #[arg(long, default_value_t = 1000)]
    pub n: usize,
    /// Side of the square images in pixels.
    #[arg(long, default_value_t = 64)]
    pub size: u32,
    /// Seed: the same arguments give byte-identical files on any machine.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of classes.
    #[arg(long, default_value_t = 10)]
    pub classes: usize,
    /// Only the first K classes (mode dropping).
    #[arg(long, value_name = "K")]
    pub keep_classes: Option<usize>,
    /// Image format: png or jpeg.
    #[arg(long, default_value = "png")]
    pub format: String,
    /// Disturbances to apply, KIND:LEVEL (noise, blur, rectangles, swirl,
    /// salt-pepper, contamination), in order; repeatable.
    #[arg(long, value_name = "KIND:LEVEL")]
    pub disturb: Vec<String>,
}
