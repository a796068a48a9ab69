//! Chart tests: SVG snapshots of each kind, the text they must carry, PNG
//! validity, determinism and the edge cases (single point, equal values,
//! non-finite values, negatives, long labels, many series, odd sizes).

use super::*;

const W: u32 = 640;
const H: u32 = 400;

fn series(name: &str, points: &[(f64, f64)], errors: Option<&[f64]>) -> Series {
    Series {
        name: name.to_owned(),
        points: points.to_vec(),
        errors: errors.map(<[f64]>::to_vec),
    }
}

/// FID against training step for three models, one with error bars.
fn training_curves() -> Chart {
    let steps = [0.0, 20_000.0, 40_000.0, 60_000.0, 80_000.0, 100_000.0];
    let curve = |start: f64, end: f64| -> Vec<(f64, f64)> {
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, end + (start - end) * 0.55f64.powi(i as i32)))
            .collect()
    };
    Chart::Line(LineChart {
        title: "FID during training".to_owned(),
        x_label: "training step".to_owned(),
        y_label: "FID (lower is better)".to_owned(),
        series: vec![
            series(
                "stylegan2",
                &curve(180.0, 4.1),
                Some(&[6.0, 3.1, 1.4, 0.8, 0.5, 0.4]),
            ),
            series("ddpm-cifar10", &curve(240.0, 3.2), None),
            series("vae-baseline", &curve(150.0, 28.5), None),
        ],
    })
}

/// The selfcheck: FID against disturbance level per disturbance.
fn selfcheck() -> Chart {
    let levels = [0.0, 1.0, 2.0, 3.0, 4.0];
    let rising =
        |k: f64| -> Vec<(f64, f64)> { levels.iter().map(|l| (*l, 0.4 + k * l * l)).collect() };
    Chart::Line(LineChart {
        title: "Selfcheck: FID rises with every disturbance".to_owned(),
        x_label: "disturbance level".to_owned(),
        y_label: "FID".to_owned(),
        series: vec![
            series("gaussian noise", &rising(9.0), None),
            series("gaussian blur", &rising(6.5), None),
            series("swirl", &rising(3.0), None),
            series("salt & pepper", &rising(12.0), None),
        ],
    })
}

fn fid_per_model() -> Chart {
    let bar = |label: &str, value: f64, error: Option<f64>| Bar {
        label: label.to_owned(),
        value,
        error,
    };
    Chart::Bar(BarChart {
        title: "FID per model (5 seeds, ± std)".to_owned(),
        y_label: "FID".to_owned(),
        bars: vec![
            bar("stylegan2", 4.12, Some(0.21)),
            bar("ddpm", 3.17, Some(0.09)),
            bar("vae-baseline", 28.5, Some(1.7)),
            bar("biggan-deep-256", 7.86, None),
        ],
    })
}

fn prdc() -> Chart {
    let group = |name: &str, values: [f64; 4]| (name.to_owned(), values.to_vec());
    Chart::GroupedBar(GroupedBarChart {
        title: "Precision, recall, density, coverage".to_owned(),
        y_label: "value".to_owned(),
        categories: ["precision", "recall", "density", "coverage"]
            .map(str::to_owned)
            .to_vec(),
        groups: vec![
            group("stylegan2", [0.71, 0.52, 1.03, 0.88]),
            group("ddpm", [0.68, 0.61, 0.95, 0.91]),
            group("vae-baseline", [0.42, 0.33, 0.51, 0.47]),
        ],
    })
}

/// A line broken by NaN, with odd errors, and a series with no finite point.
fn gaps() -> Chart {
    Chart::Line(LineChart {
        title: "gaps".to_owned(),
        x_label: "step".to_owned(),
        y_label: "FID".to_owned(),
        series: vec![
            series(
                "m",
                &[
                    (0.0, 5.0),
                    (1.0, 4.5),
                    (2.0, f64::NAN),
                    (3.0, 4.0),
                    (4.0, 3.0),
                    (f64::INFINITY, 1.0),
                ],
                Some(&[f64::NAN, -0.5, 1.0, f64::INFINITY, 0.25]),
            ),
            series("all-nan", &[(0.0, f64::NAN)], None),
        ],
    })
}

