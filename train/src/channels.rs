//! Running a univariate family over every channel of a [`Series`], with a power-of-two scale
//! fitted per channel so that huge or tiny magnitudes neither overflow nor lose precision.
//! Scaling by a power of two is exact in floating point, so scores are bit-for-bit those of
//! the unscaled arithmetic whenever that one does not overflow.

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::error::{Result, TrainError};
use crate::scores::{Band, ChannelScores, Combine, Scores};

/// One channel's fitted state and the power-of-two scale its data was divided by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelFit<M> {
    /// Data are divided by this (a power of two) before the family sees them.
    pub scale: f64,
    /// The family's fitted state for this channel, in scaled units.
    pub state: M,
}

/// The power of two at or below the largest finite |value| (1 when there is none or it is 0).
pub(crate) fn power_of_two_scale(values: &[f64]) -> f64 {
    let max = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    if max == 0.0 {
        return 1.0;
    }
    let exponent = max.log2().floor().clamp(-1000.0, 1000.0) as i32;
    2f64.powi(exponent)
}

/// Column `channel` of `series`, divided by `scale`.
pub(crate) fn column(series: &Series, channel: usize, scale: f64) -> Vec<f64> {
    series
        .values
        .column(channel)
        .iter()
        .map(|v| v / scale)
        .collect()
}

/// Fits `fit` on each channel of `train` (scaled), failing on the first channel that cannot.
pub(crate) fn fit_channels<M>(
    train: &Series,
    family: &'static str,
    fit: impl Fn(&[f64], usize) -> Result<M>,
) -> Result<Vec<ChannelFit<M>>> {
    if train.channels() == 0 || train.is_empty() {
        return Err(TrainError::NotEnoughData {
            family,
            channel: 0,
            needed: 1,
            got: 0,
        });
    }
    (0..train.channels())
        .map(|channel| {
            let raw: Vec<f64> = train.values.column(channel).to_vec();
            let scale = power_of_two_scale(&raw);
            let scaled: Vec<f64> = raw.iter().map(|v| v / scale).collect();
            let state = fit(&scaled, channel)?;
            Ok(ChannelFit { scale, state })
        })
        .collect()
}

/// Scores each channel with `score` (which sees scaled data and returns scaled expected values
/// and bands), rescales expected values and bands, and combines the channels.
pub(crate) fn score_channels<M>(
    series: &Series,
    family: &'static str,
    fits: &[ChannelFit<M>],
    combine: Combine,
    score: impl Fn(&M, &[f64]) -> ChannelScores,
) -> Result<Scores> {
    if series.channels() != fits.len() {
        return Err(TrainError::ChannelMismatch {
            family,
            fitted: fits.len(),
            got: series.channels(),
        });
    }
    let channels = fits
        .iter()
        .enumerate()
        .map(|(channel, fit)| {
            let x = column(series, channel, fit.scale);
            let mut scores = score(&fit.state, &x);
            if let Some(expected) = &mut scores.expected {
                expected.iter_mut().for_each(|v| *v *= fit.scale);
            }
            if let Some(Band { lower, upper }) = &mut scores.band {
                lower.iter_mut().for_each(|v| *v *= fit.scale);
                upper.iter_mut().for_each(|v| *v *= fit.scale);
            }
            scores
        })
        .collect();
    Ok(Scores::combine(channels, combine))
}

/// Smallest spread (in scaled units, i.e. relative to the training data's magnitude) that a
/// score divides by, so constant stretches give large finite scores instead of infinities.
pub(crate) const SPREAD_FLOOR: f64 = 1e-9;

/// `|deviation| / max(spread, SPREAD_FLOOR)`.
pub(crate) fn standardised(deviation: f64, spread: f64) -> f64 {
    deviation.abs() / spread.max(SPREAD_FLOOR)
}
