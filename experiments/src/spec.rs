//! The experiment spec: one TOML file that says which data, which split, which detector
//! families with which search spaces, how to search, what to optimise under which constraints,
//! how thresholds and alerts work, where to register and where to write the report.
//!
//! Parsing is strict: unknown keys and wrong types fail with the key path, the line and
//! column, and a hint (see [`parse_spec`]). Semantic checks (unknown metric names, empty
//! family lists, bad search dimensions) run in [`Spec::check`] and name the key they concern.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vigil_datasets::Layout;
use vigil_datasets::split::SplitSpec;
use vigil_datasets::synth::SynthConfig;
use vigil_eval::alert::AlertPolicy;
use vigil_eval::threshold::ThresholdPolicy;
use vigil_train::DetectorKind;

use crate::error::{ExperimentError, Result};
use crate::metrics::MetricName;

/// A whole experiment spec (`experiments/specs/*.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Experiment name: the registry experiment, and the stem of model names.
    pub name: String,
    /// Free text shown in the report.
    #[serde(default)]
    pub description: String,
    /// Master seed of every random step (search sampling, seeded families, baselines).
    #[serde(default)]
    pub seed: u64,
    /// Worker threads; 0 = one per core. Results do not depend on it.
    #[serde(default)]
    pub threads: usize,
    /// Where the data comes from (one or more datasets).
    pub datasets: Vec<DataSpec>,
    /// How each series is split by time.
    pub split: SplitSpec,
    /// How the search runs.
    #[serde(default)]
    pub search: SearchSpec,
    /// What is optimised, under which constraints.
    pub objective: ObjectiveSpec,
    /// How the deployable threshold is fitted on validation data.
    #[serde(default = "default_threshold")]
    pub threshold: ThresholdPolicy,
    /// Whether one threshold serves the whole corpus (NAB's protocol) or each series gets its
    /// own, fitted on its own validation rows (one model per machine, as SMD is run).
    #[serde(default)]
    pub threshold_scope: ThresholdScope,
    /// Further threshold policies the runner may choose instead of `threshold`: each family's
    /// candidate is tuned with every policy, and the (candidate, policy) pair with the best
    /// objective wins, like any hyper-parameter (under `[validation] kind = "groups"`, on the
    /// training groups of each fold only).
    #[serde(default)]
    pub threshold_candidates: Vec<ThresholdPolicy>,
    /// Maps every candidate's scores, per series, to a common scale before thresholds are
    /// fitted: statistics of the series' own training-row scores (no labels), so that one
    /// pooled threshold means the same on every series, a new one included.
    #[serde(default)]
    pub calibrate: Calibration,
    /// How the choices are validated: on each series' validation rows (`time`, the default),
    /// or cross-validated across independent groups of series (`groups`).
    #[serde(default)]
    pub validation: ValidationSpec,
    /// How detections become alerts.
    #[serde(default)]
    pub alert: AlertPolicy,
    /// Early-detection allowance for event metrics and delays, seconds.
    #[serde(default)]
    pub early_seconds: i64,
    /// Points (rows) allowed on each side of an incident by `ucr_top1`, the UCR archive's
    /// top-1 accuracy (default 100, the KDD Cup 2021 convention). Left out of the serialised
    /// spec at its default, so that specs written before it keep their hash.
    #[serde(
        default = "default_ucr_top1_slack",
        skip_serializing_if = "is_default_ucr_top1_slack"
    )]
    pub ucr_top1_slack: usize,
    /// The detector families to tune.
    pub detectors: Vec<DetectorEntry>,
    /// Ensembles built from the best member of each family.
    #[serde(default)]
    pub ensemble: Option<EnsembleSpec>,
    /// Where runs and models go.
    #[serde(default)]
    pub registry: RegistrySpec,
    /// Where the HTML report goes.
    #[serde(default)]
    pub report: ReportSpec,
}

fn default_ucr_top1_slack() -> usize {
    vigil_eval::ucr::DEFAULT_SLACK
}

fn is_default_ucr_top1_slack(slack: &usize) -> bool {
    *slack == vigil_eval::ucr::DEFAULT_SLACK
}

fn default_threshold() -> ThresholdPolicy {
    ThresholdPolicy::Best {
        objective: vigil_eval::threshold::Objective::PointF1,
    }
}

