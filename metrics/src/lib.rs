//! geneval-metrics: the pure statistics core of geneval.
//!
//! Features flow as `Features → Moments → Gaussian → frechet_distance`;
//! Inception Score, KID, CMMD and precision/recall/density/coverage work on
//! feature matrices directly. Everything is f64 and free of I/O: files,
//! images, ONNX and tables live in other crates so this one stays small,
//! testable and usable from anywhere (threads, shards, machines).
//!
//! # A tour
//!
//! | you have | call | matches |
//! |---|---|---|
//! | features, batch by batch or in shards | [`Moments::update`], [`Moments::merge`], [`Moments::gaussian`] | `np.cov` (ddof 1), pytorch-fid's `mu`/`sigma` |
//! | two `mu`/`sigma` pairs | [`frechet_distance`] | pytorch-fid's `calculate_frechet_distance` |
//! | two feature sets | [`frechet_distance_from_features`], [`frechet_bootstrap`] (its spread) | pytorch-fid |
//! | classifier logits | [`inception_score::inception_score`] | torch-fidelity `isc` |
//! | two feature sets | [`kid::kid`] | torch-fidelity `kid` |
//! | real and fake features | [`prdc::prdc`], [`prdc::improved_precision_recall`] | `prdc` package, torch-fidelity `prc` |
//! | two CLIP embedding sets | [`cmmd::cmmd`] | google-research `cmmd` (`distance.mmd`), in float64 |
//! | training and generated features | [`authenticity::authenticity`] | dgm-eval `compute_authpct` |
//! | training, held-out and generated features | [`data_copying::data_copying`] | dgm-eval `compute_CTscore` |
//!
//! Seeded draws (the IS shuffle, KID subsets, bootstrap) use
//! [`numpy_random::RandomState`], numpy's legacy generator bit for bit, so a
//! seed gives the numbers the Python tools give. Every failure is a
//! [`MetricsError`] naming the input or parameter concerned.
//!
//! # Example
//!
//! FID of a fake set against a real one whose statistics were accumulated
//! on two machines, one batch at a time, and the other metrics on the same
//! features:
//!
//! ```
//! use geneval_metrics::kid::{kid, KidSettings};
//! use geneval_metrics::numpy_random::RandomState;
//! use geneval_metrics::prdc::{prdc, PRDC_DEFAULT_K};
//! use geneval_metrics::{frechet_distance, frechet_distance_from_features, Moments};
//! use ndarray::{s, Array2};
//!
//! // Stand-ins for network features: 200 samples of 8 features each, and a
//! // fake set that is the real one moved by 0.5 along every feature.
//! let mut rng = RandomState::new(0);
//! let real = Array2::from_shape_simple_fn((200, 8), || rng.random_sample() as f32);
//! let fake = &real + 0.5f32;
//!
//! // Each machine folds its half of the real set in, 50 rows per batch...
//! let mut shards = Vec::new();
//! for half in [real.slice(s![..100, ..]), real.slice(s![100.., ..])] {
//!     let mut moments = Moments::new(8);
//!     for batch in half.axis_chunks_iter(ndarray::Axis(0), 50) {
//!         moments.update(batch)?;
//!     }
//!     shards.push(moments);
//! }
//! // ...and the parts merge exactly into the statistics of all 200 rows.
//! let mut real_moments = Moments::new(8);
//! for shard in &shards {
//!     real_moments.merge(shard)?;
//! }
//! let real_stats = real_moments.gaussian()?;
//! let fake_stats = Moments::from_features(fake.view())?.gaussian()?;
//!
//! // Equal covariances: FID is the squared distance of the means, 8 × 0.5².
//! let fid = frechet_distance(&real_stats, &fake_stats)?;
//! assert!((fid.value - 2.0).abs() < 1e-6);
//! let direct = frechet_distance_from_features(real.view(), fake.view())?;
//! assert!((direct.value - fid.value).abs() < 1e-9);
//!
//! // KID and PRDC keep the features (as f64).
//! let (real, fake) = (real.mapv(f64::from), fake.mapv(f64::from));
//! let k = kid(real.view(), fake.view(), &KidSettings::default())?;
//! assert!(k.mean > 0.0);
//! let same = prdc(real.view(), real.view(), PRDC_DEFAULT_K)?;
//! assert_eq!((same.precision, same.recall, same.coverage), (1.0, 1.0, 1.0));
//! # Ok::<(), geneval_metrics::MetricsError>(())
//! ```
#![deny(missing_docs)]

pub mod authenticity;
pub mod bootstrap;
pub mod cmmd;
pub mod data_copying;
pub mod error;
pub mod finite;
pub mod frechet;
pub mod inception_score;
pub mod kid;
mod kmeans;
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
