//! Images to features, streaming: a producer thread fills batches (decoding
//! and preprocessing on rayon) and hands them over a bounded channel to the
//! model, which runs while the next batches decode. At most
//! [`BATCHES_IN_FLIGHT`] batches wait, so memory is bounded by the batch
//! size, not by the number of images; statistics accumulate per batch.

pub mod batch;
pub mod collect;

use std::path::PathBuf;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use crate::backend::{BackendError, FeatureExtractor};
use crate::images::ImageError;
use batch::{fill, Batch, BatchRecipe};
pub use collect::{Collector, Want};

/// Filled batches waiting for the model, besides the one it is running.
pub const BATCHES_IN_FLIGHT: usize = 2;

/// Why a pipeline stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// An image could not be read (without `--skip-bad`).
    #[error(transparent)]
    Input(#[from] ImageError),
    /// The model failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// Statistics failed.
    #[error(transparent)]
    Metrics(#[from] geneval_metrics::MetricsError),
    /// The model's output for an image is NaN or infinite.
    #[error("the model's {what} for {path} contain {value}")]
    NonFinite {
        /// The image.
        path: PathBuf,
        /// `features` or `logits`.
        what: &'static str,
        /// The first bad value.
        value: f32,
    },
    /// The model's outputs changed shape between batches, or lack what was asked.
    #[error("{0}")]
    Inconsistent(String),
    /// Every image was skipped.
    #[error("none of the {0} images could be read")]
    NothingLeft(usize),
}

impl PipelineError {
    /// What the user can do about it.
    pub(crate) fn hint_text(&self) -> Option<String> {
        match self {
            PipelineError::Input(e) => e.hint_text().map(str::to_owned),
            PipelineError::Backend(e) => Some(e.hint_text()),
            PipelineError::Metrics(_) => None,
            PipelineError::NonFinite { .. } => Some(
                "the image may be degenerate, or the model's spec (range, mean, std) may not fit it"
                    .into(),
            ),
            PipelineError::Inconsistent(_) => {
                Some("check the model's spec (MODEL.onnx.json or --model-spec)".into())
            }
            PipelineError::NothingLeft(_) => {
                Some("every file failed to decode: see the skipped list with --json".into())
            }
        }
    }
}

impl crate::diagnostics::Hint for PipelineError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        self.hint_text().map(Into::into)
    }
}

/// Seconds spent in each stage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    /// Decoding, CPU seconds summed over workers.
    pub decode_s: f64,
    /// Resizing and normalising, CPU seconds summed over workers.
    pub preprocess_s: f64,
    /// Waiting for the model (wall seconds on the consuming thread).
    pub inference_s: f64,
    /// Wall seconds from the first file to the last feature.
    pub wall_s: f64,
}

/// What a run did besides its features.
#[derive(Debug, Default)]
pub struct RunStats {
    /// Images that went through the model.
    pub images: usize,
    /// Files skipped with `skip_bad`, in path order.
    pub skipped: Vec<ImageError>,
    /// Stage times.
    pub timing: Timing,
}

/// Runs every path through `recipe` and `extractor` into `collector`, in
/// batches of `batch_size`; `on_batch(images)` is called after each batch
/// (progress bars).
pub fn run(
    paths: &[PathBuf],
    recipe: &BatchRecipe,
    batch_size: usize,
    extractor: &mut dyn FeatureExtractor,
    collector: &mut Collector,
    on_batch: &mut dyn FnMut(usize),
) -> Result<RunStats, PipelineError> {
    let batch_size = batch_size.max(1);
    let start = Instant::now();
    let mut report = RunStats::default();
    std::thread::scope(|scope| -> Result<(), PipelineError> {
        let (sender, receiver) = sync_channel::<Result<Batch, ImageError>>(BATCHES_IN_FLIGHT);
        scope.spawn(move || {
            for chunk in paths.chunks(batch_size) {
                let batch = fill(recipe, chunk);
                let failed = batch.is_err();
                // A closed channel means the consumer stopped on an error.
                if sender.send(batch).is_err() || failed {
                    break;
                }
            }
        });
        // Returning early drops the receiver, which stops the producer.
        for batch in receiver {
            let batch = batch?;
            let n = batch.paths.len();
            let skipped = batch.skipped.len();
            report.timing.decode_s += batch.decode_s;
            report.timing.preprocess_s += batch.preprocess_s;
            report.skipped.extend(batch.skipped);
            if n > 0 {
                let started = Instant::now();
                let out = extractor.extract(&batch.data, n)?;
                report.timing.inference_s += started.elapsed().as_secs_f64();
                collector.accept(
                    out.features.view(),
                    out.logits.as_ref().map(|l| l.view()),
                    &batch.paths,
                )?;
                report.images += n;
            }
            on_batch(n + skipped);
        }
        Ok(())
    })?;
    report.timing.wall_s = start.elapsed().as_secs_f64();
    if report.images == 0 {
        return Err(PipelineError::NothingLeft(paths.len()));
    }
    Ok(report)
}
