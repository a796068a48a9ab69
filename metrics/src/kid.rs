//! Kernel Inception Distance (Bińkowski et al., 2018, "Demystifying MMD
//! GANs"), computed as torch-fidelity 0.4's `kid_features_to_metric` with its
//! polynomial kernel and unbiased `mmd2`.
//!
//! # Formula
//!
//! With the polynomial kernel `k(x, y) = (γ·⟨x, y⟩ + c₀)^degree` and two
//! subsets `X = {x_1..x_m}` of `a` and `Y = {y_1..y_m}` of `b`, each subset
//! scores the unbiased estimator of the squared MMD:
//!
//! ```text
//! MMD²(X, Y) = (Σ_{i≠j} k(x_i, x_j) + Σ_{i≠j} k(y_i, y_j)) / (m (m − 1))
//!            − 2 Σ_{i,j} k(x_i, y_j) / m²
//! ```
//!
//! which is torch-fidelity's `mmd2(..., mmd_est="unbiased")`: the
//! off-diagonal sums of `K_XX` and `K_YY` (row sums minus the diagonal), and
//! the *full* sum of `K_XY`, diagonal included (the "u-statistic" variant,
//! which drops `trace(K_XY)`, is not what KID reports). KID is the mean of
//! the subset values and its spread their standard deviation with **ddof 0**
//! (`np.std`). Values slightly below 0 are valid: the estimator is unbiased.
//!
//! # Subsets
//!
//! One numpy `RandomState(seed)` draws, for each subset in order,
//! `choice(n_a, m, replace=False)` and then `choice(n_b, m, replace=False)`
//! ([`crate::numpy_random::RandomState::choice_without_replacement`]), so the
//! subsets are exactly torch-fidelity's. The index sets are drawn a chunk at
//! a time in that order and each chunk is evaluated in parallel, so memory
//! does not grow with the number of subsets and the result does not depend
//! on the number of threads.
//!
//! # Defaults and why
//!
//! * `subsets = 100`, `degree = 3`, `gamma = 1/d`, `coef0 = 1`, `seed = 2020`:
//!   torch-fidelity's `kid_subsets`, `kid_kernel_poly_*` and `rng_seed`, and
//!   the kernel of the KID paper.
//! * `subset_size = None` means `min(n_a, n_b, 1000)`. torch-fidelity's
//!   default is a fixed 1000 and it refuses inputs with fewer than 1000
//!   samples; with at least 1000 samples on both sides the two agree, and
//!   smaller inputs still get a value instead of an error. An explicit size
//!   larger than either input is an error, as in torch-fidelity.
//!
//! # Precision
//!
//! Everything here is f64. torch-fidelity evaluates the kernel and the sums
//! on the float32 features it extracted (numpy keeps float32 through
//! `matmul`, `* gamma`, `+ coef0`, `** 3` and `sum`), so against it expect
//! agreement to float32 precision of the kernel sums, not to the last digit;
//! against a float64 run of the same code the agreement is ~1e-12.
//!
//! The Gram products are BLAS-3 matrix products (faer, through
//! `crate::linalg`); `K_XX` and `K_YY` are symmetric, so only their lower
//! triangles are computed and the off-diagonal sum is twice the strictly
//! lower sum.
//!
//! There is no streaming accumulator: subsets are drawn from all samples.

use crate::error::{MetricsError, Result};
use crate::finite::ensure_finite_matrix;
use crate::linalg::{add_gram_lower_sequential, matmul_transpose_b_sequential};
use crate::numpy_random::RandomState;
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// torch-fidelity's default subset size (`kid_subset_size`).
const DEFAULT_MAX_SUBSET_SIZE: usize = 1000;

