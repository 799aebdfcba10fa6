//! Prometheus range-query exports: series per label set, NaN rows for stale gaps, counter
//! resets, and the API's own errors.

use vigil_datasets::{DatasetError, Layout, load_prometheus};

use super::common::{assert_names_file_and_hint, error_text, tempdir, write};

/// Two series on a 15 s step from 1700000000 s. The counter misses the point at +30 s and resets
/// at +60 s; the gauge has special values.
const MATRIX: &str = r#"{
  "status": "success",
  "data": {
    "resultType": "matrix",
    "result": [
      {
        "metric": {"__name__": "http_requests_total", "job": "api", "instance": "a:9090"},
        "values": [[1700000000, "10"], [1700000015, "12"], [1700000045, "20"], [1700000060, "3"], [1700000075, "5"]]
      },
      {
        "metric": {"__name__": "node_load1", "instance": "a:9100"},
        "values": [[1700000000.000, "0.5"], [1700000015, "NaN"], [1700000030, "+Inf"], [1700000045, "-Inf"], [1700000060, "1e-3"], [1700000075, "2"]]
      }
    ]
  },
  "warnings": ["query touched many series"]
}"#;

#[test]
fn matrix_becomes_one_series_per_label_set_on_a_common_grid() {
    let dir = tempdir();
    let path = write(dir.path(), "export.json", MATRIX);
    let dataset = load_prometheus(&path, None).expect("loads");
    assert_eq!(dataset.layout, Layout::Prometheus);
    assert_eq!(dataset.name, "export");
    assert_eq!(dataset.source, path.display().to_string());
    let names: Vec<&str> = dataset.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            r#"http_requests_total{instance="a:9090",job="api"}"#,
            r#"node_load1{instance="a:9100"}"#
        ]
    );
    let grid: Vec<i64> = (0..6).map(|k| 1_700_000_000_000 + k * 15_000).collect();
    for series in &dataset.series {
        assert_eq!(series.timestamps, grid, "{}", series.name);
        assert_eq!(series.columns, vec!["value"]);
    }
    let counter = dataset.series[0].values.column(0).to_vec();
    assert_eq!(counter[..2], [10.0, 12.0]);
    assert!(
        counter[2].is_nan(),
        "the missing point is a NaN row, not interpolated"
    );
    assert_eq!(counter[3..], [20.0, 3.0, 5.0]);
    let gauge = dataset.series[1].values.column(0).to_vec();
    assert_eq!(gauge[0], 0.5);
    assert!(gauge[1].is_nan());
    assert_eq!(gauge[2], f64::INFINITY);
    assert_eq!(gauge[3], f64::NEG_INFINITY);
    assert_eq!(gauge[4], 0.001);

    let messages: Vec<String> = dataset.warnings.iter().map(ToString::to_string).collect();
    let find = |needle: &str| messages.iter().any(|m| m.contains(needle));
    assert!(
        find("Prometheus warned: query touched many series"),
        "{messages:#?}"
    );
    assert!(
        find(
            "(http_requests_total{instance=\"a:9090\",job=\"api\"}): 1 of 6 grid points have no sample"
        ),
        "{messages:#?}"
    );
    assert!(
        find(
            "counter decreased 1 time(s), a reset or a restart: at 2023-11-14T22:14:20.000Z (20 → 3)"
        ),
        "{messages:#?}"
    );
    assert!(
        find("(node_load1{instance=\"a:9100\"}): 2 value(s) are ±Inf"),
        "{messages:#?}"
    );
    assert!(
        !find("node_load1{instance=\"a:9100\"}): counter"),
        "gauges are not counters: {messages:#?}"
    );
}

#[test]
fn labels_attach_by_series_name() {
    let dir = tempdir();
    let path = write(dir.path(), "export.json", MATRIX);
    let labels = write(
        dir.path(),
        "labels.json",
        r#"[{"series": "node_load1{instance=\"a:9100\"}", "start": 1700000030, "end": 1700000045, "kind": "spike"}]"#,
    );
    let dataset = load_prometheus(&path, Some(&labels)).expect("loads");
    assert_eq!(
        dataset.series[1].labels(),
        vec![false, false, true, true, false, false]
    );
    assert_eq!(dataset.series[0].incidents.len(), 0);
}

#[test]
fn status_error_is_a_prometheus_error() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "error.json",
        r#"{"status": "error", "errorType": "bad_data", "error": "invalid parameter \"query\": 1:5: parse error: unexpected <EOF>"}"#,
    );
    let error = load_prometheus(&path, None).expect_err("status error");
    assert!(
        matches!(&error, DatasetError::PrometheusError { error_type, .. } if error_type == "bad_data"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("Prometheus returned an error (bad_data): invalid parameter \"query\""),
        "{message}"
    );
    assert_names_file_and_hint(&message, &path);
}

#[test]
fn instant_query_is_rejected() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "vector.json",
        r#"{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1700000000, "1"]}]}}"#,
    );
    let message = error_text(load_prometheus(&path, None));
    assert!(
        message.contains("resultType is \"vector\", not \"matrix\""),
        "{message}"
    );
    assert!(message.contains("/api/v1/query_range"), "{message}");
    assert_names_file_and_hint(&message, &path);
}

#[test]
fn malformed_exports_name_the_place() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "cut.json",
        "{\"status\": \"success\", \"data\": {\"resultType\": \"matrix\", \"result\": [\n",
    );
    let message = error_text(load_prometheus(&path, None));
    assert!(
        message.contains("not a Prometheus API response") && message.contains("line 2"),
        "{message}"
    );
    assert_names_file_and_hint(&message, &path);

    let path = write(
        dir.path(),
        "value.json",
        r#"{"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {"__name__": "up"}, "values": [[1700000000, "one"]]}]}}"#,
    );
    let message = error_text(load_prometheus(&path, None));
    assert!(
        message.contains("sample value \"one\" is not a number"),
        "{message}"
    );

    let path = write(dir.path(), "empty.json", "");
    assert!(matches!(
        load_prometheus(&path, None),
        Err(DatasetError::EmptyFile { .. })
    ));
}

#[test]
fn irregular_sample_times_fall_back_to_their_union() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "irregular.json",
        r#"{"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"__name__": "a"}, "values": [[1700000000, "1"], [1700000000.001, "2"], [1700003600, "3"]]},
            {"metric": {"__name__": "b"}, "values": [[1700003600, "4"]]}]}}"#,
    );
    let dataset = load_prometheus(&path, None).expect("loads");
    assert_eq!(
        dataset.series[0].timestamps,
        vec![1_700_000_000_000, 1_700_000_000_001, 1_700_003_600_000]
    );
    assert_eq!(
        dataset.series[1]
            .values
            .column(0)
            .iter()
            .filter(|v| v.is_nan())
            .count(),
        2
    );
    assert!(
        dataset
            .warnings
            .iter()
            .any(|w| w.message.contains("do not lie on one step grid")),
        "{:?}",
        dataset.warnings
    );
}
