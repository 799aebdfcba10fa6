//! The generic CSV loader: good files, and one test per kind of bad input.

use vigil_datasets::{DatasetError, GenericOptions, Layout, load_generic, parse_timestamp};

use super::common::{assert_names_file_and_hint, error_text, tempdir, write};

fn load(path: &std::path::Path) -> vigil_datasets::Result<vigil_datasets::Dataset> {
    load_generic(path, &GenericOptions::default())
}

#[test]
fn multichannel_csv_with_missing_values() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "web-01.csv",
        "timestamp,cpu,mem\n\
         2024-01-31T12:00:00Z,0.5,10\n\
         2024-01-31 12:01:00,,NaN\n\
         1706702520,null,1e3\n\
         1706702580000,-1.25,\"7\"\n",
    );
    let dataset = load(&path).expect("loads");
    assert_eq!(dataset.layout, Layout::Generic);
    assert_eq!(dataset.name, "web-01");
    assert_eq!(dataset.source, path.display().to_string());
    assert!(dataset.warnings.is_empty(), "{:?}", dataset.warnings);
    let series = &dataset.series[0];
    assert_eq!(series.name, "web-01");
    assert_eq!(series.columns, vec!["cpu", "mem"]);
    let start = parse_timestamp("2024-01-31T12:00:00Z").expect("valid");
    assert_eq!(
        series.timestamps,
        vec![start, start + 60_000, start + 120_000, start + 180_000]
    );
    assert_eq!(series.values[[0, 0]], 0.5);
    assert!(
        series.values[[1, 0]].is_nan()
            && series.values[[1, 1]].is_nan()
            && series.values[[2, 0]].is_nan()
    );
    assert_eq!(series.values[[2, 1]], 1000.0);
    assert_eq!(series.values[[3, 0]], -1.25);
    assert_eq!(series.values[[3, 1]], 7.0);
    assert_eq!(series.nan_count(), 3);
}

#[test]
fn timestamp_and_value_columns_can_be_named() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "m.csv",
        "host,when,a,b\nx,2024-01-01 00:00:00,1,2\nx,2024-01-01 00:05:00,3,4\n",
    );
    let options = GenericOptions {
        timestamp_column: Some("when".into()),
        value_columns: Some(vec!["b".into(), "a".into()]),
        labels: None,
    };
    let series = &load_generic(&path, &options).expect("loads").series[0];
    assert_eq!(series.columns, vec!["b", "a"]);
    assert_eq!(series.values.row(1).to_vec(), vec![4.0, 3.0]);

    // Without naming the value columns the text column `host` is read as values and fails.
    let message = error_text(load_generic(
        &path,
        &GenericOptions {
            timestamp_column: Some("when".into()),
            ..GenericOptions::default()
        },
    ));
    assert!(
        message.contains("row 1, column \"host\": \"x\" is not a number"),
        "{message}"
    );

    let message = error_text(load_generic(
        &path,
        &GenericOptions {
            timestamp_column: Some("when".into()),
            value_columns: Some(vec!["c".into()]),
            labels: None,
        },
    ));
    assert!(message.contains("no value column named \"c\""), "{message}");
    assert_names_file_and_hint(&message, &path);
}

#[test]
fn a_time_like_column_is_found_without_a_name() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "d.csv",
        "value,Date\n1,2024-01-01\n2,2024-01-02\n",
    );
    let series = &load(&path).expect("loads").series[0];
    assert_eq!(series.columns, vec!["value"]);
    assert_eq!(series.timestamps[1] - series.timestamps[0], 86_400_000);
}

#[test]
fn empty_file() {
    let dir = tempdir();
    let path = write(dir.path(), "empty.csv", "");
    let error = load(&path).expect_err("empty file");
    assert!(matches!(error, DatasetError::EmptyFile { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("the file is empty"), "{message}");
    assert_names_file_and_hint(&message, &path);
    // Whitespace only is empty too.
    let path = write(dir.path(), "blank.csv", "\n  \n");
    assert!(matches!(load(&path), Err(DatasetError::EmptyFile { .. })));
}

#[test]
fn header_only() {
    let dir = tempdir();
    let path = write(dir.path(), "header.csv", "timestamp,value\n");
    let error = load(&path).expect_err("header only");
    assert!(
        matches!(error, DatasetError::HeaderOnly { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("header but no data rows"), "{message}");
    assert_names_file_and_hint(&message, &path);
}

#[test]
fn missing_timestamp_column() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "nots.csv",
        "when,value\n2024-01-01 00:00:00,1\n",
    );
    let message = error_text(load(&path));
    assert!(
        message.contains("no timestamp column named \"timestamp\""),
        "{message}"
    );
    assert!(
        message.contains("columns: \"when\", \"value\""),
        "{message}"
    );
    assert!(message.contains("--timestamp-column"), "{message}");
    assert_names_file_and_hint(&message, &path);
}

#[test]
fn misnamed_timestamp_column() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "misnamed.csv",
        "Timestamp,value\n2024-01-01 00:00:00,1\n",
    );
    let options = GenericOptions {
        timestamp_column: Some("timestamp".into()),
        ..GenericOptions::default()
    };
    let message = error_text(load_generic(&path, &options));
    assert!(
        message.contains(
            "no timestamp column named \"timestamp\" (columns: \"Timestamp\", \"value\")"
        ),
        "{message}"
    );
    assert!(
        message.contains("case-sensitive: pass --timestamp-column \"Timestamp\""),
        "{message}"
    );
    assert_names_file_and_hint(&message, &path);
}

