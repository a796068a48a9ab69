//! k-nearest-neighbour manifold metrics: precision, recall, density and
//! coverage (PRDC) and the improved precision and recall they grew out of.
//!
//! Both metrics estimate the support ("manifold") of a feature set as the
//! union of balls around its samples, each ball reaching the sample's k-th
//! nearest neighbour within the same set, and then count which samples of
//! the other set fall inside those balls. They share one core here, which
//! [`prdc`], [`improved_precision_recall`] and
//! [`prdc_and_improved_precision_recall`] (both at once) wrap:
//!
//! * `nearest_distances` — one k-NN pass per set that keeps the k + 1
//!   smallest distances of every sample, for the largest k asked for, so
//!   that every family's radius comes from the same pass;
//! * `ball_counts` — one pass over the real × fake distances that counts
//!   every ball membership of every family asked for, each with its own
//!   radius and boundary rule.
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
use ndarray::{s, Array2, ArrayView1, ArrayView2};
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

/// Both metric families from one pass over the distances.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourhoodMetrics {
    /// Precision, recall, density and coverage, as [`prdc`] gives them.
    pub prdc: Prdc,
    /// Improved precision and recall, as [`improved_precision_recall`]
    /// gives them.
    pub improved: ImprovedPrecisionRecall,
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
/// As [`prdc`]: blocked, parallel, never a full distance matrix. To get
/// [`prdc`] as well, call [`prdc_and_improved_precision_recall`], which
/// shares the distance work.
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

/// [`prdc`] with neighbourhood size `k` and [`improved_precision_recall`]
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
/// is that of [`prdc`] plus one more `M × 8`-byte counter per thread.
///
/// # Errors
///
/// [`MetricsError::DimensionMismatch`] if the feature dimensions differ,
/// [`MetricsError::InvalidParameter`] (named `k` or `improved_k`) if either
/// neighbourhood size is 0, [`MetricsError::TooFewSamples`] if either set
/// has `max(k, improved_k)` samples or fewer, and
/// [`MetricsError::NonFinite`] on NaN or infinite features.
pub fn prdc_and_improved_precision_recall(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
    improved_k: usize,
) -> Result<NeighbourhoodMetrics> {
    prdc_and_improved_precision_recall_with_block(real, fake, k, improved_k, BLOCK_ROWS)
}

fn prdc_with_block(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
    block_rows: usize,
) -> Result<Prdc> {
    validate(real, fake, &[("k", k)])?;
    let [counts] = neighbourhood_counts(real, fake, [Neighbourhood::prdc(k)], block_rows);
    Ok(counts.prdc(k))
}

fn improved_precision_recall_with_block(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
    block_rows: usize,
) -> Result<ImprovedPrecisionRecall> {
    validate(real, fake, &[("k", k)])?;
    let [counts] = neighbourhood_counts(real, fake, [Neighbourhood::improved(k)], block_rows);
    Ok(counts.improved(k))
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
        prdc: open.prdc(k),
        improved: closed.improved(improved_k),
    })
}

