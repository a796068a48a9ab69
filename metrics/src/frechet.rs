//! Fréchet distance between two Gaussians: the FID of Heusel et al. (2017).
//!
//! ```text
//! d² = ‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2 tr √(Σ1 Σ2)
//! ```
//!
//! pytorch-fid evaluates the last term with scipy's general `sqrtm` of the
//! non-symmetric product `Σ1 Σ2`, which is slow (~20 s at 2048-d), can return
//! an imaginary part, and retries with an ε-shifted diagonal when the product
//! is singular. The trace only needs the eigenvalues of the product, and
//! `Σ1 Σ2` is similar to a symmetric positive semidefinite matrix:
//!
//! * with `Σ1 = L Lᵀ` (Cholesky), `Σ1 Σ2 ~ Lᵀ Σ2 L`, so
//!   `tr √(Σ1 Σ2) = Σ √λᵢ(Lᵀ Σ2 L)`;
//! * when neither covariance is positive definite (fewer samples than
//!   dimensions), `√Σ1 Σ2 √Σ1` with the symmetric square root does the same.
//!
//! Eigenvalues below zero can only come from rounding; they are clamped to 0
//! and their total magnitude is reported, so the result is never NaN and
//! never has an imaginary part. A distance that comes out below zero (two
//! identical sets, up to rounding) is clamped to 0 and flagged.
//!
//! When features are at hand and both sets have fewer samples than
//! dimensions, the non-zero eigenvalues of `Σ1 Σ2` are the squared singular
//! values of `A1 A2ᵀ / √((n1−1)(n2−1))` (centred features): an `N × N`
//! problem instead of `D × D` ([`frechet_distance_from_features`]).

use crate::error::{MetricsError, Result};
use crate::finite::ensure_finite_matrix;
use crate::linalg;
use crate::moments::{FeatureValue, Gaussian};
use ndarray::{Array2, ArrayView2, Axis};

/// How the trace of the matrix square root was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrechetMethod {
    /// Cholesky factor of one covariance, eigenvalues of `Lᵀ Σ L`.
    Cholesky,
    /// Symmetric square root of one covariance (used when neither is
    /// positive definite), eigenvalues of `√Σ1 Σ2 √Σ1`.
    SymmetricSqrt,
    /// Singular values of the `N1 × N2` cross product of centred features.
    SampleCrossProduct,
}

impl FrechetMethod {
    /// A short stable name for records and logs.
    ///
    /// # Examples
    ///
    /// ```
    /// use geneval_metrics::{frechet_distance, FrechetMethod, Gaussian};
    /// use ndarray::array;
    ///
    /// // A positive definite covariance is factored with Cholesky.
    /// let g = Gaussian::new(array![0.0, 0.0], array![[1.0, 0.0], [0.0, 1.0]])?;
    /// let fid = frechet_distance(&g, &g)?;
    /// assert_eq!(fid.method, FrechetMethod::Cholesky);
    /// assert_eq!(fid.method.as_str(), "cholesky");
    /// assert_eq!(FrechetMethod::SampleCrossProduct.as_str(), "sample-cross-product");
    /// # Ok::<(), geneval_metrics::MetricsError>(())
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cholesky => "cholesky",
            Self::SymmetricSqrt => "symmetric-sqrt",
            Self::SampleCrossProduct => "sample-cross-product",
        }
    }
}

