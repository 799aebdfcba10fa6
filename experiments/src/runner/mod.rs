//! The runner: load → tune every family (rayon over candidate × series) → ensembles → test
//! each family's best once → register → leaderboard (and the report, written by the caller).
//!
//! Protocol:
//! - Each candidate is fitted on each series' training rows and scores the whole series once;
//!   the scores are sliced into validation and test parts (causal families see exactly what a
//!   runtime service would; batch-only families are marked in the leaderboard).
//! - Hyper-parameters and thresholds are chosen on validation rows only; test rows are scored
//!   once at the end with the validation threshold (*deployable*) and with the best threshold
//!   on test (*oracle*, shown beside it, never used to choose). When the split has no
//!   validation part (NAB's probationary protocol) tuning is in-sample on the test rows, as
//!   NAB's own corpus threshold search is, and the leaderboard says so.
//! - Determinism: candidates come from seeds, parallel results are collected in input order,
//!   and every sum runs sequentially, so the leaderboard is the same for any thread count.
//! - Every trial is a run in the registry (keyed by invocation, family, parameters and halving
//!   round); `resume` reuses finished trials of the last unfinished invocation of the same spec.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use vigil_eval::{EvalConfig, EvalSeries, Evaluation, Window, evaluate};
use vigil_registry::{
    DatasetUse, MetricPoint, NamedArtifact, Registry, RunFilter, RunInfo, RunRecord, sha256_hex,
};
use vigil_train::{DetectorKind, FittedModel};

use vigil_eval::threshold::{FitContext, SeriesScores, ThresholdPolicy};

use crate::cv::{CvResult, CvSummary, Groups, assign_groups, make_folds};
use crate::data::{PreparedDataset, PreparedSeries, prepare};
use crate::ensemble::{Normaliser, combine, learn_weights, vote_threshold};
use crate::error::{ExperimentError, Result};
use crate::metrics::{
    MetricMap, MetricName, Needs, macro_average, of_baselines, of_evaluation, tuning_metrics,
};
use crate::search::{Candidate, candidates, halving_rounds};
use crate::spec::{
    EnsembleMode, GroupBy, Normalise, Selection, Spec, Strategy, ThresholdScope, ValidationKind,
    Weights,
};

mod crossval;
mod register;

/// How to run a spec.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Registry URL (overrides the spec's).
    pub registry_url: Option<String>,
    /// Artifact directory (default: beside a SQLite file, `./vigil-artifacts` for PostgreSQL).
    pub artifact_dir: Option<std::path::PathBuf>,
    /// Continue the last unfinished invocation of this spec.
    pub resume: bool,
    /// Point the `challenger` alias at the best overall version.
    pub promote: bool,
    /// Worker threads (overrides the spec's; 0 = one per core).
    pub threads: Option<usize>,
    /// Draw progress bars on stderr.
    pub progress: bool,
    /// The spec's text (stored with the summary run and shown by the report).
    pub spec_text: String,
    /// Stop with [`ExperimentError::Interrupted`] once this many new trials are logged (what a
    /// kill mid-run leaves behind; used to test `resume`).
    pub stop_after_trials: Option<usize>,
    /// Assemble a sharded run: every trial must already be in the registry (logged by
    /// [`run_shard`] processes); nothing is tuned, the best candidates are refitted, tested,
    /// registered and reported as by a single-process run.
    pub merge: bool,
    /// Names a sharded run (shards and the merge must agree); default `sharded`. The sharded
    /// invocation is derived from the spec, the data fingerprints and this label, so shards
    /// started on different machines find each other's trials without coordination.
    pub shard_group: Option<String>,
}

/// A deterministic slice of a run's tuning work: shard `index` (1-based) of `count`.
///
/// The trials of a run are enumerated in spec order (family by family, candidates in order);
/// trial `g` belongs to shard `g mod count + 1`, so every family is spread over every shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// True when trial `global` (0-based, in enumeration order) is this shard's.
    pub fn owns(&self, global: usize) -> bool {
        global % self.count + 1 == self.index
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || {
            format!(
                "shard {s:?} is not K/N with 1 <= K <= N (e.g. 2/3; from a Kubernetes Indexed \
                 Job: $((JOB_COMPLETION_INDEX + 1))/N)"
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What one shard did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardOutcome {
    /// The shard.
    pub shard: String,
    /// The sharded invocation its trials are logged under.
    pub invocation: String,
    /// Trials of the whole run (all shards).
    pub total_trials: usize,
    /// Trials this shard owns.
    pub owned: usize,
    /// Owned trials computed and logged now.
    pub computed: usize,
    /// Owned trials found already logged (a retried shard), not recomputed.
    pub reused: usize,
    /// Computed trials that failed on every series (logged as failed).
    pub failed: usize,
    /// Wall time, seconds.
    pub wall_seconds: f64,
}

/// One leaderboard row: a family's best candidate or an ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Family name, or `ensemble_MODE`.
    pub name: String,
    /// True when every score is causal (usable by a runtime service, valid under NAB).
    pub causal: bool,
    /// The chosen parameters (the detector spec; for ensembles, members and weights).
    pub params: serde_json::Value,
    /// The threshold policy chosen with the parameters (text form; a vote's alert share).
    #[serde(default)]
    pub threshold_policy: String,
    /// Trials run (including resumed ones).
    pub trials: usize,
    /// Trials that failed to fit or score on every series.
    pub failed: usize,
    /// Series the chosen candidate could not fit (scored as silent, all zeros).
    pub series_failed: Vec<String>,
    /// The objective on validation (or in-sample, see [`Leaderboard::in_sample`]).
    pub validation: f64,
    /// Under `[validation] select = "transfer"`: the objective of the inner cross-validation
    /// over every group (each group's threshold fitted on the others), which ranks the entries.
    #[serde(default)]
    pub selection: Option<f64>,
    /// True when the constraints held on the rows that rank the entries.
    pub feasible: bool,
    /// Whether the spec lets the runner choose this entry as the model (`objective.entries`).
    #[serde(default = "yes")]
    pub eligible: bool,
    /// Test metrics per dataset: deployable, `oracle_*`, threshold-free, NAB.
    pub test: BTreeMap<String, MetricMap>,
    /// Test metrics per series (`dataset/series`).
    pub per_series: BTreeMap<String, MetricMap>,
    /// Objective per trial, in trial order (for tuning plots): (searched values, objective).
    pub tuning: Vec<(BTreeMap<String, serde_json::Value>, f64)>,
    /// Cross-validated across groups (`[validation] kind = "groups"`): this family (or
    /// ensemble) re-chosen on each fold's training groups, scored on its held-out groups.
    #[serde(default)]
    pub cv: Option<CvResult>,
}

fn yes() -> bool {
    true
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leaderboard {
    /// Experiment name.
    pub experiment: String,
    /// The objective.
    pub objective: MetricName,
    /// True when tuning was in-sample (no validation rows).
    pub in_sample: bool,
    /// Families and ensembles, best validation objective first (feasible before infeasible).
    pub entries: Vec<Entry>,
    /// Random and null baselines' test metrics per dataset.
    pub baselines: BTreeMap<String, BTreeMap<String, MetricMap>>,
    /// Datasets: name → (fingerprint, description, series count).
    pub datasets: BTreeMap<String, (String, String, usize)>,
    /// The cross-validated estimate of the whole selection (the headline when present).
    #[serde(default)]
    pub cv: Option<CvSummary>,
    /// Caveats about the protocol (e.g. thresholds fitted on too few incidents).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl Leaderboard {
    /// The best feasible entry (the leaderboard is sorted).
    pub fn best(&self) -> Option<&Entry> {
        self.entries.first().filter(|e| e.feasible && e.eligible)
    }

    /// The held-out headline of a spec validated in time (no cross-validation across groups,
    /// not in-sample): per dataset, the chosen entry's objective on validation (what chose it)
    /// and on test (rows nothing was chosen on), the drop between them, and the random
    /// baseline's test figure. Empty for cross-validated or in-sample leaderboards, whose
    /// headline is [`Leaderboard::cv`] or nothing held out.
    pub fn holdout_headline(&self) -> Vec<HoldoutHeadline> {
        if self.cv.is_some() || self.in_sample {
            return Vec::new();
        }
        let Some(best) = self.best() else {
            return Vec::new();
        };
        let key = self.objective.name();
        let value = |m: Option<&MetricMap>| m.and_then(|m| m.get(key)).copied();
        self.datasets
            .keys()
            .map(|dataset| {
                let test = value(best.test.get(dataset)).unwrap_or(f64::NAN);
                let validation = best.validation;
                let drop = if self.objective.lower_is_better() {
                    test - validation
                } else {
                    validation - test
                };
                HoldoutHeadline {
                    dataset: dataset.clone(),
                    entry: best.name.clone(),
                    validation,
                    test,
                    drop,
                    random: value(self.baselines.get(dataset).and_then(|b| b.get("random")))
                        .unwrap_or(f64::NAN),
                }
            })
            .collect()
    }
}

/// The chosen entry on validation and on test rows for one dataset (see
/// [`Leaderboard::holdout_headline`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HoldoutHeadline {
    /// Dataset name.
    pub dataset: String,
    /// The chosen entry.
    pub entry: String,
    /// Its objective on validation (the rows that chose it).
    pub validation: f64,
    /// Its objective on test rows (the headline).
    pub test: f64,
    /// How much worse test is than validation (positive: worse).
    pub drop: f64,
    /// The random baseline's objective on the same test rows.
    pub random: f64,
}

/// Everything a run produced besides the leaderboard.
#[derive(Debug)]
pub struct Outcome {
    /// The leaderboard.
    pub leaderboard: Leaderboard,
    /// Registered versions: (model, version) of the best overall first, then per family.
    pub versions: Vec<(String, i64)>,
    /// The summary run's id.
    pub summary_run: String,
    /// Scores and series for the report: per entry name, per series key, the full-series
    /// scores and thresholds.
    pub traces: Traces,
    /// Wall time, seconds.
    pub wall_seconds: f64,
    /// The prepared data (for the report's plots).
    pub data: Vec<PreparedDataset>,
    /// The source revision, when run from a git checkout.
    pub git_commit: Option<String>,
}

/// Per entry (name), per series (index into the flattened series), the full scores.
pub type Traces = BTreeMap<String, EntryTrace>;

/// Expected value, lower band and upper band of one series (forecasting/window families).
pub type Expected = (Vec<f64>, Vec<f64>, Vec<f64>);

/// What the report needs to draw one entry.
#[derive(Debug, Clone)]
pub struct EntryTrace {
    /// Full-series scores, per series in run order.
    pub scores: Vec<Vec<f64>>,
    /// Deployable threshold per series.
    pub thresholds: Vec<f64>,
    /// Expected values and band per series (single-channel forecasting/window families).
    pub expected: Vec<Option<Expected>>,
    /// Seasonal periods per series and channel, for the families that take a period (given,
    /// or detected on the series' training rows); `None` otherwise or where the fit failed.
    pub periods: Vec<Option<Vec<Vec<usize>>>>,
}

/// One series with its parts' windows prepared once.
struct Unit {
    prepared: PreparedSeries,
    group: usize,
    val_windows: Vec<Window>,
    test_windows: Vec<Window>,
}

impl Unit {
    fn val(&self) -> Range<usize> {
        self.prepared.split.validation.clone()
    }
    fn test(&self) -> Range<usize> {
        self.prepared.test_rows()
    }
    fn part<'a>(
        &'a self,
        scores: &'a [f64],
        rows: Range<usize>,
        windows: &'a [Window],
    ) -> EvalSeries<'a> {
        EvalSeries {
            scores: &scores[rows.clone()],
            windows,
            timestamps: &self.prepared.series.timestamps[rows],
            incident_severities: None,
        }
    }
}

