//! Per-row scores of every leaderboard entry, written as CSV for analysis outside vigil
//! (`vigil run --scores DIR`).
//!
//! One file per entry and series: `DIR/<entry>/<dataset>/<series>.csv`, where a series name
//! with `/` (NAB's `realKnownCause/nyc_taxi.csv`) becomes sub-folders and a trailing `.csv`
//! is not doubled. Columns:
//!
//! * `timestamp`: RFC 3339 in UTC (`2014-07-01T00:00:00.000Z`), as vigil writes every timestamp;
//! * `value`: the metric, for single-channel series only (NAB's results layout);
//! * `anomaly_score`: the entry's full-series score;
//! * `threshold`: the deployable threshold the run chose for this series;
//! * `detected`: 1 when `anomaly_score >= threshold`;
//! * `label`: 1 inside a labelled incident window;
//! * `part`: `train`, `validation` or `test` (rows outside every part are `-`; under NAB's
//!   protocol every row is `test`, the probationary rows included, as NAB scores the file).
//!
//! `vigil eval --scores DIR/<entry>/<dataset>` evaluates the `test` rows at the recorded
//! thresholds and reproduces the entry's leaderboard numbers.
//!
//! The folders follow NAB's `results/<detector>/<category>/…`, so `vigil eval --scores` or a
//! notebook reads them directly; unlike NAB, scores are not squashed into [0, 1].

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::error::{ExperimentError, Result};
use crate::runner::Outcome;

/// Writes every entry's scores under `dir`; returns the files written, in entry then series
/// order.
pub fn write_scores(outcome: &Outcome, dir: &Path) -> Result<Vec<PathBuf>> {
    let series: Vec<&crate::data::PreparedSeries> =
        outcome.data.iter().flat_map(|d| &d.series).collect();
    let mut written = Vec::new();
    for (entry, trace) in &outcome.traces {
        for (i, prepared) in series.iter().enumerate() {
            let Some(scores) = trace.scores.get(i) else {
                continue;
            };
            let threshold = trace.thresholds.get(i).copied().unwrap_or(f64::NAN);
            let path = dir
                .join(safe_component(entry))
                .join(safe_component(&prepared.dataset))
                .join(series_path(&prepared.series.name));
            let text = render(prepared, scores, threshold);
            write_file(&path, &text)?;
            written.push(path);
        }
    }
    Ok(written)
}

fn render(prepared: &crate::data::PreparedSeries, scores: &[f64], threshold: f64) -> String {
    let s = &prepared.series;
    let label = vigil_eval::labels_from_windows(&prepared.windows, scores.len());
    let split = &prepared.split;
    let mut out = String::with_capacity(scores.len() * 64);
    out.push_str(&header(s, "anomaly_score,threshold,detected,label,part"));
    for (row, &score) in scores.iter().enumerate() {
        // Test first: under NAB's protocol the whole file is the test part (NAB's scorer skips
        // the probationary rows itself), so those rows are test rows that also trained.
        let part = if split.test.contains(&row) {
            "test"
        } else if split.validation.contains(&row) {
            "validation"
        } else if split.train.contains(&row) {
            "train"
        } else {
            "-"
        };
        row_prefix(&mut out, s, row);
        let _ = writeln!(
            out,
            "{score},{threshold},{},{},{part}",
            u8::from(score >= threshold),
            u8::from(label[row]),
        );
    }
    out
}

