//! Writing ONNX models from Rust (being written: issue 3).
