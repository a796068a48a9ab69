//! Criterion benchmarks of the statistics core at the sizes of real use
//! (2048-d Inception pool3 features, 768-d CLIP embeddings for CMMD). `scripts/bench_core.py` runs the
//! Python references and the geneval CLI side by side for BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use geneval_metrics::cmmd::{cmmd, CmmdOptions};
use geneval_metrics::kid::{kid, KidSettings};
use geneval_metrics::prdc::prdc;
use geneval_metrics::{frechet_distance, Gaussian, Moments};
use ndarray::Array2;
use std::hint::black_box;

const DIM: usize = 2048;

/// Deterministic pseudo-random features (xorshift; uniform in [-1, 1)) with a
/// per-column scale so covariances are not isotropic.
fn features(rows: usize, seed: u64) -> Array2<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array2::from_shape_fn((rows, DIM), |(_, j)| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let u = (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
        u * (1.0 + (j % 17) as f32 * 0.1)
    })
}

fn bench_frechet(c: &mut Criterion) {
    let a = Gaussian::from_features(features(4096, 1).view()).unwrap();
    let b = Gaussian::from_features(features(4096, 2).view()).unwrap();
    let mut group = c.benchmark_group("frechet");
    group.sample_size(10);
    group.bench_function("statistics_2048d", |bench| {
        bench.iter(|| {
            frechet_distance(black_box(&a), black_box(&b))
                .unwrap()
                .value
        })
    });
    group.finish();
}

fn bench_moments(c: &mut Criterion) {
    let x = features(50_000, 3);
    let mut group = c.benchmark_group("moments");
    group.sample_size(10);
    group.bench_function("50000x2048_f32", |bench| {
        bench.iter(|| Moments::from_features(black_box(x.view())).unwrap().count())
    });
    group.finish();
}

/// KID and PRDC at 2,000 × 2048 (criterion repeats each 10 times; the
/// 10,000-sample runs are in `scripts/bench_core.py`, once each).
fn bench_kid_prdc(c: &mut Criterion) {
    let a = features(2_000, 4).mapv(f64::from);
    let b = features(2_000, 5).mapv(f64::from);
    let mut group = c.benchmark_group("feature_metrics");
    group.sample_size(10);
    group.bench_function("kid_defaults_2000x2048", |bench| {
        bench.iter(|| {
            kid(
                black_box(a.view()),
                black_box(b.view()),
                &KidSettings::default(),
            )
            .unwrap()
            .mean
        })
    });
    group.bench_function("prdc_k5_2000x2048", |bench| {
        bench.iter(|| {
            prdc(black_box(a.view()), black_box(b.view()), 5)
                .unwrap()
                .precision
        })
    });
    group.finish();
}

/// CMMD of two 10,000-image sets of CLIP ViT-L/14 embeddings (768-d,
/// L2-normalised; the `features` stream cut to 768 columns): 2·10⁸ kernel
/// values, the symmetric halves of `K_xx` and `K_yy` and all of `K_xy`.
fn bench_cmmd(c: &mut Criterion) {
    const CLIP_DIM: usize = 768;
    let embeddings = |seed| {
        let mut x = features(10_000, seed)
            .slice_move(ndarray::s![.., ..CLIP_DIM])
            .mapv(f64::from);
        for mut row in x.outer_iter_mut() {
            let norm = row.dot(&row).sqrt();
            row.mapv_inplace(|v| v / norm);
        }
        x
    };
    let (x, y) = (embeddings(6), embeddings(7));
    let mut group = c.benchmark_group("cmmd");
    group.sample_size(10);
    group.bench_function("10000x768_vs_10000x768", |bench| {
        bench.iter(|| {
            cmmd(
                black_box(x.view()),
                black_box(y.view()),
                &CmmdOptions::default(),
            )
            .unwrap()
            .value
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_frechet,
    bench_moments,
    bench_kid_prdc,
    bench_cmmd
);
criterion_main!(benches);
