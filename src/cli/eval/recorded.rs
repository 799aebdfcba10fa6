//! `vigil eval` at recorded thresholds: the files `vigil run --scores` (or `vigil score`)
//! wrote hold, per row, the threshold the run applied and the part the row belongs to; the
//! test part is evaluated at that threshold, nothing is refitted, and the metrics are
//! averaged over series as the leaderboard averages them (or pooled as one corpus), so the
//! run's leaderboard numbers come back.

use std::io::Write;
use std::ops::Range;
use std::process::ExitCode;

use anyhow::{Result, bail};
use serde_json::json;
use vigil_eval::{EvalConfig, EvalSeries, Window, windows_in};
use vigil_experiments::yardstick::{self, Measured};

use super::input::ScoreSeries;
use super::{Average, EvalArgs};

/// One series' parts at its recorded threshold.
struct Parts<'a> {
    name: &'a str,
    threshold: f64,
    validation: Range<usize>,
    test: Range<usize>,
    validation_windows: Vec<Window>,
    test_windows: Vec<Window>,
}

/// The contiguous rows of `part` (empty when none); an error when they are not contiguous.
fn rows_of(s: &ScoreSeries, parts: &[String], part: &str) -> Result<Range<usize>> {
    let first = parts.iter().position(|p| p == part);
    let last = parts.iter().rposition(|p| p == part);
    match (first, last) {
        (Some(a), Some(b)) => {
            if parts[a..=b].iter().any(|p| p != part) {
                bail!(
                    "{}: the `{part}` rows are not contiguous; hint: the `part` column must hold \
                     each part as one run of rows, as `vigil run --scores` writes it",
                    s.name
                );
            }
            Ok(a..b + 1)
        }
        _ => Ok(0..0),
    }
}

fn parts<'a>(s: &'a ScoreSeries, windows: &[Window]) -> Result<Parts<'a>> {
    let (Some(thresholds), Some(part)) = (&s.threshold, &s.part) else {
        bail!(
            "{}: --threshold recorded needs the `threshold` and `part` columns; hint: evaluate \
             files written by `vigil run --scores`, or pass another --threshold policy",
            s.name
        );
    };
    let test = rows_of(s, part, "test")?;
    if test.is_empty() {
        bail!(
            "{}: no `part = test` rows; hint: the recorded thresholds are evaluated on the test \
             part",
            s.name
        );
    }
    let threshold = thresholds[test.start];
    let same = |t: &f64| t.to_bits() == threshold.to_bits() || (t.is_nan() && threshold.is_nan());
    if !thresholds[test.clone()].iter().all(same) {
        bail!(
            "{}: the `threshold` column changes within the test part; hint: one threshold per \
             series, as `vigil run --scores` writes",
            s.name
        );
    }
    if let Some(detected) = &s.detected {
        let disagree = test
            .clone()
            .filter(|&r| detected[r] != (s.scores[r] >= threshold))
            .count();
        if disagree > 0 {
            bail!(
                "{}: {disagree} test rows have a `detected` value that is not score >= \
                 threshold; hint: the file was edited, or its scores and thresholds do not \
                 belong together",
                s.name
            );
        }
    }
    let validation = rows_of(s, part, "validation")?;
    Ok(Parts {
        name: &s.name,
        threshold,
        validation_windows: if validation.is_empty() {
            Vec::new()
        } else {
            windows_in(windows, &validation)
        },
        test_windows: windows_in(windows, &test),
        validation,
        test,
    })
}

fn view<'a>(s: &'a ScoreSeries, rows: &Range<usize>, windows: &'a [Window]) -> EvalSeries<'a> {
    EvalSeries {
        scores: &s.scores[rows.clone()],
        windows,
        timestamps: &s.timestamps[rows.clone()],
        incident_severities: None,
    }
}

/// Evaluates every series' test part at its recorded threshold and prints the metrics.
pub(super) fn run(
    args: &EvalArgs,
    series: &[ScoreSeries],
    windows: &[Vec<Window>],
    config: EvalConfig,
    average: Average,
) -> Result<ExitCode> {
    let parts: Vec<Parts<'_>> = series
        .iter()
        .zip(windows)
        .map(|(s, w)| parts(s, w))
        .collect::<Result<_>>()?;
    let measured: Vec<yardstick::Part<'_>> = series
        .iter()
        .zip(&parts)
        .map(|(s, p)| yardstick::Part {
            key: p.name.to_string(),
            validation: (!p.validation.is_empty())
                .then(|| view(s, &p.validation, &p.validation_windows)),
            test: view(s, &p.test, &p.test_windows),
            threshold: p.threshold,
        })
        .collect();
    let how = match average {
        Average::Series => yardstick::Average::Series,
        Average::Pooled => yardstick::Average::Pooled,
    };
    let Measured {
        metrics,
        per_series,
    } = yardstick::at_thresholds(&measured, &config, how)?;
    let mut out = std::io::stdout().lock();
    let average_name = match average {
        Average::Series => "series",
        Average::Pooled => "pooled",
    };
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &json!({
                "threshold": "recorded",
                "average": average_name,
                "series": parts.len(),
                "test_rows": parts.iter().map(|p| p.test.len()).sum::<usize>(),
                "metrics": metrics,
                "per_series": per_series,
            }),
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "vigil eval: {} series at their recorded thresholds, test rows only, averaged: {average_name}\n",
            parts.len()
        )?;
        for (k, v) in &metrics {
            writeln!(out, "{k:<34}{v:>12.4}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(part: &[&str], detected: &[bool]) -> ScoreSeries {
        let n = part.len();
        ScoreSeries {
            name: "s".into(),
            timestamps: (0..n as i64).map(|t| t * 60_000).collect(),
            scores: (0..n).map(|i| i as f64).collect(),
            threshold: Some(vec![2.0; n]),
            part: Some(part.iter().map(|p| p.to_string()).collect()),
            detected: Some(detected.to_vec()),
            label: None,
        }
    }

    #[test]
    fn the_test_part_is_evaluated_at_its_recorded_threshold() {
        let s = series(
            &["train", "validation", "test", "test"],
            &[false, false, true, true],
        );
        let p = parts(&s, &[Window::new(3, 3)]).expect("parts");
        assert_eq!(
            (p.validation, p.test.clone(), p.threshold),
            (1..2, 2..4, 2.0)
        );
        assert_eq!(p.test_windows, vec![Window::new(1, 1)]);
        assert!(p.validation_windows.is_empty());
    }

    #[test]
    fn inconsistent_files_are_refused_with_the_reason() {
        let scattered = series(&["test", "train", "test"], &[false, false, true]);
        let err = parts(&scattered, &[])
            .err()
            .expect("not contiguous")
            .to_string();
        assert!(err.contains("not contiguous"), "{err}");
        let edited = series(&["train", "test", "test"], &[false, true, true]);
        let err = parts(&edited, &[]).err().expect("edited").to_string();
        assert!(err.contains("`detected`"), "{err}");
        let none = series(&["train", "validation"], &[false, false]);
        assert!(parts(&none, &[]).is_err());
    }
}