/// Bars below zero, one with an error bar.
fn deltas() -> Chart {
    Chart::Bar(BarChart {
        title: "deltas".to_owned(),
        y_label: "Δ FID".to_owned(),
        bars: vec![
            Bar {
                label: "better".to_owned(),
                value: -2.5,
                error: Some(0.4),
            },
            Bar {
                label: "worse".to_owned(),
                value: 1.25,
                error: None,
            },
            Bar {
                label: "broken".to_owned(),
                value: f64::NAN,
                error: Some(1.0),
            },
        ],
    })
}

/// A name longer than any chart is wide.
fn long_name() -> String {
    "a-model-name-so-long-that-no-chart-could-ever-show-it-whole-".repeat(3)
}

/// Every label of a line chart far too long.
fn long_labels() -> Chart {
    let long = long_name();
    Chart::Line(LineChart {
        title: long.clone(),
        x_label: long.clone(),
        y_label: long.clone(),
        series: vec![
            series(&long, &[(0.0, 1.0), (1.0, 2.0)], None),
            series("short", &[(0.0, 2.0), (1.0, 1.0)], None),
        ],
    })
}

/// Forty series: more than the palette and the legend hold.
fn forty_models() -> Chart {
    let many: Vec<Series> = (0..40)
        .map(|i| {
            let y = f64::from(i);
            series(&format!("model-{i}"), &[(0.0, y), (1.0, y + 1.0)], None)
        })
        .collect();
    Chart::Line(LineChart {
        title: "forty models".to_owned(),
        x_label: "step".to_owned(),
        y_label: "FID".to_owned(),
        series: many,
    })
}

/// Thirty bars: too narrow for horizontal labels.
fn thirty_bars() -> Chart {
    Chart::Bar(BarChart {
        title: "thirty models".to_owned(),
        y_label: "FID".to_owned(),
        bars: (0..30)
            .map(|i| Bar {
                label: format!("model-number-{i}"),
                value: f64::from(i % 7) + 1.0,
                error: Some(0.3),
            })
            .collect(),
    })
}

/// Twelve groups of two categories.
fn twelve_groups() -> Chart {
    Chart::GroupedBar(GroupedBarChart {
        title: "twelve models".to_owned(),
        y_label: "value".to_owned(),
        categories: vec!["precision".to_owned(), "recall".to_owned()],
        groups: (0..12)
            .map(|i| (format!("m{i}"), vec![0.5, f64::from(i) / 12.0]))
            .collect(),
    })
}

/// The contents of every `<text>` element, unescaped.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|element| {
            let start = element.find('>')? + 1;
            let end = element.find("</text>")?;
            Some(
                element[start..end]
                    .trim()
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

/// (width, height, RGB pixels) of a PNG.
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a readable PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut pixels).expect("a readable image");
    assert_eq!(info.color_type, ::png::ColorType::Rgb);
    pixels.truncate(info.buffer_size());
    (info.width, info.height, pixels)
}

#[test]
fn line_chart_svg_snapshot() {
    insta::assert_snapshot!(training_curves().to_svg(W, H).unwrap());
}

#[test]
fn selfcheck_line_chart_svg_snapshot() {
    insta::assert_snapshot!(selfcheck().to_svg(W, H).unwrap());
}

#[test]
fn bar_chart_svg_snapshot() {
    insta::assert_snapshot!(fid_per_model().to_svg(W, H).unwrap());
}

#[test]
fn grouped_bar_chart_svg_snapshot() {
    insta::assert_snapshot!(prdc().to_svg(W, H).unwrap());
}

