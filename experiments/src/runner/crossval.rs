//! Cross-validation across groups (see [`crate::cv`]): per fold, the whole selection on the
//! training groups from the cached scores, then the held-out groups scored with every choice
//! fixed. Nothing is refitted: a fold only re-chooses.

use std::collections::BTreeMap;

use rayon::prelude::*;
use vigil_eval::nab::{NabSeries, score_corpus};
use vigil_eval::report::{NabSummary, threshold_free_metrics, thresholded_metrics};
use vigil_eval::threshold::ThresholdPolicy;
use vigil_eval::{EvalSeries, Window};

use super::{Ctx, Entry, FamilyTrials, MemberInput, build_ensembles};
use crate::cv::{CvResult, CvSummary, FoldResult, Groups, fold_mean_and_spread, gap};
use crate::metrics::{MetricMap, Needs, macro_average, nab, threshold_free, thresholded};
use crate::spec::{Selection, ThresholdScope};

/// One family's choice on a set of training units.
pub(super) struct Choice {
    pub(super) candidate: usize,
    pub(super) policy: usize,
    /// The selection score (in-sample objective, or the inner cross-validated one).
    pub(super) value: f64,
    pub(super) feasible: bool,
}

/// The best (candidate, policy) of `family` on `train` units, from its cached scores: by the
/// in-sample objective, or (with `inner` folds) by how each candidate's threshold transfers
/// between them ([`transfer`]). Ties go to the earlier candidate, then the earlier policy.
pub(super) fn choose(
    ctx: &Ctx<'_>,
    family: &FamilyTrials,
    caches: &Caches,
    train: &[usize],
    inner: Option<&[Vec<usize>]>,
) -> Option<Choice> {
    let tuned: Vec<Option<(usize, f64, bool)>> = family
        .scores
        .par_iter()
        .enumerate()
        .map(|(c, scores)| {
            let scores = scores.as_ref()?;
            let own = caches.own.get(c).and_then(Option::as_ref);
            let steady = caches.transfer.get(c).and_then(Option::as_ref);
            match inner {
                None => {
                    let (p, maps) = ctx.tuning_best_cached(scores, train, own.map(Vec::as_slice));
                    let (value, feasible) = ctx.objective(&maps[p]);
                    Some((p, value, feasible))
                }
                Some(inner) => {
                    let maps: Vec<MetricMap> = ctx
                        .policies
                        .iter()
                        .enumerate()
                        .map(|(p, policy)| {
                            match steady.and_then(|t| t.get(p)).and_then(Option::as_ref) {
                                Some(per_unit) => steady_transfer(per_unit, inner),
                                None => transfer(ctx, scores, policy, None, inner),
                            }
                        })
                        .collect();
                    let mut best = 0;
                    for p in 1..maps.len() {
                        if ctx.better_policy(&maps[p], &maps[best]) {
                            best = p;
                        }
                    }
                    let (value, feasible) = ctx.objective(&maps[best]);
                    Some((best, value, feasible))
                }
            }
        })
        .collect();
    let mut best: Option<Choice> = None;
    for (c, t) in tuned.into_iter().enumerate() {
        let Some((policy, value, feasible)) = t else {
            continue;
        };
        if !value.is_finite() {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|b| ctx.better((value, feasible), (b.value, b.feasible)))
        {
            best = Some(Choice {
                candidate: c,
                policy,
                value,
                feasible,
            });
        }
    }
    best
}

/// The inner cross-validated objective of full-series `scores` over `inner` folds (lists of
/// units): each fold's threshold fitted as [`Ctx::held_out_thresholds`] fits a held-out
/// group's, on the other folds' units, and the fold scored on its tuning rows. Corpus scope:
/// one corpus over every fold; otherwise the mean over folds. Only what the objective and
/// its constraints need is computed.
pub(super) fn transfer(
    ctx: &Ctx<'_>,
    scores: &[Vec<f64>],
    policy: &ThresholdPolicy,
    fixed: Option<f64>,
    inner: &[Vec<usize>],
) -> MetricMap {
    let mut all: Vec<usize> = inner.concat();
    all.sort_unstable();
    let per_fold: Vec<Vec<HeldOut>> = inner
        .par_iter()
        .map(|held| {
            let train: Vec<usize> = all.iter().copied().filter(|i| !held.contains(i)).collect();
            let thresholds = ctx.held_out_thresholds(scores, policy, fixed, &train, held);
            held.iter()
                .zip(thresholds)
                .map(|(&i, threshold)| HeldOut::tuning(ctx, scores, i, threshold))
                .collect()
        })
        .collect();
    if ctx.spec.threshold_scope == ThresholdScope::Corpus {
        held_out_metrics(ctx, &per_fold.concat(), ctx.needs)
    } else {
        let maps: Vec<MetricMap> = per_fold
            .iter()
            .map(|parts| held_out_metrics(ctx, parts, ctx.needs))
            .collect();
        fold_mean_and_spread(&maps).0
    }
}

