//! SVG output: plotters' SVG backend on a string, then one tidy-up.

use plotters::prelude::*;

use super::canvas::{Canvas, Drawn};
use super::Chart;

/// The chart as an SVG document of `width`×`height` pixels.
pub(super) fn render(chart: &Chart, width: u32, height: u32) -> Drawn<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        super::draw(chart, &Canvas::vector(&root))?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(tidy_font_sizes(&svg))
}

/// plotters writes `font-size` as the font size / 1.24, which for most
/// sizes prints as `13.000000000000002`; this rounds every `font-size` to
/// two decimals (`13`).
fn tidy_font_sizes(svg: &str) -> String {
    const ATTRIBUTE: &str = "font-size=\"";
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(at) = rest.find(ATTRIBUTE) {
        let (head, tail) = rest.split_at(at + ATTRIBUTE.len());
        out.push_str(head);
        let end = tail.find('"').unwrap_or(tail.len());
        match tail[..end].parse::<f64>() {
            Ok(size) => {
                let rounded = format!("{size:.2}");
                out.push_str(rounded.trim_end_matches('0').trim_end_matches('.'));
            }
            Err(_) => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::tidy_font_sizes;

    #[test]
    fn font_sizes_are_rounded() {
        let svg = r#"<text font-size="13.000000000000002" x="1">a</text><text font-size="16.5">b</text><text font-size="x">"#;
        assert_eq!(
            tidy_font_sizes(svg),
            r#"<text font-size="13" x="1">a</text><text font-size="16.5">b</text><text font-size="x">"#
        );
        assert_eq!(tidy_font_sizes("no sizes"), "no sizes");
    }
}
