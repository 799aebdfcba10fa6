//! The three renderers.

pub(crate) mod card;
pub(crate) mod comparison;
pub(crate) mod experiment;
mod validate;

use std::fmt::Write;

use crate::error::Result;
use crate::html::{Page, escape, slug};
use crate::input::{Metrics, SeriesPlot};
use crate::plot::format_number;
use crate::plot::series::{Layout, series_figure};

/// Metrics inline: `name value · name value`.
pub(crate) fn metrics_inline(metrics: &Metrics) -> String {
    metrics
        .iter()
        .map(|(k, v)| format!("{} <b>{}</b>", escape(k), format_number(v)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One per-series figure with its heading and caption.
pub(crate) fn series_plot(page: &mut Page, id_prefix: &str, plot: &SeriesPlot) -> Result<()> {
    let tracks: Vec<_> = plot.tracks.iter().collect();
    validate::series(
        &format!("dataset \"{}\" ", plot.dataset),
        &plot.data,
        &tracks,
    )?;
    let svg = series_figure(&plot.data, &tracks, Layout::Stacked)?;
    let mut caption = format!(
        "{} rows, {} incident(s)",
        plot.data.timestamps_ms.len(),
        plot.data.incidents.len()
    );
    for t in &plot.tracks {
        let _ = write!(
            caption,
            "; {}: {} alert(s)",
            escape(&t.label),
            t.alerts.len()
        );
    }
    if !plot.metrics.is_empty() {
        let _ = write!(caption, "<br>{}", metrics_inline(&plot.metrics));
    }
    page.push(&format!("<h4>{}</h4>\n", escape(&plot.data.name)));
    let id = format!(
        "{id_prefix}-{}-{}",
        slug(&plot.dataset),
        slug(&plot.data.name)
    );
    page.figure(&id, &svg, &caption);
    Ok(())
}
