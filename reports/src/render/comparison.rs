//! The comparison report: two versions on the same data.

use std::fmt::Write;

use super::validate;
use crate::error::Result;
use crate::html::{
    Cell, Head, Page, datasets_table, escape, lineage_html, metric_columns, metric_head,
    params_html, slug, table,
};
use crate::input::{Comparison, MetricInfo, Metrics, VersionSummary};
use crate::plot::format_number;
use crate::plot::series::{Layout, series_figure};

/// A delta cell: signed difference, coloured and arrowed by whether it is an improvement.
fn delta_cell(info: &MetricInfo, baseline: f64, candidate: f64) -> Cell {
    let mut d = candidate - baseline;
    // Differences at rounding level are no difference.
    if d.abs() <= 1e-9 * baseline.abs().max(candidate.abs()) {
        d = 0.0;
    }
    let mut cell = Cell::number(d);
    if !d.is_finite() {
        return cell;
    }
    let sign = if d > 0.0 { "+" } else { "" };
    if d == 0.0 {
        cell.html = "0".into();
        return cell;
    }
    let better = (d > 0.0) == info.higher_is_better;
    let (class, arrow, word) = if better {
        ("better", "▲", "better")
    } else {
        ("worse", "▼", "worse")
    };
    cell.html = format!(
        "<span class=\"{class}\" title=\"{word}\">{arrow} {sign}{}</span>",
        format_number(d)
    );
    cell
}

fn side_card(role: &str, side: &VersionSummary) -> String {
    let mut out = format!(
        "<div class=\"card\"><h3>{role}: {}</h3>\n",
        escape(&side.label)
    );
    let mut rows = Vec::new();
    if let Some(m) = &side.model {
        rows.push(("model", escape(m)));
    }
    if let Some(v) = &side.version {
        rows.push(("version", escape(v)));
    }
    rows.push(("family", format!("<code>{}</code>", escape(&side.family))));
    rows.push(("parameters", params_html(&side.params)));
    rows.push((
        "threshold",
        side.threshold.map_or("—".to_string(), format_number),
    ));
    out.push_str(&crate::html::key_values(&rows));
    out.push_str("</div>\n");
    out
}

fn metric_rows(
    columns: &[MetricInfo],
    baseline: &Metrics,
    candidate: &Metrics,
) -> Vec<(Option<&'static str>, Vec<Cell>)> {
    columns
        .iter()
        .map(|c| {
            let b = baseline.get(&c.key).unwrap_or(f64::NAN);
            let k = candidate.get(&c.key).unwrap_or(f64::NAN);
            let mut name = Cell::text(&format!(
                "{} {}",
                c.heading(),
                if c.higher_is_better { "↑" } else { "↓" }
            ));
            name.title = c.description.clone();
            (
                None,
                vec![name, Cell::number(b), Cell::number(k), delta_cell(c, b, k)],
            )
        })
        .collect()
}

