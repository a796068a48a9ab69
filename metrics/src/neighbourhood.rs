//! The k-NN balls that both manifold metrics are built from, and the one
//! pass that counts which samples of the other set fall inside them.
//!
//! Both metrics estimate the support ("manifold") of a feature set as the
//! union of balls around its samples, each ball reaching the sample's k-th
//! nearest neighbour within the same set, and then count which samples of
//! the other set fall inside those balls. This is the core that
//! [`prdc`](crate::prdc::prdc()),
//! [`improved_precision_recall`](crate::prdc::improved_precision_recall()) and
//! [`prdc_and_improved_precision_recall`] (both at once) wrap:
//!
//! * `nearest_distances` (in `knn`) — one k-NN pass per set that keeps the
//!   k + 1 smallest distances of every sample, for the largest k asked for,
//!   so that every family's radius comes from the same pass;
//! * `ball_counts` — one pass over the real × fake distances that counts
//!   every ball membership of every family asked for, each with its own
//!   radius and boundary rule.
//!
//! There is no streaming accumulator: a k-NN radius depends on every other
//! sample of its set, so both sets must be held in memory. The distance
//! matrices never are (see "Memory" on [`prdc`](crate::prdc::prdc())).

use crate::error::{MetricsError, Result};
use crate::finite::ensure_finite_matrix;
use crate::knn::{dot_products, euclidean, nearest_distances, squared_norms, BLOCK_ROWS};
use crate::prdc::Prdc;
use crate::precision_recall::ImprovedPrecisionRecall;
use ndarray::{s, ArrayView1, ArrayView2};
use rayon::prelude::*;

/// Both metric families from one pass over the distances.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourhoodMetrics {
    /// Precision, recall, density and coverage, as
    /// [`prdc`](crate::prdc::prdc()) gives them.
    pub prdc: Prdc,
    /// Improved precision and recall, as
    /// [`improved_precision_recall`](crate::prdc::improved_precision_recall())
    /// gives them.
    pub improved: ImprovedPrecisionRecall,
}

/// [`prdc`](crate::prdc::prdc()) with neighbourhood size `k` and
/// [`improved_precision_recall`](crate::prdc::improved_precision_recall())
/// with neighbourhood size `improved_k`, of `fake` against `real`, both
/// `samples × features`, from one pass over the distances.
///
/// The result equals the two functions' to the bit: every distance is
/// computed as they compute it, each family compares it with its own radius
/// and boundary rule (`<` with the k-NN radius for PRDC, as the `prdc`
/// package; `≤` with the `improved_k`-NN radius for improved precision and
/// recall, as torch-fidelity), and the counts become ratios in the same
/// operations. See those functions for the formulas, the papers and the
/// reference semantics.
///
/// # Memory and time
///
/// One k-NN pass per set keeps the `max(k, improved_k) + 1` smallest
/// distances of each sample, from which both radii are read, and one real
/// × fake pass counts both families' ball memberships, so the matrix
/// products (nearly all of the time) are done once instead of twice. Memory
/// is that of [`prdc`](crate::prdc::prdc()) plus one more `M × 8`-byte
/// counter per thread.
///
/// # Errors
///
/// [`MetricsError::DimensionMismatch`] if the feature dimensions differ,
/// [`MetricsError::InvalidParameter`] (named `k` or `improved_k`) if either
/// neighbourhood size is 0, [`MetricsError::TooFewSamples`] if either set
/// has `max(k, improved_k)` samples or fewer, and
/// [`MetricsError::NonFinite`] on NaN or infinite features.
///
/// # Examples
///
/// ```
/// use geneval_metrics::prdc::{
///     improved_precision_recall, prdc, prdc_and_improved_precision_recall,
///     IMPROVED_PR_DEFAULT_K, PRDC_DEFAULT_K,
/// };
/// use ndarray::array;
///
/// let real = array![[0.0, 0.0], [1.0, 0.5], [0.0, 2.0], [3.0, 3.0], [5.0, 1.0], [2.0, 6.0]];
/// let fake = &real * 1.5;
/// let (k, improved_k) = (PRDC_DEFAULT_K, IMPROVED_PR_DEFAULT_K);
/// let both = prdc_and_improved_precision_recall(real.view(), fake.view(), k, improved_k)?;
/// // The same numbers as the two calls, with half the distance work.
/// assert_eq!(both.prdc, prdc(real.view(), fake.view(), k)?);
/// assert_eq!(both.improved, improved_precision_recall(real.view(), fake.view(), improved_k)?);
/// assert_eq!((both.prdc.k, both.improved.k), (5, 3));
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub fn prdc_and_improved_precision_recall(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
    improved_k: usize,
) -> Result<NeighbourhoodMetrics> {
    prdc_and_improved_precision_recall_with_block(real, fake, k, improved_k, BLOCK_ROWS)
}

