//! Comparing a gate evaluation with its baseline.
//!
//! Every difference is oriented so that positive is better (false alarms and delays: lower is
//! better). A watch with an absolute tolerance fails when the dataset aggregate (or, with
//! `scope = "series"`, any series) gets worse by more than the tolerance. A watch with an
//! interval fails only when the whole confidence interval of the mean paired per-series
//! difference lies below `-tolerance`, so one noisy series does not fail the build while a
//! regression across series does.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::spec::{GateSpec, Interval, Scope, Watch};
use super::{EntryResults, GateResults};
use crate::error::{ExperimentError, Result};
use crate::metrics::MetricName;

/// Changes smaller than this are rounding, not changes.
const EPS: f64 = 1e-9;

/// What one check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Unchanged.
    Same,
    /// Better than the baseline.
    Better,
    /// Worse, but within the tolerance (or the interval reaches the tolerance).
    WorseWithin,
    /// Worse beyond the tolerance: the gate fails.
    Fail,
}

impl Verdict {
    /// A short word for tables.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Same => "same",
            Verdict::Better => "better",
            Verdict::WorseWithin => "worse (ok)",
            Verdict::Fail => "FAIL",
        }
    }
}

/// One compared number.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Dataset.
    pub dataset: String,
    /// Leaderboard entry (family or ensemble).
    pub entry: String,
    /// The series (`dataset/series`), or `None` for the dataset aggregate.
    pub series: Option<String>,
    /// The metric.
    pub metric: MetricName,
    /// Baseline value (NaN when undefined).
    pub baseline: f64,
    /// Current value (NaN when undefined).
    pub current: f64,
    /// The allowed worsening.
    pub tolerance: f64,
    /// Confidence interval of the mean oriented per-series difference, with the series count.
    pub interval: Option<(f64, f64, usize)>,
    /// The verdict.
    pub verdict: Verdict,
    /// False for per-series rows shown for information under a dataset-scope watch.
    pub gating: bool,
    /// Extra words (why it failed, which series got worse).
    pub note: String,
}

impl Check {
    /// current − baseline, in the metric's own direction.
    pub fn delta(&self) -> f64 {
        self.current - self.baseline
    }

    /// One line naming the metric, dataset, entry and series.
    pub fn describe(&self) -> String {
        let place = match &self.series {
            Some(s) => format!("series {s}"),
            None => format!("dataset {}", self.dataset),
        };
        let mut text = format!(
            "{} of {} on {place}: {:.4} -> {:.4} (change {:+.4}, tolerance {})",
            self.metric,
            self.entry,
            self.baseline,
            self.current,
            self.delta(),
            self.tolerance
        );
        if !self.note.is_empty() {
            text.push_str("; ");
            text.push_str(&self.note);
        }
        text
    }
}

/// All checks of a gate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    /// Checks, by dataset, entry, watch, then series.
    pub checks: Vec<Check>,
}

impl Comparison {
    /// The failed checks.
    pub fn failures(&self) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| c.gating && c.verdict == Verdict::Fail)
            .collect()
    }

    /// True when nothing failed.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }
}

fn get(map: &std::collections::BTreeMap<String, f64>, metric: MetricName) -> f64 {
    map.get(metric.name()).copied().unwrap_or(f64::NAN)
}

/// The absolute rule for one pair of values.
fn absolute(metric: MetricName, baseline: f64, current: f64, tolerance: f64) -> (Verdict, String) {
    match (baseline.is_finite(), current.is_finite()) {
        (false, false) => (Verdict::Same, "undefined in both".into()),
        (false, true) => (Verdict::Better, "newly defined".into()),
        (true, false) => (
            Verdict::Fail,
            "became undefined (no threshold or no incident left)".into(),
        ),
        (true, true) => {
            let d = metric.oriented(current) - metric.oriented(baseline);
            let verdict = if d < -tolerance - EPS {
                Verdict::Fail
            } else if d < -EPS {
                Verdict::WorseWithin
            } else if d > EPS {
                Verdict::Better
            } else {
                Verdict::Same
            };
            (verdict, String::new())
        }
    }
}

