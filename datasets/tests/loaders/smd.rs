//! SMD and ASD: real data against the datasets README and the files themselves, small
//! fixtures for the conventions, and one test per bad-input rule.

use std::path::Path;

use vigil_datasets::{DatasetError, Layout, Series, load_asd, load_smd};

use crate::rowbased_fixtures::{assert_clear, lines, real, write};

/// Test-part row labels derived from the incidents alone.
fn incident_labels(series: &Series) -> Vec<bool> {
    let mut labels = vec![false; series.len()];
    for (first, last) in series.incident_row_ranges() {
        labels[first..=last].iter_mut().for_each(|l| *l = true);
    }
    labels
}

fn check_machine_against_files(dir: &Path, series: &Series, channels: usize, step_ms: i64) {
    let name = &series.name;
    let train = lines(&dir.join("train").join(format!("{name}.txt")));
    let test = lines(&dir.join("test").join(format!("{name}.txt")));
    let test_label = lines(&dir.join("test_label").join(format!("{name}.txt")));
    assert_eq!(series.train_end, Some(train.len()), "{name}");
    assert_eq!(series.len(), train.len() + test.len(), "{name}");
    assert_eq!(series.channels(), channels, "{name}");
    assert_eq!(series.columns.first().map(String::as_str), Some("dim_1"));
    assert_eq!(
        series.columns.last().cloned(),
        Some(format!("dim_{channels}"))
    );
    // timestamps: row × step from the epoch, test straight after train
    assert_eq!(series.timestamps[0], 0);
    assert_eq!(series.timestamps[train.len()], train.len() as i64 * step_ms);
    assert!(series.timestamps.windows(2).all(|w| w[1] - w[0] == step_ms));
    // values: first train row and last test row, parsed here independently
    let parse = |line: &str| -> Vec<f64> {
        line.split(',')
            .map(|c| c.trim().parse().expect("number"))
            .collect()
    };
    assert_eq!(series.values.row(0).to_vec(), parse(&train[0]), "{name}");
    assert_eq!(
        series.values.row(series.len() - 1).to_vec(),
        parse(test.last().expect("rows")),
        "{name}"
    );
    // labels: train unlabelled, then test_label verbatim
    let labels = series.point_labels.as_ref().expect("point labels");
    assert!(labels[..train.len()].iter().all(|l| !l));
    let expected: Vec<bool> = test_label.iter().map(|l| l.trim() == "1").collect();
    assert_eq!(&labels[train.len()..], expected.as_slice(), "{name}");
    assert_eq!(
        series.incidents.len(),
        lines(&dir.join("interpretation_label").join(format!("{name}.txt"))).len()
    );
}

#[test]
fn smd_real_matches_readme() {
    let dir = real("smd");
    let ds = load_smd(&dir).expect("SMD loads");
    assert_eq!(ds.layout, Layout::Smd);
    let names: Vec<&str> = ds.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "machine-1-2",
            "machine-1-3",
            "machine-1-4",
            "machine-1-5",
            "machine-2-1"
        ]
    );
    for s in &ds.series {
        check_machine_against_files(&dir, s, 38, 60_000);
    }
    // README: 3,349 of 118,504 test rows anomalous; 53 interpretation segments
    let test_rows: usize = ds
        .series
        .iter()
        .map(|s| s.len() - s.train_end.unwrap_or(0))
        .sum();
    let anomalous: usize = ds
        .series
        .iter()
        .map(|s| s.labels().iter().filter(|&&l| l).count())
        .sum();
    assert_eq!((anomalous, test_rows), (3_349, 118_504));
    assert_eq!(ds.incident_count(), 53);
    // interpretation dims are 1-based in the file, 0-based here: machine-1-3 line 1 is `392-416:12,15`
    let m13 = ds.get("machine-1-3").expect("machine-1-3");
    let train_rows = m13.train_end.expect("train_end") as i64;
    assert_eq!(m13.incidents[0].channels, vec![11, 14]);
    assert_eq!(m13.incidents[0].start, (train_rows + 392) * 60_000);
    assert_eq!(
        m13.incidents[0].end,
        (train_rows + 415) * 60_000,
        "SMD ends are exclusive"
    );
}

