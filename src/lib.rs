//! geneval: evaluate generative models with the numbers of the reference
//! tools (pytorch-fid, clean-fid, torch-fidelity), many times faster.
//!
//! The binary is one call of [`app::main`]; the crate-private `cli` parses
//! and `commands` turns arguments into calls of the public stages:
//! [`images`] (discover, decode), [`files`] (`.npy`/`.npz`), [`preprocess`],
//! [`pipeline`] and [`backend`] (features from an ONNX model), [`networks`]
//! (the feature networks geneval builds), the statistics core
//! `geneval_metrics`, [`record`] (the JSON result record), and [`samples`]
//! (the thumbnails `geneval report` embeds).

pub mod app;
pub mod backend;
pub(crate) mod cli;
pub(crate) mod commands;
pub mod diagnostics;
pub mod experiment;
pub(crate) mod extract;
pub mod files;
pub mod fs;
pub mod gate;
pub mod generate;
pub mod images;
pub mod networks;
pub mod onnx;
pub mod pipeline;
pub mod preprocess;
pub(crate) mod progress;
pub mod record;
pub mod samples;
pub mod text;
