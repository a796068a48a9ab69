//! What every command that reads image folders shares: deciding whether a
//! side is images or a file, opening the model once for both sides, running
//! the pipeline with a progress bar, and writing what was done into the
//! record (model, mode, device, timings, skipped files).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

use crate::backend::SpecOverrides;
use crate::backend::{builtin, FeatureExtractor, ModelSource, OnnxExtractor, OpenOptions};
use crate::cli::ExtractArgs;
use crate::input::decode::{DecodeOptions, DEFAULT_MAX_PIXELS};
use crate::input::discover::{discover, list_file_path, DiscoverOptions};
use crate::pipeline::batch::BatchRecipe;
use crate::pipeline::{self, Collector, Report, Want};
use crate::preprocess::Preprocessor;
use crate::record::{InputRecord, ResultRecord};

/// The note every result made with the built-in network carries.
pub const BUILTIN_NOTE: &str = "features from geneval's built-in network (a fixed random convolutional net): fine for comparing runs with each other and for CI gates, NOT comparable with published FID/IS/KID numbers";

/// Whether a command-line side names images (a folder or `@list.txt`)
/// rather than a statistics or features file.
pub fn is_images(side: &Path) -> bool {
    list_file_path(side).is_some() || side.is_dir()
}

/// One side's images through the model.
#[derive(Debug)]
pub struct ImageSide {
    /// The side as given.
    pub path: PathBuf,
    /// What was kept.
    pub collector: Collector,
    /// Counts, skipped files, timings.
    pub report: Report,
    /// Files listed.
    pub listed: usize,
}

impl ImageSide {
    /// The input record of this side.
    pub fn input_record(&self) -> InputRecord {
        InputRecord {
            path: self.path.display().to_string(),
            kind: "images".into(),
            count: Some(self.report.images as u64),
            dim: self.collector.dim(),
            sha256: None,
        }
    }
}

/// The model, opened on first use and shared by every side of a command.
pub struct Extraction<'a> {
    args: &'a ExtractArgs,
    quiet: bool,
    extractor: Option<OnnxExtractor>,
    sides: Vec<SideSummary>,
}

/// What the record says about one side's extraction.
#[derive(Debug)]
struct SideSummary {
    side: String,
    images: usize,
    skipped: Vec<String>,
    timing: pipeline::Timing,
}

impl<'a> Extraction<'a> {
    /// Nothing is opened until a side needs it.
    pub fn new(args: &'a ExtractArgs, quiet: bool) -> Self {
        Extraction {
            args,
            quiet,
            extractor: None,
            sides: Vec::new(),
        }
    }

    fn source(&self) -> Result<ModelSource> {
        match &self.args.model {
            Some(model) => Ok(ModelSource::parse(model)),
            None => bail!(
                "image folders need a feature model: pass --model builtin (geneval's own network, no download; not comparable with published FID) or --model PATH.onnx"
            ),
        }
    }

    fn extractor(&mut self) -> Result<&mut OnnxExtractor> {
        if self.extractor.is_none() {
            let source = self.source()?;
            let options = OpenOptions {
                spec_file: self.args.model_spec.clone(),
                overrides: SpecOverrides {
                    features: self.args.features_output.clone(),
                    logits: self.args.logits_output.clone(),
                    ..SpecOverrides::default()
                },
                device: self.args.device,
                threads: self.args.threads,
                ort_lib: self.args.ort_lib.clone(),
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
        let report = pipeline::run(
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
            images: report.images,
            skipped: report.skipped.iter().map(|e| e.to_string()).collect(),
            timing: report.timing,
        });
        Ok(ImageSide {
            path: side.to_owned(),
            collector,
            report,
            listed: paths.len(),
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

    /// Writes the model, preprocessing, device, timings and skipped files
    /// into `record`; nothing when no side was images.
    pub fn describe(&self, record: &mut ResultRecord) {
        let Some(extractor) = &self.extractor else {
            return;
        };
        record.device = self.args.device.to_string();
        record
            .setting("model", self.args.model.clone().unwrap_or_default())
            .setting("model_id", extractor.model_id())
            .setting("features_output", extractor.spec().features.as_str())
            .setting("mode", self.args.mode.as_str())
            .setting(
                "input_size",
                format!("{}x{}", extractor.spec().width, extractor.spec().height),
            );
        if extractor.model_id() == builtin::BUILTIN_ID {
            record.warnings.push(BUILTIN_NOTE.into());
        }
        let mut images = 0;
        let (mut decode, mut preprocess, mut inference, mut wall) = (0.0, 0.0, 0.0, 0.0);
        let mut skipped = Vec::new();
        for side in &self.sides {
            images += side.images;
            decode += side.timing.decode_s;
            preprocess += side.timing.preprocess_s;
            inference += side.timing.inference_s;
            wall += side.timing.wall_s;
            if !side.skipped.is_empty() {
                record.warnings.push(format!(
                    "{}: skipped {} unreadable file(s) (--skip-bad): {}",
                    side.side,
                    side.skipped.len(),
                    side.skipped.join("; ")
                ));
            }
            skipped.extend(side.skipped.iter().cloned());
        }
        record
            .set("images", images as f64)
            .set("images_per_s", images as f64 / wall.max(f64::MIN_POSITIVE))
            .set("decode_cpu_s", decode)
            .set("preprocess_cpu_s", preprocess)
            .set("inference_s", inference)
            .set("extraction_wall_s", wall);
        if self.args.skip_bad {
            record.setting("skipped", skipped);
        }
    }
}

/// Feature rows of a side that is images or a `.npy` file, as f64 (KID and
/// PRDC keep every row), with the side's input record.
pub fn feature_rows(
    path: &Path,
    extraction: &mut Extraction<'_>,
    label: &str,
) -> Result<(ndarray::Array2<f64>, InputRecord)> {
    if is_images(path) {
        let want = Want {
            rows: true,
            ..Want::default()
        };
        let mut side = extraction.run(path, want, label)?;
        let rows = side
            .collector
            .take_rows()
            .expect("rows were asked for")
            .mapv(f64::from);
        Ok((rows, side.input_record()))
    } else {
        let rows = crate::input::npy::read_features(path)
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
