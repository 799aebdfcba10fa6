//! Input of the model card: one registered model version.

use serde::{Deserialize, Serialize};

use super::common::{DatasetRef, Lineage, MetricInfo, Metrics, Params};
use super::experiment::SeriesPlot;

/// Everything a model card shows about one registered version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Registered model name, e.g. `"checkout-latency"`.
    pub model: String,
    /// Version number or label.
    pub version: String,
    /// Aliases pointing at this version (`champion`, `challenger`, ...).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// When the version was registered (ms UTC).
    #[serde(default)]
    pub registered_at_ms: Option<i64>,
    /// What it detects, in a sentence or two (e.g. "latency spikes and level shifts on
    /// checkout p99").
    #[serde(default)]
    pub purpose: Option<String>,
    /// Detector family (catalog kind).
    pub family: String,
    /// The family's own description (assumptions, cost, causality, paper).
    #[serde(default)]
    pub family_description: Option<String>,
    /// True when scores at t use only rows up to t (how a runtime service sees data).
    #[serde(default)]
    pub causal: Option<bool>,
    /// Fitted parameters.
    #[serde(default)]
    pub params: Params,
    /// Input channels / features the model reads, in order.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// Data it was trained on (and validated on, where `split` says so).
    #[serde(default)]
    pub training_data: Vec<DatasetRef>,
    /// Data it was evaluated on.
    #[serde(default)]
    pub evaluation_data: Vec<DatasetRef>,
    /// Metric groups, each with the protocol that produced it.
    #[serde(default)]
    pub metrics: Vec<MetricGroup>,
    /// How to read the metric keys (labels, directions, descriptions).
    #[serde(default)]
    pub metric_info: Vec<MetricInfo>,
    /// The shipped threshold.
    #[serde(default)]
    pub threshold: Option<ThresholdInfo>,
    /// The alert policy settings (minimum run, cooldown, merge gap, severity bands).
    #[serde(default)]
    pub alert_policy: Params,
    /// Known limitations and failure modes, one per entry.
    #[serde(default)]
    pub limitations: Vec<String>,
    /// Export formats and their status.
    #[serde(default)]
    pub exports: Vec<ExportStatus>,
    /// Stored artifacts with their content hashes.
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
    /// Commit, version, seed, run.
    #[serde(default)]
    pub lineage: Lineage,
    /// Optional example series with this model's score track (e.g. the worst miss).
    #[serde(default)]
    pub examples: Vec<SeriesPlot>,
}

/// Metrics measured one way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricGroup {
    /// Heading, e.g. `"test, deployable threshold"`.
    pub name: String,
    /// How they were measured: split, threshold policy, alert policy, aggregation.
    #[serde(default)]
    pub protocol: Option<String>,
    /// The values.
    pub metrics: Metrics,
}

/// The threshold shipped with the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThresholdInfo {
    /// Value (`score >= value` detects).
    pub value: f64,
    /// Policy that chose it, e.g. `"best F1"`, `"quantile 0.995"`.
    pub policy: String,
    /// Data it was fitted on, e.g. `"validation: last 20% of train"`.
    #[serde(default)]
    pub fitted_on: Option<String>,
}

/// State of one export format.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportStatus {
    /// Format, e.g. `"onnx"`, `"json-spec"`.
    pub format: String,
    /// Outcome.
    pub state: ExportState,
    /// Detail: why unsupported or failed, opset, etc.
    #[serde(default)]
    pub detail: Option<String>,
    /// Largest absolute score difference between the export and vigil on the check rows.
    #[serde(default)]
    pub max_abs_diff: Option<f64>,
    /// sha256 of the exported file.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// Outcome of an export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    /// Exported and checked against vigil's own scores.
    Verified,
    /// Exported, not checked.
    Exported,
    /// The family has no mapping to this format.
    #[default]
    Unsupported,
    /// Export or its check failed.
    Failed,
}

/// A stored artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// Name, e.g. `"model.onnx"`, `"fitted.json"`.
    pub name: String,
    /// sha256 (hex) of the content.
    pub sha256: String,
    /// Size in bytes.
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// Media type.
    #[serde(default)]
    pub media_type: Option<String>,
}
