//! Statistical families over an input window, in float64: the score of the window's LAST row.
//!
//! The input holds the previous `window` rows and the scored row (`[batch, window + 1,
//! channels]`); each channel is divided by its training scale (a power of two, exact), the
//! finite values among the previous rows are the window's observations, the score is 0 when
//! fewer than `min_periods` of them are finite or the row itself is missing, and the channels
//! combine by max or mean as in vigil.
//! - Rolling z-score, mean/σ: two-pass mean and sample σ (vigil keeps running moments, ~1e-13
//!   relative apart over long series); `|x − mean| / max(σ, 1e-9)`.
//! - Rolling z-score, median/MAD: the previous values sorted by `TopK` (missing values sent
//!   to +∞ so they sort last), the median of the first `count` as vigil's sorted window takes
//!   it, the absolute deviations sorted again for the MAD; `|x − median| / max(1.4826·MAD,
//!   1e-9)`. The same float64 operations as vigil, so the float64 score is identical.
//! - Rolling percentile: the `lower`/`upper` quantiles of the sorted previous values with
//!   vigil's linear interpolation (pandas'), the band centre and half-width, the one-sided or
//!   two-sided distance in half-widths. Identical float64 operations as well.

use vigil_train::detectors::percentile::{RollingPercentileModel, Side};
use vigil_train::detectors::zscore::{Center, MAD_TO_SIGMA, RollingZScoreModel};
use vigil_train::scores::Combine;

use crate::graph::{Attr, Dim, Graph};
use crate::iforest::finish;
use crate::proto::data_type;
use crate::{ExportError, ExportOptions, OnnxModel};
use crate::{RELATIVE_TOLERANCE, SCORE_TOLERANCE};

// Float32 tolerance: the float64 graph is within ~1e-12 of vigil (identical for the sorted
// families); the float32 output adds 6e-8 relative (scores are in spreads, normally < 100).
// (the shared `crate::SCORE_TOLERANCE` = 1e-5)
// Relative part: 1e-6 × |score| for the rare huge scores of near-constant stretches.
// (the shared `crate::RELATIVE_TOLERANCE` = 1e-6)

/// vigil's `SPREAD_FLOOR`.
pub(crate) const SPREAD_FLOOR: f64 = 1e-9;

/// The previous rows and the scored row of a `[batch, window + 1, channels]` input, scaled.
pub(crate) struct Window {
    /// `[batch, window, channels]` float64 previous rows (scaled; may hold NaN/±∞).
    pub prev: String,
    /// `[batch, channels]` float64 scored row (scaled).
    pub cur: String,
    /// `[batch, window, channels]` bool: the previous value is NaN or ±∞.
    pub missing: String,
    /// `[batch, 1, channels]` float64 count of finite previous values.
    pub count: String,
    /// Scalar float64 constants 0 and 1.
    pub zero: String,
    pub one: String,
    /// int64 `[1]` constant 1 (axis 1).
    pub axis1: String,
}

/// Declares `x` as `[batch, window + 1, channels]` float32 and splits it.
pub(crate) fn window_input(g: &mut Graph, window: usize, scales: &[f64]) -> Window {
    let c = scales.len();
    g.input_f32(
        "x",
        &[Dim::Named("batch"), Dim::Fixed(window + 1), Dim::Fixed(c)],
        "the previous `window` rows and the scored row (last), oldest first",
    );
    let x = g.op(
        "Cast",
        &["x"],
        vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
    );
    let scale = g.const_f64("channel_scale", &[1, 1, c], scales);
    let x = g.op("Div", &[&x, &scale], vec![]);
    let starts = g.const_i64("prev_start", &[1], &[0]);
    let ends = g.const_i64("prev_end", &[1], &[window as i64]);
    let cur_start = g.const_i64("cur_start", &[1], &[window as i64]);
    let cur_end = g.const_i64("cur_end", &[1], &[(window + 1) as i64]);
    let axis1 = g.const_i64("axis1", &[1], &[1]);
    let prev = g.op("Slice", &[&x, &starts, &ends, &axis1], vec![]);
    let cur3 = g.op("Slice", &[&x, &cur_start, &cur_end, &axis1], vec![]);
    let cur = g.op("Squeeze", &[&cur3, &axis1], vec![]);
    // NaN and ±∞ are not observations: x − x is NaN for both.
    let self_diff = g.op("Sub", &[&prev, &prev], vec![]);
    let missing = g.op("IsNaN", &[&self_diff], vec![]);
    let zero = g.const_f64("zero", &[], &[0.0]);
    let one = g.const_f64("one", &[], &[1.0]);
    let present = g.op("Where", &[&missing, &zero, &one], vec![]);
    let count = g.op(
        "ReduceSum",
        &[&present, &axis1],
        vec![("keepdims", Attr::Int(1))],
    );
    Window {
        prev,
        cur,
        missing,
        count,
        zero,
        one,
        axis1,
    }
}

