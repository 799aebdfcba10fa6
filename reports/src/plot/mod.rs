//! SVG figures drawn with plotters: a colour-blind-safe palette (Okabe & Ito 2008), our own
//! axes, legends drawn in a strip above the plot (never over the data) and one function per
//! figure kind. Every function returns one `<svg>` element as a string.

mod axis;
pub(crate) mod charts;
pub(crate) mod series;

pub(crate) use axis::{Axis, format_number, format_time};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::ReportError;

/// Okabe–Ito colours, distinguishable under the common colour-vision deficiencies.
pub(crate) mod palette {
    use plotters::style::RGBColor;

    pub const BLACK: RGBColor = RGBColor(0, 0, 0);
    pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
    pub const SKY: RGBColor = RGBColor(86, 180, 233);
    pub const GREEN: RGBColor = RGBColor(0, 158, 115);
    pub const YELLOW: RGBColor = RGBColor(240, 228, 66);
    pub const BLUE: RGBColor = RGBColor(0, 114, 178);
    pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
    pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
    pub const GREY: RGBColor = RGBColor(110, 110, 110);
    pub const INK: RGBColor = RGBColor(34, 34, 34);

    /// Line colours for overlaid series, in order (yellow is left out: too pale for lines).
    pub const CYCLE: [RGBColor; 7] = [BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK];
}

/// Font family of every label (the browser picks the face; plotters only estimates sizes).
pub(crate) const FONT: &str = "sans-serif";
/// plotters writes `font-size = size / 1.24`: 16 gives about 13 px text.
pub(crate) const LABEL_SIZE: f64 = 16.0;
/// Height of the legend strip above a plot.
pub(crate) const LEGEND_HEIGHT: u32 = 26;

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark {
    /// A line of this colour and width.
    Line(RGBColor, u32),
    /// A dashed line.
    Dashed(RGBColor),
    /// A dotted line.
    Dotted(RGBColor),
    /// A filled box (shaded areas), with opacity.
    Area(RGBColor, f64),
    /// A filled triangle (alerts).
    Triangle(RGBColor),
    /// A filled circle (points).
    Dot(RGBColor),
}

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stroke {
    Solid,
    Dashed,
    Dotted,
}

/// Colour and stroke of the i-th overlaid series: the seven colours solid, then dashed, then
/// dotted (21 distinguishable lines before repeating).
pub(crate) fn cycle_style(i: usize) -> (RGBColor, Stroke) {
    let n = palette::CYCLE.len();
    let stroke = match (i / n) % 3 {
        0 => Stroke::Solid,
        1 => Stroke::Dashed,
        _ => Stroke::Dotted,
    };
    (palette::CYCLE[i % n], stroke)
}

/// The legend mark of a stroked line.
pub(crate) fn stroke_mark(colour: RGBColor, stroke: Stroke) -> Mark {
    match stroke {
        Stroke::Solid => Mark::Line(colour, 1),
        Stroke::Dashed => Mark::Dashed(colour),
        Stroke::Dotted => Mark::Dotted(colour),
    }
}

pub(crate) fn plot_error<E: std::error::Error + Send + Sync>(
    e: DrawingAreaErrorKind<E>,
) -> ReportError {
    ReportError::Plot(e.to_string())
}

/// Draws into a fresh SVG of `size` pixels and returns the `<svg>` element.
pub(crate) fn render_svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ReportError>,
) -> Result<String, ReportError> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root)?;
        root.present().map_err(plot_error)?;
    }
    Ok(buf)
}

/// Estimated width of `text` at [`LABEL_SIZE`] (sans-serif averages about 0.55 em).
pub(crate) fn text_width(text: &str) -> i32 {
    (text.chars().count() as f64 * LABEL_SIZE / 1.24 * 0.56).ceil() as i32
}

pub(crate) fn label_style() -> TextStyle<'static> {
    (FONT, LABEL_SIZE).into_font().color(&palette::INK)
}

/// Width of one legend entry: mark, gap, text, padding.
fn entry_width(label: &str) -> i32 {
    26 + text_width(label) + 16
}

/// Rows a legend needs in a strip `width` pixels wide starting at `left`.
fn legend_rows(width: u32, left: i32, entries: &[(String, Mark)]) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut x = left;
    for (i, (label, _)) in entries.iter().enumerate() {
        let needed = entry_width(label);
        if x + needed > width as i32 && x > left {
            rows.push(Vec::new());
            x = left;
        }
        if let Some(row) = rows.last_mut() {
            row.push(i);
        }
        x += needed;
    }
    rows
}

/// Height of the legend strip for these entries (one [`LEGEND_HEIGHT`] per row).
pub(crate) fn legend_height(width: u32, left: i32, entries: &[(String, Mark)]) -> u32 {
    LEGEND_HEIGHT * legend_rows(width, left, entries).len() as u32
}

/// Draws a horizontal legend in `area` (a strip), starting at `left` pixels and wrapping onto
/// further rows of [`LEGEND_HEIGHT`] (size the strip with [`legend_height`]).
pub(crate) fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    left: i32,
    entries: &[(String, Mark)],
) -> Result<(), ReportError> {
    let (width, _) = area.dim_in_pixel();
    let style = label_style().pos(Pos::new(HPos::Left, VPos::Center));
    for (r, row) in legend_rows(width, left, entries).iter().enumerate() {
        let y = (LEGEND_HEIGHT as i32) * r as i32 + LEGEND_HEIGHT as i32 / 2;
        let mut x = left;
        for &i in row {
            let (label, mark) = &entries[i];
            draw_mark(area, (x, y), *mark)?;
            area.draw(&Text::new(label.clone(), (x + 26, y), style.clone()))
                .map_err(plot_error)?;
            x += entry_width(label);
        }
    }
    Ok(())
}

fn draw_mark(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    (x, y): (i32, i32),
    mark: Mark,
) -> Result<(), ReportError> {
    match mark {
        Mark::Line(c, w) => area
            .draw(&PathElement::new(
                vec![(x, y), (x + 20, y)],
                c.stroke_width(w + 1),
            ))
            .map_err(plot_error),
        Mark::Dashed(c) => {
            for k in 0..3 {
                area.draw(&PathElement::new(
                    vec![(x + k * 8, y), (x + k * 8 + 5, y)],
                    c.stroke_width(2),
                ))
                .map_err(plot_error)?;
            }
            Ok(())
        }
        Mark::Dotted(c) => {
            for k in 0..5 {
                area.draw(&PathElement::new(
                    vec![(x + k * 4, y), (x + k * 4 + 2, y)],
                    c.stroke_width(2),
                ))
                .map_err(plot_error)?;
            }
            Ok(())
        }
        Mark::Area(c, alpha) => area
            .draw(&Rectangle::new(
                [(x, y - 6), (x + 20, y + 6)],
                c.mix(alpha).filled(),
            ))
            .map_err(plot_error),
        Mark::Triangle(c) => area
            .draw(&TriangleMarker::new((x + 10, y), 6, c.filled()))
            .map_err(plot_error),
        Mark::Dot(c) => area
            .draw(&Circle::new((x + 10, y), 4, c.filled()))
            .map_err(plot_error),
    }
}
