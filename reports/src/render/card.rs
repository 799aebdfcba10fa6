//! The model card.

use std::fmt::Write;

use super::series_plot;
use crate::error::Result;
use crate::html::{
    Cell, Head, Page, datasets_table, escape, key_values, lineage_html, metric_columns,
    metric_head, params_html, utc,
};
use crate::input::{ExportState, ModelCard};
use crate::plot::format_number;

/// Renders a model card as one self-contained HTML page.
pub fn render_model_card(card: &ModelCard) -> Result<String> {
    let title = format!("Model card: {} v{}", card.model, card.version);
    let mut subtitle = format!("family {}", card.family);
    if !card.aliases.is_empty() {
        let _ = write!(subtitle, " · aliases: {}", card.aliases.join(", "));
    }
    if let Some(t) = card.registered_at_ms {
        let _ = write!(subtitle, " · registered {}", utc(t));
    }
    let mut page = Page::new(&title, &subtitle);

    page.section("detects", "What it detects");
    if let Some(p) = &card.purpose {
        page.push(&format!("<p>{}</p>\n", escape(p)));
    }
    let mut rows = vec![("family", format!("<code>{}</code>", escape(&card.family)))];
    if let Some(d) = &card.family_description {
        rows.push(("about the family", escape(d)));
    }
    if let Some(c) = card.causal {
        rows.push((
            "causal",
            if c {
                "yes: the score at t uses rows up to t only (usable online)".to_string()
            } else {
                "no: batch-only (scores use later rows)".to_string()
            },
        ));
    }
    if !card.inputs.is_empty() {
        let inputs: Vec<String> = card
            .inputs
            .iter()
            .map(|i| format!("<code>{}</code>", escape(i)))
            .collect();
        rows.push(("inputs", inputs.join(", ")));
    }
    rows.push(("parameters", params_html(&card.params)));
    page.push(&key_values(&rows));

    page.section("data", "Data");
    page.push("<h3>Trained on</h3>\n");
    page.push(&if card.training_data.is_empty() {
        "<p class=\"muted\">Not recorded.</p>\n".to_string()
    } else {
        datasets_table(&card.training_data)
    });
    page.push("<h3>Evaluated on</h3>\n");
    page.push(&if card.evaluation_data.is_empty() {
        "<p class=\"muted\">Not recorded.</p>\n".to_string()
    } else {
        datasets_table(&card.evaluation_data)
    });

    page.section("metrics", "Metrics");
    if card.metrics.is_empty() {
        page.push("<p class=\"muted\">No metrics recorded.</p>\n");
    }
    let columns = metric_columns(&card.metric_info, card.metrics.iter().map(|g| &g.metrics));
    if !card.metrics.is_empty() {
        let mut heads = vec![Head::text("measured"), Head::text("protocol")];
        heads.extend(columns.iter().map(metric_head));
        let rows: Vec<(Option<&str>, Vec<Cell>)> = card
            .metrics
            .iter()
            .map(|g| {
                let mut cells = vec![
                    Cell::text(&g.name),
                    Cell::text(g.protocol.as_deref().unwrap_or("—")),
                ];
                cells.extend(
                    columns
                        .iter()
                        .map(|c| Cell::number(g.metrics.get(&c.key).unwrap_or(f64::NAN))),
                );
                (None, cells)
            })
            .collect();
        page.push(&crate::html::table(&heads, &rows, false));
    }

    page.section("decision", "Threshold and alert policy");
    let mut rows = Vec::new();
    match &card.threshold {
        Some(t) => {
            rows.push((
                "threshold",
                format!(
                    "<b>{}</b> (score ≥ threshold detects)",
                    format_number(t.value)
                ),
            ));
            rows.push(("chosen by", escape(&t.policy)));
            if let Some(f) = &t.fitted_on {
                rows.push(("fitted on", escape(f)));
            }
        }
        None => rows.push((
            "threshold",
            "<span class=\"muted\">none shipped</span>".to_string(),
        )),
    }
    rows.push(("alert policy", params_html(&card.alert_policy)));
    page.push(&key_values(&rows));

    page.section("limitations", "Limitations");
    if card.limitations.is_empty() {
        page.push("<p class=\"muted\">None recorded. Absence of a limitation here is not evidence of its absence.</p>\n");
    } else {
        let mut out = String::from("<ul>\n");
        for l in &card.limitations {
            let _ = writeln!(out, "<li>{}</li>", escape(l));
        }
        out.push_str("</ul>\n");
        page.push(&out);
    }

    page.section("export", "Export and artifacts");
    if card.exports.is_empty() {
        page.push("<p class=\"muted\">No export attempted.</p>\n");
    } else {
        let heads = [
            Head::text("format"),
            Head::text("status"),
            Head::num("max |Δ score|"),
            Head::text("sha256"),
            Head::text("detail"),
        ];
        let rows: Vec<(Option<&str>, Vec<Cell>)> = card
            .exports
            .iter()
            .map(|e| {
                let (class, text) = match e.state {
                    ExportState::Verified => ("ok", "verified"),
                    ExportState::Exported => ("ok", "exported, unchecked"),
                    ExportState::Unsupported => ("na", "unsupported"),
                    ExportState::Failed => ("no", "failed"),
                };
                (
                    None,
                    vec![
                        Cell::text(&e.format),
                        Cell::html(format!("<span class=\"badge {class}\">{text}</span>")),
                        Cell::optional_number(e.max_abs_diff),
                        Cell::html(
                            e.sha256
                                .as_ref()
                                .map_or("—".into(), |h| format!("<code>{}</code>", escape(h))),
                        ),
                        Cell::text(e.detail.as_deref().unwrap_or("")),
                    ],
                )
            })
            .collect();
        page.push(&crate::html::table(&heads, &rows, false));
    }
    if !card.artifacts.is_empty() {
        page.push("<h3>Artifacts</h3>\n");
        let heads = [
            Head::text("name"),
            Head::text("sha256"),
            Head::num("size (bytes)"),
            Head::text("media type"),
        ];
        let rows: Vec<(Option<&str>, Vec<Cell>)> = card
            .artifacts
            .iter()
            .map(|a| {
                let mut size = Cell::optional_number(a.size_bytes.map(|s| s as f64));
                if let Some(s) = a.size_bytes {
                    size.html = s.to_string();
                }
                (
                    None,
                    vec![
                        Cell::text(&a.name),
                        Cell::html(format!("<code>{}</code>", escape(&a.sha256))),
                        size,
                        Cell::text(a.media_type.as_deref().unwrap_or("—")),
                    ],
                )
            })
            .collect();
        page.push(&crate::html::table(&heads, &rows, false));
    }

    page.section("lineage", "Lineage");
    page.push(&lineage_html(&card.lineage));

    if !card.examples.is_empty() {
        page.section("examples", "Examples");
        for plot in &card.examples {
            series_plot(&mut page, "example", plot)?;
        }
    }
    Ok(page.finish())
}
