//! ARTime on the 31 NAB files under NAB's protocol (fit on each file's probationary period,
//! score the whole file, one corpus threshold per profile by vigil-eval's exact search), with
//! ARTime's published defaults, two ways:
//! - NAB's setting: the whole file's min and max as the range (it sees the future, so it is a
//!   reproduction, not a deployable detector);
//! - the causal default: the probationary rows' range widened by 10 % each side.
//!
//! Prints the corpus scores and the per-category scores beside HTM's (`numenta`, from NAB's
//! own per-file tables in the reference folder), with
//! `cargo test -p vigil-train --test main -- artime_nab --nocapture`. ARTime publishes only
//! full-corpus figures (74.9 / 73.1 / 78.3 standard / low-FP / low-FN on NAB's 58 files), so the
//! numbers here are this port's own on the 31-file subset.

use std::collections::BTreeMap;
use std::time::Instant;

use vigil_datasets::{Dataset, Series, load_nab, probationary_rows};
use vigil_eval::Window;
use vigil_eval::nab::{NabProfile, NabSearchResult, NabSeries, search_thresholds};
use vigil_train::DetectorSpec;
use vigil_train::detectors::artime::ArtimeParams;

use crate::common::shared_datasets;

/// NAB's categories of the 31 files, in table order.
const CATEGORIES: [&str; 5] = [
    "artificialNoAnomaly",
    "artificialWithAnomaly",
    "realAdExchange",
    "realKnownCause",
    "realTraffic",
];

/// The best corpus threshold per profile for `spec_for(file)` fitted on each file's
/// probationary rows.
fn search(spec_for: impl Fn(&Series) -> DetectorSpec, dataset: &Dataset) -> Vec<NabSearchResult> {
    let mut scores = Vec::new();
    let mut windows = Vec::new();
    for series in &dataset.series {
        let train = series.slice_rows(0, probationary_rows(series.len()));
        let model = spec_for(series)
            .fit(&train)
            .unwrap_or_else(|e| panic!("fitting on {}: {e}", series.name));
        let values = model
            .score(series)
            .unwrap_or_else(|e| panic!("scoring {}: {e}", series.name))
            .values;
        assert!(values.iter().all(|v| (0.0..=1.0).contains(v)));
        scores.push(values);
        windows.push(
            series
                .incident_row_ranges()
                .into_iter()
                .map(|(first, last)| Window::new(first, last))
                .collect::<Vec<_>>(),
        );
    }
    let corpus: Vec<NabSeries<'_>> = scores
        .iter()
        .zip(&windows)
        .map(|(s, w)| NabSeries::new(s, w).expect("a NAB series"))
        .collect();
    search_thresholds(&corpus, &NabProfile::ALL)
}

/// A category's score: normalised over its windows, or the raw sum (the false-positive cost)
/// when it has none.
fn category_score(raw: f64, windows: usize, profile: NabProfile) -> f64 {
    let costs = profile.costs();
    if windows == 0 {
        return raw;
    }
    let null = -costs.fn_weight * windows as f64;
    let perfect = costs.tp_weight * windows as f64;
    100.0 * (raw - null) / (perfect - null)
}

fn category(name: &str) -> &str {
    name.split('/').next().unwrap_or(name)
}

/// Per category and profile, ARTime's scores at the corpus thresholds in `results`.
fn per_category(results: &[NabSearchResult], dataset: &Dataset) -> BTreeMap<String, [f64; 3]> {
    let mut out = BTreeMap::new();
    for cat in CATEGORIES {
        let mut row = [0.0; 3];
        for (slot, result) in row.iter_mut().zip(results) {
            let (raw, windows) = dataset
                .series
                .iter()
                .zip(&result.score.series)
                .filter(|(s, _)| category(&s.name) == cat)
                .fold((0.0, 0), |(raw, w), (s, r)| {
                    (raw + r.score, w + s.incident_row_ranges().len())
                });
            *slot = category_score(raw, windows, result.profile);
        }
        out.insert(cat.to_string(), row);
    }
    out
}

