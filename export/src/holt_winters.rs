//! Holt-Winters one-step forecast as a stateful graph: one row per call, the level, trend,
//! residual variance and seasonal values in and out (the same contract as the EWMA graph).
//!
//! The score of row t is `|y − forecast| / max(σ, 1e-9)` with the forecast and σ from the
//! state after row t − 1, as vigil computes it; the row then updates the state with vigil's
//! error-correction recursions (statsmodels' `ExponentialSmoothing`), term for term in
//! float64: NaN rows coast on the forecast, a finite error updates the running variance with
//! weight `scale_alpha`.
//!
//! State `[batch, channels, 3 + P]` float64, P the longest season of any channel (1 without
//! seasons): `level, trend, variance, season[0..P]`, where `season[0]` is the seasonal value
//! of the row being scored; each call rotates the channel's own `period` values by one, so the
//! graph never needs the row number. Channels keep their own fitted structure (trend none /
//! additive / multiplicative, damped or not; season none / additive / multiplicative).
//! The initial state (in [`crate::StateSpec::initial`]) is the fitted state before the FIRST
//! TRAINING row: a service replays the series from where the training data started (as vigil
//! scores it) and keeps `state_out` from then on.

use vigil_train::detectors::holt_winters::{Component, HoltWintersChannel, HoltWintersModel};

use crate::graph::{Attr, Dim, Graph};
use crate::iforest::finish;
use crate::proto::data_type;
use crate::stats::{SPREAD_FLOOR, combine_channels};
use crate::{ExportError, ExportOptions, OnnxModel, StateSpec};
use crate::{RELATIVE_TOLERANCE, SCORE_TOLERANCE};

// Float32 tolerance: the float64 recursion matches vigil's operation for operation (a
// multiplicative trend's `powf` may differ in the last bit); the float32 output adds 6e-8
// relative to scores in residual σ.
// (the shared `crate::SCORE_TOLERANCE` = 1e-5)
// Relative part, for large scores.
// (the shared `crate::RELATIVE_TOLERANCE` = 1e-6)

/// The state of one channel before the first training row, in the graph's layout.
fn initial_state(channel: &HoltWintersChannel, width: usize) -> Vec<f64> {
    let s = &channel.initial;
    let mut out = vec![s.level, s.trend, channel.sigma * channel.sigma];
    let period = channel.structure.period;
    if channel.structure.seasonal != Component::None && period > 0 {
        let first = s.row % period;
        out.extend((0..period).map(|j| s.season[(first + j) % period]));
    }
    out.resize(width, 0.0);
    out
}

