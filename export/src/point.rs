//! Point families over feature rows that map to plain tensor algebra (all float64 inside the
//! graph, float32 only for the `score` output):
//! - kNN distance: the stored (scaled) training rows, Euclidean distances to every one, `TopK`
//!   smallest k, then the k-th / mean / median distance (PyOD's `method`).
//! - PCA reconstruction score (PyOD's): the row standardised by the PCA scaler, its Euclidean
//!   distance to each selected minor component, divided by the component's weight, summed.

use vigil_train::detectors::knn::{KnnMethod, KnnModel};
use vigil_train::detectors::pca::{PcaModel, WEIGHT_FLOOR};
use vigil_train::features::FeatureModel;

use crate::features::{self, FeatureNodes, input_window};
use crate::graph::{Attr, Dim, Graph};
use crate::iforest::finish;
use crate::{ExportError, ExportOptions, OnnxModel};

/// Float32 tolerance of the kNN score: the float64 graph differs from vigil by summation
/// order only (~1e-15 relative); the float32 cast of the output adds 6e-8 relative, well
/// inside 1e-5 for distances in scaled feature space.
pub const SCORE_TOLERANCE: f64 = 1e-5;

/// PCA scores divide by explained-variance ratios and reach 1e3–1e5, where one float32 step
/// of the `score` output is already above 1e-5: the tolerance is relative, 1e-6 × |score|
/// (the float32 cast alone is at most 6e-8 relative), and never below 1e-5.
pub const PCA_RELATIVE_TOLERANCE: f64 = 1e-6;

/// `x` and the feature nodes every point family starts from.
fn start(fm: &FeatureModel) -> Result<(Graph, FeatureNodes), ExportError> {
    let mut g = Graph::new();
    g.input_f32(
        "x",
        &[
            Dim::Named("batch"),
            Dim::Fixed(input_window(fm)),
            Dim::Fixed(fm.channels),
        ],
        "the last rows of the series, oldest first; the last row is scored",
    );
    let feats = features::build(&mut g, fm, "x")?;
    Ok((g, feats))
}

/// Euclidean distances `[batch, m]` from each row of `rows` (`[batch, d]`) to each of the
/// `m` stored `points` (row-major `m × d`), as `sqrt(Σ (x − p)²)`.
fn distances(g: &mut Graph, rows: &str, points: &[f64], m: usize, d: usize) -> String {
    let p = g.const_f64("points", &[1, m, d], points);
    let axes = g.const_i64("unsqueeze_axes", &[1], &[1]);
    let x = g.op("Unsqueeze", &[rows, &axes], vec![]);
    let diff = g.op("Sub", &[&x, &p], vec![]);
    let sq = g.op("Mul", &[&diff, &diff], vec![]);
    let axes2 = g.const_i64("sum_axes", &[1], &[2]);
    let ssq = g.op(
        "ReduceSum",
        &[&sq, &axes2],
        vec![("keepdims", Attr::Int(0))],
    );
    g.op("Sqrt", &[&ssq], vec![])
}

pub(crate) fn export_knn(
    model: &KnnModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let fm = &model.features;
    let (mut g, feats) = start(fm)?;
    let points = model.model.tree.points();
    let (m, d) = points.dim();
    let k = model.model.n_neighbors;
    if k == 0 || k > m {
        return Err(ExportError::Param {
            name: "knn.n_neighbors",
            reason: format!("k = {k} with {m} stored rows"),
            hint: "refit with 1 <= k <= training rows",
        });
    }
    let flat: Vec<f64> = points.iter().copied().collect();
    let dist = distances(&mut g, &feats.scaled, &flat, m, d);
    let kk = g.const_i64("k", &[1], &[k as i64]);
    // Ascending k smallest distances.
    let top = g
        .op_n(
            "TopK",
            &[&dist, &kk],
            vec![
                ("axis", Attr::Int(1)),
                ("largest", Attr::Int(0)),
                ("sorted", Attr::Int(1)),
            ],
            2,
        )
        .swap_remove(0);
    let axes1 = g.const_i64("axes1", &[1], &[1]);
    let pick = |g: &mut Graph, i: usize| {
        let idx = g.const_i64("pick", &[], &[i as i64]);
        g.op("Gather", &[&top, &idx], vec![("axis", Attr::Int(1))])
    };
    let score = match model.model.method {
        KnnMethod::Largest => pick(&mut g, k - 1),
        KnnMethod::Mean => {
            let sum = g.op(
                "ReduceSum",
                &[&top, &axes1],
                vec![("keepdims", Attr::Int(0))],
            );
            let kf = g.const_f64("kf", &[], &[k as f64]);
            g.op("Div", &[&sum, &kf], vec![])
        }
        KnnMethod::Median if k % 2 == 1 => pick(&mut g, k / 2),
        KnnMethod::Median => {
            let a = pick(&mut g, k / 2 - 1);
            let b = pick(&mut g, k / 2);
            let s = g.op("Add", &[&a, &b], vec![]);
            let two = g.const_f64("two", &[], &[2.0]);
            g.op("Div", &[&s, &two], vec![])
        }
    };
    let mut out = finish(
        g,
        score,
        &feats.invalid,
        options,
        "knn",
        input_window(fm),
        fm.channels,
        fm.dim(),
    )?;
    out.score_tolerance = SCORE_TOLERANCE;
    Ok(out)
}

pub(crate) fn export_pca(
    model: &PcaModel,
    options: &ExportOptions,
    family: &str,
) -> Result<OnnxModel, ExportError> {
    if model.max_fill > 0 {
        return Err(ExportError::Unsupported {
            family: family.to_string(),
            reason: format!(
                "max_fill = {} fills missing rows from earlier rows of the series before the \
                 features; the exported graph sees only its input window",
                model.max_fill
            ),
        });
    }
    let fm = &model.rows.features;
    let state = &model.rows.model;
    let (mut g, feats) = start(fm)?;
    let d = state.features();
    let prescale = g.const_f64("prescale", &[d], &state.prescale);
    let mean = g.const_f64("pca_mean", &[d], &state.mean);
    let scale = g.const_f64("pca_scale", &[d], &state.scale);
    let a = g.op("Div", &[&feats.scaled, &prescale], vec![]);
    let b = g.op("Sub", &[&a, &mean], vec![]);
    let z = g.op("Div", &[&b, &scale], vec![]);
    let kept = state.components.nrows();
    let selected: Vec<usize> = (kept - state.n_selected..kept).collect();
    let mut comps = Vec::with_capacity(selected.len() * d);
    let mut weights = Vec::with_capacity(selected.len());
    for &c in &selected {
        comps.extend(state.components.row(c).iter().copied());
        weights.push(if state.weighted {
            state.explained_variance_ratio[c].max(WEIGHT_FLOOR)
        } else {
            1.0
        });
    }
    let dist = distances(&mut g, &z, &comps, selected.len(), d);
    let w = g.const_f64("weights", &[selected.len()], &weights);
    let ratio = g.op("Div", &[&dist, &w], vec![]);
    let axes1 = g.const_i64("axes1", &[1], &[1]);
    let score = g.op(
        "ReduceSum",
        &[&ratio, &axes1],
        vec![("keepdims", Attr::Int(0))],
    );
    let mut out = finish(
        g,
        score,
        &feats.invalid,
        options,
        family,
        input_window(fm),
        fm.channels,
        fm.dim(),
    )?;
    out.score_tolerance = SCORE_TOLERANCE;
    out.relative_tolerance = PCA_RELATIVE_TOLERANCE;
    Ok(out)
}
