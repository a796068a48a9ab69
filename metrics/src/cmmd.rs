//! CMMD (Jayasumana et al., "Rethinking FID: Towards a Better Evaluation
//! Metric for Image Generation", CVPR 2024): the maximum mean discrepancy
//! between two sets of CLIP embeddings under a Gaussian RBF kernel, as
//! google-research's `cmmd/distance.py` computes it.
//!
//! # The estimator
//!
//! `k(a, b) = exp(−γ‖a − b‖²)` with `γ = 1 / (2σ²)`, σ = 10, and the
//! minimum-variance (biased) MMD² of Gretton et al. (2012, eq. 5), the
//! diagonals included:
//!
//! ```text
//! CMMD = 1000 · (mean K_xx + mean K_yy − 2 · mean K_xy)
//! ```
//!
//! with `‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b` as the reference writes it. `x`
//! and `y` may have different numbers of rows.
//!
//! # Blocks and accuracy
//!
//! The reference forms the three n × n kernel matrices at once (25 GB each
//! at 50,000 images in float64). Here they are visited in blocks of
//! [`CmmdOptions::block_rows`] rows against all rows of the other set, one
//! Gram product per block (rayon over blocks), so memory is
//! `block_rows × max(n, m)` values.
//!
//! On L2-normalised embeddings `‖a − b‖² ≤ 4`, so every kernel value lies in
//! `[e^−0.02, 1]` and the three means cancel to about 1e-3 of their size:
//! summing `exp(…)` directly leaves the last ~3 digits of a float64 to the
//! result, and JAX's default float32 (the reference's arithmetic) only
//! about four significant digits. Each term is summed here as
//! `expm1(−γ d²) = k − 1` instead (the 1s cancel exactly in the MMD), in
//! float64, per block and then block by block in order, so the value does
//! not depend on the block size or the thread count beyond the last bits.

use ndarray::{s, ArrayView2};
use rayon::prelude::*;

use crate::error::{MetricsError, Result};
use crate::finite::ensure_finite_matrix;
use crate::linalg::matmul_transpose_b_sequential;

/// CMMD's kernel bandwidth (`_SIGMA` in `distance.py`).
pub const SIGMA: f64 = 10.0;

/// CMMD's scale, which makes the numbers readable (`_SCALE`).
pub const SCALE: f64 = 1000.0;

/// How CMMD is computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CmmdOptions {
    /// Kernel bandwidth σ (γ = 1 / (2σ²)); the paper's 10.
    pub sigma: f64,
    /// Factor on the MMD²; the paper's 1000.
    pub scale: f64,
    /// Rows of a kernel block (memory: `block_rows × max(n, m)` values).
    pub block_rows: usize,
}

impl Default for CmmdOptions {
    fn default() -> Self {
        CmmdOptions {
            sigma: SIGMA,
            scale: SCALE,
            block_rows: 1024,
        }
    }
}

/// A CMMD value and its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cmmd {
    /// `scale · (mean K_xx + mean K_yy − 2 mean K_xy)`.
    pub value: f64,
    /// `mean K_xx − 1` (the kernel means less one, as summed).
    pub mean_xx_minus_one: f64,
    /// `mean K_yy − 1`.
    pub mean_yy_minus_one: f64,
    /// `mean K_xy − 1`.
    pub mean_xy_minus_one: f64,
}

/// Σ over all (i, j) of `expm1(−γ ‖aᵢ − bⱼ‖²)`, in row blocks of `a`.
fn sum_kernel_minus_one(
    a: ArrayView2<'_, f64>,
    a_norms: &[f64],
    b: ArrayView2<'_, f64>,
    b_norms: &[f64],
    gamma: f64,
    block_rows: usize,
) -> f64 {
    let starts: Vec<usize> = (0..a.nrows()).step_by(block_rows).collect();
    let sums: Vec<f64> = starts
        .par_iter()
        .map(|&start| {
            let end = (start + block_rows).min(a.nrows());
            let dots = matmul_transpose_b_sequential(a.slice(s![start..end, ..]), b);
            let mut sum = 0.0;
            for (row, i) in dots.rows().into_iter().zip(start..end) {
                for (&dot, &b_norm) in row.iter().zip(b_norms) {
                    let squared = -2.0 * dot + a_norms[i] + b_norm;
                    sum += (-gamma * squared).exp_m1();
                }
            }
            sum
        })
        .collect();
    sums.into_iter().sum()
}

fn squared_norms(x: ArrayView2<'_, f64>) -> Vec<f64> {
    x.rows().into_iter().map(|r| r.dot(&r)).collect()
}

