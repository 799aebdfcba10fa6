//! Hand-written readers for plain-number text files (SMD/ASD matrices, 0/1 label files, UCR
//! value lists). These files have no header, no quoting and no timestamps, so a CSV engine buys
//! nothing; a direct pass over the bytes with `str::parse::<f64>` (Eisel–Lemire in std) reads
//! them at well over 10 M values/s and reports the exact row and column of any bad value.
//!
//! Rows are 1-based line numbers. Trailing blank lines are ignored; a blank line in the middle
//! is a row with no values.

use std::fs;
use std::path::Path;

use crate::error::{DatasetError, Result};

/// Reads a whole file as UTF-8, failing on an empty (or whitespace-only) file.
pub(crate) fn read_text(path: &Path, empty_hint: &str) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| DatasetError::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        DatasetError::format(
            path,
            format!("byte {} is not valid UTF-8", e.utf8_error().valid_up_to()),
            "these files hold plain decimal numbers; re-export the file as UTF-8 (or ASCII) text",
        )
    })?;
    if text.trim().is_empty() {
        return Err(DatasetError::EmptyFile {
            path: path.to_path_buf(),
            hint: empty_hint.to_string(),
        });
    }
    Ok(text)
}

/// The lines of `text` with trailing blank lines dropped (`\r\n` endings are accepted).
pub(crate) fn data_lines(text: &str) -> std::str::Lines<'_> {
    text.trim_end().lines()
}

/// Parses one number cell. An empty cell or `NaN` is a missing value; infinities are refused.
pub(crate) fn parse_cell(cell: &str) -> Option<f64> {
    let cell = cell.trim_ascii();
    if cell.is_empty() {
        return Some(f64::NAN);
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_infinite() => None,
        Ok(v) => Some(v),
        Err(_) => None,
    }
}

/// The shape of a matrix read by [`parse_matrix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub rows: usize,
    pub cols: usize,
}

/// Number of lines in `text`, an upper bound on its rows (used to allocate once).
fn line_count(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count() + 1
}

/// Reads a comma-separated matrix with no header, appending its values row-major to `values`
/// (which is grown once, to the exact size for files without blank lines). The first row fixes
/// the column count; a row with another count is a [`DatasetError::RaggedRow`]. Columns are
/// named `dim_<k>` (1-based) in errors.
pub(crate) fn parse_matrix(path: &Path, text: &str, values: &mut Vec<f64>) -> Result<Shape> {
    let first_cols = data_lines(text)
        .next()
        .map_or(0, |l| l.bytes().filter(|&b| b == b',').count() + 1);
    values.reserve_exact(line_count(text.trim_end()) * first_cols);
    let mut cols = 0usize;
    let mut rows = 0usize;
    for (index, line) in data_lines(text).enumerate() {
        let row = index + 1;
        let mut got = 0usize;
        for cell in line.split(',') {
            got += 1;
            let value = parse_cell(cell).ok_or_else(|| DatasetError::BadValue {
                path: path.to_path_buf(),
                row,
                column: format!("dim_{got}"),
                value: cell.trim_ascii().to_string(),
            })?;
            values.push(value);
        }
        if line.trim_ascii().is_empty() {
            got = 0;
            values.pop();
        }
        if row == 1 {
            cols = got;
            if cols == 0 {
                return Err(DatasetError::format(
                    path,
                    "row 1 is empty",
                    "remove blank lines at the start of the file",
                ));
            }
        } else if got != cols {
            return Err(DatasetError::RaggedRow {
                path: path.to_path_buf(),
                row,
                expected: cols,
                got,
            });
        }
        rows += 1;
    }
    Ok(Shape { rows, cols })
}

/// Reads a 0/1 label file, one label per line.
pub(crate) fn parse_labels(path: &Path, text: &str) -> Result<Vec<bool>> {
    data_lines(text)
        .enumerate()
        .map(|(index, line)| match line.trim_ascii() {
            "0" => Ok(false),
            "1" => Ok(true),
            other => Err(DatasetError::BadLabels {
                path: path.to_path_buf(),
                message: format!("row {}: label {other:?} is neither 0 nor 1", index + 1),
                hint: "write one label per line: 1 for an anomalous row, 0 otherwise".to_string(),
            }),
        })
        .collect()
}

