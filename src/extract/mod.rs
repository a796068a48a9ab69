//! The extraction stage: a side's images through a feature network.
//!
//! [`Extraction`] chooses the network once per command (a registered one
//! such as `fid-inception`, the built-in one, or an ONNX file: [`choose`]),
//! opens it on the first side that is images, runs each side through the
//! pipeline with a progress bar, and hands back what was asked for as typed
//! values ([`Extraction::rows`], [`Extraction::logits`], …). What was done
//! (network, mode, device, timings, skipped files) goes into the record
//! ([`provenance`]).

pub mod cache;
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
use crate::images::shard::{list_sha256, Shard};
use crate::pipeline::batch::BatchRecipe;
use crate::pipeline::{self, Collector, RunStats, Stage, Want};
use crate::preprocess::{Preprocessor, ResizeMode};
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
    /// The resize mode, decided with the network.
    mode: Option<ResizeMode>,
    /// Whether the network is a registered ViT (slow on a CPU).
    vit: bool,
    /// Only this part of each side's list (`--shard K/N`).
    shard: Option<Shard>,
    /// What the last sharded run took: the shard, the whole list's length
    /// and fingerprint.
    shard_run: Option<ShardRun>,
    /// Each side's use of the statistics cache: (side, hit|miss, key, entry).
    cache_uses: Vec<(String, &'static str, String, PathBuf)>,
}

/// A sharded side: which part of which list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardRun {
    /// The part.
    pub shard: Shard,
    /// Images in the whole list.
    pub list_images: usize,
    /// SHA-256 of the whole list.
    pub list_sha256: String,
}

/// Images per call for a ViT-L on a CPU by default: ~80 GFLOP each, about a
/// second per image on two cores.
pub const VIT_CPU_BATCH: usize = 8;

