//! CUSUM as a stateful graph: one row per call, both charts' state in and out.
//!
//! vigil's CUSUM (`vigil_train::detectors::cusum`) is a recursion over the whole history:
//! each chart first averages `restart_window` finite values into its reference, then runs the
//! tabular two-sided statistics S⁺ = max(0, S⁺ + z − k), S⁻ = max(0, S⁻ − z − k) with
//! z = (x − reference) / σ, and when the larger crosses `h` both restart and the reference is
//! averaged again; a level crossing also restarts the trend chart, which watches the first
//! differences. The score is the larger statistic. A window of rows cannot hold that (a
//! reference may date from any time back), so the graph carries it.
//!
//! Inputs: `x` float32 `[batch, 1, channels]` (the new row) and `state` float64
//! `[batch, channels, 11]`; outputs `score`, `is_anomaly` and `state_out`. Per channel the state
//! is the level chart (reference, sum and count of the values averaged so far, S⁺, S⁻), the
//! trend chart (the same five) and the previous finite value; before the first row it is
//! `[NaN, 0, 0, 0, 0, NaN, 0, 0, 0, 0, NaN]`. The running sum adds the values in the order
//! vigil's mean does, so the reference is vigil's bit for bit; a row that is not finite leaves
//! the state as it was and scores 0, as vigil skips it.

use vigil_train::detectors::cusum::{CusumModel, Target};

use crate::graph::Graph;
use crate::iforest::finish;
use crate::stats::{SPREAD_FLOOR, combine_channels};
use crate::streaming::{self, Streaming};
use crate::{ExportError, ExportOptions, OnnxModel, StateSpec};
use crate::{RELATIVE_TOLERANCE, SCORE_TOLERANCE};

/// Entries of the state's last axis.
pub const STATE_LAYOUT: [&str; 11] = [
    "level_reference",
    "level_sum",
    "level_count",
    "level_upper",
    "level_lower",
    "trend_reference",
    "trend_sum",
    "trend_count",
    "trend_upper",
    "trend_lower",
    "previous",
];

/// One channel's state before any row.
pub const INITIAL_STATE: [f64; 11] = [
    f64::NAN,
    0.0,
    0.0,
    0.0,
    0.0,
    f64::NAN,
    0.0,
    0.0,
    0.0,
    0.0,
    f64::NAN,
];

/// One chart's tensors (`[batch, channels]` each).
#[derive(Clone)]
struct Chart {
    reference: String,
    sum: String,
    count: String,
    upper: String,
    lower: String,
}

/// The constants every chart step uses.
struct Limits {
    k: String,
    h: String,
    restart: String,
    one: String,
    zero: String,
    alpha: Option<String>,
}

/// One step of a chart taking `value` where `take` holds: (the chart after, its statistic
/// (0 while averaging its reference), whether it crossed `h`).
fn step(
    g: &mut Graph,
    chart: &Chart,
    value: &str,
    take: &str,
    sigma: &str,
    l: &Limits,
) -> (Chart, String, String) {
    let averaging = g.op("Less", &[&chart.count, &l.restart], vec![]);
    // Averaging the reference: the value joins the running sum; the mean when it is full.
    let sum1 = g.op("Add", &[&chart.sum, value], vec![]);
    let count1 = g.op("Add", &[&chart.count, &l.one], vec![]);
    let full = g.op("Equal", &[&count1, &l.restart], vec![]);
    let mean = g.op("Div", &[&sum1, &count1], vec![]);
    let reference_avg = g.op("Where", &[&full, &mean, &chart.reference], vec![]);
    // Running: the tabular statistics against the reference.
    let dev = g.op("Sub", &[value, &chart.reference], vec![]);
    let z = g.op("Div", &[&dev, sigma], vec![]);
    let up = g.op("Add", &[&chart.upper, &z], vec![]);
    let up = g.op("Sub", &[&up, &l.k], vec![]);
    let up = g.op("Max", &[&up, &l.zero], vec![]);
    let lo = g.op("Sub", &[&chart.lower, &z], vec![]);
    let lo = g.op("Sub", &[&lo, &l.k], vec![]);
    let lo = g.op("Max", &[&lo, &l.zero], vec![]);
    let reference_run = match &l.alpha {
        Some(alpha) => {
            let moved = g.op("Mul", &[alpha, &dev], vec![]);
            g.op("Add", &[&chart.reference, &moved], vec![])
        }
        None => chart.reference.clone(),
    };
    let statistic = g.op("Max", &[&up, &lo], vec![]);
    let crossed = g.op("Greater", &[&statistic, &l.h], vec![]);
    let running = g.op("Not", &[&averaging], vec![]);
    let crossed = g.op("And", &[&crossed, &running], vec![]);
    let crossed = g.op("And", &[&crossed, take], vec![]);
    // A crossing restarts both statistics and the averaging (the old reference stays until
    // the next one is averaged, as in vigil).
    let up = g.op("Where", &[&crossed, &l.zero, &up], vec![]);
    let lo = g.op("Where", &[&crossed, &l.zero, &lo], vec![]);
    let sum_run = g.op("Where", &[&crossed, &l.zero, &chart.sum], vec![]);
    let count_run = g.op("Where", &[&crossed, &l.zero, &chart.count], vec![]);
    let pick = |g: &mut Graph, averaged: &str, ran: &str, before: &str| {
        let v = g.op("Where", &[&averaging, averaged, ran], vec![]);
        g.op("Where", &[take, &v, before], vec![])
    };
    let after = Chart {
        reference: pick(g, &reference_avg, &reference_run, &chart.reference),
        sum: pick(g, &sum1, &sum_run, &chart.sum),
        count: pick(g, &count1, &count_run, &chart.count),
        upper: pick(g, &chart.upper, &up, &chart.upper),
        lower: pick(g, &chart.lower, &lo, &chart.lower),
    };
    let statistic = g.op("Where", &[&averaging, &l.zero, &statistic], vec![]);
    let statistic = g.op("Where", &[take, &statistic, &l.zero], vec![]);
    (after, statistic, crossed)
}

