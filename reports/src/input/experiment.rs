//! Input of the experiment report: what `vigil run SPEC` produced.

use serde::{Deserialize, Serialize};

use super::common::{Lineage, MetricInfo, Metrics, Params, ScoreTrack, SeriesData, TimeWindow};

/// Everything the experiment report shows. Sections with no data are left out of the page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperimentReport {
    /// Page title, e.g. `"nab-quick: 15 families on NAB"`.
    pub title: String,
    /// Experiment name (the spec's `name`).
    pub experiment: String,
    /// Short summary paragraph shown under the title (plain text).
    #[serde(default)]
    pub summary: Option<String>,
    /// The spec exactly as run.
    pub spec: SpecText,
    /// Datasets, commit, version, seed, timings.
    #[serde(default)]
    pub lineage: Lineage,
    /// One leaderboard per dataset.
    #[serde(default)]
    pub leaderboards: Vec<Leaderboard>,
    /// Per-series plots (value, expected/band, incidents, alerts, score tracks).
    #[serde(default)]
    pub series: Vec<SeriesPlot>,
    /// ROC and PR curves per dataset and family.
    #[serde(default)]
    pub curves: Vec<CurveSet>,
    /// Tuning trials per dataset and family.
    #[serde(default)]
    pub tuning: Vec<TuningStudy>,
    /// Detection delay of every incident per dataset and family.
    #[serde(default)]
    pub delays: Vec<DelaySet>,
    /// False alarms per day per dataset and family.
    #[serde(default)]
    pub false_alarms: Vec<FalseAlarms>,
    /// Training curves of deep models (loss per epoch).
    #[serde(default)]
    pub training: Vec<TrainingCurve>,
    /// Seasonal periods each family used, per series (given, or detected on training rows).
    #[serde(default)]
    pub periods: Vec<PeriodTable>,
    /// Warnings or remarks to show prominently (e.g. "threshold fitted in-sample").
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The experiment spec's text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecText {
    /// Path or name it was read from.
    #[serde(default)]
    pub path: Option<String>,
    /// Format, e.g. `"toml"`.
    #[serde(default)]
    pub format: Option<String>,
    /// sha256 of the text (as recorded with the run).
    #[serde(default)]
    pub sha256: Option<String>,
    /// The full text.
    pub text: String,
}

/// Ranked results of every family on one dataset, with the baselines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Leaderboard {
    /// Dataset name (matches a [`super::DatasetRef::name`] in the lineage).
    pub dataset: String,
    /// Metric columns in order, with directions. When empty, the columns are the union of the
    /// rows' metric names in first-seen order, all higher-is-better.
    #[serde(default)]
    pub metrics: Vec<MetricInfo>,
    /// Metric key the rows are ranked by (initial sort); the first column when absent.
    #[serde(default)]
    pub rank_by: Option<String>,
    /// How the deployable threshold was chosen, e.g. `"best F1 on validation (last 20%)"`.
    #[serde(default)]
    pub threshold_protocol: Option<String>,
    /// One row per family (its best configuration) plus baseline rows.
    pub rows: Vec<LeaderboardRow>,
}

/// What a leaderboard row stands for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// A detector family's best configuration.
    #[default]
    Detector,
    /// Random scores evaluated the same way (the floor a detector must clear).
    RandomBaseline,
    /// A detector that never alerts.
    NullBaseline,
}

/// One family's best configuration on one dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeaderboardRow {
    /// Family (catalog kind, e.g. `"holt_winters"`), or the baseline's name.
    pub family: String,
    /// Detector row or baseline.
    #[serde(default)]
    pub kind: RowKind,
    /// Best parameters found by tuning.
    #[serde(default)]
    pub params: Params,
    /// Headline metrics at the deployable threshold (fitted on validation, applied unchanged to
    /// test), plus the threshold-free ones (ROC-AUC, AP, VUS).
    pub metrics: Metrics,
    /// The same threshold-dependent metrics at the oracle threshold (best on test); shown
    /// beside the deployable value so the gap is visible. Empty when not computed.
    #[serde(default)]
    pub oracle_metrics: Metrics,
    /// Deployable threshold value.
    #[serde(default)]
    pub deployable_threshold: Option<f64>,
    /// Oracle threshold value.
    #[serde(default)]
    pub oracle_threshold: Option<f64>,
    /// Tuning trials evaluated for this family.
    #[serde(default)]
    pub trials: Option<usize>,
    /// Fit + score wall time of the best configuration over the dataset, seconds.
    #[serde(default)]
    pub fit_time_s: Option<f64>,
    /// Registry run id, for `vigil registry` look-ups.
    #[serde(default)]
    pub run_id: Option<String>,
    /// A short remark (e.g. `"batch-only: not NAB-causal"`).
    #[serde(default)]
    pub note: Option<String>,
}

