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

/// The hint for the first error in the chain that has one.
pub fn hint_for(error: &anyhow::Error) -> Option<String> {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<ImageError>() {
            if let Some(h) = e.hint() {
                return Some(h.to_owned());
            }
        }
        if let Some(e) = cause.downcast_ref::<FileError>() {
            if let Some(h) = e.hint() {
                return Some(h.to_owned());
            }
        }
        if let Some(e) = cause.downcast_ref::<ReadError>() {
            return Some(e.hint().to_owned());
        }
        if let Some(e) = cause.downcast_ref::<WriteError>() {
            return Some(e.hint().to_owned());
        }
        if let Some(e) = cause.downcast_ref::<MetricsError>() {
            return Some(metrics_hint(e).to_owned());
        }
        if let Some(e) = cause.downcast_ref::<RuntimeError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<crate::generate::GenerateError>() {
            if let Some(h) = e.hint() {
                return Some(h);
            }
        }
        if let Some(e) = cause.downcast_ref::<crate::generate::DisturbanceError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<crate::networks::weights::pth::PthError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<crate::networks::registry::ModelError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<crate::text::TextError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<BackendError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<PipelineError>() {
            if let Some(h) = e.hint() {
                return Some(h);
            }
        }
        if let Some(e) = cause.downcast_ref::<crate::gate::GateError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<geneval_reports::ReportError>() {
            return Some(e.hint().to_owned());
        }
        if let Some(e) = cause.downcast_ref::<crate::record::RecordError>() {
            return Some(e.hint().to_owned());
        }
        if let Some(e) = cause.downcast_ref::<geneval_reports::ReadError>() {
            return Some(e.hint().to_owned());
        }
        if let Some(e) = cause.downcast_ref::<PreprocessError>() {
            return Some(format!(
                "{e}: the model's input size in its spec must be positive"
            ));
        }
    }
    None
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
