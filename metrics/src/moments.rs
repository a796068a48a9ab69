//! Streaming, mergeable first and second moments of feature vectors, and the
//! Gaussian they define.
//!
//! `Moments` holds `(n, mean, M2)` where `M2 = Σ (x − mean)(x − mean)ᵀ` is the
//! co-moment matrix, all in f64. A batch is folded in with one matrix product
//! (`XcᵀXc` over the batch centred at its own mean, lower triangle only), and
//! two `Moments` combine exactly with the pairwise update of Chan, Golub and
//! LeVeque (1979):
//!
//! ```text
//! n = na + nb,  δ = mean_b − mean_a,
//! mean = mean_a + δ·nb/n,  M2 = M2_a + M2_b + δδᵀ·na·nb/n
//! ```
//!
//! The same merge serves batches, threads, shards and machines, so a
//! statistics file computed in pieces equals one computed in one pass (to
//! rounding). The covariance is `M2 / (n − 1)` (ddof 1), as
//! `np.cov(features, rowvar=False)` and pytorch-fid's `--save-stats`.

use crate::error::{MetricsError, Result};
use crate::finite::{ensure_finite_matrix, ensure_finite_vector};
use crate::linalg;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ShapeBuilder};

/// Rows folded in per matrix product by [`Moments::from_features`]. 512 to
/// 4096 measured alike for 50,000 × 2048 (within noise); 512 keeps the f64
/// copy of a block of 2048-d features at 8 MiB per thread.
const BLOCK_ROWS: usize = 512;

/// The largest sample count moments hold: 2^53, the largest whole number
/// below which every count is exact in f64 (partial-statistics files store
/// the count as float64, and the merge weights are computed in f64). A
/// count of 1e19 read from a file would otherwise overflow `u64` in a merge
/// (a panic in debug builds, a wrong covariance in release builds).
///
/// # Examples
///
/// ```
/// use geneval_metrics::moments::MAX_COUNT;
/// use geneval_metrics::{MetricsError, Moments};
/// use ndarray::{array, Array2};
///
/// let too_many = Moments::from_parts(MAX_COUNT + 1, array![0.0], Array2::zeros((1, 1)));
/// assert!(matches!(too_many, Err(MetricsError::InvalidParameter { name: "count", .. })));
/// ```
pub const MAX_COUNT: u64 = 1 << 53;

/// Where a block's product runs.
#[derive(Clone, Copy)]
enum Threads {
    /// Split across the rayon pool (one caller feeding batches).
    Pool,
    /// On the calling thread (the caller is itself one of many rayon tasks).
    Current,
}

/// An element type features may arrive in; converted to f64 on entry.
///
/// # Examples
///
/// Networks give f32 features; the statistics are f64 either way:
///
/// ```
/// use geneval_metrics::Moments;
/// use ndarray::array;
///
/// let f32_features = array![[0.5f32, 1.0], [1.5, 3.0]];
/// let f64_features = array![[0.5f64, 1.0], [1.5, 3.0]];
/// assert_eq!(
///     Moments::from_features(f32_features.view())?,
///     Moments::from_features(f64_features.view())?
/// );
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub trait FeatureValue: Copy + Into<f64> + Send + Sync {}
impl FeatureValue for f32 {}
impl FeatureValue for f64 {}

