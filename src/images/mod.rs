//! A side's images: which files they are ([`discover`]: a folder, an
//! `@list.txt`, or [`archive`]s: tar shards and uint8 pixel arrays) and their pixels ([`decode`]: RGB u8 exactly as Pillow's
//! `convert("RGB")`, JPEG through libjpeg-turbo, TIFF sizes checked first).

pub mod archive;
pub mod decode;
pub mod discover;
pub mod error;
mod jpeg;
pub mod shard;
mod tiff;

pub use error::ImageError;
pub use jpeg::encode_rgb as encode_jpeg;
