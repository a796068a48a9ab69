//! `Preprocessor`: one image (or a batch) from RGB u8 to the model's f32 CHW input,
//! with the resize and normalisation of the chosen [`ResizeMode`].
//!
//! It holds only the mode and the target size, so one value is shared by every
//! decoding worker (`Send + Sync + Copy`); scratch memory is per call.

use ndarray::Array3;
use rayon::prelude::*;

use super::{
    pil_bicubic, pil_uint8, tf_bilinear, torch_bilinear, PreprocessError, ResizeMode, RgbView,
};

/// Resizes and normalises images for a model whose input is `3 x height x width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preprocessor {
    mode: ResizeMode,
    width: u32,
    height: u32,
}

impl Preprocessor {
    /// The input side of the FID Inception network.
    pub const INCEPTION_SIZE: u32 = 299;

    /// A preprocessor to `width` x `height` (both non-zero).
    pub fn new(mode: ResizeMode, width: u32, height: u32) -> Result<Self, PreprocessError> {
        if width == 0 || height == 0 {
            return Err(PreprocessError::EmptyImage { width, height });
        }
        Ok(Preprocessor {
            mode,
            width,
            height,
        })
    }

    /// A preprocessor to the FID Inception input, 299 x 299.
    pub fn inception(mode: ResizeMode) -> Self {
        Preprocessor {
            mode,
            width: Self::INCEPTION_SIZE,
            height: Self::INCEPTION_SIZE,
        }
    }

    /// The resize mode.
    pub fn mode(&self) -> ResizeMode {
        self.mode
    }

    /// Target width.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Target height.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Floats written per image: `3 * height * width`.
    pub fn output_len(&self) -> usize {
        3 * self.height as usize * self.width as usize
    }

    fn check_output(&self, images: usize, actual: usize) -> Result<(), PreprocessError> {
        let expected = images * self.output_len();
        if actual != expected {
            return Err(PreprocessError::OutputLength {
                width: self.width,
                height: self.height,
                expected,
                actual,
            });
        }
        Ok(())
    }

    /// Writes the model input for `image` into `out` (exactly [`Self::output_len`]
    /// floats, CHW: all of R, then G, then B), e.g. one image's slot in a batch buffer.
    pub fn preprocess_into(
        &self,
        image: RgbView<'_>,
        out: &mut [f32],
    ) -> Result<(), PreprocessError> {
        self.check_output(1, out.len())?;
        let (w, h) = (self.width as usize, self.height as usize);
        match self.mode {
            ResizeMode::PytorchFid => {
                // torchvision ToTensor: `byte.to(float32).div(255)`; then InceptionV3's
                // `2 * x - 1` after the resize.
                let value: [f32; 256] = std::array::from_fn(|v| v as f32 / 255.0);
                torch_bilinear::resize_into(image, &value, w, h, out);
                out.iter_mut().for_each(|x| *x = 2.0 * *x - 1.0);
            }
            ResizeMode::Tf => {
                tf_bilinear::resize_into(image, w, h, out);
                normalise_128(out);
            }
            ResizeMode::Clean => {
                pil_bicubic::resize_into(image, w, h, out)?;
                normalise_128(out);
            }
            ResizeMode::DgmEval => {
                let resized = pil_uint8::resize(image, w, h);
                normalise_mean_std(&resized, IMAGENET_MEAN, IMAGENET_STD, out);
            }
            ResizeMode::Cmmd => {
                let (square, side) = pil_uint8::centre_square(image);
                let square = RgbView::new(&square, side, side)?;
                let resized = pil_uint8::resize(square, w, h);
                normalise_mean_std(&resized, CLIP_MEAN, CLIP_STD, out);
            }
        }
        Ok(())
    }

    /// The model input for `image` as a `[3, height, width]` array.
    pub fn preprocess(&self, image: RgbView<'_>) -> Result<Array3<f32>, PreprocessError> {
        let mut out = Array3::zeros((3, self.height as usize, self.width as usize));
        let slice = out
            .as_slice_mut()
            .expect("a freshly allocated array is contiguous");
        self.preprocess_into(image, slice)?;
        Ok(out)
    }

    /// Preprocesses `images` in parallel (rayon) into a `[N, 3, height, width]` batch
    /// buffer `out` of exactly `N * output_len()` floats.
    pub fn preprocess_batch_into(
        &self,
        images: &[RgbView<'_>],
        out: &mut [f32],
    ) -> Result<(), PreprocessError> {
        self.check_output(images.len(), out.len())?;
        out.par_chunks_exact_mut(self.output_len())
            .zip(images.par_iter())
            .try_for_each(|(slot, image)| self.preprocess_into(*image, slot))
    }
}

/// torchvision's / timm's ImageNet mean, as dgm-eval normalises DINOv2 input.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// torchvision's / timm's ImageNet std.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
/// OpenAI CLIP's mean (CMMD's `clip.normalize_image`, transformers' CLIPImageProcessor).
pub const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
/// OpenAI CLIP's std.
/// (0.26130258 written as the f32 it rounds to.)
pub const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_6, 0.275_777_1];

/// Interleaved RGB bytes → CHW planes of `(v / 255 − mean) / std`, each step
/// in f32 as `ToTensor` + `Normalize` (and numpy's float32 arrays) compute it.
fn normalise_mean_std(rgb: &[u8], mean: [f32; 3], std: [f32; 3], out: &mut [f32]) {
    let plane = out.len() / 3;
    for (i, pixel) in rgb.chunks_exact(3).enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (f32::from(pixel[c]) / 255.0 - mean[c]) / std[c];
        }
    }
}

/// `(x - 128) / 128` in f32, as torch-fidelity's and clean-fid's Inception wrappers
/// compute it (the division by a power of two is exact).
fn normalise_128(out: &mut [f32]) {
    out.iter_mut().for_each(|x| *x = (*x - 128.0) / 128.0);
}