/// Checks the inputs against every neighbourhood size asked for, each given
/// with its parameter name.
fn validate(
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
struct Neighbourhood {
    k: usize,
    ball: Ball,
}

impl Neighbourhood {
    /// The balls of [`prdc`]: open, as the `prdc` package.
    fn prdc(k: usize) -> Self {
        Self {
            k,
            ball: Ball::Open,
        }
    }

    /// The balls of [`improved_precision_recall`]: closed, as torch-fidelity.
    fn improved(k: usize) -> Self {
        Self {
            k,
            ball: Ball::Closed,
        }
    }
}

/// Every ball membership count of one family.
#[derive(Debug, Clone, Default, PartialEq)]
struct BallCounts {
    /// Real samples (N).
    n_real: usize,
    /// Fake samples (M).
    n_fake: usize,
    /// Fake samples inside at least one real ball (precision).
    fakes_in_real_balls: usize,
    /// Pairs (real ball, fake sample inside it) (density).
    real_ball_memberships: u64,
    /// Real samples inside at least one fake ball (recall).
    reals_in_fake_balls: usize,
    /// Real balls holding at least one fake sample (coverage).
    real_balls_with_fake: usize,
}

impl BallCounts {
    /// [`Prdc`] from counts of open balls of neighbourhood size `k`.
    fn prdc(&self, k: usize) -> Prdc {
        let (n_real, n_fake) = (self.n_real as f64, self.n_fake as f64);
        Prdc {
            precision: self.fakes_in_real_balls as f64 / n_fake,
            recall: self.reals_in_fake_balls as f64 / n_real,
            density: (1.0 / k as f64) * (self.real_ball_memberships as f64 / n_fake),
            coverage: self.real_balls_with_fake as f64 / n_real,
            k,
        }
    }

    /// [`ImprovedPrecisionRecall`] from counts of closed balls of
    /// neighbourhood size `k`.
    fn improved(&self, k: usize) -> ImprovedPrecisionRecall {
        ImprovedPrecisionRecall {
            precision: self.fakes_in_real_balls as f64 / self.n_fake as f64,
            recall: self.reals_in_fake_balls as f64 / self.n_real as f64,
            k,
        }
    }
}

/// The ball counts of each family in `families`, from one k-NN pass per set
/// and one real × fake pass, whatever the number of families.
fn neighbourhood_counts<const F: usize>(
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

/// The `keep` smallest distances from each row of `x` to the rows of `x`,
/// the row itself counted at distance 0, from which
/// [`SmallestPerRow::radii`] reads the k-NN radius of every row for any
/// `k < keep`. Needs `x.nrows() >= keep`.
///
/// Distances are symmetric, so each block of rows is only measured against
/// itself and the rows after it (the upper triangle, about half the flops
/// of the full matrix); a distance above the diagonal block is offered both
/// to its row and to its column. Every ordered pair reaches its row exactly
/// once, and the `keep` smallest values of a fixed multiset do not depend
/// on the order of offers or merges, so threads cannot change the result.
/// Seen from its column, a pair reuses the dot product `xᵢ·x_c` where the
/// full matrix would use `x_c·xᵢ`; ndarray's kernel computes both with the
/// same products in the same order (bit-identical, which the block-size
/// tests check), and the norms are added in the column's own row order.
fn nearest_distances(
    x: ArrayView2<'_, f64>,
    norms: &[f64],
    keep: usize,
    block_rows: usize,
) -> SmallestPerRow {
    let n = x.nrows();
    let n_blocks = n.div_ceil(block_rows);
    (0..n_blocks)
        .into_par_iter()
        .fold(
            || SmallestPerRow::new(n, keep),
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
        .reduce(|| SmallestPerRow::new(n, keep), SmallestPerRow::merge)
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

    /// The (k+1)-th smallest offer of each row (`k < keep`): the distance
    /// to the k-th nearest other row, as `prdc`'s
    /// `compute_nearest_neighbour_distances` and torch's `kthvalue(k + 1)`.
    /// The kept values are the `keep` smallest of the row's multiset of
    /// offers in ascending order, so this is the same double for every
    /// `keep > k`.
    fn radii(&self, k: usize) -> Vec<f64> {
        debug_assert!(k < self.keep, "radius k = {k} needs more than {k} kept");
        self.values
            .chunks_exact(self.keep)
            .map(|kept| kept[k])
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
            // Keeping more than k + 1 values, as for two neighbourhood
            // sizes at once, gives the same radii.
            for keep in (k + 1)..=(k + 3).min(x.nrows()) {
                for block in [1, 5, 40, 41, 256] {
                    assert_eq!(
                        nearest_distances(x.view(), &norms, keep, block).radii(k),
                        expected,
                        "k={k} keep={keep} block={block}"
                    );
                }
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

    #[test]
    fn strided_views_give_the_same_result() {
        let real = features(8, 60, 5, 1.0, 0.0);
        let fake = features(9, 50, 5, 1.1, 0.1);
        let real_t = real.t().to_owned();
        let fake_f = fake.t().to_owned();
        let r = prdc(real_t.t(), fake_f.t(), 5).unwrap();
        assert_eq!(r, prdc(real.view(), fake.view(), 5).unwrap());
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
    /// changes the count): [`prdc`] (k = 5) and [`improved_precision_recall`]
    /// (k = 3) one after the other, as `geneval prdc` did, then both from
    /// [`prdc_and_improved_precision_recall`]; prints seconds and checks the
    /// two agree. The `prdc` package on the same features (the `features`
    /// generator vectorised with numpy uint64) gives the same four numbers:
    /// precision 0.6918, recall 0.6844, density 0.9682600000000001,
    /// coverage 0.9632.
    #[test]
    #[ignore = "benchmark: cargo test --release -p geneval-metrics --lib \
                prdc::tests::timing_10k_by_2048 -- --ignored --nocapture"]
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