#[test]
fn unparseable_timestamp_names_the_row() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "badts.csv",
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n2024-01-01 00:10:0O,3\n",
    );
    let error = load(&path).expect_err("bad timestamp");
    let message = error.to_string();
    assert!(
        matches!(&error, DatasetError::BadTimestamp { row: 3, column, .. } if column == "timestamp"),
        "{error:?}"
    );
    assert!(
        message.contains(
            "row 3, column \"timestamp\": cannot parse timestamp \"2024-01-01 00:10:0O\""
        ),
        "{message}"
    );
    assert!(message.contains("RFC 3339"), "{message}");
    assert_names_file_and_hint(&message, &path);
}

#[test]
fn non_numeric_value_names_the_row_and_column() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "badvalue.csv",
        "timestamp,cpu,mem\n2024-01-01 00:00:00,1,2\n2024-01-01 00:05:00,3,4MB\n",
    );
    let error = load(&path).expect_err("bad value");
    assert!(
        matches!(&error, DatasetError::BadValue { row: 2, column, .. } if column == "mem"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("row 2, column \"mem\": \"4MB\" is not a number"),
        "{message}"
    );
    assert_names_file_and_hint(&message, &path);
}

#[test]
fn ragged_row_names_the_row() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "ragged.csv",
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2,7\n",
    );
    let error = load(&path).expect_err("ragged");
    assert!(
        matches!(
            error,
            DatasetError::RaggedRow {
                row: 2,
                expected: 2,
                got: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert_names_file_and_hint(&error.to_string(), &path);
}

#[test]
fn duplicate_and_backward_timestamps_are_kept_with_a_warning() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "order.csv",
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n2024-01-01 00:05:00,3\n2024-01-01 00:02:00,4\n",
    );
    let dataset = load(&path).expect("loads");
    let series = &dataset.series[0];
    assert_eq!(
        series.values.column(0).to_vec(),
        vec![1.0, 2.0, 3.0, 4.0],
        "file order kept"
    );
    assert!(series.timestamps[3] < series.timestamps[2]);
    assert_eq!(dataset.warnings.len(), 1);
    let warning = &dataset.warnings[0];
    assert_eq!(warning.series.as_deref(), Some("order"));
    assert!(
        warning
            .message
            .contains("1 duplicate timestamp(s): row 3 repeats 2024-01-01T00:05:00.000Z of row 2"),
        "{warning}"
    );
    assert!(
        warning
            .message
            .contains("row 4 (2024-01-01T00:02:00.000Z) is before row 3"),
        "{warning}"
    );
}

#[test]
fn folder_of_files_with_its_labels() {
    let dir = tempdir();
    write(
        dir.path(),
        "b.csv",
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n2024-01-01 00:10:00,3\n",
    );
    write(
        dir.path(),
        "a.csv",
        "timestamp,x,y\n2024-01-01 00:00:00,1,1\n2024-01-01 00:05:00,2,2\n",
    );
    write(dir.path(), "notes.txt", "not data");
    write(
        dir.path(),
        "labels.csv",
        "series,start,end,kind,severity\nb,2024-01-01 00:05:00,2024-01-01 00:10:00,spike,critical\na,2024-01-01 00:00:00,2024-01-01 00:00:00,,\n",
    );
    let dataset = load(dir.path()).expect("loads");
    let names: Vec<&str> = dataset.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["a", "b"],
        "sorted by name; labels.csv is not data"
    );
    assert_eq!(dataset.incident_count(), 2);
    let b = dataset.get("b").expect("series b");
    assert_eq!(b.labels(), vec![false, true, true]);
    assert_eq!(b.incidents[0].kind.as_deref(), Some("spike"));
    assert_eq!(b.incidents[0].severity.as_deref(), Some("critical"));
    let a = dataset.get("a").expect("series a");
    assert_eq!(a.labels(), vec![true, false]);
    assert_eq!(a.incidents[0].kind, None);
}

#[test]
fn folder_without_data_is_an_error() {
    let dir = tempdir();
    write(dir.path(), "labels.csv", "series,start,end\n");
    let message = error_text(load(dir.path()));
    assert!(message.contains("no .csv or .parquet files"), "{message}");
    assert_names_file_and_hint(&message, dir.path());
}

#[test]
fn unknown_extension_is_an_error() {
    let dir = tempdir();
    let path = write(dir.path(), "data.txt", "timestamp,value\n");
    let message = error_text(load(&path));
    assert!(message.contains("not a .csv or .parquet file"), "{message}");
    assert_names_file_and_hint(&message, &path);
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempdir();
    let path = dir.path().join("absent.csv");
    let error = load(&path).expect_err("missing");
    assert!(matches!(error, DatasetError::Io { .. }), "{error:?}");
    assert_names_file_and_hint(&error.to_string(), &path);
}
