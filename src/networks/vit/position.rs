//! Resampling a trained grid of position embeddings to another grid, as the
//! DINOv2 hub model's `interpolate_pos_encoding` does: torch's
//! `F.interpolate(mode="bicubic", align_corners=False, antialias=False)`
//! with `scale_factor = (new + 0.1) / trained`.
//!
//! torch's bicubic (`upsample_bicubic2d`): the source coordinate of output
//! index `d` is `(d + 0.5) / scale_factor − 0.5` (the given factor, not
//! `new / trained`, because the hub passes a factor), the taps are the four
//! neighbours of its floor, clamped to the grid's edge, weighted by the cubic
//! convolution kernel with A = −0.75; rows then columns (the kernel is
//! separable and torch's sums are too). Computed here in f64 and rounded
//! once; torch computes in f32, a difference far below the parity tolerance.

/// The hub model's historical offset (`interpolate_offset = 0.1`).
pub const DINOV2_OFFSET: f64 = 0.1;

/// torch's cubic convolution weights for fractional offset `t` (A = −0.75).
fn cubic_weights(t: f64) -> [f64; 4] {
    const A: f64 = -0.75;
    let near = |x: f64| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let far = |x: f64| ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]
}

/// For each output index: the four clamped source indices and weights.
fn taps(trained: usize, new: usize, scale_factor: f64) -> Vec<([usize; 4], [f64; 4])> {
    let last = trained as i64 - 1;
    (0..new)
        .map(|d| {
            let source = (d as f64 + 0.5) / scale_factor - 0.5;
            let floor = source.floor();
            let weights = cubic_weights(source - floor);
            let indices =
                std::array::from_fn(|j| (floor as i64 - 1 + j as i64).clamp(0, last) as usize);
            (indices, weights)
        })
        .collect()
}

/// Resamples `grid` (`trained × trained` rows of `width` values, row-major
/// over (y, x)) to `new × new` rows with the hub's scale factor
/// `(new + offset) / trained`.
pub fn resample(grid: &[f32], trained: usize, width: usize, new: usize, offset: f64) -> Vec<f32> {
    assert_eq!(grid.len(), trained * trained * width, "a full grid");
    let scale_factor = (new as f64 + offset) / trained as f64;
    let taps = taps(trained, new, scale_factor);
    let mut out = vec![0f32; new * new * width];
    for (y, (ys, wy)) in taps.iter().enumerate() {
        for (x, (xs, wx)) in taps.iter().enumerate() {
            let row = &mut out[(y * new + x) * width..(y * new + x + 1) * width];
            for (c, value) in row.iter_mut().enumerate() {
                let mut sum = 0.0f64;
                for (&sy, &ky) in ys.iter().zip(wy) {
                    let mut across = 0.0f64;
                    for (&sx, &kx) in xs.iter().zip(wx) {
                        across += kx * f64::from(grid[(sy * trained + sx) * width + c]);
                    }
                    sum += ky * across;
                }
                *value = sum as f32;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one() {
        for t in [0.0, 0.25, 0.5, 0.9] {
            let sum: f64 = cubic_weights(t).iter().sum();
            assert!((sum - 1.0).abs() < 1e-12);
        }
        assert_eq!(cubic_weights(0.0), [0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn the_same_grid_without_offset_is_the_identity() {
        let grid: Vec<f32> = (0..5 * 5 * 2).map(|i| i as f32 * 0.5 - 3.0).collect();
        assert_eq!(resample(&grid, 5, 2, 5, 0.0), grid);
    }

    #[test]
    fn a_constant_grid_stays_constant_and_the_hub_offset_moves_samples() {
        let trained = 37;
        let flat = vec![0.75f32; trained * trained * 3];
        let out = resample(&flat, trained, 3, 16, DINOV2_OFFSET);
        assert_eq!(out.len(), 16 * 16 * 3);
        assert!(out.iter().all(|v| (v - 0.75).abs() < 1e-6));
        // With the offset the factor is 16.1 / 37, not 16 / 37: the samples
        // are not those of a plain resize to 16.
        let ramp: Vec<f32> = (0..trained * trained)
            .map(|i| (i % trained) as f32)
            .collect();
        let hub = resample(&ramp, trained, 1, 16, DINOV2_OFFSET);
        let plain = resample(&ramp, trained, 1, 16, 0.0);
        assert!(hub.iter().zip(&plain).any(|(a, b)| (a - b).abs() > 1e-3));
    }
}