/// One series with the value panel and one score panel per track. The first track's expected
/// value, band and alerts are drawn on the value panel; every track's alerts are marked on its
/// score panel. Give the few tracks worth reading (e.g. the top three families): each track
/// adds one plot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesPlot {
    /// Dataset the series belongs to.
    pub dataset: String,
    /// The series and its incidents.
    pub data: SeriesData,
    /// Score tracks, row-aligned with `data`.
    #[serde(default)]
    pub tracks: Vec<ScoreTrack>,
    /// Per-series metrics of the first track (shown under the plot).
    #[serde(default)]
    pub metrics: Metrics,
}

/// The seasonal periods (in rows) the families that take a period used on each series of one
/// dataset: the spec's, or what detection found on the series' training rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeriodTable {
    /// Dataset name.
    pub dataset: String,
    /// Column headings: the families (entries) that take a period.
    pub families: Vec<String>,
    /// One row per series.
    pub rows: Vec<PeriodRow>,
}

/// One series' periods, one cell per family of its [`PeriodTable`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeriodRow {
    /// Series name.
    pub series: String,
    /// Per family: the periods per channel (`[[24, 168]]` for one channel with a day and a
    /// week of hourly rows; an empty channel list = no season found); `None` = not fitted.
    pub periods: Vec<Option<Vec<Vec<usize>>>>,
}

/// ROC and PR curve points of one family on one dataset (pooled rows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurveSet {
    /// Dataset name.
    pub dataset: String,
    /// Family or baseline name (legend label).
    pub family: String,
    /// ROC points as (false-positive rate, true-positive rate), in curve order.
    #[serde(default)]
    pub roc: Vec<(f64, f64)>,
    /// PR points as (recall, precision), in curve order.
    #[serde(default)]
    pub pr: Vec<(f64, f64)>,
    /// ROC-AUC, shown in the legend.
    #[serde(default)]
    pub roc_auc: Option<f64>,
    /// Average precision (PR-AUC), shown in the legend.
    #[serde(default)]
    pub average_precision: Option<f64>,
}

/// Every tuning trial of one family on one dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TuningStudy {
    /// Dataset name.
    pub dataset: String,
    /// Family.
    pub family: String,
    /// Name of the objective, e.g. `"validation F1"`.
    pub objective: String,
    /// True when a larger objective is better.
    #[serde(default = "default_true")]
    pub higher_is_better: bool,
    /// Hyperparameters to plot on a log axis (rates, regularisation); others are linear.
    #[serde(default)]
    pub log_scale: Vec<String>,
    /// Trials in evaluation order.
    pub trials: Vec<Trial>,
}

fn default_true() -> bool {
    true
}

/// One tuning trial.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Parameters tried. Numbers are plotted on a value axis, strings and booleans as
    /// categories; nested values are ignored by the plots.
    pub params: Params,
    /// Objective value; NaN (`null`) for a failed trial (not plotted, counted).
    #[serde(deserialize_with = "nan_f64")]
    pub objective: f64,
}

pub(crate) fn nan_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Detection delay of every incident of one dataset for one family.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DelaySet {
    /// Dataset name.
    pub dataset: String,
    /// Family.
    pub family: String,
    /// One entry per incident.
    pub incidents: Vec<IncidentDelay>,
}

/// Delay of one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDelay {
    /// Series holding the incident.
    pub series: String,
    /// The incident window.
    pub window: TimeWindow,
    /// Milliseconds from the incident's start to the first alert (negative when an early
    /// allowance let it fire before); `None` when missed.
    #[serde(default)]
    pub delay_ms: Option<i64>,
}

/// False alarms of one family on one dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FalseAlarms {
    /// Dataset name.
    pub dataset: String,
    /// Family or baseline name.
    pub family: String,
    /// Alerts that overlap no incident.
    pub false_alarms: u64,
    /// Days of data observed (the denominator of the rate).
    pub days: f64,
    /// Optional counts per UTC day, for the timeline.
    #[serde(default)]
    pub daily: Vec<DailyCount>,
}

/// False alarms in one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyCount {
    /// Midnight UTC starting the day (ms).
    pub day_start_ms: i64,
    /// False alarms that fired that day.
    pub count: u64,
}

/// Loss per epoch of one deep model's training.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingCurve {
    /// Dataset name.
    pub dataset: String,
    /// Family (e.g. `"lstm_autoencoder"`), with the series when trained per series.
    pub label: String,
    /// Loss name and unit, e.g. `"MSE (scaled units²)"`.
    #[serde(default)]
    pub loss: Option<String>,
    /// One entry per epoch.
    pub epochs: Vec<EpochLoss>,
}

/// Loss after one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLoss {
    /// Epoch number (1-based).
    pub epoch: u32,
    /// Mean training loss.
    #[serde(deserialize_with = "nan_f64")]
    pub train: f64,
    /// Mean validation loss, when a validation slice was held out.
    #[serde(default)]
    pub validation: Option<f64>,
}
