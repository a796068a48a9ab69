//! Bilinear resize as TensorFlow 1.x `tf.image.resize_bilinear(align_corners=False)`
//! computes it, in the form torch-fidelity 0.4 reproduces bit-exactly on CPU
//! (`interpolate_compat_tensorflow.interpolate_bilinear_2d_like_tensorflow1x`,
//! `method="slow"`, i.e. `resample_manually`). This is what the TTUR FID Inception
//! graph does inside itself, and what torch-fidelity's `FeatureExtractorInceptionV3`
//! runs on the uint8 image converted to float32 `[0, 255]` before `(x - 128) / 128`.
//!
//! Arithmetic (all f32 except the scale, which Python computes in f64 and
//! `torch.tensor(scale, dtype=float32)` rounds): `scale = in / out`; `g = dst * scale`
//! (no half-pixel offset); `lo = trunc(g)`, `hi = min(lo + 1, in - 1)`, `d = g - lo`;
//! rows `r = v[lo] + (v[hi] - v[lo]) * dx`, then `r0 + (r1 - r0) * dy`.

use super::RgbView;

/// Source pixels and fraction of one output coordinate on one axis.
#[derive(Debug, Clone, Copy)]
struct Tap {
    lo: usize,
    hi: usize,
    d: f32,
}

fn taps(in_size: usize, out_size: usize) -> Vec<Tap> {
    let scale = (in_size as f64 / out_size as f64) as f32;
    (0..out_size)
        .map(|dst| {
            let g = dst as f32 * scale;
            // `.long()` truncates; g >= 0. The clamp only guards against rounding.
            let lo = (g as usize).min(in_size - 1);
            let hi = (lo + 1).min(in_size - 1);
            Tap {
                lo,
                hi,
                d: g - lo as f32,
            }
        })
        .collect()
}

/// Resizes `src` (bytes taken as floats 0..=255) to `out_w` x `out_h`, writing CHW
/// planes into `out` (`3 * out_h * out_w` floats), not yet normalised.
pub(crate) fn resize_into(src: RgbView<'_>, out_w: usize, out_h: usize, out: &mut [f32]) {
    let (w, h) = (src.width() as usize, src.height() as usize);
    let xs = taps(w, out_w);
    let ys = taps(h, out_h);
    let pixels = src.pixels();
    let mut row0 = vec![0f32; out_w];
    let mut row1 = vec![0f32; out_w];
    let horizontal = |y: usize, c: usize, row: &mut [f32]| {
        let line = &pixels[y * w * 3..(y + 1) * w * 3];
        for (r, t) in row.iter_mut().zip(&xs) {
            let a = f32::from(line[t.lo * 3 + c]);
            let b = f32::from(line[t.hi * 3 + c]);
            *r = a + (b - a) * t.d;
        }
    };
    for (c, plane) in out.chunks_exact_mut(out_w * out_h).take(3).enumerate() {
        for (t, out_row) in ys.iter().zip(plane.chunks_exact_mut(out_w)) {
            horizontal(t.lo, c, &mut row0);
            horizontal(t.hi, c, &mut row1);
            for ((o, &a), &b) in out_row.iter_mut().zip(&row0).zip(&row1) {
                *o = a + (b - a) * t.d;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_half_pixel_offset() {
        // 4 -> 2: outputs sample source 0 and 2 exactly (TF1), not 0.5 and 2.5.
        let t = taps(4, 2);
        assert_eq!((t[0].lo, t[0].d), (0, 0.0));
        assert_eq!((t[1].lo, t[1].d), (2, 0.0));
        // Upscaling 2 -> 4: the last output clamps to the edge pixel.
        let t = taps(2, 4);
        assert_eq!((t[3].lo, t[3].hi, t[3].d), (1, 1, 0.5));
    }
}