/// Streaming count, mean and co-moment matrix of feature vectors.
///
/// Fold batches in with [`update`](Moments::update) as they arrive, combine
/// threads, shards or machines with [`merge`](Moments::merge), and turn the
/// result into the [`Gaussian`] that FID compares. See the module docs for
/// the update and merge formulas.
///
/// # Examples
///
/// Batches folded in one by one, and two shards merged, equal one pass over
/// all the rows (to rounding):
///
/// ```
/// use geneval_metrics::Moments;
/// use ndarray::{array, s};
///
/// let features = array![
///     [1.0, 2.0], [3.0, 0.0], [2.0, 5.0], [0.0, 1.0], [4.0, 4.0], [1.0, 3.0]
/// ];
/// let one_pass = Moments::from_features(features.view())?;
///
/// // One accumulator fed batch by batch, as a network produces features.
/// let mut streamed = Moments::new(2);
/// streamed.update(features.slice(s![..4, ..]))?;
/// streamed.update(features.slice(s![4.., ..]))?;
///
/// // Two shards computed apart (two threads, jobs or machines), then merged.
/// let mut merged = Moments::from_features(features.slice(s![..3, ..]))?;
/// merged.merge(&Moments::from_features(features.slice(s![3.., ..]))?)?;
///
/// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
/// for m in [&streamed, &merged] {
///     assert_eq!(m.count(), 6);
///     assert!(m.mean().iter().zip(one_pass.mean()).all(|(&a, &b)| close(a, b)));
///     assert!(m.comoment().iter().zip(&one_pass.comoment()).all(|(&a, &b)| close(a, b)));
/// }
/// assert!(close(one_pass.mean()[0], 11.0 / 6.0));
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    count: u64,
    mean: Array1<f64>,
    /// Only the lower triangle (diagonal included) is maintained; the upper
    /// triangle stays zero so that products can skip it. Column-major, the
    /// layout faer's products write fastest.
    comoment_lower: Array2<f64>,
}

impl Moments {
    /// Empty moments of `dim`-dimensional features.
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::Moments;
    ///
    /// let empty = Moments::new(3);
    /// assert_eq!((empty.dim(), empty.count()), (3, 0));
    /// assert_eq!(empty.mean(), ndarray::array![0.0, 0.0, 0.0]);
    /// ```
    pub fn new(dim: usize) -> Self {
        Self {
            count: 0,
            mean: Array1::zeros(dim),
            comoment_lower: Array2::zeros((dim, dim).f()),
        }
    }

    /// Rebuilds moments from stored parts (e.g. a partial-statistics file).
    ///
    /// `comoment` must be a symmetric `dim × dim` matrix; only its lower
    /// triangle is used. `count` is at most [`MAX_COUNT`].
    ///
    /// # Errors
    ///
    /// [`MetricsError::NotSquare`] if `comoment` is not `dim × dim`,
    /// [`MetricsError::NonFinite`] on NaN or infinity, and
    /// [`MetricsError::InvalidParameter`] for a count over [`MAX_COUNT`] or
    /// a count of 0 with a non-zero mean or co-moment.
    ///
    /// # Examples
    ///
    /// The parts [`count`](Moments::count), [`mean`](Moments::mean) and
    /// [`comoment`](Moments::comoment) rebuild the same moments, which is
    /// how partial statistics travel between machines:
    ///
    /// ```
    /// use geneval_metrics::Moments;
    /// use ndarray::array;
    ///
    /// let m = Moments::from_features(array![[0.0, 1.0], [2.0, 5.0], [1.0, 0.0]].view())?;
    /// let back = Moments::from_parts(m.count(), m.mean().to_owned(), m.comoment())?;
    /// assert_eq!(back, m);
    ///
    /// // A 3 × 3 co-moment does not go with a 2-d mean.
    /// assert!(Moments::from_parts(3, array![0.0, 0.0], ndarray::Array2::zeros((3, 3))).is_err());
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn from_parts(count: u64, mean: Array1<f64>, comoment: Array2<f64>) -> Result<Self> {
        if count > MAX_COUNT {
            return Err(count_too_large(count));
        }
        let dim = mean.len();
        if comoment.dim() != (dim, dim) {
            return Err(MetricsError::NotSquare {
                what: "co-moment matrix",
                expected: dim,
                rows: comoment.nrows(),
                columns: comoment.ncols(),
            });
        }
        ensure_finite_vector("mean", mean.view())?;
        ensure_finite_matrix("co-moment matrix", comoment.view())?;
        if count == 0 && (mean.iter().any(|&v| v != 0.0) || comoment.iter().any(|&v| v != 0.0)) {
            return Err(MetricsError::InvalidParameter {
                name: "count",
                reason: "0 samples but a non-zero mean or co-moment".into(),
            });
        }
        let mut comoment_lower = Array2::zeros((dim, dim).f());
        comoment_lower.assign(&comoment);
        for i in 0..dim {
            for j in (i + 1)..dim {
                comoment_lower[[i, j]] = 0.0;
            }
        }
        Ok(Self {
            count,
            mean,
            comoment_lower,
        })
    }

