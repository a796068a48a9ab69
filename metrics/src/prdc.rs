//! k-nearest-neighbour manifold metrics: precision, recall, density and
//! coverage (PRDC, Naeem et al. 2020) and the improved precision and recall
//! (Kynkäänniemi et al. 2019) they grew out of.
//!
//! Both metrics estimate the support ("manifold") of a feature set as the
//! union of balls around its samples, each ball reaching the sample's k-th
//! nearest neighbour within the same set, and then count which samples of
//! the other set fall inside those balls. [`prdc`] uses open balls (the
//! `prdc` package), [`improved_precision_recall`] closed ones
//! (torch-fidelity), and [`prdc_and_improved_precision_recall`] gives both
//! from one pass over the distances.
//!
//! There is no streaming accumulator: a k-NN radius depends on every other
//! sample of its set, so both sets must be held in memory. The distance
//! matrices never are (see "Memory" on [`prdc`]).
//!
//! The code is split by concern, and everything public is re-exported here:
//! this file holds PRDC; `precision_recall.rs` the improved precision and
//! recall; `neighbourhood.rs` the balls, their boundary rules, the pass that
//! counts memberships and both metrics at once; `knn.rs` the exact k-NN
//! distances over row blocks, computed as scikit-learn computes them.

#[cfg(doc)]
use crate::error::MetricsError;
use crate::error::Result;
use crate::knn::BLOCK_ROWS;
use crate::neighbourhood::{neighbourhood_counts, validate, BallCounts, Neighbourhood};
use ndarray::ArrayView2;

pub use crate::neighbourhood::{prdc_and_improved_precision_recall, NeighbourhoodMetrics};
pub use crate::precision_recall::{
    improved_precision_recall, ImprovedPrecisionRecall, IMPROVED_PR_DEFAULT_K,
};

/// The default neighbourhood size of [`prdc`] (Naeem et al. 2020, and the
/// `prdc` package's README).
pub const PRDC_DEFAULT_K: usize = 5;

/// Precision, recall, density and coverage of a fake feature set against a
/// real one (Naeem et al. 2020).
#[derive(Debug, Clone, PartialEq)]
pub struct Prdc {
    /// Fraction of fake samples inside at least one real k-NN ball.
    pub precision: f64,
    /// Fraction of real samples inside at least one fake k-NN ball.
    pub recall: f64,
    /// Real k-NN balls containing a fake sample, averaged over fake samples
    /// and divided by k; 1 when fake and real are alike, unbounded above.
    pub density: f64,
    /// Fraction of real samples whose k-NN ball contains a fake sample.
    pub coverage: f64,
    /// The neighbourhood size used.
    pub k: usize,
}