/// The data and settings shared by every phase.
struct Ctx<'s> {
    spec: &'s Spec,
    units: Vec<Unit>,
    groups: Vec<String>,
    config: EvalConfig,
    needs: Needs,
    /// No validation rows anywhere: tune in-sample on test.
    in_sample: bool,
    /// The threshold policies the runner may choose (the spec's `threshold` first).
    policies: Vec<ThresholdPolicy>,
}

/// Scores (and fitted models) of one candidate on every unit; `None` when a fit failed.
struct Scored {
    scores: Vec<Vec<f64>>,
    models: Vec<Option<FittedModel>>,
    expected: Vec<Option<Expected>>,
    /// The calibration applied to each series' scores (the spec's `calibrate`).
    calibration: Vec<Option<Normaliser>>,
    /// Series the candidate could not fit (scored as all zeros).
    failed: Vec<String>,
}

/// The parts of full-series scores one threshold is fitted on.
fn series_scores<'a>(parts: &[EvalSeries<'a>]) -> Vec<SeriesScores<'a>> {
    parts
        .iter()
        .map(|p| SeriesScores {
            scores: p.scores,
            windows: p.windows,
        })
        .collect()
}

impl<'s> Ctx<'s> {
    fn tuning_parts(&self, unit: usize) -> (Range<usize>, &[Window]) {
        let u = &self.units[unit];
        if self.in_sample {
            (u.test(), &u.test_windows)
        } else {
            (u.val(), &u.val_windows)
        }
    }

    /// A unit's tuning part of `scores` as an evaluation series.
    fn tuning_part<'a>(&'a self, scores: &'a [f64], unit: usize) -> EvalSeries<'a> {
        let (rows, windows) = self.tuning_parts(unit);
        self.units[unit].part(scores, rows, windows)
    }

    /// The calibration applied to every candidate's scores, if any.
    fn calibration(&self) -> Option<Normalise> {
        self.spec.calibrate.normalise()
    }

    /// The evaluation config under `policy`.
    fn config_with(&self, policy: &ThresholdPolicy) -> EvalConfig {
        let mut config = self.config.clone();
        config.threshold = *policy;
        config
    }

    /// Units of `subset` in dataset `g`.
    fn members(&self, subset: &[usize], g: usize) -> Vec<usize> {
        subset
            .iter()
            .copied()
            .filter(|&i| self.units[i].group == g)
            .collect()
    }

    /// Tuning metrics of full-series `scores` over `subset` units under `policy`: per dataset
    /// (corpus, per-series macro, or pooled threshold with per-series macro), then the mean
    /// over datasets.
    fn tuning(&self, scores: &[Vec<f64>], subset: &[usize], policy: &ThresholdPolicy) -> MetricMap {
        self.tuning_cached(scores, subset, policy, None)
    }

    /// One series' tuning metrics at its own threshold (`None` when `config`'s policy cannot
    /// be fitted on its tuning rows, e.g. a supervised policy without an incident there).
    /// It depends on nothing but the series, so cross-validation computes it once.
    fn own_tuning(&self, scores: &[f64], unit: usize, config: &EvalConfig) -> Option<MetricMap> {
        let part = self.tuning_part(scores, unit);
        let one = std::slice::from_ref(&part);
        self.pooled_threshold(config, one)?;
        tuning_metrics(one, config, self.needs).ok()
    }

    /// [`Ctx::tuning`], with every unit's [`Ctx::own_tuning`] under the series scope taken from
    /// `own` when given (indexed by unit).
    fn tuning_cached(
        &self,
        scores: &[Vec<f64>],
        subset: &[usize],
        policy: &ThresholdPolicy,
        own: Option<&[Option<MetricMap>]>,
    ) -> MetricMap {
        let config = self.config_with(policy);
        let mut per_group = Vec::new();
        for g in 0..self.groups.len() {
            let members = self.members(subset, g);
            if members.is_empty() {
                continue;
            }
            let parts: Vec<EvalSeries<'_>> = members
                .iter()
                .map(|&i| self.tuning_part(&scores[i], i))
                .collect();
            let map = match self.spec.threshold_scope {
                ThresholdScope::Corpus => tuning_metrics(&parts, &config, self.needs)
                    .unwrap_or_else(|e| {
                        tracing::debug!("tuning metrics failed: {e}");
                        MetricMap::new()
                    }),
                ThresholdScope::Series => {
                    let owns: Vec<Option<MetricMap>> = members
                        .iter()
                        .map(|&i| match own {
                            Some(cached) => cached[i].clone(),
                            None => self.own_tuning(&scores[i], i, &config),
                        })
                        .collect();
                    // Series whose own rows cannot fit the policy take the value pooled over
                    // the others.
                    let fallback = if owns.iter().any(Option::is_none) {
                        self.pooled_threshold(&config, &parts)
                    } else {
                        None
                    };
                    macro_average(
                        &parts
                            .iter()
                            .zip(owns)
                            .filter_map(|(p, o)| {
                                o.or_else(|| {
                                    let fixed = fixed_config(&config, fallback?);
                                    tuning_metrics(std::slice::from_ref(p), &fixed, self.needs).ok()
                                })
                            })
                            .collect::<Vec<_>>(),
                    )
                }
                ThresholdScope::Pooled => match self.pooled_threshold(&config, &parts) {
                    Some(value) => {
                        let fixed = fixed_config(&config, value);
                        macro_average(
                            &parts
                                .iter()
                                .filter_map(|p| {
                                    tuning_metrics(std::slice::from_ref(p), &fixed, self.needs).ok()
                                })
                                .collect::<Vec<_>>(),
                        )
                    }
                    None => MetricMap::new(),
                },
            };
            per_group.push(map);
        }
        macro_average(&per_group)
    }

    /// The best threshold policy for `scores` over `subset`: its index, its tuning metrics,
    /// and every policy's metrics (in policy order). Ties go to the earlier policy.
    fn tuning_best(&self, scores: &[Vec<f64>], subset: &[usize]) -> (usize, Vec<MetricMap>) {
        self.tuning_best_cached(scores, subset, None)
    }

    /// [`Ctx::tuning_best`] with the per-series own-threshold metrics of every policy cached
    /// (`own[policy][unit]`).
    fn tuning_best_cached(
        &self,
        scores: &[Vec<f64>],
        subset: &[usize],
        own: Option<&[Vec<Option<MetricMap>>]>,
    ) -> (usize, Vec<MetricMap>) {
        let maps: Vec<MetricMap> = self
            .policies
            .par_iter()
            .enumerate()
            .map(|(k, p)| self.tuning_cached(scores, subset, p, own.map(|o| o[k].as_slice())))
            .collect();
        let mut best = 0;
        for (p, map) in maps.iter().enumerate().skip(1) {
            if self.better_policy(map, &maps[best]) {
                best = p;
            }
        }
        (best, maps)
    }

