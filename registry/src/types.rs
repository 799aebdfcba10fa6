//! The records the registry stores and returns.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::artifacts::StoredArtifact;
use crate::error::RegistryError;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// This machine's host name (from the kernel), or `unknown`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A run's life cycle. Only `Running` runs accept writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Started with [`crate::Registry::start_run`], still logging.
    Running,
    /// Completed; its trial key (if any) now resolves in `find_finished_run`.
    Finished,
    /// Ended with an error.
    Failed,
    /// Stopped from outside (e.g. a cancelled sweep).
    Killed,
}

impl RunStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
            RunStatus::Killed => "killed",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(RunStatus::Running),
            "finished" => Ok(RunStatus::Finished),
            "failed" => Ok(RunStatus::Failed),
            "killed" => Ok(RunStatus::Killed),
            other => Err(RegistryError::InvalidField {
                field: "run status",
                reason: format!("{other:?} is not a run status"),
                hint: "use running, finished, failed or killed",
            }),
        }
    }
}

/// One metric observation. `value` may be NaN (stored as NULL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Metric name, e.g. `f1`.
    pub key: String,
    /// The value.
    pub value: f64,
    /// Step (epoch, fold, threshold index…); one value per (key, step) per run.
    pub step: i64,
    /// When it was observed, ms since the epoch.
    pub timestamp_ms: i64,
}

impl MetricPoint {
    /// A point at `step`, stamped now.
    pub fn new(key: impl Into<String>, value: f64, step: i64) -> Self {
        Self {
            key: key.into(),
            value,
            step,
            timestamp_ms: now_ms(),
        }
    }
}

/// A dataset used by a run or version, with the role it played (`train`, `validation`,
/// `test`, …). The registry knows datasets only by fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetUse {
    /// 64-hex sha256 content fingerprint.
    pub fingerprint: String,
    /// Human description, e.g. `NAB realKnownCause, 7 series`; stored on first sight.
    pub description: String,
    /// What it was used for; a name (`train`, `test`).
    pub role: String,
}

/// A named artifact of a run or version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedArtifact {
    /// A plain file name, unique within its run or version.
    pub name: String,
    /// The stored blob.
    #[serde(flatten)]
    pub artifact: StoredArtifact,
}

/// Who and what a run is, fixed at its start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Experiment name (created on first use).
    pub experiment: String,
    /// Human-readable run name (free text).
    pub name: String,
    /// Key that identifies the trial for resuming (e.g. spec hash + fold); at most one
    /// finished run per (experiment, trial key).
    pub trial_key: Option<String>,
    /// Source revision.
    pub git_commit: Option<String>,
    /// Hash of the detector/experiment spec.
    pub spec_hash: Option<String>,
    /// Machine the run ran on.
    pub host: Option<String>,
    /// Start time, ms since the epoch.
    pub started_at_ms: i64,
}

impl RunInfo {
    /// A run in `experiment` starting now on this host.
    pub fn new(experiment: impl Into<String>) -> Self {
        Self {
            experiment: experiment.into(),
            name: String::new(),
            trial_key: None,
            git_commit: None,
            spec_hash: None,
            host: Some(host_name()),
            started_at_ms: now_ms(),
        }
    }
}

/// A complete run, written in one transaction by [`crate::Registry::log_run`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Identity and provenance.
    pub info: RunInfo,
    /// Final status (not `Running`).
    pub status: RunStatus,
    /// End time, ms since the epoch.
    pub ended_at_ms: i64,
    /// Parameters (key → value as text).
    pub params: BTreeMap<String, String>,
    /// Metric points.
    pub metrics: Vec<MetricPoint>,
    /// Tags (key → value).
    pub tags: BTreeMap<String, String>,
    /// Artifacts already put into the store.
    pub artifacts: Vec<NamedArtifact>,
    /// Datasets used.
    pub datasets: Vec<DatasetUse>,
}

impl RunRecord {
    /// An empty finished run for `info`, ending now.
    pub fn finished(info: RunInfo) -> Self {
        Self {
            info,
            status: RunStatus::Finished,
            ended_at_ms: now_ms(),
            params: BTreeMap::new(),
            metrics: Vec::new(),
            tags: BTreeMap::new(),
            artifacts: Vec::new(),
            datasets: Vec::new(),
        }
    }
}

/// A run's header row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// 32-hex id.
    pub id: String,
    /// Identity and provenance.
    #[serde(flatten)]
    pub info: RunInfo,
    /// Status.
    pub status: RunStatus,
    /// End time, if ended.
    pub ended_at_ms: Option<i64>,
}

/// A run with everything logged to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetails {
    /// Header.
    #[serde(flatten)]
    pub run: Run,
    /// Parameters.
    pub params: BTreeMap<String, String>,
    /// Metric points ordered by key, then step.
    pub metrics: Vec<MetricPoint>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Artifacts ordered by name.
    pub artifacts: Vec<NamedArtifact>,
    /// Datasets ordered by fingerprint, then role.
    pub datasets: Vec<DatasetUse>,
}

impl RunDetails {
    /// The last-step value of each metric: the usual "final metrics" view.
    pub fn final_metrics(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for point in &self.metrics {
            out.insert(point.key.clone(), point.value);
        }
        out
    }
}

/// Which runs to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFilter {
    /// Only this experiment.
    pub experiment: Option<String>,
    /// Only this status.
    pub status: Option<RunStatus>,
    /// Only runs of this spec hash (e.g. every fold of one candidate).
    pub spec_hash: Option<String>,
    /// At most this many, newest first.
    pub limit: Option<u32>,
}

/// An experiment with its run count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Experiment {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Creation time.
    pub created_at_ms: i64,
    /// Number of runs.
    pub run_count: i64,
}

/// A dataset known to the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    /// 64-hex fingerprint.
    pub fingerprint: String,
    /// Description.
    pub description: String,
    /// First seen.
    pub created_at_ms: i64,
}

/// An artifact row with how many runs and versions refer to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    /// The blob.
    #[serde(flatten)]
    pub artifact: StoredArtifact,
    /// First stored.
    pub created_at_ms: i64,
    /// References from runs and versions.
    pub references: i64,
}
