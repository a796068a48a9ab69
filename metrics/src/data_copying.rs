//! The C_T data-copying test of Meehan, Chaudhuri & Dasgupta (2020, "A
//! Non-Parametric Test to Detect Data-Copying in Generative Models"), as
//! dgm-eval's `compute_CTscore(train, test, gen)` computes it.
//!
//! # The definition
//!
//! 1. Features wider than 64 are projected onto the training set's first 64
//!    principal components (dgm-eval's `PCA(n_components=64)`).
//! 2. The training set is cut into 3 cells by k-means (dgm-eval:
//!    `KMeans(n_clusters=3, n_init=10)`); every sample goes to its nearest
//!    centre.
//! 3. In each cell, the distances of its generated samples (`L(Q_m)`) and of
//!    its test samples (`L(P_n)`) to their nearest training sample of that
//!    cell are compared with the Mann–Whitney U statistic of `L(Q_m)`
//!    (ties ranked by their average rank), Z-scored under the null as
//!    dgm-eval does: `Z = (U − (n·m/2 − 0.5)) / √(n·m·(n + m + 1)/12)`.
//! 4. `C_T` is the average of the cells' Z weighted by their share of the
//!    test set, over the cells holding more than τ = 20 / |gen| of the
//!    generated samples.
//!
//! `C_T ≪ 0`: generated samples lie closer to the training set than unseen
//! real samples do (copying); `≫ 0`: farther (underfitting); near 0: neither.
//!
//! # What differs from dgm-eval, and why it does not change the value
//!
//! dgm-eval's k-means is scikit-learn's, unseeded; here it is Lloyd's
//! algorithm from 10 k-means++ starts drawn from numpy's `RandomState(0)`,
//! keeping the lowest inertia (`kmeans.rs`). C_T does not depend on how cells are
//! numbered, so on data whose 3-cell partition is clear both give the same
//! cells and the same value (`tests/fixtures/reference/generate_ct.py` runs
//! scikit-learn's and scipy's own code, and dgm-eval's own function under
//! its pins gives the same values to the bit; the test compares). On data
//! with no clear partition dgm-eval's own value changes from run to run:
//! on 10,000 × 2048 Gaussian features with a decaying spectrum it gave
//! 0.033 to 0.236 over four runs (its PCA is also randomized and unseeded
//! for inputs over 500 × 500), 0.111 to 0.203 over five k-means seeds with
//! an exact PCA, and this function 0.103.
//! The principal components come from a symmetric eigendecomposition of the
//! training covariance rather than an SVD: the projected distances are the
//! same up to rounding.

use ndarray::{Array2, ArrayView2, Axis};

use crate::error::{MetricsError, Result};
use crate::kmeans::KMeans;

/// Components kept before clustering (dgm-eval's `PCA(n_components=64)`).
pub const PCA_COMPONENTS: usize = 64;
/// Cells (dgm-eval's `KMeans(n_clusters=3)`).
pub const CELLS: usize = 3;
/// k-means starts (dgm-eval's `n_init=10`).
pub const STARTS: usize = 10;
/// Generated samples a cell needs, as a count: τ = 20 / |gen|.
pub const TAU_COUNT: f64 = 20.0;

/// C_T and what it was made of.
#[derive(Debug, Clone, PartialEq)]
pub struct DataCopying {
    /// The C_T statistic.
    pub c_t: f64,
    /// Each cell's Z score (0 for a cell without generated samples).
    pub cell_z: Vec<f64>,
    /// Each cell's share of the test set.
    pub cell_test_share: Vec<f64>,
    /// Whether each cell holds more than τ of the generated samples.
    pub cell_included: Vec<bool>,
}