#[test]
fn line_chart_svg_has_title_axis_titles_ticks_and_legend() {
    let svg = training_curves().to_svg(W, H).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
    let texts = texts(&svg);
    for expected in [
        "FID during training",
        "training step",
        "FID (lower is better)",
        "stylegan2",
        "ddpm-cifar10",
        "vae-baseline",
        "0",
        "100k",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected:?} in {texts:?}"
        );
    }
}

#[test]
fn single_series_line_chart_has_no_legend() {
    let chart = Chart::Line(LineChart {
        title: "IS".to_owned(),
        x_label: "step".to_owned(),
        y_label: "IS".to_owned(),
        series: vec![series("only-model", &[(0.0, 1.0), (1.0, 2.0)], None)],
    });
    let texts = texts(&chart.to_svg(W, H).unwrap());
    assert!(!texts.iter().any(|t| t == "only-model"), "{texts:?}");
}

#[test]
fn bar_chart_svg_has_labels_and_values() {
    let texts = texts(&fid_per_model().to_svg(W, H).unwrap());
    for expected in [
        "FID per model (5 seeds, ± std)",
        "FID",
        "stylegan2",
        "ddpm",
        "vae-baseline",
        "4.12",
        "28.50",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected:?} in {texts:?}"
        );
    }
    // Too wide for its slot, the long name wraps at its dash.
    assert!(
        texts
            .iter()
            .any(|t| t == "biggan-deep-256" || t == "biggan-"),
        "{texts:?}"
    );
}

#[test]
fn grouped_bar_chart_svg_has_categories_and_legend() {
    let texts = texts(&prdc().to_svg(W, H).unwrap());
    for expected in [
        "Precision, recall, density, coverage",
        "precision",
        "recall",
        "density",
        "coverage",
        "stylegan2",
        "ddpm",
        "vae-baseline",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected:?} in {texts:?}"
        );
    }
}

#[test]
fn svg_escapes_markup_in_labels() {
    let svg = selfcheck().to_svg(W, H).unwrap();
    assert!(svg.contains("salt &amp; pepper"), "escaped ampersand");
    assert!(!svg.contains("salt & pepper"));
}

#[test]
fn png_has_the_signature_and_the_requested_size() {
    for (chart, (w, h)) in [
        (training_curves(), (640, 400)),
        (fid_per_model(), (500, 320)),
        (prdc(), (801, 451)),
    ] {
        let bytes = chart.to_png(w, h).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let (dw, dh, pixels) = decode(&bytes);
        assert_eq!((dw, dh), (w, h), "{}", chart.title());
        // A white page with something drawn on it.
        assert_eq!(&pixels[..3], [255, 255, 255]);
        assert!(pixels.chunks(3).any(|p| p != [255, 255, 255]));
    }
}

#[test]
fn png_text_is_drawn_from_the_embedded_font() {
    // Only the title differs: its pixels must differ too.
    let mut other = fid_per_model();
    if let Chart::Bar(c) = &mut other {
        c.title = "Something else entirely".to_owned();
    }
    let (_, _, a) = decode(&fid_per_model().to_png(W, H).unwrap());
    let (_, _, b) = decode(&other.to_png(W, H).unwrap());
    let title_rows = 3 * W as usize * 40;
    assert_ne!(a[..title_rows], b[..title_rows]);
}

#[test]
fn same_chart_same_bytes() {
    for chart in [training_curves(), selfcheck(), fid_per_model(), prdc()] {
        assert_eq!(chart.to_svg(W, H).unwrap(), chart.to_svg(W, H).unwrap());
        assert_eq!(chart.to_png(W, H).unwrap(), chart.to_png(W, H).unwrap());
    }
}

/// The chart draws as SVG and PNG, and the SVG holds `label`.
fn draws_with(chart: &Chart, label: &str) {
    let svg = chart.to_svg(W, H).unwrap();
    let texts = texts(&svg);
    assert!(texts.iter().any(|t| t == label), "{label:?} in {texts:?}");
    decode(&chart.to_png(W, H).unwrap());
}

