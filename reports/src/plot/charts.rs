//! The smaller figures: ROC and PR curves, tuning scatter plots, detection delays, false
//! alarms and training curves.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::series::finite_range;
use super::{
    Axis, LEGEND_HEIGHT, Mark, Stroke, cycle_style, draw_legend, format_number, label_style,
    legend_height, palette, plot_error, render_svg, stroke_mark, text_width,
};
use crate::downsample::thin_curve;
use crate::error::Result;
use crate::input::{CurveSet, DelaySet, EpochLoss, FalseAlarms, TuningStudy};

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;
type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;

fn xy<'a, 'b>(
    area: &'a Area<'b>,
    x: Axis,
    y: Axis,
    x_desc: &str,
    y_desc: &str,
    y_label_area: u32,
) -> Result<Chart<'a, 'b>> {
    let (x_ticks, y_ticks) = (x.tick_count().max(2), y.tick_count().max(2));
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .margin_right(40)
        .x_label_area_size(46)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(x, y)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .bold_line_style(palette::BLACK.mix(0.08))
        .light_line_style(TRANSPARENT)
        .axis_style(palette::GREY)
        .x_labels(x_ticks)
        .y_labels(y_ticks)
        .label_style(label_style())
        .axis_desc_style(label_style())
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(plot_error)?;
    Ok(chart)
}

/// Draws `points` as a solid, dashed or dotted line.
fn line(
    chart: &mut Chart<'_, '_>,
    points: Vec<(f64, f64)>,
    colour: RGBColor,
    stroke: Stroke,
) -> Result<()> {
    if points.len() < 2 {
        return Ok(());
    }
    let style = colour.stroke_width(2);
    match stroke {
        Stroke::Solid => chart
            .draw_series(LineSeries::new(points, style))
            .map(|_| ()),
        Stroke::Dashed => chart
            .draw_series(DashedLineSeries::new(points, 7, 4, style))
            .map(|_| ()),
        Stroke::Dotted => chart
            .draw_series(DashedLineSeries::new(points, 2, 4, style))
            .map(|_| ()),
    }
    .map_err(plot_error)
}

/// A vertical legend (one entry per line) in `area`.
fn legend_column(area: &Area<'_>, entries: &[(String, Mark)]) -> Result<()> {
    let (width, height) = area.dim_in_pixel();
    // Room left of the mark (26 px) and the legend's own padding (22 px).
    let max_chars = ((width as i32 - 26 - 22) / text_width("m").max(1)).max(4) as usize;
    for (k, (label, mark)) in entries.iter().enumerate() {
        let y = 20 + k as i32 * 21;
        if y + 10 > height as i32 {
            break;
        }
        let label: String = if label.chars().count() > max_chars {
            label
                .chars()
                .take(max_chars - 1)
                .chain(std::iter::once('…'))
                .collect()
        } else {
            label.clone()
        };
        let strip = area.clone().shrink((0, y - 10), (width, 21));
        draw_legend(&strip, 4, &[(label, *mark)])?;
    }
    Ok(())
}

