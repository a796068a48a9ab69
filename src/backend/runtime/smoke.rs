//! The smoke test: a one-node model run on the CPU, so that checking the
//! runtime needs no file.

use super::{Runtime, RuntimeError};

/// A one-node ONNX model (`y = x + x`, float32 `[3]`, opset 13), encoded
/// by hand so that checking the runtime needs no file.
pub fn smoke_model() -> Vec<u8> {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn int(field: u64, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(&mut out, field << 3);
        varint(&mut out, v);
        out
    }
    fn bytes(field: u64, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(&mut out, (field << 3) | 2);
        varint(&mut out, body.len() as u64);
        out.extend_from_slice(body);
        out
    }
    let value_info = |name: &str| {
        let dim = bytes(1, &int(1, 3)); // TensorShapeProto.dim { dim_value: 3 }
        let tensor = [int(1, 1), bytes(2, &dim)].concat(); // elem_type FLOAT, shape
                                                           // ValueInfoProto { name, type { tensor_type } }
        [bytes(1, name.as_bytes()), bytes(2, &bytes(1, &tensor))].concat()
    };
    let node = [
        bytes(1, b"x"),
        bytes(1, b"x"),
        bytes(2, b"y"),
        bytes(4, b"Add"),
    ]
    .concat();
    let graph = [
        bytes(1, &node),
        bytes(2, b"geneval-smoke"),
        bytes(11, &value_info("x")),
        bytes(12, &value_info("y")),
    ]
    .concat();
    let opset = int(2, 13);
    [int(1, 8), bytes(7, &graph), bytes(8, &opset)].concat()
}

impl Runtime {
    /// Builds a session from [`smoke_model`] on the CPU, runs it on
    /// `[1, 2, 3]` and checks the output is `[2, 4, 6]`.
    pub fn smoke_test(&self) -> Result<(), RuntimeError> {
        let fail = |message: String| RuntimeError::Init {
            path: self.path.clone(),
            message,
        };
        let mut session = ort::session::Session::builder(&self.environment)
            .and_then(|mut b| b.commit_from_memory(&smoke_model()))
            .map_err(|e| fail(format!("cannot build a session from a one-node model: {e}")))?;
        let input = ort::value::Tensor::from_array(([3usize], vec![1.0f32, 2.0, 3.0]))
            .map_err(|e| fail(e.to_string()))?;
        let outputs = session
            .run(ort::inputs!["x" => input])
            .map_err(|e| fail(format!("running a one-node model failed: {e}")))?;
        let (_, y) = outputs["y"]
            .try_extract_tensor::<f32>()
            .map_err(|e| fail(e.to_string()))?;
        if y != [2.0, 4.0, 6.0] {
            return Err(fail(format!(
                "a one-node model gave {y:?}, expected [2, 4, 6]"
            )));
        }
        Ok(())
    }
}
