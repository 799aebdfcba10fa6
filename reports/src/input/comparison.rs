//! Input of the comparison report: two versions on the same data.

use serde::{Deserialize, Serialize};

use super::common::{DatasetRef, Lineage, MetricInfo, Metrics, Params, ScoreTrack, SeriesData};

/// Two model versions (e.g. champion vs challenger) evaluated on the same data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Page title, e.g. `"checkout-latency: champion v3 vs challenger v4"`.
    pub title: String,
    /// The shared evaluation data.
    #[serde(default)]
    pub data: Vec<DatasetRef>,
    /// How both were evaluated (split, threshold policy, alert policy).
    #[serde(default)]
    pub protocol: Option<String>,
    /// The reference side (deltas are `candidate - baseline`).
    pub baseline: VersionSummary,
    /// The side being considered.
    pub candidate: VersionSummary,
    /// How to read the metric keys; directions colour the deltas. When empty, the union of
    /// both sides' metric names, all higher-is-better.
    #[serde(default)]
    pub metric_info: Vec<MetricInfo>,
    /// Per-series results and optional overlaid score plots.
    #[serde(default)]
    pub series: Vec<SeriesComparison>,
    /// Commit, version, seed of the comparison run.
    #[serde(default)]
    pub lineage: Lineage,
    /// Remarks (e.g. a gate's verdict).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One side of the comparison.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionSummary {
    /// Short label used in headings and legends, e.g. `"champion v3"`.
    pub label: String,
    /// Registered model name.
    #[serde(default)]
    pub model: Option<String>,
    /// Version.
    #[serde(default)]
    pub version: Option<String>,
    /// Family.
    pub family: String,
    /// Parameters.
    #[serde(default)]
    pub params: Params,
    /// Threshold used.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Corpus-level metrics.
    pub metrics: Metrics,
}

/// One series under both versions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesComparison {
    /// Series name.
    pub series: String,
    /// Baseline's metrics on this series.
    pub baseline_metrics: Metrics,
    /// Candidate's metrics on this series.
    pub candidate_metrics: Metrics,
    /// Optional data for the overlaid plot (value panel and both score tracks).
    #[serde(default)]
    pub plot: Option<ComparisonPlot>,
}

/// Data for one overlaid comparison plot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComparisonPlot {
    /// The series and its incidents.
    pub data: SeriesData,
    /// Baseline's scores, threshold and alerts.
    pub baseline: ScoreTrack,
    /// Candidate's scores, threshold and alerts.
    pub candidate: ScoreTrack,
}
