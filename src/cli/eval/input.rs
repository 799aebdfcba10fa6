//! Reading score series and incident labels for `vigil eval`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use vigil_datasets::parse_timestamp;
use vigil_eval::Window;

/// One series of scores as read from disk.
#[derive(Debug)]
pub(super) struct ScoreSeries {
    pub(super) name: String,
    pub(super) timestamps: Vec<i64>,
    pub(super) scores: Vec<f64>,
    /// The recorded columns of a file written by `vigil run --scores` or `vigil score`:
    /// the threshold the run applied to each row, the row's part (`train`, `validation`,
    /// `test`, `-`), its decision and its label.
    pub(super) threshold: Option<Vec<f64>>,
    pub(super) part: Option<Vec<String>>,
    pub(super) detected: Option<Vec<bool>>,
    pub(super) label: Option<Vec<bool>>,
}

/// One labelled incident, in time.
#[derive(Debug, Clone)]
pub(super) struct LabelWindow {
    start: i64,
    end: i64,
    severity: Option<String>,
}

/// Reads every score series under `path`.
pub(super) fn read_scores(path: &Path) -> Result<Vec<ScoreSeries>> {
    if path.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![read_score_file(path, name)?]);
    }
    if !path.is_dir() {
        bail!(
            "--scores {} does not exist; hint: give a CSV file or a folder of CSV files",
            path.display()
        );
    }
    let detector = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut files = Vec::new();
    collect_csv(path, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(path).unwrap_or(&file);
        let file_name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file_name.ends_with("_scores.csv") {
            continue; // NAB's score tables sit beside the per-row results.
        }
        let prefix = format!("{detector}_");
        let short = file_name
            .strip_prefix(&prefix)
            .unwrap_or(&file_name)
            .to_string();
        let name = match rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => format!("{}/{short}", dir.to_string_lossy()),
            None => short,
        };
        out.push(read_score_file(&file, name)?);
    }
    if out.is_empty() {
        bail!(
            "no score CSV under {}; hint: the folder should hold timestamp,score CSV files",
            path.display()
        );
    }
    Ok(out)
}

fn collect_csv(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("reading folder {}", dir.display()))?
    {
        let p = entry?.path();
        if p.is_dir() {
            collect_csv(&p, out)?;
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            out.push(p);
        }
    }
    Ok(())
}

fn read_score_file(path: &Path, name: String) -> Result<ScoreSeries> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("opening scores {}; hint: check the path", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| {
            format!(
                "{}: cannot read the header row; hint: the first line must be `timestamp,score`",
                path.display()
            )
        })?
        .clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()))
    };
    let ts_col = find(&["timestamp", "time", "ts"]).ok_or_else(|| {
        anyhow!(
            "{}: no `timestamp` column (header: {:?}); hint: the header must be `timestamp,score`",
            path.display(),
            headers
        )
    })?;
    let score_col = find(&["score", "anomaly_score"]).ok_or_else(|| {
        anyhow!("{}: no `score` or `anomaly_score` column (header: {:?}); hint: the header must be `timestamp,score`", path.display(), headers)
    })?;
    let threshold_col = find(&["threshold"]);
    let part_col = find(&["part"]);
    let detected_col = find(&["detected"]);
    let label_col = find(&["label"]);
    let mut series = ScoreSeries {
        name,
        timestamps: Vec::new(),
        scores: Vec::new(),
        threshold: threshold_col.map(|_| Vec::new()),
        part: part_col.map(|_| Vec::new()),
        detected: detected_col.map(|_| Vec::new()),
        label: label_col.map(|_| Vec::new()),
    };
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let r = record.with_context(|| {
            format!(
                "{}: line {line} is not valid CSV; hint: one `timestamp,score` pair per line",
                path.display()
            )
        })?;
        let ts = r.get(ts_col).unwrap_or("");
        let t = parse_timestamp(ts).ok_or_else(|| {
            anyhow!("{}: line {line}: timestamp `{ts}` not understood; hint: use YYYY-MM-DD HH:MM:SS, RFC 3339 or epoch seconds/ms", path.display())
        })?;
        let raw = r.get(score_col).unwrap_or("");
        let score: f64 = raw.trim().parse().map_err(|_| {
            anyhow!(
                "{}: line {line}: score `{raw}` is not a number; hint: write plain decimal scores",
                path.display()
            )
        })?;
        if !score.is_finite() {
            bail!(
                "{}: line {line}: score is {score}; hint: scores must be finite, fill the detector's warm-up rows with 0",
                path.display()
            );
        }
        series.timestamps.push(t);
        series.scores.push(score);
        if let (Some(col), Some(out)) = (threshold_col, series.threshold.as_mut()) {
            let raw = r.get(col).unwrap_or("").trim();
            // A run writes NaN for a series it fitted no threshold for (it never alerts).
            let value: f64 = raw.parse().map_err(|_| {
                anyhow!(
                    "{}: line {line}: threshold `{raw}` is not a number; hint: the `threshold` \
                     column holds the threshold applied to the row",
                    path.display()
                )
            })?;
            out.push(value);
        }
        if let (Some(col), Some(out)) = (part_col, series.part.as_mut()) {
            out.push(r.get(col).unwrap_or("").trim().to_string());
        }
        for (col, out, what) in [
            (detected_col, series.detected.as_mut(), "detected"),
            (label_col, series.label.as_mut(), "label"),
        ] {
            if let (Some(col), Some(out)) = (col, out) {
                out.push(match r.get(col).unwrap_or("").trim() {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    other => bail!(
                        "{}: line {line}: {what} `{other}` is not 0 or 1; hint: the `{what}` \
                         column holds 0 or 1",
                        path.display()
                    ),
                });
            }
        }
    }
    if series.scores.is_empty() {
        bail!(
            "{}: no rows; hint: the file needs at least one `timestamp,score` line",
            path.display()
        );
    }
    Ok(series)
}

