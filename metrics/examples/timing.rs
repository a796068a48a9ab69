//! One-shot timings of the core at real sizes, for a quick look without
//! criterion's repetitions: `cargo run --release -p geneval-metrics --example timing`.

use geneval_metrics::{frechet_distance, Gaussian, Moments};
use ndarray::Array2;
use std::time::Instant;

fn features(rows: usize, dim: usize, seed: u64) -> Array2<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array2::from_shape_fn((rows, dim), |(_, j)| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let u = (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
        u * (1.0 + (j % 17) as f32 * 0.1)
    })
}

fn main() {
    let x = features(50_000, 2048, 3);
    let t = Instant::now();
    let m = Moments::from_features(x.view()).unwrap();
    println!("moments 50000x2048: {:.2} s", t.elapsed().as_secs_f64());
    let a = m.gaussian().unwrap();
    let b = Gaussian::from_features(features(4096, 2048, 2).view()).unwrap();
    let t = Instant::now();
    let d = frechet_distance(&a, &b).unwrap();
    println!(
        "frechet 2048d: {:.2} s (value {}, {:?})",
        t.elapsed().as_secs_f64(),
        d.value,
        d.method
    );
}
