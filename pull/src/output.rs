//! The pull folder: `<name>.parquet` per query (a `timestamp` column, UTC, and one Float64
//! column per label set, NaN where there was no sample), `labels.csv` when incidents were
//! pulled (`series,start,end,kind,severity`, which the generic loader attaches by file stem),
//! and `pull.json` with what was pulled and the dataset fingerprint. `load_generic(DIR)` reads
//! the folder back as the same dataset (it reads only `.csv`/`.parquet` data files and takes
//! `labels.csv` as the labels, so `pull.json` is left alone).

use std::path::Path;

use serde::{Deserialize, Serialize};
use vigil_datasets::{Dataset, Layout, attach_labels, write_labels_csv, write_parquet};

use crate::error::{PullError, Result};
use crate::run::{PullSpec, Pulled, QueryReport};
use crate::time::{format_duration, show};

/// Name of the metadata file.
pub const METADATA_FILE: &str = "pull.json";
/// Name of the labels file.
pub const LABELS_FILE: &str = "labels.csv";

/// `pull.json`: what was pulled from where, and the fingerprint of the resulting dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullMetadata {
    /// vigil's version.
    pub vigil_version: String,
    /// The server's base URL (never with credentials).
    pub server: String,
    /// How requests authenticated (`none`, or which variable held the secret).
    pub auth: String,
    /// When the pull finished (RFC 3339, UTC).
    pub pulled_at: String,
    /// First evaluation time (RFC 3339, UTC).
    pub start: String,
    /// Last evaluation time (RFC 3339, UTC).
    pub end: String,
    /// The step as a Prometheus duration.
    pub step: String,
    /// The step in milliseconds.
    pub step_ms: i64,
    /// Grid points per series (rows of each file).
    pub points: u64,
    /// Grid points per request.
    pub points_per_chunk: u64,
    /// Whether raw counters were allowed.
    pub allow_counter: bool,
    /// One entry per query / file.
    pub queries: Vec<QueryMetadata>,
    /// The incidents query and what it gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incidents: Option<IncidentMetadata>,
    /// Prometheus' warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `Dataset::fingerprint` of the folder as `load_generic` reads it.
    pub fingerprint: String,
}

/// One query's entry in `pull.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryMetadata {
    /// The data file, relative to the folder.
    pub file: String,
    /// Name, query, columns, chunks and sample count.
    #[serde(flatten)]
    pub report: QueryReport,
}

/// The incidents entry in `pull.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentMetadata {
    /// The alert query.
    pub query: String,
    /// The labels file, relative to the folder.
    pub file: String,
    /// Alert label sets returned.
    pub alert_series: usize,
    /// Label rows written.
    pub windows: usize,
}

/// Writes the pull folder and returns its metadata.
///
/// The folder is created if needed. One that already holds data files (`.csv`, `.parquet`,
/// `.pq`, `labels.json`, `pull.json`) is refused unless `overwrite`, in which case those files
/// are removed first, so the folder always reads back as exactly this pull.
pub fn write_pull(
    dir: &Path,
    spec: &PullSpec,
    pulled: &Pulled,
    overwrite: bool,
) -> Result<PullMetadata> {
    std::fs::create_dir_all(dir).map_err(|e| PullError::io(dir, e))?;
    let stale = data_files(dir)?;
    if !stale.is_empty() {
        if !overwrite {
            let names: Vec<String> = stale
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .take(5)
                .collect();
            return Err(PullError::bad_query(
                format!(
                    "{}: the folder already holds data files ({})",
                    dir.display(),
                    names.join(", ")
                ),
                "choose a new --out folder, or pass --overwrite to replace its data files",
            ));
        }
        for path in &stale {
            std::fs::remove_file(path).map_err(|e| PullError::io(path, e))?;
        }
    }

    for series in &pulled.series {
        write_parquet(series, &dir.join(format!("{}.parquet", series.name)))?;
    }
    let mut dataset = Dataset {
        name: dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        layout: Layout::Generic,
        source: dir.display().to_string(),
        series: pulled.series.clone(),
        warnings: Vec::new(),
    };
    let mut incidents = None;
    if let (Some(rows), Some(query)) = (&pulled.labels, &spec.incidents) {
        let path = dir.join(LABELS_FILE);
        write_labels_csv(rows, &path)?;
        attach_labels(&mut dataset, rows.clone(), &path)?;
        incidents = Some(IncidentMetadata {
            query: query.clone(),
            file: LABELS_FILE.to_owned(),
            alert_series: pulled.alert_series,
            windows: rows.len(),
        });
    }

    let metadata = PullMetadata {
        vigil_version: env!("CARGO_PKG_VERSION").to_owned(),
        server: spec.server.to_string(),
        auth: spec.auth.describe(),
        pulled_at: show(crate::time::now_ms()),
        start: show(pulled.grid.start),
        end: show(pulled.grid.end()),
        step: format_duration(pulled.grid.step),
        step_ms: pulled.grid.step,
        points: pulled.grid.points,
        points_per_chunk: spec.points_per_chunk,
        allow_counter: spec.allow_counter,
        queries: pulled
            .reports
            .iter()
            .map(|report| QueryMetadata {
                file: format!("{}.parquet", report.name),
                report: report.clone(),
            })
            .collect(),
        incidents,
        warnings: pulled.warnings.clone(),
        fingerprint: read_back_fingerprint(dir, &dataset),
    };
    let path = dir.join(METADATA_FILE);
    let text =
        serde_json::to_string_pretty(&metadata).map_err(|e| PullError::io(&path, e.into()))?;
    std::fs::write(&path, text + "\n").map_err(|e| PullError::io(&path, e))?;
    Ok(metadata)
}

/// Reads a folder's `pull.json`.
pub fn read_metadata(dir: &Path) -> Result<PullMetadata> {
    let path = dir.join(METADATA_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| PullError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| PullError::io(&path, e.into()))
}

/// Top-level files that a pull writes or the generic loader reads.
fn data_files(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| PullError::io(dir, e))? {
        let path = entry.map_err(|e| PullError::io(dir, e))?.path();
        if !path.is_file() {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if matches!(ext.as_str(), "csv" | "parquet" | "pq")
            || name == "labels.json"
            || name == METADATA_FILE
        {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// The fingerprint of the folder as `load_generic` reads it back (what every later run records
/// as lineage), falling back to the in-memory dataset's when the folder cannot be read.
fn read_back_fingerprint(dir: &Path, dataset: &Dataset) -> String {
    match vigil_datasets::generic::load_generic(
        dir,
        &vigil_datasets::generic::GenericOptions::default(),
    ) {
        Ok(back) => back.fingerprint(),
        Err(e) => {
            tracing::warn!("the pulled folder does not read back: {e}");
            dataset.fingerprint()
        }
    }
}
