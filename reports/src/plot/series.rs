//! The per-series figure: a value panel (values, expected value and band, incident windows,
//! alerts) above score panels (scores, threshold, incidents, alerts), sharing a UTC time axis.

use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Axis, Mark, draw_legend, format_number, label_style, legend_height, palette, plot_error,
    render_svg, text_width,
};
use crate::downsample::{Segment, min_max};
use crate::error::Result;
use crate::input::{ScoreTrack, SeriesData, TimeWindow};

const WIDTH: u32 = 1200;
const Y_LABEL_AREA: u32 = 78;
const RIGHT_MARGIN: u32 = 40;
const VALUE_HEIGHT: u32 = 230;
const SCORE_HEIGHT: u32 = 118;
const X_LABEL_AREA: u32 = 46;
/// Pixels per min/max bucket: 2 keeps every spike visible at half the points of 1.
const PIXELS_PER_BUCKET: u32 = 2;

/// Plot-area width in pixels, and so the number of downsampling buckets.
fn buckets() -> usize {
    ((WIDTH - Y_LABEL_AREA - RIGHT_MARGIN) / PIXELS_PER_BUCKET) as usize
}

/// How several tracks are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One score panel per track.
    Stacked,
    /// All tracks in one score panel (scores divided by their thresholds when all are > 0).
    Overlay,
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;
type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;

fn track_colour(i: usize, layout: Layout) -> RGBColor {
    match layout {
        Layout::Stacked => palette::PURPLE,
        Layout::Overlay => [
            palette::BLUE,
            palette::VERMILLION,
            palette::GREEN,
            palette::PURPLE,
        ][i % 4],
    }
}

fn value_desc(data: &SeriesData) -> String {
    match &data.unit {
        Some(u) => format!("value ({u})"),
        None => "value".to_string(),
    }
}

/// Threshold line colour: vermillion against the purple score of a stacked panel, ink against
/// the blue/vermillion scores of an overlay.
fn threshold_colour(layout: Layout) -> RGBColor {
    match layout {
        Layout::Stacked => palette::VERMILLION,
        Layout::Overlay => palette::INK,
    }
}

/// The legend of a series figure, in drawing order.
fn legend_entries(
    data: &SeriesData,
    tracks: &[&ScoreTrack],
    layout: Layout,
) -> Vec<(String, Mark)> {
    let mut legend = vec![(value_desc(data), Mark::Line(palette::BLUE, 1))];
    if !data.incidents.is_empty() {
        legend.push(("incident".to_string(), Mark::Area(palette::YELLOW, 0.55)));
    }
    let first = tracks.first();
    if let Some(b) = first.and_then(|t| t.band.as_ref()) {
        legend.push((
            b.label.clone().unwrap_or_else(|| "band".into()),
            Mark::Area(palette::SKY, 0.35),
        ));
    }
    if first.is_some_and(|t| t.expected.is_some()) {
        legend.push(("expected".to_string(), Mark::Line(palette::INK, 1)));
    }
    let alert_tracks = if layout == Layout::Stacked {
        tracks.len().min(1)
    } else {
        tracks.len()
    };
    for (i, t) in tracks.iter().take(alert_tracks).enumerate() {
        if t.alerts.is_empty() && layout == Layout::Stacked {
            continue;
        }
        let label = format!("alert: {} ({})", t.label, t.alerts.len());
        let colour = if layout == Layout::Stacked {
            palette::VERMILLION
        } else {
            track_colour(i, layout)
        };
        legend.push((
            label,
            if i % 2 == 0 {
                Mark::Triangle(colour)
            } else {
                Mark::Dot(colour)
            },
        ));
    }
    if !tracks.is_empty() {
        match layout {
            Layout::Stacked => legend.push(("score".to_string(), Mark::Line(palette::PURPLE, 1))),
            Layout::Overlay => {
                for (i, t) in tracks.iter().enumerate() {
                    legend.push((
                        format!("score: {}", t.label),
                        Mark::Line(track_colour(i, layout), 1),
                    ));
                }
            }
        }
        legend.push((
            "threshold".to_string(),
            Mark::Dashed(threshold_colour(layout)),
        ));
    }
    legend
}