    /// Moments of all rows of `features` (N × D).
    ///
    /// Blocks of rows are folded in on all rayon threads, each thread with
    /// its own accumulator, and the partial moments are merged exactly: the
    /// same merge that combines shards, so the result equals a sequential
    /// pass up to rounding.
    ///
    /// # Errors
    ///
    /// [`MetricsError::NonFinite`] at the first NaN or infinite value.
    ///
    /// # Examples
    ///
    /// The four corners of a square of side 2: mean at its centre,
    /// `Σ (x − mean)(x − mean)ᵀ = 4·I`:
    ///
    /// ```
    /// use geneval_metrics::Moments;
    /// use ndarray::array;
    ///
    /// let corners = array![[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]];
    /// let m = Moments::from_features(corners.view())?;
    /// assert_eq!(m.count(), 4);
    /// assert_eq!(m.mean(), array![1.0, 1.0]);
    /// assert_eq!(m.comoment(), array![[4.0, 0.0], [0.0, 4.0]]);
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn from_features<A: FeatureValue>(features: ArrayView2<'_, A>) -> Result<Self> {
        use rayon::prelude::*;
        let dim = features.ncols();
        let rows = features.nrows();
        // One contiguous range of rows per thread, each folded sequentially
        // block by block: a few D × D accumulators, not one per block.
        let threads = rayon::current_num_threads().max(1);
        let per_thread = rows.div_ceil(threads).max(1);
        let parts: Vec<Moments> = (0..rows.div_ceil(per_thread))
            .into_par_iter()
            .with_max_len(1)
            .map(|part| {
                let start = part * per_thread;
                let end = (start + per_thread).min(rows);
                let mut moments = Moments::new(dim);
                let mut first_row = start;
                while first_row < end {
                    let last = (first_row + BLOCK_ROWS).min(end);
                    let block = features.slice(ndarray::s![first_row..last, ..]);
                    moments.update_block(block, first_row, Threads::Current)?;
                    first_row = last;
                }
                Ok(moments)
            })
            .collect::<Result<_>>()?;
        let mut total = Moments::new(dim);
        for part in parts {
            total.merge_unchecked(part);
        }
        Ok(total)
    }