/// The Fréchet distance and the terms it is made of.
///
/// # Examples
///
/// The value is the sum of its terms, clamped at 0:
///
/// ```
/// use geneval_metrics::{frechet_distance, Gaussian};
/// use ndarray::array;
///
/// let a = Gaussian::new(array![0.0, 0.0], array![[4.0, 0.0], [0.0, 1.0]])?;
/// let b = Gaussian::new(array![1.0, 0.0], array![[1.0, 0.0], [0.0, 1.0]])?;
/// let fid = frechet_distance(&a, &b)?;
/// // 1 + 5 + 2 − 2·(√4 + √1) = 2
/// assert_eq!((fid.mean_term, fid.trace_a, fid.trace_b), (1.0, 5.0, 2.0));
/// assert!((fid.trace_sqrt_product - 3.0).abs() < 1e-12);
/// assert!((fid.value - 2.0).abs() < 1e-12);
/// assert!(!fid.clamped_to_zero && fid.clamped_eigenvalue_mass == 0.0);
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FrechetDistance {
    /// The distance, clamped at 0.
    pub value: f64,
    /// The distance before clamping at 0.
    pub raw_value: f64,
    /// `‖μ1 − μ2‖²`.
    pub mean_term: f64,
    /// `tr Σ1`.
    pub trace_a: f64,
    /// `tr Σ2`.
    pub trace_b: f64,
    /// `tr √(Σ1 Σ2)`.
    pub trace_sqrt_product: f64,
    /// Total magnitude of negative eigenvalues clamped to 0 on the way
    /// (rounding noise; large values mean ill-conditioned statistics).
    pub clamped_eigenvalue_mass: f64,
    /// Whether `raw_value` was negative and the value was set to 0.
    pub clamped_to_zero: bool,
    /// How the square-root trace was computed.
    pub method: FrechetMethod,
}

impl FrechetDistance {
    fn assemble(
        mean_term: f64,
        trace_a: f64,
        trace_b: f64,
        trace_sqrt_product: f64,
        clamped_eigenvalue_mass: f64,
        method: FrechetMethod,
    ) -> Self {
        let raw_value = mean_term + trace_a + trace_b - 2.0 * trace_sqrt_product;
        Self {
            value: raw_value.max(0.0),
            raw_value,
            mean_term,
            trace_a,
            trace_b,
            trace_sqrt_product,
            clamped_eigenvalue_mass,
            clamped_to_zero: raw_value < 0.0,
            method,
        }
    }
}

/// Sum of square roots of eigenvalues and the magnitude of the negative ones.
///
/// Eigenvalues within rounding of zero (`|λ| ≤ n·ε·max|λ|`) count as zero:
/// a singular product has many such values of either sign, and their square
/// roots (√1e-16 = 1e-8 each) would otherwise add up to a visible error.
/// Well-conditioned products have no eigenvalue that small.
fn sqrt_trace(eigenvalues: &[f64]) -> (f64, f64) {
    let largest = eigenvalues.iter().fold(0.0f64, |m, l| m.max(l.abs()));
    let noise = eigenvalues.len() as f64 * f64::EPSILON * largest;
    eigenvalues.iter().fold((0.0, 0.0), |(sum, clamped), &l| {
        if l < 0.0 {
            (sum, clamped - l)
        } else if l <= noise {
            (sum, clamped)
        } else {
            (sum + l.sqrt(), clamped)
        }
    })
}

fn trace(m: &Array2<f64>) -> f64 {
    m.diag().sum()
}