    /// True when threshold policy metrics `a` beat `b` strictly: feasibility, then the policy
    /// metric ([`crate::spec::ObjectiveSpec::policy_metric`]), then the objective.
    fn better_policy(&self, a: &MetricMap, b: &MetricMap) -> bool {
        let m = self.spec.objective.policy_metric();
        let key = |map: &MetricMap| {
            let (value, feasible) = self.objective(map);
            let policy = m.oriented(map.get(m.name()).copied().unwrap_or(f64::NAN));
            (feasible, policy, self.spec.objective.metric.oriented(value))
        };
        key(a) > key(b)
    }

    /// True when `a` (value, feasible) beats `b` strictly.
    fn better(&self, a: (f64, bool), b: (f64, bool)) -> bool {
        let o = self.spec.objective.metric;
        (a.1, o.oriented(a.0)) > (b.1, o.oriented(b.0))
    }

    /// The policy fitted on `parts` pooled (`None` when it cannot be fitted).
    fn pooled_threshold(&self, base: &EvalConfig, parts: &[EvalSeries<'_>]) -> Option<f64> {
        let context = FitContext {
            timestamps: parts.iter().map(|p| p.timestamps).collect(),
            alert: &base.alert,
            early_ms: base.early_ms,
        };
        base.threshold
            .fit_with(&series_scores(parts), &context)
            .ok()
            .map(|f| f.value)
    }

    /// The evaluation config of one series under the series scope: the spec's policy when it
    /// can be fitted on this series' validation rows (a supervised policy needs an incident
    /// there), else the policy fitted on the dataset's pooled validation rows, applied as a
    /// fixed threshold. `None` when neither can be fitted.
    fn series_config(
        &self,
        base: &EvalConfig,
        one: &[EvalSeries<'_>],
        fallback: Option<f64>,
    ) -> Option<EvalConfig> {
        if self.pooled_threshold(base, one).is_some() {
            return Some(base.clone());
        }
        Some(fixed_config(base, fallback?))
    }

    /// The threshold of each `held_out` unit when every choice was made on `train` units:
    /// corpus and pooled scopes (and supervised policies under the series scope) take the
    /// value fitted on the training units of the same dataset (all training units when the
    /// dataset is held out whole); unsupervised policies under the series scope are fitted on
    /// the held-out series' own tuning rows without their labels. `fixed` (a vote ensemble's
    /// alert share) wins. NaN where nothing can be fitted (the series then never alerts).
    fn held_out_thresholds(
        &self,
        scores: &[Vec<f64>],
        policy: &ThresholdPolicy,
        fixed: Option<f64>,
        train: &[usize],
        held_out: &[usize],
    ) -> Vec<f64> {
        if let Some(v) = fixed {
            return vec![v; held_out.len()];
        }
        let config = self.config_with(policy);
        let mut pooled: BTreeMap<usize, Option<f64>> = BTreeMap::new();
        let mut pooled_for = |g: usize| -> Option<f64> {
            *pooled.entry(g).or_insert_with(|| {
                let mut from = self.members(train, g);
                if from.is_empty() {
                    from = train.to_vec();
                }
                let parts: Vec<EvalSeries<'_>> = from
                    .iter()
                    .map(|&i| self.tuning_part(&scores[i], i))
                    .collect();
                self.pooled_threshold(&config, &parts)
            })
        };
        held_out
            .iter()
            .map(|&i| {
                let own_rows_unlabelled =
                    self.spec.threshold_scope == ThresholdScope::Series && !policy.is_supervised();
                let value = if own_rows_unlabelled {
                    let (rows, _) = self.tuning_parts(i);
                    let part = self.units[i].part(&scores[i], rows, &[]);
                    self.pooled_threshold(&config, std::slice::from_ref(&part))
                } else {
                    pooled_for(self.units[i].group)
                };
                value.unwrap_or(f64::NAN)
            })
            .collect()
    }

    fn objective(&self, metrics: &MetricMap) -> (f64, bool) {
        let get = |m: MetricName| metrics.get(m.name()).copied().unwrap_or(f64::NAN);
        let value = get(self.spec.objective.metric);
        let feasible = value.is_finite()
            && self
                .spec
                .objective
                .constraints
                .iter()
                .all(|c| c.holds(get(c.metric)));
        (value, feasible)
    }

    /// Test evaluation of full-series scores: per dataset (corpus or per-series macro) and
    /// per series, plus baselines and the deployable threshold per series.
    #[allow(clippy::type_complexity)]
    fn test(
        &self,
        scores: &[Vec<f64>],
        policy: &ThresholdPolicy,
        fixed_threshold: Option<f64>,
    ) -> (
        BTreeMap<String, MetricMap>,
        BTreeMap<String, MetricMap>,
        BTreeMap<String, BTreeMap<String, MetricMap>>,
        Vec<f64>,
    ) {
        let mut config = self.config_with(policy);
        if let Some(value) = fixed_threshold {
            config.threshold = ThresholdPolicy::Fixed { value };
        }
        let mut test = BTreeMap::new();
        let mut per_series = BTreeMap::new();
        let mut baselines = BTreeMap::new();
        let mut thresholds = vec![f64::NAN; self.units.len()];
        let all: Vec<usize> = (0..self.units.len()).collect();
        for (g, group) in self.groups.iter().enumerate() {
            let members = self.members(&all, g);
            let val = |i: usize| {
                let u = &self.units[i];
                u.part(&scores[i], u.val(), &u.val_windows)
            };
            let tst = |i: usize| {
                let u = &self.units[i];
                u.part(&scores[i], u.test(), &u.test_windows)
            };
            let run =
                |vals: Vec<EvalSeries<'_>>, tests: Vec<EvalSeries<'_>>| -> Option<Evaluation> {
                    let vals = if self.in_sample { Vec::new() } else { vals };
                    match evaluate(&vals, &tests, &config) {
                        Ok(e) => Some(e),
                        Err(e) => {
                            tracing::warn!(dataset = %group, "evaluation failed: {e}");
                            None
                        }
                    }
                };
            let own = |i: usize| if self.in_sample { tst(i) } else { val(i) };
            let fallback = self.pooled_threshold(
                &config,
                &members.iter().map(|&i| own(i)).collect::<Vec<_>>(),
            );
            let per_series_config = |i: usize| -> Option<EvalConfig> {
                match self.spec.threshold_scope {
                    ThresholdScope::Corpus => None,
                    ThresholdScope::Series => {
                        self.series_config(&config, std::slice::from_ref(&own(i)), fallback)
                    }
                    ThresholdScope::Pooled => Some(fixed_config(&config, fallback?)),
                }
            };
            let per: Vec<Option<Evaluation>> = match self.spec.threshold_scope {
                ThresholdScope::Corpus => Vec::new(),
                ThresholdScope::Series | ThresholdScope::Pooled => members
                    .par_iter()
                    .map(|&i| {
                        let cfg = per_series_config(i)?;
                        let vals = if self.in_sample {
                            Vec::new()
                        } else {
                            vec![val(i)]
                        };
                        evaluate(&vals, &[tst(i)], &cfg)
                            .map_err(|e| tracing::warn!(dataset = %group, "evaluation failed: {e}"))
                            .ok()
                    })
                    .collect(),
            };
            match self.spec.threshold_scope {
                ThresholdScope::Corpus => {
                    if let Some(e) = run(
                        members.iter().map(|&i| val(i)).collect(),
                        members.iter().map(|&i| tst(i)).collect(),
                    ) {
                        test.insert(group.clone(), of_evaluation(&e));
                        if let Some((r, n)) = of_baselines(&e) {
                            baselines.insert(
                                group.clone(),
                                BTreeMap::from([
                                    ("random".to_string(), r),
                                    ("null".to_string(), n),
                                ]),
                            );
                        }
                        for &i in &members {
                            thresholds[i] = e.fitted.value;
                        }
                        // Per series at the corpus threshold.
                        let cfg = fixed_config(&config, e.fitted.value);
                        for &i in &members {
                            if let Ok(one) = evaluate(&[], &[tst(i)], &cfg) {
                                per_series
                                    .insert(self.units[i].prepared.key(), of_evaluation(&one));
                            }
                        }
                    }
                }
                ThresholdScope::Series | ThresholdScope::Pooled => {
                    let mut maps = Vec::new();
                    let mut random = Vec::new();
                    let mut null = Vec::new();
                    for (&i, e) in members.iter().zip(&per) {
                        if let Some(e) = e {
                            let map = of_evaluation(e);
                            tracing::debug!(
                                series = %self.units[i].prepared.key(),
                                threshold = e.fitted.value,
                                fitted_objective = ?e.fitted.objective_value,
                                test_point_f1 = e.deployable.point.f1,
                                oracle_point_f1 = ?e.oracle.as_ref().map(|o| o.point.f1),
                                "series evaluated"
                            );
                            thresholds[i] = e.fitted.value;
                            per_series.insert(self.units[i].prepared.key(), map.clone());
                            maps.push(map);
                            if let Some((r, n)) = of_baselines(e) {
                                random.push(r);
                                null.push(n);
                            }
                        }
                    }
                    test.insert(group.clone(), macro_average(&maps));
                    // Under the pooled scope each series' evaluation had the entry's fitted
                    // value as a fixed threshold, which says nothing about random scores:
                    // their baseline fits the policy on random scores pooled the same way.
                    if self.spec.threshold_scope == ThresholdScope::Pooled
                        && fixed_threshold.is_none()
                    {
                        let vals: Vec<EvalSeries<'_>> = members.iter().map(|&i| own(i)).collect();
                        let tests: Vec<EvalSeries<'_>> = members.iter().map(|&i| tst(i)).collect();
                        let vals = if self.in_sample { Vec::new() } else { vals };
                        if let Some((r, n)) = evaluate(&vals, &tests, &config)
                            .ok()
                            .as_ref()
                            .and_then(of_baselines)
                        {
                            random = vec![r];
                            null = vec![n];
                        }
                    }
                    baselines.insert(
                        group.clone(),
                        BTreeMap::from([
                            ("random".to_string(), macro_average(&random)),
                            ("null".to_string(), macro_average(&null)),
                        ]),
                    );
                }
            }
        }
        (test, per_series, baselines, thresholds)
    }
}

/// `base` with a fixed threshold.
fn fixed_config(base: &EvalConfig, value: f64) -> EvalConfig {
    let mut config = base.clone();
    config.threshold = ThresholdPolicy::Fixed { value };
    config
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn bar(progress: bool, len: usize, label: &str) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len as u64);
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>24} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_prefix(label.to_string());
    pb
}

