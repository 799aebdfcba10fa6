//! Range-based precision and recall (Tatbul et al., NeurIPS 2018), matching the `prts` package:
//! each real (or predicted) range earns `α·Existence + (1−α)·Cardinality·Σ ω(overlap)`, where ω
//! weighs the overlapped positions of the range by a positional bias.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result, check_len};
use crate::labels::{Window, validate_windows, windows_from_labels};
use crate::point::f1;

/// Positional bias δ(i, ℓ) over the positions `i = 1..=ℓ` of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bias {
    /// Every position weighs 1.
    #[default]
    Flat,
    /// Early positions weigh more: `ℓ − i + 1`.
    Front,
    /// The middle weighs more: `i` up to `ℓ/2`, then `ℓ − i + 1`.
    Middle,
    /// Late positions weigh more: `i`.
    Back,
}

impl Bias {
    fn delta(self, i: usize, len: usize) -> f64 {
        match self {
            Bias::Flat => 1.0,
            Bias::Front => (len - i + 1) as f64,
            Bias::Middle => {
                if i as f64 <= len as f64 / 2.0 {
                    i as f64
                } else {
                    (len - i + 1) as f64
                }
            }
            Bias::Back => i as f64,
        }
    }
}

impl fmt::Display for Bias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bias::Flat => "flat",
            Bias::Front => "front",
            Bias::Middle => "middle",
            Bias::Back => "back",
        })
    }
}

impl FromStr for Bias {
    type Err = EvalError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "flat" => Ok(Bias::Flat),
            "front" => Ok(Bias::Front),
            "middle" => Ok(Bias::Middle),
            "back" => Ok(Bias::Back),
            _ => Err(EvalError::ParsePolicy {
                what: "range bias",
                input: s.to_string(),
                reason: "unknown bias".into(),
                hint: "use flat, front, middle or back",
            }),
        }
    }
}

/// Cardinality factor γ for a range overlapping `x` ranges of the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cardinality {
    /// γ = 1 always (prts's default).
    #[default]
    One,
    /// γ = 1/x when x > 1 (the paper's suggestion).
    Reciprocal,
}

/// Parameters of one side (precision or recall).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RangeParams {
    /// Weight of the existence reward, in [0, 1] (0 for precision in the paper).
    pub alpha: f64,
    /// Cardinality factor.
    pub cardinality: Cardinality,
    /// Positional bias.
    pub bias: Bias,
}

impl RangeParams {
    fn check(&self) -> Result<()> {
        if (0.0..=1.0).contains(&self.alpha) {
            Ok(())
        } else {
            Err(EvalError::InvalidParam {
                param: "range.alpha",
                value: self.alpha.to_string(),
                reason: "must lie in [0, 1]",
                hint: "0 rewards overlap only, 1 existence only",
            })
        }
    }
}

/// ω: share of the range's bias mass that falls inside `overlap`.
fn omega(range: Window, overlap: Window, bias: Bias) -> f64 {
    let len = range.len();
    let (mut mine, mut total) = (0.0, 0.0);
    for i in 1..=len {
        let d = bias.delta(i, len);
        total += d;
        let row = range.start + i - 1;
        if overlap.start <= row && row <= overlap.end {
            mine += d;
        }
    }
    if total > 0.0 { mine / total } else { 0.0 }
}

/// Mean reward of the `subjects` ranges against the `others` (both sorted and disjoint).
fn side(subjects: &[Window], others: &[Window], p: RangeParams) -> f64 {
    if subjects.is_empty() {
        return 0.0;
    }
    let mut total = 0.0;
    let mut first = 0usize;
    for s in subjects {
        while first < others.len() && others[first].end < s.start {
            first += 1;
        }
        let mut reward = 0.0;
        let mut count = 0usize;
        for o in others[first..].iter().take_while(|o| o.start <= s.end) {
            count += 1;
            let overlap = Window::new(s.start.max(o.start), s.end.min(o.end));
            reward += omega(*s, overlap, p.bias);
        }
        let gamma = match p.cardinality {
            Cardinality::Reciprocal if count > 1 => 1.0 / count as f64,
            _ => 1.0,
        };
        let existence = if count > 0 { 1.0 } else { 0.0 };
        total += p.alpha * existence + (1.0 - p.alpha) * gamma * reward;
    }
    total / subjects.len() as f64
}

