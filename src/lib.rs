//! geneval: evaluate generative models with the numbers of the reference
//! tools (pytorch-fid, clean-fid, torch-fidelity), many times faster.
//!
//! The binary is a thin shell over this library: `cli` parses, `commands`
//! turns arguments into calls of `input` (files to arrays), the statistics
//! core `geneval_metrics`, and `record` (the JSON result record).

pub mod backend;
pub mod cli;
pub mod commands;
pub mod diagnostics;
pub mod extract;
pub mod files;
pub mod fs;
pub mod gate;
pub mod generate;
pub mod images;
pub mod networks;
pub mod onnx;
pub mod pipeline;
pub mod preprocess;
pub mod progress;
pub mod record;
pub mod text;
