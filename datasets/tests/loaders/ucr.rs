//! UCR anomaly archive: the 51 real series against `index.csv`, and the bad-input rules.

use vigil_datasets::{DatasetError, Layout, load_ucr};

use crate::rowbased_fixtures::{assert_clear, lines, real, write};

#[test]
fn ucr_real_matches_index_csv() {
    let dir = real("ucr");
    let ds = load_ucr(&dir).expect("UCR loads");
    assert_eq!(ds.layout, Layout::Ucr);
    assert_eq!(ds.series.len(), 51);
    assert!(ds.warnings.is_empty(), "{:#?}", ds.warnings);
    let index = lines(&dir.join("index.csv"));
    assert_eq!(
        index[0],
        "file,id,name,family,length,train_end,anomaly_start,anomaly_end"
    );
    assert_eq!(index.len() - 1, 51);
    for row in &index[1..] {
        let cells: Vec<&str> = row.split(',').collect();
        let num = |i: usize| -> usize { cells[i].parse().expect("index.csv number") };
        let stem = cells[0].strip_suffix(".txt").expect(".txt");
        let s = ds.get(stem).unwrap_or_else(|| panic!("{stem} not loaded"));
        assert_eq!(s.len(), num(4), "{stem} length");
        assert_eq!(s.train_end, Some(num(5)), "{stem} train_end");
        assert_eq!(s.columns, vec!["value".to_string()]);
        assert_eq!(s.incidents.len(), 1, "{stem}: exactly one anomaly");
        // x[anomaly_start:anomaly_end], half-open
        assert_eq!(
            s.incident_row_ranges(),
            vec![(num(6), num(7) - 1)],
            "{stem} anomaly rows"
        );
        assert_eq!(s.timestamps[1] - s.timestamps[0], 1_000);
        assert!(s.values.iter().all(|v| v.is_finite()), "{stem}");
    }
    let names: Vec<&str> = ds.series.iter().map(|s| s.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "series sorted by name");
    // the first value of the first file, parsed here independently
    let first = &ds.series[0];
    let text = lines(&dir.join(format!("{}.txt", first.name)));
    assert_eq!(
        first.values[[0, 0]],
        text[0].trim().parse::<f64>().expect("number")
    );
    assert_eq!(ds.row_count(), 1_641_191, "sum of index.csv lengths");
}

#[test]
fn single_file_loads_as_one_series() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = write(
        tmp.path(),
        "001_UCR_Anomaly_Tiny_3_5_7.txt",
        "1\n2\n3\n  4.5e+00\n5\n6\n7\n8\n",
    );
    let ds = load_ucr(&path).expect("loads");
    assert_eq!(ds.name, "001_UCR_Anomaly_Tiny_3_5_7");
    let s = &ds.series[0];
    assert_eq!((s.len(), s.train_end), (8, Some(3)));
    assert_eq!(s.values[[3, 0]], 4.5);
    assert_eq!(s.incident_row_ranges(), vec![(5, 6)]);
    assert_eq!(
        s.labels(),
        vec![false, false, false, false, false, true, true, false]
    );
}

#[test]
fn name_without_labels_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = write(tmp.path(), "series.txt", "1\n2\n");
    let err = load_ucr(&path).expect_err("no labels");
    assert!(matches!(err, DatasetError::UcrName { .. }), "{err}");
    assert_clear(&err, &path);
    // in a folder, a file that claims to be UCR but lacks a number fails; others are ignored
    write(tmp.path(), "ATTRIBUTION.txt", "not data\n");
    let path = write(tmp.path(), "002_UCR_Anomaly_Tiny_3_5.txt", "1\n2\n");
    let err = load_ucr(tmp.path()).expect_err("two numbers only");
    assert!(matches!(err, DatasetError::UcrName { .. }), "{err}");
    assert_clear(&err, &path);
}

#[test]
fn labels_that_do_not_fit_the_series_are_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let values = "1\n2\n3\n4\n5\n6\n";
    for (name, needle) in [
        ("1_UCR_Anomaly_X_2_4_7.txt", "past the end"),
        ("2_UCR_Anomaly_X_2_4_4.txt", "not before"),
        ("3_UCR_Anomaly_X_2_5_3.txt", "not before"),
        ("4_UCR_Anomaly_X_5_4_6.txt", "after anomStart"),
        ("5_UCR_Anomaly_X_0_4_6.txt", "no training prefix"),
    ] {
        let path = write(tmp.path(), name, values);
        let err = load_ucr(&path).expect_err(name);
        assert!(
            matches!(err, DatasetError::UcrLabels { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(needle), "{name}: {err}");
        assert_clear(&err, &path);
    }
}

#[test]
fn empty_file_and_bad_value_are_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = write(tmp.path(), "1_UCR_Anomaly_X_1_2_3.txt", "\n\n");
    let err = load_ucr(&path).expect_err("empty");
    assert!(matches!(err, DatasetError::EmptyFile { .. }), "{err}");
    assert_clear(&err, &path);
    let path = write(
        tmp.path(),
        "1_UCR_Anomaly_X_1_2_3.txt",
        "1.0\n2.0\n3,0\n4.0\n",
    );
    let err = load_ucr(&path).expect_err("bad value");
    match &err {
        DatasetError::BadValue { row, value, .. } => assert_eq!((*row, value.as_str()), (3, "3,0")),
        other => panic!("unexpected {other}"),
    }
    assert_clear(&err, &path);
}

#[test]
fn folder_without_ucr_files_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "index.csv", "file\n");
    let err = load_ucr(tmp.path()).expect_err("no files");
    assert!(err.to_string().contains("holds no"), "{err}");
    assert_clear(&err, tmp.path());
}

#[test]
fn index_csv_disagreements_are_warnings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        tmp.path(),
        "001_UCR_Anomaly_A_2_3_5.txt",
        "1\n2\n3\n4\n5\n6\n",
    );
    write(
        tmp.path(),
        "index.csv",
        "file,id,name,family,length,train_end,anomaly_start,anomaly_end\n\
         001_UCR_Anomaly_A_2_3_5.txt,1,A,A,7,2,3,5\n\
         009_UCR_Anomaly_B_2_3_5.txt,9,B,B,7,2,3,5\n",
    );
    let ds = load_ucr(tmp.path()).expect("loads");
    assert_eq!(ds.warnings.len(), 2, "{:#?}", ds.warnings);
    assert!(
        ds.warnings[0].message.contains("length"),
        "{:?}",
        ds.warnings[0]
    );
    assert!(
        ds.warnings[1].message.contains("not loaded"),
        "{:?}",
        ds.warnings[1]
    );
}