/// Reads whitespace-separated numbers (any mix of spaces, tabs and newlines). Rows in errors
/// are 1-based value positions, which equal line numbers for one-value-per-line files.
pub(crate) fn parse_whitespace_values(path: &Path, text: &str) -> Result<Vec<f64>> {
    let mut values = Vec::with_capacity(line_count(text.trim_end()));
    for token in text.split_ascii_whitespace() {
        let value = parse_cell(token).ok_or_else(|| DatasetError::BadValue {
            path: path.to_path_buf(),
            row: values.len() + 1,
            column: "value".to_string(),
            value: token.to_string(),
        })?;
        values.push(value);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("x.txt")
    }

    #[test]
    fn matrix_reads_rows_and_tolerates_crlf_and_trailing_blank_lines() {
        let mut values = vec![-1.0];
        let shape = parse_matrix(p(), "1,2,3\r\n4, 5 ,6e-1\n\n\n", &mut values).expect("parses");
        assert_eq!(shape, Shape { rows: 2, cols: 3 });
        assert_eq!(values, vec![-1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.6], "appends");
        assert_eq!(values.capacity(), values.len(), "allocated once, exactly");
    }

    #[test]
    fn matrix_empty_cell_and_nan_are_missing() {
        let mut values = Vec::new();
        parse_matrix(p(), "1,,NaN\n", &mut values).expect("parses");
        assert_eq!(values[0], 1.0);
        assert!(values[1].is_nan() && values[2].is_nan());
    }

    #[test]
    fn matrix_names_row_and_column_of_a_bad_value() {
        let err = parse_matrix(p(), "1,2\n3,x4\n", &mut Vec::new()).expect_err("bad value");
        match err {
            DatasetError::BadValue {
                row, column, value, ..
            } => {
                assert_eq!((row, column.as_str(), value.as_str()), (2, "dim_2", "x4"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            parse_matrix(p(), "1,inf\n", &mut Vec::new()),
            Err(DatasetError::BadValue { row: 1, .. })
        ));
    }

    #[test]
    fn matrix_ragged_and_blank_middle_rows_are_errors() {
        let err = parse_matrix(p(), "1,2\n3,4\n5\n", &mut Vec::new()).expect_err("ragged");
        assert!(matches!(
            err,
            DatasetError::RaggedRow {
                row: 3,
                expected: 2,
                got: 1,
                ..
            }
        ));
        let err = parse_matrix(p(), "1,2\n\n5,6\n", &mut Vec::new()).expect_err("blank row");
        assert!(matches!(
            err,
            DatasetError::RaggedRow { row: 2, got: 0, .. }
        ));
    }

    #[test]
    fn labels_accept_only_zero_and_one() {
        assert_eq!(
            parse_labels(p(), "0\n1\n0").expect("parses"),
            vec![false, true, false]
        );
        let err = parse_labels(p(), "0\n2\n").expect_err("bad label");
        assert!(err.to_string().contains("row 2"), "{err}");
    }

    #[test]
    fn whitespace_values_mix_separators() {
        let v = parse_whitespace_values(p(), "  1.5e+00\n\t2 3\n").expect("parses");
        assert_eq!(v, vec![1.5, 2.0, 3.0]);
        let err = parse_whitespace_values(p(), "1\n2\nabc\n").expect_err("bad");
        assert!(matches!(err, DatasetError::BadValue { row: 3, .. }));
    }

    #[test]
    fn read_text_refuses_empty_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("e.txt");
        std::fs::write(&path, "  \n").expect("write");
        let err = read_text(&path, "fill it").expect_err("empty");
        assert!(matches!(err, DatasetError::EmptyFile { .. }));
        assert!(err.to_string().ends_with("hint: fill it"));
    }
}