/// How KID is computed.
///
/// # Examples
///
/// ```
/// use geneval_metrics::kid::KidSettings;
///
/// // torch-fidelity's defaults: 100 subsets, kernel (x·y/d + 1)³, seed 2020.
/// let defaults = KidSettings::default();
/// assert_eq!((defaults.subsets, defaults.degree, defaults.coef0), (100, 3, 1.0));
/// assert_eq!((defaults.subset_size, defaults.gamma, defaults.seed), (None, None, 2020));
///
/// // Fewer, smaller subsets for a quick look.
/// let quick = KidSettings { subsets: 10, subset_size: Some(100), ..KidSettings::default() };
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KidSettings {
    /// Number of random subset pairs (default 100).
    pub subsets: usize,
    /// Samples per subset; `None` means `min(n_a, n_b, 1000)` (default).
    pub subset_size: Option<usize>,
    /// Polynomial kernel degree (default 3).
    pub degree: u32,
    /// Polynomial kernel scale; `None` means `1 / feature dimension` (default).
    pub gamma: Option<f64>,
    /// Polynomial kernel offset (default 1.0).
    pub coef0: f64,
    /// Seed of the numpy `RandomState` that draws the subsets (default 2020).
    pub seed: u32,
}

impl Default for KidSettings {
    fn default() -> Self {
        Self {
            subsets: 100,
            subset_size: None,
            degree: 3,
            gamma: None,
            coef0: 1.0,
            seed: 2020,
        }
    }
}

/// A Kernel Inception Distance with its per-subset values.
#[derive(Debug, Clone, PartialEq)]
pub struct Kid {
    /// Mean of the subset MMD² values (torch-fidelity's
    /// `kernel_inception_distance_mean`).
    pub mean: f64,
    /// Standard deviation (ddof 0) of the subset values
    /// (torch-fidelity's `kernel_inception_distance_std`).
    pub std: f64,
    /// Number of subsets.
    pub subsets: usize,
    /// Samples per subset actually used.
    pub subset_size: usize,
    /// Unbiased MMD² of each subset, in drawing order.
    pub subset_values: Vec<f64>,
}

