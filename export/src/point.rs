//! Point families over feature rows that map to plain tensor algebra (all float64 inside the
//! graph, float32 only for the `score` output):
//! - kNN distance: the stored (scaled) training rows, Euclidean distances to every one, `TopK`
//!   smallest k, then the k-th / mean / median distance (PyOD's `method`).
//! - LOF (novelty, scikit-learn's): distances to every stored training row, `TopK` k
//!   smallest with their indices, the reachability distances `max(d, k-distance(o))`, the
//!   row's lrd `1 / (mean + 1e-10)` and the mean of `lrd(o) / lrd(x)` over the neighbours.
//!   Neighbours at exactly equal distance may be taken in another order than vigil's k-d tree
//!   (continuous data have none).
//! - One-class SVM (RBF): `ρ − Σ αᵢ exp(−γ‖svᵢ − x/prescale‖²)` over the support vectors.
//! - ECOD (novelty, PyOD's rule with the row itself counted): per feature the count of
//!   stored training values `<=` and `>=` the row's value by elementwise comparison with the
//!   stored sorted training columns (`[n, d]`, all columns of equal length n), the tail
//!   probabilities `(count + 1) / (n + 1)`, `−ln`, the skew rule, summed. O(n·d) per row where
//!   vigil binary-searches (O(d log n)); exact counts, so only the float32 output differs.
//! - PCA reconstruction score (PyOD's): the row standardised by the PCA scaler, its Euclidean
//!   distance to each selected minor component, divided by the component's weight, summed.

use vigil_train::detectors::ecod::EcodModel;
use vigil_train::detectors::knn::{KnnMethod, KnnModel};
use vigil_train::detectors::lof::LofModel;
use vigil_train::detectors::ocsvm::OcsvmModel;
use vigil_train::detectors::pca::{PcaModel, WEIGHT_FLOOR};
use vigil_train::features::FeatureModel;

use crate::features::{self, FeatureNodes, input_window};
use crate::graph::{Attr, Dim, Graph};
use crate::iforest::finish;
use crate::{ExportError, ExportOptions, OnnxModel};
use crate::{RELATIVE_TOLERANCE, SCORE_TOLERANCE};

// Float32 tolerance of the kNN score: the float64 graph differs from vigil by summation
// order only (~1e-15 relative); the float32 cast of the output adds 6e-8 relative, well
// inside 1e-5 for distances in scaled feature space.
// (the shared `crate::SCORE_TOLERANCE` = 1e-5)

// PCA scores divide by explained-variance ratios and reach 1e3–1e5, where one float32 step
// of the `score` output is already above 1e-5: the tolerance is relative, 1e-6 × |score|
// (the float32 cast alone is at most 6e-8 relative), and never below 1e-5.
// (the shared `crate::RELATIVE_TOLERANCE` = 1e-6)

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
    let ssq = squared_distances(g, rows, points, m, d);
    g.op("Sqrt", &[&ssq], vec![])
}

/// `Σ (p − x)²` `[batch, m]` for each stored point (the sign of the difference does not
/// change its square).
fn squared_distances(g: &mut Graph, rows: &str, points: &[f64], m: usize, d: usize) -> String {
    let p = g.const_f64("points", &[1, m, d], points);
    let axes = g.const_i64("unsqueeze_axes", &[1], &[1]);
    let x = g.op("Unsqueeze", &[rows, &axes], vec![]);
    let diff = g.op("Sub", &[&x, &p], vec![]);
    let sq = g.op("Mul", &[&diff, &diff], vec![]);
    let axes2 = g.const_i64("sum_axes", &[1], &[2]);
    g.op(
        "ReduceSum",
        &[&sq, &axes2],
        vec![("keepdims", Attr::Int(0))],
    )
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
    out.relative_tolerance = RELATIVE_TOLERANCE;
    Ok(out)
}

/// scikit-learn's guard in the lrd (vigil's `LRD_EPSILON`).
const LRD_EPSILON: f64 = 1e-10;

// LOF scores sit near 1 for inliers and grow for outliers (ratios of densities, up to ~1e3 on
// isolated rows): the float32 output alone is 6e-8 relative, so 1e-5 + 1e-6 × |score|.
// (the shared `crate::RELATIVE_TOLERANCE` = 1e-6)