    /// Feature dimension.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(geneval_metrics::Moments::new(2048).dim(), 2048);
    /// ```
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Number of samples seen.
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::Moments;
    ///
    /// let mut m = Moments::new(2);
    /// m.update(ndarray::Array2::<f32>::zeros((5, 2)).view())?;
    /// m.update(ndarray::Array2::<f32>::zeros((3, 2)).view())?;
    /// assert_eq!(m.count(), 8);
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean of the samples seen (zeros when none).
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::Moments;
    /// use ndarray::array;
    ///
    /// let m = Moments::from_features(array![[1.0, 10.0], [3.0, 20.0]].view())?;
    /// assert_eq!(m.mean(), array![2.0, 15.0]);
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn mean(&self) -> ArrayView1<'_, f64> {
        self.mean.view()
    }

    /// The full symmetric co-moment matrix `Σ (x − mean)(x − mean)ᵀ`.
    /// Row-major (C order), as numpy writes it.
    ///
    /// # Examples
    ///
    /// Deviations from the mean `[2, 15]` are `±[1, 5]`, so the co-moment is
    /// `2·[1, 5]ᵀ[1, 5]`:
    ///
    /// ```
    /// use geneval_metrics::Moments;
    /// use ndarray::array;
    ///
    /// let m = Moments::from_features(array![[1.0, 10.0], [3.0, 20.0]].view())?;
    /// assert_eq!(m.comoment(), array![[2.0, 10.0], [10.0, 50.0]]);
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn comoment(&self) -> Array2<f64> {
        let mut full = self.comoment_lower.as_standard_layout().into_owned();
        linalg::symmetrize_from_lower(&mut full);
        full
    }

    /// Folds a batch of rows (B × D) in. An empty batch is a no-op.
    ///
    /// Fails on a dimension mismatch or a non-finite value, naming the
    /// sample's index counted over everything seen so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::{MetricsError, Moments};
    /// use ndarray::array;
    ///
    /// let mut m = Moments::new(2);
    /// m.update(array![[0.0f32, 0.0], [2.0, 0.0]].view())?;
    /// m.update(array![[0.0f32, 2.0], [2.0, 2.0]].view())?;
    /// assert_eq!(m.mean(), array![1.0, 1.0]);
    /// assert_eq!(m.comoment(), array![[4.0, 0.0], [0.0, 4.0]]);
    ///
    /// // The fifth sample seen holds a NaN: row 4 of everything seen.
    /// let bad = m.update(array![[f32::NAN, 0.0]].view());
    /// assert!(matches!(bad, Err(MetricsError::NonFinite { row: 4, column: 0, .. })));
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn update<A: FeatureValue>(&mut self, batch: ArrayView2<'_, A>) -> Result<()> {
        let first_row = self.count as usize;
        self.update_block(batch, first_row, Threads::Pool)
    }

    fn update_block<A: FeatureValue>(
        &mut self,
        batch: ArrayView2<'_, A>,
        first_row: usize,
        threads: Threads,
    ) -> Result<()> {
        if batch.ncols() != self.dim() {
            return Err(MetricsError::DimensionMismatch {
                what: "feature dimension",
                left: self.dim(),
                right: batch.ncols(),
            });
        }
        let rows = batch.nrows();
        if rows == 0 {
            return Ok(());
        }
        let (centred, batch_mean) = centre_column_major(batch, first_row)?;
        // The batch's own co-moment goes straight into the accumulator (one
        // product, no D × D temporary); the Chan correction follows.
        match threads {
            Threads::Pool => linalg::add_gram_lower(&mut self.comoment_lower, centred.view(), 1.0),
            Threads::Current => {
                linalg::add_gram_lower_sequential(&mut self.comoment_lower, centred.view(), 1.0)
            }
        }
        self.fold_in(rows as u64, batch_mean);
        Ok(())
    }

    /// Merges `other` into `self` exactly (Chan et al.), as if every sample
    /// of both had been seen by one accumulator. Fails, leaving `self`
    /// unchanged, when the dimensions differ or the summed count would pass
    /// [`MAX_COUNT`].
    ///
    /// # Examples
    ///
    /// Two shards' moments merge into those of all their rows:
    ///
    /// ```
    /// use geneval_metrics::Moments;
    /// use ndarray::array;
    ///
    /// let mut left = Moments::from_features(array![[0.0, 0.0], [2.0, 0.0]].view())?;
    /// let right = Moments::from_features(array![[0.0, 2.0], [2.0, 2.0]].view())?;
    /// left.merge(&right)?;
    /// assert_eq!(left.count(), 4);
    /// assert_eq!(left.mean(), array![1.0, 1.0]);
    /// assert_eq!(left.comoment(), array![[4.0, 0.0], [0.0, 4.0]]);
    ///
    /// // Moments of other features do not merge, and `left` is unchanged.
    /// assert!(left.merge(&Moments::new(3)).is_err());
    /// assert_eq!(left.count(), 4);
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn merge(&mut self, other: &Moments) -> Result<()> {
        if other.dim() != self.dim() {
            return Err(MetricsError::DimensionMismatch {
                what: "feature dimension",
                left: self.dim(),
                right: other.dim(),
            });
        }
        match self.count.checked_add(other.count) {
            Some(total) if total <= MAX_COUNT => {}
            _ => {
                return Err(MetricsError::InvalidParameter {
                    name: "count",
                    reason: format!(
                        "{} + {} samples is over 2^53, the largest count float64 holds exactly",
                        self.count, other.count
                    ),
                })
            }
        }
        self.merge_unchecked(other.clone());
        Ok(())
    }

    fn merge_unchecked(&mut self, other: Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other;
            return;
        }
        self.comoment_lower += &other.comoment_lower;
        self.fold_in(other.count, other.mean);
    }

    /// Completes a merge once the other part's co-moment has been added to
    /// `comoment_lower`: adds `δδᵀ·na·nb/n` and moves the mean and count.
    fn fold_in(&mut self, other_count: u64, other_mean: Array1<f64>) {
        if self.count == 0 {
            self.count = other_count;
            self.mean = other_mean;
            return;
        }
        let na = self.count as f64;
        let nb = other_count as f64;
        let n = na + nb;
        let delta = other_mean - &self.mean;
        let weight = na * nb / n;
        let delta_slice = delta.as_slice().expect("owned vector is contiguous");
        let dim = delta_slice.len();
        // One task per column: the update is d²/2 multiply-adds per merged
        // block, which on one core was 3% of `stats` on 50,000 × 2048.
        use rayon::prelude::*;
        self.comoment_lower
            .as_slice_memory_order_mut()
            .expect("accumulator is contiguous")
            .par_chunks_mut(dim)
            .enumerate()
            .for_each(|(j, column)| {
                let dj = delta_slice[j] * weight;
                for (m, &di) in column[j..].iter_mut().zip(&delta_slice[j..]) {
                    *m += di * dj;
                }
            });
        self.mean.scaled_add(nb / n, &delta);
        self.count += other_count;
    }

    /// The Gaussian `N(mean, M2 / (n − 1))`; needs at least 2 samples.
    ///
    /// The covariance has ddof 1, as `np.cov(features, rowvar=False)` and
    /// pytorch-fid's saved `sigma`.
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::{MetricsError, Moments};
    /// use ndarray::array;
    ///
    /// let m = Moments::from_features(array![[1.0, 10.0], [3.0, 20.0]].view())?;
    /// let g = m.gaussian()?;
    /// assert_eq!(g.mu, array![2.0, 15.0]);
    /// assert_eq!(g.sigma, array![[2.0, 10.0], [10.0, 50.0]]); // M2 / (2 − 1)
    ///
    /// let one = Moments::from_features(array![[1.0, 10.0]].view())?;
    /// assert!(matches!(one.gaussian(), Err(MetricsError::TooFewSamples { needed: 2, .. })));
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn gaussian(&self) -> Result<Gaussian> {
        if self.count < 2 {
            return Err(MetricsError::TooFewSamples {
                what: "a covariance",
                needed: 2,
                got: self.count as usize,
            });
        }
        let mut sigma = self.comoment();
        sigma /= (self.count - 1) as f64;
        Ok(Gaussian {
            mu: self.mean.clone(),
            sigma,
        })
    }
}