fn prdc_and_improved_precision_recall_with_block(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
    improved_k: usize,
    block_rows: usize,
) -> Result<NeighbourhoodMetrics> {
    validate(real, fake, &[("k", k), ("improved_k", improved_k)])?;
    let [open, closed] = neighbourhood_counts(
        real,
        fake,
        [Neighbourhood::prdc(k), Neighbourhood::improved(improved_k)],
        block_rows,
    );
    Ok(NeighbourhoodMetrics {
        prdc: Prdc::from_counts(&open, k),
        improved: ImprovedPrecisionRecall::from_counts(&closed, improved_k),
    })
}

/// Checks the inputs against every neighbourhood size asked for, each given
/// with its parameter name.
pub(crate) fn validate(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    neighbourhood_sizes: &[(&'static str, usize)],
) -> Result<()> {
    if real.ncols() != fake.ncols() {
        return Err(MetricsError::DimensionMismatch {
            what: "feature dimension of real and fake features",
            left: real.ncols(),
            right: fake.ncols(),
        });
    }
    for &(name, k) in neighbourhood_sizes {
        if k == 0 {
            return Err(MetricsError::InvalidParameter {
                name,
                reason: "the neighbourhood size must be at least 1 (the usual values are 3 and 5)"
                    .to_string(),
            });
        }
    }
    let largest = neighbourhood_sizes
        .iter()
        .map(|&(_, k)| k)
        .max()
        .unwrap_or(0);
    for (what, x) in [("real features", real), ("fake features", fake)] {
        if x.nrows() <= largest {
            return Err(MetricsError::TooFewSamples {
                what,
                needed: largest + 1,
                got: x.nrows(),
            });
        }
    }
    ensure_finite_matrix("real features", real)?;
    ensure_finite_matrix("fake features", fake)?;
    Ok(())
}

/// Whether a sample exactly on a ball's boundary is inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ball {
    /// `d < r`, as the `prdc` package.
    Open,
    /// `d ≤ r`, as torch-fidelity and the improved precision/recall paper.
    Closed,
}

/// The balls of one metric family: the neighbourhood size that sets their
/// radii and their boundary rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Neighbourhood {
    k: usize,
    ball: Ball,
}

impl Neighbourhood {
    /// The balls of [`prdc`](crate::prdc::prdc()): open, as the `prdc`
    /// package.
    pub(crate) fn prdc(k: usize) -> Self {
        Self {
            k,
            ball: Ball::Open,
        }
    }

    /// The balls of
    /// [`improved_precision_recall`](crate::prdc::improved_precision_recall()):
    /// closed, as torch-fidelity.
    pub(crate) fn improved(k: usize) -> Self {
        Self {
            k,
            ball: Ball::Closed,
        }
    }
}

/// Every ball membership count of one family.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct BallCounts {
    /// Real samples (N).
    pub(crate) n_real: usize,
    /// Fake samples (M).
    pub(crate) n_fake: usize,
    /// Fake samples inside at least one real ball (precision).
    pub(crate) fakes_in_real_balls: usize,
    /// Pairs (real ball, fake sample inside it) (density).
    pub(crate) real_ball_memberships: u64,
    /// Real samples inside at least one fake ball (recall).
    pub(crate) reals_in_fake_balls: usize,
    /// Real balls holding at least one fake sample (coverage).
    pub(crate) real_balls_with_fake: usize,
}

