//! Building a graph (`GraphProto`): typed inputs and outputs, constant
//! initializers and nodes in execution order.

use std::collections::HashSet;

use super::attribute::{Attribute, NamedAttribute};
use super::proto::{Message, Sink};
use super::tensor::{ElemType, NamedTensor, Tensor};

/// One dimension of a graph input's or output's shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dim {
    /// A known size (`dim_value`).
    Fixed(usize),
    /// A named size fixed at run time, e.g. the batch `N` (`dim_param`).
    /// Dimensions with the same name must be equal.
    Symbolic(String),
    /// A size nothing is said about (neither field set).
    Unknown,
}

impl Dim {
    /// A [`Dim::Symbolic`] dimension.
    pub fn symbolic(name: &str) -> Self {
        Dim::Symbolic(name.to_owned())
    }
}

impl From<usize> for Dim {
    fn from(size: usize) -> Self {
        Dim::Fixed(size)
    }
}

/// A graph input or output: a name, an element type and a shape
/// (`ValueInfoProto` with a tensor type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueInfo {
    /// The value's name.
    pub name: String,
    /// Its element type.
    pub elem_type: ElemType,
    /// Its shape (empty: a scalar).
    pub shape: Vec<Dim>,
}

/// One operator application (`NodeProto`).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    op_type: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
    name: String,
    domain: String,
    attributes: Vec<(String, Attribute)>,
}

impl Node {
    /// Gives the node a name (shown in ONNX Runtime's errors and profiles).
    pub fn named(&mut self, name: &str) -> &mut Self {
        name.clone_into(&mut self.name);
        self
    }

    /// Puts the operator in another domain than the default ONNX one (the
    /// model must import an opset for it: [`super::ModelBuilder::opset`]).
    pub fn domain(&mut self, domain: &str) -> &mut Self {
        domain.clone_into(&mut self.domain);
        self
    }

    /// The operator, e.g. `Conv`.
    pub fn op_type(&self) -> &str {
        &self.op_type
    }

    /// The input names; an empty name skips an optional input.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// The output names.
    pub fn outputs(&self) -> &[String] {
        &self.outputs
    }

    /// The name, empty when none was given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The attributes in the order given.
    pub fn attributes(&self) -> &[(String, Attribute)] {
        &self.attributes
    }
}

/// A graph under construction.
///
/// Nodes must be added in an order where every input is defined before it
/// is read (ONNX requires a topologically sorted graph); [`ModelBuilder::to_bytes`]
/// checks this and the other naming rules before writing anything.
///
/// [`ModelBuilder::to_bytes`]: super::ModelBuilder::to_bytes
#[derive(Debug, Clone, Default)]
pub struct GraphBuilder {
    pub(crate) name: String,
    pub(crate) inputs: Vec<ValueInfo>,
    pub(crate) outputs: Vec<ValueInfo>,
    pub(crate) initializers: Vec<(String, Tensor)>,
    pub(crate) nodes: Vec<Node>,
    /// Every name defined or handed out so far, for [`GraphBuilder::fresh_name`].
    taken: HashSet<String>,
}

