//! `geneval fid` arguments.

use clap::Args;
use std::path::PathBuf;

use super::values::count_in;
use super::ExtractArgs;

/// The most bootstrap replicates `fid --bootstrap` accepts: each one is a
/// covariance and an eigendecomposition (~4 s at 2048 dimensions), and a
/// 95% interval is stable with a few thousand.
pub const MAX_BOOTSTRAP_REPLICATES: usize = 100_000;

fn parse_bootstrap_replicates(text: &str) -> Result<usize, String> {
    count_in(text, 2, MAX_BOOTSTRAP_REPLICATES, "bootstrap replicates")
}

/// A level strictly between 0 and 1, checked before any image is read.
fn parse_level(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(level) if level > 0.0 && level < 1.0 => Ok(level),
        _ => Err(format!(
            "`{text}` is not a level between 0 and 1 (exclusive), e.g. 0.95"
        )),
    }
}

/// `geneval fid`
#[derive(Debug, Args)]
pub struct FidArgs {
    /// First side (e.g. the real data): an image folder, @list.txt, .npz statistics or .npy features.
    pub a: PathBuf,
    /// Second side (e.g. the generated data).
    pub b: PathBuf,
    /// Also redraw both sides' samples with replacement this many times and
    /// report the FID's bootstrap interval and std (one FID per replicate;
    /// needs features or images, not statistics).
    /// At most 100000.
    #[arg(long, value_name = "REPLICATES", value_parser = parse_bootstrap_replicates)]
    pub bootstrap: Option<usize>,
    /// Level of the bootstrap interval.
    #[arg(
        long,
        default_value_t = 0.95,
        value_name = "LEVEL",
        requires = "bootstrap",
        value_parser = parse_level
    )]
    pub bootstrap_level: f64,
    /// Seed of the bootstrap draws (numpy RandomState).
    #[arg(long, default_value_t = 0)]
    pub seed: u32,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicates_and_levels_are_bounded() {
        assert_eq!(parse_bootstrap_replicates("100000"), Ok(100000));
        assert!(parse_bootstrap_replicates("1").is_err());
        assert!(parse_bootstrap_replicates("100001").is_err());
        assert_eq!(parse_level("0.9"), Ok(0.9));
        for bad in ["0", "1", "NaN", "1.5", "x"] {
            assert!(parse_level(bad).is_err(), "{bad}");
        }
    }
}