/// Fits `candidate` on every unit's training rows and scores the whole series.
fn score_candidate(
    ctx: &Ctx<'_>,
    candidate: &Candidate,
    units: &[usize],
) -> std::result::Result<Scored, String> {
    let results: Vec<std::result::Result<(usize, FittedModel, vigil_train::Scores), String>> =
        units
            .par_iter()
            .map(|&i| {
                let u = &ctx.units[i];
                let model = candidate
                    .spec
                    .fit(&u.prepared.train())
                    .map_err(|e| format!("{}: {e}", u.prepared.key()))?;
                let scores = model
                    .score(&u.prepared.series)
                    .map_err(|e| format!("{}: {e}", u.prepared.key()))?;
                Ok((i, model, scores))
            })
            .collect();
    let n = ctx.units.len();
    let mut out = Scored {
        scores: vec![Vec::new(); n],
        models: vec![None; n],
        expected: vec![None; n],
        calibration: vec![None; n],
        failed: Vec::new(),
    };
    let mut first_error = None;
    for (r, &i) in results.into_iter().zip(units) {
        match r {
            Ok((_, model, scores)) => {
                out.expected[i] = match (scores.expected, scores.band) {
                    (Some(e), Some(b)) => Some((e, b.lower, b.upper)),
                    _ => None,
                };
                out.scores[i] = scores.values;
                out.models[i] = Some(model);
                if let Some(kind) = ctx.calibration() {
                    let train = ctx.units[i].prepared.split.train.clone();
                    let cal = Normaliser::fit(kind, &out.scores[i][train]);
                    out.scores[i].iter_mut().for_each(|v| *v = cal.apply(*v));
                    out.calibration[i] = Some(cal);
                }
            }
            Err(e) => {
                // A series this candidate cannot fit (e.g. shorter than its window) stays
                // silent: all-zero scores, as a runtime service would see no alert from it.
                out.scores[i] = vec![0.0; ctx.units[i].prepared.series.len()];
                out.failed.push(ctx.units[i].prepared.key());
                first_error.get_or_insert(e);
            }
        }
    }
    if out.failed.len() == units.len() {
        return Err(first_error.unwrap_or_else(|| "no series to score".into()));
    }
    Ok(out)
}

/// A trial's identity in the registry: invocation, family, parameters and halving round.
fn trial_key(invocation: &str, family: &str, spec_json: &str, round: usize) -> String {
    sha256_hex(format!("{invocation}|{family}|{spec_json}|{round}").as_bytes())
}

fn summary_key(invocation: &str) -> String {
    sha256_hex(format!("{invocation}|summary").as_bytes())
}

struct Logger<'r> {
    registry: &'r Registry,
    experiment: String,
    invocation: String,
    spec_hash: String,
    git: Option<String>,
    datasets: Vec<DatasetUse>,
    resume: bool,
    logged: std::cell::Cell<usize>,
    stop_after: Option<usize>,
}

impl Logger<'_> {
    fn trial_key(&self, family: &str, spec_json: &str, round: usize) -> String {
        trial_key(&self.invocation, family, spec_json, round)
    }

    /// Metrics of a finished trial of this invocation, when resuming.
    fn resumed(&self, key: &str) -> Result<Option<(MetricMap, bool)>> {
        if !self.resume {
            return Ok(None);
        }
        let Some(run) = self.registry.find_finished_run(&self.experiment, key)? else {
            return Ok(None);
        };
        let details = self.registry.run(&run.id)?;
        let failed = details.tags.get("outcome").is_some_and(|o| o == "failed");
        Ok(Some((details.final_metrics(), failed)))
    }

    #[allow(clippy::too_many_arguments)]
    fn log_trial(
        &self,
        family: &str,
        candidate: &Candidate,
        round: usize,
        key: String,
        metrics: &MetricMap,
        error: Option<&str>,
    ) -> Result<()> {
        let mut info = RunInfo::new(&self.experiment);
        info.name = format!("{family}#{}", candidate.index);
        info.trial_key = Some(key);
        info.git_commit = self.git.clone();
        info.spec_hash = Some(self.spec_hash.clone());
        let mut record = RunRecord::finished(info);
        record.params.insert("family".into(), family.into());
        record.params.insert("spec".into(), candidate.spec_json());
        for (k, v) in &candidate.values {
            record.params.insert(format!("search.{k}"), v.to_string());
        }
        record.metrics = metrics
            .iter()
            .map(|(k, v)| MetricPoint::new(k.clone(), *v, round as i64))
            .collect();
        record.tags.insert("phase".into(), "tune".into());
        record
            .tags
            .insert("invocation".into(), self.invocation.clone());
        record.tags.insert(
            "outcome".into(),
            if error.is_some() { "failed" } else { "ok" }.into(),
        );
        if let Some(e) = error {
            record
                .tags
                .insert("error".into(), e.chars().take(500).collect());
        }
        record.datasets = self.datasets.clone();
        self.registry.log_run(&record)?;
        self.logged.set(self.logged.get() + 1);
        if self.stop_after.is_some_and(|n| self.logged.get() >= n) {
            return Err(ExperimentError::Interrupted);
        }
        Ok(())
    }
}

/// A freshly computed trial: its tuning metrics, its error, its scores.
type TrialOutcome = (MetricMap, Option<String>, Option<Scored>);

/// The best candidate of one family on every unit (what is registered).
struct FamilyBest {
    kind: DetectorKind,
    candidate: Candidate,
    /// Index of the chosen threshold policy in [`Ctx::policies`].
    policy: usize,
    scored: Scored,
    validation: f64,
    feasible: bool,
    /// The selection score when choices transfer across groups (`[validation] select =
    /// "transfer"`), with its feasibility.
    selection: Option<(f64, bool)>,
    trials: usize,
    failed: usize,
    tuning: Vec<(BTreeMap<String, serde_json::Value>, f64)>,
}

/// Every trial of one family: the best on all units, and (for cross-validation) every
/// candidate's full-series scores, so that a fold's choice never refits anything.
struct FamilyTrials {
    candidates: Vec<Candidate>,
    /// Per candidate; `None` for failed trials (and for all of them without cross-validation).
    scores: Vec<Option<Vec<Vec<f64>>>>,
    best: FamilyBest,
}

/// The metric key that records which threshold policy a trial's metrics are for.
const POLICY_KEY: &str = "threshold_policy";

