//! EWMA control chart as a stateful graph: one row per call, the recursion's state in and out.
//!
//! Why state and not a window: the EWMA mean and variance weigh every earlier row (infinite
//! memory). A fixed window of L rows drops a weight of (1 − α)^L, but how much that moves the
//! score depends on the data, not on α alone: an old level shift of size Δ moves the mean by
//! Δ(1 − α)^L and the score by that over the current σ, unbounded in Δ/σ; and L would be
//! ln(1e-8)/ln(1 − α) ≈ 360 rows at α = 0.05, 1,840 at α = 0.01, every one re-read for every
//! scored row. The state form is exact (the same float64 operations as vigil, row by row), is
//! O(1) per row, and is what a streaming service does anyway.
//!
//! Inputs: `x` float32 `[batch, 1, channels]` (the new row) and `state` float64
//! `[batch, channels, 6]`; outputs `score`, `is_anomaly` and `state_out` (same shape as
//! `state`, to feed to the next call). The state per channel is pandas' `ewm` recursion
//! (`ignore_na = True`): observations, mean, cov, sum_wt, sum_wt2, old_wt; the initial state is
//! `[0, NaN, 0, 1, 1, 1]` (in [`crate::StateSpec::initial`]). The score uses the state BEFORE
//! the row (vigil scores row t with the statistics of rows < t), then the row updates it when
//! finite.

use vigil_train::detectors::ewma::EwmaModel;

use crate::graph::Graph;
use crate::iforest::finish;
use crate::stats::{SPREAD_FLOOR, combine_channels};
use crate::streaming::{self, Streaming};
use crate::{ExportError, ExportOptions, OnnxModel, StateSpec};
use crate::{RELATIVE_TOLERANCE, SCORE_TOLERANCE};

/// Entries of the state's last axis.
pub const STATE_LAYOUT: [&str; 6] = ["observations", "mean", "cov", "sum_wt", "sum_wt2", "old_wt"];

/// One channel's state before any row.
pub const INITIAL_STATE: [f64; 6] = [0.0, f64::NAN, 0.0, 1.0, 1.0, 1.0];

