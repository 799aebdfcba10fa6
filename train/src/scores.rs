//! What a detector returns: raw scores, never decisions. Thresholds and alert policies live in
//! `eval`, so tuning a threshold never refits a model.

use serde::{Deserialize, Serialize};

/// How per-channel scores of a multichannel series become one score per row.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The largest channel score: one channel going wrong is enough.
    #[default]
    Max,
    /// The mean of the channel scores: broad, system-wide deviations rank first.
    Mean,
}

/// A prediction band (`lower[t] ..= upper[t]`), in the units of the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Lower edge per row.
    pub lower: Vec<f64>,
    /// Upper edge per row.
    pub upper: Vec<f64>,
}

/// Scores of one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelScores {
    /// One finite score per row; higher = more anomalous; 0 where the detector cannot score yet
    /// (warm-up) or the value is missing.
    pub values: Vec<f64>,
    /// Rows before this index have no score of their own (the window or state is not ready).
    pub warm_up: usize,
    /// Expected value per row (forecasting and window families), NaN where there is none.
    pub expected: Option<Vec<f64>>,
    /// The band the detector considers normal, where the family has one.
    pub band: Option<Band>,
}

/// Scores of a whole series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// One finite score per row, combined over channels; higher = more anomalous.
    pub values: Vec<f64>,
    /// Rows before this index are warm-up in at least one channel (scores there are 0 or
    /// partial); evaluation may skip them.
    pub warm_up: usize,
    /// Expected value per row, for a single-channel series (see `per_channel` otherwise).
    pub expected: Option<Vec<f64>>,
    /// Normal band per row, for a single-channel series (see `per_channel` otherwise).
    pub band: Option<Band>,
    /// How channel scores were combined.
    pub combine: Combine,
    /// Each channel's own scores, for series with two or more channels (empty for one channel).
    pub per_channel: Vec<ChannelScores>,
}

impl Scores {
    /// Combines channel scores row by row. Scores are made finite first (NaN → 0, ±∞ → ±MAX),
    /// so no family can leak a non-finite value.
    pub fn combine(mut channels: Vec<ChannelScores>, combine: Combine) -> Scores {
        for channel in &mut channels {
            channel.values.iter_mut().for_each(|v| *v = finite(*v));
        }
        let warm_up = channels.iter().map(|c| c.warm_up).max().unwrap_or(0);
        if channels.len() == 1 {
            let only = channels.pop().expect("one channel");
            return Scores {
                values: only.values,
                warm_up,
                expected: only.expected,
                band: only.band,
                combine,
                per_channel: Vec::new(),
            };
        }
        let rows = channels.first().map_or(0, |c| c.values.len());
        let values = (0..rows)
            .map(|row| {
                let mut acc = match combine {
                    Combine::Max => f64::NEG_INFINITY,
                    Combine::Mean => 0.0,
                };
                for channel in &channels {
                    let v = channel.values[row];
                    acc = match combine {
                        Combine::Max => acc.max(v),
                        Combine::Mean => acc + v / channels.len() as f64,
                    };
                }
                finite(acc)
            })
            .collect();
        Scores {
            values,
            warm_up,
            expected: None,
            band: None,
            combine,
            per_channel: channels,
        }
    }
}

/// NaN → 0, ±∞ → ±`f64::MAX`.
pub(crate) fn finite(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(-f64::MAX, f64::MAX)
    }
}
