//! Incident labels kept apart from the data: reading and writing labels files, and attaching
//! them to a loaded [`Dataset`].
//!
//! A labels file is CSV with the header `series,start,end[,kind,severity]`, or JSON: an array
//! of `{"series", "start", "end", "kind"?, "severity"?}` objects, or NAB's shape
//! `{"<series>": [[start, end], ...]}`. `start` and `end` take any form that
//! [`parse_timestamp`] reads (numbers are epoch seconds or milliseconds); windows are inclusive.

use std::io::{Cursor, Write as _};
use std::path::Path;

use polars::prelude::*;
use serde_json::Value;

use crate::error::{DatasetError, Result};
use crate::generic::push_csv_field;
use crate::model::{Dataset, Incident, Warning};
use crate::timestamp::{epoch_float_to_ms, epoch_to_ms, format_timestamp, parse_timestamp};

const CSV_HINT: &str =
    "a labels CSV has the header `series,start,end[,kind,severity]` and one window per row";
const JSON_HINT: &str = "labels JSON is an array of {\"series\": ..., \"start\": ..., \"end\": ...} objects (kind and severity optional), or {\"<series>\": [[start, end], ...]}";
const TIMESTAMP_HINT: &str = "write start and end as RFC 3339 (2024-01-31T12:00:00Z), `YYYY-MM-DD HH:MM:SS`, or epoch seconds/milliseconds";

/// One labelled window and the series it belongs to, as read from a labels file.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRow {
    /// Name of the series (the data file's stem for the generic layout).
    pub series: String,
    /// The window, inclusive at both ends.
    pub incident: Incident,
}

/// Reads a labels file: `.json` as JSON, anything else as CSV. Rows come back in file order.
///
/// A CSV with a header and no rows is a valid "no incidents" file. Errors name the row (CSV,
/// 1-based data rows) or the JSON element and key.
pub fn read_labels(path: &Path) -> Result<Vec<LabelRow>> {
    let bytes = std::fs::read(path).map_err(|e| DatasetError::io(path, e))?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DatasetError::EmptyFile {
            path: path.to_path_buf(),
            hint: format!("{CSV_HINT}; or use JSON: {JSON_HINT}"),
        });
    }
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        Ok(read_labels_json(path, body)?.1)
    } else {
        read_labels_csv(path, body)
    }
}

/// Reads a JSON labels file, returning also every series key it names (NAB's shape lists files
/// with no window as `"key": []`; for the array shape the keys are those with a window).
pub(crate) fn read_labels_json(path: &Path, body: &[u8]) -> Result<(Vec<String>, Vec<LabelRow>)> {
    let bad = |message: String, hint: &str| DatasetError::BadLabels {
        path: path.to_path_buf(),
        message,
        hint: hint.to_owned(),
    };
    let document: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("not valid JSON: {e}"), JSON_HINT))?;
    let mut rows = Vec::new();
    let mut keys = Vec::new();
    match document {
        Value::Array(elements) => {
            for (i, element) in elements.iter().enumerate() {
                let at = format!("element [{i}]");
                let Value::Object(object) = element else {
                    return Err(bad(format!("{at} is not an object"), JSON_HINT));
                };
                let series = match object.get("series") {
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    Some(_) => {
                        return Err(bad(
                            format!("{at}: key \"series\" must be a non-empty string"),
                            JSON_HINT,
                        ));
                    }
                    None => return Err(bad(format!("{at}: missing key \"series\""), JSON_HINT)),
                };
                let time = |key: &str| match object.get(key) {
                    Some(value) => json_timestamp(value).ok_or_else(|| {
                        bad(
                            format!("{at}, key {key:?}: cannot parse timestamp {value}"),
                            TIMESTAMP_HINT,
                        )
                    }),
                    None => Err(bad(format!("{at}: missing key {key:?}"), JSON_HINT)),
                };
                let text = |key: &str| match object.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) if s.is_empty() => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(other) => Err(bad(
                        format!("{at}, key {key:?}: expected a string, found {other}"),
                        JSON_HINT,
                    )),
                };
                let mut incident = Incident::new(time("start")?, time("end")?);
                incident.kind = text("kind")?;
                incident.severity = text("severity")?;
                if !keys.contains(&series) {
                    keys.push(series.clone());
                }
                rows.push(LabelRow { series, incident });
            }
        }
        Value::Object(map) => {
            for (series, windows) in map {
                let Value::Array(windows) = windows else {
                    return Err(bad(
                        format!(
                            "key {series:?}: expected an array of [start, end] pairs, found {windows}"
                        ),
                        JSON_HINT,
                    ));
                };
                for (i, window) in windows.iter().enumerate() {
                    let at = format!("key {series:?}, window [{i}]");
                    let (start, end) = match window {
                        Value::Array(pair) if pair.len() == 2 => (&pair[0], &pair[1]),
                        other => {
                            return Err(bad(
                                format!("{at}: expected [start, end], found {other}"),
                                JSON_HINT,
                            ));
                        }
                    };
                    let time = |value: &Value, which: &str| {
                        json_timestamp(value).ok_or_else(|| {
                            bad(
                                format!("{at}: cannot parse {which} timestamp {value}"),
                                TIMESTAMP_HINT,
                            )
                        })
                    };
                    rows.push(LabelRow {
                        series: series.clone(),
                        incident: Incident::new(time(start, "start")?, time(end, "end")?),
                    });
                }
                keys.push(series);
            }
        }
        other => {
            let kind = match other {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                _ => "a string",
            };
            return Err(bad(
                format!("the document is {kind}, not an array or object"),
                JSON_HINT,
            ));
        }
    }
    Ok((keys, rows))
}

