//! Axis ranges, "nice" tick values (1, 2, 5 × 10ⁿ), their labels, and the
//! linear map from data to pixels.

/// A closed interval of data values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Span {
    pub lo: f64,
    pub hi: f64,
}

impl Span {
    /// The smallest span holding every finite value; `None` when there is none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Span> {
        values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(None, |span: Option<Span>, v| {
                Some(match span {
                    None => Span { lo: v, hi: v },
                    Some(s) => s.including(v),
                })
            })
    }

    /// The span stretched to hold `v`.
    pub fn including(self, v: f64) -> Span {
        Span {
            lo: self.lo.min(v),
            hi: self.hi.max(v),
        }
    }

    /// hi − lo.
    pub fn width(self) -> f64 {
        self.hi - self.lo
    }

    /// A span of (numerically) zero width opened around its value — ±10 %, or
    /// ±1 around zero — so that an axis of equal values still has a range.
    pub fn opened(self) -> Span {
        let magnitude = self.lo.abs().max(self.hi.abs());
        if self.width() > magnitude * 1e-9 {
            return self;
        }
        let mid = self.lo / 2.0 + self.hi / 2.0;
        let half = if magnitude > 0.0 {
            magnitude * 0.1
        } else {
            1.0
        };
        Span {
            lo: mid - half,
            hi: mid + half,
        }
    }

    /// The span widened by a fraction of its width at each end.
    pub fn padded(self, below: f64, above: f64) -> Span {
        let w = self.width();
        Span {
            lo: self.lo - w * below,
            hi: self.hi + w * above,
        }
    }
}

/// The smallest round step (1, 2, 2.5 or 5 × 10ⁿ) at least `raw` and
/// `min_step`; with `min_step` ≥ 1 only whole steps.
fn nice_step(raw: f64, min_step: f64) -> f64 {
    let base = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0]
        .iter()
        .map(|m| m * base)
        .find(|step| {
            *step >= raw * (1.0 - 1e-12)
                && *step >= min_step
                && (min_step < 1.0 || step.fract() == 0.0)
        })
        .unwrap_or_else(|| (raw.max(min_step)).ceil())
}

/// The fewest decimals that write every multiple of `step` exactly.
fn decimals(step: f64) -> usize {
    (0..12)
        .find(|d| {
            let shifted = step * 10f64.powi(*d as i32);
            (shifted - shifted.round()).abs() <= shifted * 1e-9
        })
        .unwrap_or(12)
}

/// Tick positions and their labels.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ticks {
    pub values: Vec<f64>,
    pub labels: Vec<String>,
}

/// The most ticks, up to `max_count` (at least 2), at round values inside
/// `span`, at least `min_step` apart (1 keeps integer axes, such as
/// disturbance levels, free of fractional ticks).
pub(super) fn ticks(span: Span, max_count: usize, min_step: f64) -> Ticks {
    let max_count = max_count.max(2) as f64;
    let width = span.width();
    let mut step = nice_step(width / max_count / 2.0, min_step);
    if !(step.is_finite() && step > 0.0) {
        return Ticks {
            values: Vec::new(),
            labels: Vec::new(),
        };
    }
    // The smallest round step that gives no more than max_count ticks.
    let (mut first, mut last);
    loop {
        first = (span.lo / step - 1e-9).ceil();
        last = (span.hi / step + 1e-9).floor();
        if last - first + 1.0 <= max_count {
            break;
        }
        step = nice_step(step * (1.0 + 1e-9), min_step);
    }
    let values: Vec<f64> = (0..)
        .map(|k| first + f64::from(k))
        .take_while(|k| *k <= last)
        // + 0.0 turns −0 into 0.
        .map(|k| k * step + 0.0)
        .collect();
    let labels = tick_labels(&values, step);
    Ticks { values, labels }
}

/// Labels with one precision for the whole axis: as many decimals as the step
/// needs, and k/M/G suffixes for large numbers (training steps: 20k, 40k).
fn tick_labels(values: &[f64], step: f64) -> Vec<String> {
    let largest = values.iter().fold(0f64, |m, v| m.max(v.abs()));
    let (divisor, suffix) = if largest >= 1e9 {
        (1e9, "G")
    } else if largest >= 1e6 {
        (1e6, "M")
    } else if largest >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let scaled_step = step / divisor;
    if largest >= 1e12 || (largest > 0.0 && scaled_step < 1e-6) {
        return values.iter().map(|v| format!("{v:.1e}")).collect();
    }
    let decimals = decimals(scaled_step);
    values
        .iter()
        .map(|v| {
            if v.abs() < step * 1e-6 {
                // Zero needs no suffix, and never reads "-0".
                return if suffix.is_empty() {
                    format!("{:.*}", decimals, 0.0)
                } else {
                    "0".to_owned()
                };
            }
            format!("{:.*}{suffix}", decimals, v / divisor)
        })
        .collect()
}