fn count_too_large(count: u64) -> MetricsError {
    MetricsError::InvalidParameter {
        name: "count",
        reason: format!("{count} samples is over 2^53, the largest count float64 holds exactly"),
    }
}

/// A multivariate Gaussian: what pytorch-fid stores as `mu` and `sigma`.
///
/// # Examples
///
/// Statistics read from a pytorch-fid `.npz` become a `Gaussian` with
/// [`Gaussian::new`]; statistics of features come from [`Moments`]:
///
/// ```
/// use geneval_metrics::{frechet_distance, Gaussian};
/// use ndarray::array;
///
/// let stored = Gaussian::new(array![1.0, 1.0], array![[4.0, 0.0], [0.0, 4.0]] / 3.0)?;
/// let computed = Gaussian::from_features(
///     array![[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]].view(),
/// )?;
/// assert_eq!(computed, stored);
/// assert!(frechet_distance(&stored, &computed)?.value < 1e-12);
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    /// Mean vector (D).
    pub mu: Array1<f64>,
    /// Covariance matrix (D × D), symmetric, ddof 1.
    pub sigma: Array2<f64>,
}

impl Gaussian {
    /// Checks shapes and finiteness of stored statistics.
    ///
    /// # Errors
    ///
    /// As [`Gaussian::validate`].
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::{Gaussian, MetricsError};
    /// use ndarray::array;
    ///
    /// let g = Gaussian::new(array![0.0, 1.0], array![[1.0, 0.0], [0.0, 1.0]])?;
    /// assert_eq!(g.dim(), 2);
    ///
    /// let wrong = Gaussian::new(array![0.0, 1.0, 2.0], array![[1.0, 0.0], [0.0, 1.0]]);
    /// assert!(matches!(wrong, Err(MetricsError::NotSquare { expected: 3, .. })));
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn new(mu: Array1<f64>, sigma: Array2<f64>) -> Result<Self> {
        let gaussian = Self { mu, sigma };
        gaussian.validate()?;
        Ok(gaussian)
    }