/// Channel scores `z` (`[batch, channels]`) to the row score: 0 while fewer than
/// `min_periods` previous values are finite, 0 for a non-finite channel score (a missing
/// row), then max or mean over the channels, then vigil's output with the threshold.
#[allow(clippy::too_many_arguments)]
pub(crate) fn window_output(
    mut g: Graph,
    w: &Window,
    z: &str,
    min_periods: usize,
    combine: Combine,
    options: &ExportOptions,
    family: &str,
    window: usize,
    channels: usize,
) -> Result<OnnxModel, ExportError> {
    let count = g.op("Squeeze", &[&w.count, &w.axis1], vec![]);
    let min_periods = g.const_f64("min_periods", &[], &[min_periods as f64]);
    let warming = g.op("Less", &[&count, &min_periods], vec![]);
    let z_self = g.op("Sub", &[z, z], vec![]);
    let bad = g.op("IsNaN", &[&z_self], vec![]);
    let off = g.op("Or", &[&warming, &bad], vec![]);
    let z = g.op("Where", &[&off, &w.zero, z], vec![]);
    let score = combine_channels(&mut g, &z, combine, channels, &w.axis1);
    // No separate invalid rows: missing inputs are handled above.
    let never = g.op("IsNaN", &[&w.zero], vec![]);
    let mut out = finish(
        g,
        score,
        &never,
        options,
        family,
        window + 1,
        channels,
        channels,
    )?;
    out.score_tolerance = SCORE_TOLERANCE;
    out.relative_tolerance = RELATIVE_TOLERANCE;
    Ok(out)
}

/// `[batch, channels]` → `[batch]` by vigil's channel combination.
pub(crate) fn combine_channels(
    g: &mut Graph,
    z: &str,
    combine: Combine,
    channels: usize,
    axis1: &str,
) -> String {
    match combine {
        Combine::Max => g.op(
            "ReduceMax",
            &[z],
            vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))],
        ),
        Combine::Mean => {
            let n = g.const_f64("channels", &[], &[channels as f64]);
            let parts = g.op("Div", &[z, &n], vec![]);
            g.op(
                "ReduceSum",
                &[&parts, axis1],
                vec![("keepdims", Attr::Int(0))],
            )
        }
    }
}

/// `|deviation| / max(spread, 1e-9)` (vigil's `standardised`).
fn standardised(g: &mut Graph, deviation: &str, spread: &str) -> String {
    let floor = g.const_f64("spread_floor", &[], &[SPREAD_FLOOR]);
    let spread = g.op("Max", &[spread, &floor], vec![]);
    let absdev = g.op("Abs", &[deviation], vec![]);
    g.op("Div", &[&absdev, &spread], vec![])
}

/// The previous values sorted ascending along the window axis, missing ones (+∞) last.
fn sorted_window(g: &mut Graph, values: &str, missing: &str, window: usize) -> String {
    let inf = g.const_f64("inf", &[], &[f64::INFINITY]);
    let v = g.op("Where", &[missing, &inf, values], vec![]);
    let k = g.const_i64("window", &[1], &[window as i64]);
    g.op_n(
        "TopK",
        &[&v, &k],
        vec![
            ("axis", Attr::Int(1)),
            ("largest", Attr::Int(0)),
            ("sorted", Attr::Int(1)),
        ],
        2,
    )
    .swap_remove(0)
}

/// `sorted[index]` along axis 1 for a float64 index tensor `[batch, 1, channels]`
/// (clamped at 0 so a warming-up window indexes safely), squeezed to `[batch, channels]`.
fn pick(g: &mut Graph, sorted: &str, index: &str, w: &Window) -> String {
    let clamped = g.op("Max", &[index, &w.zero], vec![]);
    let idx = g.op(
        "Cast",
        &[&clamped],
        vec![("to", Attr::Int(i64::from(data_type::INT64)))],
    );
    let got = g.op(
        "GatherElements",
        &[sorted, &idx],
        vec![("axis", Attr::Int(1))],
    );
    g.op("Squeeze", &[&got, &w.axis1], vec![])
}

/// The median of the first `count` sorted values, as vigil's sorted window: the middle one,
/// or the mean of the two middle ones (`(a + b) / 2`, which is `a` when both are the same).
fn median_of_sorted(g: &mut Graph, sorted: &str, w: &Window) -> String {
    let two = g.const_f64("two", &[], &[2.0]);
    let count_minus_one = g.op("Sub", &[&w.count, &w.one], vec![]);
    let lo = g.op("Div", &[&count_minus_one, &two], vec![]);
    let lo = g.op("Floor", &[&lo], vec![]);
    let hi = g.op("Div", &[&w.count, &two], vec![]);
    let hi = g.op("Floor", &[&hi], vec![]);
    let a = pick(g, sorted, &lo, w);
    let b = pick(g, sorted, &hi, w);
    let s = g.op("Add", &[&a, &b], vec![]);
    g.op("Div", &[&s, &two], vec![])
}

