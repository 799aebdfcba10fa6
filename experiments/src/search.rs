//! Candidates: the parameter sets a family is tried with. A grid takes every combination
//! (ranges contribute `grid_points` values each, capped at `budget` combinations spread evenly
//! over the grid); random and halving sample `budget` candidates from a seed derived from the
//! spec's seed and the family, so the candidates never depend on thread count. The family's
//! defaults are always candidate 0.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use vigil_train::{DetectorSpec, Dim, Domain, Space, trial_seed};

use crate::error::{ExperimentError, Result};
use crate::spec::{DetectorEntry, DimSpec, SearchDims, SearchSpec, Strategy};

/// One parameter set of one family.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Index within the family (0 = defaults plus fixed parameters).
    pub index: usize,
    /// The checked spec.
    pub spec: DetectorSpec,
    /// The searched values, by parameter name (empty for candidate 0).
    pub values: Vec<(String, Value)>,
}

impl Candidate {
    /// The spec as canonical JSON (the trial's identity).
    pub fn spec_json(&self) -> String {
        serde_json::to_string(&self.spec).unwrap_or_default()
    }
}

fn family_err(entry: &DetectorEntry, source: vigil_train::TrainError) -> ExperimentError {
    ExperimentError::Detector {
        family: entry.kind.name().to_string(),
        source: Box::new(source),
    }
}

/// The base spec of an entry: defaults with the fixed `params` applied.
pub fn base_spec(entry: &DetectorEntry) -> Result<DetectorSpec> {
    let fixed: Vec<(String, Value)> = entry
        .params
        .iter()
        .map(|(k, v)| (k.clone(), toml_to_json(v)))
        .collect();
    entry
        .kind
        .default_spec()
        .with_values(&fixed)
        .map_err(|e| family_err(entry, e))
}

/// The entry's search space.
pub fn space_of(entry: &DetectorEntry, base: &DetectorSpec) -> Result<Space> {
    match &entry.search {
        SearchDims::Named(n) if n == "none" => Ok(Vec::new()),
        SearchDims::Named(_) => Ok(base.space()),
        SearchDims::Dims(dims) => dims
            .iter()
            .map(|(name, d)| {
                let domain = match d {
                    DimSpec::Values(values) if values.is_empty() => {
                        return Err(ExperimentError::SpecInvalid {
                            file: "spec".into(),
                            key: format!("detectors.{}.search.{name}", entry.kind),
                            message: "an empty list of values".into(),
                            hint: "list at least one value".into(),
                        });
                    }
                    DimSpec::Values(values) => Domain::Choice {
                        options: values.iter().map(toml_to_json).collect(),
                    },
                    DimSpec::IntRange { low, high, step } => {
                        if *step <= 0 || high < low {
                            return Err(ExperimentError::SpecInvalid {
                                file: "spec".into(),
                                key: format!("detectors.{}.search.{name}", entry.kind),
                                message: format!("range {low}..={high} step {step} is empty"),
                                hint: "use low <= high and a positive step".into(),
                            });
                        }
                        Domain::Int {
                            low: *low,
                            high: *high,
                            step: *step,
                        }
                    }
                    DimSpec::FloatRange { low, high, log } => {
                        if !(low.is_finite() && high.is_finite() && low <= high)
                            || (*log && *low <= 0.0)
                        {
                            return Err(ExperimentError::SpecInvalid {
                                file: "spec".into(),
                                key: format!("detectors.{}.search.{name}", entry.kind),
                                message: format!("range {low}..={high} (log = {log}) is invalid"),
                                hint: "use finite low <= high, and low > 0 for a log range".into(),
                            });
                        }
                        Domain::Float {
                            low: *low,
                            high: *high,
                            log: *log,
                        }
                    }
                };
                Ok(Dim {
                    name: name.clone(),
                    domain,
                })
            })
            .collect(),
    }
}

/// TOML to JSON (integers stay integers, so integer parameters accept them).
pub fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// `n` values spread over a dimension (all of a choice; at most `n` of an integer range).
fn grid_values(dim: &Dim, n: usize) -> Vec<Value> {
    match &dim.domain {
        Domain::Choice { options } => options.clone(),
        Domain::Int { low, high, step } => {
            let count = ((high - low) / step + 1) as usize;
            if count <= n {
                (0..count)
                    .map(|i| Value::from(low + i as i64 * step))
                    .collect()
            } else {
                let mut out: Vec<Value> = (0..n)
                    .map(|i| {
                        let k = if n == 1 {
                            0
                        } else {
                            (i * (count - 1) + (n - 1) / 2) / (n - 1)
                        };
                        Value::from(low + k as i64 * step)
                    })
                    .collect();
                out.dedup();
                out
            }
        }
        Domain::Float { low, high, log } => (0..n)
            .map(|i| {
                let t = if n == 1 {
                    0.5
                } else {
                    i as f64 / (n - 1) as f64
                };
                let v = if *log {
                    (low.ln() + t * (high.ln() - low.ln())).exp()
                } else {
                    low + t * (high - low)
                };
                Value::from(round_sig(v))
            })
            .collect(),
    }
}

/// Rounds to 6 significant digits, so sampled values print cleanly and compare exactly.
fn round_sig(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let digits = 6 - v.abs().log10().ceil() as i32;
    let scale = 10f64.powi(digits);
    (v * scale).round() / scale
}

