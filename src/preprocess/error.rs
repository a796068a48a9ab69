//! Errors of the preprocessing step: all are caller mistakes about sizes.

/// Why an image could not be preprocessed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreprocessError {
    /// An image or target with a zero side.
    #[error("image size {width}x{height} has a zero side")]
    EmptyImage {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The pixel buffer does not hold `width * height * 3` bytes.
    #[error("RGB buffer for a {width}x{height} image must hold {expected} bytes, got {actual}")]
    PixelBufferLength {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// `width * height * 3`.
        expected: usize,
        /// The buffer's length.
        actual: usize,
    },
    /// The output slice does not have room for exactly the expected tensor(s).
    #[error("output buffer must hold {expected} floats (3 x {height} x {width} per image), got {actual}")]
    OutputLength {
        /// Target width.
        width: u32,
        /// Target height.
        height: u32,
        /// Floats required.
        expected: usize,
        /// The slice's length.
        actual: usize,
    },
    /// The resize library refused the images (should not happen: sizes are checked).
    #[error("resize failed: {0}")]
    Resize(String),
}

impl crate::diagnostics::Hint for PreprocessError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(format!("{self}: the model's input size in its spec must be positive").into())
    }
}