/// Renders one series with its score tracks as one SVG.
pub(crate) fn series_figure(
    data: &SeriesData,
    tracks: &[&ScoreTrack],
    layout: Layout,
) -> Result<String> {
    let score_panels = match (layout, tracks.is_empty()) {
        (_, true) => 0,
        (Layout::Stacked, false) => tracks.len() as u32,
        (Layout::Overlay, false) => 1,
    };
    let legend = legend_entries(data, tracks, layout);
    let legend_height = legend_height(WIDTH, Y_LABEL_AREA as i32, &legend);
    let height = legend_height + VALUE_HEIGHT + score_panels * SCORE_HEIGHT + X_LABEL_AREA;
    let x: Vec<f64> = data.timestamps_ms.iter().map(|&t| t as f64).collect();
    let (t0, t1) = (
        x.first().copied().unwrap_or(0.0),
        x.last().copied().unwrap_or(1.0),
    );
    let time_axis = Axis::time(t0, t1, 9);

    render_svg((WIDTH, height), |root| {
        let (legend_area, rest) = root.split_vertically(legend_height);
        let mut breaks = vec![VALUE_HEIGHT];
        for k in 1..=score_panels {
            breaks.push(VALUE_HEIGHT + k * SCORE_HEIGHT);
        }
        let areas = rest.split_by_breakpoints([] as [u32; 0], &breaks[..score_panels as usize]);

        // Value panel.
        let first = tracks.first();
        let value_desc = value_desc(data);
        let mut y_values: Vec<f64> = data.values.clone();
        if let Some(t) = first {
            if let Some(e) = &t.expected {
                y_values.extend(e);
            }
            if let Some(b) = &t.band {
                y_values.extend(&b.lower);
                y_values.extend(&b.upper);
            }
        }
        let alert_rows = if layout == Layout::Overlay {
            tracks.len().max(1)
        } else {
            1
        };
        let y_axis = value_axis(&y_values, 0.05, 0.06 + 0.07 * alert_rows as f64);
        let (ylo, yhi) = (y_axis.range().start, y_axis.range().end);
        let mut chart = panel(
            &areas[0],
            &time_axis,
            y_axis,
            &value_desc,
            score_panels == 0,
        )?;
        shade_incidents(&mut chart, &data.incidents, t0, t1, ylo, yhi)?;
        if let Some(b) = first.and_then(|t| t.band.as_ref()) {
            draw_band(&mut chart, &x, &b.lower, &b.upper)?;
        }
        draw_line(&mut chart, &x, &data.values, palette::BLUE.stroke_width(1))?;
        if let Some(expected) = first.and_then(|t| t.expected.as_ref()) {
            draw_line(
                &mut chart,
                &x,
                expected,
                palette::INK.mix(0.7).stroke_width(1),
            )?;
        }
        let alert_tracks: Vec<(usize, &&ScoreTrack)> = match layout {
            Layout::Stacked => tracks.iter().take(1).enumerate().collect(),
            Layout::Overlay => tracks.iter().enumerate().collect(),
        };
        for (i, t) in &alert_tracks {
            let colour = if layout == Layout::Stacked {
                palette::VERMILLION
            } else {
                track_colour(*i, layout)
            };
            let y = yhi - (yhi - ylo) * (0.04 + 0.07 * *i as f64);
            mark_alerts(&mut chart, &t.alerts, y, colour, *i)?;
        }

        // Score panels.
        match layout {
            Layout::Stacked => {
                for (k, t) in tracks.iter().enumerate() {
                    let bottom = k + 1 == tracks.len();
                    score_panel(
                        &areas[k + 1],
                        &time_axis,
                        data,
                        &x,
                        &[(*t, palette::PURPLE)],
                        bottom,
                        layout,
                    )?;
                }
            }
            Layout::Overlay => {
                if !tracks.is_empty() {
                    let coloured: Vec<(&ScoreTrack, RGBColor)> = tracks
                        .iter()
                        .enumerate()
                        .map(|(i, t)| (*t, track_colour(i, layout)))
                        .collect();
                    score_panel(&areas[1], &time_axis, data, &x, &coloured, true, layout)?;
                }
            }
        }
        draw_legend(&legend_area, Y_LABEL_AREA as i32, &legend)
    })
}