/// A value written on a bar: about four significant digits.
pub(super) fn format_value(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".to_owned()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The linear map from a data span to a pixel interval.
#[derive(Debug, Clone, Copy)]
pub(super) struct Linear {
    span: Span,
    from: f64,
    to: f64,
}

impl Linear {
    /// Maps `span.lo` to pixel `from` and `span.hi` to pixel `to`.
    pub fn new(span: Span, from: i32, to: i32) -> Linear {
        Linear {
            span,
            from: f64::from(from),
            to: f64::from(to),
        }
    }

    /// The pixel of `v`, clamped a little outside the plot so that absurd
    /// values never overflow the pixel type.
    pub fn px(&self, v: f64) -> i32 {
        let t = (v - self.span.lo) / self.span.width();
        let p = self.from + t * (self.to - self.from);
        let (lo, hi) = (self.from.min(self.to), self.from.max(self.to));
        p.clamp(lo - 1.0, hi + 1.0).round() as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(lo: f64, hi: f64) -> Span {
        Span { lo, hi }
    }

    #[test]
    fn span_skips_non_finite_values() {
        let s = Span::of([f64::NAN, 2.0, f64::INFINITY, -1.0, f64::NEG_INFINITY]);
        assert_eq!(s, Some(span(-1.0, 2.0)));
        assert_eq!(Span::of([f64::NAN]), None);
        assert_eq!(Span::of([]), None);
    }

    #[test]
    fn equal_values_get_a_non_zero_range() {
        assert_eq!(span(5.0, 5.0).opened(), span(4.5, 5.5));
        assert_eq!(span(0.0, 0.0).opened(), span(-1.0, 1.0));
        assert_eq!(span(-2.0, -2.0).opened(), span(-2.2, -1.8));
        assert_eq!(span(1.0, 3.0).opened(), span(1.0, 3.0));
    }

    #[test]
    fn ticks_are_round_and_inside_the_span() {
        let t = ticks(span(0.0, 1.0), 6, 0.0);
        assert_eq!(t.labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let t = ticks(span(-0.13, 0.27), 5, 0.0);
        assert_eq!(t.labels, ["-0.1", "0.0", "0.1", "0.2"]);
        // Two ticks, not one, when only two fit.
        let t = ticks(span(-4320.0, 104_320.0), 2, 0.0);
        assert_eq!(t.labels, ["0", "100k"]);
        let t = ticks(span(12.3, 87.9), 6, 0.0);
        assert_eq!(t.labels, ["20", "40", "60", "80"]);
        let t = ticks(span(0.0, 1.0), 5, 0.0);
        assert_eq!(t.labels, ["0.00", "0.25", "0.50", "0.75", "1.00"]);
        let t = ticks(span(-4320.0, 112_000.0), 5, 0.0);
        assert_eq!(t.labels, ["0", "25k", "50k", "75k", "100k"]);
    }

    #[test]
    fn integer_axes_keep_integer_ticks() {
        let t = ticks(span(-0.2, 2.2), 10, 1.0);
        assert_eq!(t.labels, ["0", "1", "2"]);
        // 2.5 would be round but not whole.
        let t = ticks(span(0.0, 10.0), 5, 1.0);
        assert_eq!(t.labels, ["0", "5", "10"]);
    }

    #[test]
    fn large_ticks_get_a_suffix() {
        let t = ticks(span(0.0, 100_000.0), 6, 0.0);
        assert_eq!(t.labels, ["0", "20k", "40k", "60k", "80k", "100k"]);
        let t = ticks(span(0.0, 3e6), 4, 0.0);
        assert_eq!(t.labels, ["0", "1M", "2M", "3M"]);
    }

    #[test]
    fn tiny_and_degenerate_spans_do_not_panic() {
        let t = ticks(span(1e-9, 3e-9), 3, 0.0);
        assert_eq!(t.labels, ["1.0e-9", "2.0e-9", "3.0e-9"]);
        assert!(ticks(span(1.0, 1.0), 5, 0.0).values.is_empty());
        assert!(ticks(span(-f64::MAX, f64::MAX), 5, 0.0).values.is_empty());
    }

    #[test]
    fn values_keep_about_four_digits() {
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(0.71234), "0.712");
        assert_eq!(format_value(12.345), "12.35");
        assert_eq!(format_value(-123.45), "-123.5");
        assert_eq!(format_value(45678.9), "45679");
        assert_eq!(format_value(0.00012), "1.20e-4");
    }

    #[test]
    fn linear_maps_ends_and_clamps() {
        let y = Linear::new(span(0.0, 10.0), 300, 100);
        assert_eq!(y.px(0.0), 300);
        assert_eq!(y.px(10.0), 100);
        assert_eq!(y.px(5.0), 200);
        assert_eq!(y.px(1e300), 99);
    }
}