/// Renders the comparison of two versions as one self-contained HTML page.
pub fn render_comparison(comparison: &Comparison) -> Result<String> {
    let (base, cand) = (&comparison.baseline, &comparison.candidate);
    let subtitle = format!(
        "{} (baseline) vs {} (candidate); deltas are candidate − baseline",
        base.label, cand.label
    );
    let mut page = Page::new(&comparison.title, &subtitle);
    for note in &comparison.notes {
        page.note(note);
    }

    page.section("versions", "Versions");
    page.push(&format!(
        "<div class=\"cards\">{}{}</div>\n",
        side_card("baseline", base),
        side_card("candidate", cand)
    ));
    if let Some(p) = &comparison.protocol {
        page.push(&format!("<p><b>Protocol:</b> {}</p>\n", escape(p)));
    }
    if !comparison.data.is_empty() {
        page.push("<h3>Evaluation data</h3>\n");
        page.push(&datasets_table(&comparison.data));
    }

    page.section("metrics", "Metrics");
    let columns = metric_columns(
        &comparison.metric_info,
        [&base.metrics, &cand.metrics].into_iter(),
    );
    let heads = [
        Head::text("metric"),
        Head::num(&base.label),
        Head::num(&cand.label),
        Head::num("Δ"),
    ];
    page.push(&table(
        &heads,
        &metric_rows(&columns, &base.metrics, &cand.metrics),
        true,
    ));
    page.push("<p class=\"muted\">▲ blue: the candidate is better; ▼ orange: worse (by each metric's direction).</p>\n");

    if !comparison.series.is_empty() {
        page.section("per-series", "Per series");
        let series_columns = metric_columns(
            &comparison.metric_info,
            comparison
                .series
                .iter()
                .flat_map(|s| [&s.baseline_metrics, &s.candidate_metrics]),
        );
        // Only the metrics some series has.
        let series_columns: Vec<MetricInfo> = series_columns
            .into_iter()
            .filter(|c| {
                comparison.series.iter().any(|s| {
                    s.baseline_metrics.get(&c.key).is_some()
                        || s.candidate_metrics.get(&c.key).is_some()
                })
            })
            .collect();
        let mut heads = vec![Head::text("series")];
        for c in &series_columns {
            let mut h = metric_head(c);
            h.text = format!("{} {}", c.heading(), base.label);
            heads.push(h);
            heads.push(Head::num(&format!("{} {}", c.heading(), cand.label)));
            heads.push(
                Head::num(&format!("Δ {}", c.heading()))
                    .titled(Some("candidate − baseline".into())),
            );
        }
        let rows: Vec<(Option<&str>, Vec<Cell>)> = comparison
            .series
            .iter()
            .map(|s| {
                let mut name = Cell::text(&s.series);
                if s.plot.is_some() {
                    name.html = format!(
                        "<a href=\"#cmp-{}\">{}</a>",
                        slug(&s.series),
                        escape(&s.series)
                    );
                }
                let mut cells = vec![name];
                for c in &series_columns {
                    let b = s.baseline_metrics.get(&c.key).unwrap_or(f64::NAN);
                    let k = s.candidate_metrics.get(&c.key).unwrap_or(f64::NAN);
                    cells.extend([Cell::number(b), Cell::number(k), delta_cell(c, b, k)]);
                }
                (None, cells)
            })
            .collect();
        page.push(&table(&heads, &rows, true));

        let plotted: Vec<_> = comparison
            .series
            .iter()
            .filter(|s| s.plot.is_some())
            .collect();
        if !plotted.is_empty() {
            page.push(&format!(
                "<h3>Overlaid scores</h3>\n<p class=\"muted\">Values with incidents shaded and both versions' alerts \
                 (▲ {}, ● {}). Below, both score tracks; when both thresholds are positive each score is divided by \
                 its own threshold, so one dashed line at 1 is both thresholds.</p>\n",
                escape(&base.label),
                escape(&cand.label)
            ));
        }
        for s in plotted {
            let Some(plot) = &s.plot else { continue };
            let mut baseline = plot.baseline.clone();
            let mut candidate = plot.candidate.clone();
            if baseline.label.is_empty() {
                baseline.label = base.label.clone();
            }
            if candidate.label.is_empty() {
                candidate.label = cand.label.clone();
            }
            let tracks = [&baseline, &candidate];
            validate::series("comparison ", &plot.data, &tracks)?;
            let svg = series_figure(&plot.data, &tracks, Layout::Overlay)?;
            let mut caption = String::new();
            let _ = write!(
                caption,
                "{}: {} alert(s); {}: {} alert(s); {} incident(s)",
                escape(&baseline.label),
                baseline.alerts.len(),
                escape(&candidate.label),
                candidate.alerts.len(),
                plot.data.incidents.len()
            );
            page.push(&format!("<h4>{}</h4>\n", escape(&s.series)));
            page.figure(&format!("cmp-{}", slug(&s.series)), &svg, &caption);
        }
    }

    page.section("lineage", "Lineage");
    page.push(&lineage_html(&comparison.lineage));
    Ok(page.finish())
}