impl<'a> Extraction<'a> {
    /// Nothing is opened until a side needs it.
    pub fn new(args: &'a ExtractArgs, quiet: bool) -> Self {
        Extraction {
            args,
            quiet,
            extractor: None,
            sides: Vec::new(),
            notes: Vec::new(),
            mode: None,
            vit: false,
            shard: None,
            shard_run: None,
            cache_uses: Vec::new(),
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
        Ok(run_together(&mut [self], side, &[want], label)?
            .pop()
            .expect("one side per extraction"))
    }

    /// The batch size: `--batch-size`, a fixed-batch model's own, or the
    /// device's default — on a CPU at most [`VIT_CPU_BATCH`] for the ViTs,
    /// so that progress (and its ETA) moves every few seconds.
    fn batch_size(&mut self) -> Result<usize> {
        let args = self.args;
        let vit = self.vit;
        Ok(match (args.batch_size, self.extractor()?.fixed_batch()) {
            (Some(0), _) => bail!("--batch-size must be at least 1"),
            (Some(b), _) => b,
            (None, Some(fixed)) => fixed,
            (None, None) if vit && args.device == crate::backend::Device::Cpu => {
                VIT_CPU_BATCH.min(args.device.default_batch_size())
            }
            (None, None) => args.device.default_batch_size(),
        })
    }

    /// How this extraction's network takes images.
    fn recipe(&mut self) -> Result<BatchRecipe> {
        self.extractor()?;
        let mode = self.mode();
        let spec = self.extractor()?.spec().clone();
        let preprocessor = Preprocessor::new(mode, spec.width, spec.height)?;
        let decode = DecodeOptions {
            max_pixels: self.args.max_pixels.unwrap_or(DEFAULT_MAX_PIXELS),
        };
        let mut recipe = BatchRecipe::for_spec(&spec, preprocessor, decode, self.args.skip_bad);
        recipe.digests = self.args.verify_inputs;
        Ok(recipe)
    }

    /// Takes only `shard` of each side's image list.
    pub fn set_shard(&mut self, shard: Option<Shard>) {
        self.shard = shard;
    }

    /// The part of the list the last side was, when sharded.
    pub fn shard_run(&self) -> Option<&ShardRun> {
        self.shard_run.as_ref()
    }

    /// The model's id, if one was opened.
    pub fn model_id(&self) -> Option<&str> {
        self.extractor.as_ref().map(|e| e.model_id())
    }

    /// The record key of a Fréchet distance in this network's features:
    /// `fd_dinov2` on `dinov2-vitl14` (dgm-eval's name), `fid` otherwise.
    pub fn frechet_key(&self) -> &'static str {
        match self.args.model.as_deref() {
            Some(name) if name == crate::networks::registry::DINOV2_VITL14.name => "fd_dinov2",
            _ => "fid",
        }
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

    /// The streaming moments of `side`'s features (no row is kept): from
    /// the statistics cache when an entry of the same files, network and
    /// preprocessing is there (no image is read), else computed and stored.
    pub fn moments(&mut self, side: &Path, label: &str) -> Result<(Moments, ImageSide)> {
        let cached = self.cache_key(side)?;
        if let Some((cache, key)) = &cached {
            match cache.load(key) {
                Ok(Some(moments)) => {
                    let images = moments.count() as usize;
                    self.cache_uses.push((
                        side.display().to_string(),
                        "hit",
                        key.clone(),
                        cache.entry(key),
                    ));
                    self.sides.push(SideSummary {
                        side: side.display().to_string(),
                        images,
                        skipped: Vec::new(),
                        timing: pipeline::Timing::default(),
                    });
                    let run = ImageSide {
                        path: side.to_owned(),
                        dim: Some(moments.dim()),
                        collector: Collector::new(Want::default()),
                        stats: RunStats {
                            images,
                            ..RunStats::default()
                        },
                    };
                    return Ok((moments, run));
                }
                Ok(None) => {}
                Err(warning) => self.notes.push(warning),
            }
        }
        let (mut kept, run) = self.keep(side, label, Want::MOMENTS)?;
        let moments = kept.moments.take().expect(KEPT);
        if let Some((cache, key)) = cached {
            let manifest = cache::manifest_for(
                &key,
                side,
                moments.count(),
                self.model_id().unwrap_or("unknown"),
                self.mode().as_str(),
            );
            match cache.store(&key, &moments, manifest) {
                Ok(entry) => self
                    .cache_uses
                    .push((side.display().to_string(), "miss", key, entry)),
                Err(e) => self.notes.push(format!(
                    "the statistics of {} could not be cached in {}: {e}",
                    side.display(),
                    cache.dir().display()
                )),
            }
        }
        Ok((moments, run))
    }

    /// The cache and key for `side`'s moments, or `None` when caching is
    /// off: `--no-cache`, `--skip-bad` (which images count is decided while
    /// decoding), `--verify-inputs` (which reads every image), a shard, or no
    /// cache folder.
    fn cache_key(&mut self, side: &Path) -> Result<Option<(cache::StatsCache, String)>> {
        let args = self.args;
        if args.no_cache || args.skip_bad || args.verify_inputs || self.shard.is_some() {
            return Ok(None);
        }
        let Some(cache) = cache::StatsCache::open() else {
            return Ok(None);
        };
        let paths = discover(
            side,
            DiscoverOptions {
                recursive: args.recursive,
            },
        )?;
        self.extractor()?;
        let mode = self.mode();
        let extractor = self.extractor.as_ref().expect("opened above");
        let spec = extractor.spec();
        let parts = cache::KeyParts {
            model_id: extractor.model_id(),
            features: &spec.features,
            mode: mode.as_str(),
            input: (spec.width, spec.height),
            max_pixels: args.max_pixels.unwrap_or(DEFAULT_MAX_PIXELS),
        };
        let key = cache::StatsCache::key(&parts, side, &paths)
            .with_context(|| format!("listing {} for the statistics cache", side.display()))?;
        Ok(Some((cache, key)))
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

/// Lists `side`'s images once and runs them through every extraction of
/// `group` together (`eval`): each image is decoded once, then preprocessed
/// and run through each network, keeping `wants[i]` for `group[i]`. The
/// listing, decoding limits, batch size and `--skip-bad` of the first
/// extraction apply to all; the batch size is the smallest of theirs.
pub fn run_together(
    group: &mut [&mut Extraction<'_>],
    side: &Path,
    wants: &[Want],
    label: &str,
) -> Result<Vec<ImageSide>> {
    assert_eq!(group.len(), wants.len(), "one Want per extraction");
    let first = group.first_mut().expect("at least one extraction");
    let mut paths = discover(
        side,
        DiscoverOptions {
            recursive: first.args.recursive,
        },
    )?;
    if let Some(shard) = first.shard {
        first.shard_run = Some(ShardRun {
            shard,
            list_images: paths.len(),
            list_sha256: list_sha256(side, &paths),
        });
        paths = shard.slice(&paths).to_vec();
        if paths.is_empty() {
            bail!(
                "shard {shard} of {} has no image: {} images for {} parts (use fewer parts)",
                side.display(),
                first.shard_run.as_ref().map_or(0, |r| r.list_images),
                shard.count
            );
        }
    }
    let quiet = first.quiet;
    let batch_size = group
        .iter_mut()
        .map(|e| e.batch_size())
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .min()
        .expect("at least one extraction");
    let recipes = group
        .iter_mut()
        .map(|e| e.recipe())
        .collect::<Result<Vec<_>>>()?;
    let mut collectors: Vec<Collector> = wants.iter().map(|&w| Collector::new(w)).collect();
    let bar = crate::progress::images(paths.len() as u64, label, crate::progress::enabled(quiet));
    let mut stages: Vec<Stage<'_>> = group
        .iter_mut()
        .zip(&recipes)
        .zip(&mut collectors)
        .map(|((e, recipe), collector)| Stage {
            recipe,
            extractor: e.extractor.as_mut().expect("opened by recipe()"),
            collector,
        })
        .collect();
    let reports = pipeline::run_stages(&paths, &mut stages, batch_size, &mut |n| bar.inc(n as u64))
        .with_context(|| format!("extracting features of {}", side.display()))?;
    drop(stages);
    bar.finish_and_clear();
    Ok(group
        .iter_mut()
        .zip(collectors)
        .zip(reports)
        .map(|((e, collector), stats)| {
            e.sides.push(SideSummary {
                side: side.display().to_string(),
                images: stats.images,
                skipped: stats.skipped.iter().map(|e| e.to_string()).collect(),
                timing: stats.timing,
            });
            ImageSide {
                path: side.to_owned(),
                dim: collector.dim(),
                collector,
                stats,
            }
        })
        .collect())
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
