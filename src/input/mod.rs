//! Everything that turns paths into arrays: feature `.npy` files, statistics
//! `.npz` files, and the rule that decides which a command-line side is.

pub mod decode;
pub mod discover;
pub mod error;
pub mod file;
mod jpeg;
pub mod npy;
pub mod npz;
pub mod side;
mod tiff;

pub use error::InputError;
