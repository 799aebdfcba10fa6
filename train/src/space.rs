//! Search spaces, declared beside each family's defaults, and the seeds tuning derives from
//! (run seed, trial index). A space names fields of the family's params (their serde names);
//! [`crate::catalog::DetectorSpec::with_values`] applies sampled values through serde, so no
//! family hand-writes a grid iterator.

use serde::{Deserialize, Serialize};

/// The values one parameter may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Domain {
    /// A real range `low ..= high`; `log` = sample uniformly in log space (rates, scales).
    Float { low: f64, high: f64, log: bool },
    /// Integers `low, low + step, … ≤ high` (windows, periods, orders).
    Int { low: i64, high: i64, step: i64 },
    /// One of a few named values (serde spellings of an enum or booleans).
    Choice { options: Vec<serde_json::Value> },
}

/// One tunable parameter: its field name in the params struct and its domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dim {
    /// Field name in the family's params (serde spelling).
    pub name: String,
    /// The values it may take.
    pub domain: Domain,
}

/// A family's search space.
pub type Space = Vec<Dim>;

impl Dim {
    /// A real range, linear.
    pub fn float(name: &str, low: f64, high: f64) -> Dim {
        Dim {
            name: name.into(),
            domain: Domain::Float {
                low,
                high,
                log: false,
            },
        }
    }
    /// A real range sampled in log space.
    pub fn log(name: &str, low: f64, high: f64) -> Dim {
        Dim {
            name: name.into(),
            domain: Domain::Float {
                low,
                high,
                log: true,
            },
        }
    }
    /// An integer range with a step.
    pub fn int(name: &str, low: i64, high: i64, step: i64) -> Dim {
        Dim {
            name: name.into(),
            domain: Domain::Int { low, high, step },
        }
    }
    /// A choice among serde-named values.
    pub fn choice(name: &str, options: &[&str]) -> Dim {
        Dim {
            name: name.into(),
            domain: Domain::Choice {
                options: options
                    .iter()
                    .map(|o| serde_json::Value::from(*o))
                    .collect(),
            },
        }
    }
    /// A boolean choice.
    pub fn flag(name: &str) -> Dim {
        Dim {
            name: name.into(),
            domain: Domain::Choice {
                options: vec![false.into(), true.into()],
            },
        }
    }

    /// The two ends of the domain (first and last option for a choice), as JSON values.
    pub fn ends(&self) -> (serde_json::Value, serde_json::Value) {
        match &self.domain {
            Domain::Float { low, high, .. } => ((*low).into(), (*high).into()),
            Domain::Int { low, high, step } => {
                let last = low + (high - low) / step * step;
                ((*low).into(), last.into())
            }
            Domain::Choice { options } => (options[0].clone(), options[options.len() - 1].clone()),
        }
    }
}

/// The seed of trial `trial` in a run seeded with `run_seed` (SplitMix64 of both), so a
/// tuning run gives the same trials on any number of threads.
pub fn trial_seed(run_seed: u64, trial: u64) -> u64 {
    let mut z = run_seed
        ^ trial
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trial_seeds_differ_and_repeat() {
        assert_eq!(trial_seed(7, 3), trial_seed(7, 3));
        assert_ne!(trial_seed(7, 3), trial_seed(7, 4));
        assert_ne!(trial_seed(7, 3), trial_seed(8, 3));
    }

    #[test]
    fn int_ends_land_on_the_step() {
        let (low, high) = Dim::int("window", 10, 2005, 10).ends();
        assert_eq!(low, serde_json::json!(10));
        assert_eq!(high, serde_json::json!(2000));
    }
}