/// One dataset: generated or read from a path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// Short name used in the leaderboard (default: the folder name or `synthetic`).
    #[serde(default)]
    pub name: Option<String>,
    /// A file or folder the loaders read (relative paths are relative to the spec file).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Its layout (detected when left out).
    #[serde(default)]
    pub layout: Option<Layout>,
    /// A labels file for generic data.
    #[serde(default)]
    pub labels: Option<PathBuf>,
    /// A generated dataset instead of a path: the synthetic generator's config.
    #[serde(default)]
    pub synthetic: Option<SynthConfig>,
    /// Which series: exact names, `prefix*` patterns, or `*` (default: all).
    #[serde(default)]
    pub series: Vec<String>,
    /// Which channels (column names) to keep (default: all).
    #[serde(default)]
    pub channels: Vec<String>,
    /// At most this many series, in name order (0 = all).
    #[serde(default)]
    pub max_series: usize,
}

/// How candidates are chosen from each family's space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Every combination of the listed values (ranges contribute `grid_points` values each).
    #[default]
    Grid,
    /// `budget` candidates sampled with the spec's seed.
    Random,
    /// Successive halving: `budget` random candidates scored on a growing share of the
    /// series, keeping the best `1/eta` each round.
    Halving,
}

/// Search settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchSpec {
    /// Grid, random or successive halving.
    pub strategy: Strategy,
    /// Candidates per family (random and halving), and the cap of a grid.
    pub budget: usize,
    /// Values taken from each range dimension in a grid.
    pub grid_points: usize,
    /// Halving keeps the best `1/eta` of the candidates per round.
    pub eta: usize,
}

impl Default for SearchSpec {
    fn default() -> Self {
        Self {
            strategy: Strategy::Grid,
            budget: 12,
            grid_points: 3,
            eta: 3,
        }
    }
}

/// Threshold scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdScope {
    /// One threshold over all series (NAB); metrics pooled over the corpus.
    #[default]
    Corpus,
    /// One threshold per series, fitted on its own validation rows (a supervised policy falls
    /// back to the value pooled over the other series when a series has no incident there);
    /// metrics are averaged over series (macro).
    Series,
    /// One threshold fitted on every series' validation rows pooled (usually on calibrated
    /// scores, see [`Calibration`]) and applied to each series, a new one included; metrics are
    /// averaged over series (macro).
    Pooled,
}

/// Per-series score calibration before thresholds (fitted on the series' training rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Calibration {
    /// Raw scores.
    #[default]
    None,
    /// `(s − median) / σ̂` of the training-row scores (robust σ̂ with a fallback chain).
    RobustZ,
    /// Conformal: the share of training-row scores strictly below `s` (1 − the p-value).
    Conformal,
}

/// How choices are validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ValidationSpec {
    /// `time` (each series' validation rows) or `groups` (cross-validation across groups).
    #[serde(default)]
    pub kind: ValidationKind,
    /// How series form groups (for `groups`).
    #[serde(default)]
    pub group_by: GroupBy,
    /// How groups form folds (for `groups`).
    #[serde(default)]
    pub folds: Folds,
    /// How candidates, threshold policies and entries are chosen on a set of groups (for
    /// `groups`): `in_sample` (the objective on those groups' tuning rows, thresholds fitted on
    /// the same rows) or `transfer` (an inner cross-validation over those groups: each group's
    /// threshold fitted on the others, as a new series or machine would get it).
    #[serde(default)]
    pub select: Selection,
    /// Warn when a series' tuning rows hold fewer incidents than this and the objective or
    /// the threshold policy needs labels (default 3).
    #[serde(default = "default_min_incidents")]
    pub min_incidents: usize,
}

fn default_min_incidents() -> usize {
    3
}

/// How choices are scored on a set of groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// The objective on the groups' tuning rows, thresholds fitted on those rows.
    #[default]
    InSample,
    /// The objective of an inner cross-validation over the groups: every choice is judged by
    /// how its threshold transfers to a group it was not fitted on.
    Transfer,
}

/// Validation kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ValidationKind {
    /// Choices on each series' validation rows (or in-sample under NAB's protocol).
    #[default]
    Time,
    /// Cross-validation across groups: every choice is made on the training groups of a fold
    /// and the held-out group is scored with everything fixed.
    Groups,
}

/// How series are grouped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GroupBy {
    /// `series` (also `machine`, `entity`: each series its own group), `category` (the series
    /// name up to its first `/`, NAB's categories) or `dataset`.
    Named(String),
    /// The first capture group (or the whole match) of a regular expression over series names.
    Regex {
        /// The expression.
        regex: String,
    },
}

