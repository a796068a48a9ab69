//! What a feature model expects and gives: the input tensor's name, layout,
//! size and value range, and which output holds the features.
//!
//! A spec comes from three places, later ones winning: what the ONNX model
//! itself declares (one rank-4 float input with a fixed size and 3 channels
//! tells name, layout and size), a JSON sidecar next to the model
//! (`model.onnx` → `model.onnx.json`, or `--model-spec FILE`), and command-line
//! flags. It is then checked against the model's declared inputs and outputs
//! before any image is decoded, so a mismatch costs nothing.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::BackendError;

/// Channel order of the input tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layout {
    /// `[N, 3, H, W]` (PyTorch's, and ONNX's convention).
    #[serde(rename = "NCHW", alias = "nchw")]
    Nchw,
    /// `[N, H, W, 3]` (TensorFlow's).
    #[serde(rename = "NHWC", alias = "nhwc")]
    Nhwc,
}

/// How an output of rank > 2 becomes one vector per image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// The output must already be `[N, D]` (trailing dimensions of size 1,
    /// as in `[N, D, 1, 1]`, are dropped).
    #[default]
    None,
    /// `[N, C, ...]` → mean over every axis after the channels (global
    /// average pooling of a convolutional map).
    Spatial,
    /// `[N, T, C]` → mean over the tokens (transformer encoders).
    Tokens,
    /// `[N, T, C]` → the first token (a ViT's class token, DINOv2's CLS).
    FirstToken,
}

/// The value range the model wants, before mean/std normalisation.
///
/// The preprocessing modes produce the ranges of the reference tools
/// (pytorch-fid: `2·x/255 − 1`; tf and clean: `(x − 128)/128`); a spec
/// asking for `[-1, 1]` and no mean/std gets exactly those values, untouched.
/// Any other range is an affine map of them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValueRange {
    /// Value of a 0 pixel.
    pub low: f32,
    /// Value of a 255 pixel.
    pub high: f32,
}

impl ValueRange {
    /// The reference tools' range.
    pub const MINUS_ONE_ONE: ValueRange = ValueRange {
        low: -1.0,
        high: 1.0,
    };
}

/// Everything the pipeline needs to feed a model and read its features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Name of the image input.
    pub input: String,
    /// Layout of the image input.
    pub layout: Layout,
    /// Input width in pixels.
    pub width: u32,
    /// Input height in pixels.
    pub height: u32,
    /// Value range of the input.
    pub range: ValueRange,
    /// Per-channel mean subtracted after the range mapping (e.g. ImageNet's).
    pub mean: Option<[f32; 3]>,
    /// Per-channel standard deviation divided by after the mean.
    pub std: Option<[f32; 3]>,
    /// Output holding the features.
    pub features: String,
    /// How the features output becomes a vector per image.
    pub pooling: Pooling,
    /// Output holding class logits (for the Inception Score), if any.
    pub logits: Option<String>,
}

/// A sidecar file: every field optional, overriding what the model declares.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecOverrides {
    /// See [`ModelSpec::input`].
    pub input: Option<String>,
    /// See [`ModelSpec::layout`].
    pub layout: Option<Layout>,
    /// See [`ModelSpec::width`].
    pub width: Option<u32>,
    /// See [`ModelSpec::height`].
    pub height: Option<u32>,
    /// See [`ModelSpec::range`]: `[low, high]`.
    pub range: Option<[f32; 2]>,
    /// See [`ModelSpec::mean`].
    pub mean: Option<[f32; 3]>,
    /// See [`ModelSpec::std`].
    pub std: Option<[f32; 3]>,
    /// See [`ModelSpec::features`].
    pub features: Option<String>,
    /// See [`ModelSpec::pooling`].
    pub pooling: Option<Pooling>,
    /// See [`ModelSpec::logits`].
    pub logits: Option<String>,
}

