//! Layout detection and the one entry point, [`load`], that the CLI and the experiment runner
//! use: point it at a file or folder, and it finds the layout (or takes the one named).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};
use crate::generic::{GenericOptions, load_generic};
use crate::model::{Dataset, Layout};
use crate::nab::load_nab;
use crate::prometheus::load_prometheus;
use crate::smd::{load_asd, load_smd};
use crate::ucr::load_ucr;

/// How to read a path: the layout (detected when `None`) and the generic loader's options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadOptions {
    /// The layout to read; detected from the path when `None`.
    #[serde(default)]
    pub layout: Option<Layout>,
    /// Labels file for generic and Prometheus data.
    #[serde(default)]
    pub labels: Option<PathBuf>,
    /// Timestamp column of generic data.
    #[serde(default)]
    pub timestamp_column: Option<String>,
    /// Value columns of generic data (all other columns when `None`).
    #[serde(default)]
    pub value_columns: Option<Vec<String>>,
}

/// Loads the dataset at `path`, detecting its layout unless `options.layout` names one.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Dataset> {
    let layout = match options.layout {
        Some(layout) => layout,
        None => detect_layout(path)?,
    };
    tracing::debug!(path = %path.display(), %layout, "loading dataset");
    match layout {
        Layout::Nab => load_nab(path),
        Layout::Smd => load_smd(path),
        Layout::Asd => load_asd(path),
        Layout::Ucr => load_ucr(path),
        Layout::Prometheus => load_prometheus(path, options.labels.as_deref()),
        Layout::Generic | Layout::Synthetic => load_generic(
            path,
            &GenericOptions {
                timestamp_column: options.timestamp_column.clone(),
                value_columns: options.value_columns.clone(),
                labels: options.labels.clone(),
            },
        ),
    }
}

/// Finds the layout of a file or folder from its shape alone (no file is parsed).
///
/// - a folder with `data/` and `labels/combined_windows.json` is NAB;
/// - a folder with `train/`, `test/` and `test_label/` is ASD when it has `anomaly_type.csv`,
///   otherwise SMD;
/// - a `*_UCR_Anomaly_*.txt` file, or a folder holding such files, is UCR;
/// - a `.json` file is a Prometheus range-query export;
/// - a `.csv`/`.parquet` file, or a folder holding such files, is generic.
pub fn detect_layout(path: &Path) -> Result<Layout> {
    let unknown = |reason: String| DatasetError::UnknownLayout {
        path: path.to_path_buf(),
        reason,
    };
    let metadata = std::fs::metadata(path).map_err(|e| DatasetError::io(path, e))?;
    if metadata.is_file() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        return match extension(path).as_deref() {
            Some("txt") if is_ucr_name(name) => Ok(Layout::Ucr),
            Some("json") => Ok(Layout::Prometheus),
            Some("csv" | "parquet") => Ok(Layout::Generic),
            _ => Err(unknown(format!(
                "{name:?} is not a .csv, .parquet, .json or UCR .txt file"
            ))),
        };
    }
    if path.join("data").is_dir() && path.join("labels").join("combined_windows.json").is_file() {
        return Ok(Layout::Nab);
    }
    if ["train", "test", "test_label"]
        .iter()
        .all(|d| path.join(d).is_dir())
    {
        return Ok(if path.join("anomaly_type.csv").is_file() {
            Layout::Asd
        } else {
            Layout::Smd
        });
    }
    let entries = std::fs::read_dir(path).map_err(|e| DatasetError::io(path, e))?;
    let mut ucr = 0;
    let mut tables = 0;
    for entry in entries {
        let entry = entry.map_err(|e| DatasetError::io(path, e))?;
        let file = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        match extension(&file).as_deref() {
            Some("txt") if is_ucr_name(&name) => ucr += 1,
            Some("csv" | "parquet") if !name.starts_with("labels.") && name != "index.csv" => {
                tables += 1
            }
            _ => {}
        }
    }
    match (ucr, tables) {
        (0, 0) => Err(unknown(
            "the folder holds no data files of a known layout".into(),
        )),
        (u, _) if u > 0 => Ok(Layout::Ucr),
        _ => Ok(Layout::Generic),
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

fn is_ucr_name(name: &str) -> bool {
    name.contains("_UCR_Anomaly_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_layouts_from_shape() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();

        let nab = root.join("nab");
        std::fs::create_dir_all(nab.join("data/realTraffic")).expect("mkdir");
        std::fs::create_dir_all(nab.join("labels")).expect("mkdir");
        std::fs::write(nab.join("labels/combined_windows.json"), "{}").expect("write");
        assert_eq!(detect_layout(&nab).expect("nab"), Layout::Nab);

        let smd = root.join("smd");
        for d in ["train", "test", "test_label"] {
            std::fs::create_dir_all(smd.join(d)).expect("mkdir");
        }
        assert_eq!(detect_layout(&smd).expect("smd"), Layout::Smd);
        std::fs::write(smd.join("anomaly_type.csv"), "").expect("write");
        assert_eq!(detect_layout(&smd).expect("asd"), Layout::Asd);

        let ucr = root.join("ucr");
        std::fs::create_dir_all(&ucr).expect("mkdir");
        let ucr_file = ucr.join("001_UCR_Anomaly_Test_100_200_210.txt");
        std::fs::write(&ucr_file, "1\n").expect("write");
        assert_eq!(detect_layout(&ucr).expect("ucr dir"), Layout::Ucr);
        assert_eq!(detect_layout(&ucr_file).expect("ucr file"), Layout::Ucr);

        let generic = root.join("generic");
        std::fs::create_dir_all(&generic).expect("mkdir");
        std::fs::write(generic.join("cpu.csv"), "timestamp,value\n").expect("write");
        std::fs::write(generic.join("labels.csv"), "series,start,end\n").expect("write");
        assert_eq!(detect_layout(&generic).expect("generic"), Layout::Generic);
        assert_eq!(
            detect_layout(&generic.join("cpu.csv")).expect("csv"),
            Layout::Generic
        );

        let prom = root.join("export.json");
        std::fs::write(&prom, "{}").expect("write");
        assert_eq!(detect_layout(&prom).expect("prom"), Layout::Prometheus);
    }

    #[test]
    fn unknown_layout_names_the_path_and_hints() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("notes.md"), "hello").expect("write");
        let err = detect_layout(dir.path()).expect_err("no layout");
        let message = err.to_string();
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains("hint:"), "{message}");

        let odd = dir.path().join("notes.md");
        let message = detect_layout(&odd).expect_err("no layout").to_string();
        assert!(message.contains("notes.md"), "{message}");
    }
}
