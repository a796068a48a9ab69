//! Inception Score (Salimans et al., 2016, "Improved Techniques for Training
//! GANs"), computed exactly as torch-fidelity 0.4's `isc_features_to_metric`.
//!
//! # Formula
//!
//! With `p_i = softmax(logits_i)` the class distribution of sample `i`, the
//! samples are cut into `splits` contiguous chunks; split `s` covers rows
//! `[s·N/splits, (s+1)·N/splits)` (integer division, so sizes differ by at
//! most one) and scores
//!
//! ```text
//! IS_s = exp( mean_{i in s} KL(p_i ‖ q_s) ),   q_s = mean_{i in s} p_i,
//! KL(p ‖ q) = Σ_c p_c (log p_c − log q_c).
//! ```
//!
//! The reported value is the mean of the `IS_s` and their standard deviation
//! with **ddof 0** (`np.std`).
//!
//! # Defaults and why
//!
//! * `splits = 10`, as in the paper, torch-fidelity and every published IS.
//! * `shuffle_seed = Some(2020)`: torch-fidelity shuffles the rows with
//!   `np.random.RandomState(2020).permutation(N)` before splitting, so which
//!   samples share a split (and thus the number) depends on that exact
//!   permutation; [`crate::numpy_random::RandomState`] reproduces it bit for
//!   bit. `None` keeps the given order (torch-fidelity's `samples_shuffle=False`).
//!
//! # Inputs and precision
//!
//! Rows are samples, columns classes, and the values are **logits** (the
//! pre-softmax `logits_unbiased` output of the Inception network), not
//! probabilities: as torch-fidelity does after `.double()`, `softmax` and
//! `log_softmax` are computed in f64 from the logits with the row maximum
//! subtracted, `log p = (x − max) − ln Σ exp(x − max)`, which keeps tiny
//! probabilities' logarithms finite instead of `ln(0) = −∞`.
//!
//! One deliberate difference: a class whose probability underflows to exactly
//! 0 in every row of a split has `q_c = 0`, where torch-fidelity computes
//! `0 · (finite − (−∞)) = NaN` and reports NaN. Here such terms contribute
//! their limit, 0. Whenever torch-fidelity's result is finite the two agree.
//!
//! There is no streaming accumulator: the shuffle needs all `N` samples
//! before the first split is known.

use crate::error::{MetricsError, Result};
use crate::finite::ensure_finite_matrix;
use crate::numpy_random::RandomState;
use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

/// How the Inception Score is computed.
///
/// # Examples
///
/// ```
/// use geneval_metrics::inception_score::InceptionScoreSettings;
///
/// // torch-fidelity's defaults: 10 splits, rows shuffled by RandomState(2020).
/// let defaults = InceptionScoreSettings::default();
/// assert_eq!((defaults.splits, defaults.shuffle_seed), (10, Some(2020)));
///
/// // One split over the rows in their given order.
/// let whole = InceptionScoreSettings { splits: 1, shuffle_seed: None };
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct InceptionScoreSettings {
    /// Number of splits the samples are cut into (default 10).
    pub splits: usize,
    /// Seed of numpy's `RandomState` whose `permutation(N)` shuffles the rows
    /// before splitting; `None` keeps the input order (default `Some(2020)`,
    /// torch-fidelity's `rng_seed`).
    pub shuffle_seed: Option<u32>,
}

impl Default for InceptionScoreSettings {
    fn default() -> Self {
        Self {
            splits: 10,
            shuffle_seed: Some(2020),
        }
    }
}

/// An Inception Score with its per-split values.
#[derive(Debug, Clone, PartialEq)]
pub struct InceptionScore {
    /// Mean of the split scores (torch-fidelity's `inception_score_mean`).
    pub mean: f64,
    /// Standard deviation (ddof 0) of the split scores
    /// (torch-fidelity's `inception_score_std`).
    pub std: f64,
    /// `exp(mean KL(p_i ‖ q_s))` of each split, in split order.
    pub split_scores: Vec<f64>,
    /// Number of samples (rows) used.
    pub samples: usize,
}