/// KID between feature sets `a` and `b` (rows samples, columns features), as
/// torch-fidelity 0.4's `kid_features_to_metric`; see the module docs.
///
/// Fails with [`MetricsError::DimensionMismatch`] when the feature dimensions
/// differ, [`MetricsError::NonFinite`] on a NaN or infinity,
/// [`MetricsError::TooFewSamples`] when a side has fewer samples than the
/// subset size (naming the side) or fewer than 2, and
/// [`MetricsError::InvalidParameter`] for `subsets == 0`, an explicit
/// `subset_size < 2`, zero features, or a non-finite `gamma`/`coef0`.
///
/// # Examples
///
/// Four samples at the origin against five at `[1, 1]`: with `γ = 1/d` the
/// kernel is `k(0, 0) = 1`, `k(1, 1) = (2/2 + 1)³ = 8` and `k(0, 1) = 1`,
/// so every subset scores `1 + 8 − 2·1 = 7`:
///
/// ```
/// use geneval_metrics::kid::{kid, KidSettings};
/// use ndarray::Array2;
///
/// let a = Array2::<f64>::zeros((4, 2));
/// let b = Array2::<f64>::ones((5, 2));
/// let k = kid(a.view(), b.view(), &KidSettings::default())?;
/// assert_eq!((k.mean, k.std), (7.0, 0.0));
/// assert_eq!((k.subsets, k.subset_size), (100, 4)); // min(4, 5, 1000)
///
/// // Feature dimensions must agree.
/// assert!(kid(a.view(), Array2::<f64>::ones((5, 3)).view(), &KidSettings::default()).is_err());
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub fn kid(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, settings: &KidSettings) -> Result<Kid> {
    let (n_a, dim) = a.dim();
    let n_b = b.nrows();
    if b.ncols() != dim {
        return Err(MetricsError::DimensionMismatch {
            what: "KID feature dimension",
            left: dim,
            right: b.ncols(),
        });
    }
    if dim == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "features",
            reason: "KID needs at least one feature column".to_owned(),
        });
    }
    if settings.subsets == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "subsets",
            reason: "KID needs at least one subset".to_owned(),
        });
    }
    let degree = i32::try_from(settings.degree).map_err(|_| MetricsError::InvalidParameter {
        name: "degree",
        reason: format!("{} is too large for a polynomial kernel", settings.degree),
    })?;
    let gamma = settings.gamma.unwrap_or(1.0 / dim as f64);
    if !gamma.is_finite() {
        return Err(MetricsError::InvalidParameter {
            name: "gamma",
            reason: format!("must be finite, got {gamma}"),
        });
    }
    let coef0 = settings.coef0;
    if !coef0.is_finite() {
        return Err(MetricsError::InvalidParameter {
            name: "coef0",
            reason: format!("must be finite, got {coef0}"),
        });
    }
    let m = match settings.subset_size {
        Some(m) if m < 2 => {
            return Err(MetricsError::InvalidParameter {
                name: "subset_size",
                reason: format!("the unbiased MMD² needs subsets of at least 2 samples, got {m}"),
            })
        }
        Some(m) => m,
        None => n_a.min(n_b).clamp(2, DEFAULT_MAX_SUBSET_SIZE),
    };
    for (what, n) in [
        ("KID first feature set (subset size)", n_a),
        ("KID second feature set (subset size)", n_b),
    ] {
        if n < m {
            return Err(MetricsError::TooFewSamples {
                what,
                needed: m,
                got: n,
            });
        }
    }
    ensure_finite_matrix("KID first feature set", a)?;
    ensure_finite_matrix("KID second feature set", b)?;

    let kernel = PolynomialKernel {
        degree,
        gamma,
        coef0,
    };
    // The subsets are drawn lazily, a few per thread at a time, in
    // torch-fidelity's order (a's indices, then b's, subset by subset), and
    // evaluated in parallel: memory is bounded by that chunk, not by
    // `subsets` (a count from the command line must not reserve memory for
    // itself up front), and the values are the same for any chunk size or
    // thread count since each depends only on its own draw.
    let chunk = rayon::current_num_threads().max(1) * 2;
    let mut rng = RandomState::new(settings.seed);
    let mut subset_values = Vec::new();
    let mut remaining = settings.subsets;
    while remaining > 0 {
        let take = remaining.min(chunk);
        remaining -= take;
        let draws: Vec<(Vec<usize>, Vec<usize>)> = (0..take)
            .map(|_| {
                let idx_a = rng.choice_without_replacement(n_a, m);
                let idx_b = rng.choice_without_replacement(n_b, m);
                (idx_a, idx_b)
            })
            .collect();
        // One subset per rayon task, each product on its own thread:
        // measured here, that uses both cores better than faer splitting
        // each product.
        let values: Vec<f64> = draws
            .par_iter()
            .map(|(idx_a, idx_b)| {
                let x = a.select(Axis(0), idx_a);
                let y = b.select(Axis(0), idx_b);
                unbiased_mmd2(x.view(), y.view(), &kernel)
            })
            .collect();
        subset_values.extend(values);
    }

    let n = subset_values.len() as f64;
    let mean = subset_values.iter().sum::<f64>() / n;
    let var = subset_values
        .iter()
        .map(|&v| (v - mean) * (v - mean))
        .sum::<f64>()
        / n;
    Ok(Kid {
        mean,
        std: var.sqrt(),
        subsets: settings.subsets,
        subset_size: m,
        subset_values,
    })
}

/// `k(x, y) = (gamma · ⟨x, y⟩ + coef0)^degree`, torch-fidelity's `kernel_poly`.
#[derive(Debug, Clone, Copy)]
struct PolynomialKernel {
    degree: i32,
    gamma: f64,
    coef0: f64,
}

impl PolynomialKernel {
    /// The kernel value for an inner product.
    fn of_dot(&self, dot: f64) -> f64 {
        (dot * self.gamma + self.coef0).powi(self.degree)
    }

    /// Σ_{i≠j} k(x_i, x_j): twice the strictly lower triangle of `K_XX`.
    fn off_diagonal_sum(&self, x: ArrayView2<'_, f64>) -> f64 {
        let m = x.nrows();
        let mut gram = Array2::<f64>::zeros((m, m));
        // xᵀ as the argument: (xᵀ)ᵀ·xᵀ = x·xᵀ, lower triangle only.
        add_gram_lower_sequential(&mut gram, x.t(), 1.0);
        let mut sum = 0.0;
        for (i, row) in gram.outer_iter().enumerate() {
            sum += row.iter().take(i).map(|&dot| self.of_dot(dot)).sum::<f64>();
        }
        2.0 * sum
    }

