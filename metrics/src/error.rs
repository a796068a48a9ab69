//! The one error type of the statistics core.
//!
//! Every variant carries what failed (which input, which dimension, which
//! parameter) so that the CLI can name the offending file around it without
//! re-deriving the reason.

/// Why a metric or statistic could not be computed.
///
/// # Examples
///
/// The variant carries what failed, and the message says it:
///
/// ```
/// use geneval_metrics::{MetricsError, Moments};
/// use ndarray::array;
///
/// let one_sample = Moments::from_features(array![[1.0, 2.0]].view())?;
/// let error = one_sample.gaussian().unwrap_err();
/// assert_eq!(error, MetricsError::TooFewSamples { what: "a covariance", needed: 2, got: 1 });
/// assert_eq!(error.to_string(), "a covariance needs at least 2 samples, got 1");
/// # Ok::<(), MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// Two inputs that must share a dimension do not.
    #[error("dimension mismatch in {what}: {left} vs {right}")]
    DimensionMismatch {
        /// What was being compared (e.g. "feature dimension").
        what: &'static str,
        /// The size on the first side.
        left: usize,
        /// The size on the second side.
        right: usize,
    },
    /// Too few samples for the statistic (e.g. a covariance needs 2).
    #[error("{what} needs at least {needed} samples, got {got}")]
    TooFewSamples {
        /// The statistic or input concerned.
        what: &'static str,
        /// The minimum number of samples.
        needed: usize,
        /// The number given.
        got: usize,
    },
    /// A NaN or infinite value where only finite numbers make sense.
    #[error("{what} contains a non-finite value ({value}) at row {row}, column {column}")]
    NonFinite {
        /// The input concerned.
        what: &'static str,
        /// Row of the first offending value (0 for vectors).
        row: usize,
        /// Column of the first offending value.
        column: usize,
        /// The offending value.
        value: f64,
    },
    /// A parameter outside its domain.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A matrix that must be square and symmetric is not.
    #[error("{what} must be a symmetric {expected}x{expected} matrix, got {rows}x{columns}")]
    NotSquare {
        /// The matrix concerned.
        what: &'static str,
        /// The expected side length.
        expected: usize,
        /// Rows given.
        rows: usize,
        /// Columns given.
        columns: usize,
    },
    /// An iterative linear-algebra routine did not converge.
    #[error("eigendecomposition of {what} did not converge")]
    NoConvergence {
        /// The matrix concerned.
        what: &'static str,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = MetricsError> = std::result::Result<T, E>;
