//! The generic Parquet loader: every accepted column type, and damaged files.

use std::path::Path;

use polars::prelude::*;
use vigil_datasets::{DatasetError, GenericOptions, load_generic, write_parquet};

use super::common::{assert_names_file_and_hint, error_text, tempdir, write};

const START_MS: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

fn write_frame(path: &Path, columns: Vec<Column>) {
    let height = columns[0].len();
    let mut frame = DataFrame::new(height, columns).expect("frame");
    let file = std::fs::File::create(path).expect("create");
    ParquetWriter::new(file)
        .finish(&mut frame)
        .expect("write parquet");
}

fn load(path: &Path) -> vigil_datasets::Result<vigil_datasets::Dataset> {
    load_generic(path, &GenericOptions::default())
}

fn expected_times() -> Vec<i64> {
    vec![START_MS, START_MS + 60_000, START_MS + 120_000]
}

#[test]
fn datetime_columns_of_every_unit() {
    let dir = tempdir();
    for (unit, scale) in [
        (TimeUnit::Nanoseconds, 1_000_000),
        (TimeUnit::Microseconds, 1_000),
        (TimeUnit::Milliseconds, 1),
    ] {
        let path = dir.path().join(format!("{unit:?}.parquet"));
        let raw: Vec<i64> = expected_times().iter().map(|t| t * scale).collect();
        write_frame(
            &path,
            vec![
                Int64Chunked::from_vec("timestamp".into(), raw)
                    .into_datetime(unit, None)
                    .into_column(),
                Column::new("v".into(), [Some(1i32), None, Some(3)]),
            ],
        );
        let series = &load(&path).expect("loads").series[0];
        assert_eq!(series.timestamps, expected_times(), "{unit:?}");
        assert_eq!(series.values[[0, 0]], 1.0);
        assert!(series.values[[1, 0]].is_nan(), "null becomes NaN");
    }
}

#[test]
fn date_epoch_and_string_timestamp_columns() {
    let dir = tempdir();
    let days = START_MS / 86_400_000;
    let date_path = dir.path().join("date.parquet");
    write_frame(
        &date_path,
        vec![
            Int32Chunked::from_vec("date".into(), vec![days as i32, days as i32 + 1])
                .into_date()
                .into_column(),
            Column::new("v".into(), [1.5f32, 2.5]),
        ],
    );
    assert_eq!(
        load(&date_path).expect("date").series[0].timestamps,
        vec![START_MS, START_MS + 86_400_000]
    );

    let seconds: Vec<i64> = expected_times().iter().map(|t| t / 1000).collect();
    let cases: Vec<(&str, Column)> = vec![
        ("seconds", Column::new("ts".into(), seconds.clone())),
        ("millis", Column::new("ts".into(), expected_times())),
        (
            "float_seconds",
            Column::new(
                "ts".into(),
                seconds.iter().map(|&s| s as f64).collect::<Vec<f64>>(),
            ),
        ),
        (
            "text",
            Column::new(
                "ts".into(),
                [
                    "2024-01-01 00:00:00",
                    "2024-01-01T00:01:00Z",
                    "2024-01-01T01:02:00+01:00",
                ],
            ),
        ),
    ];
    for (name, timestamps) in cases {
        let path = dir.path().join(format!("{name}.parquet"));
        write_frame(
            &path,
            vec![
                timestamps,
                Column::new("v".into(), ["1", "", "2.5"]),
                Column::new("u".into(), [1u32, 2, 3]),
            ],
        );
        let series = &load(&path).expect(name).series[0];
        assert_eq!(series.timestamps, expected_times(), "{name}");
        assert_eq!(series.columns, vec!["v", "u"]);
        assert!(series.values[[1, 0]].is_nan());
        assert_eq!(series.values[[2, 0]], 2.5);
        assert_eq!(series.values[[2, 1]], 3.0);
    }
}

#[test]
fn bad_cells_in_parquet_name_row_and_column() {
    let dir = tempdir();
    let path = dir.path().join("bad.parquet");
    write_frame(
        &path,
        vec![
            Column::new("timestamp".into(), ["2024-01-01 00:00:00", "later"]),
            Column::new("v".into(), [1.0, 2.0]),
        ],
    );
    let message = error_text(load(&path));
    assert!(
        message.contains("row 2, column \"timestamp\": cannot parse timestamp \"later\""),
        "{message}"
    );
    assert_names_file_and_hint(&message, &path);

    write_frame(
        &path,
        vec![
            Column::new("timestamp".into(), [START_MS, START_MS + 1]),
            Column::new("v".into(), ["1", "two"]),
        ],
    );
    let message = error_text(load(&path));
    assert!(
        message.contains("row 2, column \"v\": \"two\" is not a number"),
        "{message}"
    );
}

#[test]
fn truncated_parquet_file() {
    let dir = tempdir();
    let good = dir.path().join("good.parquet");
    let series = vigil_datasets::Series::new(
        "good",
        expected_times(),
        vec!["v".into()],
        ndarray::Array2::from_shape_vec((3, 1), vec![1.0, 2.0, 3.0]).expect("shape"),
    );
    write_parquet(&series, &good).expect("write");
    let bytes = std::fs::read(&good).expect("read");
    let path = dir.path().join("truncated.parquet");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
    let error = load(&path).expect_err("truncated");
    assert!(
        matches!(error, DatasetError::BadParquet { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("the file is truncated"), "{message}");
    assert!(message.contains("write it again"), "{message}");
    assert_names_file_and_hint(&message, &path);
}

#[test]
fn damaged_parquet_footer_is_an_error_not_a_panic() {
    let dir = tempdir();
    let good = dir.path().join("good.parquet");
    let series = vigil_datasets::Series::new(
        "good",
        expected_times(),
        vec!["v".into()],
        ndarray::Array2::from_shape_vec((3, 1), vec![1.0, 2.0, 3.0]).expect("shape"),
    );
    write_parquet(&series, &good).expect("write");
    let mut bytes = std::fs::read(&good).expect("read");
    let footer_len = u32::from_le_bytes(
        bytes[bytes.len() - 8..bytes.len() - 4]
            .try_into()
            .expect("4 bytes"),
    ) as usize;
    let footer_start = bytes.len() - 8 - footer_len;
    bytes[footer_start..footer_start + footer_len / 2]
        .iter_mut()
        .for_each(|b| *b = 0xff);
    let path = dir.path().join("damaged.parquet");
    std::fs::write(&path, &bytes).expect("write damaged");
    let error = load(&path).expect_err("damaged");
    assert!(
        matches!(error, DatasetError::BadParquet { .. }),
        "{error:?}"
    );
    assert_names_file_and_hint(&error.to_string(), &path);
}

#[test]
fn not_parquet_and_empty_parquet() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "text.parquet",
        "timestamp,value\n2024-01-01 00:00:00,1\n",
    );
    let message = error_text(load(&path));
    assert!(message.contains("not a Parquet file"), "{message}");
    assert_names_file_and_hint(&message, &path);
    let path = write(dir.path(), "empty.parquet", "");
    assert!(matches!(load(&path), Err(DatasetError::EmptyFile { .. })));
}
