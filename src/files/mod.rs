//! Feature and statistics files: `.npy` feature matrices, `.npz` statistics
//! (pytorch-fid's `mu`/`sigma` and geneval's partial statistics), and
//! [`side`]: what one side of a comparison is, decided once for every
//! command.

pub mod error;
pub mod npy;
pub mod npz;
pub mod side;

pub use error::FileError;
