//! The reports' input: plain serde data, filled by the caller (the experiment runner, the
//! registry CLI) and stored as JSON beside a run. Nothing here knows a detector or a database.
//!
//! Times are ms since the Unix epoch (UTC); series arrays are row-aligned with their
//! timestamps; NaN (JSON `null`) marks a missing value.

mod card;
mod common;
mod comparison;
mod experiment;

pub use card::{Artifact, ExportState, ExportStatus, MetricGroup, ModelCard, ThresholdInfo};
pub use common::{
    Band, DatasetRef, Lineage, MetricInfo, Metrics, Params, ScoreTrack, SeriesData, TimeWindow,
};
pub use comparison::{Comparison, ComparisonPlot, SeriesComparison, VersionSummary};
pub use experiment::{
    CurveSet, DailyCount, DelaySet, EpochLoss, ExperimentReport, FalseAlarms, IncidentDelay,
    Leaderboard, LeaderboardRow, PeriodRow, PeriodTable, RowKind, SeriesPlot, SpecText,
    TrainingCurve, Trial, TuningStudy,
};