pub(crate) fn export_zscore(
    model: &RollingZScoreModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let window = model.params.window;
    let c = model.channels.len();
    let scales: Vec<f64> = model.channels.iter().map(|f| f.scale).collect();
    let mut g = Graph::new();
    let w = window_input(&mut g, window, &scales);
    let z = match model.params.center {
        Center::MeanStd => {
            let values = g.op("Where", &[&w.missing, &w.zero, &w.prev], vec![]);
            let sum = g.op(
                "ReduceSum",
                &[&values, &w.axis1],
                vec![("keepdims", Attr::Int(1))],
            );
            let mean = g.op("Div", &[&sum, &w.count], vec![]);
            let centred = g.op("Sub", &[&values, &mean], vec![]);
            let centred = g.op("Where", &[&w.missing, &w.zero, &centred], vec![]);
            let sq = g.op("Mul", &[&centred, &centred], vec![]);
            let ssq = g.op(
                "ReduceSum",
                &[&sq, &w.axis1],
                vec![("keepdims", Attr::Int(0))],
            );
            let count = g.op("Squeeze", &[&w.count, &w.axis1], vec![]);
            let mean = g.op("Squeeze", &[&mean, &w.axis1], vec![]);
            let dof = g.op("Sub", &[&count, &w.one], vec![]);
            let var = g.op("Div", &[&ssq, &dof], vec![]);
            let std = g.op("Sqrt", &[&var], vec![]);
            let dev = g.op("Sub", &[&w.cur, &mean], vec![]);
            standardised(&mut g, &dev, &std)
        }
        Center::MedianMad => {
            let sorted = sorted_window(&mut g, &w.prev, &w.missing, window);
            let median = median_of_sorted(&mut g, &sorted, &w);
            // Absolute deviations of the observations from the median, sorted again.
            let axes = g.const_i64("unsqueeze_axes", &[1], &[1]);
            let median3 = g.op("Unsqueeze", &[&median, &axes], vec![]);
            let dev = g.op("Sub", &[&w.prev, &median3], vec![]);
            let absdev = g.op("Abs", &[&dev], vec![]);
            let sorted_dev = sorted_window(&mut g, &absdev, &w.missing, window);
            let mad = median_of_sorted(&mut g, &sorted_dev, &w);
            let k = g.const_f64("mad_to_sigma", &[], &[MAD_TO_SIGMA]);
            let spread = g.op("Mul", &[&k, &mad], vec![]);
            let dev = g.op("Sub", &[&w.cur, &median], vec![]);
            standardised(&mut g, &dev, &spread)
        }
    };
    window_output(
        g,
        &w,
        &z,
        model.min_periods,
        model.params.combine,
        options,
        "rolling_zscore",
        window,
        c,
    )
}

pub(crate) fn export_percentile(
    model: &RollingPercentileModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let p = &model.params;
    let window = p.window;
    let c = model.channels.len();
    let scales: Vec<f64> = model.channels.iter().map(|f| f.scale).collect();
    let mut g = Graph::new();
    let w = window_input(&mut g, window, &scales);
    let sorted = sorted_window(&mut g, &w.prev, &w.missing, window);
    let count_minus_one = g.op("Sub", &[&w.count, &w.one], vec![]);
    // vigil's quantile: position q(n − 1), low = s[⌊position⌋], high = s[min(⌊position⌋ + 1,
    // n − 1)], low + (high − low)(position − ⌊position⌋) (= low when the fraction is 0).
    let quantile = |g: &mut Graph, q: f64| {
        let qc = g.const_f64("q", &[], &[q]);
        let position = g.op("Mul", &[&qc, &count_minus_one], vec![]);
        let index = g.op("Floor", &[&position], vec![]);
        let next = g.op("Add", &[&index, &w.one], vec![]);
        let next = g.op("Min", &[&next, &count_minus_one], vec![]);
        let low = pick(g, &sorted, &index, &w);
        let high = pick(g, &sorted, &next, &w);
        let fraction = g.op("Sub", &[&position, &index], vec![]);
        let fraction = g.op("Squeeze", &[&fraction, &w.axis1], vec![]);
        let span = g.op("Sub", &[&high, &low], vec![]);
        let step = g.op("Mul", &[&span, &fraction], vec![]);
        g.op("Add", &[&low, &step], vec![])
    };
    let lo = quantile(&mut g, p.lower);
    let hi = quantile(&mut g, p.upper);
    let half_c = g.const_f64("half", &[], &[0.5]);
    let sum = g.op("Add", &[&lo, &hi], vec![]);
    let center = g.op("Mul", &[&half_c, &sum], vec![]);
    let width = g.op("Sub", &[&hi, &lo], vec![]);
    let half = g.op("Mul", &[&half_c, &width], vec![]);
    let deviation = g.op("Sub", &[&w.cur, &center], vec![]);
    let deviation = match p.side {
        Side::Upper => g.op("Max", &[&deviation, &w.zero], vec![]),
        Side::Lower => g.op("Min", &[&deviation, &w.zero], vec![]),
        Side::Both => deviation,
    };
    let z = standardised(&mut g, &deviation, &half);
    window_output(
        g,
        &w,
        &z,
        model.min_periods,
        p.combine,
        options,
        "rolling_percentile",
        window,
        c,
    )
}