impl GraphBuilder {
    /// An empty graph called `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, elem_type: ElemType, shape: &[Dim]) -> &mut Self {
        self.taken.insert(name.to_owned());
        self.inputs.push(ValueInfo {
            name: name.to_owned(),
            elem_type,
            shape: shape.to_vec(),
        });
        self
    }

    /// Declares a graph output; `name` must be defined by an input, an
    /// initializer or a node.
    pub fn output(&mut self, name: &str, elem_type: ElemType, shape: &[Dim]) -> &mut Self {
        self.outputs.push(ValueInfo {
            name: name.to_owned(),
            elem_type,
            shape: shape.to_vec(),
        });
        self
    }

    /// Adds a constant tensor (weights, shapes) nodes can read by `name`.
    pub fn initializer(&mut self, name: &str, tensor: Tensor) -> &mut Self {
        self.taken.insert(name.to_owned());
        self.initializers.push((name.to_owned(), tensor));
        self
    }

    /// Adds a float32 initializer of `shape` from `data` in C order.
    pub fn initializer_f32(&mut self, name: &str, shape: &[usize], data: &[f32]) -> &mut Self {
        self.initializer(name, Tensor::f32(shape, data))
    }

    /// Adds an int64 initializer of `shape` from `data` in C order.
    pub fn initializer_i64(&mut self, name: &str, shape: &[usize], data: &[i64]) -> &mut Self {
        self.initializer(name, Tensor::i64(shape, data))
    }

    /// Appends a node applying `op_type` to `inputs` (an empty name skips an
    /// optional input), defining `outputs`. Returns the node to name it.
    pub fn node<'a>(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        outputs: &[&str],
        attributes: impl IntoIterator<Item = (&'a str, Attribute)>,
    ) -> &mut Node {
        self.taken.extend(outputs.iter().map(|&o| o.to_owned()));
        self.nodes.push(Node {
            op_type: op_type.to_owned(),
            inputs: inputs.iter().map(|&i| i.to_owned()).collect(),
            outputs: outputs.iter().map(|&o| o.to_owned()).collect(),
            name: String::new(),
            domain: String::new(),
            attributes: attributes
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        });
        self.nodes.last_mut().expect("a node was just pushed")
    }

    /// Appends a one-output node whose output gets a fresh name (see
    /// [`GraphBuilder::fresh_name`], prefixed with the operator), and
    /// returns that name: `let y = g.op("Relu", &[&x], []);`.
    pub fn op<'a>(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        attributes: impl IntoIterator<Item = (&'a str, Attribute)>,
    ) -> String {
        let output = self.fresh_name(op_type);
        self.node(op_type, inputs, &[&output], attributes);
        output
    }

    /// A name not used so far in this graph: `prefix` itself if free, else
    /// `prefix_1`, `prefix_2`, ... The name is reserved, so two calls never
    /// return the same name.
    pub fn fresh_name(&mut self, prefix: &str) -> String {
        let mut name = prefix.to_owned();
        let mut n = 0usize;
        while self.taken.contains(&name) {
            n += 1;
            name = format!("{prefix}_{n}");
        }
        self.taken.insert(name.clone());
        name
    }

    /// The graph's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The nodes in order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The initializers in order, with their names.
    pub fn initializers(&self) -> &[(String, Tensor)] {
        &self.initializers
    }

    /// The graph inputs.
    pub fn inputs(&self) -> &[ValueInfo] {
        &self.inputs
    }

    /// The graph outputs.
    pub fn outputs(&self) -> &[ValueInfo] {
        &self.outputs
    }
}

impl Message for GraphBuilder {
    fn write<S: Sink>(&self, sink: &mut S) {
        // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
        for node in &self.nodes {
            sink.message(1, node);
        }
        sink.bytes(2, self.name.as_bytes());
        for (name, tensor) in &self.initializers {
            sink.message(5, &NamedTensor { name, tensor });
        }
        for input in &self.inputs {
            sink.message(11, input);
        }
        for output in &self.outputs {
            sink.message(12, output);
        }
    }
}

impl Message for Node {
    fn write<S: Sink>(&self, sink: &mut S) {
        // NodeProto: input = 1, output = 2, name = 3, op_type = 4,
        // attribute = 5, domain = 7.
        for input in &self.inputs {
            sink.bytes(1, input.as_bytes());
        }
        for output in &self.outputs {
            sink.bytes(2, output.as_bytes());
        }
        if !self.name.is_empty() {
            sink.bytes(3, self.name.as_bytes());
        }
        sink.bytes(4, self.op_type.as_bytes());
        for (name, value) in &self.attributes {
            sink.message(5, &NamedAttribute { name, value });
        }
        if !self.domain.is_empty() {
            sink.bytes(7, self.domain.as_bytes());
        }
    }
}

impl Message for ValueInfo {
    fn write<S: Sink>(&self, sink: &mut S) {
        // ValueInfoProto: name = 1, type = 2.
        sink.bytes(1, self.name.as_bytes());
        sink.message(2, &TypeProto(self));
    }
}

