//! Alert budget: the lowest threshold whose false alarms stay within a number per day, counted
//! exactly as [`crate::event::event_metrics`] counts them after
//! [`crate::alert::apply_alert_policy`].
//!
//! The false-alarm count is not monotone in the threshold: lowering it can merge runs (fewer
//! alerts), the minimum-run rule and the cooldown shift which events fire, and at the lowest
//! score every series is one long alert. So "the boundary" is defined from the top: the lowest
//! candidate at which the budget holds there *and at every higher candidate*. It is found exactly
//! by a branch-and-bound over the sorted distinct scores, highest first, with a cheap upper bound
//! on the false alarms at *any* threshold inside an interval of candidates (one O(n) pass), so
//! whole intervals that cannot break the budget are skipped and exact counts are only taken
//! where the bound cannot decide.
//!
//! Guarantee: the result is exactly the lowest distinct validation score `t` such that the pooled
//! false alarms are at most `per_day × days` at `t` and at every higher distinct score (checked
//! against an exhaustive search in the tests); when even the highest score breaks the budget,
//! the next double above it, so that nothing alerts. Cost: one sort, then O(n) per pass (a bound
//! or an exact count) with one pass per interval visited. The number of intervals is not bounded
//! by O(log n) in theory (a bound that never decides degrades to one pass per candidate), but
//! in practice it is tens: 100,000 rows take 6–85 ms (release build) for budgets of 0.1–10 per
//! day, with and without merge gap, cooldown and minimum run.

use crate::alert::{AlertPolicy, apply_alert_policy};
use crate::error::{EvalError, Result, check_len};
use crate::event::{DAY_MS, extended_windows};
use crate::labels::{Window, labels_from_windows, validate_windows};

use super::{FitContext, SeriesScores};

/// One validation series, prepared once.
struct Prepared<'a> {
    scores: &'a [f64],
    timestamps: &'a [i64],
    /// Incidents widened by the early allowance, as event metrics widen them.
    extended: Vec<Window>,
    /// Rows inside an extended incident.
    in_incident: Vec<bool>,
    /// Timestamps never step back (enables the merge-gap and cooldown parts of the bound).
    monotone: bool,
}

