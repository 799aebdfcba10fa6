//! Labels files: both formats, their round trip, and every rule of attaching them.

use std::path::{Path, PathBuf};

use vigil_datasets::{
    DatasetError, GenericOptions, Incident, LabelRow, load_generic, parse_timestamp, read_labels,
    write_labels_csv,
};

use super::common::{assert_names_file_and_hint, error_text, tempdir, write};

/// A folder with one series `cpu` of four 5-minute rows from 2024-01-01 00:00.
fn data(dir: &Path) -> PathBuf {
    write(
        dir,
        "cpu.csv",
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n2024-01-01 00:10:00,3\n2024-01-01 00:15:00,4\n",
    )
}

fn with_labels(data: &Path, labels: &Path) -> vigil_datasets::Result<vigil_datasets::Dataset> {
    load_generic(
        data,
        &GenericOptions {
            labels: Some(labels.to_path_buf()),
            ..GenericOptions::default()
        },
    )
}

#[test]
fn json_labels_attach_like_csv_labels() {
    let dir = tempdir();
    let data = data(dir.path());
    let json = write(
        dir.path(),
        "l.json",
        r#"[{"series": "cpu", "start": "2024-01-01T00:10:00Z", "end": 1704068100, "kind": "level_shift", "severity": "warning"},
            {"series": "cpu", "start": "2024-01-01 00:00:00", "end": "2024-01-01 00:00:00"}]"#,
    );
    let csv = write(
        dir.path(),
        "l.csv",
        "series,start,end,kind,severity\ncpu,2024-01-01 00:00:00,2024-01-01 00:00:00,,\ncpu,1704067800000,2024-01-01T00:15:00Z,level_shift,warning\n",
    );
    let from_json = with_labels(&data, &json).expect("json labels");
    let from_csv = with_labels(&data, &csv).expect("csv labels");
    let series = &from_json.series[0];
    assert_eq!(series.labels(), vec![true, false, true, true]);
    assert_eq!(
        series.incidents[0],
        Incident::new(1_704_067_200_000, 1_704_067_200_000),
        "sorted by start"
    );
    assert_eq!(series.incidents[1].kind.as_deref(), Some("level_shift"));
    assert_eq!(
        from_json.fingerprint(),
        from_csv.fingerprint(),
        "same windows in any order and format"
    );
}

#[test]
fn labels_csv_round_trips() {
    let dir = tempdir();
    let rows = vec![
        LabelRow {
            series: "up{job=\"a,b\"}".into(),
            incident: Incident {
                start: 1_704_067_200_123,
                end: 1_704_067_800_000,
                kind: Some("spike".into()),
                severity: Some("critical".into()),
                channels: vec![],
            },
        },
        LabelRow {
            series: "cpu".into(),
            incident: Incident::new(0, 1000),
        },
    ];
    let path = dir.path().join("labels.csv");
    write_labels_csv(&rows, &path).expect("write");
    assert_eq!(read_labels(&path).expect("read"), rows);
}