pub(crate) fn export_lof(
    model: &LofModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let fm = &model.features;
    let state = &model.model;
    let (mut g, feats) = start(fm)?;
    let points = state.tree.points();
    let (m, d) = points.dim();
    let k = state.n_neighbors;
    if k == 0 || k > m {
        return Err(ExportError::Param {
            name: "lof.n_neighbors",
            reason: format!("k = {k} with {m} stored rows"),
            hint: "refit with 1 <= k < training rows",
        });
    }
    // Per stored point (tree order): its k-distance and lrd, from the per-row fitted state.
    let rows = state.tree.point_rows();
    let k_distance: Vec<f64> = rows.iter().map(|&r| state.k_distance[r as usize]).collect();
    let lrd: Vec<f64> = rows.iter().map(|&r| state.lrd[r as usize]).collect();
    let flat: Vec<f64> = points.iter().copied().collect();
    let dist = distances(&mut g, &feats.scaled, &flat, m, d);
    let kk = g.const_i64("k", &[1], &[k as i64]);
    let mut top = g.op_n(
        "TopK",
        &[&dist, &kk],
        vec![
            ("axis", Attr::Int(1)),
            ("largest", Attr::Int(0)),
            ("sorted", Attr::Int(1)),
        ],
        2,
    );
    let idx = top.pop().expect("indices");
    let near = top.pop().expect("values");
    let kd = g.const_f64("k_distance", &[m], &k_distance);
    let lrd_c = g.const_f64("lrd", &[m], &lrd);
    let kd_of = g.op("Gather", &[&kd, &idx], vec![("axis", Attr::Int(0))]);
    let lrd_of = g.op("Gather", &[&lrd_c, &idx], vec![("axis", Attr::Int(0))]);
    let reach = g.op("Max", &[&near, &kd_of], vec![]);
    let axes1 = g.const_i64("axes1", &[1], &[1]);
    let kf = g.const_f64("kf", &[], &[k as f64]);
    let sum = g.op(
        "ReduceSum",
        &[&reach, &axes1],
        vec![("keepdims", Attr::Int(1))],
    );
    let mean = g.op("Div", &[&sum, &kf], vec![]);
    let eps = g.const_f64("lrd_epsilon", &[], &[LRD_EPSILON]);
    let denom = g.op("Add", &[&mean, &eps], vec![]);
    let one = g.const_f64("one", &[], &[1.0]);
    let own = g.op("Div", &[&one, &denom], vec![]);
    let ratios = g.op("Div", &[&lrd_of, &own], vec![]);
    let total = g.op(
        "ReduceSum",
        &[&ratios, &axes1],
        vec![("keepdims", Attr::Int(0))],
    );
    let score = g.op("Div", &[&total, &kf], vec![]);
    let mut out = finish(
        g,
        score,
        &feats.invalid,
        options,
        "lof",
        input_window(fm),
        fm.channels,
        fm.dim(),
    )?;
    out.score_tolerance = SCORE_TOLERANCE;
    out.relative_tolerance = RELATIVE_TOLERANCE;
    Ok(out)
}

// One-class SVM scores are `ρ − Σ αᵢ K`, of the order of Σ αᵢ (up to ν × training rows in
// libsvm's scaling): the tolerance is 1e-5 + 1e-6 × |score|.
// (the shared `crate::RELATIVE_TOLERANCE` = 1e-6)

pub(crate) fn export_ocsvm(
    model: &OcsvmModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let fm = &model.features;
    let state = &model.model;
    let (mut g, feats) = start(fm)?;
    let (m, d) = state.support_vectors.dim();
    let prescale = g.const_f64("prescale", &[], &[state.prescale]);
    let z = g.op("Div", &[&feats.scaled, &prescale], vec![]);
    let flat: Vec<f64> = state.support_vectors.iter().copied().collect();
    let ssq = squared_distances(&mut g, &z, &flat, m, d);
    let neg_gamma = g.const_f64("neg_gamma", &[], &[-state.gamma]);
    let arg = g.op("Mul", &[&neg_gamma, &ssq], vec![]);
    let kernel = g.op("Exp", &[&arg], vec![]);
    let coef = g.const_f64("dual_coef", &[m], &state.dual_coef);
    let weighted = g.op("Mul", &[&kernel, &coef], vec![]);
    let axes1 = g.const_i64("axes1", &[1], &[1]);
    let sum = g.op(
        "ReduceSum",
        &[&weighted, &axes1],
        vec![("keepdims", Attr::Int(0))],
    );
    let rho = g.const_f64("rho", &[], &[state.rho]);
    let score = g.op("Sub", &[&rho, &sum], vec![]);
    let mut out = finish(
        g,
        score,
        &feats.invalid,
        options,
        "ocsvm",
        input_window(fm),
        fm.channels,
        fm.dim(),
    )?;
    out.score_tolerance = SCORE_TOLERANCE;
    out.relative_tolerance = RELATIVE_TOLERANCE;
    Ok(out)
}