/// Confidence interval of the mean of `diffs` (at least two values).
pub fn interval(diffs: &[f64], how: &Interval) -> (f64, f64) {
    let n = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / n;
    match how {
        Interval::Stderr { k } => {
            let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let se = (var / n).sqrt();
            (mean - k * se, mean + k * se)
        }
        Interval::Bootstrap {
            level,
            resamples,
            seed,
        } => {
            let mut rng = ChaCha8Rng::seed_from_u64(*seed);
            let mut means: Vec<f64> = (0..*resamples)
                .map(|_| {
                    (0..diffs.len())
                        .map(|_| diffs[rng.random_range(0..diffs.len())])
                        .sum::<f64>()
                        / n
                })
                .collect();
            means.sort_by(f64::total_cmp);
            let q = |p: f64| {
                let pos = p * (means.len() - 1) as f64;
                let lo = pos.floor() as usize;
                let hi = pos.ceil() as usize;
                means[lo] + (means[hi] - means[lo]) * (pos - lo as f64)
            };
            (q((1.0 - level) / 2.0), q((1.0 + level) / 2.0))
        }
    }
}

fn series_worse(base: &EntryResults, now: &EntryResults, metric: MetricName) -> String {
    let mut worse: Vec<(String, f64, f64, f64)> = base
        .series
        .iter()
        .filter_map(|(s, b)| {
            let b = get(b, metric);
            let c = now.series.get(s).map_or(f64::NAN, |m| get(m, metric));
            let d = metric.oriented(c) - metric.oriented(b);
            (b.is_finite() && d < -EPS).then(|| (s.clone(), b, c, d))
        })
        .collect();
    worse.sort_by(|a, b| a.3.total_cmp(&b.3).then(a.0.cmp(&b.0)));
    if worse.is_empty() {
        return String::new();
    }
    let listed: Vec<String> = worse
        .iter()
        .take(5)
        .map(|(s, b, c, _)| format!("{s} {b:.4} -> {c:.4}"))
        .collect();
    format!(
        "worse series: {}{}",
        listed.join(", "),
        if worse.len() > 5 {
            format!(" and {} more", worse.len() - 5)
        } else {
            String::new()
        }
    )
}

fn watch_entry(
    dataset: &str,
    entry: &str,
    watch: &Watch,
    base: &EntryResults,
    now: Option<&EntryResults>,
    checks: &mut Vec<Check>,
) {
    let metric = watch.metric;
    let Some(now) = now else {
        checks.push(Check {
            dataset: dataset.into(),
            entry: entry.into(),
            series: None,
            metric,
            baseline: get(&base.aggregate, metric),
            current: f64::NAN,
            tolerance: watch.tolerance,
            interval: None,
            verdict: Verdict::Fail,
            gating: true,
            note: "the entry is gone from the evaluation (every fit failed?)".into(),
        });
        return;
    };
    let per_series: Vec<(String, f64, f64)> = base
        .series
        .iter()
        .map(|(s, b)| {
            let c = now.series.get(s).map_or(f64::NAN, |m| get(m, metric));
            (s.clone(), get(b, metric), c)
        })
        .collect();
    let series_gating = watch.scope == Scope::Series;
    let mut series_checks = Vec::new();
    for (s, b, c) in &per_series {
        let (verdict, note) = absolute(metric, *b, *c, watch.tolerance);
        series_checks.push(Check {
            dataset: dataset.into(),
            entry: entry.into(),
            series: Some(s.clone()),
            metric,
            baseline: *b,
            current: *c,
            tolerance: watch.tolerance,
            interval: None,
            verdict,
            gating: series_gating,
            note,
        });
    }
    if watch.scope == Scope::Dataset {
        let b = get(&base.aggregate, metric);
        let c = get(&now.aggregate, metric);
        let (mut verdict, mut note) = absolute(metric, b, c, watch.tolerance);
        let mut ci = None;
        if let Some(how) = &watch.interval {
            let diffs: Vec<f64> = per_series
                .iter()
                .filter(|(_, b, c)| b.is_finite() && c.is_finite())
                .map(|(_, b, c)| metric.oriented(*c) - metric.oriented(*b))
                .collect();
            if diffs.len() >= 2 {
                let (lo, hi) = interval(&diffs, how);
                ci = Some((lo, hi, diffs.len()));
                verdict = if hi < -watch.tolerance - EPS {
                    Verdict::Fail
                } else if diffs.iter().all(|d| d.abs() <= EPS) {
                    Verdict::Same
                } else if lo > EPS {
                    Verdict::Better
                } else if verdict == Verdict::Fail || verdict == Verdict::WorseWithin {
                    Verdict::WorseWithin
                } else {
                    verdict
                };
                note = format!(
                    "mean per-series change (better > 0) in [{lo:+.4}, {hi:+.4}] over {} series",
                    diffs.len()
                );
            } else {
                note = format!(
                    "interval needs two series with numbers on both sides ({} here); absolute rule used",
                    diffs.len()
                );
            }
        }
        if verdict == Verdict::Fail {
            let worse = series_worse(base, now, metric);
            if !worse.is_empty() {
                if !note.is_empty() {
                    note.push_str("; ");
                }
                note.push_str(&worse);
            }
        }
        checks.push(Check {
            dataset: dataset.into(),
            entry: entry.into(),
            series: None,
            metric,
            baseline: b,
            current: c,
            tolerance: watch.tolerance,
            interval: ci,
            verdict,
            gating: true,
            note,
        });
    }
    checks.extend(series_checks);
}

