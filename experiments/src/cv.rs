//! Cross-validation across groups of series: which group each series belongs to, which
//! groups each fold holds out, and the results a cross-validated run reports.
//!
//! The protocol (run by [`crate::runner`]): every candidate of every family is fitted once per
//! series and its scores are cached; then, per fold, the whole selection (each family's
//! hyper-parameters and threshold policy, the threshold's value, the ensemble's members and
//! weights, the entry chosen overall) runs on the training groups only, and the held-out
//! groups are scored with everything fixed. Nothing a held-out group contains (scores or
//! labels) influences a choice applied to it: per-series thresholds of held-out series come
//! from unsupervised policies fitted on their own unlabelled rows, or from the value fitted on
//! the training groups.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{ExperimentError, Result};
use crate::metrics::MetricMap;
use crate::spec::{Folds, GroupBy};

/// The group of every series (by position), and the group names in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Groups {
    /// Group names, sorted.
    pub names: Vec<String>,
    /// For each series, the index of its group in `names`.
    pub of_series: Vec<usize>,
}

/// Assigns each series (`dataset`, `series name`) to its group.
pub fn assign_groups(series: &[(String, String)], by: &GroupBy) -> Result<Groups> {
    let invalid = |message: String, hint: &str| ExperimentError::SpecInvalid {
        file: "spec".into(),
        key: "validation.group_by".into(),
        message,
        hint: hint.into(),
    };
    let regex = match by {
        GroupBy::Regex { regex } => Some(
            regex::Regex::new(regex)
                .map_err(|e| invalid(format!("{regex:?}: {e}"), "fix the expression"))?,
        ),
        GroupBy::Named(_) => None,
    };
    let mut labels = Vec::with_capacity(series.len());
    for (dataset, name) in series {
        let label = match (by, &regex) {
            (_, Some(re)) => {
                let Some(caps) = re.captures(name) else {
                    return Err(invalid(
                        format!("series {dataset}/{name} does not match {:?}", re.as_str()),
                        "every series must match the grouping expression; `vigil datasets \
                         inspect PATH` lists the names",
                    ));
                };
                caps.get(1)
                    .or_else(|| caps.get(0))
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default()
            }
            (GroupBy::Named(n), None) => match n.as_str() {
                "category" => match name.split_once('/') {
                    Some((category, _)) => format!("{dataset}/{category}"),
                    None => {
                        return Err(invalid(
                            format!("series {dataset}/{name} has no category (a name without `/`)"),
                            "group_by = \"category\" needs NAB-style names `category/file`; \
                             use \"series\" or a regex for other layouts",
                        ));
                    }
                },
                "dataset" => dataset.clone(),
                _ => format!("{dataset}/{name}"),
            },
            (GroupBy::Regex { .. }, None) => unreachable!("compiled above"),
        };
        labels.push(label);
    }
    let mut names: Vec<String> = labels.clone();
    names.sort();
    names.dedup();
    let of_series = labels
        .iter()
        .map(|l| names.binary_search(l).unwrap_or(0))
        .collect();
    Ok(Groups { names, of_series })
}

/// The groups held out by each fold (indices into [`Groups::names`], sorted).
pub fn make_folds(groups: usize, folds: &Folds, seed: u64) -> Result<Vec<Vec<usize>>> {
    if groups < 2 {
        return Err(ExperimentError::SpecInvalid {
            file: "spec".into(),
            key: "validation.group_by".into(),
            message: format!("{groups} group: cross-validation needs at least two"),
            hint: "group by something finer (e.g. \"series\"), or use [validation] kind = \
                   \"time\""
                .into(),
        });
    }
    match folds {
        Folds::Named(_) => Ok((0..groups).map(|g| vec![g]).collect()),
        Folds::K { k } => {
            if *k > groups {
                return Err(ExperimentError::SpecInvalid {
                    file: "spec".into(),
                    key: "validation.folds.k".into(),
                    message: format!("{k} folds but only {groups} groups"),
                    hint: format!("use k <= {groups}, or \"leave_one_out\""),
                });
            }
            let mut order: Vec<usize> = (0..groups).collect();
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x00c0_ffee_f01d);
            order.shuffle(&mut rng);
            let mut out = vec![Vec::new(); *k];
            for (i, g) in order.into_iter().enumerate() {
                out[i % k].push(g);
            }
            for f in &mut out {
                f.sort_unstable();
            }
            Ok(out)
        }
    }
}

/// One fold's outcome for one leaderboard entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// Held-out groups.
    pub held_out: Vec<String>,
    /// What the fold chose for this entry on its training groups (parameters, threshold
    /// policy and value; for the procedure, which entry).
    pub chosen: String,
    /// The objective on the training groups (what the choice was made on).
    pub training_objective: f64,
    /// The threshold each held-out series was scored at (NaN: none could be fitted, silent).
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// Metrics on the held-out groups' test rows.
    pub metrics: MetricMap,
}