/// The inner folds of `train` units: the outer folds' units that lie in `train` (each outer
/// fold but the one held out, so an inner fold is a whole group or set of groups).
pub(super) fn inner_folds(
    groups: &Groups,
    folds: &[Vec<usize>],
    train: &[usize],
) -> Vec<Vec<usize>> {
    folds
        .iter()
        .map(|fold| {
            train
                .iter()
                .copied()
                .filter(|&i| fold.contains(&groups.of_series[i]))
                .collect::<Vec<usize>>()
        })
        .filter(|f| !f.is_empty())
        .collect()
}

/// Per candidate (`None` when failed or not cached), per policy, per unit: the series' tuning
/// metrics at its own threshold (series scope), which no fold changes.
type OwnCache = Vec<Option<Vec<Vec<Option<MetricMap>>>>>;

/// Per candidate, per policy (`None` where the held-out threshold depends on the fold), per
/// unit: the unit's tuning-row metrics when it is held out. Under the series scope an
/// unsupervised policy fits a held-out series on its own unlabelled rows, whichever fold holds
/// it out, so [`transfer`] reduces to averaging these.
type TransferCache = Vec<Option<Vec<Option<Vec<MetricMap>>>>>;

/// What a family's choices reuse across folds.
pub(super) struct Caches {
    own: OwnCache,
    transfer: TransferCache,
}

impl Caches {
    /// Nothing cached (every choice computed afresh).
    pub(super) fn none() -> Caches {
        Caches {
            own: Vec::new(),
            transfer: Vec::new(),
        }
    }

    /// The caches of `family`: the own-threshold metrics (in-sample selection) or the held-out
    /// metrics of fold-independent policies (transfer selection), under the series scope.
    pub(super) fn of(ctx: &Ctx<'_>, family: &FamilyTrials) -> Caches {
        if ctx.spec.threshold_scope != ThresholdScope::Series {
            return Caches::none();
        }
        if ctx.spec.validation.select == Selection::Transfer {
            return Caches {
                own: Vec::new(),
                transfer: transfer_cache(ctx, family),
            };
        }
        Caches {
            own: own_cache(ctx, family),
            transfer: Vec::new(),
        }
    }
}