fn json_timestamp(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => parse_timestamp(text),
        Value::Number(number) => match number.as_i64() {
            Some(int) => epoch_to_ms(int),
            None => epoch_float_to_ms(number.as_f64()?),
        },
        _ => None,
    }
}

fn read_labels_csv(path: &Path, body: &[u8]) -> Result<Vec<LabelRow>> {
    let bad = |message: String, hint: &str| DatasetError::BadLabels {
        path: path.to_path_buf(),
        message,
        hint: hint.to_owned(),
    };
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(body))
        .finish()
        .map_err(|e| bad(format!("cannot parse as CSV: {e}"), CSV_HINT))?;
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let column = |name: &str, required: bool| -> Result<Option<StringChunked>> {
        let Some(index) = names.iter().position(|n| n == name) else {
            return if required {
                Err(bad(
                    format!("no column {name:?} (columns: {})", names.join(", ")),
                    CSV_HINT,
                ))
            } else {
                Ok(None)
            };
        };
        let cells = frame.columns()[index]
            .cast(&DataType::String)
            .map_err(|e| bad(e.to_string(), CSV_HINT))?;
        Ok(Some(
            cells
                .str()
                .map_err(|e| bad(e.to_string(), CSV_HINT))?
                .clone(),
        ))
    };
    let (Some(series), Some(start), Some(end)) = (
        column("series", true)?,
        column("start", true)?,
        column("end", true)?,
    ) else {
        return Err(bad(
            "the header lacks series, start or end".to_owned(),
            CSV_HINT,
        ));
    };
    let kind = column("kind", false)?;
    let severity = column("severity", false)?;
    let optional = |cells: &Option<StringChunked>, row: usize| {
        cells
            .as_ref()
            .and_then(|c| c.get(row))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut rows = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        let at = format!("row {}", row + 1);
        let name = series.get(row).map(str::trim).unwrap_or("");
        if name.is_empty() {
            return Err(bad(
                format!("{at}, column \"series\": empty series name"),
                CSV_HINT,
            ));
        }
        let time = |cells: &StringChunked, column: &str| {
            let cell = cells.get(row).unwrap_or("");
            parse_timestamp(cell).ok_or_else(|| {
                bad(
                    format!("{at}, column {column:?}: cannot parse timestamp {cell:?}"),
                    TIMESTAMP_HINT,
                )
            })
        };
        let mut incident = Incident::new(time(&start, "start")?, time(&end, "end")?);
        incident.kind = optional(&kind, row);
        incident.severity = optional(&severity, row);
        rows.push(LabelRow {
            series: name.to_owned(),
            incident,
        });
    }
    Ok(rows)
}

/// Writes labels as CSV (`series,start,end,kind,severity`, times in RFC 3339 with
/// milliseconds), which [`read_labels`] reads back unchanged.
pub fn write_labels_csv(rows: &[LabelRow], path: &Path) -> Result<()> {
    let mut out = String::from("series,start,end,kind,severity\n");
    for row in rows {
        push_csv_field(&mut out, &row.series);
        for time in [row.incident.start, row.incident.end] {
            out.push(',');
            out.push_str(&format_timestamp(time));
        }
        for text in [&row.incident.kind, &row.incident.severity] {
            out.push(',');
            push_csv_field(&mut out, text.as_deref().unwrap_or(""));
        }
        out.push('\n');
    }
    let mut file = std::fs::File::create(path).map_err(|e| DatasetError::io(path, e))?;
    file.write_all(out.as_bytes())
        .map_err(|e| DatasetError::io(path, e))
}