pub(crate) fn export(model: &EwmaModel, options: &ExportOptions) -> Result<OnnxModel, ExportError> {
    let c = model.channels.len();
    let alpha = model.alpha;
    let adjust = model.params.adjust;
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
        STATE_LAYOUT.len(),
        "the EWMA state after the previous row (observations, mean, cov, sum_wt, sum_wt2, \
         old_wt per channel); [0, NaN, 0, 1, 1, 1] before the first row",
    );
    let (obs, mean, cov, sum_wt, sum_wt2, old_wt) = (&s[0], &s[1], &s[2], &s[3], &s[4], &s[5]);
    let zero = g.const_f64("zero", &[], &[0.0]);
    let one = g.const_f64("one", &[], &[1.0]);
    let two = g.const_f64("two", &[], &[2.0]);
    let nan = g.const_f64("nan", &[], &[f64::NAN]);
    let x_self = g.op("Sub", &[&x, &x], vec![]);
    let x_missing = g.op("IsNaN", &[&x_self], vec![]);
    let x_finite = g.op("Not", &[&x_missing], vec![]);

    // The score from the state before the row (vigil's `EwState::var`, then `standardised`).
    let numerator = g.op("Mul", &[sum_wt, sum_wt], vec![]);
    let denominator = g.op("Sub", &[&numerator, sum_wt2], vec![]);
    let ratio = g.op("Div", &[&numerator, &denominator], vec![]);
    let var = g.op("Mul", &[&ratio, cov], vec![]);
    let few = g.op("Less", &[obs, &two], vec![]);
    let positive = g.op("Greater", &[&denominator, &zero], vec![]);
    let not_positive = g.op("Not", &[&positive], vec![]);
    let undefined = g.op("Or", &[&few, &not_positive], vec![]);
    let var = g.op("Where", &[&undefined, &nan, &var], vec![]);
    let var_self = g.op("Sub", &[&var, &var], vec![]);
    let var_bad = g.op("IsNaN", &[&var_self], vec![]);
    let var_pos = g.op("Max", &[&var, &zero], vec![]);
    let sd = g.op("Sqrt", &[&var_pos], vec![]);
    let sd = g.op("Where", &[&var_bad, &zero, &sd], vec![]);
    let floor = g.const_f64("spread_floor", &[], &[SPREAD_FLOOR]);
    let spread = g.op("Max", &[&sd, &floor], vec![]);
    let dev = g.op("Sub", &[&x, mean], vec![]);
    let absdev = g.op("Abs", &[&dev], vec![]);
    let z = g.op("Div", &[&absdev, &spread], vec![]);
    let min_periods = g.const_f64("min_periods", &[], &[model.params.min_periods as f64]);
    let warming = g.op("Less", &[obs, &min_periods], vec![]);
    let z_self = g.op("Sub", &[&z, &z], vec![]);
    let z_bad = g.op("IsNaN", &[&z_self], vec![]);
    let off = g.op("Or", &[&warming, &z_bad], vec![]);
    let off = g.op("Or", &[&off, &x_missing], vec![]);
    let z = g.op("Where", &[&off, &zero, &z], vec![]);
    let score = combine_channels(&mut g, &z, model.params.combine, c, &axis1);

    // The update (vigil's `EwState::update`, term for term).
    let factor = 1.0 - alpha;
    let new_wt = if adjust { 1.0 } else { alpha };
    let f = g.const_f64("old_wt_factor", &[], &[factor]);
    let ff = g.const_f64("old_wt_factor_sq", &[], &[factor * factor]);
    let nw = g.const_f64("new_wt", &[], &[new_wt]);
    let nw2 = g.const_f64("new_wt_sq", &[], &[new_wt * new_wt]);
    let obs1 = g.op("Add", &[obs, &one], vec![]);
    let first = g.op("Equal", &[obs, &zero], vec![]);
    let sw = g.op("Mul", &[sum_wt, &f], vec![]);
    let sw2 = g.op("Mul", &[sum_wt2, &ff], vec![]);
    let ow = g.op("Mul", &[old_wt, &f], vec![]);
    let a = g.op("Mul", &[&ow, mean], vec![]);
    let b = g.op("Mul", &[&nw, &x], vec![]);
    let num = g.op("Add", &[&a, &b], vec![]);
    let den = g.op("Add", &[&ow, &nw], vec![]);
    let moved = g.op("Div", &[&num, &den], vec![]);
    let same = g.op("Equal", &[mean, &x], vec![]);
    let mean1 = g.op("Where", &[&same, mean, &moved], vec![]);
    let d_old = g.op("Sub", &[mean, &mean1], vec![]);
    let d_new = g.op("Sub", &[&x, &mean1], vec![]);
    let d_old2 = g.op("Mul", &[&d_old, &d_old], vec![]);
    let d_new2 = g.op("Mul", &[&d_new, &d_new], vec![]);
    let inner = g.op("Add", &[cov, &d_old2], vec![]);
    let left = g.op("Mul", &[&ow, &inner], vec![]);
    let right = g.op("Mul", &[&nw, &d_new2], vec![]);
    let cov_num = g.op("Add", &[&left, &right], vec![]);
    let cov1 = g.op("Div", &[&cov_num, &den], vec![]);
    let sw = g.op("Add", &[&sw, &nw], vec![]);
    let sw2 = g.op("Add", &[&sw2, &nw2], vec![]);
    let ow = g.op("Add", &[&ow, &nw], vec![]);
    let (sw, sw2, ow) = if adjust {
        (sw, sw2, ow)
    } else {
        let sw = g.op("Div", &[&sw, &ow], vec![]);
        let ow_sq = g.op("Mul", &[&ow, &ow], vec![]);
        let sw2 = g.op("Div", &[&sw2, &ow_sq], vec![]);
        (sw, sw2, one.clone())
    };
    // First observation: the mean becomes the value, nothing else moves.
    let pick = |g: &mut Graph, first_value: &str, updated: &str, before: &str| {
        let v = g.op("Where", &[&first, first_value, updated], vec![]);
        g.op("Where", &[&x_finite, &v, before], vec![])
    };
    let new_obs = g.op("Where", &[&x_finite, &obs1, obs], vec![]);
    let new_mean = pick(&mut g, &x, &mean1, mean);
    let new_cov = pick(&mut g, cov, &cov1, cov);
    let new_sw = pick(&mut g, sum_wt, &sw, sum_wt);
    let new_sw2 = pick(&mut g, sum_wt2, &sw2, sum_wt2);
    let new_ow = pick(&mut g, old_wt, &ow, old_wt);
    streaming::state_out(
        &mut g,
        &[new_obs, new_mean, new_cov, new_sw, new_sw2, new_ow],
        c,
        &axis2,
    );
    let never = g.op("IsNaN", &[&zero], vec![]);
    let mut out = finish(g, score, &never, options, "ewma", 1, c, c)?;
    out.score_tolerance = SCORE_TOLERANCE;
    out.relative_tolerance = RELATIVE_TOLERANCE;
    out.state = Some(StateSpec {
        input: "state".to_string(),
        output: "state_out".to_string(),
        shape: vec![c, STATE_LAYOUT.len()],
        layout: STATE_LAYOUT.iter().map(|s| (*s).to_string()).collect(),
        initial: (0..c).flat_map(|_| INITIAL_STATE).collect(),
    });
    Ok(out)
}
