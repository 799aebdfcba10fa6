//! The NAB layout on the real corpus, checked against NAB's own per-row labels.

use std::collections::BTreeMap;

use vigil_datasets::{Layout, load_nab, load_nab_with_windows, parse_timestamp};

use super::common::{assert_names_file_and_hint, error_text, nab_dir, tempdir, write};

#[test]
fn all_of_nab_loads_with_its_windows() {
    let dataset = load_nab(&nab_dir()).expect("NAB loads");
    assert_eq!(dataset.layout, Layout::Nab);
    assert_eq!(dataset.source, nab_dir().display().to_string());
    assert_eq!(dataset.series.len(), 31);
    assert_eq!(dataset.incident_count(), 53);
    let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
    for series in &dataset.series {
        *per_category
            .entry(series.name.split('/').next().unwrap_or(""))
            .or_default() += 1;
        assert_eq!(series.columns, vec!["value"]);
        assert_eq!(series.nan_count(), 0, "{}", series.name);
        assert!(
            (1127..=22695).contains(&series.len()),
            "{} has {} rows",
            series.name,
            series.len()
        );
    }
    let expected: BTreeMap<&str, usize> = [
        ("artificialNoAnomaly", 5),
        ("artificialWithAnomaly", 6),
        ("realAdExchange", 6),
        ("realKnownCause", 7),
        ("realTraffic", 7),
    ]
    .into_iter()
    .collect();
    assert_eq!(per_category, expected);
    let names: Vec<&str> = dataset.series.iter().map(|s| s.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "series are sorted by name");
    assert!(
        dataset
            .series
            .iter()
            .filter(|s| s.name.starts_with("artificialNoAnomaly/"))
            .all(|s| s.incidents.is_empty())
    );
}

#[test]
fn known_facts_of_nyc_taxi() {
    let dataset = load_nab(&nab_dir()).expect("NAB loads");
    let taxi = dataset
        .get("realKnownCause/nyc_taxi.csv")
        .expect("nyc_taxi");
    assert_eq!(taxi.len(), 10_320);
    assert!(
        taxi.timestamps
            .windows(2)
            .all(|w| w[1] - w[0] == 30 * 60 * 1000),
        "a 30-minute step throughout"
    );
    assert_eq!(
        taxi.timestamps[0],
        parse_timestamp("2014-07-01 00:00:00").expect("valid")
    );
    assert_eq!(taxi.values[[0, 0]], 10844.0);
    assert_eq!(taxi.values[[1, 0]], 8127.0);
    assert_eq!(taxi.incidents.len(), 5);
    assert_eq!(
        taxi.incidents[0].start,
        parse_timestamp("2014-10-30 15:30:00").expect("valid")
    );
}

#[test]
fn duplicate_and_backward_timestamps_give_warnings() {
    let dataset = load_nab(&nab_dir()).expect("NAB loads");
    let warned: Vec<&str> = dataset
        .warnings
        .iter()
        .filter_map(|w| w.series.as_deref())
        .collect();
    assert_eq!(
        warned,
        vec![
            "realAdExchange/exchange-2_cpc_results.csv",
            "realAdExchange/exchange-2_cpm_results.csv",
            "realKnownCause/ec2_request_latency_system_failure.csv",
            "realKnownCause/machine_temperature_system_failure.csv",
            "realTraffic/occupancy_t4013.csv",
            "realTraffic/speed_t4013.csv",
        ]
    );
    let message = |series: &str| {
        dataset
            .warnings
            .iter()
            .find(|w| w.series.as_deref() == Some(series))
            .map(|w| w.message.clone())
            .unwrap_or_default()
    };
    let ec2 = message("realKnownCause/ec2_request_latency_system_failure.csv");
    assert!(
        ec2.starts_with(
            "11 duplicate timestamp(s): row 558 repeats 2014-03-09T03:00:00.000Z of row 557"
        ),
        "{ec2}"
    );
    let machine = message("realKnownCause/machine_temperature_system_failure.csv");
    assert!(
        machine.contains("1 step(s) back in time: row 10150 (2014-01-07T02:00:00.000Z) is before row 10149 (2014-01-07T02:55:00.000Z)"),
        "{machine}"
    );
    // The rows stay in file order.
    let ec2 = dataset
        .get("realKnownCause/ec2_request_latency_system_failure.csv")
        .expect("ec2");
    assert_eq!(ec2.len(), 4032);
    assert_eq!(ec2.timestamps[556], ec2.timestamps[557]);
    assert_eq!(ec2.values[[557, 0]], 43.578);
    let machine = dataset
        .get("realKnownCause/machine_temperature_system_failure.csv")
        .expect("machine");
    assert!(machine.timestamps[10149] < machine.timestamps[10148]);
}