/// CMMD between embeddings `x` (n × d) and `y` (m × d).
///
/// ```
/// use geneval_metrics::cmmd::{cmmd, CmmdOptions};
/// use ndarray::array;
///
/// let x = array![[1.0, 0.0], [0.0, 1.0]];
/// assert_eq!(cmmd(x.view(), x.view(), &CmmdOptions::default())?.value, 0.0);
///
/// // One point each, at distance 1: 1000 · (1 + 1 − 2·e^(−1/200)).
/// let (a, b) = (array![[0.0, 0.0]], array![[1.0, 0.0]]);
/// let value = cmmd(a.view(), b.view(), &CmmdOptions::default())?.value;
/// assert!((value - 1000.0 * (2.0 - 2.0 * (-0.005f64).exp())).abs() < 1e-12);
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub fn cmmd(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>, options: &CmmdOptions) -> Result<Cmmd> {
    if x.ncols() != y.ncols() {
        return Err(MetricsError::DimensionMismatch {
            what: "CMMD embedding dimension",
            left: x.ncols(),
            right: y.ncols(),
        });
    }
    for (what, n) in [
        ("CMMD first embedding set", x.nrows()),
        ("CMMD second embedding set", y.nrows()),
    ] {
        if n == 0 {
            return Err(MetricsError::TooFewSamples {
                what,
                needed: 1,
                got: 0,
            });
        }
    }
    if !(options.sigma > 0.0 && options.sigma.is_finite()) {
        return Err(MetricsError::InvalidParameter {
            name: "sigma",
            reason: format!("must be positive and finite, got {}", options.sigma),
        });
    }
    if !options.scale.is_finite() {
        return Err(MetricsError::InvalidParameter {
            name: "scale",
            reason: format!("must be finite, got {}", options.scale),
        });
    }
    ensure_finite_matrix("CMMD first embedding set", x)?;
    ensure_finite_matrix("CMMD second embedding set", y)?;
    let gamma = 1.0 / (2.0 * options.sigma * options.sigma);
    let block = options.block_rows.max(1);
    let (x_norms, y_norms) = (squared_norms(x), squared_norms(y));
    let (n, m) = (x.nrows() as f64, y.nrows() as f64);
    let xx = sum_kernel_minus_one(x, &x_norms, x, &x_norms, gamma, block) / (n * n);
    let yy = sum_kernel_minus_one(y, &y_norms, y, &y_norms, gamma, block) / (m * m);
    let xy = sum_kernel_minus_one(x, &x_norms, y, &y_norms, gamma, block) / (n * m);
    Ok(Cmmd {
        value: options.scale * (xx + yy - 2.0 * xy),
        mean_xx_minus_one: xx,
        mean_yy_minus_one: yy,
        mean_xy_minus_one: xy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::fixtures::features;
    use ndarray::Array2;

    /// The reference's formula with dense matrices and plain `exp`.
    fn dense(x: &Array2<f64>, y: &Array2<f64>) -> f64 {
        let gamma = 1.0 / (2.0 * SIGMA * SIGMA);
        let mean = |a: &Array2<f64>, b: &Array2<f64>| {
            let mut sum = 0.0;
            for ra in a.rows() {
                for rb in b.rows() {
                    let d = -2.0 * ra.dot(&rb) + ra.dot(&ra) + rb.dot(&rb);
                    sum += (-gamma * d).exp();
                }
            }
            sum / (a.nrows() * b.nrows()) as f64
        };
        SCALE * (mean(x, x) + mean(y, y) - 2.0 * mean(x, y))
    }

    fn normalised(seed: u64, n: usize, d: usize, shift: f64) -> Array2<f64> {
        let mut x = features(seed, n, d, 1.0, shift);
        for mut row in x.rows_mut() {
            let norm = row.dot(&row).sqrt();
            row.mapv_inplace(|v| v / norm);
        }
        x
    }

    #[test]
    fn equals_the_dense_formula() {
        let x = normalised(1, 40, 16, 0.0);
        let y = normalised(2, 31, 16, 0.3);
        let got = cmmd(x.view(), y.view(), &CmmdOptions::default())
            .unwrap()
            .value;
        let want = dense(&x, &y);
        assert!(got > 0.0);
        assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
    }

    #[test]
    fn zero_for_one_set_and_symmetric() {
        let x = normalised(3, 25, 8, 0.0);
        let y = normalised(4, 19, 8, 0.5);
        let options = CmmdOptions::default();
        assert!(cmmd(x.view(), x.view(), &options).unwrap().value.abs() < 1e-15);
        let xy = cmmd(x.view(), y.view(), &options).unwrap().value;
        let yx = cmmd(y.view(), x.view(), &options).unwrap().value;
        assert!((xy - yx).abs() <= 1e-14 * xy);
    }

    #[test]
    fn block_size_and_threads_do_not_change_the_value() {
        let x = normalised(5, 70, 12, 0.0);
        let y = normalised(6, 53, 12, 0.2);
        let value = |block_rows| {
            cmmd(
                x.view(),
                y.view(),
                &CmmdOptions {
                    block_rows,
                    ..CmmdOptions::default()
                },
            )
            .unwrap()
            .value
        };
        let reference = value(1024);
        for block in [1, 7, 64] {
            assert!((value(block) - reference).abs() <= 1e-13 * reference);
        }
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| value(16));
        assert!((one_thread - value(16)).abs() <= 1e-15 * reference);
    }

    #[test]
    fn bad_inputs_are_named() {
        let x = Array2::<f64>::zeros((3, 4));
        let options = CmmdOptions::default();
        let err = cmmd(x.view(), Array2::<f64>::zeros((3, 5)).view(), &options).unwrap_err();
        assert!(
            err.to_string().contains("CMMD embedding dimension"),
            "{err}"
        );
        let err = cmmd(x.view(), Array2::<f64>::zeros((0, 4)).view(), &options).unwrap_err();
        assert!(err.to_string().contains("second"), "{err}");
        let mut nan = x.clone();
        nan[[2, 1]] = f64::NAN;
        let err = cmmd(nan.view(), x.view(), &options).unwrap_err();
        assert!(err.to_string().contains("row 2, column 1"), "{err}");
        let bad = CmmdOptions {
            sigma: 0.0,
            ..options
        };
        assert!(cmmd(x.view(), x.view(), &bad).is_err());
    }
}
