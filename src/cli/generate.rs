//! `geneval generate` arguments.

use clap::Args;
use std::path::PathBuf;

use super::values::{parse_disturbance, with_hint};
use crate::generate::{Disturbance, ImageFormat};

/// `geneval generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output folder (created; existing images with the same names are replaced).
    pub out: PathBuf,
    /// Number of images.
    #[arg(long, default_value_t = 1000)]
    pub n: usize,
    /// Side of the square images in pixels.
    #[arg(long, default_value_t = 64)]
    pub size: u32,
    /// Seed: the same arguments give byte-identical files on any machine.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of classes.
    #[arg(long, default_value_t = 10)]
    pub classes: usize,
    /// Only the first K classes (mode dropping).
    #[arg(long, value_name = "K")]
    pub keep_classes: Option<usize>,
    /// Image format: png or jpeg.
    #[arg(long, default_value = "png", value_parser = parse_image_format)]
    pub format: ImageFormat,
    /// Disturbances to apply, KIND:LEVEL (noise, blur, rectangles, swirl,
    /// salt-pepper, contamination), in order; repeatable.
    #[arg(long, value_name = "KIND:LEVEL", value_parser = parse_disturbance)]
    pub disturb: Vec<Disturbance>,
    /// Replace this fraction (0 to 0.75) of the images, after the
    /// disturbances, by exact copies of images of the set drawn with
    /// --copies-of: what a model that memorised its training set writes
    /// (`geneval nn` finds them).
    #[arg(long, value_name = "FRACTION")]
    pub copies: Option<f64>,
    /// The seed of the set --copies copies from (same --n, --size, classes).
    #[arg(long, value_name = "SEED", default_value_t = 0, requires = "copies")]
    pub copies_of: u64,
}

/// `png`, `jpeg` or `jpg`; anything else gets [`ImageFormat`]'s own message
/// and hint.
fn parse_image_format(text: &str) -> Result<ImageFormat, String> {
    text.parse::<ImageFormat>()
        .map_err(|e| with_hint(&e, e.hint_text().as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_parsed_and_refused_with_a_hint() {
        assert_eq!(parse_image_format("png"), Ok(ImageFormat::Png));
        assert_eq!(parse_image_format("JPG"), Ok(ImageFormat::Jpeg));
        let err = parse_image_format("gif").unwrap_err();
        assert!(
            err.starts_with("unknown image format 'gif': use png or jpeg\nhint: "),
            "{err}"
        );
        assert!(err.contains("geneval generate --help"), "{err}");
    }
}