impl Calibration {
    /// The normalisation that calibrates, `None` for raw scores.
    pub fn normalise(self) -> Option<Normalise> {
        match self {
            Calibration::None => None,
            Calibration::RobustZ => Some(Normalise::RobustZ),
            Calibration::Conformal => Some(Normalise::Conformal),
        }
    }
}

impl Default for GroupBy {
    fn default() -> Self {
        GroupBy::Named("series".into())
    }
}

/// How groups form folds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Folds {
    /// `leave_one_out`: one fold per group.
    Named(String),
    /// `k` folds of groups, shuffled with the spec's seed.
    K {
        /// Number of folds (at least 2, at most the number of groups).
        k: usize,
    },
}

impl Default for Folds {
    fn default() -> Self {
        Folds::Named("leave_one_out".into())
    }
}

/// The objective and its constraints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveSpec {
    /// The metric to optimise (see [`MetricName`]); its direction is known.
    pub metric: MetricName,
    /// Bounds a candidate must meet on validation to be chosen.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// What chooses among threshold policies (`threshold_candidates`): default the objective,
    /// or event F1 when the objective needs no threshold (VUS-PR cannot tell policies apart).
    #[serde(default)]
    pub threshold_metric: Option<MetricName>,
    /// The leaderboard entries the runner may choose as the model (family names or
    /// `ensemble_MODE`; default every entry). The others are still tuned, tested and shown
    /// for comparison. Fixing the pipeline here leaves its own choices (parameters,
    /// thresholds, members' settings) to the protocol, and keeps the selection from switching
    /// between near-equal entries on noise.
    #[serde(default)]
    pub entries: Vec<String>,
}

impl ObjectiveSpec {
    /// Whether `name` may be chosen as the model.
    pub fn eligible(&self, name: &str) -> bool {
        self.entries.is_empty() || self.entries.iter().any(|e| e == name)
    }
}

impl ObjectiveSpec {
    /// The metric that ranks threshold policies.
    pub fn policy_metric(&self) -> MetricName {
        self.threshold_metric
            .unwrap_or(if self.metric.threshold_free() {
                MetricName::EventF1
            } else {
                self.metric
            })
    }
}

/// `metric <= max` and/or `metric >= min`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraint {
    /// The constrained metric.
    pub metric: MetricName,
    /// Upper bound.
    #[serde(default)]
    pub max: Option<f64>,
    /// Lower bound.
    #[serde(default)]
    pub min: Option<f64>,
}

impl Constraint {
    /// True when `value` meets the bounds.
    pub fn holds(&self, value: f64) -> bool {
        value.is_finite()
            && self.max.is_none_or(|max| value <= max)
            && self.min.is_none_or(|min| value >= min)
    }
}

/// One family to tune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorEntry {
    /// The family.
    pub kind: DetectorKind,
    /// `"default"` (the family's own space), `"none"` (only the fixed parameters), or a table
    /// of dimensions: `window = [50, 100]`, `alpha = { low = 0.01, high = 0.5, log = true }`,
    /// `season = { low = 12, high = 288, step = 12 }`.
    #[serde(default)]
    pub search: SearchDims,
    /// Parameters fixed for every candidate (the family's own names).
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
}

/// A family's search dimensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SearchDims {
    /// `"default"` or `"none"`.
    Named(String),
    /// Explicit dimensions.
    Dims(BTreeMap<String, DimSpec>),
}

impl Default for SearchDims {
    fn default() -> Self {
        SearchDims::Named("default".into())
    }
}

/// One dimension as written in a spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DimSpec {
    /// A list of values.
    Values(Vec<toml::Value>),
    /// An integer range with a step.
    IntRange {
        /// Lowest value.
        low: i64,
        /// Highest value.
        high: i64,
        /// Step.
        step: i64,
    },
    /// A real range.
    FloatRange {
        /// Lowest value.
        low: f64,
        /// Highest value.
        high: f64,
        /// Sample in log space.
        #[serde(default)]
        log: bool,
    },
}

/// How ensemble scores are normalised before they are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Normalise {
    /// (score − median) / (1.4826·MAD), statistics from each member's training rows.
    #[default]
    RobustZ,
    /// The empirical CDF of each member's training scores (a value in [0, 1]).
    Rank,
    /// Conformal: the share of training scores strictly below the score (1 − its p-value), so
    /// a score no higher than any training score maps to 0 however many ties there are.
    Conformal,
    /// Raw scores: for votes of members whose own thresholds already transfer (e.g. calibrated
    /// probabilities), each member voting at the threshold fitted on its raw scale.
    None,
}

