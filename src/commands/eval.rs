//! `geneval eval REAL FAKE --metrics fid,kid,prdc,is,fd-dinov2,cmmd`: every
//! requested metric from one pass of each feature network over each side,
//! one record per metric and one table — what `torch_fidelity.calculate_metrics`
//! does for its metrics, across feature spaces.
//!
//! The networks: `--model` (default fid-inception) for FID, KID, PRDC and
//! IS; `dinov2-vitl14` with dgm-eval's preprocessing for FD_DINOv2;
//! `clip-vit-l14-336` with CMMD's for CMMD. Each side is listed once and
//! each image decoded once ([`run_together`]); every network that a
//! requested metric needs runs once per side on its own preprocessing of the
//! decoded image, keeping what those metrics need (streaming moments for
//! FID alone; rows for KID, PRDC, FD_DINOv2 and CMMD; logits of the
//! generated side for IS).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use ndarray::Array2;

use super::fid::{distance, frechet_label, record_distance};
use super::is::record_is;
use super::kid::record_kid;
use super::prdc::record_prdc;
use super::Outcome;
use crate::cli::{EvalArgs, EvalMetric, ExtractArgs, GlobalArgs};
use crate::extract::{run_together, Extraction, ImageSide};
use crate::files::npy::Features;
use crate::files::side::{is_images, FidSide};
use crate::networks::registry::{CLIP_VIT_L14_336, DINOV2_VITL14};
use crate::pipeline::Want;
use crate::record::{InputRecord, RecordBuilder, ResultRecord};
use geneval_metrics::cmmd::{cmmd, CmmdOptions};
use geneval_metrics::inception_score::{inception_score, InceptionScoreSettings};
use geneval_metrics::kid::{kid, KidSettings};
use geneval_metrics::prdc::prdc_and_improved_precision_recall;

/// One finished metric: its record and its row of the table.
struct Measured {
    record: ResultRecord,
    lines: Vec<String>,
}

/// A network's pass over both sides.
struct Pass {
    real: ImageSide,
    fake: ImageSide,
}

/// Runs `geneval eval`.
pub fn run(args: &EvalArgs, global: &GlobalArgs) -> Result<Outcome> {
    for side in [&args.real, &args.fake] {
        if !is_images(side) {
            bail!(
                "{} is not an image folder or @list: eval extracts features with several networks, so both sides must be images (for features or statistics use fid, kid or prdc)",
                side.display()
            );
        }
    }
    let metrics: BTreeSet<EvalMetric> = args.metrics.iter().copied().collect();
    let on_model = metrics.iter().any(|m| {
        matches!(
            m,
            EvalMetric::Fid | EvalMetric::Kid | EvalMetric::Prdc | EvalMetric::Is
        )
    });
    let quiet = global.quiet;
    let (dinov2_args, clip_args) = (
        reference_network(&args.extract, DINOV2_VITL14.name),
        reference_network(&args.extract, CLIP_VIT_L14_336.name),
    );
    let mut model = on_model.then(|| Extraction::new(&args.extract, quiet));
    let mut dinov2 = metrics
        .contains(&EvalMetric::FdDinov2)
        .then(|| Extraction::new(&dinov2_args, quiet));
    let mut clip = metrics
        .contains(&EvalMetric::Cmmd)
        .then(|| Extraction::new(&clip_args, quiet));

    // What each network keeps: rows for KID, PRDC, FD_DINOv2 and CMMD
    // (FID alone streams its moments), logits of the generated side for IS.
    let model_rows = metrics.contains(&EvalMetric::Kid) || metrics.contains(&EvalMetric::Prdc);
    let model_want = |fake: bool| Want {
        rows: model_rows,
        moments: !model_rows,
        logits: fake && metrics.contains(&EvalMetric::Is),
    };
    let mut passes: [Vec<ImageSide>; 3] = Default::default();
    for (side, label, fake) in [(&args.real, "real", false), (&args.fake, "generated", true)] {
        let mut group: Vec<&mut Extraction<'_>> = Vec::new();
        let mut wants = Vec::new();
        let mut slots = Vec::new();
        for (slot, extraction, want) in [
            (0, model.as_mut(), model_want(fake)),
            (1, dinov2.as_mut(), Want::ROWS),
            (2, clip.as_mut(), Want::ROWS),
        ] {
            if let Some(extraction) = extraction {
                group.push(extraction);
                wants.push(want);
                slots.push(slot);
            }
        }
        for (slot, run) in slots
            .into_iter()
            .zip(run_together(&mut group, side, &wants, label)?)
        {
            passes[slot].push(run);
        }
    }
    let [model_sides, dinov2_sides, clip_sides] = passes.map(|sides| {
        let mut sides = sides.into_iter();
        match (sides.next(), sides.next()) {
            (Some(real), Some(fake)) => Some(Pass { real, fake }),
            _ => None,
        }
    });

    let mut measured = Vec::new();
    if let (Some(extraction), Some(pass)) = (&model, model_sides) {
        measured.extend(model_space(args, &metrics, extraction, pass)?);
    }
    if let (Some(extraction), Some(pass)) = (&dinov2, dinov2_sides) {
        measured.push(fd_dinov2(args, extraction, pass)?);
    }
    if let (Some(extraction), Some(pass)) = (&clip, clip_sides) {
        measured.push(cmmd_metric(args, extraction, pass)?);
    }
    let mut summary = vec![
        format!("{} vs {}", args.real.display(), args.fake.display()),
        format!("{:<12} {:<42} network (mode)", "metric", "value"),
    ];
    let mut records = Vec::new();
    for m in measured {
        summary.extend(m.lines);
        records.push(m.record);
    }
    if records.is_empty() {
        bail!("--metrics names no metric");
    }
    let record = records.remove(0);
    Ok(Outcome {
        extra: records,
        summary,
        record,
    })
}