#[test]
fn smd_real_incidents_match_labels_except_the_known_segment() {
    let ds = load_smd(&real("smd")).expect("SMD loads");
    for s in &ds.series {
        if s.name != "machine-1-3" {
            assert_eq!(
                incident_labels(s),
                s.labels(),
                "{}: incidents must cover exactly the labelled runs",
                s.name
            );
        }
    }
    // machine-1-3: segment 22923-23019 ends one row before its test_label run, and the run at
    // test rows 18460..=18470 has no segment; both are warned about and the labels kept.
    assert_eq!(ds.warnings.len(), 2, "{:#?}", ds.warnings);
    assert!(
        ds.warnings
            .iter()
            .all(|w| w.series.as_deref() == Some("machine-1-3"))
    );
    assert!(
        ds.warnings[0].message.contains("\"22923-23019\"")
            && ds.warnings[0].message.contains("22923..=23019")
    );
    assert!(ds.warnings[1].message.contains("18460..=18470"));
    let m13 = ds.get("machine-1-3").expect("machine-1-3");
    let train = m13.train_end.expect("train_end");
    let labels = m13.labels();
    assert!(labels[train + 23019], "test_label stays the ground truth");
    assert!(!incident_labels(m13)[train + 23019]);
}

#[test]
fn asd_real_matches_readme() {
    let dir = real("asd");
    let ds = load_asd(&dir).expect("ASD loads");
    assert_eq!(ds.layout, Layout::Asd);
    let names: Vec<String> = ds.series.iter().map(|s| s.name.clone()).collect();
    assert_eq!(
        names,
        (1..=8).map(|i| format!("omi-{i}")).collect::<Vec<_>>()
    );
    for s in &ds.series {
        check_machine_against_files(&dir, s, 19, 300_000);
        // README: train 30 days (8,640 rows), test 15 days (4,320 rows)
        assert_eq!((s.train_end, s.len()), (Some(8_640), 8_640 + 4_320));
        // inclusive ends match test_label exactly
        assert_eq!(incident_labels(s), s.labels(), "{}", s.name);
        assert!(
            s.incidents.iter().all(|i| i.kind.is_some()),
            "{}: every segment has a type",
            s.name
        );
    }
    assert!(ds.warnings.is_empty(), "{:#?}", ds.warnings);
    let anomalous: usize = ds
        .series
        .iter()
        .map(|s| s.labels().iter().filter(|&&l| l).count())
        .sum();
    let share = anomalous as f64 / (8.0 * 4_320.0);
    assert!(
        (share * 100.0 - 3.9).abs() < 0.05,
        "README: 3.9% of test rows; got {share}"
    );
    // anomaly_type.csv: `omi-1,760-765,metric`
    let omi1 = ds.get("omi-1").expect("omi-1");
    assert_eq!(omi1.incidents[0].kind.as_deref(), Some("metric"));
    assert_eq!(
        omi1.incidents[0].end - omi1.incidents[0].start,
        5 * 300_000,
        "ASD ends are inclusive"
    );
    let kinds = lines(&dir.join("anomaly_type.csv")).len() - 1;
    assert_eq!(ds.incident_count(), kinds);
}

/// A two-machine SMD folder: 3 train rows + 4 test rows of 2 columns.
fn mini(dir: &Path, interpretation: &str) {
    for m in ["m-a", "m-b"] {
        write(
            dir,
            &format!("train/{m}.txt"),
            "0.1,0.2\n0.3,0.4\n0.5,0.6\n",
        );
        write(dir, &format!("test/{m}.txt"), "1,2\n3,4\n5,6\n7,8\n");
        write(dir, &format!("test_label/{m}.txt"), "0\n1\n1\n0\n");
        write(
            dir,
            &format!("interpretation_label/{m}.txt"),
            interpretation,
        );
    }
}

