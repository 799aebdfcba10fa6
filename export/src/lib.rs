//! ONNX export of fitted vigil detectors.
//!
//! Every exported graph takes one input and gives two outputs, names stable across versions:
//! - `x`: float32 `[batch, window, channels]`, the last `window` rows of the series (oldest
//!   first); the graph scores the LAST row of each window, as vigil scores that row.
//! - `score`: float32 `[batch]`, vigil's score of that row (0 when a feature it needs is
//!   missing or non-finite, as vigil scores invalid rows).
//! - `is_anomaly`: bool `[batch]`, `score >= threshold` (vigil's convention), decided in
//!   float64 inside the graph.
//!
//! `metadata_props` carry `vigil.version`, `vigil.family`, `vigil.threshold`,
//! `vigil.input_window`, `vigil.channels` and, when given, `vigil.dataset_fingerprint`.
//! The ONNX protobuf messages are private to this crate; callers get bytes.
//!
//! Stateful graphs (EWMA, Holt-Winters) take one row per call and carry their recursion in a
//! float64 `state` input / `state_out` output ([`StateSpec`]).
//!
//! Families and their parity (tests/parity.rs, ONNX Runtime 1.31.1 through `ort` and Python;
//! export/README.md has the table with the measured max |Δ| and the reasons for what is not
//! exported):
//! - `isolation_forest`: `ai.onnx.ml` TreeEnsembleRegressor (opset 3) + float64 Div/Neg/Pow.
//! - `knn`, `lof`: stored training rows, Euclidean distances, TopK (LOF: gathered k-distances
//!   and lrd); `ocsvm`: support vectors and the RBF kernel; `ecod`: stored sorted training
//!   columns, counts by comparison; `pca`, `subsequence_pca` (max_fill = 0).
//! - `rolling_zscore` (mean/σ and median/MAD), `rolling_percentile`: input `[batch, window + 1,
//!   channels]`; the sorted families sort with TopK.
//! - `ewma`, `holt_winters`: stateful, exact recursions.
//! - `lstm_autoencoder`: ONNX `LSTM` with vigil's weights (already in ONNX gate order).
//! - Features: window, lags, first differences, rolling mean/σ, standard/robust/no scaling.
//!   Time-of-day / day-of-week features are refused (the graph takes no timestamps).
//! - Every other family is refused with [`ExportError::Unsupported`] and the reason from
//!   [`unsupported_reason`]; [`exportability`] states each family's form (every family has an
//!   arm, so a new family needs an export decision).

mod cusum;
mod ensemble;
mod ewma;
mod features;
mod graph;
mod holt_winters;
mod iforest;
mod lstm;
mod point;
mod proto;
mod stats;
mod streaming;

use serde::Serialize;
use vigil_train::{DetectorKind, FittedModel};

pub use ensemble::{Member, Rule, Scale, export_ensemble};
pub use features::input_window;

/// The float32 tolerance every exported family holds (its parity test asserts it): the graphs
/// compute in float64 as vigil does (summation order aside) and only the float32 `score`
/// output rounds (6e-8 relative), so `|Δ| ≤ SCORE_TOLERANCE + RELATIVE_TOLERANCE × |score|`;
/// the relative part covers the large scores some families reach (PCA up to 1e5, LOF, the
/// one-class SVM, ECOD's sums, Holt-Winters on near-constant stretches). Each family's module
/// says why its scores sit within it.
pub(crate) const SCORE_TOLERANCE: f64 = 1e-5;
/// See [`SCORE_TOLERANCE`].
pub(crate) const RELATIVE_TOLERANCE: f64 = 1e-6;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The family (or its feature transform) has no ONNX form.
    #[error("{family} cannot be exported to ONNX: {reason}")]
    Unsupported {
        /// The family or part that cannot map.
        family: String,
        /// Why.
        reason: String,
    },
    /// A parameter of the export itself is bad.
    #[error("export parameter {name}: {reason} (hint: {hint})")]
    Param {
        /// The parameter.
        name: &'static str,
        /// What is wrong.
        reason: String,
        /// How to fix it.
        hint: &'static str,
    },
}

/// What every export needs besides the fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// `is_anomaly = score >= threshold`.
    pub threshold: f64,
    /// Fingerprint of the training data, written to `metadata_props` when given.
    pub dataset_fingerprint: Option<String>,
}

/// An exported model: the ONNX bytes and how to feed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnnxModel {
    /// Serialised `ModelProto`.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// The family's catalog name.
    pub family: String,
    /// Rows per input window (`x` is `[batch, input_window, channels]`).
    pub input_window: usize,
    /// Channels per row.
    pub channels: usize,
    /// Feature columns the graph builds from each window.
    pub feature_dim: usize,
    /// Graph nodes.
    pub nodes: usize,
    /// Float32 tolerance this family's parity test holds on `score`: `|Δ| ≤ score_tolerance
    /// + relative_tolerance × |score|`.
    pub score_tolerance: f64,
    /// Relative part of the tolerance (0 for families whose scores stay near 1).
    pub relative_tolerance: f64,
    /// The recurrent state a stateful graph takes and returns (EWMA), `None` for the
    /// window families.
    pub state: Option<StateSpec>,
}

