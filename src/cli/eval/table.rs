//! The human-readable table of `vigil eval`.

use vigil_eval::Evaluation;
use vigil_eval::report::{NabSummary, ThresholdedMetrics};

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.4}"))
}

pub(super) fn render_table(e: &Evaluation, series: usize, rows: usize, incidents: usize) -> String {
    let mut s = String::new();
    let fitted_on = if e.in_sample {
        "fitted on the evaluated rows (in-sample)"
    } else {
        "fitted on validation"
    };
    s.push_str(&format!(
        "vigil eval: {series} series, {rows} rows, {incidents} incidents; threshold {} {fitted_on}\n\n",
        e.fitted.policy
    ));
    let b = e.baselines.as_ref();
    let columns: Vec<(&str, Option<&ThresholdedMetrics>)> = vec![
        ("deployable", Some(&e.deployable)),
        ("oracle", e.oracle.as_ref()),
        ("random", b.map(|b| &b.random.deployable)),
        ("null", b.map(|b| &b.null)),
    ];
    s.push_str(&format!("{:<34}", "threshold-dependent"));
    for (name, _) in &columns {
        s.push_str(&format!("{name:>12}"));
    }
    s.push('\n');
    type Getter = fn(&ThresholdedMetrics) -> Option<f64>;
    let mut lines: Vec<(String, Getter)> = vec![
        ("threshold".into(), |m| {
            Some(m.threshold).filter(|t| *t < f64::MAX)
        }),
        ("point precision".into(), |m| Some(m.point.precision)),
        ("point recall".into(), |m| Some(m.point.recall)),
        ("point F1".into(), |m| Some(m.point.f1)),
        ("point FPR".into(), |m| Some(m.point.fpr)),
        ("point-adjusted F1 (adjusted)".into(), |m| {
            Some(m.point_adjusted.metrics.f1)
        }),
        (format!("PA%{} F1 (adjusted)", e.config.pa_k_percent), |m| {
            Some(m.pa_k.metrics.f1)
        }),
        ("PA%K F1 AUC (adjusted)".into(), |m| Some(m.pa_k_f1_auc)),
        ("range precision".into(), |m| Some(m.range.precision)),
        ("range recall".into(), |m| Some(m.range.recall)),
        ("range F1".into(), |m| Some(m.range.f1)),
        ("incident recall".into(), |m| Some(m.events.incident_recall)),
        ("alert precision".into(), |m| Some(m.events.alert_precision)),
        ("event F1".into(), |m| Some(m.events.event_f1)),
        ("alerts".into(), |m| Some(m.events.alerts as f64)),
        ("false alarms per day".into(), |m| {
            Some(m.events.false_alarms_per_day)
        }),
        ("delay mean (min)".into(), |m| {
            m.delay.ms.map(|d| d.mean / 60_000.0)
        }),
        ("delay median (min)".into(), |m| {
            m.delay.ms.map(|d| d.median / 60_000.0)
        }),
        ("delay max (min)".into(), |m| {
            m.delay.ms.map(|d| d.max / 60_000.0)
        }),
    ];
    for (i, p) in e.config.nab_profiles.iter().enumerate().take(3) {
        let getter: Getter = match i {
            0 => |m| m.nab.first().and_then(|n| n.normalised),
            1 => |m| m.nab.get(1).and_then(|n| n.normalised),
            _ => |m| m.nab.get(2).and_then(|n| n.normalised),
        };
        lines.push((format!("NAB {p} (normalised)"), getter));
    }
    for (label, get) in &lines {
        s.push_str(&format!("{label:<34}"));
        for (_, m) in &columns {
            let value = m.and_then(get);
            let cell = if label == "alerts" {
                value.map_or_else(|| "-".to_string(), |v| format!("{v:.0}"))
            } else {
                fmt_opt(value)
            };
            s.push_str(&format!("{cell:>12}"));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "\n{:<34}{:>12}{:>12}\n",
        "threshold-free", "detector", "random"
    ));
    let free = e.threshold_free;
    let rand = b.map(|b| b.random.threshold_free);
    for (label, v, r) in [
        ("ROC-AUC", free.roc_auc, rand.and_then(|r| r.roc_auc)),
        (
            "PR-AUC (average precision)",
            free.average_precision,
            rand.and_then(|r| r.average_precision),
        ),
        ("VUS-ROC", free.vus_roc, rand.and_then(|r| r.vus_roc)),
        ("VUS-PR", free.vus_pr, rand.and_then(|r| r.vus_pr)),
    ] {
        s.push_str(&format!(
            "{label:<34}{:>12}{:>12}\n",
            fmt_opt(v),
            fmt_opt(r)
        ));
    }
    s.push_str(&format!(
        "{:<34}{:>12}{:>12}\n",
        format!("UCR top-1 (±{} rows)", e.config.ucr_top1_slack),
        fmt_opt(free.ucr_top1),
        fmt_opt(rand.and_then(|r| r.ucr_top1))
    ));
    s.push_str("\nNAB with the corpus threshold search (exact, best on these rows)\n");
    let rand_nab: &[NabSummary] = b.map_or(&[], |b| &b.random.nab_optimised);
    for (i, n) in e.nab_optimised.iter().enumerate() {
        s.push_str(&format!(
            "  {:<20} threshold {:<10.6} raw {:>10.4}  normalised {:>8}  (random {:>8})\n",
            n.profile.name(),
            n.threshold,
            n.raw,
            fmt_opt(n.normalised),
            fmt_opt(rand_nab.get(i).and_then(|r| r.normalised)),
        ));
    }
    if !e.deployable.severities.is_empty() {
        s.push_str(
            "\nseverity (deployable)           alerts   true  precision  labelled  matched\n",
        );
        for c in &e.deployable.severities {
            s.push_str(&format!(
                "  {:<28}{:>8}{:>7}{:>11.4}{:>10}{:>9}\n",
                c.severity.as_deref().unwrap_or("(below bands)"),
                c.alerts,
                c.true_alerts,
                c.precision,
                c.labelled_incidents,
                c.matched_incidents
            ));
        }
    }
    s
}
