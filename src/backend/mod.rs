//! Feature extraction: the ONNX Runtime library (`runtime`), what a model
//! expects (`spec`), where it runs (`device`), the `FeatureExtractor` trait
//! and its ONNX implementation (`extractor`), the session settings every
//! model shares (`session`), (geneval's own network is `crate::networks::builtin`).

pub mod device;
pub mod error;
pub mod extractor;
pub mod runtime;
pub mod session;
pub mod spec;

pub use device::Device;
pub use error::BackendError;
pub use extractor::{
    BatchOutput, BuiltinNetwork, FeatureExtractor, ModelSource, OnnxExtractor, OpenOptions,
};
pub use spec::{Layout, ModelSpec, Pooling, SpecOverrides};