/// The threshold chosen for a budget of `per_day` false alarms per day, and the false alarms
/// per day it achieves on the fitting rows (0 when they span no time).
pub(super) fn fit_alert_budget(
    validation: &[SeriesScores<'_>],
    context: &FitContext<'_>,
    per_day: f64,
) -> Result<(f64, f64)> {
    let alert = context.alert;
    alert.check()?;
    if context.timestamps.len() != validation.len() {
        return Err(EvalError::InvalidParam {
            param: "threshold.alert_budget.timestamps",
            value: format!(
                "{} series of timestamps for {} series of scores",
                context.timestamps.len(),
                validation.len()
            ),
            reason: "needs one timestamp slice per validation series, in the same order",
            hint: "build the FitContext from the same series as the scores",
        });
    }
    let mut series = Vec::with_capacity(validation.len());
    let mut days = 0.0;
    for (s, &timestamps) in validation.iter().zip(&context.timestamps) {
        check_len("timestamps", s.scores.len(), timestamps.len())?;
        validate_windows(s.windows, s.scores.len())?;
        if let (Some(lo), Some(hi)) = (timestamps.iter().min(), timestamps.iter().max()) {
            days += (hi - lo) as f64 / DAY_MS;
        }
        let extended = extended_windows(s.windows, timestamps, context.early_ms);
        series.push(Prepared {
            scores: s.scores,
            timestamps,
            in_incident: labels_from_windows(&extended, s.scores.len()),
            extended,
            monotone: timestamps.windows(2).all(|p| p[0] <= p[1]),
        });
    }
    let mut candidates: Vec<f64> = series
        .iter()
        .flat_map(|s| s.scores.iter().copied())
        .collect();
    candidates.sort_unstable_by(f64::total_cmp);
    candidates.dedup();
    let Some(&top) = candidates.last() else {
        return Err(EvalError::NotEnoughData {
            what: "an alert-budget threshold",
            needed: "at least one validation score",
            hint: "give a non-empty validation slice",
        });
    };
    let budget = per_day * days;
    let allowed = |count: usize| count as f64 <= budget;
    let exact = |threshold: f64| -> Result<usize> {
        let mut total = 0;
        for s in &series {
            let alerts = apply_alert_policy(s.scores, s.timestamps, threshold, alert)?;
            total += false_alarms(&alerts, &s.extended);
        }
        Ok(total)
    };
    // Depth-first over candidate intervals, higher half first: when an interval is taken from
    // the stack, every candidate above it already keeps the budget.
    let mut highest_violation = None;
    let mut stack = vec![(0, candidates.len() - 1)];
    // Bounds are counted only up to the first count that breaks the budget.
    let cap = (budget.floor().max(0.0) as usize).saturating_add(1);
    while let Some((a, b)) = stack.pop() {
        let bound: usize = series
            .iter()
            .map(|s| false_alarm_bound(s, candidates[a], candidates[b], alert, cap))
            .sum();
        if allowed(bound) {
            continue;
        }
        if a == b {
            if !allowed(exact(candidates[a])?) {
                highest_violation = Some(a);
                break;
            }
            continue;
        }
        let mid = a + (b - a) / 2;
        stack.push((a, mid));
        stack.push((mid + 1, b));
    }
    let (threshold, count) = match highest_violation {
        None => (candidates[0], exact(candidates[0])?),
        Some(j) if j + 1 < candidates.len() => (candidates[j + 1], exact(candidates[j + 1])?),
        // Even the highest score breaks the budget: a threshold above it, so nothing alerts.
        Some(_) => (top.next_up(), 0),
    };
    let achieved = if days > 0.0 { count as f64 / days } else { 0.0 };
    Ok((threshold, achieved))
}

/// Alerts touching no extended incident: `event_metrics`' `false_alarms`, in one merge pass
/// (alerts come in row order, incidents are sorted and disjoint).
fn false_alarms(alerts: &[crate::alert::Alert], extended: &[Window]) -> usize {
    let mut w = 0;
    let mut count = 0;
    for a in alerts {
        while w < extended.len() && extended[w].end < a.start {
            w += 1;
        }
        if !(w < extended.len() && extended[w].start <= a.end) {
            count += 1;
        }
    }
    count
}

/// An upper bound on the false alarms of one series at every threshold in `[lo, hi]`, counted
/// up to `cap`. Active rows are nested (those at `hi` ⊆ those at any `t` ⊆ those at `lo`), and a
/// false alarm starts at a row that is active at `lo`, outside every extended incident, and
/// starts a run at `t`, so its previous row is not active at `hi`. With timestamps that never
/// step back two more rules hold: an active row at `hi` within `merge_gap_ms` before it would
/// have merged it, and alert starts lie at least `cooldown_ms` apart, so a greedy earliest-first
/// pick of such rows bounds the count. At `lo == hi` the bound is close to the exact count.
fn false_alarm_bound(
    s: &Prepared<'_>,
    lo: f64,
    hi: f64,
    policy: &AlertPolicy,
    cap: usize,
) -> usize {
    let need = policy.min_consecutive.max(1);
    let (mut run_lo, mut run_hi) = (0usize, 0usize);
    let mut previous_active_hi = false;
    let mut last_active_hi: Option<i64> = None;
    let mut last_counted: Option<i64> = None;
    let mut count = 0;
    for (i, &x) in s.scores.iter().enumerate() {
        run_lo = if x >= lo { run_lo + 1 } else { 0 };
        run_hi = if x >= hi { run_hi + 1 } else { 0 };
        let ts = s.timestamps[i];
        if run_lo >= need && !previous_active_hi && !s.in_incident[i] {
            let merged =
                s.monotone && last_active_hi.is_some_and(|k| ts - k <= policy.merge_gap_ms);
            let cooled = s.monotone && last_counted.is_some_and(|c| ts - c < policy.cooldown_ms);
            if !merged && !cooled {
                count += 1;
                last_counted = Some(ts);
                if count >= cap {
                    return count;
                }
            }
        }
        previous_active_hi = run_hi >= need;
        if previous_active_hi {
            last_active_hi = Some(ts);
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::event::event_metrics;
    use crate::threshold::{FittedThreshold, ThresholdPolicy};

    const HOUR: i64 = 3_600_000;

    fn hours(n: usize) -> Vec<i64> {
        (0..n as i64).map(|i| i * HOUR).collect()
    }

    /// Pooled false alarms and days at `threshold`, straight from `event_metrics`.
    fn pooled_false_alarms(
        series: &[(&[f64], &[Window], &[i64])],
        threshold: f64,
        alert: &AlertPolicy,
        early_ms: i64,
    ) -> (usize, f64) {
        let (mut count, mut days) = (0, 0.0);
        for &(scores, windows, timestamps) in series {
            let alerts = apply_alert_policy(scores, timestamps, threshold, alert).unwrap();
            let m = event_metrics(&alerts, windows, timestamps, early_ms).unwrap();
            count += m.false_alarms;
            days += m.days;
        }
        (count, days)
    }

    fn fit(
        per_day: f64,
        series: &[(&[f64], &[Window], &[i64])],
        alert: &AlertPolicy,
        early_ms: i64,
    ) -> Result<FittedThreshold> {
        let scores: Vec<SeriesScores<'_>> = series
            .iter()
            .map(|&(s, w, _)| SeriesScores::new(s, w).unwrap())
            .collect();
        let context = FitContext {
            timestamps: series.iter().map(|s| s.2).collect(),
            alert,
            early_ms,
        };
        ThresholdPolicy::AlertBudget { per_day }.fit_with(&scores, &context)
    }

    #[test]
    fn budget_is_met_and_the_next_lower_score_breaks_it() {
        // 49 hourly rows = 2 days, no incident: a budget of 1 per day allows 2 false alarms.
        let t = hours(49);
        let mut s = vec![0.0; 49];
        for (row, v) in [(5, 0.9), (15, 0.8), (25, 0.7), (35, 0.6)] {
            s[row] = v;
        }
        let series = [(&s[..], &[][..], &t[..])];
        let alert = AlertPolicy::default();
        let f = fit(1.0, &series, &alert, 0).unwrap();
        assert_eq!(f.value, 0.8);
        assert_eq!(f.objective_value, Some(1.0));
        assert_eq!(pooled_false_alarms(&series, 0.8, &alert, 0), (2, 2.0));
        // The next lower distinct score breaks it, though the lowest (one long alert) would not.
        assert_eq!(pooled_false_alarms(&series, 0.7, &alert, 0).0, 3);
        assert_eq!(pooled_false_alarms(&series, 0.0, &alert, 0).0, 1);
        // A zero budget: nothing may alert, so the threshold goes just above the maximum.
        let f = fit(0.0, &series, &alert, 0).unwrap();
        assert_eq!(f.value, 0.9f64.next_up());
        assert_eq!(f.objective_value, Some(0.0));
        // A budget no data can break: the lowest score.
        assert_eq!(fit(1e300, &series, &alert, 0).unwrap().value, 0.0);
    }

    #[test]
    fn alerts_inside_incidents_and_their_allowance_are_not_counted() {
        let t = hours(49);
        let mut s = vec![0.0; 49];
        for (row, v) in [(5, 0.9), (15, 0.8), (25, 0.7), (35, 0.6), (45, 0.5)] {
            s[row] = v;
        }
        // The 0.9 spike lies in an incident, the 0.7 spike two hours before one.
        let windows = [Window::new(4, 6), Window::new(27, 28)];
        let alert = AlertPolicy::default();
        let series = [(&s[..], &windows[..], &t[..])];
        let f = fit(1.0, &series, &alert, 0).unwrap();
        assert_eq!(f.value, 0.7); // false alarms: 0.8 and 0.7
        let f = fit(1.0, &series, &alert, 2 * HOUR).unwrap();
        assert_eq!(f.value, 0.6); // the 0.7 spike is now early detection
        assert_eq!(pooled_false_alarms(&series, 0.6, &alert, 2 * HOUR).0, 2);
    }

    #[test]
    fn merge_gap_cooldown_and_min_consecutive_are_honoured() {
        // Four spikes in two days: three within four hours, one apart. Budget: 2 alarms.
        let t = hours(49);
        let mut s = vec![0.1; 49];
        for row in [10, 12, 14, 30] {
            s[row] = 0.9;
        }
        let series = [(&s[..], &[][..], &t[..])];
        let plain = AlertPolicy::default();
        assert_eq!(
            fit(1.0, &series, &plain, 0).unwrap().value,
            0.9f64.next_up()
        );
        for policy in [
            AlertPolicy {
                merge_gap_ms: 2 * HOUR,
                ..AlertPolicy::default()
            },
            AlertPolicy {
                cooldown_ms: 5 * HOUR,
                ..AlertPolicy::default()
            },
            AlertPolicy {
                min_consecutive: 2,
                ..AlertPolicy::default()
            },
        ] {
            let f = fit(1.0, &series, &policy, 0).unwrap();
            assert_eq!(f.value, 0.1, "{policy:?}");
            let at_spikes = pooled_false_alarms(&series, 0.9, &policy, 0).0;
            assert!(at_spikes <= 2, "{policy:?}");
        }
    }

    #[test]
    fn equals_an_exhaustive_search_on_random_series() {
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        for case in 0..300 {
            let n_series = rng.random_range(1..=3);
            let data: Vec<(Vec<f64>, Vec<Window>, Vec<i64>)> = (0..n_series)
                .map(|_| {
                    let n = rng.random_range(1..60);
                    let levels = rng.random_range(2..12) as f64;
                    let scores = (0..n)
                        .map(|_| (rng.random::<f64>() * levels).floor() / levels)
                        .collect();
                    let mut windows = Vec::new();
                    let mut row = rng.random_range(0..n + 5);
                    while row < n {
                        let end = (row + rng.random_range(0..5)).min(n - 1);
                        windows.push(Window::new(row, end));
                        row = end + 2 + rng.random_range(0..20);
                    }
                    let mut time = 0;
                    let step_back = if rng.random_bool(0.5) { -1 } else { 0 };
                    let timestamps = (0..n)
                        .map(|_| {
                            // Forward (ties included), or now and then a step back.
                            time += rng.random_range(step_back..6) * HOUR;
                            time
                        })
                        .collect();
                    (scores, windows, timestamps)
                })
                .collect();
            let series: Vec<(&[f64], &[Window], &[i64])> = data
                .iter()
                .map(|(s, w, t)| (&s[..], &w[..], &t[..]))
                .collect();
            let alert = AlertPolicy {
                min_consecutive: rng.random_range(1..4),
                merge_gap_ms: rng.random_range(0..4) * HOUR,
                cooldown_ms: rng.random_range(0..8) * HOUR,
                severity: None,
            };
            let early_ms = rng.random_range(0..3) * HOUR;
            let per_day = rng.random_range(0..12) as f64 / 2.0;
            // Exhaustive: the lowest candidate at and above which every candidate keeps it.
            let mut candidates: Vec<f64> = data.iter().flat_map(|d| d.0.clone()).collect();
            candidates.sort_by(f64::total_cmp);
            candidates.dedup();
            let mut expected = candidates.last().unwrap().next_up();
            for &c in candidates.iter().rev() {
                let (count, days) = pooled_false_alarms(&series, c, &alert, early_ms);
                if count as f64 > per_day * days {
                    break;
                }
                expected = c;
            }
            let f = fit(per_day, &series, &alert, early_ms).unwrap();
            assert_eq!(f.value, expected, "case {case}: {alert:?} {per_day}");
            let (count, days) = pooled_false_alarms(&series, f.value, &alert, early_ms);
            let per = if days > 0.0 { count as f64 / days } else { 0.0 };
            assert_eq!(f.objective_value, Some(per), "case {case}");
        }
    }

    #[test]
    fn needs_context_and_valid_parameters() {
        let policy = ThresholdPolicy::AlertBudget { per_day: 1.0 };
        assert!(policy.needs_context() && !policy.is_supervised());
        let scores = [0.1, 0.2];
        let err = policy
            .fit(&[SeriesScores::new(&scores, &[]).unwrap()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("timestamps") && err.contains("fit_with"),
            "{err}"
        );
        for per_day in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(ThresholdPolicy::AlertBudget { per_day }.check().is_err());
        }
        // Misaligned context.
        let alert = AlertPolicy::default();
        let t = hours(3);
        let context = FitContext {
            timestamps: vec![&t[..]],
            alert: &alert,
            early_ms: 0,
        };
        let s = [SeriesScores::new(&scores, &[]).unwrap()];
        assert!(policy.fit_with(&s, &context).is_err());
        let two = FitContext {
            timestamps: vec![],
            ..context
        };
        assert!(policy.fit_with(&s, &two).is_err());
    }

    #[test]
    fn works_through_evaluate() {
        use crate::report::{EvalConfig, EvalSeries, evaluate};
        let t: Vec<i64> = (0..2000).map(|i| i * 300_000).collect(); // 5-minute rows
        let scores: Vec<f64> = (0..2000).map(|i| ((i * 37) % 101) as f64 / 100.0).collect();
        let windows = [Window::new(500, 520)];
        let config = EvalConfig {
            threshold: ThresholdPolicy::AlertBudget { per_day: 2.0 },
            ..EvalConfig::default()
        };
        let series = EvalSeries::new(&scores, &windows, &t).unwrap();
        let e = evaluate(&[], &[series], &config).unwrap();
        let achieved = e.fitted.objective_value.unwrap();
        assert!(achieved <= 2.0);
        assert_eq!(e.deployable.events.false_alarms_per_day, achieved);
    }
}
