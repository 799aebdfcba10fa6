//! Human-readable renderings: tables, run and version sheets, comparisons.

use std::collections::BTreeSet;

use serde_json::Value;
use vigil_registry::{ModelVersion, RunDetails};

use super::Comparable;

pub(super) fn show_run(run: &RunDetails) -> String {
    let info = &run.run.info;
    let mut text = String::new();
    let mut field = |name: &str, value: String| text.push_str(&format!("{name:<12} {value}\n"));
    field("run", run.run.id.clone());
    field("experiment", info.experiment.clone());
    field("name", info.name.clone());
    field("status", run.run.status.to_string());
    field("started", time(info.started_at_ms));
    field("ended", run.run.ended_at_ms.map(time).unwrap_or_default());
    field("trial", info.trial_key.clone().unwrap_or_default());
    field("git commit", info.git_commit.clone().unwrap_or_default());
    field("spec hash", info.spec_hash.clone().unwrap_or_default());
    field("host", info.host.clone().unwrap_or_default());
    let mut out = text;
    out.push('\n');
    out.push_str(&table(
        &["PARAM", "VALUE"],
        run.params.iter().map(|(k, v)| vec![k.clone(), v.clone()]),
    ));
    out.push('\n');
    out.push_str(&table(
        &["METRIC", "STEP", "VALUE"],
        run.metrics
            .iter()
            .map(|m| vec![m.key.clone(), m.step.to_string(), number(m.value)]),
    ));
    out.push('\n');
    out.push_str(&table(
        &["TAG", "VALUE"],
        run.tags.iter().map(|(k, v)| vec![k.clone(), v.clone()]),
    ));
    out.push('\n');
    out.push_str(&table(
        &["ARTIFACT", "SHA256", "BYTES", "MEDIA TYPE"],
        run.artifacts.iter().map(|a| {
            vec![
                a.name.clone(),
                a.artifact.sha256.clone(),
                a.artifact.size_bytes.to_string(),
                a.artifact.media_type.clone(),
            ]
        }),
    ));
    out.push('\n');
    out.push_str(&table(
        &["DATASET", "ROLE", "DESCRIPTION"],
        run.datasets
            .iter()
            .map(|d| vec![d.fingerprint.clone(), d.role.clone(), d.description.clone()]),
    ));
    out
}

pub(super) fn show_version(version: &ModelVersion) -> String {
    let mut out = format!(
        "model        {}\nversion      {}\naliases      {}\ncreated      {} by {}\nrun          {}\nthreshold    {}\nstate        {}\nspec         {}\nalert policy {}\ndescription  {}\n\n",
        version.model,
        version.version,
        version.aliases.join(" "),
        time(version.created_at_ms),
        version.created_by,
        version.run_id.clone().unwrap_or_default(),
        version.threshold,
        version.state_artifact,
        version.spec,
        version.alert_policy,
        version.description,
    );
    out.push_str(&table(
        &["METRIC", "VALUE"],
        version
            .metrics
            .iter()
            .map(|(k, v)| vec![k.clone(), number(*v)]),
    ));
    out.push('\n');
    out.push_str(&table(
        &["ARTIFACT", "SHA256", "BYTES", "MEDIA TYPE"],
        version.artifacts.iter().map(|a| {
            vec![
                a.name.clone(),
                a.artifact.sha256.clone(),
                a.artifact.size_bytes.to_string(),
                a.artifact.media_type.clone(),
            ]
        }),
    ));
    out.push('\n');
    out.push_str(&table(
        &["DATASET", "ROLE", "DESCRIPTION"],
        version
            .datasets
            .iter()
            .map(|d| vec![d.fingerprint.clone(), d.role.clone(), d.description.clone()]),
    ));
    out
}

pub(super) fn compare_table(columns: &[Comparable]) -> String {
    let mut header = vec!["KEY".to_owned()];
    header.extend(columns.iter().map(|c| c.label.clone()));
    let params: BTreeSet<&String> = columns.iter().flat_map(|c| c.params.keys()).collect();
    let metrics: BTreeSet<&String> = columns.iter().flat_map(|c| c.metrics.keys()).collect();
    let mut rows = Vec::new();
    for key in params {
        let mut row = vec![format!("param {key}")];
        row.extend(
            columns
                .iter()
                .map(|c| c.params.get(key).cloned().unwrap_or_else(|| "-".to_owned())),
        );
        rows.push(row);
    }
    for key in metrics {
        let mut row = vec![format!("metric {key}")];
        row.extend(columns.iter().map(|c| {
            c.metrics
                .get(key)
                .map_or_else(|| "-".to_owned(), |v| number(*v))
        }));
        rows.push(row);
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&header, rows.into_iter())
}

/// Left-aligned columns separated by two spaces.
pub(super) fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = rows.collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// UTC time from epoch milliseconds.
pub(super) fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// A metric for humans: NaN, scientific for tiny or huge magnitudes, else up to 6 decimals.
pub(super) fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value != 0.0 && value.is_finite() && !(1e-4..1e12).contains(&value.abs()) {
        format!("{value:e}")
    } else if value.is_finite() {
        let fixed = format!("{value:.6}");
        fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        value.to_string()
    }
}

pub(super) fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}