#[test]
fn mini_smd_and_asd_differ_only_in_end_convention_and_step() {
    let tmp = tempfile::tempdir().expect("tempdir");
    mini(tmp.path(), "1-3:2\n");
    let smd = load_smd(tmp.path()).expect("loads");
    assert!(smd.warnings.is_empty(), "{:?}", smd.warnings);
    let s = &smd.series[0];
    assert_eq!((s.name.as_str(), s.len(), s.train_end), ("m-a", 7, Some(3)));
    assert_eq!(s.incidents[0].start, 4 * 60_000);
    assert_eq!(s.incidents[0].end, 5 * 60_000);
    assert_eq!(s.incidents[0].channels, vec![1]);

    // read as ASD, `1-3` covers one row more than test_label: warned, labels kept
    write(
        tmp.path(),
        "anomaly_type.csv",
        "dataset,anomaly_segment,anomaly_type\nm-a,1-3,temporal\n",
    );
    let asd = load_asd(tmp.path()).expect("loads");
    let s = &asd.series[0];
    assert_eq!(s.incidents[0].end, 6 * 300_000);
    assert_eq!(s.incidents[0].kind.as_deref(), Some("temporal"));
    assert_eq!(
        s.labels(),
        vec![false, false, false, false, true, true, false]
    );
    let for_a: Vec<_> = asd
        .warnings
        .iter()
        .filter(|w| w.series.as_deref() == Some("m-a"))
        .collect();
    assert_eq!(for_a.len(), 1, "{:?}", asd.warnings);
    // m-b is missing from anomaly_type.csv: one mismatch warning plus one missing-type warning
    let for_b = asd
        .warnings
        .iter()
        .filter(|w| w.series.as_deref() == Some("m-b"))
        .count();
    assert_eq!(for_b, 2, "{:?}", asd.warnings);
}

#[test]
fn missing_interpretation_or_anomaly_types_warn() {
    let tmp = tempfile::tempdir().expect("tempdir");
    mini(tmp.path(), "1-3:1\n");
    std::fs::remove_file(tmp.path().join("interpretation_label/m-b.txt")).expect("remove");
    let ds = load_asd(tmp.path()).expect("loads");
    assert!(ds.get("m-b").expect("m-b").incidents.is_empty());
    assert!(
        ds.warnings
            .iter()
            .any(|w| w.path.ends_with("anomaly_type.csv") && w.message.contains("not found"))
    );
    assert!(
        ds.warnings
            .iter()
            .any(|w| w.path.ends_with("m-b.txt") && w.message.contains("not found"))
    );
}

#[test]
fn empty_file_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    mini(tmp.path(), "1-3:1\n");
    let path = write(tmp.path(), "test/m-b.txt", "");
    let err = load_smd(tmp.path()).expect_err("empty");
    assert!(matches!(err, DatasetError::EmptyFile { .. }), "{err}");
    assert_clear(&err, &path);
}

#[test]
fn non_numeric_value_names_row_and_column() {
    let tmp = tempfile::tempdir().expect("tempdir");
    mini(tmp.path(), "1-3:1\n");
    let path = write(tmp.path(), "train/m-a.txt", "0.1,0.2\n0.3,0.4\n0.5,n/a\n");
    let err = load_smd(tmp.path()).expect_err("bad value");
    match &err {
        DatasetError::BadValue {
            row, column, value, ..
        } => {
            assert_eq!((*row, column.as_str(), value.as_str()), (3, "dim_2", "n/a"));
        }
        other => panic!("unexpected {other}"),
    }
    assert_clear(&err, &path);
}

