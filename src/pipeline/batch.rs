//! One batch of model input from a slice of image paths: decode and
//! preprocess every image in parallel (rayon) straight into its slot of the
//! batch buffer, in the model's layout and value range.

use rayon::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

use crate::backend::{Layout, ModelSpec};
use crate::images::decode::{decode_file, decode_file_with_digest, DecodeOptions};
use crate::images::ImageError;
use crate::preprocess::{Preprocessor, RgbView};

/// How to turn files into model input.
#[derive(Debug, Clone)]
pub struct BatchRecipe {
    /// Resize and the reference tool's normalisation.
    pub preprocessor: Preprocessor,
    /// Layout of the model input.
    pub layout: Layout,
    /// Per-channel affine from the reference `[-1, 1]` values to the model's
    /// range ([`ModelSpec::channel_affine`]).
    pub affine: Option<[(f32, f32); 3]>,
    /// Decoder limits.
    pub decode: DecodeOptions,
    /// Skip files that fail to decode instead of stopping.
    pub skip_bad: bool,
    /// Hash every image's bytes as they are decoded (`--verify-inputs`).
    pub digests: bool,
}

impl BatchRecipe {
    /// The recipe for `spec` with the given preprocessor.
    pub fn for_spec(
        spec: &ModelSpec,
        preprocessor: Preprocessor,
        decode: DecodeOptions,
        skip_bad: bool,
    ) -> Self {
        BatchRecipe {
            preprocessor,
            layout: spec.layout,
            affine: spec.channel_affine(),
            decode,
            skip_bad,
            digests: false,
        }
    }

    /// Floats per image.
    pub fn image_len(&self) -> usize {
        self.preprocessor.output_len()
    }
}

/// A filled batch.
#[derive(Debug, Default)]
pub struct Batch {
    /// `images · image_len` floats in the model's layout.
    pub data: Vec<f32>,
    /// The paths whose images are in `data`, in order.
    pub paths: Vec<PathBuf>,
    /// Files skipped (only with `skip_bad`).
    pub skipped: Vec<ImageError>,
    /// SHA-256 of each kept image's bytes, as `paths` (with
    /// [`BatchRecipe::digests`]; empty otherwise).
    pub digests: Vec<[u8; 32]>,
    /// CPU seconds spent decoding, summed over workers.
    pub decode_s: f64,
    /// CPU seconds spent resizing and normalising, summed over workers.
    pub preprocess_s: f64,
}

struct Slot {
    result: Result<(), ImageError>,
    digest: Option<[u8; 32]>,
    decode_s: f64,
    /// Per recipe.
    preprocess_s: Vec<f64>,
}

/// Decodes `path` once and preprocesses it for every recipe into its slot
/// of `outs` (one per recipe). A failure of any recipe fails the image for
/// all, so every network sees the same images.
fn fill_one(recipes: &[&BatchRecipe], path: &std::path::Path, outs: Vec<&mut [f32]>) -> Slot {
    let start = Instant::now();
    let decoded = if recipes[0].digests {
        decode_file_with_digest(path, &recipes[0].decode).map(|(image, d)| (image, Some(d)))
    } else {
        decode_file(path, &recipes[0].decode).map(|image| (image, None))
    };
    let (image, digest) = match decoded {
        Ok(decoded) => decoded,
        Err(e) => {
            return Slot {
                result: Err(e),
                digest: None,
                decode_s: start.elapsed().as_secs_f64(),
                preprocess_s: vec![0.0; recipes.len()],
            }
        }
    };
    let decode_s = start.elapsed().as_secs_f64();
    let mut preprocess_s = Vec::with_capacity(recipes.len());
    let mut result = Ok(());
    for (recipe, out) in recipes.iter().zip(outs) {
        let start = Instant::now();
        if result.is_ok() {
            result = preprocess_one(recipe, &image, out).map_err(|reason| ImageError::BadImage {
                path: path.to_owned(),
                reason,
            });
        }
        preprocess_s.push(start.elapsed().as_secs_f64());
    }
    Slot {
        result,
        digest,
        decode_s,
        preprocess_s,
    }
}

