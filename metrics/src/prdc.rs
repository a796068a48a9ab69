//! k-nearest-neighbour manifold metrics: precision, recall, density and
//! coverage (PRDC) and the improved precision and recall they grew out of.
//!
//! Both metrics estimate the support ("manifold") of a feature set as the
//! union of balls around its samples, each ball reaching the sample's k-th
//! nearest neighbour within the same set, and then count which samples of
//! the other set fall inside those balls. They share one core here:
//!
//! * `knn_radii` — the k-NN radius of every sample of a set;
//! * `ball_counts` — one pass over the real × fake distances that counts
//!   every ball membership both metrics need.
//!
//! There is no streaming accumulator: a k-NN radius depends on every other
//! sample of its set, so both sets must be held in memory. The distance
//! matrices never are (see "Memory" on [`prdc`]).
//!
//! # Distances, exactly as the references compute them
//!
//! Distances are Euclidean in f64, computed the way scikit-learn's
//! `euclidean_distances` does (which the `prdc` package calls):
//! `d(x, y) = sqrt(max((−2·x·y + ‖x‖²) + ‖y‖², 0))` with `x·y` from a matrix
//! product, and the distance of a sample to itself set to exactly 0 (sklearn
//! zeroes that diagonal when both arguments are the same array). Comparisons
//! are made on these square-rooted distances, as the references do: `sqrt`
//! maps neighbouring doubles onto one value, so comparing squared distances
//! could turn a reference `false` into `true` on a near tie.
//!
//! The matrix product sums in a different order than numpy's BLAS or
//! torch's, so distances agree with the references to about 1e-15 relative,
//! not to the bit; a ball membership can only differ for a pair whose
//! distance equals a radius to that precision. Exact ties (integer-valued
//! or duplicated features, where every step is exact) follow the
//! references' operators, and the tests pin both.

use crate::error::{MetricsError, Result};
use crate::finite::ensure_finite_matrix;
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2};
use rayon::prelude::*;

/// The default neighbourhood size of [`prdc`] (Naeem et al. 2020, and the
/// `prdc` package's README).
pub const PRDC_DEFAULT_K: usize = 5;

/// The default neighbourhood size of [`improved_precision_recall`]
/// (Kynkäänniemi et al. 2019, torch-fidelity's `prc_neighborhood`).
pub const IMPROVED_PR_DEFAULT_K: usize = 3;

/// Rows of one block of dot products. A block holds at most
/// `BLOCK_ROWS × n` values (20 MB for n = 10 000); 256 rows keep each
/// matrix product large enough to run at full speed (512 or 1024 measured
/// no faster) while bounding memory per thread.
const BLOCK_ROWS: usize = 256;

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