fn tune_family(
    ctx: &Ctx<'_>,
    logger: &Logger<'_>,
    kind: DetectorKind,
    cands: Vec<Candidate>,
    progress: bool,
    keep_all: bool,
) -> Result<Option<FamilyTrials>> {
    let family = kind.name();
    let all_units: Vec<usize> = (0..ctx.units.len()).collect();
    let rounds = match ctx.spec.search.strategy {
        Strategy::Halving => halving_rounds(cands.len(), all_units.len(), ctx.spec.search.eta),
        _ => vec![(all_units.len(), 1)],
    };
    let total: usize = rounds.len() * cands.len() * all_units.len();
    let pb = bar(progress, total, family);
    let mut alive: Vec<usize> = (0..cands.len()).collect();
    let mut trials = 0;
    let mut failed = 0;
    let mut tuning = Vec::new();
    let mut kept: Vec<Option<Vec<Vec<f64>>>> = vec![None; cands.len()];
    // (candidate, value, feasible, policy, full scores of the best so far)
    let mut results: Vec<(usize, f64, bool, usize, Option<Scored>)> = Vec::new();
    for (round, &(used, keep)) in rounds.iter().enumerate() {
        let subset: Vec<usize> = all_units[..used].to_vec();
        let last = round + 1 == rounds.len();
        results.clear();
        // Candidates in chunks, so memory holds at most a chunk of score sets at once.
        let chunk = rayon::current_num_threads().max(1) * 2;
        for ids in alive.chunks(chunk) {
            let keys: Vec<String> = ids
                .iter()
                .map(|&c| logger.trial_key(family, &cands[c].spec_json(), round))
                .collect();
            let mut resumed = Vec::with_capacity(ids.len());
            for key in &keys {
                resumed.push(logger.resumed(key)?);
            }
            let computed: Vec<Option<TrialOutcome>> = ids
                .par_iter()
                .zip(&resumed)
                .map(|(&c, prior)| {
                    // A resumed trial is scored again only when cross-validation needs its
                    // scores (its logged metrics stand).
                    if prior.is_some() && !(keep_all && last) {
                        return None;
                    }
                    let scored = score_candidate(ctx, &cands[c], &subset);
                    pb.inc(subset.len() as u64);
                    Some(match scored {
                        Ok(s) => {
                            let (p, mut maps) = ctx.tuning_best(&s.scores, &subset);
                            let mut map = std::mem::take(&mut maps[p]);
                            map.insert(POLICY_KEY.into(), p as f64);
                            (map, None, Some(s))
                        }
                        Err(e) => (MetricMap::new(), Some(e), None),
                    })
                })
                .collect();
            for (((&c, key), prior), fresh) in ids.iter().zip(keys).zip(resumed).zip(computed) {
                trials += 1;
                let (metrics, error, scored) = match (prior, fresh) {
                    (Some((m, was_failed)), fresh) => {
                        if fresh.is_none() {
                            pb.inc(subset.len() as u64);
                        }
                        (
                            m,
                            was_failed.then(|| "failed earlier".to_string()),
                            fresh.and_then(|f| f.2),
                        )
                    }
                    (None, Some((m, e, s))) => {
                        logger.log_trial(family, &cands[c], round, key, &m, e.as_deref())?;
                        (m, e, s)
                    }
                    (None, None) => unreachable!("computed when not resumed"),
                };
                if let Some(e) = &error {
                    failed += 1;
                    tracing::debug!(family, candidate = c, "trial failed: {e}");
                    continue;
                }
                let (value, feasible) = ctx.objective(&metrics);
                let policy = metrics
                    .get(POLICY_KEY)
                    .map_or(0, |p| *p as usize)
                    .min(ctx.policies.len() - 1);
                if last {
                    tuning.push((
                        cands[c].values.iter().cloned().collect::<BTreeMap<_, _>>(),
                        value,
                    ));
                    if keep_all {
                        kept[c] = scored.as_ref().map(|s| s.scores.clone());
                    }
                }
                // Keep the best only (plus every survivor's value).
                let better = results
                    .iter()
                    .all(|(_, v, f, _, _)| ctx.better((value, feasible), (*v, *f)));
                let keep_scores = better && last;
                if keep_scores {
                    for r in &mut results {
                        r.4 = None;
                    }
                }
                results.push((
                    c,
                    value,
                    feasible,
                    policy,
                    if keep_scores { scored } else { None },
                ));
            }
        }
        // Survivors: best first, ties by candidate index.
        let mut order: Vec<usize> = (0..results.len()).collect();
        order.sort_by(|&a, &b| {
            let key = |i: usize| {
                let (_, v, f, _, _) = &results[i];
                (*f, ctx.spec.objective.metric.oriented(*v))
            };
            key(b)
                .partial_cmp(&key(a))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(results[a].0.cmp(&results[b].0))
        });
        alive = order.iter().take(keep).map(|&i| results[i].0).collect();
        alive.sort_unstable();
        if alive.is_empty() {
            break;
        }
    }
    pb.finish_and_clear();
    // The best of the last round.
    let best = results
        .iter_mut()
        .filter(|r| r.1.is_finite() || r.4.is_some())
        .max_by(|a, b| {
            let ka = (a.2, ctx.spec.objective.metric.oriented(a.1));
            let kb = (b.2, ctx.spec.objective.metric.oriented(b.1));
            ka.partial_cmp(&kb)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.0.cmp(&a.0))
        });
    let Some(best) = best else {
        tracing::warn!(family, "every candidate failed; the family is left out");
        return Ok(None);
    };
    let candidate = cands[best.0].clone();
    let scored = match best.4.take() {
        Some(s) => s,
        None => score_candidate(ctx, &candidate, &all_units).map_err(|e| {
            ExperimentError::NothingToChoose {
                message: format!("{family}: refitting the chosen candidate failed: {e}"),
                hint: "run without --resume".into(),
            }
        })?,
    };
    Ok(Some(FamilyTrials {
        candidates: cands,
        scores: kept,
        best: FamilyBest {
            kind,
            candidate,
            policy: best.3,
            scored,
            validation: best.1,
            feasible: best.2,
            selection: None,
            trials,
            failed,
            tuning,
        },
    }))
}

/// An ensemble's full-series scores from members' scores.
struct EnsembleBuild {
    mode: EnsembleMode,
    /// Full-series scores of every unit.
    scores: Vec<Vec<f64>>,
    /// The vote modes' fixed alert share (`None` for `mean`, thresholded by `policy`).
    fixed: Option<f64>,
    /// The threshold policy of `mean` (index into [`Ctx::policies`]).
    policy: usize,
    /// The objective on the units it was built on, and whether the constraints held.
    validation: f64,
    feasible: bool,
    /// Member families, in member order.
    members: Vec<DetectorKind>,
    /// How the members were normalised (per member, per unit), weighted and voted.
    normalise: Normalise,
    weights: Vec<f64>,
    votes: Vec<f64>,
    normalisers: Vec<Vec<Normaliser>>,
    /// The leaderboard's view of the above (members' parameters, rule).
    state: serde_json::Value,
}

impl EnsembleBuild {
    /// The leaderboard name (`ensemble_MODE`).
    fn name(&self) -> String {
        ensemble_name(self.mode)
    }
}

fn ensemble_name(mode: EnsembleMode) -> String {
    format!(
        "ensemble_{}",
        serde_json::to_value(mode)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    )
}

/// A family's chosen candidate as an ensemble may use it.
struct MemberInput<'a> {
    kind: DetectorKind,
    spec: &'a vigil_train::DetectorSpec,
    /// Full-series scores of every unit.
    scores: &'a [Vec<f64>],
    /// The family's objective on the units the ensemble is built on.
    validation: f64,
}

