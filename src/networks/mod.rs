//! Feature networks, one folder (or file) per family, each written as an
//! ONNX graph by geneval itself: pytorch-fid's FID Inception built from its
//! published `.pth` ([`inception`]) and the built-in deterministic network
//! ([`builtin`]). Beside them: the weight readers ([`weights`]: PyTorch
//! `.pth` without Python, the state dict they fill), the registry of
//! published networks and their cache ([`registry`]), and HTTPS downloads
//! ([`download`]). A new family (ViTs next) is a new folder here plus a
//! registry entry.

pub mod builtin;
pub mod download;
pub mod filterbank;
pub mod inception;
pub mod registry;
pub mod vit;
pub mod weights;

pub use weights::{StateDict, TensorF32};