/// Compares `current` with `baseline` under the gate's watches. Different data (a changed
/// fingerprint) or a dataset missing on one side is an error: the baseline must be rewritten,
/// it is not a regression. `check_fingerprints` is false for registry baselines, whose
/// numbers come from the version's own data.
pub fn compare(
    spec: &GateSpec,
    baseline: &GateResults,
    current: &GateResults,
    check_fingerprints: bool,
) -> Result<Comparison> {
    let mut checks = Vec::new();
    for (name, base) in &baseline.datasets {
        let Some(now) = current.datasets.get(name) else {
            return Err(ExperimentError::Selection {
                dataset: name.clone(),
                message: "is in the baseline but not in the gate's experiment".into(),
                hint: "rewrite the baseline with `vigil gate SPEC --write-baseline PATH` if the dataset was removed on purpose".into(),
            });
        };
        if check_fingerprints && base.fingerprint != now.fingerprint {
            return Err(ExperimentError::Selection {
                dataset: name.clone(),
                message: format!(
                    "the data changed: fingerprint {} now, {} in the baseline",
                    &now.fingerprint[..12.min(now.fingerprint.len())],
                    &base.fingerprint[..12.min(base.fingerprint.len())]
                ),
                hint: "a gate compares models on the same data; rewrite the baseline with `vigil gate SPEC --write-baseline PATH` if the data change is intended".into(),
            });
        }
        for (entry, base_entry) in &base.entries {
            for watch in &spec.watch {
                watch_entry(
                    name,
                    entry,
                    watch,
                    base_entry,
                    now.entries.get(entry),
                    &mut checks,
                );
            }
        }
    }
    for name in current.datasets.keys() {
        if !baseline.datasets.contains_key(name) {
            return Err(ExperimentError::Selection {
                dataset: name.clone(),
                message: "is in the gate's experiment but not in the baseline".into(),
                hint: "rewrite the baseline with `vigil gate SPEC --write-baseline PATH`".into(),
            });
        }
    }
    Ok(Comparison { checks })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::spec::parse_gate;
    use super::super::{BASELINE_FORMAT, DatasetResults};
    use super::*;

    fn results(values: &[(&str, f64, f64)]) -> GateResults {
        // (series, event_f1, false_alarms_per_day); the aggregate is the mean.
        let n = values.len() as f64;
        let agg = BTreeMap::from([
            (
                "event_f1".to_string(),
                values.iter().map(|v| v.1).sum::<f64>() / n,
            ),
            (
                "false_alarms_per_day".to_string(),
                values.iter().map(|v| v.2).sum::<f64>() / n,
            ),
        ]);
        let series = values
            .iter()
            .map(|(s, f, fa)| {
                (
                    format!("d/{s}"),
                    BTreeMap::from([
                        ("event_f1".to_string(), *f),
                        ("false_alarms_per_day".to_string(), *fa),
                    ]),
                )
            })
            .collect();
        GateResults {
            format: BASELINE_FORMAT.into(),
            gate: "g".into(),
            datasets: BTreeMap::from([(
                "d".to_string(),
                DatasetResults {
                    fingerprint: "f".into(),
                    entries: BTreeMap::from([(
                        "ewma".to_string(),
                        EntryResults {
                            aggregate: agg,
                            series,
                        },
                    )]),
                },
            )]),
        }
    }

    fn gate(watch: &str) -> GateSpec {
        parse_gate(
            &format!(
                "name = \"g\"\nexperiment = \"e.toml\"\n[baseline]\npath = \"b.json\"\n{watch}"
            ),
            "g.toml",
        )
        .expect("parses")
    }

    #[test]
    fn absolute_tolerances_in_both_directions() {
        let g = gate(
            "[[watch]]\nmetric = \"event_f1\"\ntolerance = 0.02\n[[watch]]\nmetric = \"false_alarms_per_day\"\ntolerance = 0.5\n",
        );
        let base = results(&[("a", 0.8, 1.0), ("b", 0.6, 1.0)]);
        let same = compare(&g, &base, &base, true).unwrap();
        assert!(same.passed());
        // F1 down by 0.01 (within), false alarms up by 0.4 (within).
        let ok = results(&[("a", 0.79, 1.4), ("b", 0.59, 1.4)]);
        assert!(compare(&g, &base, &ok, true).unwrap().passed());
        // False alarms up by 0.6: fails, named.
        let bad = results(&[("a", 0.8, 1.0), ("b", 0.6, 2.2)]);
        let c = compare(&g, &base, &bad, true).unwrap();
        let f = c.failures();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].metric, MetricName::FalseAlarmsPerDay);
        assert!(f[0].describe().contains("dataset d"), "{}", f[0].describe());
        assert!(f[0].note.contains("d/b"), "{}", f[0].note);
        // Fewer false alarms is better, never a failure.
        let better = results(&[("a", 0.8, 0.0), ("b", 0.6, 0.0)]);
        assert!(compare(&g, &base, &better, true).unwrap().passed());
    }

    #[test]
    fn series_scope_names_the_series() {
        let g = gate("[[watch]]\nmetric = \"event_f1\"\ntolerance = 0.05\nscope = \"series\"\n");
        let base = results(&[("a", 0.8, 1.0), ("b", 0.6, 1.0)]);
        let bad = results(&[("a", 0.9, 1.0), ("b", 0.5, 1.0)]);
        let c = compare(&g, &base, &bad, true).unwrap();
        let f = c.failures();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].series.as_deref(), Some("d/b"));
    }

    #[test]
    fn an_interval_absorbs_noise_but_not_a_regression_across_series() {
        let g = gate(
            "[[watch]]\nmetric = \"event_f1\"\ninterval = { kind = \"bootstrap\", seed = 3, resamples = 1000 }\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let base_vals: Vec<(&str, f64, f64)> = names.iter().map(|n| (*n, 0.6, 1.0)).collect();
        let base = results(&base_vals);
        // Noise: some up, some down, mean about zero.
        let noisy: Vec<(&str, f64, f64)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, 0.6 + if i % 2 == 0 { 0.1 } else { -0.12 }, 1.0))
            .collect();
        let c = compare(&g, &base, &results(&noisy), true).unwrap();
        assert!(c.passed(), "{:?}", c.failures());
        // The absolute rule with no tolerance would have failed the same numbers.
        let strict = gate("[[watch]]\nmetric = \"event_f1\"\n");
        assert!(
            !compare(&strict, &base, &results(&noisy), true)
                .unwrap()
                .passed()
        );
        // Every series a little worse: a real regression.
        let worse: Vec<(&str, f64, f64)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, 0.6 - 0.05 - 0.01 * i as f64, 1.0))
            .collect();
        let c = compare(&g, &base, &results(&worse), true).unwrap();
        assert_eq!(c.failures().len(), 1);
        assert!(c.failures()[0].interval.is_some());
        // Same for mean ± 2 stderr.
        let g =
            gate("[[watch]]\nmetric = \"event_f1\"\ninterval = { kind = \"stderr\", k = 2.0 }\n");
        assert!(compare(&g, &base, &results(&noisy), true).unwrap().passed());
        assert!(!compare(&g, &base, &results(&worse), true).unwrap().passed());
    }

    #[test]
    fn the_bootstrap_is_seeded() {
        let how = Interval::Bootstrap {
            level: 0.9,
            resamples: 500,
            seed: 11,
        };
        let d = [0.1, -0.2, 0.05, 0.3, -0.1];
        assert_eq!(interval(&d, &how), interval(&d, &how));
        let (lo, hi) = interval(&d, &how);
        assert!(lo < 0.03 && hi > 0.03, "{lo} {hi}");
    }

    #[test]
    fn changed_data_is_an_error_not_a_regression() {
        let g = gate("[[watch]]\nmetric = \"event_f1\"\n");
        let base = results(&[("a", 0.8, 1.0)]);
        let mut other = base.clone();
        other.datasets.get_mut("d").unwrap().fingerprint = "g".into();
        let err = compare(&g, &base, &other, true).unwrap_err().to_string();
        assert!(err.contains("the data changed"), "{err}");
        assert!(err.contains("--write-baseline"), "{err}");
    }
}
