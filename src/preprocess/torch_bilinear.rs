//! Bilinear resize as torch's `F.interpolate(x, size, mode="bilinear",
//! align_corners=False)` computes it on CPU float32 (pytorch-fid 0.3's
//! `InceptionV3.forward` with `resize_input=True`).
//!
//! Reference: ATen `UpSample.h` (torch 2.x): `area_pixel_compute_scale` gives the ratio
//! `(float)in / out` (no `scale_factor` is passed when a size is given);
//! `area_pixel_compute_source_index` gives `src = ratio * (dst + 0.5) - 0.5`, clamped
//! to 0 below; `guard_index_and_lambda` takes `i0 = min(floor(src), in - 1)` and
//! `λ1 = clamp(src - i0, 0, 1)`, `i1 = i0 + 1` unless at the edge, `λ0 = 1 - λ1`; an
//! axis whose size does not change copies (`λ = (1, 0)`). The generic N-d kernel
//! (`upsample_generic_Nd_kernel_impl`, `Interpolate<2>`) evaluates the height axis
//! outermost: `(v00·wx0 + v01·wx1)·wy0 + (v10·wx0 + v11·wx1)·wy1`, all in f32. No
//! antialiasing: downscaling by more than 2 skips pixels, exactly as pytorch-fid does.
//!
//! Rounding of the source coordinate: torch (single-threaded CPU) behaves as if compiled with FMA
//! contraction, so `ratio * (dst + 0.5) - 0.5` is rounded once (a fused multiply-add);
//! we compute it with `f32::mul_add`. Measured with torch 2.15 CPU (x86-64): this is
//! bit-identical in the weights with `torch.set_num_threads(1)` (how the fixtures are
//! made); CUDA builds presumably fuse too (nvcc's default `--fmad=true`; not measured).
//! The weighted sums themselves are not bit-identical (torch's compiled code fuses some
//! of them; fusing ours with `mul_add` only moved the maximum from 4.6e-5 to 3.0e-5
//! levels and costs a libm call per tap without `target-feature=+fma`), so the
//! remaining difference is a few f32 ulps: <= 4.6e-5 levels on the fixtures. With several CPU
//! threads torch takes another path for axes longer than 128 outputs that rounds the
//! product and the difference separately: one ulp of the coordinate on a few outputs,
//! at most ~5e-4 levels (0/255 stripes), 6e-5 on the 200x300 fixture, so torch on CPU
//! is not consistent with itself at 1e-4 there.

use super::RgbView;

/// The two source pixels and weights of one output coordinate on one axis.
#[derive(Debug, Clone, Copy)]
struct Tap {
    i0: usize,
    i1: usize,
    w0: f32,
    w1: f32,
}

/// Taps for every output coordinate of an axis of `in_size` resized to `out_size`.
fn taps(in_size: usize, out_size: usize) -> Vec<Tap> {
    // f32 division, as `static_cast<float>(input_size) / output_size`.
    let ratio = in_size as f32 / out_size as f32;
    (0..out_size)
        .map(|dst| {
            if in_size == out_size {
                return Tap {
                    i0: dst,
                    i1: dst,
                    w0: 1.0,
                    w1: 0.0,
                };
            }
            let src = ratio.mul_add(dst as f32 + 0.5, -0.5);
            let src = if src < 0.0 { 0.0 } else { src };
            let i0 = (src.floor() as usize).min(in_size - 1);
            let lambda1 = (src - i0 as f32).clamp(0.0, 1.0);
            let i1 = if i0 < in_size - 1 { i0 + 1 } else { i0 };
            Tap {
                i0,
                i1,
                w0: 1.0 - lambda1,
                w1: lambda1,
            }
        })
        .collect()
}

/// Resizes `src` to `out_w` x `out_h` and writes the three planes (CHW) into `out`
/// (`3 * out_h * out_w` floats). Each source byte `v` enters as `value[v]` (pytorch-fid:
/// `v / 255` as torchvision's `ToTensor` computes it in f32).
pub(crate) fn resize_into(
    src: RgbView<'_>,
    value: &[f32; 256],
    out_w: usize,
    out_h: usize,
    out: &mut [f32],
) {
    let (w, h) = (src.width() as usize, src.height() as usize);
    let xs = taps(w, out_w);
    let ys = taps(h, out_h);
    let pixels = src.pixels();
    let mut row0 = vec![0f32; out_w];
    let mut row1 = vec![0f32; out_w];
    let horizontal = |y: usize, c: usize, row: &mut [f32]| {
        let line = &pixels[y * w * 3..(y + 1) * w * 3];
        for (r, t) in row.iter_mut().zip(&xs) {
            *r = value[line[t.i0 * 3 + c] as usize] * t.w0
                + value[line[t.i1 * 3 + c] as usize] * t.w1;
        }
    };
    for (c, plane) in out.chunks_exact_mut(out_w * out_h).take(3).enumerate() {
        for (t, out_row) in ys.iter().zip(plane.chunks_exact_mut(out_w)) {
            horizontal(t.i0, c, &mut row0);
            horizontal(t.i1, c, &mut row1);
            for ((o, &a), &b) in out_row.iter_mut().zip(&row0).zip(&row1) {
                *o = a * t.w0 + b * t.w1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_axis_copies() {
        for t in taps(7, 7) {
            assert_eq!((t.i0, t.w0, t.w1), (t.i1, 1.0, 0.0));
        }
    }

    #[test]
    fn source_index_is_clamped_at_both_edges() {
        // Upscaling 2 -> 8: the first outputs map below 0 (clamped), the last beyond 1.
        let t = taps(2, 8);
        assert_eq!((t[0].i0, t[0].i1, t[0].w1), (0, 1, 0.0));
        assert_eq!((t[7].i0, t[7].i1), (1, 1));
    }
}