/// A y axis over the finite values with fractional padding below and above.
fn value_axis(values: &[f64], pad_low: f64, pad_high: f64) -> Axis {
    let (lo, hi) = finite_range(values).unwrap_or((0.0, 1.0));
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    Axis::linear(lo - span * pad_low, hi + span * pad_high, 5)
}

pub(crate) fn finite_range(values: &[f64]) -> Option<(f64, f64)> {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, &v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

fn panel<'a, 'b>(
    area: &'a Area<'b>,
    x: &Axis,
    y: Axis,
    y_desc: &str,
    bottom: bool,
) -> Result<Chart<'a, 'b>> {
    let (x_ticks, y_ticks) = (x.tick_count().max(2), y.tick_count().max(2));
    let mut chart = ChartBuilder::on(area)
        .margin_right(RIGHT_MARGIN)
        .margin_top(6)
        .x_label_area_size(if bottom { X_LABEL_AREA } else { 0 })
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(x.clone(), y)
        .map_err(plot_error)?;
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(palette::BLACK.mix(0.08))
        .light_line_style(TRANSPARENT)
        .axis_style(palette::GREY)
        .x_labels(x_ticks)
        .y_labels(y_ticks)
        .label_style(label_style())
        .axis_desc_style(label_style())
        .y_desc(y_desc);
    if bottom {
        mesh.x_desc("time (UTC)");
    }
    mesh.draw().map_err(plot_error)?;
    Ok(chart)
}

fn shade_incidents(
    chart: &mut Chart<'_, '_>,
    incidents: &[TimeWindow],
    t0: f64,
    t1: f64,
    ylo: f64,
    yhi: f64,
) -> Result<()> {
    // At least 3 px wide, so one-row incidents stay visible.
    let min_width = (t1 - t0) / f64::from(WIDTH - Y_LABEL_AREA - RIGHT_MARGIN) * 3.0;
    let style = palette::YELLOW.mix(0.55).filled();
    chart
        .draw_series(incidents.iter().map(|w| {
            let (mut s, mut e) = (w.start_ms as f64, w.end_ms as f64);
            if e - s < min_width {
                let mid = (s + e) / 2.0;
                (s, e) = (mid - min_width / 2.0, mid + min_width / 2.0);
            }
            Rectangle::new([(s, ylo), (e, yhi)], style)
        }))
        .map_err(plot_error)?;
    Ok(())
}

fn draw_line(chart: &mut Chart<'_, '_>, x: &[f64], y: &[f64], style: ShapeStyle) -> Result<()> {
    for segment in min_max(x, y, buckets()) {
        draw_segment(chart, segment, style)?;
    }
    Ok(())
}

fn draw_segment(chart: &mut Chart<'_, '_>, segment: Segment, style: ShapeStyle) -> Result<()> {
    if segment.len() == 1 {
        chart
            .draw_series(std::iter::once(Circle::new(segment[0], 1, style.filled())))
            .map_err(plot_error)?;
    } else {
        chart
            .draw_series(LineSeries::new(segment, style))
            .map_err(plot_error)?;
    }
    Ok(())
}

fn draw_band(chart: &mut Chart<'_, '_>, x: &[f64], lower: &[f64], upper: &[f64]) -> Result<()> {
    // Rows where both bounds are known; the polygon runs along the upper bound and back along the
    // lower one.
    let both = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(lower.iter().zip(upper))
            .map(|(&b, (l, u))| {
                if l.is_finite() && u.is_finite() {
                    b
                } else {
                    f64::NAN
                }
            })
            .collect()
    };
    let lower_segments = min_max(x, &both(lower), buckets());
    let upper_segments = min_max(x, &both(upper), buckets());
    let style = palette::SKY.mix(0.35).filled();
    for (lo, hi) in lower_segments.into_iter().zip(upper_segments) {
        let mut polygon = hi;
        polygon.extend(lo.into_iter().rev());
        chart
            .draw_series(std::iter::once(Polygon::new(polygon, style)))
            .map_err(plot_error)?;
    }
    Ok(())
}