/// How members combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnsembleMode {
    /// Weighted mean of the normalised scores (a continuous score, thresholded like any).
    Mean,
    /// Weighted vote: each member votes when its own validation threshold fires; the score
    /// is the weighted share of votes, and an alert needs `vote_threshold`.
    Vote,
    /// Equal-weight vote, alert when more than half vote.
    Majority,
    /// Equal-weight vote, alert only when every member votes.
    Consensus,
}

/// Member weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Weights {
    /// `"equal"` or `"learned"` (a coordinate search on validation data, steps of 0.1).
    Named(String),
    /// One weight per member, in member order.
    Given(Vec<f64>),
}

/// Ensembles of the best member of each family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleSpec {
    /// Member families (default: the best `top` families by validation objective).
    #[serde(default)]
    pub members: Vec<DetectorKind>,
    /// When `members` is empty: how many of the best families join.
    #[serde(default = "default_top")]
    pub top: usize,
    /// Score normalisation.
    #[serde(default)]
    pub normalise: Normalise,
    /// Modes to build (each is a leaderboard entry).
    #[serde(default = "default_modes")]
    pub modes: Vec<EnsembleMode>,
    /// Member weights for `mean` and `vote`.
    #[serde(default = "default_weights")]
    pub weights: Weights,
    /// Vote share needed for an alert in `vote` mode (the runtime design: 0.6).
    #[serde(default = "default_vote_threshold")]
    pub vote_threshold: f64,
}

fn default_top() -> usize {
    4
}
fn default_modes() -> Vec<EnsembleMode> {
    vec![
        EnsembleMode::Mean,
        EnsembleMode::Vote,
        EnsembleMode::Majority,
    ]
}
fn default_weights() -> Weights {
    Weights::Named("learned".into())
}
fn default_vote_threshold() -> f64 {
    0.6
}

/// Registry settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrySpec {
    /// Database URL (`sqlite://PATH` or `postgres://…`); `--registry` overrides.
    pub url: String,
    /// Model name of the best overall pipeline (default: the experiment name); the best of each
    /// family is registered as `MODEL.FAMILY`.
    pub model: Option<String>,
}

impl Default for RegistrySpec {
    fn default() -> Self {
        Self {
            url: vigil_registry::DEFAULT_DB_URL.into(),
            model: None,
        }
    }
}

/// Report settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSpec {
    /// HTML path (default `reports/NAME.html`, relative to the working directory).
    pub path: Option<PathBuf>,
    /// Series plotted per dataset (default 6; the best and worst by objective first).
    pub max_series_plots: Option<usize>,
}

/// Parses a spec from TOML text; `origin` names the file in errors.
pub fn parse_spec(text: &str, origin: &str) -> Result<Spec> {
    let spec: Spec = toml::from_str(text)
        .map_err(|e| syntax_error(text, origin, &e, "experiments/specs/quickstart.toml"))?;
    check_lenient_tables(text, origin)?;
    spec.check(origin)?;
    check_detector_params(&spec, text, origin)?;
    Ok(spec)
}

/// Each `[[detectors]]` entry's fixed `params` applied to the family's defaults: a value of the
/// wrong type, or (under `search = "none"`, where that is the only candidate) one that breaks
/// a rule, fails here with the file and line of the entry's `params`, like a syntax error.
fn check_detector_params(spec: &Spec, text: &str, origin: &str) -> Result<()> {
    for (i, entry) in spec.detectors.iter().enumerate() {
        let fixed_only = matches!(&entry.search, SearchDims::Named(n) if n == "none");
        let error = match crate::search::base_spec(entry) {
            Err(ExperimentError::Detector { source, .. }) => source.to_string(),
            Err(other) => return Err(other),
            Ok(base) if fixed_only => match base.check() {
                Err(e) => e.to_string(),
                Ok(()) => continue,
            },
            Ok(_) => continue,
        };
        let (message, hint) = error.split_once("\nhint: ").unwrap_or((
            error.as_str(),
            "see `vigil families NAME` for the parameters",
        ));
        return Err(ExperimentError::SpecSyntax {
            file: origin.to_string(),
            line: detector_params_line(text, i),
            column: 1,
            message: format!("[[detectors]] #{} ({}): {message}", i + 1, entry.kind),
            hint: hint.to_string(),
        });
    }
    Ok(())
}