/// ROC or PR curves of several families, with a legend column on the right.
pub(crate) fn curve_figure(sets: &[&CurveSet], roc: bool) -> Result<String> {
    let (w, h) = (650u32, 440u32);
    render_svg((w, h), |root| {
        let (plot_area, legend_area) = root.split_horizontally(420);
        let (x_desc, y_desc) = if roc {
            ("false-positive rate", "true-positive rate")
        } else {
            ("recall", "precision")
        };
        let mut chart = xy(
            &plot_area,
            Axis::linear(0.0, 1.0, 5),
            Axis::linear(0.0, 1.02, 5),
            x_desc,
            y_desc,
            64,
        )?;
        let mut legend = Vec::new();
        if roc {
            line(
                &mut chart,
                vec![(0.0, 0.0), (1.0, 1.0)],
                palette::GREY,
                Stroke::Dashed,
            )?;
            legend.push(("chance".to_string(), Mark::Dashed(palette::GREY)));
        }
        for (i, set) in sets.iter().enumerate() {
            let (colour, stroke) = cycle_style(i);
            let points = if roc { &set.roc } else { &set.pr };
            line(&mut chart, thin_curve(points, 0.002), colour, stroke)?;
            let area = if roc {
                set.roc_auc
            } else {
                set.average_precision
            };
            let label = match area {
                Some(a) => format!("{} {}", set.family, format_number(a)),
                None => set.family.clone(),
            };
            legend.push((label, stroke_mark(colour, stroke)));
        }
        let title = if roc { "family  ROC-AUC" } else { "family  AP" };
        legend_area
            .draw(&Text::new(
                title,
                (4, 6),
                label_style().pos(Pos::new(HPos::Left, VPos::Top)),
            ))
            .map_err(plot_error)?;
        legend_column(&legend_area.margin(14, 0, 0, 0), &legend)
    })
}

/// One tuned hyperparameter: its name, how to place values, and each trial's x.
struct ParamAxis {
    name: String,
    axis: Axis,
    xs: Vec<Option<f64>>,
}

fn param_axes(study: &TuningStudy) -> Vec<ParamAxis> {
    let mut names: Vec<&String> = Vec::new();
    for t in &study.trials {
        for k in t.params.keys() {
            if !names.contains(&k) {
                names.push(k);
            }
        }
    }
    let mut out = Vec::new();
    for name in names {
        let values: Vec<Option<&serde_json::Value>> =
            study.trials.iter().map(|t| t.params.get(name)).collect();
        let numeric: Vec<Option<f64>> = values
            .iter()
            .map(|v| v.and_then(serde_json::Value::as_f64))
            .collect();
        let present = values
            .iter()
            .filter(|v| v.is_some_and(|v| !v.is_object() && !v.is_array()))
            .count();
        if present == 0 {
            continue;
        }
        let all_numeric = values
            .iter()
            .zip(&numeric)
            .all(|(v, n)| v.is_none() || n.is_some());
        if all_numeric {
            let Some((lo, hi)) =
                finite_range(&numeric.iter().flatten().copied().collect::<Vec<_>>())
            else {
                continue;
            };
            if hi == lo {
                continue; // not tuned
            }
            let log = lo > 0.0 && (study.log_scale.contains(name) || hi / lo >= 1000.0);
            let axis = if log {
                Axis::log(lo / 1.3, hi * 1.3)
            } else {
                let pad = (hi - lo) * 0.06;
                Axis::linear(lo - pad, hi + pad, 4)
            };
            out.push(ParamAxis {
                name: name.clone(),
                axis,
                xs: numeric,
            });
        } else {
            let labels: Vec<Option<String>> = values
                .iter()
                .map(|v| {
                    v.map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                })
                .collect();
            let mut categories: Vec<String> = Vec::new();
            for l in labels.iter().flatten() {
                if !categories.contains(l) {
                    categories.push(l.clone());
                }
            }
            if categories.len() < 2 {
                continue;
            }
            let xs = labels
                .iter()
                .map(|l| {
                    l.as_ref()
                        .and_then(|l| categories.iter().position(|c| c == l))
                        .map(|i| i as f64)
                })
                .collect();
            out.push(ParamAxis {
                name: name.clone(),
                axis: Axis::categories(categories),
                xs,
            });
        }
    }
    out
}