/// The C_T statistic of `gen` against `train`, with `test` held-out real
/// samples (rows are samples, the same columns in all three).
pub fn data_copying(
    train: ArrayView2<'_, f64>,
    test: ArrayView2<'_, f64>,
    gen: ArrayView2<'_, f64>,
) -> Result<DataCopying> {
    let dim = train.ncols();
    for (what, rows) in [("test", test), ("generated", gen)] {
        if rows.ncols() != dim {
            return Err(MetricsError::DimensionMismatch {
                what: if what == "test" {
                    "C_T test feature dimension"
                } else {
                    "C_T generated feature dimension"
                },
                left: dim,
                right: rows.ncols(),
            });
        }
    }
    for (what, n) in [
        ("C_T training set", train.nrows()),
        ("C_T test set", test.nrows()),
        ("C_T generated set", gen.nrows()),
    ] {
        if n < CELLS {
            return Err(MetricsError::TooFewSamples {
                what,
                needed: CELLS,
                got: n,
            });
        }
    }
    crate::finite::ensure_finite_matrix("C_T training set", train)?;
    crate::finite::ensure_finite_matrix("C_T test set", test)?;
    crate::finite::ensure_finite_matrix("C_T generated set", gen)?;
    if dim > PCA_COMPONENTS && train.nrows() < PCA_COMPONENTS {
        // scikit-learn's PCA(n_components=64) refuses fewer samples, so
        // dgm-eval has no value here; an eigendecomposition would fill the
        // missing components with arbitrary directions of the null space.
        return Err(MetricsError::TooFewSamples {
            what: "C_T training set (the 64-component PCA of features wider than 64)",
            needed: PCA_COMPONENTS,
            got: train.nrows(),
        });
    }
    let (train, test, gen) = if dim > PCA_COMPONENTS {
        let basis = principal_basis(train)?;
        let mean = train.mean_axis(Axis(0)).expect("rows checked");
        let project = |x: ArrayView2<'_, f64>| (&x - &mean).dot(&basis);
        (project(train), project(test), project(gen))
    } else {
        (train.to_owned(), test.to_owned(), gen.to_owned())
    };
    let kmeans = KMeans::fit(train.view(), CELLS, STARTS, 0);
    let cells = |x: &Array2<f64>| -> Vec<usize> {
        x.outer_iter()
            .map(|row| kmeans.predict(row.as_slice().expect("owned rows")))
            .collect()
    };
    let (t_cells, p_cells, q_cells) = (cells(&train), cells(&test), cells(&gen));
    let (n, m) = (test.nrows() as f64, gen.nrows() as f64);
    let tau = TAU_COUNT / m;
    let mut out = DataCopying {
        c_t: 0.0,
        cell_z: vec![0.0; CELLS],
        cell_test_share: vec![0.0; CELLS],
        cell_included: vec![false; CELLS],
    };
    for cell in 0..CELLS {
        let pick = |x: &Array2<f64>, labels: &[usize]| -> Vec<usize> {
            (0..x.nrows()).filter(|&i| labels[i] == cell).collect()
        };
        let (t, p, q) = (
            pick(&train, &t_cells),
            pick(&test, &p_cells),
            pick(&gen, &q_cells),
        );
        if t.is_empty() || p.is_empty() {
            return Err(MetricsError::InvalidParameter {
                name: "cells",
                reason: format!(
                    "k-means cell {cell} of 3 holds {} training and {} test samples; C_T needs both in every cell",
                    t.len(),
                    p.len()
                ),
            });
        }
        out.cell_test_share[cell] = p.len() as f64 / n;
        out.cell_included[cell] = q.len() as f64 / m > tau;
        if !q.is_empty() {
            let t_rows = train.select(Axis(0), &t);
            let lq = nearest_distances(gen.select(Axis(0), &q).view(), t_rows.view());
            let lp = nearest_distances(test.select(Axis(0), &p).view(), t_rows.view());
            out.cell_z[cell] = mann_whitney_z(&lq, &lp);
        }
    }
    let (mut weighted, mut total) = (0.0, 0.0);
    for cell in 0..CELLS {
        if out.cell_included[cell] {
            weighted += out.cell_test_share[cell] * out.cell_z[cell];
            total += out.cell_test_share[cell];
        }
    }
    if total == 0.0 {
        return Err(MetricsError::TooFewSamples {
            what: "C_T generated set (more than 20 in some k-means cell)",
            needed: 21,
            got: gen.nrows(),
        });
    }
    out.c_t = weighted / total;
    Ok(out)
}