#[test]
fn a_single_point_draws() {
    let line = Chart::Line(LineChart {
        title: "one".to_owned(),
        x_label: "step".to_owned(),
        y_label: "FID".to_owned(),
        series: vec![series("m", &[(1000.0, 12.5)], Some(&[0.5]))],
    });
    draws_with(&line, "one");
    let bar = Chart::Bar(BarChart {
        title: "one bar".to_owned(),
        y_label: "FID".to_owned(),
        bars: vec![Bar {
            label: "m".to_owned(),
            value: 12.5,
            error: None,
        }],
    });
    draws_with(&bar, "12.50");
}

#[test]
fn all_equal_values_get_an_axis_range() {
    let line = Chart::Line(LineChart {
        title: "flat".to_owned(),
        x_label: "step".to_owned(),
        y_label: "FID".to_owned(),
        series: vec![series("m", &[(1.0, 3.0), (2.0, 3.0), (3.0, 3.0)], None)],
    });
    draws_with(&line, "3.0");
    let zeros = Chart::GroupedBar(GroupedBarChart {
        title: "zeros".to_owned(),
        y_label: "value".to_owned(),
        categories: vec!["precision".to_owned()],
        groups: vec![("a".to_owned(), vec![0.0]), ("b".to_owned(), vec![0.0])],
    });
    draws_with(&zeros, "1.0");
}

#[test]
fn non_finite_values_are_skipped() {
    let line = gaps();
    let svg = line.to_svg(W, H).unwrap();
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    // The NaN splits the line in two: two 2-px blue polylines, and the
    // legend's key.
    let lines = svg
        .lines()
        .filter(|l| l.contains(r##"stroke="#0072B2" stroke-width="2""##))
        .count();
    assert_eq!(lines, 2 + 1, "{svg}");
    draws_with(&line, "all-nan");
    draws_with(&deltas(), "n/a");
    draws_with(&deltas(), "broken");
}

#[test]
fn nothing_finite_is_empty() {
    let line = Chart::Line(LineChart {
        title: "no data".to_owned(),
        x_label: String::new(),
        y_label: String::new(),
        series: vec![series("m", &[(f64::NAN, 1.0), (1.0, f64::INFINITY)], None)],
    });
    let bars = Chart::Bar(BarChart {
        title: "no bars".to_owned(),
        y_label: String::new(),
        bars: Vec::new(),
    });
    let grouped = Chart::GroupedBar(GroupedBarChart {
        title: "no groups".to_owned(),
        y_label: String::new(),
        categories: vec!["precision".to_owned()],
        // A finite value beyond the categories does not count.
        groups: vec![("m".to_owned(), vec![f64::NAN, 0.5])],
    });
    for chart in [line, bars, grouped] {
        let svg = chart.to_svg(W, H);
        assert!(
            matches!(&svg, Err(ChartError::Empty(t)) if t == chart.title()),
            "{svg:?}"
        );
        assert!(matches!(chart.to_png(W, H), Err(ChartError::Empty(_))));
    }
}

#[test]
fn negative_values_draw_below_zero() {
    draws_with(&deltas(), "-2.50");
    draws_with(&deltas(), "-3");
    let grouped = Chart::GroupedBar(GroupedBarChart {
        title: "all negative".to_owned(),
        y_label: "log density".to_owned(),
        categories: vec!["a".to_owned(), "b".to_owned()],
        groups: vec![("m".to_owned(), vec![-0.5, -1.5])],
    });
    draws_with(&grouped, "all negative");
}

#[test]
fn long_labels_are_cut_with_an_ellipsis() {
    let long = long_name();
    let line_texts = texts(&long_labels().to_svg(W, H).unwrap());
    assert!(!line_texts.contains(&long), "{line_texts:?}");
    let cut: Vec<_> = line_texts.iter().filter(|t| t.ends_with('…')).collect();
    assert_eq!(
        cut.len(),
        4,
        "title, both axis titles and the legend: {cut:?}"
    );
    assert!(cut
        .iter()
        .all(|t| long.starts_with(t.trim_end_matches('…'))));
    let bars = Chart::Bar(BarChart {
        title: "t".to_owned(),
        y_label: "v".to_owned(),
        bars: (0..3)
            .map(|i| Bar {
                label: format!("{i}{long}"),
                value: 1.0,
                error: None,
            })
            .collect(),
    });
    let bar_texts = texts(&bars.to_svg(W, H).unwrap());
    // Wrapped once at a dash, the second line cut.
    assert!(bar_texts.iter().any(|t| t.ends_with('-')), "{bar_texts:?}");
    assert!(bar_texts.iter().any(|t| t.ends_with('…')), "{bar_texts:?}");
}

#[test]
fn many_series_cycle_the_palette_and_fit_the_legend() {
    let svg = forty_models().to_svg(W, H).unwrap();
    // Series 0 and 8 share a colour; the legend ends in a count.
    assert!(svg.matches("#0072B2").count() >= 2, "palette reused");
    let texts = texts(&svg);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with('+') && t.ends_with("more")),
        "{texts:?}"
    );
    decode(&forty_models().to_png(W, H).unwrap());
    draws_with(&twelve_groups(), "m11");
}

