//! Resizing and normalisation of decoded images, in the exact arithmetic of the tool
//! each mode matches (issue 3, DESIGN.md "Parity targets"):
//!
//! | mode | reference | resize | normalisation |
//! |---|---|---|---|
//! | `pytorch-fid` | pytorch-fid 0.3 | torch bilinear, `align_corners=False`, on `[0, 1]` | `2x - 1` |
//! | `tf` | torch-fidelity 0.4 / TTUR | TF1 bilinear, `src = dst * in/out`, on `[0, 255]` | `(x - 128) / 128` |
//! | `clean` | clean-fid 0.1.35 | PIL bicubic on float, antialiased, clip `[0, 255]` | `(x - 128) / 128` |
//! | `dgm-eval` | dgm-eval's DINOv2 encoder | PIL uint8 bicubic, antialiased | `/ 255`, ImageNet mean/std |
//! | `cmmd` | CMMD (google-research) | centred square crop, PIL uint8 bicubic | `/ 255`, CLIP mean/std |
//!
//! One file per concern: [`mode`] (names), [`image`] (the input view), one file per
//! resize kernel, [`preprocessor`] (mode dispatch, normalisation, batches). Parity
//! with the reference tools is tested against `tests/fixtures/preprocess/` (generated
//! by its `generate.py`): max abs difference <= 1e-4 on the `[0, 255]` scale.

mod error;
pub mod image;
pub mod mode;
mod pil_bicubic;
mod pil_uint8;
pub mod preprocessor;
mod tf_bilinear;
mod torch_bilinear;

#[cfg(test)]
mod parity_tests;

pub use error::PreprocessError;
pub use image::RgbView;
pub use mode::{ParseResizeModeError, ResizeMode};
pub use preprocessor::Preprocessor;
