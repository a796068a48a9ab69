//! `geneval fid A B`: the Fréchet distance between two sides.

use super::Outcome;
use crate::cli::{FidArgs, GlobalArgs};
use crate::extract::Extraction;
use crate::files::npy::Features;
use crate::files::side::is_images;
use crate::files::side::{load_fid_side, FidSide};
use crate::record::{input_record, InputRecord, RecordBuilder, ResultRecord};
use anyhow::{bail, Context, Result};
use geneval_metrics::{
    frechet_bootstrap, frechet_distance, frechet_distance_from_features, FrechetBootstrap,
    FrechetDistance, Gaussian,
};
use std::path::Path;

fn gaussian_of(side: &FidSide) -> Result<Gaussian> {
    match side {
        FidSide::Statistics { gaussian, .. } => Ok(gaussian.clone()),
        FidSide::Features(f) => Ok(f.moments()?.gaussian()?),
    }
}

/// A side and its input record: images become streaming statistics.
fn load_side(
    path: &Path,
    extraction: &mut Extraction<'_>,
    which: &str,
    keep_rows: bool,
) -> Result<(FidSide, InputRecord)> {
    if is_images(path) {
        // With the rows kept (for the bootstrap) the statistics come from
        // them; streaming moments as well would compute them twice.
        if keep_rows {
            let (rows, side) = extraction.rows(path, which)?;
            return Ok((FidSide::Features(Features::F32(rows)), side.input_record()));
        }
        let (moments, side) = extraction.moments(path, which)?;
        let fid_side = FidSide::Statistics {
            gaussian: moments
                .gaussian()
                .with_context(|| format!("statistics of {}", path.display()))?,
            count: Some(moments.count()),
        };
        return Ok((fid_side, side.input_record()));
    }
    let side = load_fid_side(path)
        .with_context(|| format!("reading the {which} side {}", path.display()))?;
    let record = input_record(path, side.kind(), side.count(), Some(side.dim()));
    Ok((side, record))
}

/// Runs `geneval fid`.
pub fn run(args: &FidArgs, global: &GlobalArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("fid");
    let mut extraction = Extraction::new(&args.extract, global.quiet);
    let keep_rows = args.bootstrap.is_some();
    let (a, record_a) = load_side(&args.a, &mut extraction, "first", keep_rows)?;
    let (b, record_b) = load_side(&args.b, &mut extraction, "second", keep_rows)?;
    if a.dim() != b.dim() {
        bail!(
            "feature dimensions differ: {} has {}, {} has {}; both sides must come from the same feature layer",
            args.a.display(),
            a.dim(),
            args.b.display(),
            b.dim()
        );
    }
    let distance = distance(&a, &b, &args.a, &args.b)?;
    let key = extraction.frechet_key();
    let record = builder.record();
    record.metric = key.to_owned();
    extraction.describe(record, [record_a, record_b]);
    record_distance(record, key, &distance, [(&args.a, &a), (&args.b, &b)]);
    let mut summary = vec![format!("{}: {}", frechet_label(key), distance.value)];
    if let Some(replicates) = args.bootstrap {
        let boot = bootstrap(&a, &b, replicates, args)?;
        record.interval = Some([boot.low, boot.high]);
        record.uncertainty = Some(boot.std);
        record.seed = Some(u64::from(args.seed));
        record
            .set("bootstrap_low", boot.low)
            .set("bootstrap_high", boot.high)
            .set("bootstrap_std", boot.std)
            .setting("bootstrap", replicates as u64)
            .setting("interval_level", args.bootstrap_level);
        summary.push(format!(
            "{:.0}% bootstrap interval [{}, {}], std {} ({replicates} replicates, seed {})",
            args.bootstrap_level * 100.0,
            boot.low,
            boot.high,
            boot.std,
            args.seed
        ));
    }
    Ok(Outcome {
        extra: Vec::new(),
        summary,
        record: builder.finish(),
    })
}

/// The Fréchet distance of two sides: through the N×N problem when both
/// have fewer samples than dimensions (exact and cheap; it needs the rows),
/// else through their Gaussians.
pub(super) fn distance(
    a: &FidSide,
    b: &FidSide,
    path_a: &Path,
    path_b: &Path,
) -> Result<FrechetDistance> {
    let context = || {
        format!(
            "computing the Fréchet distance of {} and {}",
            path_a.display(),
            path_b.display()
        )
    };
    match (a, b) {
        (FidSide::Features(fa), FidSide::Features(fb))
            if fa.dim().0 < fa.dim().1 && fb.dim().0 < fb.dim().1 =>
        {
            frechet_distance_from_features(fa.to_f64().view(), fb.to_f64().view())
                .with_context(context)
        }
        _ => {
            let ga =
                gaussian_of(a).with_context(|| format!("statistics of {}", path_a.display()))?;
            let gb =
                gaussian_of(b).with_context(|| format!("statistics of {}", path_b.display()))?;
            frechet_distance(&ga, &gb).with_context(context)
        }
    }
}

/// The label of a Fréchet distance's record key, for summaries.
pub(super) fn frechet_label(key: &str) -> &'static str {
    geneval_reports::metric::Metric::find(key).map_or("FID", |m| m.title)
}

/// Writes a Fréchet distance into `record` under `key` (`fid`, or
/// `fd_dinov2` on DINOv2 features), with the warnings its numbers call for.
pub(super) fn record_distance(
    record: &mut ResultRecord,
    key: &str,
    distance: &FrechetDistance,
    sides: [(&Path, &FidSide); 2],
) {
    for (path, side) in sides {
        if let Some(n) = side.count() {
            if (n as usize) <= side.dim() {
                record.warnings.push(format!(
                    "{} has {n} samples for {} dimensions: its covariance is singular, and FID from so few samples is strongly biased upwards",
                    path.display(),
                    side.dim()
                ));
            }
        }
    }
    if distance.clamped_to_zero {
        record.warnings.push(format!(
            "the distance came out as {:e} (rounding below zero) and was set to 0",
            distance.raw_value
        ));
    }
    let total_trace = distance.trace_a + distance.trace_b;
    if distance.clamped_eigenvalue_mass > 1e-6 * total_trace.max(f64::MIN_POSITIVE) {
        record.warnings.push(format!(
            "negative eigenvalues of total magnitude {:e} were clamped to 0: the statistics are ill-conditioned",
            distance.clamped_eigenvalue_mass
        ));
    }
    record.value = Some(distance.value);
    record
        .set(key, distance.value)
        .set("mean_term", distance.mean_term)
        .set("trace_a", distance.trace_a)
        .set("trace_b", distance.trace_b)
        .set("trace_sqrt_product", distance.trace_sqrt_product)
        .set("clamped_eigenvalue_mass", distance.clamped_eigenvalue_mass)
        .setting("method", distance.method.as_str());
}

/// The bootstrap of FID over both sides' rows (statistics files have none).
fn bootstrap(
    a: &FidSide,
    b: &FidSide,
    replicates: usize,
    args: &FidArgs,
) -> Result<FrechetBootstrap> {
    let rows = |side: &FidSide, path: &Path| match side {
        FidSide::Features(f) => Ok(f.to_f64()),
        FidSide::Statistics { .. } => bail!(
            "--bootstrap redraws samples, and {} holds only their statistics (hint: give \
             features .npy or an image folder)",
            path.display()
        ),
    };
    let (ra, rb) = (rows(a, &args.a)?, rows(b, &args.b)?);
    Ok(frechet_bootstrap(
        ra.view(),
        rb.view(),
        replicates,
        args.bootstrap_level,
        args.seed,
    )?)
}