fn sample(dim: &Dim, rng: &mut ChaCha8Rng) -> Value {
    match &dim.domain {
        Domain::Choice { options } => options[rng.random_range(0..options.len())].clone(),
        Domain::Int { low, high, step } => {
            let count = (high - low) / step + 1;
            Value::from(low + rng.random_range(0..count) * step)
        }
        Domain::Float { low, high, log } => {
            let t: f64 = rng.random();
            let v = if *log {
                (low.ln() + t * (high.ln() - low.ln())).exp()
            } else {
                low + t * (high - low)
            };
            Value::from(round_sig(v))
        }
    }
}

/// A stable number per family name (FNV-1a), so each family samples its own stream.
fn family_stream(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The candidates of one family under the spec's search settings.
pub fn candidates(entry: &DetectorEntry, search: &SearchSpec, seed: u64) -> Result<Vec<Candidate>> {
    let base = base_spec(entry)?;
    let space = space_of(entry, &base)?;
    let mut assignments: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    if !space.is_empty() {
        match search.strategy {
            Strategy::Grid => {
                let axes: Vec<Vec<Value>> = space
                    .iter()
                    .map(|d| grid_values(d, search.grid_points))
                    .collect();
                let total: usize = axes.iter().map(Vec::len).product();
                let take = total.min(search.budget.max(1));
                for j in 0..take {
                    // Spread the kept combinations evenly over the full grid.
                    let mut flat = if take == total { j } else { j * total / take };
                    let mut assignment = Vec::with_capacity(axes.len());
                    for (dim, axis) in space.iter().zip(&axes).rev() {
                        assignment.push((dim.name.clone(), axis[flat % axis.len()].clone()));
                        flat /= axis.len();
                    }
                    assignment.reverse();
                    assignments.push(assignment);
                }
            }
            Strategy::Random | Strategy::Halving => {
                let stream = family_stream(entry.kind.name());
                for i in 0..search.budget {
                    let mut rng = ChaCha8Rng::seed_from_u64(trial_seed(seed ^ stream, i as u64));
                    assignments.push(
                        space
                            .iter()
                            .map(|d| (d.name.clone(), sample(d, &mut rng)))
                            .collect(),
                    );
                }
            }
        }
    }
    let mut out: Vec<Candidate> = Vec::new();
    for values in assignments {
        let spec = match base.with_values(&values) {
            Ok(spec) => spec,
            Err(e) => {
                // An assignment the family rejects (e.g. min_periods above window) is skipped.
                tracing::debug!(family = %entry.kind, "candidate skipped: {e}");
                continue;
            }
        };
        if out.iter().any(|c| c.spec == spec) {
            continue;
        }
        out.push(Candidate {
            index: out.len(),
            spec,
            values,
        });
    }
    if out.is_empty() {
        return Err(ExperimentError::Detector {
            family: entry.kind.name().to_string(),
            source: Box::new(base.check().err().unwrap_or_else(|| {
                vigil_train::TrainError::param(
                    entry.kind.name(),
                    "no candidate is valid",
                    "widen the search ranges",
                )
            })),
        });
    }
    Ok(out)
}

/// Successive-halving rounds for `candidates` over `series` series: (series used, survivors
/// kept after the round). The last round uses every series and keeps one.
pub fn halving_rounds(candidates: usize, series: usize, eta: usize) -> Vec<(usize, usize)> {
    let mut rounds = Vec::new();
    let mut alive = candidates;
    let mut steps = 0;
    while alive > 1 {
        alive = alive.div_ceil(eta);
        steps += 1;
    }
    let mut alive = candidates;
    for r in 0..=steps {
        let share = eta.pow((steps - r) as u32);
        let used = series.div_ceil(share).max(1);
        let keep = alive.div_ceil(eta).max(1);
        rounds.push((used, if r == steps { 1 } else { keep }));
        alive = keep;
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use vigil_train::DetectorKind;

    fn entry(search: SearchDims) -> DetectorEntry {
        DetectorEntry {
            kind: DetectorKind::RollingZscore,
            search,
            params: BTreeMap::new(),
        }
    }

    #[test]
    fn a_grid_is_every_combination_with_defaults_first() {
        let dims = BTreeMap::from([
            (
                "window".to_string(),
                DimSpec::Values(vec![toml::Value::Integer(20), toml::Value::Integer(40)]),
            ),
            (
                "band_z".to_string(),
                DimSpec::FloatRange {
                    low: 2.0,
                    high: 4.0,
                    log: false,
                },
            ),
        ]);
        let search = SearchSpec {
            grid_points: 3,
            budget: 100,
            ..SearchSpec::default()
        };
        let c = candidates(&entry(SearchDims::Dims(dims)), &search, 1).expect("candidates");
        assert_eq!(c.len(), 1 + 6);
        assert!(c[0].values.is_empty());
        assert_eq!(c[1].values[0], ("band_z".into(), Value::from(2.0)));
    }

    #[test]
    fn random_candidates_repeat_for_a_seed_and_differ_across_seeds() {
        let search = SearchSpec {
            strategy: Strategy::Random,
            budget: 5,
            ..SearchSpec::default()
        };
        let e = entry(SearchDims::default());
        let a = candidates(&e, &search, 7).expect("a");
        let b = candidates(&e, &search, 7).expect("b");
        let c = candidates(&e, &search, 8).expect("c");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn halving_ends_with_one_survivor_on_all_series() {
        let rounds = halving_rounds(9, 30, 3);
        assert_eq!(rounds.last(), Some(&(30, 1)));
        assert_eq!(rounds[0], (4, 3));
        assert!(rounds.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
