//! A thin painter over a plotters drawing area: pixel-space primitives, text
//! measured with the embedded font, and the few corrections that make SVG and
//! PNG output look alike.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::style::Marker;

/// What a drawing step returns; the message becomes `ChartError::Draw`.
pub(super) type Drawn<T = ()> = Result<T, String>;

/// A pixel rectangle, `x0..x1` × `y0..y1` (ends exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    pub fn width(&self) -> i32 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> i32 {
        self.y1 - self.y0
    }
}

/// Where text is anchored, horizontally and vertically.
pub(super) type Anchor = (HPos, VPos);

/// Pixel-space drawing on one backend.
///
/// Sizes given to it are CSS pixels; `scale` multiplies them (the PNG is drawn
/// at twice its size and then reduced, for smooth edges).
pub(super) struct Canvas<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    scale: f64,
    rasterised_text: bool,
}

impl<'a, DB: DrawingBackend> Canvas<'a, DB> {
    /// A canvas for SVG: text is written as `<text>` for the viewer to set.
    pub fn vector(area: &'a DrawingArea<DB, Shift>) -> Self {
        Canvas {
            area,
            scale: 1.0,
            rasterised_text: false,
        }
    }

    /// A canvas for a bitmap drawn at `scale` times the final size; text is
    /// rasterised by plotters' ab_glyph renderer.
    pub fn raster(area: &'a DrawingArea<DB, Shift>, scale: f64) -> Self {
        Canvas {
            area,
            scale,
            rasterised_text: true,
        }
    }

    /// `v` CSS pixels in device pixels, rounded.
    pub fn px(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }

    /// A stroke width of `v` CSS pixels, at least one device pixel.
    fn stroke(&self, v: f64) -> u32 {
        (v * self.scale).round().max(1.0) as u32
    }

    /// The whole area.
    pub fn bounds(&self) -> Rect {
        let (w, h) = self.area.dim_in_pixel();
        Rect {
            x0: 0,
            y0: 0,
            x1: w as i32,
            y1: h as i32,
        }
    }