/// The state input of a stateful graph: the caller feeds `initial` for the first row of a
/// series, then each call's `state_out` to the next call (one row per call and series).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateSpec {
    /// Graph input name (`state`); the output is `state_out`.
    pub input: String,
    /// Output name.
    pub output: String,
    /// Shape without the batch axis.
    pub shape: Vec<usize>,
    /// What each entry of the last axis holds.
    pub layout: Vec<String>,
    /// The state before the first row, row-major over `shape`.
    pub initial: Vec<f64>,
}

/// Exports `model` with `options`, or says why its family cannot map.
pub fn export(model: &FittedModel, options: &ExportOptions) -> Result<OnnxModel, ExportError> {
    check_options(options)?;
    match model {
        FittedModel::IsolationForest(m) => iforest::export(m, options),
        FittedModel::Knn(m) => point::export_knn(m, options),
        FittedModel::RollingZscore(m) => stats::export_zscore(m, options),
        FittedModel::RollingPercentile(m) => stats::export_percentile(m, options),
        FittedModel::Ewma(m) => ewma::export(m, options),
        FittedModel::Cusum(m) => cusum::export(m, options),
        FittedModel::HoltWinters(m) => holt_winters::export(m, options),
        FittedModel::LstmAutoencoder(m) => lstm::export(m, options),
        FittedModel::Lof(m) => point::export_lof(m, options),
        FittedModel::Ocsvm(m) => point::export_ocsvm(m, options),
        FittedModel::Ecod(m) => point::export_ecod(m, options),
        FittedModel::Pca(m) => point::export_pca(m, options, "pca"),
        FittedModel::SubsequencePca(m) => point::export_pca(m, options, "subsequence_pca"),
        other => Err(ExportError::Unsupported {
            family: other.kind().name().to_string(),
            reason: unsupported_reason(other),
        }),
    }
}

/// The columns the exported graph computes from its input window, for `spec.json`: the
/// feature row for the point families, the channels (divided by their training scale) for the
/// rolling statistics. Empty for families that are not exported.
pub fn feature_layout(model: &FittedModel) -> Vec<String> {
    match model {
        FittedModel::IsolationForest(m) => features::feature_layout(&m.features),
        FittedModel::Knn(m) => features::feature_layout(&m.features),
        FittedModel::Pca(m) | FittedModel::SubsequencePca(m) => {
            features::feature_layout(&m.rows.features)
        }
        FittedModel::Lof(m) => features::feature_layout(&m.features),
        FittedModel::Ocsvm(m) => features::feature_layout(&m.features),
        FittedModel::Ecod(m) => features::feature_layout(&m.features),
        FittedModel::RollingZscore(m) => channel_layout(m.channels.len()),
        FittedModel::RollingPercentile(m) => channel_layout(m.channels.len()),
        FittedModel::Ewma(m) => channel_layout(m.channels.len()),
        FittedModel::HoltWinters(m) => channel_layout(m.channels.len()),
        FittedModel::LstmAutoencoder(m) => (0..m.scalers.len())
            .map(|k| format!("(c{k} / scale − mean) / σ (training), each of the window's rows"))
            .collect(),
        _ => Vec::new(),
    }
}

/// The ONNX form a family exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportForm {
    /// A graph over an input window `[batch, rows, channels]`.
    Window,
    /// A stateful graph: `(state, x_t)` → `(score_t, state_{t+1})`, one row per call.
    Streaming,
    /// No ONNX form.
    None,
}

/// Whether and how a family exports (`vigil families`, `spec.json`, errors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exportability {
    /// The form.
    pub form: ExportForm,
    /// What the graph holds, or why the family has no form; and the settings that refuse.
    pub note: &'static str,
}