/// Objective against each tuned hyperparameter (one panel each, best trial highlighted).
/// `None` when no hyperparameter varied.
pub(crate) fn tuning_figure(study: &TuningStudy) -> Result<Option<String>> {
    let params = param_axes(study);
    if params.is_empty() {
        return Ok(None);
    }
    let per_row = params.len().min(4);
    let rows = params.len().div_ceil(per_row);
    let (cell_w, cell_h) = (300u32, 250u32);
    let objective: Vec<f64> = study.trials.iter().map(|t| t.objective).collect();
    let best = objective
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .fold(None, |acc: Option<(usize, f64)>, (i, &v)| match acc {
            Some((_, b))
                if (study.higher_is_better && b >= v) || (!study.higher_is_better && b <= v) =>
            {
                acc
            }
            _ => Some((i, v)),
        });
    let (lo, hi) = finite_range(&objective).unwrap_or((0.0, 1.0));
    let pad = ((hi - lo) * 0.08).max(1e-9);
    render_svg(
        (
            cell_w * per_row as u32,
            LEGEND_HEIGHT + cell_h * rows as u32,
        ),
        |root| {
            let (legend_area, rest) = root.split_vertically(LEGEND_HEIGHT);
            let cells = rest.split_evenly((rows, per_row));
            for (p, cell) in params.iter().zip(cells.iter()) {
                let mut chart = xy(
                    cell,
                    p.axis.clone(),
                    Axis::linear(lo - pad, hi + pad, 5),
                    &p.name,
                    &study.objective,
                    64,
                )?;
                let points: Vec<(f64, f64)> =
                    p.xs.iter()
                        .zip(&objective)
                        .filter_map(|(x, y)| x.filter(|_| y.is_finite()).map(|x| (x, *y)))
                        .collect();
                chart
                    .draw_series(
                        points
                            .iter()
                            .map(|&pt| Circle::new(pt, 3, palette::BLUE.mix(0.55).filled())),
                    )
                    .map_err(plot_error)?;
                if let Some((x, v)) = best.and_then(|(i, v)| p.xs[i].map(|x| (x, v))) {
                    chart
                        .draw_series(std::iter::once(TriangleMarker::new(
                            (x, v),
                            7,
                            palette::VERMILLION.filled(),
                        )))
                        .map_err(plot_error)?;
                }
            }
            let failed = objective.iter().filter(|v| !v.is_finite()).count();
            let mut legend = vec![
                (
                    format!("trial ({})", study.trials.len() - failed),
                    Mark::Dot(palette::BLUE),
                ),
                ("best".to_string(), Mark::Triangle(palette::VERMILLION)),
            ];
            if failed > 0 {
                legend.push((
                    format!("{failed} failed trials not shown"),
                    Mark::Area(WHITE, 0.0),
                ));
            }
            draw_legend(&legend_area, 64, &legend)
        },
    )
    .map(Some)
}

/// Time unit for a delay axis: divisor and name.
fn delay_unit(max_abs_ms: f64) -> (f64, &'static str) {
    if max_abs_ms >= 2.0 * 86_400_000.0 {
        (86_400_000.0, "days")
    } else if max_abs_ms >= 2.0 * 3_600_000.0 {
        (3_600_000.0, "hours")
    } else if max_abs_ms >= 2.0 * 60_000.0 {
        (60_000.0, "minutes")
    } else {
        (1_000.0, "seconds")
    }
}