/// Range precision, recall and their F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RangeMetrics {
    /// Mean reward over predicted ranges (0 without predictions).
    pub precision: f64,
    /// Mean reward over real ranges (0 without real ranges).
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
}

/// Range-based metrics of predicted ranges against real ones.
pub fn range_metrics_of_windows(
    real: &[Window],
    predicted: &[Window],
    precision: RangeParams,
    recall: RangeParams,
) -> Result<RangeMetrics> {
    precision.check()?;
    recall.check()?;
    let len = real
        .iter()
        .chain(predicted)
        .map(|w| w.end + 1)
        .max()
        .unwrap_or(0);
    validate_windows(real, len)?;
    validate_windows(predicted, len)?;
    let p = side(predicted, real, precision);
    let r = side(real, predicted, recall);
    Ok(RangeMetrics {
        precision: p,
        recall: r,
        f1: f1(p, r),
    })
}

/// Range-based metrics of per-row predictions against incident windows.
pub fn range_metrics(
    predicted: &[bool],
    windows: &[Window],
    labels_len: usize,
    precision: RangeParams,
    recall: RangeParams,
) -> Result<RangeMetrics> {
    check_len("predictions", labels_len, predicted.len())?;
    validate_windows(windows, labels_len)?;
    range_metrics_of_windows(windows, &windows_from_labels(predicted), precision, recall)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat() -> RangeParams {
        RangeParams::default()
    }

    #[test]
    fn half_overlap_flat() {
        // Real 0..=3, predicted 2..=5: each side half covered.
        let m =
            range_metrics_of_windows(&[Window::new(0, 3)], &[Window::new(2, 5)], flat(), flat())
                .unwrap();
        assert_eq!((m.precision, m.recall), (0.5, 0.5));
    }

    #[test]
    fn bias_moves_the_reward() {
        let real = [Window::new(0, 3)];
        let pred = [Window::new(0, 1)]; // first half of the real range
        let with = |bias| {
            range_metrics_of_windows(&real, &pred, flat(), RangeParams { bias, ..flat() })
                .unwrap()
                .recall
        };
        assert_eq!(with(Bias::Flat), 0.5);
        assert_eq!(with(Bias::Front), 7.0 / 10.0); // (4+3)/(4+3+2+1)
        assert_eq!(with(Bias::Back), 3.0 / 10.0);
        assert_eq!(with(Bias::Middle), 3.0 / 6.0); // (1+2)/(1+2+2+1)
    }

    #[test]
    fn cardinality_and_existence() {
        let real = [Window::new(0, 9)];
        let pred = [Window::new(0, 1), Window::new(8, 9)];
        let one = range_metrics_of_windows(&real, &pred, flat(), flat()).unwrap();
        assert!((one.recall - 0.4).abs() < 1e-15);
        let rec = RangeParams {
            cardinality: Cardinality::Reciprocal,
            ..flat()
        };
        let r = range_metrics_of_windows(&real, &pred, flat(), rec).unwrap();
        assert!((r.recall - 0.2).abs() < 1e-15);
        let ex = RangeParams {
            alpha: 1.0,
            ..flat()
        };
        assert_eq!(
            range_metrics_of_windows(&real, &pred, flat(), ex)
                .unwrap()
                .recall,
            1.0
        );
    }

    #[test]
    fn empty_sides_give_zero() {
        let m = range_metrics(&[false; 5], &[Window::new(1, 2)], 5, flat(), flat()).unwrap();
        assert_eq!((m.precision, m.recall, m.f1), (0.0, 0.0, 0.0));
        let m = range_metrics(&[true, false], &[], 2, flat(), flat()).unwrap();
        assert_eq!((m.precision, m.recall), (0.0, 0.0));
        assert!("sideways".parse::<Bias>().is_err());
        assert_eq!("Back".parse::<Bias>().unwrap(), Bias::Back);
    }
}