/// The 1-based line of the `i`-th `[[detectors]]` entry's `params` key (its header line when
/// it has none; 0 when the entry is not found, e.g. written as an inline array).
fn detector_params_line(text: &str, i: usize) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let Some(header) = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[detectors]]"))
        .nth(i)
        .map(|(n, _)| n)
    else {
        return 0;
    };
    lines[header + 1..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with('['))
        .position(|l| l.trim_start().starts_with("params"))
        .map_or(header + 1, |k| header + 2 + k)
}

/// `[threshold]` and `[alert]` come from the eval crate, whose tagged types accept unknown
/// keys; check them here so that a misplaced top-level key (TOML puts every key after a
/// `[table]` header inside that table) is caught instead of silently ignored.
fn check_lenient_tables(text: &str, origin: &str) -> Result<()> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let allowed: [(&str, &[&str]); 2] = [
        (
            "threshold",
            &[
                "kind",
                "value",
                "q",
                "rate",
                "k",
                "objective",
                "per_day",
                "risk",
                "level",
            ],
        ),
        (
            "alert",
            &["min_consecutive", "cooldown_ms", "merge_gap_ms", "severity"],
        ),
    ];
    for (name, keys) in allowed {
        let Some(toml::Value::Table(t)) = table.get(name) else {
            continue;
        };
        if let Some(bad) = t.keys().find(|k| !keys.contains(&k.as_str())) {
            let top_level = matches!(
                bad.as_str(),
                "threshold_scope"
                    | "threshold_candidates"
                    | "calibrate"
                    | "early_seconds"
                    | "ucr_top1_slack"
                    | "seed"
                    | "threads"
                    | "description"
                    | "name"
            );
            return Err(ExperimentError::SpecInvalid {
                file: origin.to_string(),
                key: format!("{name}.{bad}"),
                message: format!("[{name}] has no key `{bad}` (it takes {})", keys.join(", ")),
                hint: if top_level {
                    format!(
                        "`{bad}` is a top-level key: move it above the first [table] header (in TOML every key after `[{name}]` belongs to that table)"
                    )
                } else {
                    "remove or rename the key".to_string()
                },
            });
        }
    }
    Ok(())
}

/// Reads and parses a spec file; relative dataset paths are resolved against its folder.
pub fn load_spec(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
        hint: "check the spec path".into(),
    })?;
    let mut spec = parse_spec(&text, &path.display().to_string())?;
    let base = path.parent().unwrap_or(Path::new("."));
    for data in &mut spec.datasets {
        for p in [&mut data.path, &mut data.labels].into_iter().flatten() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
    Ok(spec)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, column)
}

/// A TOML or schema error of a spec file (`example` names a complete spec of that kind): the
/// line and column, the offending line, and a hint.
pub(crate) fn syntax_error(
    text: &str,
    origin: &str,
    e: &toml::de::Error,
    example: &str,
) -> ExperimentError {
    let (line, column) = e
        .span()
        .map(|span| line_col(text, span.start))
        .unwrap_or((0, 0));
    let at = text
        .lines()
        .nth(line.saturating_sub(1))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!(" (at `{}`)", l.chars().take(60).collect::<String>()))
        .unwrap_or_default();
    ExperimentError::SpecSyntax {
        file: origin.to_string(),
        line,
        column,
        message: format!("{}{at}", e.message().trim()),
        hint: hint_for(e.message()).replace("experiments/specs/quickstart.toml", example),
    }
}

fn hint_for(message: &str) -> String {
    if message.contains("unknown field") {
        "remove or rename the key; the expected keys are listed above (see experiments/specs/quickstart.toml for a complete example)".into()
    } else if message.contains("unknown variant") {
        "use one of the listed values".into()
    } else if message.contains("missing field") {
        "add the key (see experiments/specs/quickstart.toml for a complete example)".into()
    } else if message.contains("invalid type") {
        "give the value the type the key expects (a number without quotes, a string in quotes, a [list] or a { table })".into()
    } else {
        "check the TOML syntax at that line".into()
    }
}

