//! Writing ONNX models from Rust, with no protobuf dependency.
//!
//! # Why
//!
//! geneval builds some of its networks itself instead of downloading them:
//! the built-in feature network ([`crate::networks::builtin`]) so that demos
//! and CI run offline, and later networks whose weights come from a file in
//! another format. A general writer keeps those builders short: a graph is
//! a list of typed inputs, initializers, nodes and outputs.
//!
//! # Flow
//!
//! [`GraphBuilder`] (inputs, [`Tensor`] initializers, nodes with
//! [`Attribute`]s, outputs) → [`ModelBuilder`] (IR version, opsets,
//! producer) → [`ModelBuilder::to_bytes`], which checks the graph
//! ([`OnnxError`]) and encodes it.
//!
//! ```
//! use geneval::onnx::{Attribute, Dim, ElemType, GraphBuilder, ModelBuilder};
//!
//! let mut g = GraphBuilder::new("scale");
//! g.input("x", ElemType::Float, &[Dim::symbolic("N"), Dim::Fixed(3)]);
//! g.initializer_f32("k", &[3], &[1.0, 2.0, 3.0]);
//! let y = g.op("Mul", &["x", "k"], []);
//! g.node("Softmax", &[&y], &["p"], [("axis", Attribute::Int(1))]);
//! g.output("p", ElemType::Float, &[Dim::symbolic("N"), Dim::Fixed(3)]);
//! let bytes = ModelBuilder::new(g).to_bytes().unwrap();
//! assert_eq!(&bytes[..2], &[0x08, 0x08]); // ir_version 8
//! ```
//!
//! # Encoding
//!
//! The protobuf wire format is written by hand (`proto`), field by field
//! in field-number order with `onnx.proto`'s proto2 rules, so a model
//! equals, byte for byte, the one `onnx.helper` builds from the same calls
//! (the tests compare with bytes from Python `onnx` 1.23). Tensor values are
//! stored as little-endian `raw_data`; a model is sized first and written
//! into one buffer, so tens of megabytes of weights are copied once.

mod attribute;
mod graph;
mod model;
mod proto;
mod tensor;
mod validate;

#[cfg(test)]
pub(crate) mod runtime_tests;

pub use attribute::Attribute;
pub use graph::{Dim, GraphBuilder, Node, ValueInfo};
pub use model::{ModelBuilder, DEFAULT_OPSET, IR_VERSION};
pub use tensor::{ElemType, Tensor};
pub use validate::OnnxError;
