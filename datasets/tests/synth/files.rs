//! `write_synth` writes files that read back to the same dataset.

use std::path::Path;

use ndarray::Array2;
use vigil_datasets::synth::{SynthConfig, write_synth};
use vigil_datasets::{Dataset, Incident, Layout, Series};

use super::{config, gen_ok};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse_ts(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s:?}: {e}"))
        .timestamp_millis()
}

/// An independent reader of the written format (the generic loader's is tested on its own).
fn read_back(dir: &Path, names: &[&str]) -> Dataset {
    let mut series: Vec<Series> = names
        .iter()
        .map(|name| {
            let text = read(&dir.join(format!("{name}.csv")));
            let mut lines = text.lines();
            assert_eq!(lines.next(), Some("timestamp,value"));
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            for line in lines {
                let (t, v) = line.split_once(',').unwrap_or_else(|| panic!("{line:?}"));
                ts.push(parse_ts(t));
                vs.push(if v.is_empty() {
                    f64::NAN
                } else {
                    v.parse().unwrap_or_else(|e| panic!("{v:?}: {e}"))
                });
            }
            let n = ts.len();
            Series::new(
                *name,
                ts,
                vec!["value".into()],
                Array2::from_shape_vec((n, 1), vs).expect("shape"),
            )
        })
        .collect();
    let labels = read(&dir.join("labels.csv"));
    let mut lines = labels.lines();
    assert_eq!(lines.next(), Some("series,start,end,kind,severity"));
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 5, "{line:?}");
        let s = series
            .iter_mut()
            .find(|s| s.name == f[0])
            .expect("labelled series exists");
        s.incidents.push(Incident {
            start: parse_ts(f[1]),
            end: parse_ts(f[2]),
            kind: Some(f[3].to_owned()),
            severity: Some(f[4].to_owned()),
            channels: Vec::new(),
        });
    }
    Dataset {
        name: "read".into(),
        layout: Layout::Generic,
        source: dir.display().to_string(),
        series,
        warnings: Vec::new(),
    }
}

#[test]
fn written_files_read_back_to_the_same_fingerprint() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("out/synth-7");
    let cfg = config(7);
    let ds = gen_ok(&cfg);
    write_synth(&ds, &cfg, &dir).expect("write");

    let names: Vec<&str> = ds.series.iter().map(|s| s.name.as_str()).collect();
    let back = read_back(&dir, &names);
    assert_eq!(back.fingerprint(), ds.fingerprint());
    for (a, b) in ds.series.iter().zip(&back.series) {
        assert_eq!(a.incidents, b.incidents, "{}", a.name);
    }

    let rate = read(&dir.join("request_rate.csv"));
    let second = rate.lines().nth(2).expect("row 2");
    assert!(second.starts_with("2026-01-05T00:05:00.000Z,"), "{second}");
    let gaps = ds.series.iter().map(|s| s.nan_count()).sum::<usize>();
    let empty_cells = names
        .iter()
        .map(|n| {
            read(&dir.join(format!("{n}.csv")))
                .lines()
                .filter(|l| l.ends_with(','))
                .count()
        })
        .sum::<usize>();
    assert!(gaps > 0);
    assert_eq!(empty_cells, gaps, "every NaN is an empty cell");

    let written: SynthConfig =
        serde_json::from_str(&read(&dir.join("synth.json"))).expect("synth.json");
    assert_eq!(written, cfg);
    assert_eq!(
        gen_ok(&written).fingerprint(),
        ds.fingerprint(),
        "synth.json regenerates the dataset"
    );

    let mut entries: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "cpu_utilisation.csv",
            "error_rate.csv",
            "labels.csv",
            "latency_p99_ms.csv",
            "memory_bytes.csv",
            "request_rate.csv",
            "synth.json"
        ],
        "no temporary files are left behind"
    );

    // Writing again replaces the files in place.
    let other = gen_ok(&config(8));
    write_synth(&other, &config(8), &dir).expect("rewrite");
    assert_eq!(read_back(&dir, &names).fingerprint(), other.fingerprint());
}

#[test]
fn unwritable_names_and_paths_are_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = config(1);
    let mut ds = gen_ok(&cfg);
    ds.series[0].name = "../escape".into();
    let err = write_synth(&ds, &cfg, tmp.path()).expect_err("bad name");
    assert!(
        err.to_string().contains("../escape") && err.to_string().contains("hint:"),
        "{err}"
    );

    let mut ds = gen_ok(&cfg);
    ds.series[1].columns[0] = "timestamp".into();
    let err = write_synth(&ds, &cfg, tmp.path()).expect_err("column clash");
    assert!(err.to_string().contains("\"timestamp\""), "{err}");

    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").expect("write");
    let err = write_synth(&gen_ok(&cfg), &cfg, &file.join("sub")).expect_err("parent is a file");
    assert!(err.to_string().contains("a-file"), "{err}");
}

#[test]
fn the_generic_loader_reads_the_written_folder_back_identically() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for seed in [7, 8] {
        let dir = tmp.path().join(format!("synth-{seed}"));
        let cfg = config(seed);
        let ds = gen_ok(&cfg);
        write_synth(&ds, &cfg, &dir).expect("write");
        let back = vigil_datasets::load_generic(&dir, &vigil_datasets::GenericOptions::default())
            .unwrap_or_else(|e| panic!("load_generic: {e}"));
        assert_eq!(back.fingerprint(), ds.fingerprint(), "seed {seed}");
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        let names = |d: &Dataset| d.series.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&back), names(&ds));
        for (a, b) in ds.series.iter().zip(&back.series) {
            assert_eq!(a.incidents, b.incidents, "seed {seed} {}", a.name);
            assert_eq!(a.nan_count(), b.nan_count());
        }
    }
}