/// Precision, recall, density and coverage (PRDC) of `fake` against `real`,
/// both `samples × features`.
///
/// Naeem, Oh, Uh, Choi, Yoo, "Reliable Fidelity and Diversity Metrics for
/// Generative Models", ICML 2020. The paper's (and our suggested) default is
/// `k` = [`PRDC_DEFAULT_K`] = 5. The numbers equal those of the authors'
/// package (`pip install prdc`, version 0.2, `compute_prdc(real, fake,
/// nearest_k=k)`).
///
/// # Formulas
///
/// With `d` the Euclidean distance, `r(x)` the distance from a sample to its
/// k-th nearest neighbour in its own set (the (k+1)-th smallest distance
/// counting the sample itself), `N` real samples `Xᵢ`, `M` fake samples `Yⱼ`,
/// and `B(X, r) = { y : d(X, y) < r }` an **open** ball:
///
/// * precision = (1/M) Σⱼ 1[∃i: d(Xᵢ, Yⱼ) < r(Xᵢ)]
/// * recall    = (1/N) Σᵢ 1[∃j: d(Xᵢ, Yⱼ) < r(Yⱼ)]
/// * density   = (1/k) · (1/M) Σⱼ Σᵢ 1[d(Xᵢ, Yⱼ) < r(Xᵢ)]
/// * coverage  = (1/N) Σᵢ 1[minⱼ d(Xᵢ, Yⱼ) < r(Xᵢ)]
///
/// Density and coverage were introduced because precision and recall are
/// fooled by outliers: one far-away real sample has a huge ball that
/// swallows many fakes. Density counts *how many* balls hold each fake
/// (so it rewards fakes in dense real regions), and coverage builds balls
/// only around real samples, which are trusted not to be outliers.
///
/// # Reference semantics
///
/// * Strict `<` everywhere, as `compute_prdc`: a sample exactly on a ball's
///   boundary is outside. In particular identical real and fake sets give
///   precision = recall = coverage = 1 (each sample is at distance 0 from
///   its copy, inside its own ball) and density = 1 (without distance ties
///   each real ball holds its centre's copy and the k−1 strictly nearer
///   neighbours: k memberships per sample).
/// * The radius is the (k+1)-th smallest distance of a row of the
///   self-distance matrix whose diagonal is exactly 0, as `prdc`'s
///   `get_kth_value(distances, k + 1)` on sklearn's zero-diagonal matrix.
///   Ties need no rule: an order statistic does not depend on which of
///   equal values is picked. (A sample with k or more exact duplicates has
///   radius 0, so with `<` its ball is empty.)
/// * Ratios are `count as f64 / n as f64` and density is
///   `(1/k) · (total / M)`, the operation order of numpy's `mean`.
///
/// # Memory and time
///
/// Dot products are computed in blocks of 256 rows against the rows of the
/// other set (one matrix product per block, blocks in parallel with
/// rayon); only the radii, the k + 1 smallest distances per row and the
/// counts survive a block. Peak memory beyond the inputs is about
/// `threads × 256 × max(N, M) × 8` bytes for the blocks plus, per thread,
/// `max(N, M) × (k + 1) × 8` bytes of nearest-distance lists and `M × 8`
/// bytes of counters: ≈ 330 MB with 16 threads for N = M = 10 000
/// (measured: 73 MB above the 328 MB of 10 000 × 2048 inputs with 2
/// threads), where the `prdc` package holds three full `N × M` matrices
/// (2.4 GB; measured peak 2.1 GB with its argpartition temporaries).
/// Time is dominated by the products; the self-distances use symmetry, so
/// `2·((N² + M²)/2 + N·M)·features` flops, two thirds of the package's.
/// Calling this and [`improved_precision_recall`] one after the other does
/// all the products twice; [`prdc_and_improved_precision_recall`] does them
/// once for both.
///
/// # Errors
///
/// [`MetricsError::DimensionMismatch`] if the feature dimensions differ,
/// [`MetricsError::InvalidParameter`] if `k` is 0,
/// [`MetricsError::TooFewSamples`] if either set has `k` samples or fewer
/// (a k-th neighbour other than oneself needs `k + 1`), and
/// [`MetricsError::NonFinite`] on NaN or infinite features.
///
/// # Examples
///
/// A fake set that is the real set scores 1 on all four:
///
/// ```
/// use geneval_metrics::prdc::{prdc, PRDC_DEFAULT_K};
/// use ndarray::array;
///
/// let real = array![[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [5.0, 1.0], [2.0, 6.0]];
/// let r = prdc(real.view(), real.view(), PRDC_DEFAULT_K)?;
/// assert_eq!((r.precision, r.recall, r.density, r.coverage), (1.0, 1.0, 1.0, 1.0));
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
///
/// By hand, with `k = 1`: the real radii (distance to the nearest other
/// real sample) are 2, 1, 1, 1, 1 and the fake radii 3, 3, 5. Only fake 1
/// lies strictly inside a real ball (that of 0, and only that one); real 14
/// is exactly on the boundary of fake 9's ball, so outside:
///
/// ```
/// use geneval_metrics::prdc::prdc;
/// use ndarray::array;
///
/// // One feature per sample; every distance is exact.
/// let real = array![[0.0], [2.0], [3.0], [13.0], [14.0]];
/// let fake = array![[1.0], [4.0], [9.0]];
/// let r = prdc(real.view(), fake.view(), 1)?;
/// assert_eq!(r.precision, 1.0 / 3.0); // fake 1
/// assert_eq!(r.recall, 4.0 / 5.0); // all reals but 14
/// assert_eq!(r.density, 1.0 / 3.0); // one membership, / k / M
/// assert_eq!(r.coverage, 1.0 / 5.0); // real 0's ball
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub fn prdc(real: ArrayView2<'_, f64>, fake: ArrayView2<'_, f64>, k: usize) -> Result<Prdc> {
    prdc_with_block(real, fake, k, BLOCK_ROWS)
}