/// The Inception Score of `logits` (rows samples, columns classes), as
/// torch-fidelity 0.4's `isc_features_to_metric`; see the module docs.
///
/// Fails on a non-finite logit, on zero classes, on `splits == 0`, and with
/// [`MetricsError::TooFewSamples`] when there are fewer samples than splits
/// (torch-fidelity would average an empty split and report NaN).
///
/// # Examples
///
/// A network that cannot tell the classes apart (equal logits, so every
/// `p_i` is uniform and equals `q`) scores exactly 1, the minimum:
///
/// ```
/// use geneval_metrics::inception_score::{inception_score, InceptionScoreSettings};
/// use ndarray::Array2;
///
/// let unsure = Array2::<f64>::zeros((20, 1008));
/// let is = inception_score(unsure.view(), &InceptionScoreSettings::default())?;
/// assert_eq!((is.mean, is.std), (1.0, 0.0));
/// assert_eq!((is.split_scores.len(), is.samples), (10, 20));
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
///
/// Confident and diverse predictions score up to the number of classes:
/// ten samples, each sure of a different one of 10 classes, give
/// `exp(KL(one-hot ‖ uniform)) = exp(ln 10) = 10`:
///
/// ```
/// use geneval_metrics::inception_score::{inception_score, InceptionScoreSettings};
/// use ndarray::Array2;
///
/// let sure = Array2::<f64>::eye(10) * 100.0; // logits: one class far ahead
/// let settings = InceptionScoreSettings { splits: 1, shuffle_seed: None };
/// let is = inception_score(sure.view(), &settings)?;
/// assert!((is.mean - 10.0).abs() < 1e-9);
///
/// // Fewer samples than splits cannot be split.
/// assert!(inception_score(sure.view(), &InceptionScoreSettings { splits: 11, ..settings }).is_err());
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub fn inception_score(
    logits: ArrayView2<'_, f64>,
    settings: &InceptionScoreSettings,
) -> Result<InceptionScore> {
    let (samples, classes) = logits.dim();
    let splits = settings.splits;
    if splits == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "splits",
            reason: "the Inception Score needs at least one split".to_owned(),
        });
    }
    if classes == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "logits",
            reason: "zero classes (columns); pass the classifier's logits".to_owned(),
        });
    }
    if samples < splits {
        return Err(MetricsError::TooFewSamples {
            what: "Inception Score (one per split)",
            needed: splits,
            got: samples,
        });
    }
    ensure_finite_matrix("logits", logits)?;

    let order: Vec<usize> = match settings.shuffle_seed {
        Some(seed) => RandomState::new(seed).permutation(samples),
        None => (0..samples).collect(),
    };

    let split_scores: Vec<f64> = (0..splits)
        .into_par_iter()
        .map(|s| {
            let rows = &order[s * samples / splits..(s + 1) * samples / splits];
            split_score(logits, rows)
        })
        .collect();

    let (mean, std) = mean_and_std(&split_scores);
    Ok(InceptionScore {
        mean,
        std,
        split_scores,
        samples,
    })
}

/// Row maximum and `ln Σ exp(x − max)` of one logit row: `log_softmax(x) =
/// x − max − log_sum`, `softmax(x) = exp(x − max) / exp(log_sum)`.
fn row_normaliser(row: ArrayView1<'_, f64>) -> (f64, f64) {
    let max = row.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
    let sum: f64 = row.iter().map(|&x| (x - max).exp()).sum();
    (max, sum)
}

/// `exp(mean_i KL(p_i ‖ q))` over the given (non-empty) rows.
///
/// Two passes recompute the softmax instead of storing an `N × C` matrix of
/// probabilities: the first sums `p_i` into `q`, the second sums the KLs.
fn split_score(logits: ArrayView2<'_, f64>, rows: &[usize]) -> f64 {
    let classes = logits.ncols();
    let count = rows.len() as f64;

    let mut q = vec![0.0f64; classes];
    for &r in rows {
        let row = logits.row(r);
        let (max, sum) = row_normaliser(row);
        for (qc, &x) in q.iter_mut().zip(row.iter()) {
            *qc += (x - max).exp() / sum;
        }
    }
    let log_q: Vec<f64> = q.iter().map(|&qc| (qc / count).ln()).collect();

    let mut kl_sum = 0.0f64;
    for &r in rows {
        let row = logits.row(r);
        let (max, sum) = row_normaliser(row);
        let log_sum = sum.ln();
        let mut kl = 0.0f64;
        for (&lq, &x) in log_q.iter().zip(row.iter()) {
            let shifted = x - max;
            let p = shifted.exp() / sum;
            // p == 0 contributes its limit 0, also when log q = −∞.
            if p > 0.0 {
                kl += p * ((shifted - log_sum) - lq);
            }
        }
        kl_sum += kl;
    }
    (kl_sum / count).exp()
}