/// How each family exports. Every family has an arm, so a new family cannot be added without
/// an export decision.
pub fn exportability(kind: DetectorKind) -> Exportability {
    let (form, note) = match kind {
        DetectorKind::IsolationForest => (
            ExportForm::Window,
            "ai.onnx.ml TreeEnsembleRegressor over the feature row; time-of-day / day-of-week \
             features are refused (the graph takes no timestamps)",
        ),
        DetectorKind::Knn
        | DetectorKind::Lof
        | DetectorKind::Ocsvm
        | DetectorKind::Ecod
        | DetectorKind::Pca
        | DetectorKind::SubsequencePca => (
            ExportForm::Window,
            "the stored training rows (or components / support vectors) in the graph; \
             time-of-day / day-of-week features and max_fill > 0 are refused",
        ),
        DetectorKind::RollingZscore | DetectorKind::RollingPercentile => (
            ExportForm::Window,
            "input [batch, window + 1, channels]; the sorted statistics sort with TopK",
        ),
        DetectorKind::Ewma | DetectorKind::HoltWinters | DetectorKind::Cusum => (
            ExportForm::Streaming,
            "exact recursion: the caller feeds each call's state_out to the next row",
        ),
        DetectorKind::LstmAutoencoder => (
            ExportForm::Window,
            "ONNX LSTM with vigil's weights over the standardised window",
        ),
        DetectorKind::Mstl => (
            ExportForm::None,
            "the seasonal profiles are a table lookup by row phase and the level a one-line \
             recursion, but the streaming graph (state: level and phase) is not written yet",
        ),
        DetectorKind::SeasonalEsd | DetectorKind::SeasonalEsdSliding => (
            ExportForm::None,
            "STL decomposition and the generalised ESD test iterate over the whole series; they \
             have no fixed-window tensor form",
        ),
        DetectorKind::Arima | DetectorKind::AnomalyLikelihood => (
            ExportForm::None,
            "the score is a recursion over the full history (state carried row to row); its \
             streaming graph is not written yet",
        ),
        DetectorKind::SeasonalBaseline => (
            ExportForm::None,
            "the baseline reads the same phase several weeks back (thousands of rows of \
             history per row) and a per-phase noise table; not mapped yet",
        ),
        DetectorKind::MatrixProfile | DetectorKind::Discord | DetectorKind::Damp => (
            ExportForm::None,
            "the matrix profile compares each subsequence with every earlier one (the \
             discord's, with every other one): the input grows with the series",
        ),
        DetectorKind::CadOse | DetectorKind::Artime => (
            ExportForm::None,
            "the model learns online (contexts / ART categories grow row by row); no fixed \
             graph holds it",
        ),
        DetectorKind::Dbscan => (
            ExportForm::None,
            "nearest core point over a k-d tree; not mapped yet (a brute-force distance graph \
             like kNN's would be the form)",
        ),
    };
    Exportability { form, note }
}

/// Why a fitted model has no ONNX export (yet), for `spec.json` and errors: its family's
/// reason, or the feature setting that refuses it.
pub fn unsupported_reason(model: &FittedModel) -> String {
    let settings = match model {
        FittedModel::IsolationForest(m) => features::unsupported(&m.features),
        FittedModel::Knn(m) => features::unsupported(&m.features),
        FittedModel::Lof(m) => features::unsupported(&m.features),
        FittedModel::Ocsvm(m) => features::unsupported(&m.features),
        FittedModel::Ecod(m) => features::unsupported(&m.features),
        FittedModel::Pca(m) | FittedModel::SubsequencePca(m) => {
            if m.max_fill > 0 {
                Some(
                    "max_fill > 0 fills missing rows from earlier rows of the series before the \
                     features; the exported graph sees only its input window"
                        .to_string(),
                )
            } else {
                features::unsupported(&m.rows.features)
            }
        }
        _ => None,
    };
    let family = exportability(model.kind());
    match (settings, family.form) {
        (Some(reason), _) => reason,
        (None, ExportForm::None) => family.note.to_string(),
        (None, _) => "exportable".to_string(),
    }
}

fn channel_layout(channels: usize) -> Vec<String> {
    (0..channels)
        .map(|k| format!("c{k} / training scale"))
        .collect()
}

fn check_options(options: &ExportOptions) -> Result<(), ExportError> {
    if options.threshold.is_nan() {
        return Err(ExportError::Param {
            name: "threshold",
            reason: "NaN".to_string(),
            hint: "pass the threshold chosen on validation data (score >= threshold alerts)",
        });
    }
    Ok(())
}

/// `metadata_props` shared by every family.
pub(crate) fn metadata(
    family: &str,
    options: &ExportOptions,
    input_window: usize,
    channels: usize,
) -> Vec<(String, String)> {
    let mut m = vec![
        (
            "vigil.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        ("vigil.family".to_string(), family.to_string()),
        (
            "vigil.threshold".to_string(),
            format!("{:?}", options.threshold),
        ),
        ("vigil.input_window".to_string(), input_window.to_string()),
        ("vigil.channels".to_string(), channels.to_string()),
    ];
    if matches!(family, "ewma" | "holt_winters" | "cusum") {
        m.push((
            "vigil.inputs".to_string(),
            "x: float32 [batch, 1, channels], the new row; state: float64 [batch, channels, k], \
             the previous call's state_out (the initial state before a series' first row is in \
             spec.json)"
                .to_string(),
        ));
        m.push((
            "vigil.outputs".to_string(),
            "score: float32 [batch]; is_anomaly: bool [batch] = score >= threshold; state_out: \
             float64 [batch, channels, k], to feed with the next row"
                .to_string(),
        ));
    } else {
        m.push((
            "vigil.inputs".to_string(),
            "x: float32 [batch, window, channels], oldest row first; the last row is scored"
                .to_string(),
        ));
        m.push((
            "vigil.outputs".to_string(),
            "score: float32 [batch]; is_anomaly: bool [batch] = score >= threshold".to_string(),
        ));
    }
    if let Some(f) = &options.dataset_fingerprint {
        m.push(("vigil.dataset_fingerprint".to_string(), f.clone()));
    }
    m
}