#[test]
fn labels_json_that_does_not_parse() {
    let dir = tempdir();
    let data = data(dir.path());
    let labels = write(
        dir.path(),
        "broken.json",
        "[\n  {\"series\": \"cpu\", \"start\": 1704067200,\n  \"end\" 1704067800}\n]\n",
    );
    let error = with_labels(&data, &labels).expect_err("bad json");
    assert!(matches!(error, DatasetError::BadLabels { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("not valid JSON") && message.contains("line 3 column"),
        "{message}"
    );
    assert!(message.contains("array of {\"series\""), "{message}");
    assert_names_file_and_hint(&message, &labels);
}

#[test]
fn labels_json_missing_a_key_names_element_and_key() {
    let dir = tempdir();
    let labels = write(
        dir.path(),
        "l.json",
        r#"[{"series": "cpu", "start": 1, "end": 2}, {"series": "cpu", "end": 2}]"#,
    );
    let message = error_text(read_labels(&labels));
    assert!(
        message.contains("element [1]: missing key \"start\""),
        "{message}"
    );
    assert_names_file_and_hint(&message, &labels);
}

#[test]
fn labels_csv_errors_name_row_and_column() {
    let dir = tempdir();
    let labels = write(
        dir.path(),
        "l.csv",
        "series,start,end\ncpu,2024-01-01 00:00:00,2024-01-01 00:05:00\ncpu,soon,2024-01-01 00:05:00\n",
    );
    let message = error_text(read_labels(&labels));
    assert!(
        message.contains("row 2, column \"start\": cannot parse timestamp \"soon\""),
        "{message}"
    );
    assert_names_file_and_hint(&message, &labels);

    let labels = write(
        dir.path(),
        "m.csv",
        "series,begin,end\ncpu,2024-01-01 00:00:00,2024-01-01 00:05:00\n",
    );
    let message = error_text(read_labels(&labels));
    assert!(
        message.contains("no column \"start\" (columns: series, begin, end)"),
        "{message}"
    );
    assert!(
        message.contains("series,start,end[,kind,severity]"),
        "{message}"
    );

    let labels = write(dir.path(), "e.csv", "");
    assert!(matches!(
        read_labels(&labels),
        Err(DatasetError::EmptyFile { .. })
    ));
    let labels = write(dir.path(), "h.csv", "series,start,end\n");
    assert_eq!(
        read_labels(&labels).expect("header only is no labels"),
        vec![]
    );
}

#[test]
fn window_end_before_start() {
    let dir = tempdir();
    let data = data(dir.path());
    let labels = write(
        dir.path(),
        "l.csv",
        "series,start,end\ncpu,2024-01-01 00:00:00,2024-01-01 00:05:00\ncpu,2024-01-01 00:15:00,2024-01-01 00:10:00\n",
    );
    let error = with_labels(&data, &labels).expect_err("reversed");
    assert!(
        matches!(&error, DatasetError::WindowReversed { index: 2, series, .. } if series == "cpu"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("incident 2 for series \"cpu\" ends (2024-01-01T00:10:00.000Z) before it starts (2024-01-01T00:15:00.000Z)"),
        "{message}"
    );
    assert_names_file_and_hint(&message, &labels);
}

#[test]
fn label_for_a_series_that_does_not_exist() {
    let dir = tempdir();
    let data = data(dir.path());
    let labels = write(
        dir.path(),
        "l.csv",
        "series,start,end\nmem,2024-01-01 00:00:00,2024-01-01 00:05:00\n",
    );
    let error = with_labels(&data, &labels).expect_err("unknown series");
    assert!(
        matches!(&error, DatasetError::UnknownSeries { series, .. } if series == "mem"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(
            "labels name series \"mem\", which the dataset does not have (series: \"cpu\")"
        ),
        "{message}"
    );
    assert_names_file_and_hint(&message, &labels);
}

#[test]
fn window_wholly_outside_the_data_is_a_warning() {
    let dir = tempdir();
    let data = data(dir.path());
    let labels = write(
        dir.path(),
        "l.csv",
        "series,start,end\ncpu,2023-12-31 00:00:00,2023-12-31 06:00:00\ncpu,2024-01-01 00:05:00,2024-01-01 00:05:00\n",
    );
    let dataset = with_labels(&data, &labels).expect("loads with a warning");
    let series = &dataset.series[0];
    assert_eq!(series.incidents.len(), 2, "the outside window is kept");
    assert_eq!(series.incident_rows(&series.incidents[0]), None);
    assert_eq!(series.labels(), vec![false, true, false, false]);
    assert_eq!(dataset.warnings.len(), 1, "{:?}", dataset.warnings);
    let warning = &dataset.warnings[0];
    assert_eq!(warning.path, labels.display().to_string());
    assert_eq!(warning.series.as_deref(), Some("cpu"));
    assert!(
        warning.message.contains("incident 1 [2023-12-31T00:00:00.000Z, 2023-12-31T06:00:00.000Z] lies wholly outside the data"),
        "{warning}"
    );
    assert!(
        warning
            .message
            .contains("2024-01-01T00:00:00.000Z to 2024-01-01T00:15:00.000Z"),
        "{warning}"
    );
}

#[test]
fn nab_shaped_json_is_accepted_as_labels() {
    let dir = tempdir();
    let data = data(dir.path());
    let labels = write(
        dir.path(),
        "w.json",
        r#"{"cpu": [["2024-01-01 00:05:00.000000", "2024-01-01 00:10:00.000000"]]}"#,
    );
    let dataset = with_labels(&data, &labels).expect("loads");
    assert_eq!(dataset.series[0].labels(), vec![false, true, true, false]);
    assert_eq!(
        dataset.series[0].incidents[0].start,
        parse_timestamp("2024-01-01 00:05:00").expect("valid")
    );
}