/// Builds the spec's ensembles from each family's choice, every choice (members, vote
/// thresholds, weights, the mean's threshold policy) made on `subset` units only; the scores
/// cover every unit (normalisers are fitted on each unit's own training rows, no labels).
fn build_ensembles(
    ctx: &Ctx<'_>,
    inputs: &[MemberInput<'_>],
    subset: &[usize],
) -> Vec<EnsembleBuild> {
    let Some(spec) = &ctx.spec.ensemble else {
        return Vec::new();
    };
    let mut members: Vec<&MemberInput<'_>> = if spec.members.is_empty() {
        let mut ranked: Vec<&MemberInput<'_>> =
            inputs.iter().filter(|b| b.validation.is_finite()).collect();
        ranked.sort_by(|a, b| {
            let o = ctx.spec.objective.metric;
            o.oriented(b.validation)
                .partial_cmp(&o.oriented(a.validation))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        ranked.into_iter().take(spec.top).collect()
    } else {
        spec.members
            .iter()
            .filter_map(|k| inputs.iter().find(|b| b.kind == *k))
            .collect()
    };
    members.sort_by_key(|m| m.kind);
    if members.len() < 2 {
        tracing::debug!("fewer than two ensemble members are available; no ensemble is built");
        return Vec::new();
    }
    let n = ctx.units.len();
    // Normalisers per member per unit, fitted on each unit's training rows.
    let normalisers: Vec<Vec<Normaliser>> = members
        .iter()
        .map(|m| {
            (0..n)
                .map(|i| {
                    let train = ctx.units[i].prepared.split.train.clone();
                    Normaliser::fit(spec.normalise, &m.scores[i][train])
                })
                .collect()
        })
        .collect();
    let normalised: Vec<Vec<Vec<f64>>> = (0..n)
        .into_par_iter()
        .map(|i| {
            members
                .iter()
                .enumerate()
                .map(|(m, b)| {
                    b.scores[i]
                        .iter()
                        .map(|&s| normalisers[m][i].apply(s))
                        .collect()
                })
                .collect()
        })
        .collect();
    // Each member's own vote threshold on the normalised scale, fitted on `subset`.
    let first_policy = &ctx.policies[0];
    let votes: Vec<f64> = (0..members.len())
        .map(|m| {
            let member: Vec<Vec<f64>> = normalised.iter().map(|u| u[m].clone()).collect();
            ctx.tuning(&member, subset, first_policy)
                .get("threshold")
                .copied()
                .filter(|t| t.is_finite())
                .unwrap_or(3.0)
        })
        .collect();
    let in_subset: Vec<bool> = {
        let mut v = vec![false; n];
        subset.iter().for_each(|&i| v[i] = true);
        v
    };
    let objective = ctx.spec.objective.metric;
    spec.modes
        .iter()
        .map(|&mode| {
            let fixed = vote_threshold(mode, members.len(), spec.vote_threshold);
            // Scores of the subset only (the others empty) while weights are learned.
            let subset_scores_with = |w: &[f64]| -> Vec<Vec<f64>> {
                normalised
                    .iter()
                    .zip(&in_subset)
                    .map(|(u, &used)| {
                        if used {
                            combine(mode, u, w, &votes)
                        } else {
                            Vec::new()
                        }
                    })
                    .collect()
            };
            let weights = match (&spec.weights, mode) {
                (_, EnsembleMode::Majority | EnsembleMode::Consensus) => vec![1.0; members.len()],
                (Weights::Given(w), _) => {
                    let mut w = w.clone();
                    w.resize(members.len(), 0.0);
                    w
                }
                (Weights::Named(name), _) if name == "learned" => learn_weights(members.len(), |w| {
                    let s = subset_scores_with(w);
                    let map = ctx.tuning(&s, subset, first_policy);
                    objective.oriented(map.get(objective.name()).copied().unwrap_or(f64::NAN))
                }),
                _ => vec![1.0 / members.len() as f64; members.len()],
            };
            let scores: Vec<Vec<f64>> = normalised
                .par_iter()
                .map(|u| combine(mode, u, &weights, &votes))
                .collect();
            let (policy, map) = match fixed {
                Some(value) => (
                    0,
                    ctx.tuning(&scores, subset, &ThresholdPolicy::Fixed { value }),
                ),
                None => {
                    let (p, mut maps) = ctx.tuning_best(&scores, subset);
                    (p, std::mem::take(&mut maps[p]))
                }
            };
            let (validation, feasible) = ctx.objective(&map);
            EnsembleBuild {
                mode,
                scores,
                fixed,
                policy,
                validation,
                feasible,
                members: members.iter().map(|m| m.kind).collect(),
                normalise: spec.normalise,
                weights: weights.clone(),
                votes: votes.clone(),
                normalisers: normalisers.clone(),
                state: serde_json::json!({
                    "mode": mode,
                    "normalise": spec.normalise,
                    "weights": weights,
                    "vote_thresholds": votes,
                    "alert_threshold": fixed,
                    "threshold_policy": ctx.policies[policy],
                    "members": members.iter().map(|m| serde_json::to_value(m.spec).unwrap_or_default()).collect::<Vec<_>>(),
                    "normalisers": normalisers,
                }),
            }
        })
        .collect()
}

/// The groups and folds of a cross-validated spec (`None` under time validation).
fn cv_plan(ctx: &Ctx<'_>) -> Result<Option<(Groups, Vec<Vec<usize>>)>> {
    let v = &ctx.spec.validation;
    if v.kind != ValidationKind::Groups {
        return Ok(None);
    }
    let names: Vec<(String, String)> = ctx
        .units
        .iter()
        .map(|u| (u.prepared.dataset.clone(), u.prepared.series.name.clone()))
        .collect();
    let groups = assign_groups(&names, &v.group_by)?;
    let folds = make_folds(groups.names.len(), &v.folds, ctx.spec.seed)?;
    Ok(Some((groups, folds)))
}

fn group_by_label(by: &GroupBy) -> String {
    match by {
        GroupBy::Named(n) => n.clone(),
        GroupBy::Regex { regex } => format!("regex {regex:?}"),
    }
}

/// Warnings for thresholds and objectives that rest on too few incidents: under the series
/// scope, series whose tuning rows hold fewer than `min_incidents` incidents while a
/// thresholded objective or a supervised threshold policy is fitted on them; under the corpus
/// and pooled scopes, a corpus that holds fewer in all.
/// Series named in a fit warning before the rest are counted.
const NAMED_SERIES: usize = 3;

/// One warning per family and fit note (e.g. Holt-Winters dropping a season it found no period
/// for) over each family's chosen candidate: how many series it concerns and the first few,
/// instead of one log line per series and trial.
fn fit_warnings(ctx: &Ctx<'_>, families: &[FamilyTrials]) -> Vec<String> {
    let mut warnings = Vec::new();
    for f in families {
        let mut notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (i, model) in f.best.scored.models.iter().enumerate() {
            for note in model.iter().flat_map(FittedModel::fit_notes) {
                notes
                    .entry(note)
                    .or_default()
                    .push(ctx.units[i].prepared.key());
            }
        }
        for (note, series) in notes {
            let named = series[..series.len().min(NAMED_SERIES)].join(", ");
            let more = series.len().saturating_sub(NAMED_SERIES);
            warnings.push(format!(
                "{}: {note}, on {} of {} series ({named}{})",
                f.best.kind,
                series.len(),
                ctx.units.len(),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
    }
    warnings
}

fn few_incident_warnings(ctx: &Ctx<'_>) -> Vec<String> {
    let min = ctx.spec.validation.min_incidents;
    let objective = ctx.spec.objective.metric;
    let thresholded = !objective.threshold_free() && !objective.nab_optimised();
    let supervised = ctx.policies.iter().any(ThresholdPolicy::is_supervised);
    if min == 0 || !(thresholded || supervised) {
        return Vec::new();
    }
    let what = match (thresholded, supervised) {
        (true, true) => format!("the objective {objective} and a supervised threshold are"),
        (true, false) => format!("the thresholded objective {objective} is"),
        _ => "a supervised threshold is".to_string(),
    };
    let counts: Vec<(String, usize)> = (0..ctx.units.len())
        .map(|i| (ctx.units[i].prepared.key(), ctx.tuning_parts(i).1.len()))
        .collect();
    match ctx.spec.threshold_scope {
        ThresholdScope::Series => {
            let few: Vec<&(String, usize)> = counts.iter().filter(|(_, n)| *n < min).collect();
            if few.is_empty() {
                return Vec::new();
            }
            let shown: Vec<String> = few
                .iter()
                .take(5)
                .map(|(k, n)| format!("{k} ({n})"))
                .collect();
            vec![format!(
                "{} of {} series have fewer than {min} incidents in their tuning rows, where \
                 {what} fitted per series: {}{}; such a choice is noise. Prefer a \
                 threshold-free objective (vus_pr), unsupervised threshold policies (pot, \
                 alert_budget) or the pooled scope",
                few.len(),
                counts.len(),
                shown.join(", "),
                if few.len() > shown.len() { ", …" } else { "" }
            )]
        }
        ThresholdScope::Corpus | ThresholdScope::Pooled => {
            let total: usize = counts.iter().map(|(_, n)| n).sum();
            if total >= min {
                return Vec::new();
            }
            vec![format!(
                "the tuning rows hold {total} incidents in all (fewer than {min}), where {what} \
                 fitted; such a choice is noise"
            )]
        }
    }
}

/// Runs a spec end to end.
pub fn run(spec: &Spec, options: &RunOptions) -> Result<Outcome> {
    in_pool(spec, options, || run_in_pool(spec, options))
}

/// Runs `job` on a rayon pool of the spec's (or the options') thread count.
fn in_pool<T: Send>(
    spec: &Spec,
    options: &RunOptions,
    job: impl FnOnce() -> Result<T> + Send,
) -> Result<T> {
    let threads = options.threads.unwrap_or(spec.threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ExperimentError::NothingToChoose {
            message: format!("cannot start {threads} worker threads: {e}"),
            hint: "lower `threads`".into(),
        })?;
    pool.install(job)
}

/// The registry, the data and the lineage every kind of run starts from.
struct Setup<'s> {
    registry: Registry,
    data: Vec<PreparedDataset>,
    ctx: Ctx<'s>,
    spec_hash: String,
    datasets: Vec<DatasetUse>,
}

fn setup<'s>(spec: &'s Spec, options: &RunOptions) -> Result<Setup<'s>> {
    let url = options
        .registry_url
        .clone()
        .unwrap_or_else(|| spec.registry.url.clone());
    let mut registry_options = vigil_registry::RegistryOptions::new(&url);
    if let Some(dir) = &options.artifact_dir {
        registry_options = registry_options.artifact_dir(dir);
    }
    let registry = Registry::open_with(&registry_options)?;
    tracing::info!(experiment = %spec.name, registry = %url, "loading data");

    let data: Vec<PreparedDataset> = spec
        .datasets
        .iter()
        .map(|d| prepare(d, &spec.split))
        .collect::<Result<_>>()?;
    let mut units = Vec::new();
    let mut groups = Vec::new();
    for (g, d) in data.iter().enumerate() {
        groups.push(d.name.clone());
        for s in &d.series {
            let val_windows = s.windows_in(&s.split.validation);
            let test_windows = s.windows_in(&s.test_rows());
            units.push(Unit {
                prepared: s.clone(),
                group: g,
                val_windows,
                test_windows,
            });
        }
    }
    let in_sample = units.iter().all(|u| u.prepared.split.validation.is_empty());
    if in_sample {
        tracing::info!("no validation rows: tuning is in-sample on the test rows (NAB's protocol)");
    }
    let mut metrics_needed = vec![spec.objective.metric];
    metrics_needed.extend(spec.objective.constraints.iter().map(|c| c.metric));
    metrics_needed.push(spec.objective.policy_metric());
    let config = spec.eval_config();
    let ctx = Ctx {
        spec,
        units,
        groups,
        config,
        needs: Needs::of(metrics_needed),
        in_sample,
        policies: spec.threshold_policies(),
    };

    let spec_json = serde_json::to_string(spec).unwrap_or_default();
    let spec_hash = sha256_hex(spec_json.as_bytes());
    let datasets: Vec<DatasetUse> = data
        .iter()
        .map(|d| DatasetUse {
            fingerprint: d.fingerprint.clone(),
            description: format!("{}: {}", d.name, d.description),
            role: "train.validation.test".into(),
        })
        .collect();
    registry.create_experiment(&spec.name, &spec.description)?;
    Ok(Setup {
        registry,
        data,
        ctx,
        spec_hash,
        datasets,
    })
}

fn run_in_pool(spec: &Spec, options: &RunOptions) -> Result<Outcome> {
    let started = Instant::now();
    let Setup {
        registry,
        data,
        ctx,
        spec_hash,
        datasets,
    } = setup(spec, options)?;

    // The invocation: a new one, the one to resume, or the sharded one to assemble.
    let invocation = if options.merge {
        let invocation = sharded_invocation(spec, &spec_hash, &data, options)?;
        check_shards_complete(&registry, spec, &invocation)?;
        invocation
    } else if options.resume {
        find_resumable(&registry, &spec.name, &spec_hash)?
    } else {
        format!("{}-{}", &spec_hash[..12], vigil_registry::now_ms())
    };
    let logger = Logger {
        registry: &registry,
        experiment: spec.name.clone(),
        invocation: invocation.clone(),
        spec_hash: spec_hash.clone(),
        git: git_commit(),
        datasets: datasets.clone(),
        resume: options.resume || options.merge,
        logged: std::cell::Cell::new(0),
        stop_after: options.stop_after_trials,
    };

    // Tune every family: each candidate is fitted once per series. Cross-validation keeps
    // every candidate's scores, so that its folds only re-choose.
    let plan = cv_plan(&ctx)?;
    let mut families: Vec<FamilyTrials> = Vec::new();
    for entry in &spec.detectors {
        let cands = candidates(entry, &spec.search, spec.seed)?;
        tracing::info!(family = %entry.kind, candidates = cands.len(), "tuning");
        if let Some(f) = tune_family(
            &ctx,
            &logger,
            entry.kind,
            cands,
            options.progress,
            plan.is_some(),
        )? {
            families.push(f);
        }
    }
    if families.is_empty() {
        return Err(ExperimentError::NothingToChoose {
            message: "every candidate of every family failed".into(),
            hint: "run with -v to see why each fit failed (often: series shorter than the window)"
                .into(),
        });
    }
    // Choices that must transfer between groups: each family re-chosen by the inner
    // cross-validation over every group (refitted when that is another candidate).
    let all: Vec<usize> = (0..ctx.units.len()).collect();
    let transfer_folds: Option<Vec<Vec<usize>>> = plan
        .as_ref()
        .filter(|_| spec.validation.select == Selection::Transfer)
        .map(|(groups, folds)| crossval::inner_folds(groups, folds, &all));
    if let Some(inner) = &transfer_folds {
        tracing::info!("choosing each family's candidate and threshold by how they transfer");
        for family in &mut families {
            let caches = crossval::Caches::of(&ctx, family);
            let Some(choice) = crossval::choose(&ctx, family, &caches, &all, Some(inner)) else {
                continue;
            };
            let candidate = &family.candidates[choice.candidate];
            if candidate.index != family.best.candidate.index {
                family.best.scored = score_candidate(&ctx, candidate, &all).map_err(|e| {
                    ExperimentError::NothingToChoose {
                        message: format!(
                            "{}: refitting the candidate chosen across groups failed: {e}",
                            family.best.kind
                        ),
                        hint: "run with -v to see why".into(),
                    }
                })?;
                let (_, maps) = ctx.tuning_best(&family.best.scored.scores, &all);
                (family.best.validation, family.best.feasible) =
                    ctx.objective(&maps[choice.policy]);
                family.best.candidate = candidate.clone();
            }
            family.best.policy = choice.policy;
            family.best.selection = Some((choice.value, choice.feasible));
        }
    }
    let bests: Vec<&FamilyBest> = families.iter().map(|f| &f.best).collect();

    // Test each family's best, then the ensembles.
    tracing::info!(
        families = bests.len(),
        "testing each family's choice, building the ensembles"
    );
    let mut entries = Vec::new();
    let mut traces = Traces::new();
    let mut baselines = BTreeMap::new();
    let pb = bar(options.progress, bests.len(), "testing");
    for b in &bests {
        let policy = &ctx.policies[b.policy];
        let (test, per_series, base, thresholds) = ctx.test(&b.scored.scores, policy, None);
        if baselines.is_empty() {
            baselines = base;
        }
        entries.push(Entry {
            name: b.kind.name().to_string(),
            causal: b.kind.causal(),
            params: serde_json::to_value(&b.candidate.spec).unwrap_or_default(),
            threshold_policy: policy.to_string(),
            trials: b.trials,
            failed: b.failed,
            series_failed: b.scored.failed.clone(),
            validation: b.validation,
            selection: b.selection.map(|s| s.0),
            feasible: b.selection.map_or(b.feasible, |s| s.1),
            eligible: spec.objective.eligible(b.kind.name()),
            test,
            per_series,
            tuning: b.tuning.clone(),
            cv: None,
        });
        traces.insert(
            b.kind.name().to_string(),
            EntryTrace {
                scores: b.scored.scores.clone(),
                thresholds,
                expected: b.scored.expected.clone(),
                periods: b
                    .scored
                    .models
                    .iter()
                    .map(|m| m.as_ref().and_then(FittedModel::periods))
                    .collect(),
            },
        );
        pb.inc(1);
    }
    pb.finish_and_clear();
    let inputs: Vec<MemberInput<'_>> = bests
        .iter()
        .map(|b| MemberInput {
            kind: b.kind,
            spec: &b.candidate.spec,
            scores: &b.scored.scores,
            validation: b.selection.map_or(b.validation, |s| s.0),
        })
        .collect();
    let ensembles = build_ensembles(&ctx, &inputs, &all);
    if ctx.spec.ensemble.is_some() && ensembles.is_empty() {
        tracing::warn!("fewer than two ensemble members are available; no ensemble is built");
    }
    for e in &ensembles {
        let name = e.name();
        let policy = &ctx.policies[e.policy];
        let (test, per_series, _, thresholds) = ctx.test(&e.scores, policy, e.fixed);
        let selection = transfer_folds.as_ref().map(|inner| {
            ctx.objective(&crossval::transfer(&ctx, &e.scores, policy, e.fixed, inner))
        });
        entries.push(Entry {
            name: name.clone(),
            causal: e.members.iter().all(|k| k.causal()),
            params: e.state.clone(),
            threshold_policy: match e.fixed {
                Some(v) => format!("vote share {v:.3}"),
                None => policy.to_string(),
            },
            trials: 1,
            failed: 0,
            series_failed: Vec::new(),
            validation: e.validation,
            selection: selection.map(|s| s.0),
            feasible: selection.map_or(e.feasible, |s| s.1),
            eligible: spec.objective.eligible(&name),
            test,
            per_series,
            tuning: Vec::new(),
            cv: None,
        });
        traces.insert(
            name,
            EntryTrace {
                scores: e.scores.clone(),
                thresholds,
                expected: vec![None; ctx.units.len()],
                periods: vec![None; ctx.units.len()],
            },
        );
    }
    drop(inputs);
    let objective = spec.objective.metric;
    // Ranked by what chose them: the transfer score when there is one, else validation.
    // Entries the spec does not let the runner choose come after the eligible ones.
    let rank = |e: &Entry| {
        (
            e.eligible,
            e.feasible,
            objective.oriented(e.selection.unwrap_or(e.validation)),
        )
    };
    entries.sort_by(|a, b| {
        rank(b)
            .partial_cmp(&rank(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.name.cmp(&b.name))
    });
    let cv = plan.map(|(groups, folds)| {
        tracing::info!(
            folds = folds.len(),
            groups = groups.names.len(),
            "cross-validating the selection"
        );
        crossval::cross_validate(
            &ctx,
            &families,
            &groups,
            &folds,
            &mut entries,
            group_by_label(&spec.validation.group_by),
            options.progress,
        )
    });
    let mut warnings = few_incident_warnings(&ctx);
    warnings.extend(fit_warnings(&ctx, &families));
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let leaderboard = Leaderboard {
        experiment: spec.name.clone(),
        objective,
        in_sample: ctx.in_sample,
        entries,
        baselines,
        datasets: data
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    (d.fingerprint.clone(), d.description.clone(), d.series.len()),
                )
            })
            .collect(),
        cv,
        warnings,
    };
    let bests: Vec<&FamilyBest> = families.iter().map(|f| &f.best).collect();

    let versions = register::register_versions(&register::Registration {
        ctx: &ctx,
        registry: &registry,
        leaderboard: &leaderboard,
        bests: &bests,
        ensembles: &ensembles,
        traces: &traces,
        datasets: &datasets,
        invocation: &invocation,
        promote: options.promote,
    })?;

    // The summary run closes the invocation (so --resume knows it finished).
    let mut info = RunInfo::new(&spec.name);
    info.name = "summary".into();
    info.trial_key = Some(summary_key(&invocation));
    info.git_commit = logger.git.clone();
    info.spec_hash = Some(spec_hash);
    let mut record = RunRecord::finished(info);
    record.tags.insert("phase".into(), "summary".into());
    if options.merge {
        record.tags.insert("sharded".into(), "merged".into());
    }
    record.tags.insert("invocation".into(), invocation);
    record
        .params
        .insert("objective".into(), objective.name().into());
    if let Some(best) = leaderboard.best() {
        record.params.insert("best".into(), best.name.clone());
        record.metrics.push(MetricPoint::new(
            format!("validation_{}", objective.name()),
            best.validation,
            0,
        ));
    }
    let lb_bytes = serde_json::to_vec_pretty(&leaderboard).unwrap_or_default();
    let stored = registry.put_artifact(&lb_bytes, "application/json")?;
    record.artifacts.push(NamedArtifact {
        name: "leaderboard.json".into(),
        artifact: stored,
    });
    if !options.spec_text.is_empty() {
        let stored = registry.put_artifact(options.spec_text.as_bytes(), "application/toml")?;
        record.artifacts.push(NamedArtifact {
            name: "spec.toml".into(),
            artifact: stored,
        });
    }
    record.datasets = datasets;
    let mut outcome = Outcome {
        leaderboard,
        versions,
        summary_run: record.info.trial_key.clone().unwrap_or_default(),
        traces,
        wall_seconds: started.elapsed().as_secs_f64(),
        data,
        git_commit: logger.git.clone(),
    };
    // The report's input travels with the summary run, so `vigil report RUN` re-renders it.
    let report = crate::report::build_report(spec, options, &outcome);
    let stored = registry.put_artifact(
        &serde_json::to_vec(&report).unwrap_or_default(),
        "application/json",
    )?;
    record.artifacts.push(NamedArtifact {
        name: crate::report::REPORT_ARTIFACT.into(),
        artifact: stored,
    });
    outcome.summary_run = registry.log_run(&record)?;
    Ok(outcome)
}