/// Cross-validated results of one entry (or of the whole procedure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CvResult {
    /// The estimate: NAB metrics over the union of held-out rows as one corpus; every other
    /// metric the mean over folds.
    pub metrics: MetricMap,
    /// Standard deviation over folds of each metric (population).
    pub spread: MetricMap,
    /// Folds where this entry could not be built (e.g. an ensemble short of members).
    pub missing_folds: usize,
    /// Per fold.
    pub folds: Vec<FoldResult>,
}

/// What a cross-validated run reports at the top of its leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvSummary {
    /// How series were grouped.
    pub group_by: String,
    /// Group names and their series counts.
    pub groups: BTreeMap<String, usize>,
    /// Number of folds.
    pub folds: usize,
    /// The whole procedure (each fold's chosen entry on its held-out groups): the headline.
    pub procedure: CvResult,
    /// The entry chosen on all groups (the registered model).
    pub chosen: String,
    /// Its test metrics after selection on all groups (in-sample with respect to the groups).
    pub in_sample: MetricMap,
    /// `in_sample − cv` for each metric both have.
    pub gap: MetricMap,
}

/// Mean and population standard deviation over folds of every metric (NaNs skipped).
pub fn fold_mean_and_spread(folds: &[MetricMap]) -> (MetricMap, MetricMap) {
    let mut values: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for f in folds {
        for (k, v) in f {
            let entry = values.entry(k.as_str()).or_default();
            if v.is_finite() {
                entry.push(*v);
            }
        }
    }
    let mut mean = MetricMap::new();
    let mut spread = MetricMap::new();
    for (k, v) in values {
        if v.is_empty() {
            mean.insert(k.to_string(), f64::NAN);
            spread.insert(k.to_string(), f64::NAN);
            continue;
        }
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
        mean.insert(k.to_string(), m);
        spread.insert(k.to_string(), var.sqrt());
    }
    (mean, spread)
}

/// `a − b` for every key both hold as finite numbers.
pub fn gap(a: &MetricMap, b: &MetricMap) -> MetricMap {
    a.iter()
        .filter_map(|(k, x)| {
            let y = b.get(k)?;
            (x.is_finite() && y.is_finite()).then(|| (k.clone(), x - y))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(d, s)| (d.to_string(), s.to_string()))
            .collect()
    }

    #[test]
    fn nab_categories_group_their_files() {
        let s = names(&[
            ("nab", "realTraffic/a.csv"),
            ("nab", "artificialNoAnomaly/b.csv"),
            ("nab", "realTraffic/c.csv"),
        ]);
        let g = assign_groups(&s, &GroupBy::Named("category".into())).unwrap();
        assert_eq!(g.names, vec!["nab/artificialNoAnomaly", "nab/realTraffic"]);
        assert_eq!(g.of_series, vec![1, 0, 1]);
        let err = assign_groups(
            &names(&[("smd", "machine-1-2")]),
            &GroupBy::Named("category".into()),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("smd/machine-1-2"), "{err}");
    }

    #[test]
    fn a_regex_groups_by_its_first_capture() {
        let s = names(&[
            ("smd", "machine-1-2"),
            ("smd", "machine-1-5"),
            ("smd", "machine-2-1"),
        ]);
        let by = GroupBy::Regex {
            regex: r"^machine-(\d)-".into(),
        };
        let g = assign_groups(&s, &by).unwrap();
        assert_eq!(g.names, vec!["1", "2"]);
        assert_eq!(g.of_series, vec![0, 0, 1]);
        let err = assign_groups(&names(&[("smd", "host7")]), &by)
            .unwrap_err()
            .to_string();
        assert!(err.contains("host7"), "{err}");
    }

    #[test]
    fn folds_partition_the_groups_deterministically() {
        let loo = make_folds(4, &Folds::Named("leave_one_out".into()), 7).unwrap();
        assert_eq!(loo, vec![vec![0], vec![1], vec![2], vec![3]]);
        let k = make_folds(7, &Folds::K { k: 3 }, 7).unwrap();
        assert_eq!(k, make_folds(7, &Folds::K { k: 3 }, 7).unwrap());
        let mut all: Vec<usize> = k.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..7).collect::<Vec<_>>());
        assert!(k.iter().all(|f| f.len() == 2 || f.len() == 3));
        assert!(make_folds(1, &Folds::Named("leave_one_out".into()), 7).is_err());
        assert!(make_folds(3, &Folds::K { k: 4 }, 7).is_err());
    }

    #[test]
    fn fold_spread_is_the_population_deviation() {
        let f = [
            MetricMap::from([("x".into(), 1.0)]),
            MetricMap::from([("x".into(), 3.0)]),
        ];
        let (m, s) = fold_mean_and_spread(&f);
        assert_eq!(m["x"], 2.0);
        assert_eq!(s["x"], 1.0);
        let g = gap(&m, &MetricMap::from([("x".into(), 0.5)]));
        assert_eq!(g["x"], 1.5);
    }
}