/// The ball counts of each family in `families`, from one k-NN pass per set
/// and one real × fake pass, whatever the number of families.
pub(crate) fn neighbourhood_counts<const F: usize>(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    families: [Neighbourhood; F],
    block_rows: usize,
) -> [BallCounts; F] {
    let keep = families.iter().map(|f| f.k).max().unwrap_or(0) + 1;
    let real_norms = squared_norms(real);
    let fake_norms = squared_norms(fake);
    let real_nearest = nearest_distances(real, &real_norms, keep, block_rows);
    let fake_nearest = nearest_distances(fake, &fake_norms, keep, block_rows);
    let balls = families.map(|family| Balls {
        ball: family.ball,
        real_radii: real_nearest.radii(family.k),
        fake_radii: fake_nearest.radii(family.k),
    });
    let sets = CrossSets {
        real,
        real_norms: &real_norms,
        fake,
        fake_norms: &fake_norms,
    };
    ball_counts(&sets, &balls, block_rows)
}

/// The two sets of a cross pass with their squared norms.
struct CrossSets<'a> {
    real: ArrayView2<'a, f64>,
    real_norms: &'a [f64],
    fake: ArrayView2<'a, f64>,
    fake_norms: &'a [f64],
}

/// The balls of one family around every sample of both sets.
struct Balls {
    ball: Ball,
    real_radii: Vec<f64>,
    fake_radii: Vec<f64>,
}

/// One thread's running counts of one family (see [`BallCounts`]).
struct Tally {
    /// Per fake sample: how many real balls hold it. Integer sums, so the
    /// result does not depend on how rayon splits or merges the blocks.
    memberships: Vec<u64>,
    reals_in_fake_balls: usize,
    real_balls_with_fake: usize,
}

impl Tally {
    fn new(n_fake: usize) -> Self {
        Self {
            memberships: vec![0; n_fake],
            reals_in_fake_balls: 0,
            real_balls_with_fake: 0,
        }
    }

    /// Counts the memberships of one real sample, given its distances to
    /// every fake sample, with `inside(&distance, &radius)`.
    fn count_row(
        &mut self,
        distances: ArrayView1<'_, f64>,
        real_radius: f64,
        fake_radii: &[f64],
        inside: impl Fn(&f64, &f64) -> bool,
    ) {
        let mut holds_fake = false;
        let mut in_some_fake_ball = false;
        for ((&dist, &fake_radius), count) in distances
            .iter()
            .zip(fake_radii)
            .zip(self.memberships.iter_mut())
        {
            let held = inside(&dist, &real_radius);
            *count += u64::from(held);
            holds_fake |= held;
            in_some_fake_ball |= inside(&dist, &fake_radius);
        }
        self.real_balls_with_fake += usize::from(holds_fake);
        self.reals_in_fake_balls += usize::from(in_some_fake_ball);
    }

    fn merge(&mut self, other: Self) {
        self.memberships
            .iter_mut()
            .zip(&other.memberships)
            .for_each(|(a, b)| *a += b);
        self.reals_in_fake_balls += other.reals_in_fake_balls;
        self.real_balls_with_fake += other.real_balls_with_fake;
    }

    fn counts(self, n_real: usize) -> BallCounts {
        BallCounts {
            n_real,
            n_fake: self.memberships.len(),
            fakes_in_real_balls: self.memberships.iter().filter(|&&c| c > 0).count(),
            real_ball_memberships: self.memberships.iter().sum(),
            reals_in_fake_balls: self.reals_in_fake_balls,
            real_balls_with_fake: self.real_balls_with_fake,
        }
    }
}