/// The invocation to resume: the newest one of this spec hash without a summary run.
fn find_resumable(registry: &Registry, experiment: &str, spec_hash: &str) -> Result<String> {
    let runs = registry.runs(&RunFilter {
        experiment: Some(experiment.to_string()),
        spec_hash: Some(spec_hash.to_string()),
        ..RunFilter::default()
    })?;
    let Some(newest) = runs.first() else {
        return Err(ExperimentError::Resume {
            message: format!("experiment {experiment} has no run of this spec to resume"),
            hint: "run without --resume to start".into(),
        });
    };
    let details = registry.run(&newest.id)?;
    let Some(invocation) = details.tags.get("invocation").cloned() else {
        return Err(ExperimentError::Resume {
            message: format!("run {} carries no invocation tag", newest.id),
            hint: "run without --resume to start a new invocation".into(),
        });
    };
    if details.tags.get("phase").is_some_and(|p| p == "summary") {
        return Err(ExperimentError::Resume {
            message: format!(
                "the last invocation of this spec ({invocation}) finished; nothing to resume"
            ),
            hint: "run without --resume to start a new invocation".into(),
        });
    }
    Ok(invocation)
}

/// The invocation every shard of a sharded run logs under, and the merge reads: derived from
/// the spec, the data fingerprints and the group label, so shards on different machines agree
/// without talking to each other, and a shard run again (a retried pod) finds its own trials.
fn sharded_invocation(
    spec: &Spec,
    spec_hash: &str,
    data: &[PreparedDataset],
    options: &RunOptions,
) -> Result<String> {
    if spec.search.strategy == Strategy::Halving {
        return Err(ExperimentError::Shard {
            message: "successive halving picks each round's survivors from every candidate's \
                      result, so its work cannot be split into shards in advance"
                .into(),
            hint: "use strategy = \"grid\" or \"random\" for a sharded run, or run the halving \
                   search in one process"
                .into(),
        });
    }
    let group = options.shard_group.as_deref().unwrap_or("sharded");
    if group.is_empty()
        || group.len() > 64
        || !group
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ExperimentError::Shard {
            message: format!("shard group {group:?} is not a valid label"),
            hint: "use 1-64 characters from A-Z, a-z, 0-9, '-', '_' and '.' (e.g. the Job name \
                   or a date such as 2026-11)"
                .into(),
        });
    }
    let fingerprints: String = data
        .iter()
        .map(|d| format!("{}={}\n", d.name, d.fingerprint))
        .collect();
    let data_hash = sha256_hex(fingerprints.as_bytes());
    Ok(format!("{}-{}-{group}", &spec_hash[..12], &data_hash[..12]))
}

