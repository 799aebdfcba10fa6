//! Parquet: typed columns through polars. The timestamp may be a Datetime (any unit, any time
//! zone: the stored instant is UTC), a Date, an integer or float epoch, or a string; values may
//! be any numeric type (nulls become NaN) or strings of numbers.

use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use ndarray::Array2;
use polars::prelude::*;

use super::{GenericOptions, parse_value, resolve_frame_columns};
use crate::error::{DatasetError, Result};
use crate::model::Series;
use crate::timestamp::{epoch_float_to_ms, epoch_to_ms, parse_timestamp};

const MAGIC: &[u8; 4] = b"PAR1";
const MS_PER_DAY: i64 = 86_400_000;

/// Reads one Parquet file as the series `name`.
pub(crate) fn read_parquet(path: &Path, name: &str, options: &GenericOptions) -> Result<Series> {
    let mut file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let size = file
        .metadata()
        .map_err(|e| DatasetError::io(path, e))?
        .len();
    if size == 0 {
        return Err(DatasetError::EmptyFile {
            path: path.to_path_buf(),
            hint: "write the Parquet file again; it has no bytes at all".to_owned(),
        });
    }
    check_magic(path, &mut file, size)?;
    let bad = |message: String| DatasetError::BadParquet {
        path: path.to_path_buf(),
        message,
    };
    // A corrupt file must give an error, never bring the caller down: polars' decoder is
    // guarded in case some damage slips past its checks.
    let frame = catch_unwind(AssertUnwindSafe(|| ParquetReader::new(file).finish()))
        .map_err(|_| bad("the decoder failed on damaged data".to_owned()))?
        .map_err(|e| bad(e.to_string()))?;
    let (names, timestamp_index, value_indices) = resolve_frame_columns(path, &frame, options)?;
    let columns = frame.columns();
    let rows = frame.height();

    let timestamps = timestamps(path, names[timestamp_index], &columns[timestamp_index])?;
    let width = value_indices.len();
    let mut values = vec![f64::NAN; rows * width];
    for (j, &column_index) in value_indices.iter().enumerate() {
        let column = &columns[column_index];
        let column_name = names[column_index];
        let dtype = column.dtype();
        if dtype.is_primitive_numeric() || dtype.is_bool() {
            let floats = column
                .cast(&DataType::Float64)
                .map_err(|e| bad(e.to_string()))?;
            let floats = floats.f64().map_err(|e| bad(e.to_string()))?;
            for (i, value) in floats.iter().enumerate() {
                values[i * width + j] = value.unwrap_or(f64::NAN);
            }
        } else if dtype == &DataType::String {
            let cells = column.str().map_err(|e| bad(e.to_string()))?;
            for (i, cell) in cells.iter().enumerate() {
                let Some(cell) = cell else { continue };
                values[i * width + j] =
                    parse_value(cell).ok_or_else(|| DatasetError::BadValue {
                        path: path.to_path_buf(),
                        row: i + 1,
                        column: column_name.to_owned(),
                        value: cell.to_owned(),
                    })?;
            }
        } else {
            return Err(DatasetError::format(
                path,
                format!("value column {column_name:?} has type {dtype}, not a number"),
                "store value columns as integers or floats, or choose the value columns with --value-columns",
            ));
        }
    }
    let values = Array2::from_shape_vec((rows, width), values).map_err(|e| bad(e.to_string()))?;
    let channel_names = value_indices.iter().map(|&i| names[i].to_owned()).collect();
    Ok(Series::new(name, timestamps, channel_names, values))
}

/// A Parquet file starts and ends with `PAR1`; a truncated one has lost its footer.
fn check_magic(path: &Path, file: &mut std::fs::File, size: u64) -> Result<()> {
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    let read = (|| -> std::io::Result<()> {
        if size >= 12 {
            file.read_exact(&mut head)?;
            file.seek(SeekFrom::End(-4))?;
            file.read_exact(&mut tail)?;
        }
        file.seek(SeekFrom::Start(0))?;
        Ok(())
    })();
    read.map_err(|e| DatasetError::io(path, e))?;
    if &head != MAGIC {
        return Err(DatasetError::BadParquet {
            path: path.to_path_buf(),
            message: "no `PAR1` header: this is not a Parquet file".to_owned(),
        });
    }
    if &tail != MAGIC {
        return Err(DatasetError::BadParquet {
            path: path.to_path_buf(),
            message: format!(
                "no `PAR1` footer at the end of its {size} bytes: the file is truncated"
            ),
        });
    }
    Ok(())
}

