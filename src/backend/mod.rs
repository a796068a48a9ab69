//! Feature extraction backends and the ONNX Runtime library they load
//! (being written: issue 3).

pub mod builtin;
pub mod runtime;
