//! Node attributes (`AttributeProto`).

use super::proto::{Message, Sink};
use super::tensor::{NamedTensor, Tensor};

/// A node attribute value: the kinds the standard operators take
/// (`kernel_shape`, `pads`, `axis`, `epsilon`, `mode`, a `Constant`'s value).
#[derive(Debug, Clone, PartialEq)]
pub enum Attribute {
    /// `FLOAT`, e.g. `BatchNormalization.epsilon`, `Gemm.alpha`.
    Float(f32),
    /// `INT`, e.g. `Concat.axis`, `AveragePool.count_include_pad`.
    Int(i64),
    /// `STRING`, e.g. `Resize.mode`, `Conv.auto_pad`.
    String(String),
    /// `TENSOR`, e.g. `Constant.value`.
    Tensor(Tensor),
    /// `FLOATS`.
    Floats(Vec<f32>),
    /// `INTS`, e.g. `Conv.pads`, `MaxPool.kernel_shape`.
    Ints(Vec<i64>),
}

impl Attribute {
    /// The `AttributeProto.AttributeType` code.
    fn type_code(&self) -> i64 {
        match self {
            Attribute::Float(_) => 1,
            Attribute::Int(_) => 2,
            Attribute::String(_) => 3,
            Attribute::Tensor(_) => 4,
            Attribute::Floats(_) => 6,
            Attribute::Ints(_) => 7,
        }
    }
}

impl From<i64> for Attribute {
    fn from(value: i64) -> Self {
        Attribute::Int(value)
    }
}

impl From<f32> for Attribute {
    fn from(value: f32) -> Self {
        Attribute::Float(value)
    }
}

impl From<&str> for Attribute {
    fn from(value: &str) -> Self {
        Attribute::String(value.to_owned())
    }
}

impl From<Vec<i64>> for Attribute {
    fn from(value: Vec<i64>) -> Self {
        Attribute::Ints(value)
    }
}

impl From<Vec<f32>> for Attribute {
    fn from(value: Vec<f32>) -> Self {
        Attribute::Floats(value)
    }
}

impl From<Tensor> for Attribute {
    fn from(value: Tensor) -> Self {
        Attribute::Tensor(value)
    }
}

/// An attribute with its name, as written (`AttributeProto`).
pub(crate) struct NamedAttribute<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: &'a Attribute,
}

impl Message for NamedAttribute<'_> {
    fn write<S: Sink>(&self, sink: &mut S) {
        // AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5,
        // floats = 7 (unpacked), ints = 8 (unpacked), type = 20.
        sink.bytes(1, self.name.as_bytes());
        match self.value {
            Attribute::Float(v) => sink.float(2, *v),
            Attribute::Int(v) => sink.int(3, *v),
            Attribute::String(v) => sink.bytes(4, v.as_bytes()),
            Attribute::Tensor(tensor) => sink.message(5, &NamedTensor { name: "", tensor }),
            Attribute::Floats(values) => values.iter().for_each(|&v| sink.float(7, v)),
            Attribute::Ints(values) => values.iter().for_each(|&v| sink.int(8, v)),
        }
        sink.int(20, self.value.type_code());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::networks::download::hex;

    fn encode(name: &str, value: Attribute) -> String {
        hex(&NamedAttribute {
            name,
            value: &value,
        }
        .encode_to_vec())
    }

    #[test]
    fn each_kind_matches_onnx_python() {
        // from onnx import helper as h, numpy_helper as nh; import numpy as np
        // for a in [h.make_attribute('pads', [1, 1, -1, 0]), h.make_attribute('axis', -1),
        //           h.make_attribute('epsilon', 1e-3), h.make_attribute('scales', [0.5, 2.0]),
        //           h.make_attribute('mode', 'linear'),
        //           h.make_attribute('value', nh.from_array(np.array([2, 3], np.int64), ''))]:
        //     print(a.SerializeToString().hex())
        assert_eq!(
            encode("pads", Attribute::Ints(vec![1, 1, -1, 0])),
            "0a04706164734001400140ffffffffffffffffff014000a00107"
        );
        assert_eq!(
            encode("axis", Attribute::Int(-1)),
            "0a046178697318ffffffffffffffffff01a00102"
        );
        assert_eq!(
            encode("epsilon", Attribute::Float(1e-3)),
            "0a07657073696c6f6e156f12833aa00101"
        );
        assert_eq!(
            encode("scales", Attribute::Floats(vec![0.5, 2.0])),
            "0a067363616c65733d0000003f3d00000040a00106"
        );
        assert_eq!(
            encode("mode", "linear".into()),
            "0a046d6f646522066c696e656172a00103"
        );
        assert_eq!(
            encode("value", Tensor::i64(&[2], &[2, 3]).into()),
            "0a0576616c75652a16080210074a1002000000000000000300000000000000a00104"
        );
    }
}
