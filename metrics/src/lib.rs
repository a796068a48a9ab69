//! geneval-metrics: the pure statistics core of geneval.
//!
//! Features flow as `Features → Moments → Gaussian → frechet_distance`;
//! Inception Score, KID and precision/recall/density/coverage work on feature
//! matrices directly. Everything is f64 and free of I/O: files, images, ONNX
//! and tables live in other crates so this one stays small, testable and
//! usable from anywhere (threads, shards, machines).
#![deny(missing_docs)]

pub mod bootstrap;
pub mod error;
pub mod finite;
pub mod frechet;
pub mod inception_score;
pub mod kid;
mod knn;
mod linalg;
pub mod moments;
mod neighbourhood;
pub mod numpy_random;
pub mod prdc;
mod precision_recall;

pub use bootstrap::{frechet_bootstrap, FrechetBootstrap};
pub use error::{MetricsError, Result};
pub use frechet::{
    frechet_distance, frechet_distance_from_features, FrechetDistance, FrechetMethod,
};
pub use moments::{FeatureValue, Gaussian, Moments};