pub(crate) fn export(
    model: &HoltWintersModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let c = model.channels.len();
    let seasons = model
        .channels
        .iter()
        .map(|f| {
            if f.state.structure.seasonal == Component::None {
                0
            } else {
                f.state.structure.period
            }
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let width = 3 + seasons;
    let mut g = Graph::new();
    g.input_f32(
        "x",
        &[Dim::Named("batch"), Dim::Fixed(1), Dim::Fixed(c)],
        "the new row of each series",
    );
    g.input_f64(
        "state",
        &[Dim::Named("batch"), Dim::Fixed(c), Dim::Fixed(width)],
        "level, trend, residual variance, seasonal values (season[0] belongs to this row) per \
         channel, as returned in state_out by the previous call",
    );
    let axis1 = g.const_i64("axis1", &[1], &[1]);
    let x = g.op(
        "Cast",
        &["x"],
        vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
    );
    let x = g.op("Squeeze", &[&x, &axis1], vec![]);
    let zero = g.const_f64("zero", &[], &[0.0]);
    let floor = g.const_f64("spread_floor", &[], &[SPREAD_FLOOR]);
    let mut scores = Vec::with_capacity(c);
    let mut states = Vec::with_capacity(c);
    for (k, fit) in model.channels.iter().enumerate() {
        let (z, state) = channel(
            &mut g, &x, k, fit.scale, &fit.state, model, width, &zero, &floor,
        );
        scores.push(z);
        states.push(state);
    }
    let refs: Vec<&str> = scores.iter().map(String::as_str).collect();
    let z = if refs.len() == 1 {
        g.op("Unsqueeze", &[refs[0], &axis1], vec![])
    } else {
        let parts: Vec<String> = refs
            .iter()
            .map(|r| g.op("Unsqueeze", &[r, &axis1], vec![]))
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        g.op("Concat", &parts, vec![("axis", Attr::Int(1))])
    };
    let score = combine_channels(&mut g, &z, model.params.combine, c, &axis1);
    let refs: Vec<&str> = states.iter().map(String::as_str).collect();
    g.op_to("Concat", &refs, vec![("axis", Attr::Int(1))], "state_out");
    g.trailing_output(
        "state_out",
        data_type::DOUBLE,
        &[Dim::Named("batch"), Dim::Fixed(c), Dim::Fixed(width)],
        "the state after this row: feed it as `state` with the next row",
    );
    let never = g.op("IsNaN", &[&zero], vec![]);
    let mut out = finish(g, score, &never, options, "holt_winters", 1, c, c)?;
    out.score_tolerance = SCORE_TOLERANCE;
    out.relative_tolerance = RELATIVE_TOLERANCE;
    let mut layout = vec![
        "level".to_string(),
        "trend".to_string(),
        "variance".to_string(),
    ];
    layout.extend((0..seasons).map(|j| format!("season[t+{j}]")));
    out.state = Some(StateSpec {
        input: "state".to_string(),
        output: "state_out".to_string(),
        shape: vec![c, width],
        layout,
        initial: model
            .channels
            .iter()
            .flat_map(|f| initial_state(&f.state, width))
            .collect(),
    });
    Ok(out)
}

/// One channel: its `[batch]` score and its `[batch, 1, width]` new state.
#[allow(clippy::too_many_arguments)]
fn channel(
    g: &mut Graph,
    x: &str,
    k: usize,
    scale: f64,
    fit: &HoltWintersChannel,
    model: &HoltWintersModel,
    width: usize,
    zero: &str,
    floor: &str,
) -> (String, String) {
    let s = fit.structure;
    let w = fit.smoothing;
    let idx = g.const_i64("channel", &[], &[k as i64]);
    let y = g.op("Gather", &[x, &idx], vec![("axis", Attr::Int(1))]);
    let scale_c = g.const_f64("channel_scale", &[], &[scale]);
    let y = g.op("Div", &[&y, &scale_c], vec![]);
    let idx = g.const_i64("channel", &[], &[k as i64]);
    let st = g.op("Gather", &["state", &idx], vec![("axis", Attr::Int(1))]);
    let col = |g: &mut Graph, j: usize| {
        let i = g.const_i64("slot", &[], &[j as i64]);
        g.op("Gather", &[&st, &i], vec![("axis", Attr::Int(1))])
    };
    let level = col(g, 0);
    let trend = col(g, 1);
    let variance = col(g, 2);
    let season = col(g, 3);
    let cst = |g: &mut Graph, name: &str, v: f64| g.const_f64(name, &[], &[v]);
    // Forecast from the state before the row.
    let damped = match s.trend {
        Component::None => zero.to_string(),
        Component::Add => {
            let phi = cst(g, "phi", w.phi);
            g.op("Mul", &[&trend, &phi], vec![])
        }
        Component::Mul => {
            let phi = cst(g, "phi", w.phi);
            g.op("Pow", &[&trend, &phi], vec![])
        }
    };
    let trended = match s.trend {
        Component::None => level.clone(),
        Component::Add => g.op("Add", &[&level, &damped], vec![]),
        Component::Mul => g.op("Mul", &[&level, &damped], vec![]),
    };
    let forecast = match s.seasonal {
        Component::None => trended.clone(),
        Component::Add => g.op("Add", &[&trended, &season], vec![]),
        Component::Mul => g.op("Mul", &[&trended, &season], vec![]),
    };
    // The score: finite rows only, σ from the variance before the row.
    let y_self = g.op("Sub", &[&y, &y], vec![]);
    let y_bad = g.op("IsNaN", &[&y_self], vec![]);
    let sd = g.op("Sqrt", &[&variance], vec![]);
    let spread = g.op("Max", &[&sd, floor], vec![]);
    let error = g.op("Sub", &[&y, &forecast], vec![]);
    let abs_error = g.op("Abs", &[&error], vec![]);
    let z = g.op("Div", &[&abs_error, &spread], vec![]);
    let z_self = g.op("Sub", &[&z, &z], vec![]);
    let z_bad = g.op("IsNaN", &[&z_self], vec![]);
    let off = g.op("Or", &[&y_bad, &z_bad], vec![]);
    let z = g.op("Where", &[&off, zero, &z], vec![]);
    // The running variance: a finite error on a finite row.
    let new_variance = if model.params.scale_alpha > 0.0 {
        let keep = cst(g, "one_minus_scale_alpha", 1.0 - model.params.scale_alpha);
        let sa = cst(g, "scale_alpha", model.params.scale_alpha);
        let a = g.op("Mul", &[&keep, &variance], vec![]);
        let b = g.op("Mul", &[&sa, &error], vec![]);
        let b = g.op("Mul", &[&b, &error], vec![]);
        let v = g.op("Add", &[&a, &b], vec![]);
        let e_self = g.op("Sub", &[&error, &error], vec![]);
        let e_bad = g.op("IsNaN", &[&e_self], vec![]);
        let skip = g.op("Or", &[&y_bad, &e_bad], vec![]);
        g.op("Where", &[&skip, &variance, &v], vec![])
    } else {
        variance.clone()
    };
    // The recursions (vigil's `State::update_at`); NaN rows coast.
    let y_nan = g.op("IsNaN", &[&y], vec![]);
    let alpha = cst(g, "alpha", w.alpha);
    let keep_alpha = cst(g, "one_minus_alpha", 1.0 - w.alpha);
    let carried = g.op("Mul", &[&keep_alpha, &trended], vec![]);
    let ay = g.op("Mul", &[&alpha, &y], vec![]);
    let level_new = match s.seasonal {
        Component::None => g.op("Add", &[&ay, &carried], vec![]),
        Component::Add => {
            let a_s = g.op("Mul", &[&alpha, &season], vec![]);
            let d = g.op("Sub", &[&ay, &a_s], vec![]);
            g.op("Add", &[&d, &carried], vec![])
        }
        Component::Mul => {
            let q = g.op("Div", &[&ay, &season], vec![]);
            g.op("Add", &[&q, &carried], vec![])
        }
    };
    let new_level = g.op("Where", &[&y_nan, &trended, &level_new], vec![]);
    let new_trend = match s.trend {
        Component::None => trend.clone(),
        Component::Add | Component::Mul => {
            let beta = cst(g, "beta", w.beta);
            let keep_beta = cst(g, "one_minus_beta", 1.0 - w.beta);
            let change = if s.trend == Component::Add {
                g.op("Sub", &[&level_new, &level], vec![])
            } else {
                g.op("Div", &[&level_new, &level], vec![])
            };
            let a = g.op("Mul", &[&beta, &change], vec![]);
            let b = g.op("Mul", &[&keep_beta, &damped], vec![]);
            let t = g.op("Add", &[&a, &b], vec![]);
            g.op("Where", &[&y_nan, &damped, &t], vec![])
        }
    };
    let period = if s.seasonal == Component::None {
        0
    } else {
        s.period
    };
    let mut parts = vec![new_level, new_trend, new_variance];
    if period > 0 {
        let gamma = cst(g, "gamma", w.gamma);
        let keep_gamma = cst(g, "one_minus_gamma", 1.0 - w.gamma);
        let gy = g.op("Mul", &[&gamma, &y], vec![]);
        let kept = g.op("Mul", &[&keep_gamma, &season], vec![]);
        let fresh = match s.seasonal {
            Component::Add => {
                let gt = g.op("Mul", &[&gamma, &trended], vec![]);
                g.op("Sub", &[&gy, &gt], vec![])
            }
            _ => g.op("Div", &[&gy, &trended], vec![]),
        };
        let updated = g.op("Add", &[&fresh, &kept], vec![]);
        let new_season = g.op("Where", &[&y_nan, &season, &updated], vec![]);
        // Rotate: the next row's slot moves to season[0], this row's goes last.
        for j in 1..period {
            parts.push(col(g, 3 + j));
        }
        parts.push(new_season);
        for j in period..width - 3 {
            parts.push(col(g, 3 + j));
        }
    } else {
        for j in 0..width - 3 {
            parts.push(col(g, 3 + j));
        }
    }
    let unsq: Vec<String> = parts
        .iter()
        .map(|p| {
            let axes = g.const_i64("axes", &[1], &[1]);
            g.op("Unsqueeze", &[p, &axes], vec![])
        })
        .collect();
    let refs: Vec<&str> = unsq.iter().map(String::as_str).collect();
    let row = g.op("Concat", &refs, vec![("axis", Attr::Int(1))]);
    let axes = g.const_i64("axes", &[1], &[1]);
    let state = g.op("Unsqueeze", &[&row, &axes], vec![]);
    (z, state)
}