    fn font(&self, size: f64) -> FontDesc<'static> {
        // plotters' SVG backend writes font-size = size / 1.24.
        FontDesc::new(
            FontFamily::SansSerif,
            size * self.scale * 1.24,
            FontStyle::Normal,
        )
    }

    /// The advance width of `text` at `size` CSS pixels, in device pixels.
    pub fn text_width(&self, text: &str, size: f64) -> Drawn<i32> {
        let (w, _) = self.font(size).box_size(text).map_err(|e| {
            format!("measuring the label {text:?} failed: {e} (the font was not registered)")
        })?;
        Ok(w as i32)
    }

    /// The height of a line of text at `size` CSS pixels, in device pixels.
    pub fn line_height(&self, size: f64) -> i32 {
        self.px(size * 1.2)
    }

    /// `text` cut to at most `max_width` device pixels, ending in "…" when cut.
    pub fn fit(&self, text: &str, size: f64, max_width: i32) -> Drawn<String> {
        if self.text_width(text, size)? <= max_width {
            return Ok(text.to_owned());
        }
        let chars: Vec<char> = text.chars().collect();
        let cut = |n: usize| -> String {
            let head: String = chars[..n].iter().collect();
            format!("{}…", head.trim_end())
        };
        // The longest prefix that fits with its ellipsis (widths grow with n).
        let (mut lo, mut hi) = (0, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if self.text_width(&cut(mid), size)? <= max_width {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Ok(cut(lo))
    }

    /// Draws `text` anchored at `(x, y)`.
    pub fn text(
        &self,
        text: &str,
        (x, y): (i32, i32),
        size: f64,
        color: RGBColor,
        (h, v): Anchor,
    ) -> Drawn {
        let font = self.font(size);
        let y = y + self.raster_baseline_fix(font.get_size(), v);
        let style = font.color(&color).pos(Pos::new(h, v));
        self.area
            .draw_text(text, &style, (x, y))
            .map_err(|e| e.to_string())
    }

    /// Draws `text` reading upwards, centred on `(x, y)` (the y axis title).
    pub fn text_up(
        &self,
        text: &str,
        (x, y): (i32, i32),
        size: f64,
        color: RGBColor,
        h: HPos,
    ) -> Drawn {
        let font = self.font(size).transform(FontTransform::Rotate270);
        // Rotated a quarter turn, "down" in the text is "right" on the page.
        let x = x + self.raster_baseline_fix(font.get_size(), VPos::Center);
        let style = font.color(&color).pos(Pos::new(h, VPos::Center));
        self.area
            .draw_text(text, &style, (x, y))
            .map_err(|e| e.to_string())
    }

    /// plotters' ab_glyph renderer puts the baseline half an em-box below the
    /// layout box's top, higher than a browser sets SVG text with the same
    /// anchor; this moves rasterised text down to where the SVG has it.
    fn raster_baseline_fix(&self, font_size: f64, v: VPos) -> i32 {
        if !self.rasterised_text {
            return 0;
        }
        let fraction = match v {
            VPos::Top => 0.113,
            VPos::Center => 0.14,
            VPos::Bottom => 0.086,
        };
        (font_size * fraction).round() as i32
    }

    /// Fills a rectangle given by two opposite corners.
    pub fn fill(&self, (x0, y0): (i32, i32), (x1, y1): (i32, i32), color: RGBColor) -> Drawn {
        let (x0, x1) = (x0.min(x1), x0.max(x1));
        let (y0, y1) = (y0.min(y1), y0.max(y1));
        self.area
            .draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled()))
            .map_err(|e| e.to_string())
    }

    /// A crisp horizontal line `thickness` CSS pixels thick, its top at `y`.
    pub fn hline(&self, x0: i32, x1: i32, y: i32, thickness: f64, color: RGBColor) -> Drawn {
        let t = self.px(thickness).max(1);
        self.fill((x0, y), (x1, y + t), color)
    }

    /// A crisp vertical line `thickness` CSS pixels thick, its left at `x`.
    pub fn vline(&self, x: i32, y0: i32, y1: i32, thickness: f64, color: RGBColor) -> Drawn {
        let t = self.px(thickness).max(1);
        self.fill((x, y0), (x + t, y1), color)
    }

    /// A polyline `width` CSS pixels wide.
    pub fn polyline(&self, points: Vec<(i32, i32)>, width: f64, color: RGBColor) -> Drawn {
        let stroke = self.stroke(width);
        if self.rasterised_text && stroke > 1 {
            return self.raster_polyline(&points, f64::from(stroke) / 2.0, color);
        }
        let style = color.stroke_width(stroke);
        self.area
            .draw(&PathElement::new(points, style))
            .map_err(|e| e.to_string())
    }

    /// A thick polyline on a bitmap: one quadrilateral per segment and a
    /// round join at each inner point. (plotters' bitmap backend truncates
    /// the offsets of its thick lines, which makes diagonal lines thinner
    /// than level ones.)
    fn raster_polyline(&self, points: &[(i32, i32)], half: f64, color: RGBColor) -> Drawn {
        let style = color.filled();
        for segment in points.windows(2) {
            let ((ax, ay), (bx, by)) = (segment[0], segment[1]);
            let (dx, dy) = (f64::from(bx - ax), f64::from(by - ay));
            let length = dx.hypot(dy);
            if length == 0.0 {
                continue;
            }
            let (nx, ny) = (-dy / length * half, dx / length * half);
            let corner = |x: i32, y: i32, sign: f64| {
                (
                    (f64::from(x) + sign * nx).round() as i32,
                    (f64::from(y) + sign * ny).round() as i32,
                )
            };
            let quad = vec![
                corner(ax, ay, 1.0),
                corner(bx, by, 1.0),
                corner(bx, by, -1.0),
                corner(ax, ay, -1.0),
            ];
            self.area
                .draw(&Polygon::new(quad, style))
                .map_err(|e| e.to_string())?;
        }
        let radius = (half - 0.5).round().max(1.0) as i32;
        for &point in points.iter().skip(1).take(points.len().saturating_sub(2)) {
            self.area
                .draw(&Circle::new(point, radius, style))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// An error bar from `top` to `bottom` at `x`, with caps.
    pub fn error_bar(&self, x: i32, top: i32, bottom: i32, cap: f64, color: RGBColor) -> Drawn {
        use super::style::space;
        let half = self.px(cap);
        self.polyline(vec![(x, top), (x, bottom)], space::ERROR, color)?;
        self.polyline(vec![(x - half, top), (x + half, top)], space::ERROR, color)?;
        self.polyline(
            vec![(x - half, bottom), (x + half, bottom)],
            space::ERROR,
            color,
        )
    }

    /// A filled marker of radius `radius` CSS pixels centred on `(x, y)`,
    /// ringed in white so that crossing lines and neighbours stay apart.
    pub fn marker(&self, shape: Marker, (x, y): (i32, i32), radius: f64, color: RGBColor) -> Drawn {
        let ring = self.px(1.0).max(1);
        self.marker_shape(shape, (x, y), self.px(radius) + ring, WHITE)?;
        self.marker_shape(shape, (x, y), self.px(radius), color)
    }

    fn marker_shape(&self, shape: Marker, (x, y): (i32, i32), r: i32, color: RGBColor) -> Drawn {
        let style = color.filled();
        let drawn = match shape {
            Marker::Circle => self.area.draw(&Circle::new((x, y), r, style)),
            Marker::Square => {
                // A square of the circle's area looks the same size.
                let h = (f64::from(r) * 0.886).round() as i32;
                self.area
                    .draw(&Rectangle::new([(x - h, y - h), (x + h, y + h)], style))
            }
            Marker::Triangle => {
                let r = f64::from(r) * 1.2;
                let points = vec![
                    (x, y - r.round() as i32),
                    (x + (r * 0.866).round() as i32, y + (r * 0.5).round() as i32),
                    (x - (r * 0.866).round() as i32, y + (r * 0.5).round() as i32),
                ];
                self.area.draw(&Polygon::new(points, style))
            }
            Marker::Diamond => {
                let d = (f64::from(r) * 1.25).round() as i32;
                let points = vec![(x, y - d), (x + d, y), (x, y + d), (x - d, y)];
                self.area.draw(&Polygon::new(points, style))
            }
        };
        drawn.map_err(|e| e.to_string())
    }
}