/// Detection delay of every incident, one row per family (dots; the median as a bar).
pub(crate) fn delay_figure(sets: &[&DelaySet]) -> Result<String> {
    let labels: Vec<String> = sets
        .iter()
        .map(|s| {
            let missed = s.incidents.iter().filter(|i| i.delay_ms.is_none()).count();
            format!("{} ({}/{} missed)", s.family, missed, s.incidents.len())
        })
        .collect();
    let delays: Vec<f64> = sets
        .iter()
        .flat_map(|s| s.incidents.iter().filter_map(|i| i.delay_ms))
        .map(|d| d as f64)
        .collect();
    let max_abs = delays.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    let (div, unit) = delay_unit(max_abs);
    let (lo, hi) =
        finite_range(&delays.iter().map(|d| d / div).collect::<Vec<_>>()).unwrap_or((0.0, 1.0));
    let (lo, hi) = (lo.min(0.0), hi.max(lo.min(0.0) + 1e-9));
    let label_area = labels.iter().map(|l| text_width(l)).max().unwrap_or(40) as u32 + 16;
    let height = LEGEND_HEIGHT + 70 + 30 * sets.len() as u32;
    render_svg((1000, height), |root| {
        let (legend_area, rest) = root.split_vertically(LEGEND_HEIGHT);
        let pad = (hi - lo) * 0.05;
        let mut chart = xy(
            &rest,
            Axis::linear(lo - pad, hi + pad, 8),
            Axis::categories_top_down(labels.clone()),
            &format!("delay from incident start to first alert ({unit})"),
            "",
            label_area,
        )?;
        for (row, set) in sets.iter().enumerate() {
            let mut values: Vec<f64> = set
                .incidents
                .iter()
                .filter_map(|i| i.delay_ms)
                .map(|d| d as f64 / div)
                .collect();
            // Deterministic vertical spread so equal delays stay countable.
            chart
                .draw_series(values.iter().enumerate().map(|(k, &v)| {
                    let jitter = ((k as f64 * 0.618_034) % 1.0 - 0.5) * 0.5;
                    Circle::new((v, row as f64 + jitter), 3, palette::BLUE.mix(0.6).filled())
                }))
                .map_err(plot_error)?;
            values.sort_by(f64::total_cmp);
            if let Some(median) = median_sorted(&values) {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(median, row as f64 - 0.4), (median, row as f64 + 0.4)],
                        palette::VERMILLION.stroke_width(3),
                    )))
                    .map_err(plot_error)?;
            }
        }
        let legend = vec![
            ("detected incident".to_string(), Mark::Dot(palette::BLUE)),
            (
                "median delay".to_string(),
                Mark::Line(palette::VERMILLION, 2),
            ),
        ];
        draw_legend(&legend_area, label_area as i32, &legend)
    })
}