/// One pass over the real × fake distances, in parallel blocks of real
/// rows: each distance is computed once and counted by every family with
/// its own radii and boundary rule.
fn ball_counts<const F: usize>(
    sets: &CrossSets<'_>,
    families: &[Balls; F],
    block_rows: usize,
) -> [BallCounts; F] {
    let n_real = sets.real.nrows();
    let n_fake = sets.fake.nrows();
    let n_blocks = n_real.div_ceil(block_rows);
    let tallies = || std::array::from_fn::<Tally, F, _>(|_| Tally::new(n_fake));
    (0..n_blocks)
        .into_par_iter()
        .fold(tallies, |mut tallies, block| {
            let start = block * block_rows;
            let rows = start..(start + block_rows).min(n_real);
            // The block's dot products, turned into distances row by row.
            let mut block_distances =
                dot_products(sets.real.slice(s![rows.clone(), ..]), sets.fake);
            for ((mut distances, &real_norm), row) in block_distances
                .outer_iter_mut()
                .zip(&sets.real_norms[rows.clone()])
                .zip(rows)
            {
                for (value, &fake_norm) in distances.iter_mut().zip(sets.fake_norms) {
                    *value = euclidean(*value, real_norm, fake_norm);
                }
                for (tally, balls) in tallies.iter_mut().zip(families) {
                    let (r, fake_radii) = (balls.real_radii[row], &balls.fake_radii);
                    match balls.ball {
                        Ball::Open => tally.count_row(distances.view(), r, fake_radii, f64::lt),
                        Ball::Closed => tally.count_row(distances.view(), r, fake_radii, f64::le),
                    }
                }
            }
            tallies
        })
        .reduce(tallies, |mut a, b| {
            for (a, b) in a.iter_mut().zip(b) {
                a.merge(b);
            }
            a
        })
        .map(|tally| tally.counts(n_real))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::fixtures::{column, features};
    use crate::prdc::{
        improved_precision_recall, prdc, prdc_with_block, IMPROVED_PR_DEFAULT_K, PRDC_DEFAULT_K,
    };
    use crate::precision_recall::improved_precision_recall_with_block;
    use ndarray::array;

    #[test]
    fn identical_sets_score_one() {
        let x = features(1, 200, 16, 1.0, 0.0);
        let copy = x.clone();
        for fake in [x.view(), copy.view()] {
            let r = prdc(x.view(), fake, 5).unwrap();
            assert_eq!(
                (r.precision, r.recall, r.density, r.coverage),
                (1.0, 1.0, 1.0, 1.0)
            );
            let ipr = improved_precision_recall(x.view(), fake, 3).unwrap();
            assert_eq!((ipr.precision, ipr.recall), (1.0, 1.0));
        }
    }

    #[test]
    fn far_away_fakes_score_zero() {
        let real = features(2, 50, 8, 1.0, 0.0);
        let fake = features(3, 40, 8, 1.0, 100.0);
        let r = prdc(real.view(), fake.view(), 5).unwrap();
        assert_eq!(
            (r.precision, r.recall, r.density, r.coverage),
            (0.0, 0.0, 0.0, 0.0)
        );
        let ipr = improved_precision_recall(real.view(), fake.view(), 3).unwrap();
        assert_eq!((ipr.precision, ipr.recall), (0.0, 0.0));
    }

    /// real = {0, 2, 3, 13, 14}, fake = {1, 4, 9}, k = 1, all distances exact.
    /// Real radii 2, 1, 1, 1, 1; fake radii 3, 3, 5. Boundary cases: fake 4
    /// at distance 1 = r(3); real 14 at distance 5 = r(9); real 2 and 3 at
    /// distance 1 from their nearest fake, equal to their radii.
    #[test]
    fn hand_computed_one_dimensional_with_ties() {
        let real = column(&[0.0, 2.0, 3.0, 13.0, 14.0]);
        let fake = column(&[1.0, 4.0, 9.0]);
        let r = prdc(real.view(), fake.view(), 1).unwrap();
        // Only fake 1 lies strictly inside a real ball (that of 0).
        assert_eq!(r.precision, 1.0 / 3.0);
        // ... and in that one ball only: (1/k)·(1/3).
        assert_eq!(r.density, 1.0 / 3.0);
        // Real 14 sits on the boundary of fake 9's ball: outside.
        assert_eq!(r.recall, 4.0 / 5.0);
        // Only real 0's ball strictly holds a fake.
        assert_eq!(r.coverage, 1.0 / 5.0);
        let ipr = improved_precision_recall(real.view(), fake.view(), 1).unwrap();
        // Closed balls: fake 4 on real 3's boundary and real 14 on fake 9's count.
        assert_eq!(ipr.precision, 2.0 / 3.0);
        assert_eq!(ipr.recall, 1.0);
    }

    #[test]
    fn duplicated_samples_have_radius_zero() {
        // k = 1 with a duplicated real sample: its radius is 0 and, with
        // `<`, its ball is empty; with `<=` it holds exactly its copies.
        let real = column(&[0.0, 0.0, 5.0, 7.0]);
        let fake = column(&[0.0, 6.0, 20.0]);
        let norms = squared_norms(real.view());
        assert_eq!(
            nearest_distances(real.view(), &norms, 2, 2).radii(1),
            vec![0.0, 0.0, 2.0, 2.0]
        );
        let r = prdc(real.view(), fake.view(), 1).unwrap();
        assert_eq!(r.precision, 1.0 / 3.0);
        assert_eq!(r.coverage, 2.0 / 4.0);
        let ipr = improved_precision_recall(real.view(), fake.view(), 1).unwrap();
        assert_eq!(ipr.precision, 2.0 / 3.0);
    }

    #[test]
    fn block_size_does_not_change_the_result() {
        let real = features(4, 97, 6, 1.0, 0.0);
        let fake = features(5, 83, 6, 1.3, -0.1);
        let expected = prdc_with_block(real.view(), fake.view(), 5, BLOCK_ROWS).unwrap();
        let expected_ipr =
            improved_precision_recall_with_block(real.view(), fake.view(), 3, BLOCK_ROWS).unwrap();
        let expected_both = NeighbourhoodMetrics {
            prdc: expected.clone(),
            improved: expected_ipr.clone(),
        };
        for block in [1, 7, 32, 96, 97, 1000] {
            assert_eq!(
                prdc_with_block(real.view(), fake.view(), 5, block).unwrap(),
                expected
            );
            assert_eq!(
                improved_precision_recall_with_block(real.view(), fake.view(), 3, block).unwrap(),
                expected_ipr
            );
            assert_eq!(
                prdc_and_improved_precision_recall_with_block(
                    real.view(),
                    fake.view(),
                    5,
                    3,
                    block
                )
                .unwrap(),
                expected_both
            );
        }
    }

    #[test]
    fn thread_count_does_not_change_the_result() {
        let real = features(6, 300, 10, 1.0, 0.0);
        let fake = features(7, 280, 10, 1.2, 0.05);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                (
                    prdc_with_block(real.view(), fake.view(), 5, 16).unwrap(),
                    improved_precision_recall_with_block(real.view(), fake.view(), 3, 16).unwrap(),
                    prdc_and_improved_precision_recall_with_block(
                        real.view(),
                        fake.view(),
                        4,
                        2,
                        16,
                    )
                    .unwrap(),
                )
            })
        };
        let one = run(1);
        for threads in [2, 3, 8] {
            assert_eq!(run(threads), one);
        }
    }

    /// The combined pass equals the two functions called separately, to the
    /// bit, for neighbourhood sizes below, equal to and above each other:
    /// on continuous features, on integer grid features (exact distance
    /// ties, where `<` and `≤` differ), on the hand-computed set with
    /// boundary cases and on identical sets.
    #[test]
    fn combined_pass_equals_separate_calls() {
        let grid = |seed, n, d| features(seed, n, d, 4.0, 0.0).mapv(f64::floor);
        let identical = features(33, 70, 5, 1.0, 0.0);
        let sets = [
            (features(30, 90, 7, 1.0, 0.0), features(31, 75, 7, 1.2, 0.1)),
            (grid(34, 80, 3), grid(35, 60, 3)),
            (
                column(&[0.0, 2.0, 3.0, 13.0, 14.0, 7.0, 7.0, 20.0, 2.5]),
                column(&[1.0, 4.0, 9.0, 7.0, 14.0, 0.0, 19.0, 8.0]),
            ),
            (identical.clone(), identical),
        ];
        let pairs = [(1, 1), (3, 3), (5, 5), (5, 3), (3, 5), (1, 7), (7, 2)];
        let mut open_and_closed_differ = false;
        for (case, (real, fake)) in sets.iter().enumerate() {
            for (k, improved_k) in pairs {
                let separate = NeighbourhoodMetrics {
                    prdc: prdc(real.view(), fake.view(), k).unwrap(),
                    improved: improved_precision_recall(real.view(), fake.view(), improved_k)
                        .unwrap(),
                };
                let both =
                    prdc_and_improved_precision_recall(real.view(), fake.view(), k, improved_k)
                        .unwrap();
                assert_eq!(both, separate, "set {case}, k={k}, improved_k={improved_k}");
                // Small blocks: several blocks and threads in both passes.
                assert_eq!(
                    prdc_and_improved_precision_recall_with_block(
                        real.view(),
                        fake.view(),
                        k,
                        improved_k,
                        3
                    )
                    .unwrap(),
                    separate,
                    "set {case}, k={k}, improved_k={improved_k}, block 3"
                );
                if k == improved_k {
                    open_and_closed_differ |= (both.prdc.precision, both.prdc.recall)
                        != (both.improved.precision, both.improved.recall);
                }
            }
        }
        // The sets do exercise both boundary rules in one pass.
        assert!(open_and_closed_differ);
    }

    /// Timing on 10 000 × 2048 uniform features per side (`PRDC_BENCH_N`
    /// changes the count): [`prdc`] (k = 5) and [`improved_precision_recall`]
    /// (k = 3) one after the other, as `geneval prdc` did, then both from
    /// [`prdc_and_improved_precision_recall`]; prints seconds and checks the
    /// two agree. The `prdc` package on the same features (the `features`
    /// generator vectorised with numpy uint64) gives the same four numbers:
    /// precision 0.6918, recall 0.6844, density 0.9682600000000001,
    /// coverage 0.9632.
    #[test]
    #[ignore = "benchmark: cargo test --release -p geneval-metrics --lib \
                neighbourhood::tests::timing_10k_by_2048 -- --ignored --nocapture"]
    fn timing_10k_by_2048() {
        let n: usize = std::env::var("PRDC_BENCH_N").map_or(10_000, |v| v.parse().unwrap());
        let real = features(21, n, 2048, 1.0, 0.0);
        let fake = features(22, n, 2048, 1.0, 0.01);
        let threads = rayon::current_num_threads();
        let (k, improved_k) = (PRDC_DEFAULT_K, IMPROVED_PR_DEFAULT_K);

        let start = std::time::Instant::now();
        let r = prdc(real.view(), fake.view(), k).unwrap();
        let prdc_seconds = start.elapsed().as_secs_f64();
        let start = std::time::Instant::now();
        let ipr = improved_precision_recall(real.view(), fake.view(), improved_k).unwrap();
        let ipr_seconds = start.elapsed().as_secs_f64();
        println!(
            "separate {n}x2048, {threads} threads: prdc {prdc_seconds:.2} s + improved \
             {ipr_seconds:.2} s = {:.2} s, {r:?}, {ipr:?}",
            prdc_seconds + ipr_seconds
        );

        let start = std::time::Instant::now();
        let both =
            prdc_and_improved_precision_recall(real.view(), fake.view(), k, improved_k).unwrap();
        let seconds = start.elapsed().as_secs_f64();
        println!("combined {n}x2048, {threads} threads: {seconds:.2} s, {both:?}");
        assert_eq!(
            both,
            NeighbourhoodMetrics {
                prdc: r,
                improved: ipr
            }
        );
    }

    #[test]
    fn rejects_bad_input() {
        let x = features(10, 6, 3, 1.0, 0.0);
        let y = features(10, 6, 2, 1.0, 0.0);
        assert!(matches!(
            prdc(x.view(), y.view(), 2),
            Err(MetricsError::DimensionMismatch {
                left: 3,
                right: 2,
                ..
            })
        ));
        assert!(matches!(
            prdc(x.view(), x.view(), 0),
            Err(MetricsError::InvalidParameter { name: "k", .. })
        ));
        assert!(matches!(
            prdc(x.view(), x.slice(s![..5, ..]), 5),
            Err(MetricsError::TooFewSamples {
                what: "fake features",
                needed: 6,
                got: 5
            })
        ));
        assert!(matches!(
            improved_precision_recall(x.view(), x.view(), 6),
            Err(MetricsError::TooFewSamples {
                what: "real features",
                needed: 7,
                got: 6
            })
        ));
        assert!(matches!(
            prdc_and_improved_precision_recall(x.view(), x.view(), 3, 0),
            Err(MetricsError::InvalidParameter {
                name: "improved_k",
                ..
            })
        ));
        assert!(matches!(
            prdc_and_improved_precision_recall(x.view(), x.view(), 0, 3),
            Err(MetricsError::InvalidParameter { name: "k", .. })
        ));
        for (k, improved_k) in [(6, 2), (2, 6)] {
            assert!(matches!(
                prdc_and_improved_precision_recall(x.view(), x.view(), k, improved_k),
                Err(MetricsError::TooFewSamples {
                    what: "real features",
                    needed: 7,
                    got: 6
                })
            ));
        }
        let mut bad = x.clone();
        bad[[4, 1]] = f64::NAN;
        assert!(matches!(
            prdc(x.view(), bad.view(), 2),
            Err(MetricsError::NonFinite {
                what: "fake features",
                row: 4,
                column: 1,
                ..
            })
        ));
        assert!(prdc(array![[0.0], [1.0]].view(), array![[0.5], [2.0]].view(), 1).is_ok());
    }
}