    /// Checks that `sigma` is `D × D` for `mu` of length `D` and that every
    /// value is finite; the fields are public, so consumers check before use.
    ///
    /// # Errors
    ///
    /// [`MetricsError::NotSquare`] for a wrong shape and
    /// [`MetricsError::NonFinite`] at the first NaN or infinity.
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::{Gaussian, MetricsError};
    /// use ndarray::array;
    ///
    /// let mut g = Gaussian::new(array![0.0, 1.0], array![[1.0, 0.0], [0.0, 1.0]])?;
    /// g.sigma[[1, 0]] = f64::NAN;
    /// assert!(matches!(
    ///     g.validate(),
    ///     Err(MetricsError::NonFinite { what: "sigma", row: 1, column: 0, .. })
    /// ));
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn validate(&self) -> Result<()> {
        let dim = self.mu.len();
        if self.sigma.dim() != (dim, dim) {
            return Err(MetricsError::NotSquare {
                what: "sigma",
                expected: dim,
                rows: self.sigma.nrows(),
                columns: self.sigma.ncols(),
            });
        }
        ensure_finite_vector("mu", self.mu.view())?;
        ensure_finite_matrix("sigma", self.sigma.view())
    }

    /// Mean and covariance (ddof 1) of the rows of `features`.
    ///
    /// The same as [`Moments::from_features`] then [`Moments::gaussian`].
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::Gaussian;
    /// use ndarray::array;
    ///
    /// let g = Gaussian::from_features(array![[1.0f32, 10.0], [3.0, 20.0]].view())?;
    /// assert_eq!(g.mu, array![2.0, 15.0]);
    /// assert_eq!(g.sigma, array![[2.0, 10.0], [10.0, 50.0]]);
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn from_features<A: FeatureValue>(features: ArrayView2<'_, A>) -> Result<Self> {
        Moments::from_features(features)?.gaussian()
    }

    /// Dimension.
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::Gaussian;
    /// use ndarray::{Array1, Array2};
    ///
    /// let g = Gaussian::new(Array1::zeros(2048), Array2::eye(2048))?;
    /// assert_eq!(g.dim(), 2048);
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn dim(&self) -> usize {
        self.mu.len()
    }
}

