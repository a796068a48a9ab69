//! Improved precision and recall (Kynkäänniemi et al. 2019), the k-NN
//! manifold metric that PRDC grew out of, with torch-fidelity's semantics.
//! Its k-NN balls and their counting are shared with PRDC (`neighbourhood`).

use crate::error::Result;
use crate::knn::BLOCK_ROWS;
use crate::neighbourhood::{neighbourhood_counts, validate, BallCounts, Neighbourhood};
use ndarray::ArrayView2;

/// The default neighbourhood size of [`improved_precision_recall`]
/// (Kynkäänniemi et al. 2019, torch-fidelity's `prc_neighborhood`).
pub const IMPROVED_PR_DEFAULT_K: usize = 3;

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
///
/// # Examples
///
/// The set of [`prdc`]'s hand-computed example: with closed balls fake 4,
/// at distance 1 from real 3 whose radius is 1, is now inside, and real 14
/// is inside fake 9's ball of radius 5:
///
/// ```
/// use geneval_metrics::prdc::improved_precision_recall;
/// use ndarray::array;
///
/// // One feature per sample; every distance is exact.
/// let real = array![[0.0], [2.0], [3.0], [13.0], [14.0]];
/// let fake = array![[1.0], [4.0], [9.0]];
/// let ipr = improved_precision_recall(real.view(), fake.view(), 1)?;
/// assert_eq!((ipr.precision, ipr.recall), (2.0 / 3.0, 1.0));
///
/// // torch-fidelity reports the same ratios rounded to float32.
/// assert_eq!(ipr.precision as f32, 0.6666667);
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
///
/// [`prdc`]: crate::prdc::prdc()
/// [`prdc_and_improved_precision_recall`]: crate::prdc::prdc_and_improved_precision_recall()
pub fn improved_precision_recall(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
) -> Result<ImprovedPrecisionRecall> {
    improved_precision_recall_with_block(real, fake, k, BLOCK_ROWS)
}

pub(crate) fn improved_precision_recall_with_block(
    real: ArrayView2<'_, f64>,
    fake: ArrayView2<'_, f64>,
    k: usize,
    block_rows: usize,
) -> Result<ImprovedPrecisionRecall> {
    validate(real, fake, &[("k", k)])?;
    let [counts] = neighbourhood_counts(real, fake, [Neighbourhood::improved(k)], block_rows);
    Ok(ImprovedPrecisionRecall::from_counts(&counts, k))
}

impl ImprovedPrecisionRecall {
    /// [`ImprovedPrecisionRecall`] from counts of closed balls of
    /// neighbourhood size `k`.
    pub(crate) fn from_counts(counts: &BallCounts, k: usize) -> Self {
        Self {
            precision: counts.fakes_in_real_balls as f64 / counts.n_fake as f64,
            recall: counts.reals_in_fake_balls as f64 / counts.n_real as f64,
            k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::fixtures::features;

    /// Values from torch-fidelity 0.4 on the `features` sets of
    /// `knn::fixtures` (its `features_1` is the fake set), as float32 means:
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
}