pub(crate) fn export(
    model: &CusumModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let c = model.channels.len();
    let p = &model.params;
    let n_state = STATE_LAYOUT.len();
    let mut g = Graph::new();
    let scales: Vec<f64> = model.channels.iter().map(|f| f.scale).collect();
    let Streaming {
        x,
        state: s,
        axis1,
        axis2,
    } = streaming::inputs(
        &mut g,
        &scales,
        n_state,
        "the CUSUM state after the previous row (level chart, trend chart, previous value per \
         channel); see spec.json for the initial state",
    );
    let chart = |at: usize| Chart {
        reference: s[at].clone(),
        sum: s[at + 1].clone(),
        count: s[at + 2].clone(),
        upper: s[at + 3].clone(),
        lower: s[at + 4].clone(),
    };
    let (level, trend, previous) = (chart(0), chart(5), s[10].clone());
    let limits = Limits {
        k: g.const_f64("k", &[], &[p.k]),
        h: g.const_f64("h", &[], &[p.h]),
        restart: g.const_f64("restart_window", &[], &[p.restart_window as f64]),
        one: g.const_f64("one", &[], &[1.0]),
        zero: g.const_f64("zero", &[], &[0.0]),
        alpha: (p.baseline_alpha > 0.0)
            .then(|| g.const_f64("baseline_alpha", &[], &[p.baseline_alpha])),
    };
    let floor = |v: f64| v.max(SPREAD_FLOOR);
    let sigma_level: Vec<f64> = model
        .channels
        .iter()
        .map(|f| floor(f.state.sigma_level))
        .collect();
    let sigma_trend: Vec<f64> = model
        .channels
        .iter()
        .map(|f| floor(f.state.sigma_trend))
        .collect();
    let sigma_level = g.const_f64("sigma_level", &[1, c], &sigma_level);
    let sigma_trend = g.const_f64("sigma_trend", &[1, c], &sigma_trend);
    let x_self = g.op("Sub", &[&x, &x], vec![]);
    let x_missing = g.op("IsNaN", &[&x_self], vec![]);
    let finite = g.op("Not", &[&x_missing], vec![]);
    let never = g.op("And", &[&finite, &x_missing], vec![]);
    let watch_level = p.target != Target::Trend;
    let watch_trend = p.target != Target::Level;

    let (level_after, level_stat, level_crossed) = if watch_level {
        step(&mut g, &level, &x, &finite, &sigma_level, &limits)
    } else {
        (level.clone(), limits.zero.clone(), never.clone())
    };
    // A level crossing restarts the trend chart before it takes the row.
    let nan = g.op("Div", &[&limits.zero, &limits.zero], vec![]);
    let restart =
        |g: &mut Graph, v: &str, fresh: &str| g.op("Where", &[&level_crossed, fresh, v], vec![]);
    let trend_before = Chart {
        reference: restart(&mut g, &trend.reference, &nan),
        sum: restart(&mut g, &trend.sum, &limits.zero),
        count: restart(&mut g, &trend.count, &limits.zero),
        upper: restart(&mut g, &trend.upper, &limits.zero),
        lower: restart(&mut g, &trend.lower, &limits.zero),
    };
    let (trend_after, trend_stat) = if watch_trend {
        let prev_self = g.op("Sub", &[&previous, &previous], vec![]);
        let prev_missing = g.op("IsNaN", &[&prev_self], vec![]);
        let prev_finite = g.op("Not", &[&prev_missing], vec![]);
        let take = g.op("And", &[&finite, &prev_finite], vec![]);
        let diff = g.op("Sub", &[&x, &previous], vec![]);
        let (after, stat, _) = step(&mut g, &trend_before, &diff, &take, &sigma_trend, &limits);
        (after, stat)
    } else {
        (trend_before, limits.zero.clone())
    };
    let channel_score = g.op("Max", &[&level_stat, &trend_stat], vec![]);
    let channel_score = g.op("Where", &[&finite, &channel_score, &limits.zero], vec![]);
    let score = combine_channels(&mut g, &channel_score, p.combine, c, &axis1);
    let previous_after = g.op("Where", &[&finite, &x, &previous], vec![]);
    let entries = [
        level_after.reference,
        level_after.sum,
        level_after.count,
        level_after.upper,
        level_after.lower,
        trend_after.reference,
        trend_after.sum,
        trend_after.count,
        trend_after.upper,
        trend_after.lower,
        previous_after,
    ];
    streaming::state_out(&mut g, &entries, c, &axis2);
    let zero = g.const_f64("zero_flag", &[], &[0.0]);
    let never_row = g.op("IsNaN", &[&zero], vec![]);
    let mut out = finish(g, score, &never_row, options, "cusum", 1, c, c)?;
    out.score_tolerance = SCORE_TOLERANCE;
    out.relative_tolerance = RELATIVE_TOLERANCE;
    out.state = Some(StateSpec {
        input: "state".to_string(),
        output: "state_out".to_string(),
        shape: vec![c, n_state],
        layout: STATE_LAYOUT.iter().map(|s| (*s).to_string()).collect(),
        initial: (0..c).flat_map(|_| INITIAL_STATE).collect(),
    });
    Ok(out)
}
