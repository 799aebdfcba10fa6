//! CSV: polars splits the file into string columns; cells are parsed here, so errors carry
//! the exact data row and column.

use std::fmt::Write as _;
use std::io::{BufWriter, Cursor, Write as _};
use std::path::Path;

use ndarray::Array2;
use polars::prelude::*;

use super::{GenericOptions, parse_value, resolve_frame_columns};
use crate::error::{DatasetError, Result};
use crate::model::Series;
use crate::timestamp::{parse_timestamp, write_timestamp};

/// Reads one CSV file as the series `name`.
pub(crate) fn read_csv(path: &Path, name: &str, options: &GenericOptions) -> Result<Series> {
    let bytes = std::fs::read(path).map_err(|e| DatasetError::io(path, e))?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DatasetError::EmptyFile {
            path: path.to_path_buf(),
            hint: "write a header line such as `timestamp,value` and then one row per time step"
                .to_owned(),
        });
    }
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(body))
        .finish()
        .map_err(|e| csv_error(path, body, &e))?;
    let (names, timestamp_index, value_indices) = resolve_frame_columns(path, &frame, options)?;
    let columns = frame.columns();
    let rows = frame.height();

    let mut timestamps = Vec::with_capacity(rows);
    let timestamp_column = names[timestamp_index];
    let cells = string_cells(path, &columns[timestamp_index])?;
    for (i, cell) in cells.iter().enumerate() {
        match cell.and_then(parse_timestamp) {
            Some(ms) => timestamps.push(ms),
            None => {
                return Err(DatasetError::BadTimestamp {
                    path: path.to_path_buf(),
                    row: i + 1,
                    column: timestamp_column.to_owned(),
                    value: cell.unwrap_or("").to_owned(),
                });
            }
        }
    }

    let width = value_indices.len();
    let mut values = vec![f64::NAN; rows * width];
    for (j, &column_index) in value_indices.iter().enumerate() {
        let cells = string_cells(path, &columns[column_index])?;
        for (i, cell) in cells.iter().enumerate() {
            let Some(cell) = cell else { continue };
            values[i * width + j] = parse_value(cell).ok_or_else(|| DatasetError::BadValue {
                path: path.to_path_buf(),
                row: i + 1,
                column: names[column_index].to_owned(),
                value: cell.to_owned(),
            })?;
        }
    }
    let values = Array2::from_shape_vec((rows, width), values)
        .map_err(|e| DatasetError::format(path, e.to_string(), "report this as a bug in vigil"))?;
    let channel_names = value_indices.iter().map(|&i| names[i].to_owned()).collect();
    Ok(Series::new(name, timestamps, channel_names, values))
}

/// A column's cells as strings (they are strings already when read with no schema inference).
fn string_cells(path: &Path, column: &Column) -> Result<StringChunked> {
    let as_strings = column
        .cast(&DataType::String)
        .map_err(|e| DatasetError::BadCsv {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    as_strings.str().cloned().map_err(|e| DatasetError::BadCsv {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Turns a polars CSV error into ours, naming the first row with too many fields when that is
/// the cause (polars' own message does not say which row).
fn csv_error(path: &Path, body: &[u8], error: &PolarsError) -> DatasetError {
    if let Some((row, expected, got)) = first_ragged_row(body) {
        return DatasetError::RaggedRow {
            path: path.to_path_buf(),
            row,
            expected,
            got,
        };
    }
    DatasetError::BadCsv {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// The first data row (1-based) whose field count differs from the header's, counting commas
/// outside double quotes; blank lines are skipped.
fn first_ragged_row(body: &[u8]) -> Option<(usize, usize, usize)> {
    let mut lines = body
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    let fields = |line: &[u8]| {
        let mut in_quotes = false;
        1 + line
            .iter()
            .filter(|&&b| {
                if b == b'"' {
                    in_quotes = !in_quotes;
                }
                b == b',' && !in_quotes
            })
            .count()
    };
    let expected = fields(lines.next()?);
    lines
        .enumerate()
        .map(|(i, line)| (i + 1, expected, fields(line)))
        .find(|&(_, expected, got)| got != expected)
}

/// Writes a series as CSV: a `timestamp` column in RFC 3339 with milliseconds, then one column
/// per channel. Values use Rust's shortest round-trip formatting and NaN is an empty cell, so
/// reading the file back with [`super::load_generic`] gives the same values bit for bit.
pub fn write_csv(series: &Series, path: &Path) -> Result<()> {
    if series.columns.iter().any(|c| c == "timestamp") {
        return Err(DatasetError::format(
            path,
            format!(
                "series {:?} has a channel named \"timestamp\", which would clash with the timestamp column",
                series.name
            ),
            "rename the channel before writing",
        ));
    }
    let file = std::fs::File::create(path).map_err(|e| DatasetError::io(path, e))?;
    let mut out = BufWriter::new(file);
    let mut buffer = String::with_capacity(1 << 17);
    buffer.push_str("timestamp");
    for column in &series.columns {
        buffer.push(',');
        push_csv_field(&mut buffer, column);
    }
    buffer.push('\n');
    for (row, &timestamp) in series.values.rows().into_iter().zip(&series.timestamps) {
        write_timestamp(timestamp, &mut buffer);
        for value in row {
            buffer.push(',');
            if !value.is_nan() {
                let _ = write!(buffer, "{value}");
            }
        }
        buffer.push('\n');
        if buffer.len() >= 1 << 16 {
            out.write_all(buffer.as_bytes())
                .map_err(|e| DatasetError::io(path, e))?;
            buffer.clear();
        }
    }
    out.write_all(buffer.as_bytes())
        .map_err(|e| DatasetError::io(path, e))?;
    out.flush().map_err(|e| DatasetError::io(path, e))
}

/// Quotes a header field when it holds a comma, a quote or a line break.
pub(crate) fn push_csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ragged_rows_are_found() {
        assert_eq!(first_ragged_row(b"a,b\n1,2\n3,4,5\n"), Some((2, 2, 3)));
        assert_eq!(first_ragged_row(b"a,b\n\"1,5\",2\n\n3\n"), Some((2, 2, 1)));
        assert_eq!(first_ragged_row(b"a,b\n1,2\n"), None);
    }

    #[test]
    fn header_fields_are_quoted_when_needed() {
        let mut out = String::new();
        push_csv_field(&mut out, "up{job=\"a,b\"}");
        assert_eq!(out, "\"up{job=\"\"a,b\"\"}\"");
    }
}
