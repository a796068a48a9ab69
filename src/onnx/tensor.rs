//! Element types and constant tensors (`TensorProto`), stored as the
//! little-endian `raw_data` bytes they are written as.

use super::proto::{Message, Sink};

/// A tensor element type (`TensorProto.DataType`); the discriminant is the
/// ONNX code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElemType {
    /// `FLOAT`: 32-bit IEEE float.
    Float = 1,
    /// `UINT8`.
    Uint8 = 2,
    /// `INT8`.
    Int8 = 3,
    /// `INT32`.
    Int32 = 6,
    /// `INT64` (shapes, axes, indices).
    Int64 = 7,
    /// `BOOL`, one byte per element.
    Bool = 9,
    /// `FLOAT16`: 16-bit IEEE float.
    Float16 = 10,
    /// `DOUBLE`: 64-bit IEEE float.
    Double = 11,
}

impl ElemType {
    /// The `TensorProto.DataType` code.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// Bytes per element in `raw_data`.
    pub fn size(self) -> usize {
        match self {
            ElemType::Uint8 | ElemType::Int8 | ElemType::Bool => 1,
            ElemType::Float16 => 2,
            ElemType::Float | ElemType::Int32 => 4,
            ElemType::Int64 | ElemType::Double => 8,
        }
    }
}

/// A constant tensor: an initializer or a `Tensor` attribute value.
///
/// The values are kept as the `raw_data` bytes (little-endian, C order)
/// rather than as typed `float_data`/`int64_data`: raw bytes are what
/// exporters write for weights, and they are copied into the model with
/// one `memcpy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    elem_type: ElemType,
    dims: Vec<usize>,
    raw: Vec<u8>,
}

impl Tensor {
    /// A float32 tensor of `shape` (C order). A `data` length that does not
    /// match the shape is reported when the model is written.
    pub fn f32(shape: &[usize], data: &[f32]) -> Self {
        let mut raw = Vec::with_capacity(data.len() * 4);
        for value in data {
            raw.extend_from_slice(&value.to_le_bytes());
        }
        Self::from_raw(ElemType::Float, shape, raw)
    }

    /// An int64 tensor of `shape` (C order), e.g. a `Reshape` shape or
    /// `Resize` sizes.
    pub fn i64(shape: &[usize], data: &[i64]) -> Self {
        let mut raw = Vec::with_capacity(data.len() * 8);
        for value in data {
            raw.extend_from_slice(&value.to_le_bytes());
        }
        Self::from_raw(ElemType::Int64, shape, raw)
    }

    /// A tensor from its little-endian bytes in C order.
    pub fn from_raw(elem_type: ElemType, shape: &[usize], raw: Vec<u8>) -> Self {
        Self {
            elem_type,
            dims: shape.to_vec(),
            raw,
        }
    }

    /// The element type.
    pub fn elem_type(&self) -> ElemType {
        self.elem_type
    }

    /// The shape.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The little-endian bytes.
    pub fn raw_data(&self) -> &[u8] {
        &self.raw
    }

    /// The number of elements the shape holds (1 for a scalar).
    pub fn element_count(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether the bytes hold exactly the elements of the shape.
    pub(crate) fn is_consistent(&self) -> bool {
        self.dims
            .iter()
            .try_fold(self.elem_type.size(), |n, &d| n.checked_mul(d))
            == Some(self.raw.len())
    }
}

/// A [`Tensor`] with the name it is written under (`TensorProto`).
pub(crate) struct NamedTensor<'a> {
    pub(crate) name: &'a str,
    pub(crate) tensor: &'a Tensor,
}

impl Message for NamedTensor<'_> {
    fn write<S: Sink>(&self, sink: &mut S) {
        // TensorProto: dims = 1 (unpacked), data_type = 2, name = 8, raw_data = 9.
        for &d in &self.tensor.dims {
            sink.int(1, d as i64);
        }
        sink.int(2, i64::from(self.tensor.elem_type.code()));
        if !self.name.is_empty() {
            sink.bytes(8, self.name.as_bytes());
        }
        sink.bytes(9, &self.tensor.raw);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::networks::download::hex;

    #[test]
    fn float_tensor_matches_onnx_python() {
        // python -c "import numpy as np; from onnx import numpy_helper as h; print(h.from_array(np.array([[1, -2.5, 0]], np.float32), 'w').SerializeToString().hex())"
        let t = Tensor::f32(&[1, 3], &[1.0, -2.5, 0.0]);
        let bytes = NamedTensor {
            name: "w",
            tensor: &t,
        }
        .encode_to_vec();
        assert_eq!(
            hex(&bytes),
            "0801080310014201774a0c0000803f000020c000000000"
        );
    }

    #[test]
    fn int64_scalar_matches_onnx_python() {
        // A scalar has no dims.
        // python -c "import numpy as np; from onnx import numpy_helper as h; print(h.from_array(np.array(-3, np.int64), 'k').SerializeToString().hex())"
        let t = Tensor::i64(&[], &[-3]);
        assert_eq!(t.element_count(), 1);
        let bytes = NamedTensor {
            name: "k",
            tensor: &t,
        }
        .encode_to_vec();
        assert_eq!(hex(&bytes), "100742016b4a08fdffffffffffffff");
    }

    #[test]
    fn consistency_checks_bytes_against_shape() {
        assert!(Tensor::f32(&[2, 2], &[0.0; 4]).is_consistent());
        assert!(!Tensor::f32(&[2, 2], &[0.0; 3]).is_consistent());
        assert!(Tensor::i64(&[0, 5], &[]).is_consistent());
        assert!(!Tensor::from_raw(ElemType::Float16, &[3], vec![0; 5]).is_consistent());
        assert!(!Tensor::from_raw(ElemType::Uint8, &[usize::MAX, 2], vec![]).is_consistent());
    }
}