impl SpecOverrides {
    /// `other`'s fields replace ours where set.
    pub fn then(self, other: SpecOverrides) -> SpecOverrides {
        SpecOverrides {
            input: other.input.or(self.input),
            layout: other.layout.or(self.layout),
            width: other.width.or(self.width),
            height: other.height.or(self.height),
            range: other.range.or(self.range),
            mean: other.mean.or(self.mean),
            std: other.std.or(self.std),
            features: other.features.or(self.features),
            pooling: other.pooling.or(self.pooling),
            logits: other.logits.or(self.logits),
        }
    }

    /// Reads a JSON sidecar: a regular file of at most [`SIDECAR_LIMIT`]
    /// bytes (a FIFO would block the open, a link to `/dev/zero` would fill
    /// memory).
    pub fn read(path: &Path) -> Result<SpecOverrides, BackendError> {
        let bytes =
            crate::fs::read::read_regular_limited(path, Some(SIDECAR_LIMIT)).map_err(|source| {
                BackendError::Io {
                    path: path.to_owned(),
                    source,
                }
            })?;
        serde_json::from_slice(&bytes).map_err(|e| BackendError::Spec {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

/// The most bytes of a model spec sidecar read into memory: a spec is a few
/// hundred bytes; anything larger is a mistake, refused before memory is
/// reserved for it.
pub const SIDECAR_LIMIT: u64 = 16 << 20;

/// The sidecar geneval looks for next to a model: `model.onnx` → `model.onnx.json`.
pub fn sidecar_path(model: &Path) -> PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

/// One input or output of a model as it declares it: element type name and
/// shape, `None` for a dynamic dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The name.
    pub name: String,
    /// Whether it is a float32 tensor.
    pub is_f32: bool,
    /// The shape; `None` where dynamic (or not a tensor).
    pub shape: Option<Vec<Option<u64>>>,
}

impl Port {
    /// `name (float32 [?, 3, 299, 299])`.
    pub fn describe(&self) -> String {
        let dims = match &self.shape {
            Some(shape) => shape
                .iter()
                .map(|d| d.map_or("?".to_string(), |d| d.to_string()))
                .collect::<Vec<_>>()
                .join(", "),
            None => "not a tensor".into(),
        };
        let ty = if self.is_f32 {
            "float32"
        } else {
            "not float32"
        };
        format!("{} ({ty} [{dims}])", self.name)
    }
}

fn list(ports: &[Port]) -> String {
    ports
        .iter()
        .map(Port::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds the spec of `model` from what it declares plus `overrides`, and
/// checks the result against the declared ports.
pub fn resolve(
    model: &Path,
    inputs: &[Port],
    outputs: &[Port],
    overrides: SpecOverrides,
) -> Result<ModelSpec, BackendError> {
    let fail = |message: String| BackendError::SpecMismatch {
        model: model.to_owned(),
        message,
    };
    let input = match overrides.input {
        Some(name) => inputs
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                fail(format!(
                    "the spec names input `{name}`, the model's inputs are {}",
                    list(inputs)
                ))
            })?
            .clone(),
        None => match inputs {
            [only] => only.clone(),
            _ => {
                return Err(fail(format!(
                    "the model has {} inputs ({}); say which takes the images with \"input\" in the spec",
                    inputs.len(),
                    list(inputs)
                )))
            }
        },
    };
    if !input.is_f32 {
        return Err(fail(format!(
            "input {} must be a float32 tensor",
            input.describe()
        )));
    }
    let shape = input.shape.clone().unwrap_or_default();
    if shape.len() != 4 {
        return Err(fail(format!(
            "input {} must have rank 4 (a batch of images)",
            input.describe()
        )));
    }
    let layout = match overrides.layout {
        Some(layout) => layout,
        None => match (shape[1], shape[3]) {
            (Some(3), _) => Layout::Nchw,
            (_, Some(3)) => Layout::Nhwc,
            _ => {
                return Err(fail(format!(
                    "cannot tell the layout of input {}; set \"layout\": \"NCHW\" or \"NHWC\" in the spec",
                    input.describe()
                )))
            }
        },
    };
    let (channel, h_axis, w_axis) = match layout {
        Layout::Nchw => (1, 2, 3),
        Layout::Nhwc => (3, 1, 2),
    };
    if let Some(c) = shape[channel] {
        if c != 3 {
            return Err(fail(format!(
                "input {} has {c} channels in {layout:?} layout; geneval feeds RGB (3)",
                input.describe()
            )));
        }
    }
    let side = |value: Option<u32>, declared: Option<u64>, what: &str| match (value, declared) {
        (Some(v), Some(d)) if u64::from(v) != d => Err(fail(format!(
            "the spec says {what} {v}, input {} declares {d}",
            input.describe()
        ))),
        (Some(0), _) => Err(fail(format!("{what} must be positive"))),
        (Some(v), _) => Ok(v),
        (None, Some(d)) if d > 0 && d <= u64::from(u32::MAX) => Ok(d as u32),
        (None, _) => Err(fail(format!(
            "input {} has a dynamic {what}; set \"{what}\" in the spec",
            input.describe()
        ))),
    };
    let height = side(overrides.height, shape[h_axis], "height")?;
    let width = side(overrides.width, shape[w_axis], "width")?;

    let find_output = |name: &str| {
        outputs.iter().find(|p| p.name == name).ok_or_else(|| {
            fail(format!(
                "the spec names output `{name}`, the model's outputs are {}",
                list(outputs)
            ))
        })
    };
    let features = match overrides.features {
        Some(name) => find_output(&name)?.clone(),
        None => outputs
            .first()
            .ok_or_else(|| fail("the model has no outputs".into()))?
            .clone(),
    };
    if !features.is_f32 {
        return Err(fail(format!(
            "features output {} must be float32",
            features.describe()
        )));
    }
    let logits = match overrides.logits {
        Some(name) => Some(find_output(&name)?.name.clone()),
        None => None,
    };
    let range = overrides
        .range
        .map(|[low, high]| ValueRange { low, high })
        .unwrap_or(ValueRange::MINUS_ONE_ONE);
    if !(range.low.is_finite() && range.high.is_finite()) || range.low == range.high {
        return Err(fail(format!(
            "range [{}, {}] must be two different finite numbers",
            range.low, range.high
        )));
    }
    if let Some(std) = overrides.std {
        if std.iter().any(|s| !s.is_finite() || *s == 0.0) {
            return Err(fail(format!("std {std:?} must be finite and non-zero")));
        }
    }
    Ok(ModelSpec {
        input: input.name,
        layout,
        width,
        height,
        range,
        mean: overrides.mean,
        std: overrides.std,
        features: features.name,
        pooling: overrides.pooling.unwrap_or_default(),
        logits,
    })
}

impl ModelSpec {
    /// Per-channel `(scale, offset)` turning the reference tools' `[-1, 1]`
    /// values into this model's; `None` when they are used as they are.
    pub fn channel_affine(&self) -> Option<[(f32, f32); 3]> {
        if self.range == ValueRange::MINUS_ONE_ONE && self.mean.is_none() && self.std.is_none() {
            return None;
        }
        // x in [-1, 1] → low + (high − low)·(x + 1)/2 → (· − mean)/std
        let half = (self.range.high - self.range.low) / 2.0;
        let mid = self.range.low + half;
        let mean = self.mean.unwrap_or([0.0; 3]);
        let std = self.std.unwrap_or([1.0; 3]);
        Some(std::array::from_fn(|c| {
            (half / std[c], (mid - mean[c]) / std[c])
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(name: &str, shape: &[Option<u64>]) -> Port {
        Port {
            name: name.into(),
            is_f32: true,
            shape: Some(shape.to_vec()),
        }
    }

    fn nchw() -> Vec<Port> {
        vec![port("x", &[None, Some(3), Some(64), Some(32)])]
    }

    #[test]
    fn infers_name_layout_and_size_from_the_model() {
        let outputs = vec![port("f", &[None, Some(8)]), port("l", &[None, Some(4)])];
        let spec = resolve(
            Path::new("m.onnx"),
            &nchw(),
            &outputs,
            SpecOverrides::default(),
        )
        .unwrap();
        assert_eq!(spec.input, "x");
        assert_eq!(spec.layout, Layout::Nchw);
        assert_eq!((spec.width, spec.height), (32, 64));
        assert_eq!(spec.features, "f");
        assert_eq!(spec.logits, None);
        assert_eq!(spec.channel_affine(), None);

        let nhwc = vec![port("img", &[None, Some(20), Some(10), Some(3)])];
        let spec = resolve(
            Path::new("m.onnx"),
            &nhwc,
            &outputs,
            SpecOverrides::default(),
        )
        .unwrap();
        assert_eq!(spec.layout, Layout::Nhwc);
        assert_eq!((spec.width, spec.height), (10, 20));
    }

    #[test]
    fn mismatches_are_reported_with_the_model_path() {
        let outputs = vec![port("f", &[None, Some(8)])];
        let cases = [
            SpecOverrides {
                input: Some("images".into()),
                ..Default::default()
            },
            SpecOverrides {
                width: Some(31),
                ..Default::default()
            },
            SpecOverrides {
                layout: Some(Layout::Nhwc),
                ..Default::default()
            },
            SpecOverrides {
                features: Some("pool3".into()),
                ..Default::default()
            },
            SpecOverrides {
                std: Some([1.0, 0.0, 1.0]),
                ..Default::default()
            },
        ];
        for overrides in cases {
            let err = resolve(
                Path::new("dir/m.onnx"),
                &nchw(),
                &outputs,
                overrides.clone(),
            )
            .unwrap_err();
            let text = err.to_string();
            assert!(text.contains("dir/m.onnx"), "{text}");
            assert!(
                matches!(err, BackendError::SpecMismatch { .. }),
                "{overrides:?}"
            );
        }
        let dynamic = vec![port("x", &[None, Some(3), None, None])];
        let err = resolve(
            Path::new("m.onnx"),
            &dynamic,
            &outputs,
            SpecOverrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("dynamic height"), "{err}");
        let spec = resolve(
            Path::new("m.onnx"),
            &dynamic,
            &outputs,
            SpecOverrides {
                width: Some(224),
                height: Some(224),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((spec.width, spec.height), (224, 224));
    }

    #[test]
    fn affine_maps_minus_one_one_to_the_requested_normalisation() {
        let outputs = vec![port("f", &[None, Some(8)])];
        let spec = resolve(
            Path::new("m.onnx"),
            &nchw(),
            &outputs,
            SpecOverrides {
                range: Some([0.0, 1.0]),
                mean: Some([0.485, 0.456, 0.406]),
                std: Some([0.229, 0.224, 0.225]),
                ..Default::default()
            },
        )
        .unwrap();
        let affine = spec.channel_affine().unwrap();
        for (c, (scale, offset)) in affine.iter().enumerate() {
            let mean = [0.485f32, 0.456, 0.406][c];
            let std = [0.229f32, 0.224, 0.225][c];
            for x01 in [0.0f32, 0.3, 1.0] {
                let x = 2.0 * x01 - 1.0;
                let want = (x01 - mean) / std;
                assert!((scale * x + offset - want).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn sidecar_json_parses_and_rejects_unknown_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.onnx.json");
        std::fs::write(
            &path,
            r#"{"input": "pixel_values", "layout": "NCHW", "width": 224, "height": 224,
                "range": [0, 1], "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
                "features": "pooler_output", "pooling": "first-token"}"#,
        )
        .unwrap();
        let o = SpecOverrides::read(&path).unwrap();
        assert_eq!(o.pooling, Some(Pooling::FirstToken));
        assert_eq!(o.range, Some([0.0, 1.0]));
        assert_eq!(
            sidecar_path(Path::new("a/m.onnx")),
            Path::new("a/m.onnx.json")
        );
        std::fs::write(&path, r#"{"inputs": "x"}"#).unwrap();
        let err = SpecOverrides::read(&path).unwrap_err();
        assert!(err.to_string().contains("inputs"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_sidecar_linked_to_dev_zero_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.onnx.json");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let err = SpecOverrides::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("m.onnx.json") && err.contains("a device, not a regular file"),
            "{err}"
        );
    }
}