/// Labels keyed by series name.
pub(super) fn read_labels(path: &Path) -> Result<BTreeMap<String, Vec<LabelWindow>>> {
    let rows = vigil_datasets::read_labels(path)?;
    let mut out: BTreeMap<String, Vec<LabelWindow>> = BTreeMap::new();
    for row in rows {
        out.entry(row.series).or_default().push(LabelWindow {
            start: row.incident.start,
            end: row.incident.end,
            severity: row.incident.severity,
        });
    }
    for (series, windows) in out.iter_mut() {
        windows.sort_by_key(|w| w.start);
        let mut merged: Vec<LabelWindow> = Vec::with_capacity(windows.len());
        for w in windows.drain(..) {
            match merged.last_mut() {
                Some(last) if w.start <= last.end => {
                    tracing::warn!(%series, "overlapping label windows merged");
                    last.end = last.end.max(w.end);
                    last.severity = last.severity.take().or(w.severity);
                }
                _ => merged.push(w),
            }
        }
        *windows = merged;
    }
    Ok(out)
}

/// Labels of a series, matching its name with or without the `.csv` extension.
pub(super) fn find_labels<'a>(
    labels: &'a BTreeMap<String, Vec<LabelWindow>>,
    name: &str,
) -> Option<&'a [LabelWindow]> {
    let stem = name.strip_suffix(".csv").unwrap_or(name);
    labels
        .get(name)
        .or_else(|| labels.get(stem))
        .or_else(|| labels.get(&format!("{stem}.csv")))
        .map(Vec::as_slice)
}

/// Maps time windows to inclusive row ranges by walking the rows in file order (NAB's rule:
/// open at the first row at or after the start, close at the first row equal to the end, or
/// before the first row past it). Windows that hold no row are dropped with a warning.
pub(super) fn windows_to_rows(
    timestamps: &[i64],
    limits: &[LabelWindow],
) -> (Vec<Window>, Vec<Option<String>>) {
    let mut windows = Vec::new();
    let mut severities = Vec::new();
    let mut cursor = 0usize;
    for l in limits {
        let Some(first) = (cursor..timestamps.len()).find(|&i| timestamps[i] >= l.start) else {
            tracing::warn!(
                start = l.start,
                "label window starts after the last row; dropped"
            );
            continue;
        };
        let mut last = None;
        for (j, &t) in timestamps.iter().enumerate().skip(first) {
            if t == l.end {
                last = Some(j);
                break;
            }
            if t > l.end {
                last = j.checked_sub(1);
                break;
            }
            last = Some(j);
        }
        match last {
            Some(last) if last >= first => {
                windows.push(Window::new(first, last));
                severities.push(l.severity.clone());
                cursor = last + 1;
            }
            _ => tracing::warn!(
                start = l.start,
                end = l.end,
                "label window holds no row; dropped"
            ),
        }
    }
    (windows, severities)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_accepted_form() {
        let nab = parse_timestamp("2014-04-10 07:15:00").expect("NAB timestamp parses");
        assert_eq!(parse_timestamp("2014-04-10 07:15:00.000000"), Some(nab));
        assert_eq!(parse_timestamp("2014-04-10T07:15:00Z"), Some(nab));
        assert_eq!(parse_timestamp("2014-04-10T09:15:00+02:00"), Some(nab));
        assert_eq!(parse_timestamp(&(nab / 1000).to_string()), Some(nab));
        assert_eq!(parse_timestamp(&nab.to_string()), Some(nab));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn windows_walk_rows_in_file_order() {
        let t = [0, 10, 20, 20, 30, 40, 50];
        let l = |start, end| LabelWindow {
            start,
            end,
            severity: None,
        };
        let (w, _) = windows_to_rows(&t, &[l(10, 20), l(35, 45)]);
        // The end matches the first row equal to it (NAB); the second ends before 50.
        assert_eq!(w, vec![Window::new(1, 2), Window::new(5, 5)]);
        let (w, _) = windows_to_rows(&t, &[l(41, 49)]);
        assert!(w.is_empty());
    }
}
