//! The extraction stage: a side's images through a feature network.
//!
//! [`Extraction`] chooses the network once per command (a registered one
//! such as `fid-inception`, the built-in one, or an ONNX file: [`choose`]),
//! opens it on the first side that is images, runs each side through the
//! pipeline with a progress bar, and hands back what was asked for as typed
//! values ([`Extraction::rows`], [`Extraction::logits`], …). What was done
//! (network, mode, device, timings, skipped files) goes into the record
//! ([`provenance`]).

mod choose;
pub mod provenance;

use anyhow::{bail, Context, Result};
use ndarray::Array2;
use std::path::{Path, PathBuf};

use crate::backend::{FeatureExtractor, OnnxExtractor, OpenOptions};
use crate::cli::ExtractArgs;
use crate::files::side::is_images;
use crate::images::decode::{DecodeOptions, DEFAULT_MAX_PIXELS};
use crate::images::discover::{discover, DiscoverOptions};
use crate::pipeline::batch::BatchRecipe;
use crate::pipeline::{self, Collector, RunStats, Want};
use crate::preprocess::Preprocessor;
use crate::record::InputRecord;
use geneval_metrics::Moments;

use provenance::SideSummary;

/// One side's images through the model.
#[derive(Debug)]
pub struct ImageSide {
    /// The side as given.
    pub path: PathBuf,
    /// What was kept.
    pub collector: Collector,
    /// Counts, skipped files, timings.
    pub stats: RunStats,
    /// Width of a feature row, kept here because the typed accessors take
    /// the collector away.
    pub dim: Option<usize>,
}

/// The model, opened on first use and shared by every side of a command.
pub struct Extraction<'a> {
    args: &'a ExtractArgs,
    quiet: bool,
    extractor: Option<OnnxExtractor>,
    sides: Vec<SideSummary>,
    /// Warnings about the model for the record.
    notes: Vec<String>,
}

impl<'a> Extraction<'a> {
    /// Nothing is opened until a side needs it.
    pub fn new(args: &'a ExtractArgs, quiet: bool) -> Self {
        Extraction {
            args,
            quiet,
            extractor: None,
            sides: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn extractor(&mut self) -> Result<&mut OnnxExtractor> {
        if self.extractor.is_none() {
            let (source, overrides, model_id) = self.choose()?;
            let options = OpenOptions {
                spec_file: self.args.model_spec.clone(),
                overrides,
                device: self.args.device,
                threads: self.args.threads,
                ort_lib: self.args.ort_lib.clone(),
                model_id,
            };
            let extractor = OnnxExtractor::open(&source, &options)
                .with_context(|| format!("opening the model {}", source.display()))?;
            self.extractor = Some(extractor);
        }
        Ok(self.extractor.as_mut().expect("opened above"))
    }

    /// Lists `side`'s images and runs them through the model, keeping `want`.
    pub fn run(&mut self, side: &Path, want: Want, label: &str) -> Result<ImageSide> {
        let paths = discover(
            side,
            DiscoverOptions {
                recursive: self.args.recursive,
            },
        )?;
        let args = self.args;
        let quiet = self.quiet;
        let extractor = self.extractor()?;
        let spec = extractor.spec().clone();
        let preprocessor = Preprocessor::new(args.mode, spec.width, spec.height)?;
        let decode = DecodeOptions {
            max_pixels: args.max_pixels.unwrap_or(DEFAULT_MAX_PIXELS),
        };
        let recipe = BatchRecipe::for_spec(&spec, preprocessor, decode, args.skip_bad);
        let batch_size = match (args.batch_size, extractor.fixed_batch()) {
            (Some(0), _) => bail!("--batch-size must be at least 1"),
            (Some(b), _) => b,
            (None, Some(fixed)) => fixed,
            (None, None) => args.device.default_batch_size(),
        };
        let bar =
            crate::progress::images(paths.len() as u64, label, crate::progress::enabled(quiet));
        let mut collector = Collector::new(want);
        let stats = pipeline::run(
            &paths,
            &recipe,
            batch_size,
            extractor,
            &mut collector,
            &mut |n| bar.inc(n as u64),
        )
        .with_context(|| format!("extracting features of {}", side.display()))?;
        bar.finish_and_clear();
        self.sides.push(SideSummary {
            side: side.display().to_string(),
            images: stats.images,
            skipped: stats.skipped.iter().map(|e| e.to_string()).collect(),
            timing: stats.timing,
        });
        Ok(ImageSide {
            path: side.to_owned(),
            dim: collector.dim(),
            collector,
            stats,
        })
    }

    /// The model's id, if one was opened.
    pub fn model_id(&self) -> Option<&str> {
        self.extractor.as_ref().map(|e| e.model_id())
    }

    /// The spec's features output name, if a model was opened.
    pub fn feature_name(&self) -> Option<&str> {
        self.extractor.as_ref().map(|e| e.spec().features.as_str())
    }

    /// The feature rows of `side`'s images.
    pub fn rows(&mut self, side: &Path, label: &str) -> Result<(Array2<f32>, ImageSide)> {
        let (mut kept, side) = self.keep(side, label, Want::ROWS)?;
        Ok((kept.take_rows().expect(KEPT), side))
    }

    /// The logits of `side`'s images.
    pub fn logits(&mut self, side: &Path, label: &str) -> Result<(Array2<f32>, ImageSide)> {
        let (mut kept, side) = self.keep(side, label, Want::LOGITS)?;
        Ok((kept.take_logits().expect(KEPT), side))
    }

    /// The feature rows and the logits of `side`'s images.
    pub fn rows_and_logits(
        &mut self,
        side: &Path,
        label: &str,
    ) -> Result<(Array2<f32>, Array2<f32>, ImageSide)> {
        let want = Want {
            rows: true,
            logits: true,
            moments: false,
        };
        let (mut kept, side) = self.keep(side, label, want)?;
        let rows = kept.take_rows().expect(KEPT);
        Ok((rows, kept.take_logits().expect(KEPT), side))
    }

    /// The streaming moments of `side`'s features (no row is kept).
    pub fn moments(&mut self, side: &Path, label: &str) -> Result<(Moments, ImageSide)> {
        let (mut kept, side) = self.keep(side, label, Want::MOMENTS)?;
        Ok((kept.moments.take().expect(KEPT), side))
    }

    /// Runs `side` keeping `want`, and splits what was kept from the side's
    /// description. The pipeline refuses a side with no image, so what was
    /// asked for is there.
    fn keep(&mut self, side: &Path, label: &str, want: Want) -> Result<(Collector, ImageSide)> {
        let mut run = self.run(side, want, label)?;
        let kept = std::mem::replace(&mut run.collector, Collector::new(Want::default()));
        Ok((kept, run))
    }
}

/// Why the typed accessors may expect what they asked [`Extraction::run`] for.
const KEPT: &str = "the collector keeps what its Want asked for";

/// Feature rows of a side that is images or a `.npy` file, as f64 (KID and
/// PRDC keep every row), with the side's input record.
pub fn feature_rows(
    path: &Path,
    extraction: &mut Extraction<'_>,
    label: &str,
) -> Result<(ndarray::Array2<f64>, InputRecord)> {
    if is_images(path) {
        let (rows, side) = extraction.rows(path, label)?;
        Ok((rows.mapv(f64::from), side.input_record()))
    } else {
        let rows = crate::files::npy::read_features(path)
            .with_context(|| format!("reading the {label} features"))?;
        let record = crate::record::input_record(
            path,
            "features",
            Some(rows.nrows() as u64),
            Some(rows.ncols()),
        );
        Ok((rows, record))
    }
}
