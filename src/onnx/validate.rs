//! The checks made before a graph is written.
//!
//! ONNX Runtime rejects a malformed graph too, but with a message about
//! the loaded model; checking here names the builder call that went wrong,
//! and keeps a model that a looser reader would accept from being written.

use std::collections::HashSet;

use super::attribute::Attribute;
use super::graph::GraphBuilder;
use super::tensor::{ElemType, Tensor};

/// Why a graph cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnnxError {
    /// A tensor's bytes do not hold the elements its shape says.
    #[error("tensor {what}: {bytes} bytes of {elem_type:?} do not fill shape {dims:?}; give one value per element")]
    TensorSize {
        /// The initializer, or the node attribute, holding the tensor.
        what: String,
        /// The element type.
        elem_type: ElemType,
        /// The shape.
        dims: Vec<usize>,
        /// The number of bytes given.
        bytes: usize,
    },
    /// Two graph inputs, two initializers, two graph outputs or a node
    /// output and anything defined before it share a name.
    #[error("{name} is defined twice ({what}); every value needs its own name (GraphBuilder::fresh_name)")]
    DuplicateName {
        /// The name.
        name: String,
        /// Which definition repeats it.
        what: String,
    },
    /// A node reads a value nothing has defined yet.
    #[error("node #{index} ({op_type}) reads {input}, which no graph input, initializer or earlier node defines; add nodes in execution order")]
    UndefinedInput {
        /// The node's position in the graph.
        index: usize,
        /// Its operator.
        op_type: String,
        /// The missing name.
        input: String,
    },
    /// A graph output no input, initializer or node defines.
    #[error("graph output {name} is not produced by any node, input or initializer")]
    UndefinedOutput {
        /// The name.
        name: String,
    },
    /// A node without an operator.
    #[error("node #{index} has no op_type")]
    EmptyOpType {
        /// The node's position in the graph.
        index: usize,
    },
}

/// Checks names (defined once, defined before use, outputs produced) and
/// tensor sizes.
pub(crate) fn validate(graph: &GraphBuilder) -> Result<(), OnnxError> {
    let duplicate = |name: &str, what: &str| OnnxError::DuplicateName {
        name: name.to_owned(),
        what: what.to_owned(),
    };
    let mut inputs = HashSet::new();
    for input in &graph.inputs {
        if !inputs.insert(input.name.as_str()) {
            return Err(duplicate(&input.name, "graph input"));
        }
    }
    // An initializer may share a graph input's name: that input then has a
    // default value (IR version 4 and later).
    let mut initializers = HashSet::new();
    for (name, tensor) in &graph.initializers {
        if !initializers.insert(name.as_str()) {
            return Err(duplicate(name, "initializer"));
        }
        check_tensor(tensor, || format!("initializer {name}"))?;
    }
    let mut defined: HashSet<&str> = inputs.union(&initializers).copied().collect();
    for (index, node) in graph.nodes.iter().enumerate() {
        if node.op_type().is_empty() {
            return Err(OnnxError::EmptyOpType { index });
        }
        for input in node.inputs() {
            if !input.is_empty() && !defined.contains(input.as_str()) {
                return Err(OnnxError::UndefinedInput {
                    index,
                    op_type: node.op_type().to_owned(),
                    input: input.clone(),
                });
            }
        }
        for (name, value) in node.attributes() {
            if let Attribute::Tensor(tensor) = value {
                check_tensor(tensor, || {
                    format!("attribute {name} of node #{index} ({})", node.op_type())
                })?;
            }
        }
        for output in node.outputs() {
            if !output.is_empty() && !defined.insert(output.as_str()) {
                let what = format!("output of node #{index} ({})", node.op_type());
                return Err(duplicate(output, &what));
            }
        }
    }
    let mut outputs = HashSet::new();
    for output in &graph.outputs {
        if !defined.contains(output.name.as_str()) {
            return Err(OnnxError::UndefinedOutput {
                name: output.name.clone(),
            });
        }
        if !outputs.insert(output.name.as_str()) {
            return Err(duplicate(&output.name, "graph output"));
        }
    }
    Ok(())
}