impl Spec {
    /// Semantic checks that serde cannot express; each error names its key.
    pub fn check(&self, origin: &str) -> Result<()> {
        let bad = |key: &str, message: String, hint: &str| ExperimentError::SpecInvalid {
            file: origin.to_string(),
            key: key.to_string(),
            message,
            hint: hint.to_string(),
        };
        vigil_registry::validate_name("experiment", &self.name).map_err(|e| {
            bad(
                "name",
                e.to_string(),
                "use letters, digits, '.', '_' and '-'",
            )
        })?;
        if self.datasets.is_empty() {
            return Err(bad(
                "datasets",
                "no dataset is given".into(),
                "add a [[datasets]] table with `path = ...` or `synthetic = { seed = 7 }`",
            ));
        }
        for (i, d) in self.datasets.iter().enumerate() {
            if d.path.is_some() == d.synthetic.is_some() {
                return Err(bad(
                    &format!("datasets[{i}]"),
                    "give exactly one of `path` and `synthetic`".into(),
                    "e.g. path = \"../../../shared/datasets/nab\" or synthetic = { seed = 7 }",
                ));
            }
        }
        if self.detectors.is_empty() {
            return Err(bad(
                "detectors",
                "no detector family is given".into(),
                "add [[detectors]] tables with kind = \"rolling_zscore\" etc.",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, d) in self.detectors.iter().enumerate() {
            if !seen.insert(d.kind) {
                return Err(bad(
                    &format!("detectors[{i}].kind"),
                    format!("{} is listed twice", d.kind),
                    "list each family once and put all its values in its search table",
                ));
            }
            if let SearchDims::Named(name) = &d.search
                && name != "default"
                && name != "none"
            {
                return Err(bad(
                    &format!("detectors[{i}].search"),
                    format!("{name:?} is not a search"),
                    "use \"default\", \"none\" or a table of dimensions",
                ));
            }
        }
        if self.search.budget == 0 || self.search.grid_points == 0 || self.search.eta < 2 {
            return Err(bad(
                "search",
                "budget and grid_points must be at least 1 and eta at least 2".into(),
                "e.g. budget = 12, grid_points = 3, eta = 3",
            ));
        }
        if let Some(e) = &self.ensemble {
            if e.modes.is_empty() {
                return Err(bad(
                    "ensemble.modes",
                    "no mode".into(),
                    "use modes = [\"mean\", \"vote\"]",
                ));
            }
            if !(0.0..=1.0).contains(&e.vote_threshold) {
                return Err(bad(
                    "ensemble.vote_threshold",
                    format!("{} is outside [0, 1]", e.vote_threshold),
                    "the vote threshold is a share of the total weight, e.g. 0.6",
                ));
            }
            if let Weights::Named(n) = &e.weights
                && n != "equal"
                && n != "learned"
            {
                return Err(bad(
                    "ensemble.weights",
                    format!("{n:?} is not a weighting"),
                    "use \"equal\", \"learned\" or a list of numbers",
                ));
            }
            if let Weights::Given(w) = &e.weights
                && (w.iter().any(|v| !v.is_finite() || *v < 0.0) || w.iter().sum::<f64>() <= 0.0)
            {
                return Err(bad(
                    "ensemble.weights",
                    "weights must be non-negative with a positive sum".into(),
                    "e.g. weights = [0.3, 0.3, 0.2, 0.2]",
                ));
            }
        }
        self.threshold
            .check()
            .map_err(|e| bad("threshold", e.to_string(), "see vigil eval --help"))?;
        for (i, p) in self.threshold_candidates.iter().enumerate() {
            p.check().map_err(|e| {
                bad(
                    &format!("threshold_candidates[{i}]"),
                    e.to_string(),
                    "see vigil eval --help",
                )
            })?;
        }
        self.check_validation(origin)?;
        for (i, name) in self.objective.entries.iter().enumerate() {
            let family = self.detectors.iter().any(|d| d.kind.name() == name);
            let ensemble = self.ensemble.as_ref().is_some_and(|e| {
                e.modes.iter().any(|m| {
                    serde_json::to_value(m)
                        .ok()
                        .and_then(|v| v.as_str().map(|m| format!("ensemble_{m}") == *name))
                        .unwrap_or(false)
                })
            });
            if !family && !ensemble {
                return Err(bad(
                    &format!("objective.entries[{i}]"),
                    format!("{name:?} is not an entry of this spec"),
                    "name a listed family (e.g. \"anomaly_likelihood\") or an ensemble mode of \
                     [ensemble] as \"ensemble_MODE\" (e.g. \"ensemble_vote\")",
                ));
            }
        }
        self.alert
            .check()
            .map_err(|e| bad("alert", e.to_string(), "see vigil eval --help"))?;
        Ok(())
    }

    /// The `[validation]` table's rules.
    fn check_validation(&self, origin: &str) -> Result<()> {
        let bad = |key: &str, message: String, hint: &str| ExperimentError::SpecInvalid {
            file: origin.to_string(),
            key: key.to_string(),
            message,
            hint: hint.to_string(),
        };
        let v = &self.validation;
        match &v.group_by {
            GroupBy::Named(n)
                if !matches!(
                    n.as_str(),
                    "series" | "machine" | "entity" | "category" | "dataset"
                ) =>
            {
                return Err(bad(
                    "validation.group_by",
                    format!("{n:?} is not a grouping"),
                    "use \"series\" (or \"machine\"/\"entity\"), \"category\", \"dataset\" or { regex = \"^(machine-\\\\d)\" }",
                ));
            }
            GroupBy::Regex { regex } => {
                if let Err(e) = regex::Regex::new(regex) {
                    return Err(bad(
                        "validation.group_by.regex",
                        format!("{regex:?} is not a regular expression: {e}"),
                        "the first capture group (or the whole match) names the group",
                    ));
                }
            }
            GroupBy::Named(_) => {}
        }
        match &v.folds {
            Folds::Named(n) if n != "leave_one_out" => {
                return Err(bad(
                    "validation.folds",
                    format!("{n:?} is not a fold scheme"),
                    "use \"leave_one_out\" or { k = 5 }",
                ));
            }
            Folds::K { k } if *k < 2 => {
                return Err(bad(
                    "validation.folds.k",
                    format!("{k} folds cannot cross-validate"),
                    "use at least 2 folds, or \"leave_one_out\"",
                ));
            }
            _ => {}
        }
        if v.select == Selection::Transfer && v.kind != ValidationKind::Groups {
            return Err(bad(
                "validation.select",
                "\"transfer\" scores choices by how they carry over between groups, and \
                 validation is not by groups"
                    .into(),
                "add kind = \"groups\" and a group_by to [validation], or use \"in_sample\"",
            ));
        }
        if v.kind == ValidationKind::Groups && self.search.strategy == Strategy::Halving {
            return Err(bad(
                "search.strategy",
                "successive halving picks survivors on every series at once, so a held-out \
                 group would influence the candidates its fold may choose"
                    .into(),
                "use strategy = \"grid\" or \"random\" with [validation] kind = \"groups\"",
            ));
        }
        Ok(())
    }

    /// Every threshold policy the runner may choose: `threshold` first, then the candidates.
    pub fn threshold_policies(&self) -> Vec<ThresholdPolicy> {
        let mut all = vec![self.threshold];
        for p in &self.threshold_candidates {
            if !all.contains(p) {
                all.push(*p);
            }
        }
        all
    }

    /// How this spec evaluates scores (its threshold policy, alert policy, early allowance,
    /// UCR slack, baseline seed; vigil's defaults otherwise): the one configuration that
    /// `vigil run`, `vigil retrain` and `vigil eval --spec` share.
    pub fn eval_config(&self) -> vigil_eval::EvalConfig {
        vigil_eval::EvalConfig {
            threshold: self.threshold,
            alert: self.alert.clone(),
            early_ms: self.early_seconds * 1000,
            ucr_top1_slack: self.ucr_top1_slack,
            baseline_seed: self.seed,
            ..vigil_eval::EvalConfig::default()
        }
    }

    /// The model name of the best overall pipeline.
    pub fn model_name(&self) -> String {
        self.registry
            .model
            .clone()
            .unwrap_or_else(|| self.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
[[datasets]]
synthetic = { seed = 1 }
[split]
kind = "fractions"
train = 0.5
validation = 0.25
[objective]
metric = "event_f1"
[[detectors]]
kind = "rolling_zscore"
"#;

    #[test]
    fn a_minimal_spec_parses_with_defaults() {
        let spec = parse_spec(MINIMAL, "t.toml").expect("parses");
        assert_eq!(spec.search.strategy, Strategy::Grid);
        assert_eq!(
            spec.detectors[0].search,
            SearchDims::Named("default".into())
        );
        assert_eq!(spec.model_name(), "t");
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let text = MINIMAL.replace("[objective]", "[objective]\nmetrik = 3");
        let err = parse_spec(&text, "t.toml")
            .expect_err("unknown key")
            .to_string();
        assert!(err.contains("t.toml"), "{err}");
        assert!(err.contains("t.toml:10:"), "{err}");
        assert!(err.contains("metrik"), "{err}");
        assert!(err.contains("hint:"), "{err}");
    }

    #[test]
    fn bad_detector_params_name_the_file_and_line_of_the_entry() {
        // MINIMAL's `[[detectors]]` header is line 11; a second entry follows with `params`.
        let text = format!(
            "{MINIMAL}search = \"none\"\n[[detectors]]\nkind = \"ewma\"\n# fixed\nparams = {{ min_periods = -5 }}\n"
        );
        let err = parse_spec(&text, "t.toml").expect_err("-5").to_string();
        assert!(err.contains("t.toml:17:1:"), "{err}");
        assert!(
            err.contains("[[detectors]] #2 (ewma)") && err.contains("min_periods"),
            "{err}"
        );
        assert!(err.contains("\nhint: "), "{err}");
        // A value of the right type that breaks a rule, where it is the only candidate.
        let text = format!("{MINIMAL}params = {{ window = 1 }}\nsearch = \"none\"\n");
        let err = parse_spec(&text, "t.toml")
            .expect_err("window 1")
            .to_string();
        assert!(err.contains("t.toml:13:1:"), "{err}");
        assert!(err.contains("rolling_zscore.window"), "{err}");
        // Without `params` the entry's header line is named.
        assert_eq!(detector_params_line(MINIMAL, 0), 11);
        assert_eq!(detector_params_line(MINIMAL, 1), 0);
    }

    #[test]
    fn wrong_types_and_unknown_metrics_are_explained() {
        let text = MINIMAL.replace("train = 0.5", "train = \"half\"");
        let err = parse_spec(&text, "t.toml")
            .expect_err("bad type")
            .to_string();
        assert!(
            err.contains("t.toml:5:") && err.contains("[split]"),
            "{err}"
        );
        let text = MINIMAL.replace("event_f1", "f2_score");
        let err = parse_spec(&text, "t.toml")
            .expect_err("bad metric")
            .to_string();
        assert!(err.contains("f2_score"), "{err}");
        assert!(err.contains("event_f1"), "{err}");
    }

    #[test]
    fn a_top_level_key_under_a_table_is_caught() {
        let text = MINIMAL.replace(
            "[[detectors]]",
            "[threshold]\nkind = \"best\"\nobjective = { metric = \"point_f1\" }\nthreshold_scope = \"series\"\n[[detectors]]",
        );
        let err = parse_spec(&text, "t.toml")
            .expect_err("misplaced")
            .to_string();
        assert!(err.contains("threshold.threshold_scope"), "{err}");
        assert!(err.contains("move it above"), "{err}");
    }

    #[test]
    fn ucr_top1_is_a_threshold_free_objective_with_a_configurable_slack() {
        let spec = parse_spec(MINIMAL, "t.toml").expect("parses");
        assert_eq!(spec.ucr_top1_slack, 100);
        let json = serde_json::to_string(&spec).expect("serialises");
        assert!(!json.contains("ucr_top1_slack"), "{json}");

        let text = MINIMAL
            .replace("name = \"t\"", "name = \"t\"\nucr_top1_slack = 250")
            .replace("event_f1", "ucr_top1");
        let spec = parse_spec(&text, "t.toml").expect("parses");
        assert_eq!(spec.ucr_top1_slack, 250);
        assert_eq!(spec.objective.metric, MetricName::UcrTop1);
        // A threshold-free objective cannot rank threshold policies: event F1 does.
        assert_eq!(spec.objective.policy_metric(), MetricName::EventF1);
        let json = serde_json::to_string(&spec).expect("serialises");
        assert!(json.contains("\"ucr_top1_slack\":250"), "{json}");

        let text = MINIMAL.replace(
            "[[detectors]]",
            "[threshold]\nkind = \"best\"\nobjective = { metric = \"point_f1\" }\nucr_top1_slack = 50\n[[detectors]]",
        );
        let err = parse_spec(&text, "t.toml")
            .expect_err("misplaced")
            .to_string();
        assert!(err.contains("threshold.ucr_top1_slack"), "{err}");
        assert!(err.contains("move it above"), "{err}");
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let text = format!("{MINIMAL}\n[[detectors]]\nkind = \"rolling_zscore\"\n");
        let err = parse_spec(&text, "t.toml")
            .expect_err("duplicate")
            .to_string();
        assert!(err.contains("detectors[1].kind"), "{err}");
    }

    #[test]
    fn search_tables_parse_into_dimensions() {
        let text = MINIMAL.replace(
            "kind = \"rolling_zscore\"",
            "kind = \"rolling_zscore\"\nsearch = { window = [50, 100], band_z = { low = 2.0, high = 4.0 } }",
        );
        let spec = parse_spec(&text, "t.toml").expect("parses");
        let SearchDims::Dims(dims) = &spec.detectors[0].search else {
            panic!("dims expected")
        };
        assert!(matches!(dims["window"], DimSpec::Values(_)));
        assert!(matches!(dims["band_z"], DimSpec::FloatRange { .. }));
    }
}