pub(crate) fn prdc_with_block(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
    block_rows: usize,
) -> Result<Prdc> {
    validate(real, fake, &[("k", k)])?;
    let [counts] = neighbourhood_counts(real, fake, [Neighbourhood::prdc(k)], block_rows);
    Ok(Prdc::from_counts(&counts, k))
}

impl Prdc {
    /// [`Prdc`] from counts of open balls of neighbourhood size `k`.
    pub(crate) fn from_counts(counts: &BallCounts, k: usize) -> Self {
        let (n_real, n_fake) = (counts.n_real as f64, counts.n_fake as f64);
        Self {
            precision: counts.fakes_in_real_balls as f64 / n_fake,
            recall: counts.reals_in_fake_balls as f64 / n_real,
            density: (1.0 / k as f64) * (counts.real_ball_memberships as f64 / n_fake),
            coverage: counts.real_balls_with_fake as f64 / n_real,
            k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::fixtures::features;

    #[test]
    fn strided_views_give_the_same_result() {
        let real = features(8, 60, 5, 1.0, 0.0);
        let fake = features(9, 50, 5, 1.1, 0.1);
        let real_t = real.t().to_owned();
        let fake_f = fake.t().to_owned();
        let r = prdc(real_t.t(), fake_f.t(), 5).unwrap();
        assert_eq!(r, prdc(real.view(), fake.view(), 5).unwrap());
    }

    /// Values from the reference packages, on the `features` sets of
    /// `knn::fixtures`:
    ///
    /// ```text
    /// /root/.cache/geneval-dev/venv/bin/python -c '
    /// from prdc import compute_prdc   # prdc 0.2, scikit-learn 1.9.1, numpy 2.4
    /// print(compute_prdc(features(11, 60, 4), features(12, 50, 4, 1.2, 0.1), 5))
    /// print(compute_prdc(features(13, 40, 8), features(14, 70, 8, 0.8, 0.3), 3))
    /// print(compute_prdc(features(15, 120, 16), features(16, 90, 16, 1.0, 0.25), 5))'
    /// ```
    #[test]
    fn matches_prdc_package() {
        let cases = [
            (
                (11, 60, 4, 1.0, 0.0),
                (12, 50, 4, 1.2, 0.1),
                5,
                [0.76, 1.0, 0.5599999999999999, 0.95],
            ),
            (
                (13, 40, 8, 1.0, 0.0),
                (14, 70, 8, 0.8, 0.3),
                3,
                [1.0, 0.425, 0.9095238095238095, 0.775],
            ),
            (
                (15, 120, 16, 1.0, 0.0),
                (16, 90, 16, 1.0, 0.25),
                5,
                [
                    0.45555555555555555,
                    0.325,
                    0.16666666666666669,
                    0.21666666666666667,
                ],
            ),
        ];
        for (r, f, k, [precision, recall, density, coverage]) in cases {
            let real = features(r.0, r.1, r.2, r.3, r.4);
            let fake = features(f.0, f.1, f.2, f.3, f.4);
            let got = prdc(real.view(), fake.view(), k).unwrap();
            assert_eq!(
                got,
                Prdc {
                    precision,
                    recall,
                    density,
                    coverage,
                    k
                }
            );
        }
    }
}