/// Writes what `vigil score` computed: one CSV per series under `dir/<dataset>/<series>.csv`
/// (folders as [`write_scores`] makes them) with the columns `timestamp`, `value` (single
/// channel only), `anomaly_score`, `threshold`, `detected` (score >= threshold), `alert` (the
/// row is covered by an alert after the alert policy), `severity` (the covering alert's band,
/// empty otherwise), `warm_up` (1 while the models lack history) and `label`; and
/// `dir/alerts.csv` with one row per alert. Returns the files written.
pub fn write_applied(applied: &crate::apply::Applied, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut alerts = String::from(
        "series,start,end,start_row,end_row,peak_score,threshold,severity,suppressed\n",
    );
    for a in &applied.series {
        let (dataset, name) = a.key.split_once('/').unwrap_or(("data", &a.key));
        let path = dir.join(safe_component(dataset)).join(series_path(name));
        let s = &a.series;
        let label = vigil_eval::labels_from_windows(&a.windows, a.scores.len());
        let mut severity: Vec<&str> = vec![""; a.scores.len()];
        for alert in &a.alerts {
            let band = alert.severity.as_deref().unwrap_or("");
            for v in severity.iter_mut().take(alert.end + 1).skip(alert.start) {
                *v = band;
            }
            let _ = write!(alerts, "{},", csv_field(&a.key));
            vigil_datasets::timestamp::write_timestamp(s.timestamps[alert.start], &mut alerts);
            alerts.push(',');
            vigil_datasets::timestamp::write_timestamp(s.timestamps[alert.end], &mut alerts);
            let _ = writeln!(
                alerts,
                ",{},{},{},{},{band},{}",
                alert.start, alert.end, alert.peak_score, a.threshold, alert.suppressed
            );
        }
        let mut out = String::with_capacity(a.scores.len() * 64);
        out.push_str(&header(
            s,
            "anomaly_score,threshold,detected,alert,severity,warm_up,label",
        ));
        for (row, &score) in a.scores.iter().enumerate() {
            row_prefix(&mut out, s, row);
            let _ = writeln!(
                out,
                "{score},{},{},{},{},{},{}",
                a.threshold,
                u8::from(a.detected[row]),
                u8::from(a.alerting[row]),
                severity[row],
                u8::from(row < a.warm_up),
                u8::from(label[row]),
            );
        }
        write_file(&path, &out)?;
        written.push(path);
    }
    let path = dir.join("alerts.csv");
    write_file(&path, &alerts)?;
    written.push(path);
    Ok(written)
}

/// The header: `timestamp`, `value` for a single-channel series, then `rest`.
fn header(s: &vigil_datasets::Series, rest: &str) -> String {
    if s.values.ncols() == 1 {
        format!("timestamp,value,{rest}\n")
    } else {
        format!("timestamp,{rest}\n")
    }
}

/// A row's leading fields, each followed by a comma: its timestamp (RFC 3339, UTC) and, for a
/// single-channel series, its value (empty when missing).
fn row_prefix(out: &mut String, s: &vigil_datasets::Series, row: usize) {
    vigil_datasets::timestamp::write_timestamp(s.timestamps[row], out);
    out.push(',');
    if s.values.ncols() == 1 {
        let v = s.values[[row, 0]];
        if v.is_finite() {
            let _ = write!(out, "{v}");
        }
        out.push(',');
    }
}

/// A CSV field, quoted when it holds a separator or a quote.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A name usable as one path component: separators and `..` cannot escape `dir`.
fn safe_component(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '\0' => '_',
            c => c,
        })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => format!("_{cleaned}"),
        _ => cleaned,
    }
}

/// A series name as a relative path: `/` makes folders, every part made safe, `.csv` added
/// once.
fn series_path(name: &str) -> PathBuf {
    let mut path: PathBuf = Path::new(name)
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(safe_component(&part.to_string_lossy())),
            _ => None,
        })
        .collect();
    if path.as_os_str().is_empty() {
        path.push("series");
    }
    if path.extension().is_none_or(|e| e != "csv") {
        let mut file = path.file_name().unwrap_or_default().to_os_string();
        file.push(".csv");
        path.set_file_name(file);
    }
    path
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    let io = |e: std::io::Error| ExperimentError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
        hint: "choose a writable --scores directory".into(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_names_stay_inside_the_directory() {
        assert_eq!(
            series_path("realKnownCause/nyc_taxi.csv"),
            PathBuf::from("realKnownCause/nyc_taxi.csv")
        );
        assert_eq!(series_path("machine-1-2"), PathBuf::from("machine-1-2.csv"));
        assert_eq!(series_path("../../etc/x"), PathBuf::from("etc/x.csv"));
        assert_eq!(series_path("/abs/y.txt"), PathBuf::from("abs/y.txt.csv"));
        assert_eq!(series_path(".."), PathBuf::from("series.csv"));
        assert_eq!(safe_component("a/b"), "a_b");
        assert_eq!(safe_component(".."), "_..");
    }
}
