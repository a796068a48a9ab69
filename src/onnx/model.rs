//! The model around a graph (`ModelProto`): IR version, operator sets,
//! producer and metadata.

use super::graph::GraphBuilder;
use super::proto::{Message, Sink};
use super::validate::{validate, OnnxError};

/// The IR version written by default: 8 (ONNX 1.10), which every ONNX
/// Runtime `ort` can load (1.20 and later) reads.
pub const IR_VERSION: i64 = 8;

/// The default-domain opset imported by default: 17 (ONNX 1.12). It has
/// every operator the feature networks use, in the versions exporters of
/// the reference Inception networks produce.
pub const DEFAULT_OPSET: i64 = 17;

/// A model ready to be written: a graph plus what a reader needs to
/// interpret it.
#[derive(Debug, Clone)]
pub struct ModelBuilder {
    graph: GraphBuilder,
    ir_version: i64,
    opsets: Vec<(String, i64)>,
    producer_name: String,
    producer_version: String,
    doc_string: String,
    metadata: Vec<(String, String)>,
}

impl ModelBuilder {
    /// A model of `graph` with IR version [`IR_VERSION`], the default domain
    /// at [`DEFAULT_OPSET`], and producer `geneval` at this crate's version.
    pub fn new(graph: GraphBuilder) -> Self {
        Self {
            graph,
            ir_version: IR_VERSION,
            opsets: vec![(String::new(), DEFAULT_OPSET)],
            producer_name: "geneval".to_owned(),
            producer_version: env!("CARGO_PKG_VERSION").to_owned(),
            doc_string: String::new(),
            metadata: Vec::new(),
        }
    }

    /// Sets the IR version.
    pub fn ir_version(mut self, version: i64) -> Self {
        self.ir_version = version;
        self
    }

    /// Imports `domain` (`""`: the default ONNX domain) at `version`,
    /// replacing an earlier import of the same domain.
    pub fn opset(mut self, domain: &str, version: i64) -> Self {
        match self.opsets.iter_mut().find(|(d, _)| d == domain) {
            Some(entry) => entry.1 = version,
            None => self.opsets.push((domain.to_owned(), version)),
        }
        self
    }

    /// Sets the producer name and version (empty strings are not written).
    pub fn producer(mut self, name: &str, version: &str) -> Self {
        name.clone_into(&mut self.producer_name);
        version.clone_into(&mut self.producer_version);
        self
    }

    /// Sets the model's documentation string.
    pub fn doc_string(mut self, doc: &str) -> Self {
        doc.clone_into(&mut self.doc_string);
        self
    }

    /// Adds a `metadata_props` entry (ONNX Runtime shows them as custom
    /// metadata).
    pub fn metadata(mut self, key: &str, value: &str) -> Self {
        self.metadata.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The graph.
    pub fn graph(&self) -> &GraphBuilder {
        &self.graph
    }

    /// Checks the graph and encodes the model: the bytes of an `.onnx`
    /// file, in one buffer allocated at its final size.
    pub fn to_bytes(&self) -> Result<Vec<u8>, OnnxError> {
        validate(&self.graph)?;
        Ok(self.encode_to_vec())
    }
}

impl Message for ModelBuilder {
    fn write<S: Sink>(&self, sink: &mut S) {
        // ModelProto: ir_version = 1, producer_name = 2, producer_version = 3,
        // doc_string = 6, graph = 7, opset_import = 8, metadata_props = 14.
        sink.int(1, self.ir_version);
        if !self.producer_name.is_empty() {
            sink.bytes(2, self.producer_name.as_bytes());
        }
        if !self.producer_version.is_empty() {
            sink.bytes(3, self.producer_version.as_bytes());
        }
        if !self.doc_string.is_empty() {
            sink.bytes(6, self.doc_string.as_bytes());
        }
        sink.message(7, &self.graph);
        for (domain, version) in &self.opsets {
            sink.message(8, &OpsetId(domain, *version));
        }
        for (key, value) in &self.metadata {
            sink.message(14, &Entry(key, value));
        }
    }
}

/// `OperatorSetIdProto { domain = 1, version = 2 }`; the domain is written
/// even when empty, as `onnx.helper.make_opsetid` does.
struct OpsetId<'a>(&'a str, i64);

impl Message for OpsetId<'_> {
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.bytes(1, self.0.as_bytes());
        sink.int(2, self.1);
    }
}