fn median_sorted(values: &[f64]) -> Option<f64> {
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// False alarms per day, one horizontal bar per family.
pub(crate) fn false_alarm_figure(sets: &[&FalseAlarms]) -> Result<String> {
    let rates: Vec<f64> = sets
        .iter()
        .map(|s| {
            if s.days > 0.0 {
                s.false_alarms as f64 / s.days
            } else {
                f64::NAN
            }
        })
        .collect();
    let labels: Vec<String> = sets.iter().map(|s| s.family.clone()).collect();
    let hi = rates
        .iter()
        .copied()
        .filter(|r| r.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let label_area = labels.iter().map(|l| text_width(l)).max().unwrap_or(40) as u32 + 16;
    let height = 70 + 26 * sets.len() as u32;
    render_svg((1000, height), |root| {
        let mut chart = xy(
            root,
            Axis::linear(0.0, hi * 1.15, 8),
            Axis::categories_top_down(labels.clone()),
            "false alarms per day",
            "",
            label_area,
        )?;
        chart
            .draw_series(rates.iter().enumerate().filter(|(_, r)| r.is_finite()).map(
                |(row, &r)| {
                    Rectangle::new(
                        [(0.0, row as f64 - 0.32), (r, row as f64 + 0.32)],
                        palette::BLUE.filled(),
                    )
                },
            ))
            .map_err(plot_error)?;
        chart
            .draw_series(rates.iter().enumerate().map(|(row, &r)| {
                let x = if r.is_finite() { r } else { 0.0 };
                Text::new(
                    format!(" {}", format_number(r)),
                    (x, row as f64),
                    label_style().pos(Pos::new(HPos::Left, VPos::Center)),
                )
            }))
            .map_err(plot_error)?;
        Ok(())
    })
}

/// Daily false-alarm counts of the families that give them, overlaid on a UTC time axis.
pub(crate) fn daily_false_alarm_figure(sets: &[&FalseAlarms]) -> Result<String> {
    let days: Vec<f64> = sets
        .iter()
        .flat_map(|s| s.daily.iter().map(|d| d.day_start_ms as f64))
        .collect();
    let counts: Vec<f64> = sets
        .iter()
        .flat_map(|s| s.daily.iter().map(|d| d.count as f64))
        .collect();
    let (t0, t1) = finite_range(&days).unwrap_or((0.0, 86_400_000.0));
    let max = counts.iter().copied().fold(1.0f64, f64::max);
    let legend: Vec<(String, Mark)> = (0..sets.len())
        .map(|i| {
            let (colour, stroke) = cycle_style(i);
            (sets[i].family.clone(), stroke_mark(colour, stroke))
        })
        .collect();
    let legend_h = legend_height(1000, 64, &legend);
    render_svg((1000, 300 + legend_h), |root| {
        let (legend_area, rest) = root.split_vertically(legend_h);
        let mut chart = xy(
            &rest,
            Axis::time(t0, t1.max(t0 + 86_400_000.0), 8),
            Axis::linear(0.0, max * 1.1, 5),
            "day (UTC)",
            "false alarms",
            64,
        )?;
        for (i, s) in sets.iter().enumerate() {
            let (colour, stroke) = cycle_style(i);
            let points: Vec<(f64, f64)> = s
                .daily
                .iter()
                .map(|d| (d.day_start_ms as f64, d.count as f64))
                .collect();
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(plot_error)?;
            line(&mut chart, points, colour, stroke)?;
        }
        draw_legend(&legend_area, 64, &legend)
    })
}

/// Training and validation loss per epoch (log axis when the loss spans two decades).
pub(crate) fn training_figure(epochs: &[EpochLoss], loss: &str) -> Result<String> {
    let xs: Vec<f64> = epochs.iter().map(|e| f64::from(e.epoch)).collect();
    let mut ys: Vec<f64> = epochs.iter().map(|e| e.train).collect();
    ys.extend(epochs.iter().filter_map(|e| e.validation));
    let (x0, x1) = finite_range(&xs).unwrap_or((0.0, 1.0));
    let (lo, hi) = finite_range(&ys).unwrap_or((0.0, 1.0));
    let y_axis = if lo > 0.0 && hi / lo >= 100.0 {
        Axis::log(lo / 1.2, hi * 1.2)
    } else {
        let pad = ((hi - lo) * 0.08).max(1e-12);
        Axis::linear(
            (lo - pad).max(if lo >= 0.0 { 0.0 } else { f64::MIN }),
            hi + pad,
            5,
        )
    };
    render_svg((640, 340 + LEGEND_HEIGHT), |root| {
        let (legend_area, rest) = root.split_vertically(LEGEND_HEIGHT);
        let mut chart = xy(
            &rest,
            Axis::linear(x0, x1.max(x0 + 1.0), 6),
            y_axis,
            "epoch",
            loss,
            72,
        )?;
        let train: Vec<(f64, f64)> = xs
            .iter()
            .zip(epochs)
            .filter(|(_, e)| e.train.is_finite())
            .map(|(&x, e)| (x, e.train))
            .collect();
        let validation: Vec<(f64, f64)> = xs
            .iter()
            .zip(epochs)
            .filter_map(|(&x, e)| e.validation.filter(|v| v.is_finite()).map(|v| (x, v)))
            .collect();
        line(&mut chart, train.clone(), palette::BLUE, Stroke::Solid)?;
        line(
            &mut chart,
            validation.clone(),
            palette::VERMILLION,
            Stroke::Dashed,
        )?;
        if epochs.len() <= 60 {
            chart
                .draw_series(
                    train
                        .iter()
                        .map(|&p| Circle::new(p, 3, palette::BLUE.filled())),
                )
                .map_err(plot_error)?;
            chart
                .draw_series(
                    validation
                        .iter()
                        .map(|&p| Circle::new(p, 3, palette::VERMILLION.filled())),
                )
                .map_err(plot_error)?;
        }
        let mut legend = vec![("train".to_string(), Mark::Line(palette::BLUE, 1))];
        if !validation.is_empty() {
            legend.push(("validation".to_string(), Mark::Dashed(palette::VERMILLION)));
        }
        draw_legend(&legend_area, 72, &legend)
    })
}