/// Improved precision and recall of a fake feature set against a real one
/// (Kynkäänniemi et al. 2019).
#[derive(Debug, Clone, PartialEq)]
pub struct ImprovedPrecisionRecall {
    /// Fraction of fake samples inside at least one real k-NN ball.
    pub precision: f64,
    /// Fraction of real samples inside at least one fake k-NN ball.
    pub recall: f64,
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
///
/// # Errors
///
/// [`MetricsError::DimensionMismatch`] if the feature dimensions differ,
/// [`MetricsError::InvalidParameter`] if `k` is 0,
/// [`MetricsError::TooFewSamples`] if either set has `k` samples or fewer
/// (a k-th neighbour other than oneself needs `k + 1`), and
/// [`MetricsError::NonFinite`] on NaN or infinite features.
pub fn prdc(real: ArrayView2<'_, f64>, fake: ArrayView2<'_, f64>, k: usize) -> Result<Prdc> {
    prdc_with_block(real, fake, k, BLOCK_ROWS)
}

/// Improved precision and recall of `fake` against `real`, both
/// `samples × features`.
///
/// Kynkäänniemi, Karras, Laine, Lehtinen, Aila, "Improved Precision and
/// Recall Metric for Assessing Generative Models", NeurIPS 2019. The paper's
/// default is `k` = [`IMPROVED_PR_DEFAULT_K`] = 3. The numbers follow
/// torch-fidelity 0.4 (`prc` metric, `calculate_precision_recall_full`, its
/// `input1` being our `fake` and `input2` our `real`).
///
/// # Formulas
///
/// With `r(x)` the k-NN radius of a sample within its own set (as in
/// [`prdc`]) and **closed** balls `{ y : d(X, y) ≤ r }`:
///
/// * precision = (1/M) Σⱼ 1[∃i: d(Xᵢ, Yⱼ) ≤ r(Xᵢ)] — how much of the fake
///   set is plausible under the real manifold;
/// * recall    = (1/N) Σᵢ 1[∃j: d(Xᵢ, Yⱼ) ≤ r(Yⱼ)] — how much of the real
///   manifold the fake set reaches.
///
/// # Reference semantics
///
/// * `≤` (closed balls), as torch-fidelity's `dist <= dist_nn` and the
///   paper's code; this differs from [`prdc`]'s `<` only for samples
///   exactly on a boundary, e.g. duplicated or grid-valued features.
/// * The radius is the (k+1)-th smallest distance including the sample
///   itself (torch's `kthvalue(k + 1)`).
/// * Comparisons are on square-rooted distances as torch-fidelity's
///   `torch.cdist`; the paper's original TensorFlow code compares squared
///   distances, which can only differ when two distances agree after `sqrt`.
///   `torch.cdist` does not zero self-distances (it clamps them to
///   `sqrt(1e-30)`), which only matters for exactly duplicated samples.
/// * The ratios are exact f64 `count / n`. torch-fidelity averages a
///   float32 tensor, so it reports the same ratio rounded to float32
///   (`(precision as f32) as f64` reproduces its output to the bit).
///
/// # Memory and time
///
/// As [`prdc`]: blocked, parallel, never a full distance matrix.
///
/// # Errors
///
/// As [`prdc`].
pub fn improved_precision_recall(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
) -> Result<ImprovedPrecisionRecall> {
    improved_precision_recall_with_block(real, fake, k, BLOCK_ROWS)
}

fn prdc_with_block(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
    block_rows: usize,
) -> Result<Prdc> {
    validate(real, fake, k)?;
    let counts = manifold_counts(real, fake, k, Ball::Open, block_rows);
    let (n_real, n_fake) = (real.nrows() as f64, fake.nrows() as f64);
    Ok(Prdc {
        precision: counts.fakes_in_real_balls as f64 / n_fake,
        recall: counts.reals_in_fake_balls as f64 / n_real,
        density: (1.0 / k as f64) * (counts.real_ball_memberships as f64 / n_fake),
        coverage: counts.real_balls_with_fake as f64 / n_real,
        k,
    })
}

fn improved_precision_recall_with_block(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
    block_rows: usize,
) -> Result<ImprovedPrecisionRecall> {
    validate(real, fake, k)?;
    let counts = manifold_counts(real, fake, k, Ball::Closed, block_rows);
    Ok(ImprovedPrecisionRecall {
        precision: counts.fakes_in_real_balls as f64 / fake.nrows() as f64,
        recall: counts.reals_in_fake_balls as f64 / real.nrows() as f64,
        k,
    })
}

fn validate(real: ArrayView2<'_, f64>, fake: ArrayView2<'_, f64>, k: usize) -> Result<()> {
    if real.ncols() != fake.ncols() {
        return Err(MetricsError::DimensionMismatch {
            what: "feature dimension of real and fake features",
            left: real.ncols(),
            right: fake.ncols(),
        });
    }
    if k == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "k",
            reason: "the neighbourhood size must be at least 1 (the usual values are 3 and 5)"
                .to_string(),
        });
    }
    for (what, x) in [("real features", real), ("fake features", fake)] {
        if x.nrows() <= k {
            return Err(MetricsError::TooFewSamples {
                what,
                needed: k + 1,
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

/// Every ball membership count the two metrics need.
#[derive(Debug, Clone, Default, PartialEq)]
struct BallCounts {
    /// Fake samples inside at least one real ball (precision).
    fakes_in_real_balls: usize,
    /// Pairs (real ball, fake sample inside it) (density).
    real_ball_memberships: u64,
    /// Real samples inside at least one fake ball (recall).
    reals_in_fake_balls: usize,
    /// Real balls holding at least one fake sample (coverage).
    real_balls_with_fake: usize,
}

fn manifold_counts(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
    ball: Ball,
    block_rows: usize,
) -> BallCounts {
    let real_norms = squared_norms(real);
    let fake_norms = squared_norms(fake);
    let real_radii = knn_radii(real, &real_norms, k, block_rows);
    let fake_radii = knn_radii(fake, &fake_norms, k, block_rows);
    let sets = CrossSets {
        real,
        real_norms: &real_norms,
        fake,
        fake_norms: &fake_norms,
    };
    match ball {
        Ball::Open => ball_counts(&sets, &real_radii, &fake_radii, block_rows, |d, r| d < r),
        Ball::Closed => ball_counts(&sets, &real_radii, &fake_radii, block_rows, |d, r| d <= r),
    }
}

/// Squared row norms `‖x‖²`, sklearn's `row_norms(x, squared=True)`.
fn squared_norms(x: ArrayView2<'_, f64>) -> Vec<f64> {
    x.outer_iter().map(|row| row.dot(&row)).collect()
}

/// The dot products `a · bᵀ` of the rows of `a` with the rows of `b`.
fn dot_products(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut g = Array2::zeros((a.nrows(), b.nrows()));
    general_mat_mul(1.0, &a, &b.t(), 0.0, &mut g);
    g
}

/// Euclidean distance from `x` to `y` given `x·y` and the squared norms, in
/// the operation order of sklearn's f64 `euclidean_distances` for row `x`,
/// column `y`: `sqrt(max((−2·x·y + ‖x‖²) + ‖y‖², 0))`. (The order matters
/// to the last bit: swapping the two norms can move the result by an ulp.)
#[inline]
fn euclidean(dot: f64, own_norm: f64, other_norm: f64) -> f64 {
    let squared = (-2.0 * dot + own_norm) + other_norm;
    if squared < 0.0 {
        0.0
    } else {
        squared.sqrt()
    }
}

/// Distance from each row of `x` to its k-th nearest other row: the
/// (k+1)-th smallest distance counting the row itself at distance 0, as
/// `prdc`'s `compute_nearest_neighbour_distances` and torch's
/// `kthvalue(k + 1)`. Needs `x.nrows() > k`.
///
/// Distances are symmetric, so each block of rows is only measured against
/// itself and the rows after it (the upper triangle, about half the flops
/// of the full matrix); a distance above the diagonal block is offered both
/// to its row and to its column. Every ordered pair reaches its row exactly
/// once, and the (k+1)-th smallest of a fixed multiset does not depend on
/// the order of offers or merges, so threads cannot change the result.
/// Seen from its column, a pair reuses the dot product `xᵢ·x_c` where the
/// full matrix would use `x_c·xᵢ`; ndarray's kernel computes both with the
/// same products in the same order (bit-identical, which the block-size
/// tests check), and the norms are added in the column's own row order.
fn knn_radii(x: ArrayView2<'_, f64>, norms: &[f64], k: usize, block_rows: usize) -> Vec<f64> {
    let n = x.nrows();
    let n_blocks = n.div_ceil(block_rows);
    let nearest = (0..n_blocks)
        .into_par_iter()
        .fold(
            || SmallestPerRow::new(n, k + 1),
            |mut nearest, block| {
                let start = block * block_rows;
                let end = (start + block_rows).min(n);
                let g = dot_products(x.slice(s![start..end, ..]), x.slice(s![start.., ..]));
                for (row, dots) in (start..end).zip(g.outer_iter()) {
                    for (column, &dot) in (start..n).zip(dots) {
                        if column == row {
                            // sklearn zeroes the diagonal of a self-distance matrix.
                            nearest.offer(row, 0.0);
                            continue;
                        }
                        nearest.offer(row, euclidean(dot, norms[row], norms[column]));
                        if column >= end {
                            // The same pair seen from `column`, in its row's order.
                            nearest.offer(column, euclidean(dot, norms[column], norms[row]));
                        }
                    }
                }
                nearest
            },
        )
        .reduce(|| SmallestPerRow::new(n, k + 1), SmallestPerRow::merge);
    nearest.largest_kept()
}

/// The `keep` smallest values offered to each of `rows` rows, each row's
/// values sorted ascending (`+∞` until filled).
struct SmallestPerRow {
    keep: usize,
    values: Vec<f64>,
}

impl SmallestPerRow {
    fn new(rows: usize, keep: usize) -> Self {
        Self {
            keep,
            values: vec![f64::INFINITY; rows * keep],
        }
    }

    fn offer(&mut self, row: usize, value: f64) {
        let kept = &mut self.values[row * self.keep..(row + 1) * self.keep];
        let last = self.keep - 1;
        // `<`: an offer equal to the largest kept value leaves the kept
        // values unchanged, whichever copy is kept.
        if value < kept[last] {
            let at = kept.partition_point(|&v| v <= value);
            kept.copy_within(at..last, at + 1);
            kept[at] = value;
        }
    }

    fn merge(mut self, other: Self) -> Self {
        for (row, theirs) in other.values.chunks_exact(other.keep).enumerate() {
            for &value in theirs.iter().take_while(|v| v.is_finite()) {
                self.offer(row, value);
            }
        }
        self
    }

    /// The largest kept value of each row: its `keep`-th smallest offer.
    fn largest_kept(&self) -> Vec<f64> {
        self.values
            .chunks_exact(self.keep)
            .map(|kept| kept[self.keep - 1])
            .collect()
    }
}

/// The two sets of a cross pass with their squared norms.
struct CrossSets<'a> {
    real: ArrayView2<'a, f64>,
    real_norms: &'a [f64],
    fake: ArrayView2<'a, f64>,
    fake_norms: &'a [f64],
}

/// One pass over the real × fake distances, in parallel blocks of real
/// rows, counting ball memberships with `inside(distance, radius)`.
fn ball_counts(
    sets: &CrossSets<'_>,
    real_radii: &[f64],
    fake_radii: &[f64],
    block_rows: usize,
    inside: impl Fn(f64, f64) -> bool + Sync,
) -> BallCounts {
    let n_real = sets.real.nrows();
    let n_fake = sets.fake.nrows();
    let n_blocks = n_real.div_ceil(block_rows);
    // Per fake sample: how many real balls hold it. Integer sums, so the
    // result does not depend on how rayon splits or merges the blocks.
    let (memberships, reals_in_fake_balls, real_balls_with_fake) = (0..n_blocks)
        .into_par_iter()
        .fold(
            || (vec![0u64; n_fake], 0usize, 0usize),
            |(mut memberships, mut in_fake, mut with_fake), block| {
                let start = block * block_rows;
                let rows = start..(start + block_rows).min(n_real);
                let g = dot_products(sets.real.slice(s![rows.clone(), ..]), sets.fake);
                for ((dots, &real_norm), &real_radius) in g
                    .outer_iter()
                    .zip(&sets.real_norms[rows.clone()])
                    .zip(&real_radii[rows])
                {
                    let mut holds_fake = false;
                    let mut in_some_fake_ball = false;
                    for (((&dot, &fake_norm), &fake_radius), count) in dots
                        .iter()
                        .zip(sets.fake_norms)
                        .zip(fake_radii)
                        .zip(memberships.iter_mut())
                    {
                        let dist = euclidean(dot, real_norm, fake_norm);
                        let held = inside(dist, real_radius);
                        *count += u64::from(held);
                        holds_fake |= held;
                        in_some_fake_ball |= inside(dist, fake_radius);
                    }
                    with_fake += usize::from(holds_fake);
                    in_fake += usize::from(in_some_fake_ball);
                }
                (memberships, in_fake, with_fake)
            },
        )
        .reduce(
            || (vec![0u64; n_fake], 0, 0),
            |(mut a, a_in, a_with), (b, b_in, b_with)| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                (a, a_in + b_in, a_with + b_with)
            },
        );
    BallCounts {
        fakes_in_real_balls: memberships.iter().filter(|&&c| c > 0).count(),
        real_ball_memberships: memberships.iter().sum(),
        reals_in_fake_balls,
        real_balls_with_fake,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    /// Deterministic features reproducible bit for bit in Python: a
    /// splitmix64 stream mapped to `[0, 1)` by its top 53 bits, then
    /// `scale · u + shift`.
    ///
    /// ```python
    /// def features(seed, n, d, scale=1.0, shift=0.0):
    ///     M = (1 << 64) - 1
    ///     s = seed & M
    ///     out = np.empty((n, d))
    ///     for i in range(n):
    ///         for j in range(d):
    ///             s = (s + 0x9E3779B97F4A7C15) & M
    ///             z = s
    ///             z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    ///             z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    ///             z ^= z >> 31
    ///             out[i, j] = scale * ((z >> 11) * 2.0**-53) + shift
    ///     return out
    /// ```
    fn features(seed: u64, n: usize, d: usize, scale: f64, shift: f64) -> Array2<f64> {
        let mut s = seed;
        Array2::from_shape_simple_fn((n, d), || {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            scale * ((z >> 11) as f64 * 2f64.powi(-53)) + shift
        })
    }

    fn column(values: &[f64]) -> Array2<f64> {
        Array2::from_shape_vec((values.len(), 1), values.to_vec()).unwrap()
    }

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
            knn_radii(real.view(), &norms, 1, 2),
            vec![0.0, 0.0, 2.0, 2.0]
        );
        let r = prdc(real.view(), fake.view(), 1).unwrap();
        assert_eq!(r.precision, 1.0 / 3.0);
        assert_eq!(r.coverage, 2.0 / 4.0);
        let ipr = improved_precision_recall(real.view(), fake.view(), 1).unwrap();
        assert_eq!(ipr.precision, 2.0 / 3.0);
    }

    #[test]
    fn radii_equal_sorting_full_rows() {
        let x = features(17, 41, 3, 1.0, 0.0);
        let norms = squared_norms(x.view());
        // The full matrix, as sklearn: row norm first, zero diagonal.
        let g = dot_products(x.view(), x.view());
        let full = Array2::from_shape_fn(g.dim(), |(i, j)| {
            if i == j {
                0.0
            } else {
                euclidean(g[[i, j]], norms[i], norms[j])
            }
        });
        for k in [1, 4, 40] {
            let expected: Vec<f64> = full
                .outer_iter()
                .map(|row| {
                    let mut row = row.to_vec();
                    row.sort_by(f64::total_cmp);
                    row[k]
                })
                .collect();
            for block in [1, 5, 40, 41, 256] {
                assert_eq!(
                    knn_radii(x.view(), &norms, k, block),
                    expected,
                    "k={k} block={block}"
                );
            }
        }
    }

    #[test]
    fn block_size_does_not_change_the_result() {
        let real = features(4, 97, 6, 1.0, 0.0);
        let fake = features(5, 83, 6, 1.3, -0.1);
        let expected = prdc_with_block(real.view(), fake.view(), 5, BLOCK_ROWS).unwrap();
        let expected_ipr =
            improved_precision_recall_with_block(real.view(), fake.view(), 3, BLOCK_ROWS).unwrap();
        for block in [1, 7, 32, 96, 97, 1000] {
            assert_eq!(
                prdc_with_block(real.view(), fake.view(), 5, block).unwrap(),
                expected
            );
            assert_eq!(
                improved_precision_recall_with_block(real.view(), fake.view(), 3, block).unwrap(),
                expected_ipr
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
                )
            })
        };
        let one = run(1);
        for threads in [2, 3, 8] {
            assert_eq!(run(threads), one);
        }
    }

    #[test]
    fn strided_views_give_the_same_result() {
        let real = features(8, 60, 5, 1.0, 0.0);
        let fake = features(9, 50, 5, 1.1, 0.1);
        let real_t = real.t().to_owned();
        let fake_f = fake.t().to_owned();
        let r = prdc(real_t.t(), fake_f.t(), 5).unwrap();
        assert_eq!(r, prdc(real.view(), fake.view(), 5).unwrap());
    }

    /// Values from the reference packages, on the `features` sets above:
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

    /// Values from torch-fidelity 0.4 on the `features` sets above (its
    /// `features_1` is the fake set), as float32 means:
    ///
    /// ```text
    /// /root/.cache/geneval-dev/venv/bin/python -c '
    /// import torch   # torch 2.15, torch-fidelity 0.4.0
    /// from torch_fidelity.metric_prc import calculate_precision_recall_full as prc
    /// t = lambda *a: torch.from_numpy(features(*a))
    /// print(prc(t(12, 50, 4, 1.2, 0.1), t(11, 60, 4), 3))
    /// print(prc(t(14, 70, 8, 0.8, 0.3), t(13, 40, 8), 3))
    /// print(prc(t(16, 90, 16, 1.0, 0.25), t(15, 120, 16), 5))'
    /// ```
    #[test]
    fn matches_torch_fidelity_prc() {
        let cases = [
            (
                (11, 60, 4, 1.0, 0.0),
                (12, 50, 4, 1.2, 0.1),
                3,
                [0.6399999856948853, 0.9833333492279053],
            ),
            (
                (13, 40, 8, 1.0, 0.0),
                (14, 70, 8, 0.8, 0.3),
                3,
                [1.0, 0.42500001192092896],
            ),
            (
                (15, 120, 16, 1.0, 0.0),
                (16, 90, 16, 1.0, 0.25),
                5,
                [0.4555555582046509, 0.32499998807907104],
            ),
        ];
        for (r, f, k, [precision, recall]) in cases {
            let real = features(r.0, r.1, r.2, r.3, r.4);
            let fake = features(f.0, f.1, f.2, f.3, f.4);
            let got = improved_precision_recall(real.view(), fake.view(), k).unwrap();
            assert_eq!(
                (got.precision as f32 as f64, got.recall as f32 as f64),
                (precision, recall)
            );
        }
    }

    /// Timing on 10 000 × 2048 uniform features per side (`PRDC_BENCH_N`
    /// changes the count); prints seconds. The `prdc` package on the same
    /// features (the `features` generator vectorised with numpy uint64)
    /// gives the same four numbers: precision 0.6918, recall 0.6844,
    /// density 0.9682600000000001, coverage 0.9632.
    #[test]
    #[ignore = "benchmark: cargo test --release -p geneval-metrics --lib \
                prdc::tests::timing_10k_by_2048 -- --ignored --nocapture"]
    fn timing_10k_by_2048() {
        let n: usize = std::env::var("PRDC_BENCH_N").map_or(10_000, |v| v.parse().unwrap());
        let real = features(21, n, 2048, 1.0, 0.0);
        let fake = features(22, n, 2048, 1.0, 0.01);
        let start = std::time::Instant::now();
        let r = prdc(real.view(), fake.view(), PRDC_DEFAULT_K).unwrap();
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "prdc {n}x2048, {} threads: {seconds:.2} s, {r:?}",
            rayon::current_num_threads()
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
