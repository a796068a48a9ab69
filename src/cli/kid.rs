//! `geneval kid` arguments.

use clap::Args;
use std::path::PathBuf;

use super::values::count_in;
use super::ExtractArgs;

/// The most KID subsets `--subsets` accepts. torch-fidelity's default is
/// 100 and the spread of KID settles long before 100000; each subset costs
/// three m×m kernel products (m = 1000: ~6 GFLOP at 2048 dimensions), so
/// more would run for days. The bound is checked while parsing, before a
/// count like 2^64−1 can reach code that sizes anything by it.
pub const MAX_KID_SUBSETS: usize = 100_000;

pub(super) fn parse_kid_subsets(text: &str) -> Result<usize, String> {
    count_in(text, 1, MAX_KID_SUBSETS, "subsets")
}

/// At least 2 (the unbiased MMD² divides by m − 1); the upper bound is the
/// sample count, checked once the features are read.
pub(super) fn parse_kid_subset_size(text: &str) -> Result<usize, String> {
    count_in(text, 2, usize::MAX, "samples per subset")
}

/// `geneval kid`
#[derive(Debug, Args)]
pub struct KidArgs {
    /// The first set: an image folder, @list.txt or features (.npy).
    pub a: PathBuf,
    /// The second set.
    pub b: PathBuf,
    /// Number of random subsets (1 to 100000).
    #[arg(long, default_value_t = 100, value_parser = parse_kid_subsets)]
    pub subsets: usize,
    /// Samples per subset, from 2 to the smaller set's size [default: min(N_a, N_b, 1000)].
    #[arg(long, value_parser = parse_kid_subset_size)]
    pub subset_size: Option<usize>,
    /// Degree of the polynomial kernel.
    #[arg(long, default_value_t = 3)]
    pub degree: u32,
    /// Kernel scale [default: 1 / dimension].
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Kernel offset.
    #[arg(long, default_value_t = 1.0)]
    pub coef0: f64,
    /// Seed of the subset draws (numpy RandomState).
    #[arg(long, default_value_t = 2020)]
    pub seed: u32,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bounded_inclusively_and_name_the_bound() {
        assert_eq!(parse_kid_subsets("100000"), Ok(MAX_KID_SUBSETS));
        assert_eq!(parse_kid_subsets(" 1 "), Ok(1));
        for text in ["100001", "18446744073709551615", "99999999999999999999999"] {
            let err = parse_kid_subsets(text).unwrap_err();
            assert!(err.contains("maximum of 100000"), "{err}");
        }
        assert!(parse_kid_subsets("0").unwrap_err().contains("at least 1"));
        assert!(parse_kid_subsets("-3")
            .unwrap_err()
            .contains("whole number"));
        assert_eq!(parse_kid_subset_size("2"), Ok(2));
        assert!(parse_kid_subset_size("1").is_err());
    }
}