/// Fréchet distance between `N(μ1, Σ1)` and `N(μ2, Σ2)`.
///
/// This is the last step of `Features → Moments → Gaussian →
/// frechet_distance`, and what pytorch-fid's `calculate_frechet_distance`
/// computes from two `.npz` files' `mu` and `sigma`.
///
/// # Errors
///
/// [`MetricsError::NotSquare`] or [`MetricsError::NonFinite`] if either
/// Gaussian is malformed (its fields are public), and
/// [`MetricsError::DimensionMismatch`] if their dimensions differ.
///
/// # Examples
///
/// Two Gaussians with the same covariance are `‖μ1 − μ2‖²` apart, since
/// `tr Σ + tr Σ − 2 tr √(Σ Σ) = 0`:
///
/// ```
/// use geneval_metrics::{frechet_distance, Gaussian};
/// use ndarray::array;
///
/// let sigma = array![[2.0, 0.5], [0.5, 1.0]];
/// let a = Gaussian::new(array![0.0, 0.0], sigma.clone())?;
/// let b = Gaussian::new(array![3.0, 4.0], sigma)?;
/// let fid = frechet_distance(&a, &b)?;
/// assert_eq!(fid.mean_term, 25.0);
/// assert_eq!((fid.trace_a, fid.trace_b), (3.0, 3.0));
/// assert!((fid.trace_sqrt_product - 3.0).abs() < 1e-12);
/// assert!((fid.value - 25.0).abs() < 1e-12);
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
///
/// From features, through the statistics that pytorch-fid saves (streaming
/// [`Moments`](crate::Moments) give the same `Gaussian` batch by batch):
///
/// ```
/// use geneval_metrics::{frechet_distance, Moments};
/// use ndarray::array;
///
/// let real = array![[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]];
/// let fake = &real + &array![1.0, 0.0]; // shifted by 1: same covariance
/// let real_stats = Moments::from_features(real.view())?.gaussian()?;
/// let fake_stats = Moments::from_features(fake.view())?.gaussian()?;
/// assert_eq!(real_stats.mu, array![1.0, 1.0]);
/// let fid = frechet_distance(&real_stats, &fake_stats)?;
/// assert!((fid.value - 1.0).abs() < 1e-12);
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> Result<FrechetDistance> {
    a.validate()?;
    b.validate()?;
    if a.dim() != b.dim() {
        return Err(MetricsError::DimensionMismatch {
            what: "statistics dimension",
            left: a.dim(),
            right: b.dim(),
        });
    }
    let diff = &a.mu - &b.mu;
    let mean_term = diff.dot(&diff);
    let (trace_a, trace_b) = (trace(&a.sigma), trace(&b.sigma));
    let no_convergence = || MetricsError::NoConvergence {
        what: "the covariance product",
    };

    // Factor whichever covariance Cholesky accepts; tr √(Σ1Σ2) = tr √(Σ2Σ1).
    for (factored, other) in [(&a.sigma, &b.sigma), (&b.sigma, &a.sigma)] {
        if let Some(l) = linalg::cholesky_lower(factored.view()) {
            let product = linalg::congruence_lower_triangular(&l, other.view());
            let eigenvalues =
                linalg::symmetric_eigenvalues_faer(&product).ok_or_else(no_convergence)?;
            let (root_trace, clamped) = sqrt_trace(&eigenvalues);
            return Ok(FrechetDistance::assemble(
                mean_term,
                trace_a,
                trace_b,
                root_trace,
                clamped,
                FrechetMethod::Cholesky,
            ));
        }
    }
    let (root_a, clamped_a) = linalg::symmetric_sqrt(a.sigma.view()).ok_or_else(no_convergence)?;
    let product = linalg::symmetric_sandwich(&root_a, b.sigma.view());
    let eigenvalues = linalg::symmetric_eigenvalues_faer(&product).ok_or_else(no_convergence)?;
    let (root_trace, clamped) = sqrt_trace(&eigenvalues);
    Ok(FrechetDistance::assemble(
        mean_term,
        trace_a,
        trace_b,
        root_trace,
        clamped + clamped_a,
        FrechetMethod::SymmetricSqrt,
    ))
}