/// Rows of `batch` as f64 in column-major order, centred at their mean, and
/// that mean; fails at the first non-finite value (rows counted from
/// `first_row`; the first in column-major order, the order it is scanned).
///
/// Column-major because faer's `xᵀx` runs about twice as fast on it as on
/// the row-major layout features arrive in. The output is cut into strips of
/// 64 columns, one rayon task each: a strip's transposing copy goes in
/// 64 × 64 tiles so it stays in cache (measured: 5× faster than an
/// element-wise `zip`), then its centring walks contiguous columns. On the
/// 50,000 × 2048 `stats` benchmark this step was 0.7 s on one core, an
/// eighth of the run, between products that use every core.
fn centre_column_major<A: FeatureValue>(
    batch: ArrayView2<'_, A>,
    first_row: usize,
) -> Result<(Array2<f64>, Array1<f64>)> {
    use rayon::prelude::*;
    const TILE: usize = 64;
    let (rows, dim) = batch.dim();
    let mut out = Array2::<f64>::zeros((rows, dim).f());
    let mut mean = Array1::<f64>::zeros(dim);
    if rows == 0 || dim == 0 {
        return Ok((out, mean));
    }
    let data = out
        .as_slice_memory_order_mut()
        .expect("fresh array is contiguous");
    let means = mean.as_slice_mut().expect("fresh vector is contiguous");
    let strips = data
        .par_chunks_mut(rows * TILE)
        .zip(means.par_chunks_mut(TILE))
        .enumerate()
        .map(|(strip, (data, means))| {
            let col0 = strip * TILE;
            let width = means.len();
            for row0 in (0..rows).step_by(TILE) {
                for i in row0..(row0 + TILE).min(rows) {
                    let source = batch.row(i);
                    match source.as_slice() {
                        // Contiguous rows (every feature file and batch in
                        // practice): plain slice reads, about 4× faster
                        // than ndarray's checked, strided indexing.
                        Some(source) => {
                            for (j, &v) in source[col0..col0 + width].iter().enumerate() {
                                data[j * rows + i] = v.into();
                            }
                        }
                        None => {
                            for j in 0..width {
                                data[j * rows + i] = source[col0 + j].into();
                            }
                        }
                    }
                }
            }
            for (j, (column, m)) in data.chunks_mut(rows).zip(means.iter_mut()).enumerate() {
                let mut sum = 0.0;
                for (i, &v) in column.iter().enumerate() {
                    if !v.is_finite() {
                        return Err(MetricsError::NonFinite {
                            what: "features",
                            row: first_row + i,
                            column: col0 + j,
                            value: v,
                        });
                    }
                    sum += v;
                }
                *m = sum / rows as f64;
                column.iter_mut().for_each(|v| *v -= *m);
            }
            Ok(())
        })
        .collect::<Vec<Result<()>>>();
    // The first failing strip holds the first non-finite value in
    // column-major order, as a sequential scan would report.
    strips.into_iter().collect::<Result<Vec<()>>>()?;
    Ok((out, mean))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, s, Axis};

    fn sample(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        // A small deterministic LCG keeps the tests free of rand.
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            u * 3.0 - 1.0 + (i % 3) as f64 * 0.1 + j as f64
        })
    }

    fn two_pass_covariance(x: &Array2<f64>) -> (Array1<f64>, Array2<f64>) {
        let mean = x.mean_axis(Axis(0)).unwrap();
        let c = x - &mean;
        let cov = c.t().dot(&c) / (x.nrows() - 1) as f64;
        (mean, cov)
    }

    fn assert_close(a: &Array2<f64>, b: &Array2<f64>, rel: f64) {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((x - y).abs() <= rel * scale, "{x} vs {y}");
        }
    }

    #[test]
    fn matches_two_pass_covariance() {
        let x = sample(257, 7, 1);
        let g = Gaussian::from_features(x.view()).unwrap();
        let (mean, cov) = two_pass_covariance(&x);
        assert_close(&g.sigma, &cov, 1e-13);
        for (a, b) in g.mu.iter().zip(mean.iter()) {
            assert!((a - b).abs() < 1e-13);
        }
    }

    #[test]
    fn batch_size_does_not_change_result() {
        let x = sample(300, 5, 2);
        let one = Moments::from_features(x.view()).unwrap();
        for batch in [1, 2, 7, 64, 299] {
            let mut m = Moments::new(5);
            for chunk in x.axis_chunks_iter(Axis(0), batch) {
                m.update(chunk).unwrap();
            }
            assert_eq!(m.count(), 300);
            assert_close(&m.comoment(), &one.comoment(), 1e-12);
        }
    }

    #[test]
    fn merged_shards_equal_one_pass() {
        let x = sample(200, 4, 3);
        let one = Moments::from_features(x.view()).unwrap();
        let mut a = Moments::from_features(x.slice(s![..50, ..])).unwrap();
        let b = Moments::from_features(x.slice(s![50..130, ..])).unwrap();
        let c = Moments::from_features(x.slice(s![130.., ..])).unwrap();
        a.merge(&b).unwrap();
        a.merge(&c).unwrap();
        assert_eq!(a.count(), one.count());
        assert_close(&a.comoment(), &one.comoment(), 1e-12);
        let mut empty = Moments::new(4);
        empty.merge(&a).unwrap();
        assert_eq!(empty, a);
    }

    #[test]
    fn f32_input_is_widened() {
        let x32 = array![[1.0f32, 2.0], [3.0, 5.0], [0.5, -1.0]];
        let x64 = x32.mapv(f64::from);
        assert_eq!(
            Gaussian::from_features(x32.view()).unwrap(),
            Gaussian::from_features(x64.view()).unwrap()
        );
    }

    #[test]
    fn thread_count_does_not_change_result() {
        let x = sample(3000, 64, 4);
        let many = Moments::from_features(x.view()).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let one = pool.install(|| Moments::from_features(x.view()).unwrap());
        assert_close(&many.comoment(), &one.comoment(), 1e-12);
    }

    #[test]
    fn rejects_bad_input() {
        let mut m = Moments::new(3);
        assert!(matches!(
            m.update(array![[1.0, 2.0]].view()),
            Err(MetricsError::DimensionMismatch {
                left: 3,
                right: 2,
                ..
            })
        ));
        m.update(array![[1.0, 2.0, 3.0]].view()).unwrap();
        assert!(matches!(
            m.gaussian(),
            Err(MetricsError::TooFewSamples { got: 1, .. })
        ));
        let err = m
            .update(array![[0.0, 0.0, 0.0], [1.0, f64::NAN, 0.0]].view())
            .unwrap_err();
        assert!(
            matches!(
                err,
                MetricsError::NonFinite {
                    row: 2,
                    column: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(Gaussian::new(array![0.0, 1.0], Array2::zeros((2, 3))).is_err());
    }

    #[test]
    fn parallel_pass_reports_the_offending_row() {
        let mut x = sample(2000, 4, 6);
        x[[1300, 2]] = f64::INFINITY;
        let err = Moments::from_features(x.view()).unwrap_err();
        assert!(
            matches!(
                err,
                MetricsError::NonFinite {
                    row: 1300,
                    column: 2,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn column_strips_agree_with_a_strided_view_and_name_the_first_bad_value() {
        // 150 columns: two full strips of 64 and a narrower third.
        let x = sample(70, 150, 8);
        let mut contiguous = Moments::new(150);
        contiguous.update(x.view()).unwrap();
        let fortran = x.t().to_owned();
        let mut strided = Moments::new(150);
        strided.update(fortran.t()).unwrap();
        assert_eq!(contiguous, strided);
        let mut bad = x.clone();
        bad[[40, 140]] = f64::NAN;
        bad[[60, 100]] = f64::INFINITY;
        let err = Moments::new(150).update(bad.view()).unwrap_err();
        assert!(
            matches!(
                err,
                MetricsError::NonFinite {
                    row: 60,
                    column: 100,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn from_parts_round_trip() {
        let x = sample(20, 3, 5);
        let m = Moments::from_features(x.view()).unwrap();
        let back = Moments::from_parts(m.count(), m.mean().to_owned(), m.comoment()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn counts_past_2_pow_53_are_refused_not_overflowed() {
        // Partials with count 1e19 overflowed `count += other` in a merge: a
        // panic in debug builds, a wrong covariance in release builds.
        let part = |count: u64| {
            Moments::from_parts(count, array![1.0, 2.0], array![[1.0, 0.0], [0.0, 1.0]])
        };
        let err = part(10_000_000_000_000_000_000).unwrap_err();
        assert!(
            matches!(err, MetricsError::InvalidParameter { name: "count", .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("2^53"), "{err}");
        let mut total = part(MAX_COUNT - 1).unwrap();
        let before = total.clone();
        let err = total.merge(&part(2).unwrap()).unwrap_err();
        assert!(err.to_string().contains("2^53"), "{err}");
        assert_eq!(total, before, "a failed merge leaves the total unchanged");
        total.merge(&part(1).unwrap()).unwrap();
        assert_eq!(total.count(), MAX_COUNT);
    }
}