// ECOD sums −ln tail probabilities over the features: scores of a few to ~10 per feature.
// (the shared `crate::RELATIVE_TOLERANCE` = 1e-6)

/// numpy's `sign`.
fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

pub(crate) fn export_ecod(
    model: &EcodModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let fm = &model.features;
    let state = &model.model;
    let d = state.sorted.len();
    let n = state.sorted.first().map_or(0, Vec::len);
    if n == 0 || state.sorted.iter().any(|c| c.len() != n) {
        return Err(ExportError::Unsupported {
            family: "ecod".to_string(),
            reason: "the stored training columns differ in length (non-finite training \
                     values were left out of some): the graph stores them as one [n, d] matrix"
                .to_string(),
        });
    }
    let (mut g, feats) = start(fm)?;
    let mut flat = Vec::with_capacity(n * d);
    for i in 0..n {
        for column in &state.sorted {
            flat.push(column[i]);
        }
    }
    let stored = g.const_f64("sorted_training_columns", &[1, n, d], &flat);
    let axes = g.const_i64("unsqueeze_axes", &[1], &[1]);
    let x = g.op("Unsqueeze", &[&feats.scaled, &axes], vec![]);
    let axes1 = g.const_i64("axes1", &[1], &[1]);
    let count = |g: &mut Graph, op: &str| {
        let hit = g.op(op, &[&stored, &x], vec![]);
        let hit = g.op(
            "Cast",
            &[&hit],
            vec![("to", Attr::Int(i64::from(crate::proto::data_type::DOUBLE)))],
        );
        g.op(
            "ReduceSum",
            &[&hit, &axes1],
            vec![("keepdims", Attr::Int(0))],
        )
    };
    let below = count(&mut g, "LessOrEqual");
    let above = count(&mut g, "GreaterOrEqual");
    let one = g.const_f64("one", &[], &[1.0]);
    let n1 = g.const_f64("n_plus_one", &[], &[n as f64 + 1.0]);
    let tail = |g: &mut Graph, c: &str| {
        let k = g.op("Add", &[c, &one], vec![]);
        let p = g.op("Div", &[&k, &n1], vec![]);
        let l = g.op("Log", &[&p], vec![]);
        g.op("Neg", &[&l], vec![])
    };
    let left = tail(&mut g, &below);
    let right = tail(&mut g, &above);
    let a: Vec<f64> = state.skew_sign.iter().map(|s| -sign(s - 1.0)).collect();
    let b: Vec<f64> = state.skew_sign.iter().map(|s| sign(s + 1.0)).collect();
    let a = g.const_f64("skew_left", &[d], &a);
    let b = g.const_f64("skew_right", &[d], &b);
    let la = g.op("Mul", &[&left, &a], vec![]);
    let rb = g.op("Mul", &[&right, &b], vec![]);
    let by_skew = g.op("Add", &[&la, &rb], vec![]);
    let best = g.op("Max", &[&left, &right, &by_skew], vec![]);
    let score = g.op(
        "ReduceSum",
        &[&best, &axes1],
        vec![("keepdims", Attr::Int(0))],
    );
    let mut out = finish(
        g,
        score,
        &feats.invalid,
        options,
        "ecod",
        input_window(fm),
        fm.channels,
        fm.dim(),
    )?;
    out.score_tolerance = SCORE_TOLERANCE;
    out.relative_tolerance = RELATIVE_TOLERANCE;
    Ok(out)
}
