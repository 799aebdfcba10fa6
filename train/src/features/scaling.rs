//! Column scaling fitted on the valid training rows.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::channels::power_of_two_scale;

/// How feature columns are scaled (fitted on the training rows only).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// Raw values.
    None,
    /// Centre on the mean, divide by the population standard deviation (scikit-learn's
    /// `StandardScaler`).
    #[default]
    Standard,
    /// Centre on the median, divide by the interquartile range (scikit-learn's `RobustScaler`
    /// with quantiles 25/75, linear interpolation).
    Robust,
}

/// Per-column centre and scale from the rows marked valid.
pub(super) fn fit(scaling: Scaling, rows: &Array2<f64>, valid: &[bool]) -> (Vec<f64>, Vec<f64>) {
    let width = rows.ncols();
    if scaling == Scaling::None {
        return (vec![0.0; width], vec![1.0; width]);
    }
    let mut center = Vec::with_capacity(width);
    let mut scale = Vec::with_capacity(width);
    for column in rows.columns() {
        let values: Vec<f64> = column
            .iter()
            .zip(valid)
            .filter(|(_, v)| **v)
            .map(|(x, _)| *x)
            .collect();
        // Divide by a power of two first (exact), so squares of huge values cannot overflow.
        let magnitude = power_of_two_scale(&values);
        let (c, s) = match scaling {
            Scaling::Standard => {
                let (mut mean, mut ssq) = (0.0_f64, 0.0_f64);
                for (i, x) in values.iter().enumerate() {
                    let x = x / magnitude;
                    let delta = x - mean;
                    mean += delta / (i + 1) as f64;
                    ssq += delta * (x - mean);
                }
                let std = (ssq.max(0.0) / values.len() as f64).sqrt();
                (mean * magnitude, std * magnitude)
            }
            Scaling::Robust => {
                let mut sorted = values.clone();
                sorted.sort_by(f64::total_cmp);
                let q = |p: f64| quantile(&sorted, p);
                (q(0.5), q(0.75) - q(0.25))
            }
            Scaling::None => unreachable!("handled above"),
        };
        center.push(c);
        scale.push(if s > 0.0 && s.is_finite() {
            s
        } else {
            magnitude
        });
    }
    (center, scale)
}

/// numpy's default (linear) quantile of sorted values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let position = p * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = (low + 1).min(sorted.len() - 1);
    let frac = position - low as f64;
    let (a, b) = (sorted[low], sorted[high]);
    // numpy's lerp form, exact at the ends.
    if frac >= 0.5 {
        b - (b - a) * (1.0 - frac)
    } else {
        a + (b - a) * frac
    }
}