fn transfer_cache(ctx: &Ctx<'_>, family: &FamilyTrials) -> TransferCache {
    family
        .scores
        .iter()
        .map(|scores| {
            let scores = scores.as_ref()?;
            Some(
                ctx.policies
                    .iter()
                    .map(|policy| {
                        if policy.is_supervised() {
                            return None;
                        }
                        Some(
                            (0..ctx.units.len())
                                .into_par_iter()
                                .map(|i| {
                                    let t =
                                        ctx.held_out_thresholds(scores, policy, None, &[], &[i]);
                                    let part = HeldOut::tuning(ctx, scores, i, t[0]);
                                    pooled_metrics(ctx, std::slice::from_ref(&part), ctx.needs)
                                })
                                .collect(),
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

/// [`transfer`] from cached per-unit held-out metrics (series scope): each inner fold the
/// mean over its units, then the mean over folds.
fn steady_transfer(per_unit: &[MetricMap], inner: &[Vec<usize>]) -> MetricMap {
    let folds: Vec<MetricMap> = inner
        .iter()
        .map(|held| {
            macro_average(
                &held
                    .iter()
                    .map(|&i| per_unit[i].clone())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    fold_mean_and_spread(&folds).0
}

/// The own-threshold cache of a family (empty entries outside the series scope).
fn own_cache(ctx: &Ctx<'_>, family: &FamilyTrials) -> OwnCache {
    family
        .scores
        .iter()
        .map(|scores| {
            let scores = scores.as_ref()?;
            if ctx.spec.threshold_scope != ThresholdScope::Series {
                return None;
            }
            Some(
                ctx.policies
                    .iter()
                    .map(|p| {
                        let config = ctx.config_with(p);
                        (0..ctx.units.len())
                            .into_par_iter()
                            .map(|i| ctx.own_tuning(&scores[i], i, &config))
                            .collect()
                    })
                    .collect(),
            )
        })
        .collect()
}

/// One entry as a fold built it: full-series scores and how they are thresholded.
struct FoldEntry<'a> {
    name: String,
    scores: std::borrow::Cow<'a, [Vec<f64>]>,
    policy: ThresholdPolicy,
    fixed: Option<f64>,
    value: f64,
    feasible: bool,
    chosen: String,
}

/// One entry's outcome in one fold: its held-out series, its selection score and what it
/// chose (`None` when the fold could not build it).
type FoldOutput = Option<(Vec<HeldOut>, f64, String)>;

/// A held-out series under one entry: the scores of its evaluated rows (its test rows, or its
/// tuning rows inside a selection) and its threshold.
#[derive(Clone)]
struct HeldOut {
    unit: usize,
    /// True for the tuning rows (inner folds), false for the test rows (outer folds).
    tuning: bool,
    scores: Vec<f64>,
    threshold: f64,
}

impl HeldOut {
    fn test(ctx: &Ctx<'_>, scores: &[Vec<f64>], unit: usize, threshold: f64) -> HeldOut {
        HeldOut {
            unit,
            tuning: false,
            scores: scores[unit][ctx.units[unit].test()].to_vec(),
            threshold,
        }
    }

    fn tuning(ctx: &Ctx<'_>, scores: &[Vec<f64>], unit: usize, threshold: f64) -> HeldOut {
        HeldOut {
            unit,
            tuning: true,
            scores: scores[unit][ctx.tuning_parts(unit).0].to_vec(),
            threshold,
        }
    }

    /// The evaluated rows' windows and timestamps.
    fn labels<'c>(&self, ctx: &'c Ctx<'_>) -> (&'c [Window], &'c [i64]) {
        let u = &ctx.units[self.unit];
        let (rows, windows) = if self.tuning {
            ctx.tuning_parts(self.unit)
        } else {
            (u.test(), u.test_windows.as_slice())
        };
        (windows, &u.prepared.series.timestamps[rows])
    }
}

/// What one selection produced: every entry as built on the training units, and the name of
/// the one chosen.
struct Selected<'a> {
    entries: Vec<FoldEntry<'a>>,
    best: Option<String>,
}

/// The whole selection on `train` units: each family's candidate and threshold policy, the
/// ensembles built from those choices, and the entry chosen overall (as the leaderboard ranks:
/// feasible first, then the selection score, then the name). With `inner` folds every choice
/// is scored by [`transfer`] instead of in-sample.
fn select<'a>(
    ctx: &Ctx<'_>,
    families: &'a [FamilyTrials],
    caches: &[Caches],
    train: &[usize],
    inner: Option<&[Vec<usize>]>,
) -> Selected<'a> {
    let mut entries: Vec<FoldEntry<'a>> = Vec::new();
    let mut inputs: Vec<MemberInput<'a>> = Vec::new();
    for (family, cache) in families.iter().zip(caches) {
        let Some(choice) = choose(ctx, family, cache, train, inner) else {
            continue;
        };
        let Some(scores) = family.scores[choice.candidate].as_deref() else {
            continue;
        };
        let candidate = &family.candidates[choice.candidate];
        let policy = ctx.policies[choice.policy];
        entries.push(FoldEntry {
            name: family.best.kind.name().to_string(),
            scores: std::borrow::Cow::Borrowed(scores),
            policy,
            fixed: None,
            value: choice.value,
            feasible: choice.feasible,
            chosen: format!("{} · threshold {policy}", searched(candidate)),
        });
        inputs.push(MemberInput {
            kind: family.best.kind,
            spec: &candidate.spec,
            scores,
            validation: choice.value,
        });
    }
    for e in build_ensembles(ctx, &inputs, train) {
        let members: Vec<&str> = e.members.iter().map(|k| k.name()).collect();
        let chosen = format!(
            "members {} · weights {} · threshold {}",
            members.join("+"),
            e.state["weights"],
            match e.fixed {
                Some(v) => format!("vote share {v:.3}"),
                None => ctx.policies[e.policy].to_string(),
            }
        );
        let policy = ctx.policies[e.policy];
        let (value, feasible) = match inner {
            Some(inner) => ctx.objective(&transfer(ctx, &e.scores, &policy, e.fixed, inner)),
            None => (e.validation, e.feasible),
        };
        entries.push(FoldEntry {
            name: e.name(),
            policy,
            fixed: e.fixed,
            value,
            feasible,
            chosen,
            scores: std::borrow::Cow::Owned(e.scores),
        });
    }
    let best = entries
        .iter()
        .filter(|e| e.value.is_finite() && ctx.spec.objective.eligible(&e.name))
        .max_by(|a, b| {
            let o = ctx.spec.objective.metric;
            (a.feasible, o.oriented(a.value))
                .partial_cmp(&(b.feasible, o.oriented(b.value)))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.name.cmp(&a.name))
        })
        .map(|e| e.name.clone());
    Selected { entries, best }
}

/// Runs every fold and fills each entry's `cv`; returns the summary (the procedure's
/// estimate, the in-sample figure of the chosen entry and the gap).
pub(super) fn cross_validate(
    ctx: &Ctx<'_>,
    families: &[FamilyTrials],
    groups: &Groups,
    folds: &[Vec<usize>],
    entries: &mut [Entry],
    group_by: String,
    progress: bool,
) -> CvSummary {
    let n = ctx.units.len();
    // Per entry name: per fold, the held-out series (None when the fold could not build it).
    let mut outputs: BTreeMap<String, Vec<FoldOutput>> = entries
        .iter()
        .map(|e| (e.name.clone(), vec![None; folds.len()]))
        .collect();
    let mut procedure: Vec<Option<String>> = vec![None; folds.len()];
    let caches: Vec<Caches> = families.iter().map(|f| Caches::of(ctx, f)).collect();
    let pb = super::bar(progress, folds.len(), "cross-validating");
    for (f, fold) in folds.iter().enumerate() {
        let held: Vec<usize> = (0..n)
            .filter(|&i| fold.contains(&groups.of_series[i]))
            .collect();
        let train: Vec<usize> = (0..n)
            .filter(|&i| !fold.contains(&groups.of_series[i]))
            .collect();
        let inner = (ctx.spec.validation.select == Selection::Transfer)
            .then(|| inner_folds(groups, folds, &train));
        let Selected {
            entries: fold_entries,
            best,
        } = select(ctx, families, &caches, &train, inner.as_deref());
        procedure[f] = best;
        for e in &fold_entries {
            let thresholds = ctx.held_out_thresholds(&e.scores, &e.policy, e.fixed, &train, &held);
            let parts: Vec<HeldOut> = held
                .iter()
                .zip(thresholds)
                .map(|(&i, threshold)| HeldOut::test(ctx, &e.scores, i, threshold))
                .collect();
            if let Some(slot) = outputs.get_mut(&e.name) {
                slot[f] = Some((parts, e.value, e.chosen.clone()));
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();

    let fold_names =
        |f: usize| -> Vec<String> { folds[f].iter().map(|&g| groups.names[g].clone()).collect() };
    let result_of = |per_fold: &[FoldOutput]| -> CvResult {
        let mut result = CvResult::default();
        let mut maps = Vec::new();
        let mut union = Vec::new();
        for (f, slot) in per_fold.iter().enumerate() {
            let Some((parts, value, chosen)) = slot else {
                result.missing_folds += 1;
                continue;
            };
            let metrics = held_out_metrics(ctx, parts, Needs::all());
            maps.push(metrics.clone());
            union.extend(parts.iter().cloned());
            result.folds.push(FoldResult {
                held_out: fold_names(f),
                chosen: chosen.clone(),
                training_objective: *value,
                thresholds: parts
                    .iter()
                    .map(|p| (ctx.units[p.unit].prepared.key(), p.threshold))
                    .collect(),
                metrics,
            });
        }
        let (mean, spread) = fold_mean_and_spread(&maps);
        result.spread = spread;
        result.metrics = if ctx.spec.threshold_scope == ThresholdScope::Corpus {
            // One corpus: every held-out row at its fold's threshold (NAB's normalisation
            // over the union of the folds).
            if result.missing_folds == 0 {
                held_out_metrics(ctx, &union, Needs::all())
            } else {
                mean
            }
        } else {
            mean
        };
        result
    };
    for e in entries.iter_mut() {
        if let Some(per_fold) = outputs.get(&e.name) {
            e.cv = Some(result_of(per_fold));
        }
    }
    // The procedure: each fold's chosen entry on that fold.
    let chosen_per_fold: Vec<FoldOutput> = procedure
        .iter()
        .enumerate()
        .map(|(f, name)| {
            let name = name.as_ref()?;
            let (parts, value, chosen) = outputs.get(name)?.get(f)?.clone()?;
            Some((parts, value, format!("{name}: {chosen}")))
        })
        .collect();
    let procedure = result_of(&chosen_per_fold);
    let chosen = entries
        .first()
        .filter(|e| e.feasible && e.eligible)
        .map(|e| e.name.clone())
        .unwrap_or_default();
    // The chosen entry's test figures aggregated as the estimate is: one corpus (its dataset's
    // figures) under the corpus scope, otherwise the mean over series, as the folds are.
    let in_sample = entries
        .first()
        .map(|e| {
            let maps: Vec<MetricMap> = if ctx.spec.threshold_scope == ThresholdScope::Corpus {
                e.test.values().cloned().collect()
            } else {
                e.per_series.values().cloned().collect()
            };
            let map = if maps.len() == 1 {
                maps.into_iter().next().unwrap_or_default()
            } else {
                macro_average(&maps)
            };
            map.into_iter()
                .filter(|(k, _)| !k.starts_with("oracle_") && k != "threshold")
                .collect::<MetricMap>()
        })
        .unwrap_or_default();
    let gap = gap(&in_sample, &procedure.metrics);
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    for &g in &groups.of_series {
        *sizes.entry(groups.names[g].clone()).or_default() += 1;
    }
    CvSummary {
        group_by,
        groups: sizes,
        folds: folds.len(),
        procedure,
        chosen,
        in_sample,
        gap,
    }
}

/// Metrics of held-out series at their thresholds: under the corpus scope pooled over the
/// series (NAB's score of them as one corpus), otherwise per series and averaged (macro).
/// Thresholded metrics see each row's decision (a NaN threshold never alerts); threshold-free
/// metrics see the raw scores.
fn held_out_metrics(ctx: &Ctx<'_>, parts: &[HeldOut], needs: Needs) -> MetricMap {
    if parts.is_empty() {
        return MetricMap::new();
    }
    match ctx.spec.threshold_scope {
        ThresholdScope::Corpus => pooled_metrics(ctx, parts, needs),
        ThresholdScope::Series | ThresholdScope::Pooled => {
            let maps: Vec<MetricMap> = parts
                .par_iter()
                .map(|p| pooled_metrics(ctx, std::slice::from_ref(p), needs))
                .collect();
            macro_average(&maps)
        }
    }
}

/// Thresholded (always), threshold-free and NAB metrics (when `needs` them) of `parts` taken
/// together.
fn pooled_metrics(ctx: &Ctx<'_>, parts: &[HeldOut], needs: Needs) -> MetricMap {
    let decided: Vec<Vec<f64>> = parts
        .iter()
        .map(|p| {
            p.scores
                .iter()
                .map(|&s| f64::from(u8::from(p.threshold.is_finite() && s >= p.threshold)))
                .collect()
        })
        .collect();
    let (windows, timestamps): (Vec<&[Window]>, Vec<&[i64]>) =
        parts.iter().map(|p| p.labels(ctx)).unzip();
    let mut map = MetricMap::new();
    let mut light = ctx.config.clone();
    light.nab_profiles.clear();
    light.alert.severity = None;
    match thresholded_metrics(&as_eval(&decided, &windows, &timestamps), 0.5, &light) {
        Ok(m) => thresholded(&mut map, &m),
        Err(e) => tracing::debug!("held-out thresholded metrics failed: {e}"),
    }
    if needs.threshold_free() {
        let raw: Vec<Vec<f64>> = parts.iter().map(|p| p.scores.clone()).collect();
        match threshold_free_metrics(&as_eval(&raw, &windows, &timestamps), &ctx.config) {
            Ok(tf) => threshold_free(&mut map, &tf),
            Err(e) => tracing::debug!("held-out threshold-free metrics failed: {e}"),
        }
    }
    if !needs.nab() {
        return map;
    }
    let corpus: Option<Vec<NabSeries<'_>>> = decided
        .iter()
        .zip(&windows)
        .map(|(s, w)| NabSeries::new(s, w).ok())
        .collect();
    if let Some(corpus) = corpus {
        let summaries: Vec<NabSummary> = ctx
            .config
            .nab_profiles
            .iter()
            .map(|&profile| {
                let c = score_corpus(&corpus, 0.5, profile);
                NabSummary {
                    profile,
                    threshold: 0.5,
                    raw: c.raw,
                    normalised: c.normalised,
                }
            })
            .collect();
        nab(&mut map, &summaries);
    }
    map
}

/// Evaluation series over per-series scores, windows and timestamps.
fn as_eval<'a>(
    scores: &'a [Vec<f64>],
    windows: &[&'a [Window]],
    timestamps: &[&'a [i64]],
) -> Vec<EvalSeries<'a>> {
    scores
        .iter()
        .zip(windows)
        .zip(timestamps)
        .map(|((s, w), t)| EvalSeries {
            scores: s,
            windows: w,
            timestamps: t,
            incident_severities: None,
        })
        .collect()
}

/// A candidate's searched values (`defaults` for candidate 0), compactly.
fn searched(candidate: &crate::search::Candidate) -> String {
    if candidate.values.is_empty() {
        return "defaults".into();
    }
    candidate
        .values
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