#[test]
fn ragged_row_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    mini(tmp.path(), "1-3:1\n");
    let path = write(tmp.path(), "test/m-a.txt", "1,2\n3,4\n5,6,7\n7,8\n");
    let err = load_smd(tmp.path()).expect_err("ragged");
    assert!(
        matches!(
            err,
            DatasetError::RaggedRow {
                row: 3,
                expected: 2,
                got: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_clear(&err, &path);
    // a test file whose rows all have another width than train
    let path = write(tmp.path(), "test/m-a.txt", "1\n3\n5\n7\n");
    let err = load_smd(tmp.path()).expect_err("columns");
    assert!(
        matches!(
            err,
            DatasetError::ColumnMismatch {
                expected: 2,
                got: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_clear(&err, &path);
}

#[test]
fn label_count_must_match_test_rows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    mini(tmp.path(), "1-3:1\n");
    let path = write(tmp.path(), "test_label/m-b.txt", "0\n1\n1\n");
    let err = load_smd(tmp.path()).expect_err("label count");
    assert!(
        matches!(
            err,
            DatasetError::LabelCount {
                labels: 3,
                rows: 4,
                ..
            }
        ),
        "{err}"
    );
    assert_clear(&err, &path);
    assert!(
        err.to_string().contains("test/m-b.txt"),
        "names the test file too: {err}"
    );
    let path = write(tmp.path(), "test_label/m-b.txt", "0\n1\nyes\n0\n");
    let err = load_smd(tmp.path()).expect_err("bad label");
    assert!(err.to_string().contains("row 3"), "{err}");
    assert_clear(&err, &path);
}

#[test]
fn interpretation_out_of_bounds_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // 4 test rows: SMD `2-4` is rows 2..=3 (fine), `2-5` reaches row 4 (out of bounds)
    mini(tmp.path(), "1-3:1\n2-5:1\n");
    let err = load_smd(tmp.path()).expect_err("out of bounds");
    assert!(
        matches!(
            err,
            DatasetError::SegmentOutOfBounds {
                line: 2,
                last: 4,
                rows: 4,
                ..
            }
        ),
        "{err}"
    );
    assert_clear(&err, &tmp.path().join("interpretation_label/m-a.txt"));
    // ASD reads `1-4` as rows 1..=4: out of bounds too
    mini(tmp.path(), "1-4:1\n");
    let err = load_asd(tmp.path()).expect_err("out of bounds");
    assert!(
        matches!(
            err,
            DatasetError::SegmentOutOfBounds {
                line: 1,
                last: 4,
                ..
            }
        ),
        "{err}"
    );
    // a dimension beyond the columns
    mini(tmp.path(), "1-3:3\n");
    let err = load_smd(tmp.path()).expect_err("dimension");
    assert!(
        matches!(
            err,
            DatasetError::SegmentDimension {
                dim: 3,
                channels: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn interpretation_reversed_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    mini(tmp.path(), "3-1:1\n");
    let err = load_asd(tmp.path()).expect_err("reversed");
    assert!(
        matches!(err, DatasetError::SegmentReversed { line: 1, .. }),
        "{err}"
    );
    assert_clear(&err, &tmp.path().join("interpretation_label/m-a.txt"));
    mini(tmp.path(), "2-2:1\n");
    let err = load_smd(tmp.path()).expect_err("empty exclusive range");
    assert!(matches!(err, DatasetError::SegmentReversed { .. }), "{err}");
    mini(tmp.path(), "2to3:1\n");
    let err = load_smd(tmp.path()).expect_err("syntax");
    assert!(
        matches!(err, DatasetError::SegmentSyntax { line: 1, .. }),
        "{err}"
    );
}

#[test]
fn missing_parts_are_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    mini(tmp.path(), "1-3:1\n");
    std::fs::remove_file(tmp.path().join("test/m-b.txt")).expect("remove");
    let err = load_smd(tmp.path()).expect_err("no test file");
    assert!(matches!(err, DatasetError::MissingFile { .. }), "{err}");
    assert!(err.to_string().contains("test/m-b.txt"), "{err}");
    assert_clear(&err, &tmp.path().join("train/m-b.txt"));

    mini(tmp.path(), "1-3:1\n");
    std::fs::remove_file(tmp.path().join("test_label/m-a.txt")).expect("remove");
    let err = load_smd(tmp.path()).expect_err("no labels");
    assert!(
        err.to_string().contains("test_label/m-a.txt is missing"),
        "{err}"
    );

    let empty = tempfile::tempdir().expect("tempdir");
    let err = load_smd(empty.path()).expect_err("no train folder");
    assert!(matches!(err, DatasetError::Io { .. }), "{err}");
    assert_clear(&err, &empty.path().join("train"));
    std::fs::create_dir_all(empty.path().join("train")).expect("mkdir");
    std::fs::create_dir_all(empty.path().join("test")).expect("mkdir");
    let err = load_smd(empty.path()).expect_err("no machines");
    assert!(err.to_string().contains("holds no"), "{err}");
}