    /// Σ_{i,j} k(x_i, y_j): the full sum of `K_XY`.
    fn cross_sum(&self, x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> f64 {
        let gram = matmul_transpose_b_sequential(x, y);
        gram.outer_iter()
            .map(|row| row.iter().map(|&dot| self.of_dot(dot)).sum::<f64>())
            .sum()
    }
}

/// torch-fidelity's `mmd2(K_XX, K_XY, K_YY)` with `mmd_est="unbiased"` for
/// two subsets of equal size `m ≥ 2`.
fn unbiased_mmd2(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>, kernel: &PolynomialKernel) -> f64 {
    let m = x.nrows() as f64;
    let within = kernel.off_diagonal_sum(x) + kernel.off_diagonal_sum(y);
    let cross = kernel.cross_sum(x, y);
    within / (m * (m - 1.0)) - 2.0 * cross / (m * m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deterministic inputs of the numpy reference below.
    fn reference_sets() -> (Array2<f64>, Array2<f64>) {
        let a = Array2::from_shape_fn((40, 6), |(i, j)| {
            ((i * 7 + j * 13) % 17) as f64 / 17.0 - 0.5
        });
        let b = Array2::from_shape_fn((31, 6), |(i, j)| {
            ((i * 5 + j * 11) % 19) as f64 / 19.0 - 0.3
        });
        (a, b)
    }

    /// Uniform noise in `[shift, shift + 1)` from a fixed 32-bit stream.
    fn noise(rows: usize, cols: usize, seed: u32, shift: f64) -> Array2<f64> {
        let mut rng = RandomState::new(seed);
        Array2::from_shape_fn((rows, cols), |_| {
            f64::from(rng.next_u32()) / 4_294_967_296.0 + shift
        })
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn matches_numpy_reimplementation_of_torch_fidelity() {
        // Expected values from a float64 numpy transcription of torch-fidelity's
        // kid_features_to_metric / kernel_poly / mmd2 (unbiased):
        //   a = np.array([[((i*7 + j*13) % 17) / 17 - 0.5 for j in range(6)] for i in range(40)])
        //   b = np.array([[((i*5 + j*11) % 19) / 19 - 0.3 for j in range(6)] for i in range(31)])
        //   rng = np.random.RandomState(2020); k = lambda X, Y: (X @ Y.T * (1/6) + 1) ** 3
        //   for each of 5 subsets: X = a[rng.choice(40, 10, replace=False)]
        //                          Y = b[rng.choice(31, 10, replace=False)]
        //     mmd = ((k(X,X).sum(1) - np.diagonal(k(X,X))).sum()
        //            + (k(Y,Y).sum(1) - np.diagonal(k(Y,Y))).sum()) / (10*9)
        //           - 2 * k(X,Y).sum(0).sum() / (10*10)
        //   print(np.mean(mmds), np.std(mmds), mmds)
        let (a, b) = reference_sets();
        let settings = KidSettings {
            subsets: 5,
            subset_size: Some(10),
            ..KidSettings::default()
        };
        let got = kid(a.view(), b.view(), &settings).unwrap();
        let expected = [
            0.10320389833854704,
            0.11263646851947229,
            0.07667440782873713,
            0.08517842721492563,
            0.07475858998209128,
        ];
        for (g, e) in got.subset_values.iter().zip(expected) {
            assert!(rel(*g, e) < 1e-12, "{g} vs {e}");
        }
        assert!(rel(got.mean, 0.09049035837675468) < 1e-12);
        assert!(rel(got.std, 0.014957740015457402) < 1e-10);
        assert_eq!((got.subsets, got.subset_size), (5, 10));

        // Non-default kernel and seed, subsets as large as the second set:
        //   kid(a, b, subsets=3, subset_size=31, degree=2, gamma=0.5, coef0=0.25, seed=7)
        let settings = KidSettings {
            subsets: 3,
            subset_size: Some(31),
            degree: 2,
            gamma: Some(0.5),
            coef0: 0.25,
            seed: 7,
        };
        let got = kid(a.view(), b.view(), &settings).unwrap();
        let expected = [
            0.07157496218605913,
            0.08032619820899287,
            0.07716487187737453,
        ];
        for (g, e) in got.subset_values.iter().zip(expected) {
            assert!(rel(*g, e) < 1e-12, "{g} vs {e}");
        }
        assert!(rel(got.mean, 0.07635534409080884) < 1e-12);
        assert!(rel(got.std, 0.003618243994922557) < 1e-10);
    }

    #[test]
    fn explicit_loop_agrees() {
        let (a, b) = reference_sets();
        let settings = KidSettings {
            subsets: 4,
            subset_size: Some(7),
            ..KidSettings::default()
        };
        let got = kid(a.view(), b.view(), &settings).unwrap();

        let k = |x: &[f64], y: &[f64]| {
            let dot: f64 = x.iter().zip(y).map(|(p, q)| p * q).sum();
            (dot / 6.0 + 1.0).powi(3)
        };
        let mut rng = RandomState::new(2020);
        for value in &got.subset_values {
            let ia = rng.choice_without_replacement(40, 7);
            let ib = rng.choice_without_replacement(31, 7);
            let (mut xx, mut yy, mut xy) = (0.0, 0.0, 0.0);
            for i in 0..7 {
                for j in 0..7 {
                    let (ra, rb) = (a.row(ia[i]).to_vec(), b.row(ib[j]).to_vec());
                    xy += k(&ra, &rb);
                    if i != j {
                        xx += k(&ra, &a.row(ia[j]).to_vec());
                        yy += k(&b.row(ib[i]).to_vec(), &rb);
                    }
                }
            }
            let expected = (xx + yy) / 42.0 - 2.0 * xy / 49.0;
            assert!(rel(*value, expected) < 1e-12, "{value} vs {expected}");
        }
    }

    #[test]
    fn same_distribution_is_near_zero_and_shifts_grow() {
        let a = noise(300, 16, 1, 0.0);
        let same = noise(300, 16, 2, 0.0);
        let near = noise(300, 16, 3, 0.25);
        let far = noise(300, 16, 4, 1.0);
        let settings = KidSettings {
            subsets: 20,
            subset_size: Some(100),
            ..KidSettings::default()
        };
        let k_same = kid(a.view(), same.view(), &settings).unwrap().mean;
        let k_near = kid(a.view(), near.view(), &settings).unwrap().mean;
        let k_far = kid(a.view(), far.view(), &settings).unwrap().mean;
        assert!(k_near > 0.0 && k_far > k_near, "{k_same} {k_near} {k_far}");
        assert!(k_same.abs() * 20.0 < k_near, "{k_same} {k_near}");
    }

    #[test]
    fn identical_sets_are_unbiased_not_exactly_zero() {
        // The subsets of the two sides are drawn independently, so each
        // value is an unbiased estimate for one distribution: it scatters
        // around 0 (either sign) instead of being exactly 0.
        let a = noise(200, 8, 5, 0.0);
        let settings = KidSettings {
            subsets: 50,
            subset_size: Some(50),
            ..KidSettings::default()
        };
        let got = kid(a.view(), a.view(), &settings).unwrap();
        let far = kid(a.view(), noise(200, 8, 6, 1.0).view(), &settings).unwrap();
        assert!(
            got.mean.abs() < 0.05 * far.mean,
            "{} vs {}",
            got.mean,
            far.mean
        );
    }

    #[test]
    fn subsets_drawn_chunk_by_chunk_keep_numpys_draw_order() {
        // The subsets are drawn lazily, a chunk at a time (two per thread):
        // with one thread that is 25 chunks for 50 subsets, with three 9.
        // Each value must still be the one of the i-th draw of one
        // RandomState, as torch-fidelity draws them all in a row.
        let (a, b) = reference_sets();
        let settings = KidSettings {
            subsets: 50,
            subset_size: Some(9),
            ..KidSettings::default()
        };
        let kernel = PolynomialKernel {
            degree: 3,
            gamma: 1.0 / 6.0,
            coef0: 1.0,
        };
        let mut rng = RandomState::new(2020);
        let expected: Vec<f64> = (0..50)
            .map(|_| {
                let ia = rng.choice_without_replacement(40, 9);
                let ib = rng.choice_without_replacement(31, 9);
                let x = a.select(Axis(0), &ia);
                let y = b.select(Axis(0), &ib);
                unbiased_mmd2(x.view(), y.view(), &kernel)
            })
            .collect();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let got = pool.install(|| kid(a.view(), b.view(), &settings).unwrap());
            assert_eq!(got.subset_values, expected, "{threads} thread(s)");
        }
    }

    #[test]
    fn thread_count_does_not_change_the_result() {
        let a = noise(400, 32, 7, 0.0);
        let b = noise(350, 32, 8, 0.1);
        let settings = KidSettings {
            subsets: 12,
            subset_size: Some(200),
            ..KidSettings::default()
        };
        let parallel = kid(a.view(), b.view(), &settings).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let serial = pool.install(|| kid(a.view(), b.view(), &settings)).unwrap();
        for (p, s) in parallel.subset_values.iter().zip(&serial.subset_values) {
            assert!(rel(*p, *s) < 1e-12, "{p} vs {s}");
        }
        assert!(rel(parallel.mean, serial.mean) < 1e-12);
    }

    #[test]
    fn default_subset_size_is_capped_by_the_smaller_set() {
        let (a, b) = reference_sets();
        let got = kid(
            a.view(),
            b.view(),
            &KidSettings {
                subsets: 2,
                ..KidSettings::default()
            },
        )
        .unwrap();
        assert_eq!(got.subset_size, 31);
    }

    #[test]
    fn rejects_bad_inputs() {
        let (a, b) = reference_sets();
        let ok = KidSettings {
            subsets: 2,
            subset_size: Some(10),
            ..KidSettings::default()
        };

        let narrow = Array2::<f64>::zeros((31, 5));
        assert!(matches!(
            kid(a.view(), narrow.view(), &ok),
            Err(MetricsError::DimensionMismatch {
                left: 6,
                right: 5,
                ..
            })
        ));

        let too_big = KidSettings {
            subset_size: Some(35),
            ..ok.clone()
        };
        match kid(a.view(), b.view(), &too_big) {
            Err(MetricsError::TooFewSamples {
                what,
                needed: 35,
                got: 31,
            }) => {
                assert!(what.contains("second"), "{what}")
            }
            other => panic!("{other:?}"),
        }
        let too_big = KidSettings {
            subset_size: Some(35),
            ..ok.clone()
        };
        match kid(b.view(), a.view(), &too_big) {
            Err(MetricsError::TooFewSamples { what, .. }) => {
                assert!(what.contains("first"), "{what}")
            }
            other => panic!("{other:?}"),
        }

        let tiny = KidSettings {
            subset_size: Some(1),
            ..ok.clone()
        };
        assert!(matches!(
            kid(a.view(), b.view(), &tiny),
            Err(MetricsError::InvalidParameter {
                name: "subset_size",
                ..
            })
        ));
        let none = KidSettings {
            subsets: 0,
            ..ok.clone()
        };
        assert!(matches!(
            kid(a.view(), b.view(), &none),
            Err(MetricsError::InvalidParameter {
                name: "subsets",
                ..
            })
        ));
        let one_row = Array2::<f64>::zeros((1, 6));
        assert!(matches!(
            kid(a.view(), one_row.view(), &KidSettings::default()),
            Err(MetricsError::TooFewSamples {
                needed: 2,
                got: 1,
                ..
            })
        ));

        let mut bad = b.clone();
        bad[[3, 1]] = f64::INFINITY;
        assert!(matches!(
            kid(a.view(), bad.view(), &ok),
            Err(MetricsError::NonFinite {
                what: "KID second feature set",
                row: 3,
                column: 1,
                ..
            })
        ));
    }
}
