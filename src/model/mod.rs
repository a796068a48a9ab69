//! The FID Inception network: reading PyTorch weights (`pth`), building the
//! ONNX graph from them (`inception`), deterministic stand-in weights for
//! tests (`seeded`), and the model cache (being written: issue 4).

pub mod download;
pub mod inception;
pub mod pth;
pub mod registry;
pub mod seeded;
pub mod state_dict;

pub use state_dict::{StateDict, TensorF32};