/// Every trial of the run, in the order that assigns them to shards.
fn all_trials(spec: &Spec) -> Result<Vec<(DetectorKind, Candidate)>> {
    let mut out = Vec::new();
    for entry in &spec.detectors {
        for c in candidates(entry, &spec.search, spec.seed)? {
            out.push((entry.kind, c));
        }
    }
    Ok(out)
}

/// Before a merge: the run is not merged yet, and every shard's trials are in the registry.
fn check_shards_complete(registry: &Registry, spec: &Spec, invocation: &str) -> Result<()> {
    if let Some(run) = registry.find_finished_run(&spec.name, &summary_key(invocation))? {
        return Err(ExperimentError::Shard {
            message: format!(
                "the sharded run {invocation} was already merged (summary run {})",
                run.id
            ),
            hint: format!(
                "`vigil report {}` re-renders its report; start a new sharded run with another \
                 --shard-group",
                run.id
            ),
        });
    }
    let trials = all_trials(spec)?;
    let mut missing: BTreeMap<&str, usize> = BTreeMap::new();
    let mut first = None;
    for (g, (kind, c)) in trials.iter().enumerate() {
        let key = trial_key(invocation, kind.name(), &c.spec_json(), 0);
        if registry.find_finished_run(&spec.name, &key)?.is_none() {
            *missing.entry(kind.name()).or_default() += 1;
            first.get_or_insert((g, kind.name(), c.index));
        }
    }
    if let Some((g, family, index)) = first {
        let count: usize = missing.values().sum();
        let per_family: Vec<String> = missing.iter().map(|(f, n)| format!("{f}: {n}")).collect();
        return Err(ExperimentError::Shard {
            message: format!(
                "the sharded run {invocation} is incomplete: {count} of {} trials are not in \
                 the registry ({}); the first is trial {g} ({family}#{index}), which shard \
                 {g} mod N + 1 of an N-way split computes",
                trials.len(),
                per_family.join(", ")
            ),
            hint: "wait until every `vigil run SPEC --shard K/N` has finished (a failed shard \
                   can simply run again: it keeps its finished trials), then merge again"
                .into(),
        });
    }
    Ok(())
}

/// Runs one shard of a spec: computes and logs this shard's trials (skipping those already
/// logged), and nothing else. `run` with [`RunOptions::merge`] assembles the result once every
/// shard has finished; the union equals a single-process run.
pub fn run_shard(spec: &Spec, options: &RunOptions, shard: Shard) -> Result<ShardOutcome> {
    in_pool(spec, options, || shard_in_pool(spec, options, shard))
}

fn shard_in_pool(spec: &Spec, options: &RunOptions, shard: Shard) -> Result<ShardOutcome> {
    let started = Instant::now();
    let Setup {
        registry,
        data,
        ctx,
        spec_hash,
        datasets,
    } = setup(spec, options)?;
    let invocation = sharded_invocation(spec, &spec_hash, &data, options)?;
    let logger = Logger {
        registry: &registry,
        experiment: spec.name.clone(),
        invocation: invocation.clone(),
        spec_hash,
        git: git_commit(),
        datasets,
        resume: true,
        logged: std::cell::Cell::new(0),
        stop_after: options.stop_after_trials,
    };
    let trials = all_trials(spec)?;
    let total_trials = trials.len();
    let work: Vec<(DetectorKind, Candidate)> = trials
        .into_iter()
        .enumerate()
        .filter(|(g, _)| shard.owns(*g))
        .map(|(_, t)| t)
        .collect();
    tracing::info!(
        shard = %shard, invocation = %invocation, owned = work.len(), total = total_trials,
        "running shard"
    );
    let all_units: Vec<usize> = (0..ctx.units.len()).collect();
    let pb = bar(options.progress, work.len(), &format!("shard {shard}"));
    let mut outcome = ShardOutcome {
        shard: shard.to_string(),
        invocation: invocation.clone(),
        total_trials,
        owned: work.len(),
        computed: 0,
        reused: 0,
        failed: 0,
        wall_seconds: 0.0,
    };
    // Trials in chunks, so memory holds at most a chunk of score sets at once.
    let chunk = rayon::current_num_threads().max(1) * 2;
    for part in work.chunks(chunk) {
        let keys: Vec<String> = part
            .iter()
            .map(|(kind, c)| logger.trial_key(kind.name(), &c.spec_json(), 0))
            .collect();
        let mut done = Vec::with_capacity(part.len());
        for key in &keys {
            done.push(logger.resumed(key)?.is_some());
        }
        let fresh: Vec<Option<(MetricMap, Option<String>)>> = part
            .par_iter()
            .zip(&done)
            .map(|((_, c), &done)| {
                if done {
                    return None;
                }
                Some(match score_candidate(&ctx, c, &all_units) {
                    Ok(s) => {
                        let (p, mut maps) = ctx.tuning_best(&s.scores, &all_units);
                        let mut map = std::mem::take(&mut maps[p]);
                        map.insert(POLICY_KEY.into(), p as f64);
                        (map, None)
                    }
                    Err(e) => (MetricMap::new(), Some(e)),
                })
            })
            .collect();
        for (((kind, c), key), fresh) in part.iter().zip(keys).zip(fresh) {
            pb.inc(1);
            match fresh {
                None => outcome.reused += 1,
                Some((metrics, error)) => {
                    logger.log_trial(kind.name(), c, 0, key, &metrics, error.as_deref())?;
                    outcome.computed += 1;
                    if error.is_some() {
                        outcome.failed += 1;
                    }
                }
            }
        }
    }
    pb.finish_and_clear();
    outcome.wall_seconds = started.elapsed().as_secs_f64();
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_parse_and_partition_the_trials() {
        let s: Shard = "2/3".parse().unwrap();
        assert_eq!((s.index, s.count), (2, 3));
        assert_eq!(s.to_string(), "2/3");
        for bad in ["0/3", "4/3", "3", "a/3", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let shards: Vec<Shard> = (1..=3).map(|k| Shard { index: k, count: 3 }).collect();
        for g in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.owns(g)).count(), 1, "trial {g}");
        }
    }
}
