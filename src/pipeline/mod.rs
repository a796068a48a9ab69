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
use batch::{fill_many, Batch, BatchRecipe};
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
    /// Each image that went through the model and the SHA-256 of its bytes,
    /// in list order (only when the recipe asks for digests).
    pub digests: Vec<(PathBuf, [u8; 32])>,
}

/// One network of a run: how its input is made, the network, and what is
/// kept of its outputs.
pub struct Stage<'a> {
    /// Resize, normalisation and layout for this network.
    pub recipe: &'a BatchRecipe,
    /// The network.
    pub extractor: &'a mut dyn FeatureExtractor,
    /// What is kept.
    pub collector: &'a mut Collector,
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
    let stage = Stage {
        recipe,
        extractor,
        collector,
    };
    Ok(run_stages(paths, &mut [stage], batch_size, on_batch)?
        .pop()
        .expect("one report per stage"))
}

/// Runs every path through several networks at once: each image is decoded
/// once (by the producer thread, rayon inside the batch), preprocessed for
/// each stage, and each stage's network runs on its batch. One report per
/// stage; the decoding time is in the first.
pub fn run_stages(
    paths: &[PathBuf],
    stages: &mut [Stage<'_>],
    batch_size: usize,
    on_batch: &mut dyn FnMut(usize),
) -> Result<Vec<RunStats>, PipelineError> {
    let batch_size = batch_size.max(1);
    let start = Instant::now();
    let mut reports: Vec<RunStats> = stages.iter().map(|_| RunStats::default()).collect();
    let recipes: Vec<&BatchRecipe> = stages.iter().map(|s| s.recipe).collect();
    std::thread::scope(|scope| -> Result<(), PipelineError> {
        let (sender, receiver) = sync_channel::<Result<Vec<Batch>, ImageError>>(BATCHES_IN_FLIGHT);
        let recipes = &recipes;
        scope.spawn(move || {
            for chunk in paths.chunks(batch_size) {
                let batches = fill_many(recipes, chunk);
                let failed = batches.is_err();
                if sender.send(batches).is_err() || failed {
                    break;
                }
            }
        });
        for batches in receiver {
            let batches = batches?;
            let n = batches[0].paths.len();
            let skipped = batches[0].skipped.len();
            for report in &mut reports {
                report.digests.extend(
                    batches[0]
                        .paths
                        .iter()
                        .cloned()
                        .zip(batches[0].digests.iter().copied()),
                );
            }
            for ((stage, report), batch) in stages.iter_mut().zip(&mut reports).zip(batches) {
                report.timing.decode_s += batch.decode_s;
                report.timing.preprocess_s += batch.preprocess_s;
                report.skipped.extend(batch.skipped);
                if n > 0 {
                    let started = Instant::now();
                    let out = stage.extractor.extract(&batch.data, n)?;
                    report.timing.inference_s += started.elapsed().as_secs_f64();
                    stage.collector.accept(
                        out.features.view(),
                        out.logits.as_ref().map(|l| l.view()),
                        &batch.paths,
                    )?;
                    report.images += n;
                }
            }
            on_batch(n + skipped);
        }
        Ok(())
    })?;
    let wall_s = start.elapsed().as_secs_f64();
    for report in &mut reports {
        report.timing.wall_s = wall_s;
        if report.images == 0 {
            return Err(PipelineError::NothingLeft(paths.len()));
        }
    }
    Ok(reports)
}