/// Fréchet distance between the Gaussians fitted (ddof 1) to two feature
/// sets (rows are samples).
///
/// When both sets have fewer samples than dimensions the covariances are
/// singular and `D × D` work is wasted: the `N1 × N2` cross product of the
/// centred features gives the same trace exactly. Otherwise this is
/// [`frechet_distance`] of [`Gaussian::from_features`].
///
/// # Errors
///
/// [`MetricsError::DimensionMismatch`] if the feature dimensions differ,
/// [`MetricsError::TooFewSamples`] if a set has fewer than 2 rows, and
/// [`MetricsError::NonFinite`] on NaN or infinite features.
///
/// # Examples
///
/// Identical sets are 0 apart; a set and its copy moved by `δ` are `‖δ‖²`
/// apart (the covariances are equal):
///
/// ```
/// use geneval_metrics::frechet_distance_from_features;
/// use ndarray::array;
///
/// let real = array![[1.0, 2.0], [3.0, 0.0], [2.0, 5.0], [0.0, 1.0]];
/// let same = frechet_distance_from_features(real.view(), real.view())?;
/// assert!(same.value < 1e-12);
///
/// let moved = &real + &array![3.0, 4.0];
/// let fid = frechet_distance_from_features(real.view(), moved.view())?;
/// assert!((fid.value - 25.0).abs() < 1e-9);
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
///
/// With fewer samples than dimensions (here 3 samples of 4 features, as
/// f32 features arrive from a network) the `N × N` problem is solved:
///
/// ```
/// use geneval_metrics::{frechet_distance_from_features, FrechetMethod};
/// use ndarray::array;
///
/// let a = array![[0.0f32, 1.0, 2.0, 3.0], [1.0, 0.0, 1.0, 0.0], [2.0, 2.0, 0.0, 1.0]];
/// let b = &a + 0.5;
/// let fid = frechet_distance_from_features(a.view(), b.view())?;
/// assert_eq!(fid.method, FrechetMethod::SampleCrossProduct);
/// assert!((fid.value - 4.0 * 0.25).abs() < 1e-9);
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub fn frechet_distance_from_features<A: FeatureValue>(
    a: ArrayView2<'_, A>,
    b: ArrayView2<'_, A>,
) -> Result<FrechetDistance> {
    if a.ncols() != b.ncols() {
        return Err(MetricsError::DimensionMismatch {
            what: "feature dimension",
            left: a.ncols(),
            right: b.ncols(),
        });
    }
    let dim = a.ncols();
    if a.nrows() >= dim || b.nrows() >= dim {
        let ga = Gaussian::from_features(a)?;
        let gb = Gaussian::from_features(b)?;
        return frechet_distance(&ga, &gb);
    }
    let (na, nb) = (a.nrows(), b.nrows());
    for (n, what) in [
        (na, "the first feature set"),
        (nb, "the second feature set"),
    ] {
        if n < 2 {
            return Err(MetricsError::TooFewSamples {
                what,
                needed: 2,
                got: n,
            });
        }
    }
    let centre =
        |x: ArrayView2<'_, A>, what: &'static str| -> Result<(Array2<f64>, ndarray::Array1<f64>)> {
            let x = x.mapv(|v| v.into());
            ensure_finite_matrix(what, x.view())?;
            let mean = x.mean_axis(Axis(0)).expect("at least 2 rows");
            Ok((x - &mean, mean))
        };
    let (ac, mean_a) = centre(a, "the first feature set")?;
    let (bc, mean_b) = centre(b, "the second feature set")?;
    let diff = &mean_a - &mean_b;
    let mean_term = diff.dot(&diff);
    let scale_a = (na - 1) as f64;
    let scale_b = (nb - 1) as f64;
    let trace_a = ac.iter().map(|v| v * v).sum::<f64>() / scale_a;
    let trace_b = bc.iter().map(|v| v * v).sum::<f64>() / scale_b;
    let cross = linalg::matmul_transpose_b(ac.view(), bc.view());
    let gram = if na <= nb {
        linalg::matmul_transpose_b(cross.view(), cross.view())
    } else {
        linalg::matmul(cross.t(), cross.view())
    };
    let eigenvalues =
        linalg::symmetric_eigenvalues(gram.view()).ok_or(MetricsError::NoConvergence {
            what: "the feature cross product",
        })?;
    let (root_trace, clamped) = sqrt_trace(&eigenvalues);
    let norm = (scale_a * scale_b).sqrt();
    Ok(FrechetDistance::assemble(
        mean_term,
        trace_a,
        trace_b,
        root_trace / norm,
        clamped / (scale_a * scale_b),
        FrechetMethod::SampleCrossProduct,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    fn sample(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut state = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
        Array2::from_shape_fn((rows, cols), |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
    }

    #[test]
    fn identical_gaussians_give_zero() {
        let x = sample(100, 6, 1);
        let g = Gaussian::from_features(x.view()).unwrap();
        let d = frechet_distance(&g, &g).unwrap();
        assert!(d.value.abs() < 1e-12, "{d:?}");
    }

    #[test]
    fn equal_covariances_give_squared_mean_distance() {
        let x = sample(80, 5, 2);
        let a = Gaussian::from_features(x.view()).unwrap();
        let shift = Array1::from(vec![1.0, -2.0, 0.5, 0.0, 3.0]);
        let b = Gaussian {
            mu: &a.mu + &shift,
            sigma: a.sigma.clone(),
        };
        let d = frechet_distance(&a, &b).unwrap();
        assert!((d.value - shift.dot(&shift)).abs() < 1e-10, "{d:?}");
    }

    #[test]
    fn diagonal_covariances_have_closed_form() {
        // For diagonal Σ the distance is Σ (√a − √b)² over the diagonal.
        let a = Gaussian::new(array![0.0, 0.0], array![[4.0, 0.0], [0.0, 9.0]]).unwrap();
        let b = Gaussian::new(array![0.0, 0.0], array![[1.0, 0.0], [0.0, 1.0]]).unwrap();
        let d = frechet_distance(&a, &b).unwrap();
        assert!((d.value - (1.0 + 4.0)).abs() < 1e-12);
        assert_eq!(d.method, FrechetMethod::Cholesky);
    }

    #[test]
    fn singular_covariances_use_symmetric_sqrt() {
        let a = Gaussian::new(array![0.0, 0.0], array![[1.0, 1.0], [1.0, 1.0]]).unwrap();
        let b = Gaussian::new(array![0.0, 0.0], array![[0.0, 0.0], [0.0, 4.0]]).unwrap();
        let d = frechet_distance(&a, &b).unwrap();
        assert_eq!(d.method, FrechetMethod::SymmetricSqrt);
        // tr √(Σ1Σ2): Σ1Σ2 = [[0,4],[0,4]], eigenvalues 0 and 4 → 2.
        assert!((d.trace_sqrt_product - 2.0).abs() < 1e-12, "{d:?}");
        assert!(d.value.is_finite() && d.value >= 0.0);
    }

    #[test]
    fn sample_cross_product_equals_covariance_route() {
        let a = sample(12, 30, 3);
        let b = sample(15, 30, 4) * 1.5 + 0.2;
        let small = frechet_distance_from_features(a.view(), b.view()).unwrap();
        assert_eq!(small.method, FrechetMethod::SampleCrossProduct);
        let ga = Gaussian::from_features(a.view()).unwrap();
        let gb = Gaussian::from_features(b.view()).unwrap();
        let big = frechet_distance(&ga, &gb).unwrap();
        assert!(
            (small.value - big.value).abs() < 1e-9 * big.value,
            "{small:?} vs {big:?}"
        );
        // And in the other orientation (N1 > N2).
        let swapped = frechet_distance_from_features(b.view(), a.view()).unwrap();
        assert!((swapped.value - small.value).abs() < 1e-9 * small.value);
    }

    #[test]
    fn never_negative_and_flags_clamping() {
        let x = sample(10, 20, 5);
        let d = frechet_distance_from_features(x.view(), x.view()).unwrap();
        assert!(d.value >= 0.0 && d.value < 1e-9, "{d:?}");
        assert_eq!(d.clamped_to_zero, d.raw_value < 0.0);
    }

    #[test]
    fn rejects_mismatched_dimensions_and_nan() {
        let a = Gaussian::new(array![0.0], array![[1.0]]).unwrap();
        let b = Gaussian::new(array![0.0, 1.0], Array2::eye(2)).unwrap();
        assert!(matches!(
            frechet_distance(&a, &b),
            Err(MetricsError::DimensionMismatch { .. })
        ));
        let bad = Gaussian {
            mu: array![f64::NAN],
            sigma: array![[1.0]],
        };
        assert!(matches!(
            frechet_distance(&a, &bad),
            Err(MetricsError::NonFinite { .. })
        ));
        let one_row = array![[1.0, 2.0, 3.0]];
        assert!(matches!(
            frechet_distance_from_features(one_row.view(), one_row.view()),
            Err(MetricsError::TooFewSamples { .. })
        ));
    }
}
