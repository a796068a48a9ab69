//! A bootstrap interval for FID: how much the distance moves when each
//! side's samples are redrawn with replacement. FID is biased by the sample
//! size, so this says how *repeatable* a number is at this size (what a
//! CI gate needs to tell a regression from noise), not how far it is from
//! the infinite-sample FID.

use ndarray::{ArrayView2, Axis};

use crate::numpy_random::RandomState;
use crate::{frechet_distance, MetricsError, Moments, Result};

/// The bootstrap distribution of FID and its percentile interval, from
/// [`frechet_bootstrap`].
#[derive(Debug, Clone, PartialEq)]
pub struct FrechetBootstrap {
    /// FID of every replicate, in draw order.
    pub replicates: Vec<f64>,
    /// Lower end of the interval (percentile `(1 − level)/2`).
    pub low: f64,
    /// Upper end (percentile `(1 + level)/2`).
    pub high: f64,
    /// Standard deviation of the replicates (ddof 1).
    pub std: f64,
    /// The interval's level, e.g. 0.95.
    pub level: f64,
}

/// numpy's default `percentile` (linear interpolation between order statistics).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
}

/// `n` indices drawn with replacement: `floor(u·n)` for numpy's
/// `RandomState.random_sample()` draws `u`, so a Python reference draws the
/// same ones with `np.floor(rs.random_sample(n) * n)`.
fn draw(rng: &mut RandomState, n: usize) -> Vec<usize> {
    (0..n)
        .map(|_| ((rng.random_sample() * n as f64) as usize).min(n - 1))
        .collect()
}

/// FID of `replicates` resampled pairs: for each, `a`'s rows then `b`'s rows
/// are drawn with replacement from one `RandomState(seed)`; the interval is
/// the central `level` of the replicates.
///
/// A Python reference draws the same rows with
/// `rs = np.random.RandomState(seed)`, then per replicate
/// `np.floor(rs.random_sample(n_a) * n_a)` and the same for `b`; the interval
/// is numpy's default (linear) `percentile` and `std` has ddof 1.
///
/// # Errors
///
/// [`MetricsError::InvalidParameter`] for fewer than 2 replicates or a
/// `level` outside (0, 1), and any error of [`Moments::from_features`] or
/// [`frechet_distance`] on the drawn rows (e.g. a side of one sample).
///
/// # Examples
///
/// A set against a copy moved by 10 along one axis has FID 100; redrawing
/// the samples moves it by a couple of units at 50 samples per side:
///
/// ```
/// use geneval_metrics::numpy_random::RandomState;
/// use geneval_metrics::{frechet_bootstrap, frechet_distance_from_features};
/// use ndarray::{array, Array2};
///
/// let mut rng = RandomState::new(1);
/// let real = Array2::from_shape_simple_fn((50, 2), || rng.random_sample());
/// let fake = &real + &array![10.0, 0.0];
/// let fid = frechet_distance_from_features(real.view(), fake.view())?.value;
/// assert!((fid - 100.0).abs() < 1e-9);
///
/// let boot = frechet_bootstrap(real.view(), fake.view(), 100, 0.9, 2020)?;
/// assert_eq!((boot.replicates.len(), boot.level), (100, 0.9));
/// assert!(boot.low < fid && fid < boot.high);
/// assert!(boot.replicates.iter().all(|&r| (90.0..110.0).contains(&r)));
/// assert!(boot.std > 0.0 && boot.std < 5.0);
/// // Seeded: the same seed draws the same replicates.
/// assert_eq!(frechet_bootstrap(real.view(), fake.view(), 100, 0.9, 2020)?, boot);
/// # Ok::<(), geneval_metrics::MetricsError>(())
/// ```
pub fn frechet_bootstrap(
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
    replicates: usize,
    level: f64,
    seed: u32,
) -> Result<FrechetBootstrap> {
    if replicates < 2 {
        return Err(MetricsError::InvalidParameter {
            name: "replicates",
            reason: format!("at least 2 needed, got {replicates}"),
        });
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(MetricsError::InvalidParameter {
            name: "level",
            reason: format!("must be in (0, 1), got {level}"),
        });
    }
    let mut rng = RandomState::new(seed);
    // Grown as replicates are computed, not reserved up front: the count
    // comes from the command line, and `with_capacity(usize::MAX)` panics
    // before a single replicate is drawn.
    let mut values = Vec::new();
    for _ in 0..replicates {
        let ia = draw(&mut rng, a.nrows());
        let ib = draw(&mut rng, b.nrows());
        let ga = Moments::from_features(a.select(Axis(0), &ia).view())?.gaussian()?;
        let gb = Moments::from_features(b.select(Axis(0), &ib).view())?.gaussian()?;
        values.push(frechet_distance(&ga, &gb)?.value);
    }
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let mean = values.iter().sum::<f64>() / replicates as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (replicates - 1) as f64;
    Ok(FrechetBootstrap {
        low: percentile(&sorted, (1.0 - level) / 2.0),
        high: percentile(&sorted, (1.0 + level) / 2.0),
        std: var.sqrt(),
        level,
        replicates: values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn percentile_matches_numpy_linear() {
        // np.percentile([1, 2, 3, 4], [2.5, 50, 97.5]) = [1.075, 2.5, 3.925]
        let s = [1.0, 2.0, 3.0, 4.0];
        assert!((percentile(&s, 0.025) - 1.075).abs() < 1e-12);
        assert!((percentile(&s, 0.5) - 2.5).abs() < 1e-12);
        assert!((percentile(&s, 0.975) - 3.925).abs() < 1e-12);
    }

    #[test]
    fn a_huge_replicate_count_fails_on_the_data_not_on_a_reservation() {
        // `--bootstrap 18446744073709551615` once panicked with "capacity
        // overflow" in `Vec::with_capacity`; with one sample per side the
        // first replicate's statistics fail instead, as an error.
        let a = Array2::<f64>::zeros((1, 2));
        let got = frechet_bootstrap(a.view(), a.view(), usize::MAX, 0.9, 0);
        assert!(got.is_err());
    }

    #[test]
    fn a_replicate_is_the_fid_of_the_drawn_rows() {
        let mut rng = RandomState::new(7);
        let a = Array2::from_shape_fn((40, 3), |_| rng.random_sample());
        let b = Array2::from_shape_fn((30, 3), |_| rng.random_sample() + 0.2);
        let boot = frechet_bootstrap(a.view(), b.view(), 5, 0.9, 3).unwrap();
        let mut rng = RandomState::new(3);
        let ia = draw(&mut rng, 40);
        let ib = draw(&mut rng, 30);
        let ga = Moments::from_features(a.select(Axis(0), &ia).view())
            .unwrap()
            .gaussian()
            .unwrap();
        let gb = Moments::from_features(b.select(Axis(0), &ib).view())
            .unwrap()
            .gaussian()
            .unwrap();
        assert_eq!(
            boot.replicates[0],
            frechet_distance(&ga, &gb).unwrap().value
        );
        assert!(boot.low <= boot.high && boot.std > 0.0);
        assert!(frechet_bootstrap(a.view(), b.view(), 1, 0.9, 3).is_err());
        assert!(frechet_bootstrap(a.view(), b.view(), 5, 1.0, 3).is_err());
    }
}