/// HTM's (`numenta`) per-category scores from NAB's per-file tables at NAB's thresholds, and
/// its corpus score under `"corpus"`.
fn htm_per_category(dataset: &Dataset) -> BTreeMap<String, [f64; 3]> {
    let windows: BTreeMap<&str, usize> = dataset
        .series
        .iter()
        .map(|s| (s.name.as_str(), s.incident_row_ranges().len()))
        .collect();
    let mut out: BTreeMap<String, [f64; 3]> = BTreeMap::new();
    for (k, profile) in NabProfile::ALL.iter().enumerate() {
        let path = shared_datasets().join(format!(
            "nab/reference/results/numenta/numenta_{}_scores.csv",
            profile.name()
        ));
        let text = std::fs::read_to_string(&path).expect("HTM's score table");
        let mut sums: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            let Some(&w) = windows.get(fields[2]) else {
                continue;
            };
            let entry = sums.entry(category(fields[2])).or_default();
            entry.0 += fields[4].parse::<f64>().expect("a score");
            entry.1 += w;
        }
        let (total, total_windows) = sums
            .values()
            .fold((0.0, 0), |(r, w), (raw, windows)| (r + raw, w + windows));
        out.entry("corpus".to_string()).or_default()[k] =
            category_score(total, total_windows, *profile);
        for (cat, (raw, w)) in sums {
            out.entry(cat.to_string()).or_default()[k] = category_score(raw, w, *profile);
        }
    }
    out
}

/// Normalised corpus scores (standard, low FP, low FN).
fn corpus(results: &[NabSearchResult]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (slot, r) in out.iter_mut().zip(results) {
        *slot = r.normalised.expect("the corpus has windows");
    }
    out
}

#[test]
fn artime_on_nab_with_the_whole_file_range_and_with_the_probationary_range() {
    let dataset = load_nab(&shared_datasets().join("nab")).expect("NAB loads");
    assert_eq!(dataset.series.len(), 31);
    let whole_file = |series: &Series| {
        let column = series.values.column(0);
        let min = column.iter().copied().fold(f64::INFINITY, f64::min);
        let max = column.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        DetectorSpec::Artime(ArtimeParams::default().with_range(min, max))
    };
    let started = Instant::now();
    let given = search(whole_file, &dataset);
    let given_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let causal = search(|_| DetectorSpec::Artime(ArtimeParams::default()), &dataset);
    let causal_seconds = started.elapsed().as_secs_f64();
    let (given_corpus, causal_corpus) = (corpus(&given), corpus(&causal));
    let htm = htm_per_category(&dataset);

    println!("| ARTime (defaults) | standard | low FP | low FN | thresholds | seconds |");
    println!("|---|---|---|---|---|---|");
    let rows = [
        ("whole-file range (NAB's protocol)", &given, given_seconds),
        (
            "probationary range + 10 % (causal default)",
            &causal,
            causal_seconds,
        ),
    ];
    for (what, results, seconds) in rows {
        let scores = corpus(results);
        let thresholds: Vec<String> = results
            .iter()
            .map(|r| format!("{:.4}", r.threshold))
            .collect();
        println!(
            "| {what} | {:.1} | {:.1} | {:.1} | {} | {seconds:.1} |",
            scores[0],
            scores[1],
            scores[2],
            thresholds.join(" / ")
        );
    }
    let h = htm["corpus"];
    println!(
        "| HTM (NAB's tables) | {:.1} | {:.1} | {:.1} | NAB's | |",
        h[0], h[1], h[2]
    );

    let (given_cats, causal_cats) = (
        per_category(&given, &dataset),
        per_category(&causal, &dataset),
    );
    println!(
        "\n| category: standard / low FP / low FN | ARTime whole-file | ARTime causal | HTM |"
    );
    println!("|---|---|---|---|");
    let fmt = |v: &[f64; 3]| format!("{:.1} / {:.1} / {:.1}", v[0], v[1], v[2]);
    for cat in CATEGORIES {
        println!(
            "| {cat} | {} | {} | {} |",
            fmt(&given_cats[cat]),
            fmt(&causal_cats[cat]),
            fmt(&htm[cat])
        );
    }
    println!("(artificialNoAnomaly has no windows: its cells are the raw false-positive cost)");

    for scores in [given_corpus, causal_corpus] {
        assert!(
            scores.iter().all(|s| (0.0..=100.0).contains(s)),
            "{scores:?}"
        );
    }
    // HTM's own table gives the 69.5 / 62.9 / 74.0 that train/README.md quotes.
    assert!(
        (htm["corpus"][0] - 69.5).abs() < 0.05,
        "HTM: {:?}",
        htm["corpus"]
    );
    // Regression guards a point under the measured 73.5 / 65.6 / 78.6 (NAB's protocol, above
    // HTM's 69.5 standard) and 60.2 / 51.5 / 65.9 (causal).
    assert!(
        given_corpus[0] >= 72.5,
        "whole-file range: {given_corpus:?}"
    );
    assert!(
        given_corpus[2] >= 77.5,
        "whole-file range: {given_corpus:?}"
    );
    assert!(
        causal_corpus[0] >= 59.0,
        "probationary range: {causal_corpus:?}"
    );
}
