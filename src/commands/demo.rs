//! `geneval demo`: the README's main command until the image pipeline lands.
//!
//! It draws two built-in synthetic feature sets (deterministic Gaussians,
//! the second with a shifted mean and a stretched covariance), writes them
//! with their statistics to a folder, and runs every metric on them through
//! the same code paths as the real commands. The numbers show the tool
//! working end to end; they are not comparable with any published FID.

use super::Outcome;
use crate::cli::DemoArgs;
use crate::input::npz::write_statistics;
use crate::record::RecordBuilder;
use anyhow::{Context, Result};
use geneval_metrics::kid::{kid, KidSettings};
use geneval_metrics::prdc::prdc;
use geneval_metrics::{frechet_distance, Gaussian};
use ndarray::Array2;

/// Standard normal draws from a seeded xorshift generator (Box–Muller).
struct Normal {
    state: u64,
    spare: Option<f64>,
}

impl Normal {
    fn new(seed: u64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            spare: None,
        }
    }

    fn uniform(&mut self) -> f64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        ((self.state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let (u, v) = (self.uniform(), self.uniform());
        let r = (-2.0 * u.ln()).sqrt();
        let theta = std::f64::consts::TAU * v;
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }
}

/// `rows` samples of a `dim`-d Gaussian with a fixed random mixing matrix,
/// shifted by `shift` and scaled by `scale`.
fn synthetic_features(rows: usize, dim: usize, seed: u64, shift: f64, scale: f64) -> Array2<f64> {
    let mut mixing_rng = Normal::new(7);
    let mixing = Array2::from_shape_fn((dim, dim), |_| mixing_rng.next() / (dim as f64).sqrt());
    let mut rng = Normal::new(seed);
    let z = Array2::from_shape_fn((rows, dim), |_| rng.next());
    z.dot(&mixing) * scale + shift
}

/// Runs `geneval demo`.
pub fn run(args: &DemoArgs) -> Result<Outcome> {
    let mut builder = RecordBuilder::start("demo");
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let (n, dim) = (args.samples, 64);
    let real = synthetic_features(n, dim, 1, 0.0, 1.0);
    let twin = synthetic_features(n, dim, 2, 0.0, 1.0);
    let fake = synthetic_features(n, dim, 3, 0.3, 1.2);
    let mut summary = vec![
        format!("built-in synthetic features: {n} samples x {dim} dimensions per set"),
        "(not image features: these numbers are not comparable with published FID)".to_owned(),
        String::new(),
        format!(
            "{:<28} {:>14} {:>14}",
            "metric", "real vs twin", "real vs fake"
        ),
    ];
    let real_stats = Gaussian::from_features(real.view())?;
    let mut rows: Vec<(String, f64, f64)> = Vec::new();
    let twin_fid = frechet_distance(&real_stats, &Gaussian::from_features(twin.view())?)?;
    let fake_fid = frechet_distance(&real_stats, &Gaussian::from_features(fake.view())?)?;
    rows.push(("FID".into(), twin_fid.value, fake_fid.value));
    let kid_settings = KidSettings {
        subsets: 20,
        ..KidSettings::default()
    };
    let twin_kid = kid(real.view(), twin.view(), &kid_settings)?;
    let fake_kid = kid(real.view(), fake.view(), &kid_settings)?;
    rows.push(("KID (20 subsets)".into(), twin_kid.mean, fake_kid.mean));
    let twin_prdc = prdc(real.view(), twin.view(), 5)?;
    let fake_prdc = prdc(real.view(), fake.view(), 5)?;
    rows.push((
        "precision (k=5)".into(),
        twin_prdc.precision,
        fake_prdc.precision,
    ));
    rows.push(("recall (k=5)".into(), twin_prdc.recall, fake_prdc.recall));
    rows.push(("density (k=5)".into(), twin_prdc.density, fake_prdc.density));
    rows.push((
        "coverage (k=5)".into(),
        twin_prdc.coverage,
        fake_prdc.coverage,
    ));
    for (name, twin_value, fake_value) in &rows {
        summary.push(format!("{name:<28} {twin_value:>14.6} {fake_value:>14.6}"));
        let key = name
            .split_whitespace()
            .next()
            .unwrap_or(name)
            .to_lowercase();
        builder
            .record()
            .set(&format!("{key}_twin"), *twin_value)
            .set(&format!("{key}_fake"), *fake_value);
    }
    for (name, features) in [("real", &real), ("fake", &fake)] {
        let npy = args.out.join(format!("{name}_features.npy"));
        crate::fs::write_atomically(&npy, |w| {
            ndarray_npy::WriteNpyExt::write_npy(&features.mapv(|v| v as f32), w).map_err(|e| {
                crate::input::InputError::Write {
                    path: npy.clone(),
                    reason: e.to_string(),
                }
            })
        })?;
        let npz = args.out.join(format!("{name}_stats.npz"));
        write_statistics(&npz, &Gaussian::from_features(features.view())?)?;
        builder
            .record()
            .outputs
            .extend([npy.display().to_string(), npz.display().to_string()]);
    }
    summary.push(String::new());
    summary.push(format!(
        "The twin is a second sample of the same distribution, so its FID and KID are sampling noise;\n\
         the fake set is shifted and stretched, so FID and KID rise and precision/density fall.\n\
         Features and statistics were written to {0}/; try:\n  geneval fid {0}/real_stats.npz {0}/fake_stats.npz",
        args.out.display()
    ));
    builder.record().value = Some(fake_fid.value);
    Ok(Outcome {
        summary,
        record: builder.finish(),
    })
}
