//! Text forms of threshold policies, for the CLI and configs: `fixed:0.5`, `quantile:0.99`,
//! `contamination:0.01`, `topk:10`, `std:3`, `mad:3`, `best-f1`, `best-adjusted-f1`,
//! `nab[:profile]`, `best:<objective>`, `budget:PER_DAY` (or `alert-budget:PER_DAY`),
//! `pot:RISK[:LEVEL]`.

use std::fmt;
use std::str::FromStr;

use super::{Objective, POT_DEFAULT_LEVEL, ThresholdPolicy};
use crate::error::{EvalError, Result};
use crate::nab::NabProfile;

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Objective::PointF1 => f.write_str("f1"),
            Objective::AdjustedF1 => f.write_str("adjusted-f1"),
            Objective::Nab { profile } => write!(f, "nab:{profile}"),
        }
    }
}

impl fmt::Display for ThresholdPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThresholdPolicy::Fixed { value } => write!(f, "fixed:{value}"),
            ThresholdPolicy::Quantile { q } => write!(f, "quantile:{q}"),
            ThresholdPolicy::Contamination { rate } => write!(f, "contamination:{rate}"),
            ThresholdPolicy::TopK { k } => write!(f, "topk:{k}"),
            ThresholdPolicy::MeanStd { k } => write!(f, "std:{k}"),
            ThresholdPolicy::MedianMad { k } => write!(f, "mad:{k}"),
            ThresholdPolicy::Best { objective } => write!(f, "best:{objective}"),
            ThresholdPolicy::AlertBudget { per_day } => write!(f, "budget:{per_day}"),
            ThresholdPolicy::Pot { risk, level } if *level == POT_DEFAULT_LEVEL => {
                write!(f, "pot:{risk}")
            }
            ThresholdPolicy::Pot { risk, level } => write!(f, "pot:{risk}:{level}"),
        }
    }
}

const POLICY_HINT: &str = "use fixed:V, quantile:Q, contamination:R, topk:K, std:K, mad:K, best-f1, best-adjusted-f1, nab[:standard|low-fp|low-fn], budget:PER_DAY (false alarms per day) or pot:RISK[:LEVEL] (e.g. pot:1e-4:0.98)";

impl FromStr for ThresholdPolicy {
    type Err = EvalError;

    fn from_str(input: &str) -> Result<Self> {
        let text = input.trim().to_ascii_lowercase();
        let (name, arg) = match text.split_once(':') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (text.as_str(), None),
        };
        let fail = |reason: String| EvalError::ParsePolicy {
            what: "threshold policy",
            input: input.to_string(),
            reason,
            hint: POLICY_HINT,
        };
        let parse_number = |a: &str| {
            a.trim()
                .parse::<f64>()
                .map_err(|e| fail(format!("`{a}` is not a number ({e})")))
        };
        let number = || -> Result<f64> {
            parse_number(arg.ok_or_else(|| fail(format!("`{name}` needs a value after `:`")))?)
        };
        let policy = match name {
            "fixed" => ThresholdPolicy::Fixed { value: number()? },
            "quantile" | "q" => ThresholdPolicy::Quantile { q: number()? },
            "contamination" => ThresholdPolicy::Contamination { rate: number()? },
            "topk" | "top-k" | "top_k" => {
                let k = number()?;
                if k < 1.0 || k.fract() != 0.0 {
                    return Err(fail(format!("k must be a whole number >= 1, got {k}")));
                }
                ThresholdPolicy::TopK { k: k as usize }
            }
            "std" | "sigma" | "mean-std" => ThresholdPolicy::MeanStd { k: number()? },
            "mad" | "median-mad" => ThresholdPolicy::MedianMad { k: number()? },
            "best-f1" | "best_f1" | "f1" => ThresholdPolicy::Best {
                objective: Objective::PointF1,
            },
            "best-adjusted-f1" | "best-pa-f1" | "best_adjusted_f1" => ThresholdPolicy::Best {
                objective: Objective::AdjustedF1,
            },
            "best" => match arg {
                Some("f1") => ThresholdPolicy::Best {
                    objective: Objective::PointF1,
                },
                Some("adjusted-f1") | Some("pa-f1") => ThresholdPolicy::Best {
                    objective: Objective::AdjustedF1,
                },
                Some(other) if other.starts_with("nab") => {
                    let profile = other.strip_prefix("nab").unwrap_or("");
                    let profile = profile.trim_start_matches(':');
                    ThresholdPolicy::Best {
                        objective: Objective::Nab {
                            profile: if profile.is_empty() {
                                NabProfile::Standard
                            } else {
                                profile.parse()?
                            },
                        },
                    }
                }
                _ => return Err(fail("`best` needs f1, adjusted-f1 or nab[:profile]".into())),
            },
            "nab" => ThresholdPolicy::Best {
                objective: Objective::Nab {
                    profile: match arg {
                        Some(p) => p.parse()?,
                        None => NabProfile::Standard,
                    },
                },
            },
            "budget" | "alert-budget" | "alert_budget" => {
                ThresholdPolicy::AlertBudget { per_day: number()? }
            }
            "pot" | "spot" => {
                let a = arg.ok_or_else(|| fail("`pot` needs a risk after `:`".into()))?;
                let (risk, level) = match a.split_once(':') {
                    Some((risk, level)) => (parse_number(risk)?, parse_number(level)?),
                    None => (parse_number(a)?, POT_DEFAULT_LEVEL),
                };
                ThresholdPolicy::Pot { risk, level }
            }
            other => return Err(fail(format!("unknown policy `{other}`"))),
        };
        policy.check()?;
        Ok(policy)
    }
}