fn check_tensor(tensor: &Tensor, what: impl FnOnce() -> String) -> Result<(), OnnxError> {
    if tensor.is_consistent() {
        return Ok(());
    }
    Err(OnnxError::TensorSize {
        what: what(),
        elem_type: tensor.elem_type(),
        dims: tensor.dims().to_vec(),
        bytes: tensor.raw_data().len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::graph::Dim;

    fn graph() -> GraphBuilder {
        let mut g = GraphBuilder::new("g");
        g.input("x", ElemType::Float, &[Dim::symbolic("N")]);
        g.initializer_f32("w", &[1], &[2.0]);
        g
    }

    #[test]
    fn a_well_formed_graph_passes() {
        let mut g = graph();
        // An initializer may also be an input (one with a default value),
        // an optional input may be skipped, and an input may be an output.
        g.input("w", ElemType::Float, &[1.into()]);
        let y = g.op("Mul", &["x", "w"], []);
        g.node("Clip", &[&y, "", "w"], &["z"], []);
        g.output("z", ElemType::Float, &[]);
        g.output("x", ElemType::Float, &[]);
        assert_eq!(validate(&g), Ok(()));
    }

    #[test]
    fn tensor_sizes_are_checked() {
        let mut g = graph();
        g.initializer_f32("bad", &[2, 3], &[0.0; 5]);
        assert!(matches!(
            validate(&g),
            Err(OnnxError::TensorSize { what, bytes: 20, .. }) if what == "initializer bad"
        ));
        let mut g = graph();
        g.node(
            "Constant",
            &[],
            &["c"],
            [("value", Tensor::i64(&[2], &[1]).into())],
        );
        let err = validate(&g).unwrap_err();
        assert!(
            err.to_string().contains("attribute value of node #0"),
            "{err}"
        );
    }

    #[test]
    fn names_are_defined_once() {
        let mut g = graph();
        g.input("x", ElemType::Float, &[]);
        assert!(matches!(validate(&g), Err(OnnxError::DuplicateName { name, .. }) if name == "x"));

        let mut g = graph();
        g.initializer_f32("w", &[1], &[3.0]);
        assert!(matches!(validate(&g), Err(OnnxError::DuplicateName { name, .. }) if name == "w"));

        let mut g = graph();
        g.node("Relu", &["x"], &["w"], []);
        assert!(matches!(validate(&g), Err(OnnxError::DuplicateName { name, .. }) if name == "w"));

        let mut g = graph();
        g.node("Relu", &["x"], &["y"], []);
        g.node("Relu", &["x"], &["y"], []);
        assert!(matches!(validate(&g), Err(OnnxError::DuplicateName { name, .. }) if name == "y"));

        let mut g = graph();
        g.output("x", ElemType::Float, &[]);
        g.output("x", ElemType::Float, &[]);
        assert!(matches!(validate(&g), Err(OnnxError::DuplicateName { name, .. }) if name == "x"));
    }

    #[test]
    fn inputs_are_defined_before_use() {
        let mut g = graph();
        g.node("Relu", &["later"], &["y"], []);
        g.node("Relu", &["x"], &["later"], []);
        assert_eq!(
            validate(&g),
            Err(OnnxError::UndefinedInput {
                index: 0,
                op_type: "Relu".into(),
                input: "later".into()
            })
        );
    }

    #[test]
    fn outputs_and_op_types_are_checked() {
        let mut g = graph();
        g.output("nothing", ElemType::Float, &[]);
        assert_eq!(
            validate(&g),
            Err(OnnxError::UndefinedOutput {
                name: "nothing".into()
            })
        );
        let mut g = graph();
        g.node("", &["x"], &["y"], []);
        assert_eq!(validate(&g), Err(OnnxError::EmptyOpType { index: 0 }));
    }
}