/// The timestamp column as ms UTC, whatever its type.
fn timestamps(path: &Path, column_name: &str, column: &Column) -> Result<Vec<i64>> {
    let bad = |message: String| DatasetError::BadParquet {
        path: path.to_path_buf(),
        message,
    };
    let bad_cell = |row: usize, value: String| DatasetError::BadTimestamp {
        path: path.to_path_buf(),
        row: row + 1,
        column: column_name.to_owned(),
        value,
    };
    let dtype = column.dtype().clone();
    let as_i64 = |target: &DataType| -> Result<Int64Chunked> {
        let cast = column.cast(target).map_err(|e| bad(e.to_string()))?;
        let cast = cast
            .cast(&DataType::Int64)
            .map_err(|e| bad(e.to_string()))?;
        cast.i64().cloned().map_err(|e| bad(e.to_string()))
    };
    let convert_ints =
        |ints: Int64Chunked, to_ms: &dyn Fn(i64) -> Option<i64>| -> Result<Vec<i64>> {
            ints.iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Some(v) => to_ms(v).ok_or_else(|| bad_cell(i, v.to_string())),
                    None => Err(bad_cell(i, "null".to_owned())),
                })
                .collect()
        };
    match dtype {
        DataType::Datetime(unit, _) => {
            let divisor = match unit {
                TimeUnit::Nanoseconds => 1_000_000,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Milliseconds => 1,
            };
            convert_ints(as_i64(&DataType::Int64)?, &|v| Some(v.div_euclid(divisor)))
        }
        DataType::Date => convert_ints(as_i64(&DataType::Int32)?, &|days| {
            days.checked_mul(MS_PER_DAY)
        }),
        ref d if d.is_integer() => convert_ints(as_i64(&DataType::Int64)?, &epoch_to_ms),
        ref d if d.is_float() => {
            let floats = column
                .cast(&DataType::Float64)
                .map_err(|e| bad(e.to_string()))?;
            let floats = floats.f64().map_err(|e| bad(e.to_string()))?;
            floats
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.and_then(epoch_float_to_ms)
                        .ok_or_else(|| bad_cell(i, format!("{v:?}")))
                })
                .collect()
        }
        DataType::String => {
            let cells = column.str().map_err(|e| bad(e.to_string()))?;
            cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    cell.and_then(parse_timestamp)
                        .ok_or_else(|| bad_cell(i, cell.unwrap_or("null").to_owned()))
                })
                .collect()
        }
        other => Err(DatasetError::format(
            path,
            format!("timestamp column {column_name:?} has type {other}"),
            "store the timestamp as a Datetime, a Date, epoch seconds/milliseconds or RFC 3339 text",
        )),
    }
}

/// Writes a series as Parquet: a `timestamp` column (Datetime, milliseconds, no time zone, read
/// back as UTC) and one Float64 column per channel; NaN stays NaN. Reading it back with
/// [`super::load_generic`] gives the same content and fingerprint as the series written.
pub fn write_parquet(series: &Series, path: &Path) -> Result<()> {
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
    let failed = |e: PolarsError| {
        DatasetError::format(
            path,
            format!("cannot write Parquet: {e}"),
            "check the disk space and that the folder is writable",
        )
    };
    let mut columns = Vec::with_capacity(series.channels() + 1);
    columns.push(
        Int64Chunked::from_vec("timestamp".into(), series.timestamps.clone())
            .into_datetime(TimeUnit::Milliseconds, None)
            .into_column(),
    );
    for (j, name) in series.columns.iter().enumerate() {
        columns.push(
            Float64Chunked::from_vec(name.as_str().into(), series.values.column(j).to_vec())
                .into_column(),
        );
    }
    let mut frame = DataFrame::new(series.len(), columns).map_err(failed)?;
    let file = std::fs::File::create(path).map_err(|e| DatasetError::io(path, e))?;
    ParquetWriter::new(file)
        .finish(&mut frame)
        .map_err(failed)?;
    Ok(())
}