/// Mean and population standard deviation (ddof 0, as `np.std`).
fn mean_and_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|&v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Axis};

    /// The small deterministic matrix of the numpy reference below.
    fn reference_logits() -> Array2<f64> {
        Array2::from_shape_fn((23, 5), |(i, j)| ((i * 5 + j * 3) % 11) as f64 * 0.37 - 1.0)
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn matches_numpy_reimplementation_of_torch_fidelity() {
        // Expected values from a numpy transcription of torch-fidelity's
        // isc_features_to_metric (torch ops replaced by numpy, all f64):
        //   x = np.array([[((i*5 + j*3) % 11) * 0.37 - 1.0 for j in range(5)] for i in range(23)])
        //   x = x[np.random.RandomState(2020).permutation(23)]          # shuffle=True
        //   t = x - x.max(1, keepdims=True); s = np.exp(t).sum(1, keepdims=True)
        //   p, lp = np.exp(t) / s, t - np.log(s)
        //   sc = [np.exp((p[i*23//4:(i+1)*23//4] * (lp[i*23//4:(i+1)*23//4]
        //         - np.log(p[i*23//4:(i+1)*23//4].mean(0, keepdims=True)))).sum(1).mean())
        //         for i in range(4)]
        //   print(np.mean(sc), np.std(sc), sc)
        let x = reference_logits();
        let settings = InceptionScoreSettings {
            splits: 4,
            shuffle_seed: Some(2020),
        };
        let got = inception_score(x.view(), &settings).unwrap();
        let expected = [
            1.461769549198238,
            1.450333245319055,
            1.4645150921046721,
            1.4645150921046721,
        ];
        for (g, e) in got.split_scores.iter().zip(expected) {
            assert!(rel(*g, e) < 1e-12, "{g} vs {e}");
        }
        assert!(rel(got.mean, 1.4602832446816592) < 1e-12);
        assert!(rel(got.std, 0.0058529619351049555) < 1e-9);
        assert_eq!(got.samples, 23);

        // The same without shuffling, 3 splits (sizes 7, 8, 8).
        let settings = InceptionScoreSettings {
            splits: 3,
            shuffle_seed: None,
        };
        let got = inception_score(x.view(), &settings).unwrap();
        let expected = [1.5627291035398079, 1.536325947474014, 1.5476467327370533];
        for (g, e) in got.split_scores.iter().zip(expected) {
            assert!(rel(*g, e) < 1e-12, "{g} vs {e}");
        }
        assert!(rel(got.mean, 1.548900594583625) < 1e-12);
        assert!(rel(got.std, 0.010815445427917188) < 1e-9);
    }

    #[test]
    fn uniform_logits_score_one() {
        let x = Array2::from_elem((40, 7), 3.25);
        let got = inception_score(x.view(), &InceptionScoreSettings::default()).unwrap();
        assert!((got.mean - 1.0).abs() < 1e-12);
        assert!(got.std < 1e-12);
        assert_eq!(got.split_scores.len(), 10);
    }

    #[test]
    fn confident_balanced_classes_score_class_count() {
        // Each split holds every class equally often with a near-one-hot
        // prediction: KL(p_i ‖ q) -> ln C, so IS -> C.
        let classes = 8;
        let splits = 5;
        let x = Array2::from_shape_fn((classes * splits * 3, classes), |(i, j)| {
            if i % classes == j {
                60.0
            } else {
                0.0
            }
        });
        let settings = InceptionScoreSettings {
            splits,
            shuffle_seed: None,
        };
        let got = inception_score(x.view(), &settings).unwrap();
        assert!((got.mean - classes as f64).abs() < 1e-9, "{}", got.mean);
        assert!(got.std < 1e-9);
    }

    #[test]
    fn order_within_a_split_does_not_matter() {
        let x = reference_logits();
        let settings = InceptionScoreSettings {
            splits: 1,
            shuffle_seed: None,
        };
        let a = inception_score(x.view(), &settings).unwrap();
        let mut reversed = x.clone();
        reversed.invert_axis(Axis(0));
        let b = inception_score(reversed.view(), &settings).unwrap();
        assert!(rel(a.mean, b.mean) < 1e-12);
    }

    #[test]
    fn shuffle_equals_permuting_the_rows_first() {
        let x = reference_logits();
        let perm = RandomState::new(99).permutation(x.nrows());
        let permuted = x.select(Axis(0), &perm);
        let shuffled = inception_score(
            x.view(),
            &InceptionScoreSettings {
                splits: 4,
                shuffle_seed: Some(99),
            },
        )
        .unwrap();
        let manual = inception_score(
            permuted.view(),
            &InceptionScoreSettings {
                splits: 4,
                shuffle_seed: None,
            },
        )
        .unwrap();
        assert_eq!(shuffled, manual);
    }

    #[test]
    fn extreme_logits_stay_finite() {
        // Probabilities underflow to 0 for some classes in whole splits.
        let x = Array2::from_shape_fn((20, 3), |(i, j)| if j == i % 2 { 2000.0 } else { -2000.0 });
        let got = inception_score(
            x.view(),
            &InceptionScoreSettings {
                splits: 2,
                shuffle_seed: None,
            },
        )
        .unwrap();
        assert!((got.mean - 2.0).abs() < 1e-12, "{}", got.mean);
    }

    #[test]
    fn rejects_bad_inputs() {
        let x = reference_logits();
        let zero = InceptionScoreSettings {
            splits: 0,
            shuffle_seed: None,
        };
        assert!(matches!(
            inception_score(x.view(), &zero),
            Err(MetricsError::InvalidParameter { name: "splits", .. })
        ));
        let many = InceptionScoreSettings {
            splits: 24,
            shuffle_seed: None,
        };
        assert!(matches!(
            inception_score(x.view(), &many),
            Err(MetricsError::TooFewSamples {
                needed: 24,
                got: 23,
                ..
            })
        ));
        let empty = Array2::<f64>::zeros((30, 0));
        assert!(matches!(
            inception_score(empty.view(), &InceptionScoreSettings::default()),
            Err(MetricsError::InvalidParameter { name: "logits", .. })
        ));
        let mut bad = x.clone();
        bad[[4, 2]] = f64::NAN;
        assert!(matches!(
            inception_score(bad.view(), &InceptionScoreSettings::default()),
            Err(MetricsError::NonFinite {
                row: 4,
                column: 2,
                ..
            })
        ));
    }
}
