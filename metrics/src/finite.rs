//! Finite-value checks shared by every metric.
//!
//! A single NaN silently poisons a covariance or a kernel mean, so inputs are
//! checked once at the boundary and the first offending position is reported.

use crate::error::{MetricsError, Result};
use ndarray::{ArrayView1, ArrayView2};

/// Fails with [`MetricsError::NonFinite`] at the first NaN or infinity of `m`.
///
/// `what` names the input in the error. Values are visited in logical
/// order (row by row), whatever the memory layout.
///
/// # Examples
///
/// ```
/// use geneval_metrics::finite::ensure_finite_matrix;
/// use geneval_metrics::MetricsError;
/// use ndarray::array;
///
/// assert!(ensure_finite_matrix("features", array![[1.0, 2.0], [3.0, 4.0]].view()).is_ok());
/// let bad = array![[1.0, 2.0], [f64::INFINITY, f64::NAN]];
/// assert!(matches!(
///     ensure_finite_matrix("features", bad.view()),
///     Err(MetricsError::NonFinite { what: "features", row: 1, column: 0, .. })
/// ));
/// ```
pub fn ensure_finite_matrix(what: &'static str, m: ArrayView2<'_, f64>) -> Result<()> {
    for ((row, column), &value) in m.indexed_iter() {
        if !value.is_finite() {
            return Err(MetricsError::NonFinite {
                what,
                row,
                column,
                value,
            });
        }
    }
    Ok(())
}

/// Fails with [`MetricsError::NonFinite`] at the first NaN or infinity of `v`
/// (reported at row 0).
///
/// # Examples
///
/// ```
/// use geneval_metrics::finite::ensure_finite_vector;
/// use geneval_metrics::MetricsError;
/// use ndarray::array;
///
/// let error = ensure_finite_vector("mu", array![0.0, f64::NAN].view()).unwrap_err();
/// assert!(matches!(error, MetricsError::NonFinite { row: 0, column: 1, .. }));
/// assert_eq!(
///     error.to_string(),
///     "mu contains a non-finite value (NaN) at row 0, column 1"
/// );
/// ```
pub fn ensure_finite_vector(what: &'static str, v: ArrayView1<'_, f64>) -> Result<()> {
    for (column, &value) in v.indexed_iter() {
        if !value.is_finite() {
            return Err(MetricsError::NonFinite {
                what,
                row: 0,
                column,
                value,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn reports_first_nan_position() {
        let m = array![[1.0, 2.0], [3.0, f64::NAN]];
        let err = ensure_finite_matrix("features", m.view()).unwrap_err();
        assert!(matches!(
            err,
            MetricsError::NonFinite {
                row: 1,
                column: 1,
                ..
            }
        ));
    }

    #[test]
    fn accepts_finite() {
        assert!(ensure_finite_vector("mu", array![0.0, -1e300].view()).is_ok());
        assert!(ensure_finite_vector("mu", array![f64::INFINITY].view()).is_err());
    }
}