/// Every file's rows inside windows equal the `label` column that NAB itself wrote.
#[test]
fn window_rows_match_nab_reference_labels() {
    let dir = nab_dir();
    let dataset = load_nab(&dir).expect("NAB loads");
    let mut labelled_rows = 0;
    for series in &dataset.series {
        let (category, file) = series.name.split_once('/').expect("category/file key");
        let reference = dir
            .join("reference/results/null")
            .join(category)
            .join(format!("null_{file}"));
        let text = std::fs::read_to_string(&reference)
            .unwrap_or_else(|e| panic!("{}: {e}", reference.display()));
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let label_column = header
            .iter()
            .position(|h| *h == "label")
            .expect("label column");
        let expected: Vec<bool> = lines
            .map(|line| line.split(',').nth(label_column) == Some("1"))
            .collect();
        let mut got = vec![false; series.len()];
        for incident in &series.incidents {
            let (first, last) = series
                .incident_rows(incident)
                .expect("every NAB window covers rows");
            got[first..=last].iter_mut().for_each(|l| *l = true);
        }
        assert_eq!(got.len(), expected.len(), "{}", series.name);
        let differing = got.iter().zip(&expected).filter(|(a, b)| a != b).count();
        assert_eq!(
            differing, 0,
            "{}: {differing} rows differ from NAB's labels",
            series.name
        );
        assert_eq!(series.labels(), expected, "{}", series.name);
        labelled_rows += expected.iter().filter(|&&l| l).count();
    }
    assert!(
        labelled_rows > 10_000,
        "the check covered {labelled_rows} labelled rows"
    );
}

#[test]
fn the_tiny_windows_file_loads_its_two_files() {
    let dir = nab_dir();
    let dataset = load_nab_with_windows(&dir, &dir.join("labels/combined_windows_tiny.json"))
        .expect("tiny loads");
    assert_eq!(dataset.series.len(), 2);
    let skipped = dataset
        .warnings
        .iter()
        .find(|w| w.series.is_none())
        .map(|w| w.message.clone())
        .unwrap_or_default();
    assert!(
        skipped.starts_with("29 data file(s) are not in the windows file and were skipped"),
        "{skipped}"
    );
}

#[test]
fn bad_nab_folders_are_errors() {
    let dir = tempdir();
    let message = error_text(load_nab(dir.path()));
    assert!(message.contains("no data/ folder"), "{message}");
    assert_names_file_and_hint(&message, dir.path());

    std::fs::create_dir_all(dir.path().join("data/cat")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("labels")).expect("mkdir");
    write(
        &dir.path().join("data/cat"),
        "a.csv",
        "timestamp,value\n2014-01-01 00:00:00,1\n",
    );
    let windows = write(
        &dir.path().join("labels"),
        "combined_windows.json",
        r#"{"cat/a.csv": [], "cat/b.csv": []}"#,
    );
    let message = error_text(load_nab(dir.path()));
    assert!(
        message.contains("key \"cat/b.csv\" names no file under"),
        "{message}"
    );
    assert_names_file_and_hint(&message, &windows);

    let windows = write(
        &dir.path().join("labels"),
        "combined_windows.json",
        r#"{"cat/a.csv": [["2014-01-02 00:00:00.000000", "2014-01-01 00:00:00.000000"]]}"#,
    );
    let message = error_text(load_nab(dir.path()));
    assert!(
        message.contains("incident 1 for series \"cat/a.csv\" ends"),
        "{message}"
    );
    assert_names_file_and_hint(&message, &windows);
}