/// The first [`PCA_COMPONENTS`] principal directions of `x` as columns
/// (`dim × 64`), largest variance first.
fn principal_basis(x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let mean = x.mean_axis(Axis(0)).expect("rows checked");
    let centred = &x - &mean;
    let covariance = centred.t().dot(&centred);
    let dim = covariance.nrows();
    let (values, vectors) = crate::linalg::symmetric_eigen(covariance.view()).ok_or(
        MetricsError::InvalidParameter {
            name: "features",
            reason: "the eigendecomposition of the training covariance did not converge".into(),
        },
    )?;
    debug_assert_eq!(values.len(), dim);
    // Ascending eigenvalues: the last columns are the largest.
    let mut basis = Array2::<f64>::zeros((dim, PCA_COMPONENTS));
    for k in 0..PCA_COMPONENTS {
        basis.column_mut(k).assign(&vectors.column(dim - 1 - k));
    }
    Ok(basis)
}

/// Each row's Euclidean distance to its nearest row of `reference`.
fn nearest_distances(rows: ArrayView2<'_, f64>, reference: ArrayView2<'_, f64>) -> Vec<f64> {
    rows.outer_iter()
        .map(|row| {
            reference
                .outer_iter()
                .map(|r| {
                    row.iter()
                        .zip(r.iter())
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                })
                .fold(f64::INFINITY, f64::min)
                .sqrt()
        })
        .collect()
}

/// dgm-eval's `Zu`: scipy's Mann–Whitney U of `a` against `b` (ties get
/// their average rank), Z-scored with mean `n·m/2 − 0.5` and standard
/// deviation `√(n·m·(n + m + 1)/12)` (no tie correction, as there).
fn mann_whitney_z(a: &[f64], b: &[f64]) -> f64 {
    let (m, n) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, true))
        .chain(b.iter().map(|&v| (v, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut rank_sum_a = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let average = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_a += average * all[i..=j].iter().filter(|e| e.1).count() as f64;
        i = j + 1;
    }
    let u = rank_sum_a - m * (m + 1.0) / 2.0;
    let mean = n * m / 2.0 - 0.5;
    let std = (n * m * (n + m + 1.0) / 12.0).sqrt();
    (u - mean) / std
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mann_whitney_matches_scipy_with_ties() {
        // scipy.stats.mannwhitneyu([1, 2, 2, 5], [2, 3, 4]).statistic = 4.0
        let z = mann_whitney_z(&[1.0, 2.0, 2.0, 5.0], &[2.0, 3.0, 4.0]);
        let (n, m) = (3.0, 4.0);
        let want = (4.0 - (n * m / 2.0 - 0.5)) / (n * m * (n + m + 1.0) / 12.0f64).sqrt();
        assert!((z - want).abs() < 1e-15, "{z} vs {want}");
    }

    #[test]
    fn pca_needs_64_training_samples_as_scikit_learn_does() {
        let wide =
            |rows: usize| Array2::from_shape_fn((rows, 80), |(i, j)| ((i * 7 + j) % 11) as f64);
        let err = data_copying(wide(63).view(), wide(30).view(), wide(30).view()).unwrap_err();
        assert_eq!(
            err,
            MetricsError::TooFewSamples {
                what: "C_T training set (the 64-component PCA of features wider than 64)",
                needed: 64,
                got: 63
            }
        );
        // 64 features need no PCA, so no such limit.
        let narrow = Array2::from_shape_fn((63, 64), |(i, j)| ((i * 7 + j) % 11) as f64);
        assert!(!matches!(
            data_copying(narrow.view(), narrow.view(), narrow.view()),
            Err(MetricsError::TooFewSamples { needed: 64, .. })
        ));
    }

    #[test]
    fn a_cell_without_test_samples_is_refused() {
        let train = Array2::from_shape_fn((9, 2), |(i, j)| (i / 3 * 10 + j) as f64);
        let test = Array2::from_shape_fn((3, 2), |(_, j)| j as f64);
        let err = data_copying(train.view(), test.view(), train.view()).unwrap_err();
        assert!(err.to_string().contains("C_T needs both"), "{err}");
    }
}
