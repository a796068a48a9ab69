//! Nearest real neighbours of generated samples, and AuthPct (Alaa et al.,
//! "How Faithful is your Synthetic Data?", ICML 2022) as dgm-eval's
//! `metrics/authpct.py` computes it: a generated sample is *authentic* when
//! its nearest real sample has another real sample closer to it than the
//! generated one is (`d(r, r') < d(g, r)`, strictly); AuthPct is the
//! percentage of authentic samples. A generated sample much closer to a
//! real one than that real one's own neighbour is a likely copy.
//!
//! Distances are Euclidean, computed as scikit-learn does
//! (`sqrt(max(‖x‖² + ‖y‖² − 2x·y, 0))`, as in `knn.rs`) over row blocks, so
//! no n × m matrix is held.

use ndarray::{s, ArrayView2};
use rayon::prelude::*;

use crate::error::{MetricsError, Result};
use crate::finite::ensure_finite_matrix;
use crate::knn::{dot_products, euclidean, nearest_distances, squared_norms, BLOCK_ROWS};

/// Every generated sample's nearest real sample, and AuthPct.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticity {
    /// Percentage of authentic generated samples (0 to 100).
    pub authpct: f64,
    /// Per generated sample: the index of its nearest real sample.
    pub nearest_real: Vec<usize>,
    /// Per generated sample: the distance to it.
    pub distance: Vec<f64>,
    /// Per real sample: the distance to its nearest other real sample.
    pub real_nearest_distance: Vec<f64>,
    /// Per generated sample: authentic or not.
    pub authentic: Vec<bool>,
}

/// The nearest real sample of each generated one, and AuthPct.
///
/// ```
/// use geneval_metrics::authenticity::authenticity;
/// use ndarray::array;
///
/// let real = array![[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [5.0, 6.0]];
/// // A copy of real 1, and a sample between the two clusters.
/// let fake = array![[1.0, 0.0], [3.0, 3.0]];
/// let a = authenticity(real.view(), fake.view())?;
/// assert_eq!(a.nearest_real, [1, 2]);
/// assert_eq!(a.distance[0], 0.0);
/// assert_eq!(a.authentic, [false, true]);
/// assert_eq!(a.authpct, 50.0);
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub fn authenticity(real: ArrayView2<'_, f64>, fake: ArrayView2<'_, f64>) -> Result<Authenticity> {
    if real.ncols() != fake.ncols() {
        return Err(MetricsError::DimensionMismatch {
            what: "authenticity feature dimension",
            left: real.ncols(),
            right: fake.ncols(),
        });
    }
    if real.nrows() < 2 {
        return Err(MetricsError::TooFewSamples {
            what: "authenticity real set (a nearest other real sample)",
            needed: 2,
            got: real.nrows(),
        });
    }
    if fake.nrows() == 0 {
        return Err(MetricsError::TooFewSamples {
            what: "authenticity generated set",
            needed: 1,
            got: 0,
        });
    }
    ensure_finite_matrix("authenticity real set", real)?;
    ensure_finite_matrix("authenticity generated set", fake)?;
    let real_norms = squared_norms(real);
    let fake_norms = squared_norms(fake);
    // Index 0 of each real row's two smallest is itself (0); index 1 the
    // nearest other, as dgm-eval's cdist with an infinite diagonal.
    let real_nearest_distance = nearest_distances(real, &real_norms, 2, BLOCK_ROWS).radii(1);
    let starts: Vec<usize> = (0..fake.nrows()).step_by(BLOCK_ROWS).collect();
    let nearest: Vec<(usize, f64)> = starts
        .par_iter()
        .flat_map_iter(|&start| {
            let end = (start + BLOCK_ROWS).min(fake.nrows());
            let dots = dot_products(fake.slice(s![start..end, ..]), real);
            let fake_norms = &fake_norms;
            let real_norms = &real_norms;
            (start..end)
                .zip(dots.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>())
                .map(move |(i, row)| {
                    // The first index of the smallest distance, as torch's min.
                    let mut best = (0, f64::INFINITY);
                    for (j, &dot) in row.iter().enumerate() {
                        let d = euclidean(dot, fake_norms[i], real_norms[j]);
                        if d < best.1 {
                            best = (j, d);
                        }
                    }
                    best
                })
        })
        .collect();
    let authentic: Vec<bool> = nearest
        .iter()
        .map(|&(j, d)| real_nearest_distance[j] < d)
        .collect();
    let count = authentic.iter().filter(|&&a| a).count();
    Ok(Authenticity {
        authpct: 100.0 * count as f64 / authentic.len() as f64,
        nearest_real: nearest.iter().map(|&(j, _)| j).collect(),
        distance: nearest.iter().map(|&(_, d)| d).collect(),
        real_nearest_distance,
        authentic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::fixtures::features;

    /// dgm-eval's definition with dense distances.
    fn dense(real: ArrayView2<'_, f64>, fake: ArrayView2<'_, f64>) -> (f64, Vec<usize>) {
        let d = |a: ndarray::ArrayView1<'_, f64>, b: ndarray::ArrayView1<'_, f64>| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt()
        };
        let real_nn: Vec<f64> = (0..real.nrows())
            .map(|i| {
                (0..real.nrows())
                    .filter(|&j| j != i)
                    .map(|j| d(real.row(i), real.row(j)))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        let mut nearest = Vec::new();
        let mut authentic = 0;
        for g in fake.outer_iter() {
            let (j, dist) = (0..real.nrows())
                .map(|j| (j, d(real.row(j), g)))
                .fold((0, f64::INFINITY), |b, c| if c.1 < b.1 { c } else { b });
            nearest.push(j);
            if real_nn[j] < dist {
                authentic += 1;
            }
        }
        (100.0 * authentic as f64 / fake.nrows() as f64, nearest)
    }

    #[test]
    fn equals_the_definition_on_random_sets() {
        let real = features(3, 300, 8, 1.0, 0.0);
        let fake = features(4, 270, 8, 1.0, 0.3);
        let got = authenticity(real.view(), fake.view()).unwrap();
        let (authpct, nearest) = dense(real.view(), fake.view());
        assert_eq!(got.authpct, authpct);
        assert_eq!(got.nearest_real, nearest);
        assert!(got.authpct > 0.0 && got.authpct < 100.0);
    }

    #[test]
    fn copies_are_at_distance_zero_and_not_authentic() {
        let real = features(5, 50, 6, 1.0, 0.0);
        let mut fake = features(6, 20, 6, 1.0, 0.0);
        for (k, j) in [(0usize, 7usize), (9, 31)] {
            let row = real.row(j).to_owned();
            fake.row_mut(k).assign(&row);
        }
        let got = authenticity(real.view(), fake.view()).unwrap();
        for (k, j) in [(0usize, 7usize), (9, 31)] {
            assert_eq!(got.nearest_real[k], j);
            assert!(got.distance[k] < 1e-7);
            assert!(!got.authentic[k]);
        }
    }

    #[test]
    fn bad_inputs_are_named() {
        let real = features(1, 1, 3, 1.0, 0.0);
        let fake = features(2, 4, 3, 1.0, 0.0);
        assert!(authenticity(real.view(), fake.view()).is_err());
        let real = features(1, 5, 4, 1.0, 0.0);
        let err = authenticity(real.view(), fake.view()).unwrap_err();
        assert!(err.to_string().contains("dimension"), "{err}");
    }
}
