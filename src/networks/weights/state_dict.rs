//! A PyTorch state dict as geneval holds it: named float32 tensors, each
//! contiguous in C order with its shape. What `pth` reads, `seeded` makes,
//! and `inception` turns into an ONNX graph.

use std::collections::BTreeMap;

/// One tensor: C-order data and its shape (`[]` for a scalar).
#[derive(Debug, Clone, PartialEq)]
pub struct TensorF32 {
    /// The shape.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values in C order.
    pub data: Vec<f32>,
}

impl TensorF32 {
    /// A tensor, checking that `data` fills `shape`.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Option<Self> {
        (shape.iter().product::<usize>() == data.len()).then_some(TensorF32 { shape, data })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether it holds no value.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Parameter and buffer name → tensor, sorted by name.
pub type StateDict = BTreeMap<String, TensorF32>;