/// `TypeProto { tensor_type = 1 }`.
struct TypeProto<'a>(&'a ValueInfo);

impl Message for TypeProto<'_> {
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.message(1, &TensorTypeProto(self.0));
    }
}

/// `TypeProto.Tensor { elem_type = 1, shape = 2 }`; the shape is always
/// written (an empty one is a scalar, a missing one an unknown rank).
struct TensorTypeProto<'a>(&'a ValueInfo);

impl Message for TensorTypeProto<'_> {
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.int(1, i64::from(self.0.elem_type.code()));
        sink.message(2, &ShapeProto(&self.0.shape));
    }
}

/// `TensorShapeProto { dim = 1 }`, each `Dimension { dim_value = 1 | dim_param = 2 }`.
struct ShapeProto<'a>(&'a [Dim]);

impl Message for ShapeProto<'_> {
    fn write<S: Sink>(&self, sink: &mut S) {
        for dim in self.0 {
            sink.message(1, dim);
        }
    }
}

impl Message for Dim {
    fn write<S: Sink>(&self, sink: &mut S) {
        match self {
            Dim::Fixed(size) => sink.int(1, *size as i64),
            Dim::Symbolic(name) => sink.bytes(2, name.as_bytes()),
            Dim::Unknown => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::networks::download::hex;

    #[test]
    fn value_info_matches_onnx_python() {
        // python -c "from onnx import helper as h, TensorProto as T; print(h.make_tensor_value_info('x', T.FLOAT, ['N', 3, None]).SerializeToString().hex())"
        let info = ValueInfo {
            name: "x".into(),
            elem_type: ElemType::Float,
            shape: vec![Dim::symbolic("N"), 3.into(), Dim::Unknown],
        };
        assert_eq!(
            hex(&info.encode_to_vec()),
            "0a017812110a0f0801120b0a0312014e0a0208030a00"
        );
        // A scalar still has an (empty) shape:
        // python -c "from onnx import helper as h, TensorProto as T; print(h.make_tensor_value_info('s', T.INT64, []).SerializeToString().hex())"
        let scalar = ValueInfo {
            name: "s".into(),
            elem_type: ElemType::Int64,
            shape: vec![],
        };
        assert_eq!(hex(&scalar.encode_to_vec()), "0a017312060a0408071200");
    }

    #[test]
    fn node_matches_onnx_python() {
        // python -c "from onnx import helper as h; print(h.make_node('Conv', ['x', 'w', ''], ['y'], name='c1', strides=[2, 2], group=1).SerializeToString().hex())"
        // (make_node sorts keyword attributes by name.)
        let mut g = GraphBuilder::new("g");
        g.node(
            "Conv",
            &["x", "w", ""],
            &["y"],
            [("group", Attribute::Int(1)), ("strides", vec![2, 2].into())],
        )
        .named("c1");
        assert_eq!(
            hex(&g.nodes()[0].encode_to_vec()),
            "0a01780a01770a001201791a0263312204436f6e762a0c0a0567726f75701801a00102\
             2a100a077374726964657340024002a00107"
        );
    }

    #[test]
    fn fresh_names_avoid_every_defined_name() {
        let mut g = GraphBuilder::new("g");
        g.input("x", ElemType::Float, &[1.into()]);
        g.initializer_f32("Relu", &[1], &[0.0]);
        assert_eq!(g.fresh_name("y"), "y");
        assert_eq!(g.fresh_name("y"), "y_1");
        assert_eq!(g.fresh_name("x"), "x_1");
        let a = g.op("Relu", &["x"], []);
        let b = g.op("Relu", &[&a], []);
        assert_eq!((a.as_str(), b.as_str()), ("Relu_1", "Relu_2"));
        g.node("Identity", &[&b], &["out_1"], []);
        assert_eq!(g.fresh_name("out"), "out");
        assert_eq!(g.fresh_name("out"), "out_2");
    }
}
