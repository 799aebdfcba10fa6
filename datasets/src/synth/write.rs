//! Writes a generated dataset as a folder the generic loader reads back identically:
//! `<series>.csv` (`timestamp,value`), `labels.csv` (`series,start,end,kind,severity`) and
//! `synth.json` (the config, to regenerate it).
//!
//! Timestamps are RFC 3339 UTC with milliseconds (`2026-01-05T00:05:00.000Z`); values use
//! Rust's shortest round-trip formatting, so parsing gives back the same bits; NaN is an empty
//! cell. Each file is written to a temporary name in the folder and renamed into place, so a
//! reader never sees a half-written file.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use super::config::SynthConfig;
use crate::error::{DatasetError, Result};
use crate::model::{Dataset, Series};

/// Name of the labels file beside the series.
pub const SYNTH_LABELS_FILE: &str = "labels.csv";
/// Name of the config file beside the series.
pub const SYNTH_CONFIG_FILE: &str = "synth.json";

/// `2026-01-05T00:05:00.000Z` for a millisecond UTC timestamp; `None` outside chrono's range.
pub fn format_timestamp_ms(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

fn timestamp(path: &Path, ms: i64) -> Result<String> {
    format_timestamp_ms(ms).ok_or_else(|| {
        DatasetError::format(
            path,
            format!("timestamp {ms} ms is outside the years chrono can write"),
            "generate timestamps near the present",
        )
    })
}

/// Writes `dataset` (made by [`super::generate`] from `config`) into `dir`, creating it.
///
/// Existing files of the same names are replaced; other files in `dir` are left alone.
pub fn write_synth(dataset: &Dataset, config: &SynthConfig, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
    for series in &dataset.series {
        check_name(dir, series)?;
    }
    for series in &dataset.series {
        let path = dir.join(format!("{}.csv", series.name));
        write_atomic(&path, series_csv(&path, series)?.as_bytes())?;
    }
    let labels_path = dir.join(SYNTH_LABELS_FILE);
    write_atomic(&labels_path, labels_csv(&labels_path, dataset)?.as_bytes())?;
    let config_path = dir.join(SYNTH_CONFIG_FILE);
    let mut json = serde_json::to_string_pretty(config)
        .map_err(|e| DatasetError::format(&config_path, e.to_string(), "this is a bug in vigil"))?;
    json.push('\n');
    write_atomic(&config_path, json.as_bytes())?;
    tracing::info!(dir = %dir.display(), series = dataset.series.len(), "wrote synthetic dataset");
    Ok(())
}

fn check_name(dir: &Path, series: &Series) -> Result<()> {
    let name = &series.name;
    let usable = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name != "labels"
        && name != "synth";
    if let Some(column) = series
        .columns
        .iter()
        .find(|c| c.as_str() == "timestamp" || c.contains([',', '"', '\n', '\r']))
    {
        return Err(DatasetError::format(
            dir,
            format!(
                "series {name:?} has a column named {column:?}, which cannot be a CSV value column here"
            ),
            "rename the column (not `timestamp`, no commas, quotes or line breaks)",
        ));
    }
    if usable {
        Ok(())
    } else {
        Err(DatasetError::format(
            dir,
            format!("series name {name:?} cannot be a file name here"),
            "name series with letters, digits, '_', '-' and '.', not starting with '.', and not `labels` or `synth`",
        ))
    }
}

fn series_csv(path: &Path, series: &Series) -> Result<String> {
    let mut out = String::with_capacity(32 * (series.len() + 1) * series.channels().max(1));
    out.push_str("timestamp");
    for column in &series.columns {
        out.push(',');
        out.push_str(column);
    }
    out.push('\n');
    for (row, &t) in series.timestamps.iter().enumerate() {
        out.push_str(&timestamp(path, t)?);
        for &v in series.values.row(row) {
            out.push(',');
            if !v.is_nan() {
                let _ = write!(out, "{v}");
            }
        }
        out.push('\n');
    }
    Ok(out)
}

fn labels_csv(path: &Path, dataset: &Dataset) -> Result<String> {
    let mut out = String::from("series,start,end,kind,severity\n");
    for series in &dataset.series {
        for incident in &series.incidents {
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                series.name,
                timestamp(path, incident.start)?,
                timestamp(path, incident.end)?,
                incident.kind.as_deref().unwrap_or(""),
                incident.severity.as_deref().unwrap_or(""),
            );
        }
    }
    Ok(out)
}

/// Writes to a temporary file in the same folder, flushes it to disk and renames it over `path`.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        DatasetError::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_millis_utc() {
        assert_eq!(
            format_timestamp_ms(super::super::DEFAULT_START_MS + 300_000).as_deref(),
            Some("2026-01-05T00:05:00.000Z")
        );
        assert_eq!(
            format_timestamp_ms(1_500).as_deref(),
            Some("1970-01-01T00:00:01.500Z")
        );
        assert_eq!(
            format_timestamp_ms(-1).as_deref(),
            Some("1969-12-31T23:59:59.999Z")
        );
    }
}
