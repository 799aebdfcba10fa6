//! Content fingerprints across formats: CSV → Dataset → Parquet/CSV → Dataset keeps it, and a
//! one-byte change to a value changes it.

use std::path::Path;

use vigil_datasets::{
    Dataset, GenericOptions, LabelRow, load_generic, write_csv, write_labels_csv, write_parquet,
};

use super::common::{nab_dir, tempdir, write};

const CSV: &str = "timestamp,cpu,mem\n\
    2024-01-31 12:00:00,0.1,1e-300\n\
    2024-01-31 12:01:00,,3.3333333333333335\n\
    2024-01-31 12:01:00,-0,12345678901234567890\n\
    2024-01-31 12:00:30,inf,0.30000000000000004\n";
const LABELS: &str =
    "series,start,end,kind,severity\nhost,2024-01-31 12:01:00,2024-01-31 12:02:00,spike,critical\n";

fn load(path: &Path, labels: Option<&Path>) -> Dataset {
    let options = GenericOptions {
        labels: labels.map(Path::to_path_buf),
        ..GenericOptions::default()
    };
    load_generic(path, &options).unwrap_or_else(|e| panic!("{e}"))
}

/// Writes every series of `dataset` into `dir` with `write` and its labels as `labels.csv`.
fn rewrite(
    dataset: &Dataset,
    dir: &Path,
    extension: &str,
    write: fn(&vigil_datasets::Series, &Path) -> vigil_datasets::Result<()>,
) {
    let mut rows = Vec::new();
    for series in &dataset.series {
        write(series, &dir.join(format!("{}.{extension}", series.name)))
            .unwrap_or_else(|e| panic!("{e}"));
        rows.extend(series.incidents.iter().map(|incident| LabelRow {
            series: series.name.clone(),
            incident: incident.clone(),
        }));
    }
    write_labels_csv(&rows, &dir.join("labels.csv")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn same_content_same_fingerprint() {
    let dir = tempdir();
    let a = write(dir.path(), "host.csv", CSV);
    let other = tempdir();
    // The same numbers and instants, written differently.
    let b = write(
        other.path(),
        "host.csv",
        &CSV.replace("0.1,", "0.10,")
            .replace("2024-01-31 12:00:00", "2024-01-31T13:00:00+01:00")
            .replace(",,", ",NaN,"),
    );
    assert_eq!(load(&a, None).fingerprint(), load(&b, None).fingerprint());
    assert_eq!(load(&a, None).fingerprint(), load(&a, None).fingerprint());
}

#[test]
fn csv_parquet_csv_round_trip_keeps_the_fingerprint() {
    let source = tempdir();
    let data = write(source.path(), "host.csv", CSV);
    let labels = write(source.path(), "labels.csv", LABELS);
    let original = load(&data, Some(&labels));
    assert_eq!(original.incident_count(), 1);
    assert_eq!(original.series[0].nan_count(), 1);

    let parquet = tempdir();
    rewrite(&original, parquet.path(), "parquet", write_parquet);
    let from_parquet = load(parquet.path(), None);
    assert_eq!(from_parquet.series, original.series);
    assert_eq!(from_parquet.fingerprint(), original.fingerprint());

    let csv = tempdir();
    rewrite(&from_parquet, csv.path(), "csv", write_csv);
    let back = load(csv.path(), None);
    assert_eq!(back.fingerprint(), original.fingerprint());
}

#[test]
fn real_nab_files_round_trip_through_parquet() {
    for key in [
        "realKnownCause/nyc_taxi.csv",
        "realKnownCause/ec2_request_latency_system_failure.csv",
    ] {
        let original = load(&nab_dir().join("data").join(key), None);
        let dir = tempdir();
        rewrite(&original, dir.path(), "parquet", write_parquet);
        let back = load(dir.path(), None);
        assert_eq!(back.fingerprint(), original.fingerprint(), "{key}");
        assert_eq!(back.warnings.len(), original.warnings.len(), "{key}");
    }
}

#[test]
fn one_changed_value_byte_changes_the_fingerprint() {
    let dir = tempdir();
    let base = load(&write(dir.path(), "host.csv", CSV), None).fingerprint();
    let other = tempdir();
    let changed = load(
        &write(other.path(), "host.csv", &CSV.replace("0.1,", "0.2,")),
        None,
    );
    assert_ne!(changed.fingerprint(), base);
    let third = tempdir();
    let labelled = write(third.path(), "labels.csv", LABELS);
    let with_label = load(&write(third.path(), "host.csv", CSV), Some(&labelled));
    assert_ne!(with_label.fingerprint(), base, "labels are content too");
}