#[test]
fn many_bars_get_upright_labels() {
    let svg = thirty_bars().to_svg(W, H).unwrap();
    assert!(svg.contains("rotate(270"), "upright labels");
    draws_with(&thirty_bars(), "model-number-29");
}

#[test]
fn sizes_too_small_or_absurd_are_errors_not_panics() {
    for (w, h) in [(0, 400), (640, 0), (100_000, 400)] {
        let result = training_curves().to_svg(w, h);
        assert!(
            matches!(result, Err(ChartError::Draw { .. })),
            "{w}×{h}: {result:?}"
        );
        assert!(training_curves().to_png(w, h).is_err());
    }
    for (w, h) in [(1, 1), (60, 40), (120, 90)] {
        for chart in [training_curves(), fid_per_model(), prdc()] {
            // Drawn or refused, never a panic.
            let _ = chart.to_svg(w, h);
            let _ = chart.to_png(w, h);
        }
    }
}

#[test]
fn draw_error_names_the_chart() {
    let err = training_curves().to_svg(10, 10).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("FID during training"), "{message}");
    assert!(message.contains("larger"), "{message}");
}

/// Writes every example as PNG and SVG to `$TMPDIR/geneval-charts/` to look
/// at: `cargo test -p geneval-reports write_examples -- --ignored`.
#[test]
#[ignore = "writes files for a person to look at"]
fn write_examples() {
    let dir = std::env::temp_dir().join("geneval-charts");
    std::fs::create_dir_all(&dir).unwrap();
    let examples = [
        ("line", training_curves(), (W, H)),
        ("selfcheck", selfcheck(), (W, H)),
        ("bar", fid_per_model(), (W, H)),
        ("grouped", prdc(), (W, H)),
        ("gaps", gaps(), (W, H)),
        ("deltas", deltas(), (W, H)),
        ("long-labels", long_labels(), (W, H)),
        ("forty-models", forty_models(), (W, H)),
        ("thirty-bars", thirty_bars(), (W, H)),
        ("twelve-groups", twelve_groups(), (W, H)),
        ("line-small", training_curves(), (360, 240)),
        ("grouped-small", prdc(), (360, 240)),
        ("bar-large", fid_per_model(), (1200, 700)),
    ];
    for (name, chart, (w, h)) in examples {
        std::fs::write(dir.join(format!("{name}.png")), chart.to_png(w, h).unwrap()).unwrap();
        std::fs::write(dir.join(format!("{name}.svg")), chart.to_svg(w, h).unwrap()).unwrap();
    }
    eprintln!("wrote {}", dir.display());
}
