//! Checking a state dict against the layout a network builder expects:
//! every missing, unexpected and misshapen key reported at once, and the
//! first non-finite weight named. Each family (Inception, the ViTs) lists
//! its expected keys; this is the one check they share.

use super::StateDict;

/// A state-dict key whose shape is not the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeMismatch {
    /// The key.
    pub key: String,
    /// The shape the network needs.
    pub expected: Vec<usize>,
    /// The shape in the file.
    pub found: Vec<usize>,
}

/// Everything that keeps a state dict from being the expected layout.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LayoutMismatch {
    /// The network whose layout was expected, e.g. "pytorch-fid's FID Inception network".
    pub network: String,
    /// How many tensors that layout has.
    pub expected_tensors: usize,
    /// Keys the network needs that are absent, with their shapes.
    pub missing: Vec<(String, Vec<usize>)>,
    /// Keys present that the network does not have.
    pub unexpected: Vec<(String, Vec<usize>)>,
    /// Keys present with another shape.
    pub wrong_shape: Vec<ShapeMismatch>,
}

impl LayoutMismatch {
    /// Whether the dict matched.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.wrong_shape.is_empty()
    }
}

/// How many items of each list a message shows.
const LISTED: usize = 6;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn list<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    let mut text: Vec<String> = items.iter().take(LISTED).map(show).collect();
    if items.len() > LISTED {
        text.push(format!("and {} more", items.len() - LISTED));
    }
    text.join(", ")
}

impl std::fmt::Display for LayoutMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "{} missing: {}",
                plural(self.missing.len(), "key", "keys"),
                list(&self.missing, |(k, s)| format!("{k} {s:?}"))
            ));
        }
        if !self.unexpected.is_empty() {
            parts.push(format!(
                "{} unexpected: {}",
                plural(self.unexpected.len(), "key", "keys"),
                list(&self.unexpected, |(k, s)| format!("{k} {s:?}"))
            ));
        }
        if !self.wrong_shape.is_empty() {
            parts.push(format!(
                "{} of the wrong shape: {}",
                plural(self.wrong_shape.len(), "key", "keys"),
                list(&self.wrong_shape, |m| format!(
                    "{} (expected {:?}, found {:?})",
                    m.key, m.expected, m.found
                ))
            ));
        }
        write!(
            f,
            "not the state dict of {} ({} tensors): {}",
            self.network,
            self.expected_tensors,
            parts.join("; ")
        )
    }
}

/// A weight that is NaN or infinite.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFiniteWeight {
    /// The key.
    pub key: String,
    /// The first bad value's index (C order).
    pub index: usize,
    /// The value.
    pub value: f32,
}

/// Compares `dict` with `expected` (key, shape) pairs; keys for which
/// `ignored` is true (buffers such as `num_batches_tracked`, another tower
/// of the same file) are neither needed nor unexpected.
pub fn check_layout(
    dict: &StateDict,
    expected: &[(String, Vec<usize>)],
    network: &str,
    ignored: impl Fn(&str) -> bool,
) -> LayoutMismatch {
    let mut mismatch = LayoutMismatch {
        network: network.to_owned(),
        expected_tensors: expected.len(),
        ..LayoutMismatch::default()
    };
    for (key, shape) in expected {
        match dict.get(key) {
            None => mismatch.missing.push((key.clone(), shape.clone())),
            Some(t) if &t.shape != shape => mismatch.wrong_shape.push(ShapeMismatch {
                key: key.clone(),
                expected: shape.clone(),
                found: t.shape.clone(),
            }),
            Some(_) => {}
        }
    }
    let known: std::collections::HashSet<&str> = expected.iter().map(|(k, _)| k.as_str()).collect();
    mismatch.unexpected = dict
        .iter()
        .filter(|(k, _)| !known.contains(k.as_str()) && !ignored(k))
        .map(|(k, t)| (k.clone(), t.shape.clone()))
        .collect();
    mismatch
}

/// The first NaN or infinite value among the `expected` keys of `dict`
/// (all present: call after [`check_layout`] found nothing).
pub fn first_non_finite(
    dict: &StateDict,
    expected: &[(String, Vec<usize>)],
) -> Option<NonFiniteWeight> {
    expected.iter().find_map(|(key, _)| {
        let data = &dict.get(key)?.data;
        data.iter()
            .position(|v| !v.is_finite())
            .map(|index| NonFiniteWeight {
                key: key.clone(),
                index,
                value: data[index],
            })
    })
}
