//! The smoke test: a one-node model built in memory and run on the CPU, so
//! that checking the runtime needs no file.

use super::{Runtime, RuntimeError};
use crate::onnx::{Dim, ElemType, GraphBuilder, ModelBuilder, OnnxError};

/// A one-node ONNX model (`y = x + x`, float32 `[3]`, opset 13), built with
/// the ONNX writer ([`crate::onnx`]).
pub fn smoke_model() -> Result<Vec<u8>, OnnxError> {
    let shape = [Dim::Fixed(3)];
    let mut graph = GraphBuilder::new("geneval-smoke");
    graph.input("x", ElemType::Float, &shape);
    graph.node("Add", &["x", "x"], &["y"], []);
    graph.output("y", ElemType::Float, &shape);
    ModelBuilder::new(graph).opset("", 13).to_bytes()
}

impl Runtime {
    /// Builds a session from [`smoke_model`] on the CPU, runs it on
    /// `[1, 2, 3]` and checks the output is `[2, 4, 6]`.
    pub fn smoke_test(&self) -> Result<(), RuntimeError> {
        let fail = |message: String| RuntimeError::Init {
            path: self.path.clone(),
            message,
        };
        let model =
            smoke_model().map_err(|e| fail(format!("cannot write a one-node model: {e}")))?;
        let mut session = ort::session::Session::builder(&self.environment)
            .and_then(|mut b| b.commit_from_memory(&model))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::runtime::{cache_root, cached_library, init, INSTALL_COMMAND};

    #[test]
    fn the_smoke_model_is_one_add_node_on_three_floats_at_opset_13() {
        let bytes = smoke_model().unwrap();
        // ir_version 8 opens the model; the one opset import (field 8)
        // `{ domain: "", version: 13 }` closes it.
        assert_eq!(&bytes[..2], &[0x08, 0x08]);
        let opset_13 = [0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d];
        assert!(bytes.ends_with(&opset_13), "{bytes:02x?}");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("geneval-smoke") && text.contains("Add"),
            "{text}"
        );
    }

    #[test]
    fn the_installed_runtime_doubles_the_smoke_input() {
        let root = cache_root();
        if !root.is_some_and(|root| cached_library(&root, false).is_file()) {
            eprintln!("note: ONNX Runtime not installed (run {INSTALL_COMMAND}); skipped");
            return;
        }
        let runtime = init(None).unwrap();
        runtime.smoke_test().unwrap();
    }
}