/// The extraction options of a registered reference network: the user's
/// device, threads, batch and input options, the network's own model and
/// preprocessing (a `--mode` or output given for `--model` is not theirs).
fn reference_network(args: &ExtractArgs, model: &str) -> ExtractArgs {
    ExtractArgs {
        model: Some(model.to_owned()),
        dims: None,
        model_spec: None,
        features_output: None,
        logits_output: None,
        mode: None,
        ..args.clone()
    }
}

/// A table row: `name  value  (network, mode)`.
fn row(name: &str, value: String, record: &ResultRecord) -> String {
    let network = record.model.as_ref().map_or("", |m| m.name.as_str());
    let mode = record.mode.as_deref().unwrap_or("");
    format!("{name:<12} {value:<42} {network} ({mode})")
}

/// FID, KID, PRDC and IS on `--model`'s features.
fn model_space(
    args: &EvalArgs,
    metrics: &BTreeSet<EvalMetric>,
    extraction: &Extraction<'_>,
    pass: Pass,
) -> Result<Vec<Measured>> {
    let Pass { mut real, mut fake } = pass;
    let inputs = [real.input_record(), fake.input_record()];
    let (real_rows, fake_rows) = (real.collector.take_rows(), fake.collector.take_rows());
    // KID and PRDC both take the rows as f64: widened once, when first asked.
    let mut wide: Option<(Array2<f64>, Array2<f64>)> = None;
    let mut out = Vec::new();
    for metric in metrics {
        let mut builder = RecordBuilder::start(match metric {
            EvalMetric::Fid => extraction.frechet_key(),
            EvalMetric::Kid => "kid",
            EvalMetric::Prdc => "prdc",
            EvalMetric::Is => "is",
            _ => continue,
        });
        let record = builder.record();
        let lines = match metric {
            EvalMetric::Fid => {
                let side = |rows: &Option<Array2<f32>>, run: &mut ImageSide| {
                    Ok::<_, anyhow::Error>(match rows {
                        Some(rows) => FidSide::Features(Features::F32(rows.clone())),
                        None => {
                            let moments = run.collector.moments.take().expect("moments were kept");
                            FidSide::Statistics {
                                count: Some(moments.count()),
                                gaussian: moments.gaussian().with_context(|| {
                                    format!("statistics of {}", run.path.display())
                                })?,
                            }
                        }
                    })
                };
                let a = side(&real_rows, &mut real)?;
                let b = side(&fake_rows, &mut fake)?;
                let d = distance(&a, &b, &args.real, &args.fake)?;
                let key = extraction.frechet_key();
                extraction.describe(record, inputs.clone());
                record_distance(record, key, &d, [(&args.real, &a), (&args.fake, &b)]);
                vec![row(frechet_label(key), d.value.to_string(), record)]
            }
            EvalMetric::Kid => {
                let (a, b) = wide.get_or_insert_with(|| both_rows(&real_rows, &fake_rows));
                let settings = KidSettings {
                    subsets: args.kid_subsets,
                    subset_size: args.kid_subset_size,
                    seed: args.seed,
                    ..KidSettings::default()
                };
                let result = kid(a.view(), b.view(), &settings).context("computing KID")?;
                extraction.describe(record, inputs.clone());
                record_kid(record, &result, &settings, a.ncols());
                vec![row(
                    "KID",
                    format!("{} ± {}", result.mean, result.std),
                    record,
                )]
            }
            EvalMetric::Prdc => {
                let (a, b) = wide.get_or_insert_with(|| both_rows(&real_rows, &fake_rows));
                let both =
                    prdc_and_improved_precision_recall(a.view(), b.view(), args.prdc_k, args.pr_k)
                        .context("computing PRDC")?;
                extraction.describe(record, inputs.clone());
                record_prdc(record, &both, args.prdc_k, args.pr_k);
                [
                    ("precision", both.prdc.precision),
                    ("recall", both.prdc.recall),
                    ("density", both.prdc.density),
                    ("coverage", both.prdc.coverage),
                ]
                .iter()
                .map(|(name, value)| row(name, value.to_string(), record))
                .collect()
            }
            EvalMetric::Is => {
                let logits = fake
                    .collector
                    .take_logits()
                    .context("the network has no logits output for the Inception Score (use --model fid-inception)")?
                    .mapv(f64::from);
                let settings = InceptionScoreSettings {
                    splits: args.is_splits,
                    shuffle_seed: Some(args.seed),
                };
                let score = inception_score(logits.view(), &settings)
                    .context("computing the Inception Score")?;
                extraction.describe(record, [inputs[1].clone()]);
                record_is(record, &score, &settings);
                vec![row("IS", format!("{} ± {}", score.mean, score.std), record)]
            }
            _ => continue,
        };
        out.push(Measured {
            record: builder.finish(),
            lines,
        });
    }
    Ok(out)
}