/// `StringStringEntryProto { key = 1, value = 2 }`.
struct Entry<'a>(&'a str, &'a str);

impl Message for Entry<'_> {
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.bytes(1, self.0.as_bytes());
        sink.bytes(2, self.1.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::networks::download::hex;
    use crate::onnx::{Attribute, Dim, ElemType};

    /// Every kind of field once: symbolic and fixed dims, an int64 and a
    /// float initializer, attributes, a named node, two outputs, metadata.
    fn small_model() -> ModelBuilder {
        let mut g = GraphBuilder::new("small");
        g.input("x", ElemType::Float, &[Dim::symbolic("N"), 4.into()]);
        g.initializer_i64("shape", &[2], &[-1, 2]);
        g.initializer_f32("k", &[1], &[0.5]);
        g.node("Reshape", &["x", "shape"], &["r"], [])
            .named("reshape");
        g.node("Mul", &["r", "k"], &["y"], []);
        g.node("Softmax", &["y"], &["p"], [("axis", Attribute::Int(1))]);
        g.output("y", ElemType::Float, &[Dim::Unknown, 2.into()]);
        g.output("p", ElemType::Float, &[Dim::Unknown, 2.into()]);
        ModelBuilder::new(g)
            .producer("geneval", "0.0-test")
            .doc_string("doc")
            .metadata("key", "value")
    }

    #[test]
    fn small_model_matches_onnx_python() {
        // import numpy as np, onnx; from onnx import helper as h, numpy_helper as nh, TensorProto as T
        // g = h.make_graph(
        //     [h.make_node('Reshape', ['x', 'shape'], ['r'], name='reshape'),
        //      h.make_node('Mul', ['r', 'k'], ['y']), h.make_node('Softmax', ['y'], ['p'], axis=1)],
        //     'small', [h.make_tensor_value_info('x', T.FLOAT, ['N', 4])],
        //     [h.make_tensor_value_info('y', T.FLOAT, [None, 2]), h.make_tensor_value_info('p', T.FLOAT, [None, 2])],
        //     [nh.from_array(np.array([-1, 2], np.int64), 'shape'), nh.from_array(np.array([0.5], np.float32), 'k')])
        // m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)], producer_name='geneval',
        //                  producer_version='0.0-test', doc_string='doc', ir_version=8)
        // h.set_model_props(m, {'key': 'value'}); onnx.checker.check_model(m, full_check=True)
        // print(m.SerializeToString().hex())
        let expected = "0808120767656e6576616c1a08302e302d746573743203646f633ac0010a1f0a\
                        01780a0573686170651201721a07726573686170652207526573686170650a0e\
                        0a01720a016b12017922034d756c0a1c0a01791201702207536f66746d61782a\
                        0b0a04617869731801a001021205736d616c6c2a1d0802100742057368617065\
                        4a10ffffffffffffffff02000000000000002a0d0801100142016b4a04000000\
                        3f5a140a0178120f0a0d080112090a0312014e0a02080462110a0179120c0a0a\
                        080112060a000a02080262110a0170120c0a0a080112060a000a02080242040a\
                        001011720c0a036b6579120576616c7565";
        assert_eq!(hex(&small_model().to_bytes().unwrap()), expected);
    }

    #[test]
    fn defaults_and_opset_replacement() {
        let mut g = GraphBuilder::new("g");
        g.input("x", ElemType::Float, &[]);
        let model = ModelBuilder::new(g.clone())
            .opset("", 13)
            .opset("com.microsoft", 1);
        let bytes = model.to_bytes().unwrap();
        // ir_version 8 first, then the producer.
        assert_eq!(bytes[..4], [0x08, 0x08, 0x12, 0x07]);
        let tail = hex(&bytes);
        // opset_import { domain: "" version: 13 }, then the second domain.
        assert!(tail.contains("42040a00100d"), "{tail}");
        assert!(
            tail.contains("42110a0d636f6d2e6d6963726f736f66741001"),
            "{tail}"
        );
        assert!(!tail.contains("42040a001011"), "{tail}");
    }

    #[test]
    fn invalid_graphs_are_not_written() {
        let mut g = GraphBuilder::new("g");
        g.output("y", ElemType::Float, &[]);
        assert_eq!(
            ModelBuilder::new(g).to_bytes(),
            Err(OnnxError::UndefinedOutput { name: "y".into() })
        );
    }
}
