//! Turning an error chain into what the user reads: the message with its
//! context, then a `hint:` line saying what to do.

use crate::backend::runtime::RuntimeError;
use crate::backend::BackendError;
use crate::files::FileError;
use crate::fs::read::ReadError;
use crate::fs::WriteError;
use crate::images::ImageError;
use crate::pipeline::PipelineError;
use crate::preprocess::PreprocessError;
use geneval_metrics::MetricsError;
use std::borrow::Cow;

/// What the user can do about an error. Every error type of geneval
/// implements it beside its definition (the reports and metrics crates'
/// errors here), so the diagnostics ask one question of any error in a
/// chain, whatever the type.
pub trait Hint {
    /// The hint, when this error has one.
    fn hint(&self) -> Option<Cow<'static, str>>;
}

impl Hint for geneval_reports::ReportError {
    fn hint(&self) -> Option<Cow<'static, str>> {
        Some(geneval_reports::ReportError::hint(self).into())
    }
}

impl Hint for geneval_reports::ReadError {
    fn hint(&self) -> Option<Cow<'static, str>> {
        Some(geneval_reports::ReadError::hint(self).into())
    }
}

impl Hint for MetricsError {
    fn hint(&self) -> Option<Cow<'static, str>> {
        Some(metrics_hint(self).into())
    }
}

/// The error types that have hints, as [`Hint`], when `cause` is one.
fn as_hint<'e>(cause: &'e (dyn std::error::Error + 'static)) -> Option<&'e dyn Hint> {
    macro_rules! first_of {
        ($($t:ty),* $(,)?) => {
            $(if let Some(e) = cause.downcast_ref::<$t>() {
                return Some(e);
            })*
        };
    }
    first_of!(
        ImageError,
        FileError,
        ReadError,
        WriteError,
        MetricsError,
        RuntimeError,
        crate::generate::GenerateError,
        crate::generate::DisturbanceError,
        crate::networks::weights::pth::PthError,
        crate::networks::registry::ModelError,
        crate::text::TextError,
        BackendError,
        PipelineError,
        crate::gate::GateError,
        geneval_reports::ReportError,
        crate::record::RecordError,
        geneval_reports::ReadError,
        PreprocessError,
    );
    None
}

/// The hint of the first error in the chain that has one.
pub fn hint_for(error: &anyhow::Error) -> Option<String> {
    error
        .chain()
        .filter_map(as_hint)
        .find_map(|e| e.hint())
        .map(Cow::into_owned)
}

fn metrics_hint(e: &MetricsError) -> &'static str {
    match e {
        MetricsError::DimensionMismatch { .. } => {
            "both sides must be features of the same model layer (same dimension)"
        }
        MetricsError::TooFewSamples { .. } => {
            "give more samples, or lower the parameter that needs them"
        }
        MetricsError::NonFinite { .. } => {
            "the features contain NaN or Inf; check the model's output for that input"
        }
        MetricsError::InvalidParameter { .. } => "see `geneval <command> --help` for valid values",
        MetricsError::NotSquare { .. } => "sigma must be the D x D covariance of mu's D dimensions",
        MetricsError::NoConvergence { .. } => {
            "the statistics are badly conditioned; recompute them from more samples"
        }
    }
}

/// Prints `error: ...` with its causes and a `hint:` line to stderr.
pub fn print_error(error: &anyhow::Error) {
    eprintln!("error: {error:#}");
    let hint = hint_for(error).unwrap_or_else(|| "run `geneval --help` for usage".to_owned());
    eprintln!("hint: {hint}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordError;
    use std::path::PathBuf;

    #[test]
    fn the_first_error_with_a_hint_in_the_chain_gives_it() {
        let typed = RecordError::NotJsonl {
            path: PathBuf::from("r.txt"),
        };
        let expected = typed.hint().unwrap().into_owned();
        let chain = anyhow::Error::new(typed).context("appending the record");
        assert_eq!(hint_for(&chain), Some(expected));
        // Below a context of an untyped message, the typed cause still
        // answers; an error of no known type has no hint.
        let plain = anyhow::anyhow!("something else").context("outer");
        assert_eq!(hint_for(&plain), None);
        let metrics = anyhow::Error::new(MetricsError::NoConvergence { what: "sqrtm" });
        assert!(hint_for(&metrics).unwrap().contains("badly conditioned"));
    }
}