/// Both sides' rows widened to f64 (KID and PRDC keep every row).
fn both_rows(real: &Option<Array2<f32>>, fake: &Option<Array2<f32>>) -> (Array2<f64>, Array2<f64>) {
    let widen = |rows: &Option<Array2<f32>>| {
        rows.as_ref()
            .expect("rows are kept when KID or PRDC is asked for")
            .mapv(f64::from)
    };
    (widen(real), widen(fake))
}

/// Both sides' feature rows as f64, with their input records.
fn side_rows(pass: Pass) -> (Array2<f64>, Array2<f64>, [InputRecord; 2]) {
    let Pass { mut real, mut fake } = pass;
    let inputs = [real.input_record(), fake.input_record()];
    let rows = |side: &mut ImageSide| {
        side.collector
            .take_rows()
            .expect("rows are kept for this network")
            .mapv(f64::from)
    };
    (rows(&mut real), rows(&mut fake), inputs)
}

/// FD_DINOv2: the Fréchet distance of DINOv2 ViT-L/14 class tokens, as
/// dgm-eval's `fd` computes it.
fn fd_dinov2(args: &EvalArgs, extraction: &Extraction<'_>, pass: Pass) -> Result<Measured> {
    let (real, fake, inputs) = side_rows(pass);
    let key = extraction.frechet_key();
    let (a, b) = (
        FidSide::Features(Features::F64(real)),
        FidSide::Features(Features::F64(fake)),
    );
    let d = distance(&a, &b, &args.real, &args.fake)?;
    let mut builder = RecordBuilder::start(key);
    let record = builder.record();
    extraction.describe(record, inputs);
    record_distance(record, key, &d, [(&args.real, &a), (&args.fake, &b)]);
    let lines = vec![row(frechet_label(key), d.value.to_string(), record)];
    Ok(Measured {
        record: builder.finish(),
        lines,
    })
}

/// CMMD: the RBF-kernel MMD of CLIP ViT-L/14@336 embeddings (σ = 10, × 1000),
/// on every image unless `--cmmd-drop-remainder` asks for the reference's
/// whole batches.
fn cmmd_metric(args: &EvalArgs, extraction: &Extraction<'_>, pass: Pass) -> Result<Measured> {
    let (real, fake, inputs) = side_rows(pass);
    let (real, fake) = match args.cmmd_drop_remainder {
        None => (real, fake),
        Some(batch) => (
            whole_batches(real, batch, &args.real)?,
            whole_batches(fake, batch, &args.fake)?,
        ),
    };
    let options = CmmdOptions::default();
    let result = cmmd(real.view(), fake.view(), &options).context("computing CMMD")?;
    let mut builder = RecordBuilder::start("cmmd");
    let record = builder.record();
    extraction.describe(record, inputs);
    record.value = Some(result.value);
    record
        .set("cmmd", result.value)
        .set("real_images_used", real.nrows() as f64)
        .set("fake_images_used", fake.nrows() as f64)
        .setting("sigma", options.sigma)
        .setting("scale", options.scale)
        .setting(
            "drop_remainder",
            args.cmmd_drop_remainder.map_or(0, |b| b as u64),
        );
    let lines = vec![row("CMMD", result.value.to_string(), record)];
    Ok(Measured {
        record: builder.finish(),
        lines,
    })
}

/// The first `⌊n / batch⌋ · batch` rows, as CMMD's reference keeps them.
fn whole_batches(rows: Array2<f64>, batch: usize, side: &Path) -> Result<Array2<f64>> {
    let kept = rows.nrows() / batch * batch;
    if kept == 0 {
        bail!(
            "{} has {} images, fewer than one batch of {batch}: --cmmd-drop-remainder would keep none",
            side.display(),
            rows.nrows()
        );
    }
    Ok(rows.slice_move(ndarray::s![..kept, ..]))
}