fn mark_alerts(
    chart: &mut Chart<'_, '_>,
    alerts: &[TimeWindow],
    y: f64,
    colour: RGBColor,
    shape: usize,
) -> Result<()> {
    chart
        .draw_series(alerts.iter().filter(|a| a.end_ms > a.start_ms).map(|a| {
            PathElement::new(
                vec![(a.start_ms as f64, y), (a.end_ms as f64, y)],
                colour.stroke_width(3),
            )
        }))
        .map_err(plot_error)?;
    if shape.is_multiple_of(2) {
        chart
            .draw_series(
                alerts
                    .iter()
                    .map(|a| TriangleMarker::new((a.start_ms as f64, y), 6, colour.filled())),
            )
            .map_err(plot_error)?;
    } else {
        chart
            .draw_series(
                alerts
                    .iter()
                    .map(|a| Circle::new((a.start_ms as f64, y), 4, colour.filled())),
            )
            .map_err(plot_error)?;
    }
    Ok(())
}

fn score_panel(
    area: &Area<'_>,
    time_axis: &Axis,
    data: &SeriesData,
    x: &[f64],
    tracks: &[(&ScoreTrack, RGBColor)],
    bottom: bool,
    layout: Layout,
) -> Result<()> {
    let normalise = layout == Layout::Overlay
        && tracks
            .iter()
            .all(|(t, _)| t.threshold.is_some_and(|v| v > 0.0));
    let scaled: Vec<Vec<f64>> = tracks
        .iter()
        .map(|(t, _)| match (normalise, t.threshold) {
            (true, Some(th)) => t.scores.iter().map(|s| s / th).collect(),
            _ => t.scores.clone(),
        })
        .collect();
    let thresholds: Vec<f64> = if normalise {
        vec![1.0]
    } else {
        tracks
            .iter()
            .filter_map(|(t, _)| t.threshold.filter(|v| v.is_finite()))
            .collect()
    };
    let mut all: Vec<f64> = scaled.iter().flatten().copied().collect();
    all.extend(&thresholds);
    let y_axis = value_axis(&all, 0.08, 0.12);
    let (ylo, yhi) = (y_axis.range().start, y_axis.range().end);
    let desc = if normalise {
        "score ÷ threshold"
    } else {
        "score"
    };
    let (t0, t1) = (time_axis.range().start, time_axis.range().end);
    let mut chart = panel(area, time_axis, y_axis, desc, bottom)?;
    shade_incidents(&mut chart, &data.incidents, t0, t1, ylo, yhi)?;
    for (scores, (_, colour)) in scaled.iter().zip(tracks) {
        draw_line(&mut chart, x, scores, colour.stroke_width(1))?;
    }
    for th in &thresholds {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(t0, *th), (t1, *th)],
                8,
                5,
                threshold_colour(layout).stroke_width(2),
            ))
            .map_err(plot_error)?;
    }
    if tracks.len() == 1 {
        let (t, _) = tracks[0];
        let y = yhi - (yhi - ylo) * 0.06;
        mark_alerts(&mut chart, &t.alerts, y, palette::VERMILLION, 0)?;
        // The track's name, inside the panel's top-left corner on a white box.
        let mut caption = t.label.clone();
        if let Some(th) = t.threshold {
            caption.push_str(&format!(" · threshold {}", format_number(th)));
        }
        caption.push_str(&format!(" · {} alerts", t.alerts.len()));
        let plot = chart.plotting_area();
        let (px, py) = plot.get_base_pixel();
        let root = area.clone();
        let (ax, ay) = root.get_base_pixel();
        let (lx, ly) = (px - ax + 6, py - ay + 4);
        root.draw(&Rectangle::new(
            [(lx - 3, ly), (lx + text_width(&caption) + 6, ly + 18)],
            WHITE.mix(0.85).filled(),
        ))
        .map_err(plot_error)?;
        root.draw(&Text::new(
            caption,
            (lx, ly + 9),
            label_style().pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(plot_error)?;
    }
    Ok(())
}
