//! What every command that reads image folders shares: deciding whether a
//! side is images or a file, opening the model once for both sides, running
//! the pipeline with a progress bar, and writing what was done into the
//! record (model, mode, device, timings, skipped files).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

use crate::backend::SpecOverrides;
use crate::backend::{builtin, FeatureExtractor, ModelSource, OnnxExtractor, OpenOptions};
use crate::cli::ExtractArgs;
use crate::commands::models::download_bar;
use crate::images::decode::{DecodeOptions, DEFAULT_MAX_PIXELS};
use crate::images::discover::{discover, list_file_path, DiscoverOptions};
use crate::model::{inception, registry};
use crate::pipeline::batch::BatchRecipe;
use crate::pipeline::{self, Collector, Report, Want};
use crate::preprocess::Preprocessor;
use crate::record::{InputRecord, ModelRecord, ResultRecord};

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
    /// Warnings about the model for the record.
    notes: Vec<String>,
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
            notes: Vec::new(),
        }
    }

    /// The model to open, with what the registry adds for registered ones.
    fn choose(&mut self) -> Result<(ModelSource, SpecOverrides, Option<String>)> {
        let model = self
            .args
            .model
            .as_deref()
            .unwrap_or(registry::FID_INCEPTION.name);
        self.refuse_ignored_flags(model)?;
        let user = SpecOverrides {
            features: self.args.features_output.clone(),
            logits: self.args.logits_output.clone(),
            ..SpecOverrides::default()
        };
        let Ok(entry) = registry::entry(model) else {
            if self.args.dims.is_some() {
                bail!("--dims selects a layer of fid-inception; for other models name the output with --features-output");
            }
            return Ok((ModelSource::parse(model), user, None));
        };
        let quiet = self.quiet;
        let announce = |message: &str| {
            if !quiet {
                eprintln!("geneval: {message}");
            }
        };
        let installed = registry::ensure(&entry, &announce, &download_bar(quiet))
            .with_context(|| format!("getting the {} model", entry.name))?;
        let dims = self.args.dims.unwrap_or(inception::POOL3_DIMS);
        let Some(features) = inception::output_for_dims(dims) else {
            bail!("--dims {dims} is not a layer of fid-inception: use 2048, 768, 192 or 64");
        };
        if !installed.manifest.official {
            self.notes.push(format!(
                "the fid-inception weights in the cache are not the official file (SHA-256 {}, accepted through {}): these numbers are not pytorch-fid's",
                installed.manifest.source_sha256,
                registry::SHA256_ENV
            ));
        }
        let registered = SpecOverrides {
            features: Some(features.to_owned()),
            logits: Some(inception::LOGITS_UNBIASED.to_owned()),
            ..SpecOverrides::default()
        };
        Ok((
            ModelSource::File(installed.onnx.clone()),
            registered.then(user),
            Some(installed.model_id()),
        ))
    }

    /// Refuses the flags that the built-in or a registered network would
    /// drop without a word: the built-in network's spec and outputs are
    /// fixed (`--model-spec`, `--features-output`, `--logits-output` never
    /// reached it), and a registered network's spec is geneval's own (a
    /// spec file could change its preprocessing while the record still
    /// says `fid-inception`). Someone who passed such a flag expected it to
    /// do something; a number computed without it would be silently wrong.
    fn refuse_ignored_flags(&self, model: &str) -> Result<()> {
        let args = self.args;
        let builtin = matches!(ModelSource::parse(model), ModelSource::Builtin);
        let registered = registry::entry(model).is_ok();
        let network = if builtin {
            "the built-in network"
        } else if registered {
            "a registered network (fid-inception)"
        } else {
            return Ok(());
        };
        if let Some(spec) = &args.model_spec {
            bail!(
                "--model-spec applies to ONNX models given by path; {network} has a fixed spec \
                 (drop --model-spec {}, or give the .onnx file with --model PATH)",
                spec.display()
            );
        }
        if builtin {
            for (flag, value) in [
                ("--features-output", &args.features_output),
                ("--logits-output", &args.logits_output),
            ] {
                if let Some(name) = value {
                    bail!(
                        "{flag} {name} names an output of an ONNX model given by path; the built-in \
                         network has fixed outputs (drop {flag}, or give --model PATH.onnx)"
                    );
                }
            }
        }
        if registered && args.dims.is_some() && args.features_output.is_some() {
            bail!(
                "--dims and --features-output both choose fid-inception's feature layer; give one"
            );
        }
        Ok(())
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
        let name = self
            .args
            .model
            .clone()
            .unwrap_or_else(|| registry::FID_INCEPTION.name.to_owned());
        record.model = Some(ModelRecord {
            name: name.clone(),
            id: Some(extractor.model_id().to_owned()),
        });
        record.mode = Some(self.args.mode.as_str().to_owned());
        record
            .setting("model", name)
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
        record.warnings.extend(self.notes.iter().cloned());
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