/// Attaches label rows to the dataset's series.
///
/// - A row naming a series the dataset lacks is an [`DatasetError::UnknownSeries`] error.
/// - A window whose end precedes its start is a [`DatasetError::WindowReversed`] error; its
///   `index` is the row's 1-based position in `rows` (the CSV data row, or JSON element + 1).
/// - A window wholly outside the series' time range gives a [`Warning`] (and a
///   `tracing::warn!`) and is **kept**: the labels stay as the file says, so the fingerprint
///   records them, and it simply covers no row ([`crate::Series::incident_rows`] gives `None`).
///
/// Each series' incidents end up sorted by `(start, end)` (stable), so the same windows in any
/// file order give the same dataset and fingerprint.
pub fn attach_labels(dataset: &mut Dataset, rows: Vec<LabelRow>, labels_path: &Path) -> Result<()> {
    let index_of: std::collections::HashMap<String, usize> = dataset
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect();
    let ranges: Vec<Option<(i64, i64)>> = dataset
        .series
        .iter()
        .map(|s| {
            s.timestamps.iter().fold(None, |acc, &t| {
                Some(acc.map_or((t, t), |(lo, hi): (i64, i64)| (lo.min(t), hi.max(t))))
            })
        })
        .collect();
    let path_text = labels_path.display().to_string();
    let mut touched = vec![false; dataset.series.len()];
    for (i, row) in rows.into_iter().enumerate() {
        let index = i + 1;
        let Some(&series_index) = index_of.get(&row.series) else {
            return Err(DatasetError::UnknownSeries {
                path: labels_path.to_path_buf(),
                series: row.series,
                known: known_names(dataset),
            });
        };
        let incident = row.incident;
        if incident.end < incident.start {
            return Err(DatasetError::WindowReversed {
                path: labels_path.to_path_buf(),
                series: row.series,
                index,
                start: format_timestamp(incident.start),
                end: format_timestamp(incident.end),
            });
        }
        let outside = match ranges[series_index] {
            Some((first, last)) => incident.end < first || incident.start > last,
            None => true,
        };
        if outside {
            let data_range = ranges[series_index].map_or_else(
                || "the series has no rows".to_owned(),
                |(first, last)| {
                    format!(
                        "the data runs from {} to {}",
                        format_timestamp(first),
                        format_timestamp(last)
                    )
                },
            );
            let message = format!(
                "incident {index} [{}, {}] lies wholly outside the data ({data_range}); kept, but it covers no row",
                format_timestamp(incident.start),
                format_timestamp(incident.end)
            );
            tracing::warn!(path = %path_text, series = %row.series, "{message}");
            dataset.warnings.push(Warning {
                path: path_text.clone(),
                series: Some(row.series),
                message,
            });
        }
        dataset.series[series_index].incidents.push(incident);
        touched[series_index] = true;
    }
    for (series, touched) in dataset.series.iter_mut().zip(touched) {
        if touched {
            series.incidents.sort_by_key(|inc| (inc.start, inc.end));
        }
    }
    Ok(())
}

/// The dataset's series names for an error message (the first 20).
fn known_names(dataset: &Dataset) -> String {
    const SHOWN: usize = 20;
    let mut names: Vec<String> = dataset
        .series
        .iter()
        .take(SHOWN)
        .map(|s| format!("{:?}", s.name))
        .collect();
    if dataset.series.len() > SHOWN {
        names.push(format!("… {} more", dataset.series.len() - SHOWN));
    }
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shapes_agree() {
        let array = br#"[{"series": "a", "start": "2024-01-01 00:00:00", "end": 1704067260, "kind": "spike", "severity": "critical"}]"#;
        let object = br#"{"a": [["2024-01-01 00:00:00.000000", "2024-01-01T00:01:00Z"]], "b": []}"#;
        let (keys, rows) =
            read_labels_json(Path::new("l.json"), array).expect("array shape parses");
        assert_eq!(keys, vec!["a".to_owned()]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].incident.kind.as_deref(), Some("spike"));
        assert_eq!(rows[0].incident.severity.as_deref(), Some("critical"));
        let (keys, nab_rows) =
            read_labels_json(Path::new("l.json"), object).expect("object shape parses");
        assert_eq!(keys, vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(nab_rows.len(), 1);
        assert_eq!(
            (rows[0].incident.start, rows[0].incident.end),
            (nab_rows[0].incident.start, nab_rows[0].incident.end)
        );
        assert_eq!(rows[0].incident.end - rows[0].incident.start, 60_000);
    }

    #[test]
    fn json_errors_name_the_element_and_key() {
        let message = |body: &[u8]| {
            read_labels_json(Path::new("l.json"), body)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(
            message(br#"[{"series": "a", "start": 1}]"#)
                .contains("element [0]: missing key \"end\"")
        );
        assert!(
            message(br#"[{"series": "a", "start": "x", "end": 1}]"#)
                .contains("element [0], key \"start\": cannot parse timestamp \"x\"")
        );
        assert!(
            message(br#"{"a": [["2024-01-01", "2024-01-02", "2024-01-03"]]}"#)
                .contains("key \"a\", window [0]: expected [start, end]")
        );
        assert!(message(b"42").contains("the document is a number"));
        assert!(message(b"[{\"series\": ").contains("not valid JSON"));
    }
}