fn preprocess_one(
    recipe: &BatchRecipe,
    image: &image::RgbImage,
    out: &mut [f32],
) -> Result<(), String> {
    let view =
        RgbView::new(image.as_raw(), image.width(), image.height()).map_err(|e| e.to_string())?;
    let plane = out.len() / 3;
    match recipe.layout {
        Layout::Nchw => recipe
            .preprocessor
            .preprocess_into(view, out)
            .map_err(|e| e.to_string())?,
        Layout::Nhwc => {
            let mut chw = vec![0.0f32; out.len()];
            recipe
                .preprocessor
                .preprocess_into(view, &mut chw)
                .map_err(|e| e.to_string())?;
            for (i, pixel) in out.chunks_exact_mut(3).enumerate() {
                for (c, value) in pixel.iter_mut().enumerate() {
                    *value = chw[c * plane + i];
                }
            }
        }
    }
    if let Some(affine) = recipe.affine {
        match recipe.layout {
            Layout::Nchw => {
                for (c, channel) in out.chunks_exact_mut(plane).enumerate() {
                    let (scale, offset) = affine[c];
                    channel.iter_mut().for_each(|x| *x = scale * *x + offset);
                }
            }
            Layout::Nhwc => {
                for pixel in out.chunks_exact_mut(3) {
                    for (c, x) in pixel.iter_mut().enumerate() {
                        let (scale, offset) = affine[c];
                        *x = scale * *x + offset;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Decodes and preprocesses `paths` into one batch. Without `skip_bad` the
/// first failure (in path order) is returned.
pub fn fill(recipe: &BatchRecipe, paths: &[PathBuf]) -> Result<Batch, ImageError> {
    Ok(fill_many(&[recipe], paths)?
        .pop()
        .expect("one batch per recipe"))
}

/// Decodes each of `paths` once and preprocesses it for every recipe: one
/// batch per recipe, holding the same images (the decode options, and
/// `skip_bad`, of the first recipe apply; an image that any recipe cannot
/// take is skipped, or fails, for all). The decoding time is counted in
/// the first batch only.
pub fn fill_many(recipes: &[&BatchRecipe], paths: &[PathBuf]) -> Result<Vec<Batch>, ImageError> {
    let lens: Vec<usize> = recipes.iter().map(|r| r.image_len()).collect();
    let mut buffers: Vec<Vec<f32>> = lens
        .iter()
        .map(|&per| vec![0.0f32; paths.len() * per])
        .collect();
    let mut per_image: Vec<Vec<&mut [f32]>> = (0..paths.len()).map(|_| Vec::new()).collect();
    for (buffer, &per) in buffers.iter_mut().zip(&lens) {
        for (slots, chunk) in per_image.iter_mut().zip(buffer.chunks_exact_mut(per)) {
            slots.push(chunk);
        }
    }
    let slots: Vec<Slot> = per_image
        .into_par_iter()
        .zip(paths.par_iter())
        .map(|(outs, path)| fill_one(recipes, path, outs))
        .collect();
    let mut batches: Vec<Batch> = (0..recipes.len())
        .map(|k| Batch {
            decode_s: if k == 0 {
                slots.iter().map(|s| s.decode_s).sum()
            } else {
                0.0
            },
            preprocess_s: slots.iter().map(|s| s.preprocess_s[k]).sum(),
            ..Batch::default()
        })
        .collect();
    let mut kept = Vec::with_capacity(paths.len());
    let mut skipped = Vec::new();
    for (read, (slot, path)) in slots.into_iter().zip(paths).enumerate() {
        match slot.result {
            Ok(()) => kept.push((read, path.clone(), slot.digest)),
            Err(e) if recipes[0].skip_bad => skipped.push(e),
            Err(e) => return Err(e),
        }
    }
    for ((batch, mut data), &per) in batches.iter_mut().zip(buffers).zip(&lens) {
        for (write, &(read, _, _)) in kept.iter().enumerate() {
            if write != read {
                data.copy_within(read * per..(read + 1) * per, write * per);
            }
        }
        data.truncate(kept.len() * per);
        batch.data = data;
        batch.paths = kept.iter().map(|(_, p, _)| p.clone()).collect();
    }
    batches[0].skipped = skipped;
    batches[0].digests = kept.iter().filter_map(|(_, _, d)| *d).collect();
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::extractor::builtin_spec;
    use crate::preprocess::ResizeMode;

    fn write_png(path: &std::path::Path, w: u32, h: u32, seed: u8) {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                (x as u8).wrapping_mul(seed),
                (y as u8).wrapping_add(seed),
                seed,
            ])
        });
        img.save(path).unwrap();
    }

    fn recipe(spec: &ModelSpec, skip_bad: bool) -> BatchRecipe {
        let pre = Preprocessor::new(ResizeMode::PytorchFid, spec.width, spec.height).unwrap();
        BatchRecipe::for_spec(spec, pre, DecodeOptions::default(), skip_bad)
    }

    #[test]
    fn slots_equal_single_image_preprocessing_and_skips_compact() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.png");
        let bad = dir.path().join("b.png");
        let c = dir.path().join("c.png");
        write_png(&a, 40, 30, 3);
        std::fs::write(&bad, b"not a png").unwrap();
        write_png(&c, 17, 64, 9);
        let mut spec = builtin_spec();
        spec.width = 24;
        spec.height = 20;
        let paths = vec![a.clone(), bad.clone(), c.clone()];

        let err = fill(&recipe(&spec, false), &paths).unwrap_err();
        assert!(err.to_string().contains("b.png"), "{err}");

        let batch = fill(&recipe(&spec, true), &paths).unwrap();
        assert_eq!(batch.paths, vec![a.clone(), c.clone()]);
        assert_eq!(batch.skipped.len(), 1);
        let pre = recipe(&spec, false).preprocessor;
        let per = pre.output_len();
        for (i, path) in [a, c].iter().enumerate() {
            let img = decode_file(path, &DecodeOptions::default()).unwrap();
            let view = RgbView::new(img.as_raw(), img.width(), img.height()).unwrap();
            let want = pre.preprocess(view).unwrap();
            assert_eq!(
                &batch.data[i * per..(i + 1) * per],
                want.as_slice().unwrap()
            );
        }
    }

    #[test]
    fn several_recipes_share_one_decode_and_the_same_images() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.png");
        let bad = dir.path().join("b.png");
        let c = dir.path().join("c.png");
        write_png(&a, 40, 30, 3);
        std::fs::write(&bad, b"not a png").unwrap();
        write_png(&c, 17, 64, 9);
        let paths = vec![a.clone(), bad, c.clone()];
        let mut small = builtin_spec();
        (small.width, small.height) = (24, 20);
        let mut square = builtin_spec();
        (square.width, square.height) = (14, 14);
        let inception = recipe(&small, true);
        let pre = Preprocessor::new(ResizeMode::Cmmd, 14, 14).unwrap();
        let clip = BatchRecipe::for_spec(&square, pre, DecodeOptions::default(), true);
        let batches = fill_many(&[&inception, &clip], &paths).unwrap();
        assert_eq!(batches.len(), 2);
        for (batch, alone) in batches.iter().zip([&inception, &clip]) {
            let single = fill(alone, &paths).unwrap();
            assert_eq!(batch.paths, vec![a.clone(), c.clone()]);
            assert_eq!(batch.data, single.data);
        }
        // The skip is reported once, and the decoding time counted once.
        assert_eq!(batches[0].skipped.len(), 1);
        assert!(batches[1].skipped.is_empty());
        assert_eq!(batches[1].decode_s, 0.0);
    }

    #[test]
    fn nhwc_and_affine_are_applied_per_channel() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.png");
        write_png(&a, 8, 8, 5);
        let mut spec = builtin_spec();
        spec.width = 4;
        spec.height = 4;
        let nchw = fill(&recipe(&spec, false), std::slice::from_ref(&a)).unwrap();
        spec.layout = Layout::Nhwc;
        spec.range = crate::backend::spec::ValueRange {
            low: 0.0,
            high: 1.0,
        };
        spec.mean = Some([0.5, 0.25, 0.0]);
        spec.std = Some([2.0, 1.0, 0.5]);
        let nhwc = fill(&recipe(&spec, false), std::slice::from_ref(&a)).unwrap();
        let plane = 16;
        for c in 0..3 {
            for i in 0..plane {
                let x = nchw.data[c * plane + i];
                let x01 = (x + 1.0) / 2.0;
                let want = (x01 - spec.mean.unwrap()[c]) / spec.std.unwrap()[c];
                let got = nhwc.data[i * 3 + c];
                assert!((got - want).abs() < 1e-5, "{c} {i}: {got} vs {want}");
            }
        }
    }
}
