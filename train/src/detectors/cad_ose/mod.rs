//! Contextual Anomaly Detector, Open Source Edition (CAD OSE; Mikhail Smirnov, 2016), the
//! detector NAB lists as `contextOSE` (69.9 standard on NAB's full corpus).
//!
//! Each value is binned into `2^bits` levels over a value range and becomes a set of sensor
//! facts (one per bit of the bin). The detector remembers *contexts*: a left side (the previous
//! row's sensor facts plus the ids of the contexts that were fully active then, the "neurons")
//! and a right side (sensor facts that followed). At every row it
//! - stores the previous left facts → current sensor facts as a zero-level context; when that
//!   one is new, the partial overlaps between the zero-level contexts selected at this row and
//!   the current facts become potential new contexts (left sides of at most
//!   `max_left_semi_contexts_len` facts), stored at once;
//! - selects the contexts whose left side was fully present at the previous row and counts
//!   those whose right side is fully present now (the active ones); the
//!   `max_active_neurons` most often active of them (ties broken as the reference does) become
//!   neuron facts of the next left side.
//!
//! The raw score is `(1 − active / selected + new contexts / distinct potential new contexts)
//! / 2`: high when what usually follows did not follow and the row created many new contexts.
//! After a raw score ≥ `base_threshold` the output stays 0 for `rest_period` rows, and the
//! first `rest_period` rows are silent, as in the reference.
//!
//! The reference is NAB's `nab/detectors/context_ose/` (`cad_ose.py` at a9853ca,
//! `context_operator.py` at 451503a; Python 2.7). Its tie-breaks depend on CPython 2's tuple
//! hashes and dict slot order, which [`engine`] reproduces, so the scores equal NAB's
//! published `contextOSE` results row for row (`train/tests/cad_ose_match.rs`).
//!
//! The range: NAB feeds CAD the minimum and maximum of the *whole* file, which a streaming
//! detector cannot know. Here the default fits the range on the training rows and widens it by
//! `range_margin` × its width on each side; values beyond it get extra facts (a higher bit, or a
//! below-range fact), so a departure from the trained range is itself novel. Explicit `min` /
//! `max` reproduce NAB's setting when given the whole file's. `rest_period` defaults to
//! ⌊training rows / 5⌋, NAB's probationary period / 5.
//!
//! Causal and online: the state after row t depends on rows ≤ t only; the fitted model holds
//! only the range, and scoring replays the series from its first row. Missing values score 0
//! and leave the state unchanged. Cost: O(contexts reached by the row's facts) per row; memory
//! grows with the number of distinct contexts, at most a few per row.

mod engine;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::channels::{ChannelFit, fit_channels, score_channels};
use crate::error::{Result, TrainError};
use crate::scores::{ChannelScores, Combine, Scores};
use crate::space::{Dim, Space};

use engine::{Engine, sensor_facts};

/// Unchecked CAD OSE parameters (the reference's names in snake case; defaults are NAB's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CadOseParams {
    /// A raw score at or above this silences the output for `rest_period` rows.
    pub base_threshold: f64,
    /// Rows of silence after a raw score ≥ `base_threshold`; `None`: ⌊training rows / 5⌋.
    pub rest_period: Option<usize>,
    /// Longest left side (in facts) of a context created from a partial overlap.
    pub max_left_semi_contexts_len: usize,
    /// How many fully active contexts become neurons (facts of the next left side).
    pub max_active_neurons: usize,
    /// Bits of the binned value (`2^bits` levels over the range).
    pub num_norm_value_bits: u32,
    /// Lower end of the value range; give `min` and `max` together or neither.
    pub min: Option<f64>,
    /// Upper end of the value range.
    pub max: Option<f64>,
    /// Without `min`/`max`: the training range is widened by this fraction of its width on
    /// each side.
    pub range_margin: f64,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for CadOseParams {
    fn default() -> Self {
        Self {
            base_threshold: 0.75,
            rest_period: None,
            max_left_semi_contexts_len: 7,
            max_active_neurons: 15,
            num_norm_value_bits: 3,
            min: None,
            max: None,
            range_margin: 0.1,
            combine: Combine::Max,
        }
    }
}

impl CadOseParams {
    /// Finite training values needed to fit (a range and a rest period).
    pub const MIN_TRAIN: usize = 10;

    /// Sets an explicit value range (NAB's setting: the whole file's min and max).
    pub fn with_range(mut self, min: f64, max: f64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }
    /// Sets the margin of a range fitted on the training rows.
    pub fn with_range_margin(mut self, margin: f64) -> Self {
        self.range_margin = margin;
        self
    }
    /// Sets the rest period in rows.
    pub fn with_rest_period(mut self, rows: usize) -> Self {
        self.rest_period = Some(rows);
        self
    }
    /// Sets the bits of the binned value.
    pub fn with_bits(mut self, bits: u32) -> Self {
        self.num_norm_value_bits = bits;
        self
    }

    /// The search space: the range margin, the resolution and the silencing threshold.
    pub fn space() -> Space {
        vec![
            Dim::float("range_margin", 0.0, 0.5),
            Dim::int("num_norm_value_bits", 2, 5, 1),
            Dim::float("base_threshold", 0.6, 0.9),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<CadOseValid> {
        if !(self.base_threshold.is_finite() && self.base_threshold > 0.0) {
            return Err(TrainError::param(
                "cad_ose.base_threshold",
                format!("{} is not a positive number", self.base_threshold),
                "use a threshold such as 0.75 (above 1 never silences)",
            ));
        }
        if self.rest_period == Some(0) {
            return Err(TrainError::param(
                "cad_ose.rest_period",
                "0 rows",
                "use at least 1 row, or leave it out for training rows / 5",
            ));
        }
        if self.max_left_semi_contexts_len == 0 {
            return Err(TrainError::param(
                "cad_ose.max_left_semi_contexts_len",
                "0 facts",
                "use at least 1 (the reference uses 7)",
            ));
        }
        if self.max_active_neurons == 0 {
            return Err(TrainError::param(
                "cad_ose.max_active_neurons",
                "0 neurons",
                "use at least 1 (the reference uses 15)",
            ));
        }
        if !(1..=16).contains(&self.num_norm_value_bits) {
            return Err(TrainError::param(
                "cad_ose.num_norm_value_bits",
                format!("{} is not within 1..=16", self.num_norm_value_bits),
                "use a few bits, such as 3 (8 levels)",
            ));
        }
        let range = match (self.min, self.max) {
            (None, None) => None,
            (Some(min), Some(max)) => {
                if !(min.is_finite() && max.is_finite() && min <= max) {
                    return Err(TrainError::param(
                        "cad_ose.min",
                        format!("min {min} and max {max} are not a finite range"),
                        "give finite values with min ≤ max",
                    ));
                }
                Some((min, max))
            }
            _ => {
                return Err(TrainError::param(
                    if self.min.is_some() {
                        "cad_ose.max"
                    } else {
                        "cad_ose.min"
                    },
                    "only one end of the range is given",
                    "give both min and max, or neither to fit the range on the training rows",
                ));
            }
        };
        if !(self.range_margin.is_finite() && self.range_margin >= 0.0) {
            return Err(TrainError::param(
                "cad_ose.range_margin",
                format!("{} is not a non-negative number", self.range_margin),
                "use a fraction of the training range such as 0.1",
            ));
        }
        Ok(CadOseValid {
            params: self.clone(),
            range,
        })
    }
}

/// Checked CAD OSE parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct CadOseValid {
    params: CadOseParams,
    range: Option<(f64, f64)>,
}

/// One channel's value range, in the channel's scaled units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CadRange {
    /// Lower end.
    pub min: f64,
    /// Upper end.
    pub max: f64,
}

impl CadOseValid {
    /// Fits on `train`: the value range per channel (explicit, or the training range with its
    /// margin) and the rest period.
    pub fn fit(&self, train: &Series) -> Result<CadOseModel> {
        let margin = self.params.range_margin;
        let explicit = self.range;
        let channels = fit_channels(train, "cad_ose", |x, channel| {
            let finite: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
            if finite.len() < CadOseParams::MIN_TRAIN {
                return Err(TrainError::NotEnoughData {
                    family: "cad_ose",
                    channel,
                    needed: CadOseParams::MIN_TRAIN,
                    got: finite.len(),
                });
            }
            let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let width = hi - lo;
            Ok(CadRange {
                min: lo - margin * width,
                max: hi + margin * width,
            })
        })?;
        let channels = match explicit {
            None => channels,
            Some((min, max)) => channels
                .into_iter()
                .map(|fit| ChannelFit {
                    scale: fit.scale,
                    state: CadRange {
                        min: min / fit.scale,
                        max: max / fit.scale,
                    },
                })
                .collect(),
        };
        let rest_period = self
            .params
            .rest_period
            .unwrap_or_else(|| (train.len() / 5).max(1));
        Ok(CadOseModel {
            params: self.params.clone(),
            rest_period,
            channels,
        })
    }
}

/// A fitted CAD OSE detector: the range per channel and the resolved rest period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CadOseModel {
    /// The parameters it was fitted with.
    pub params: CadOseParams,
    /// Resolved rest period in rows.
    pub rest_period: usize,
    /// Per-channel value range (scaled units) and scale.
    pub channels: Vec<ChannelFit<CadRange>>,
}

impl CadOseModel {
    /// Scores every row of `series` causally, from its first row.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        score_channels(
            series,
            "cad_ose",
            &self.channels,
            self.params.combine,
            |range, x| score_channel(&self.params, self.rest_period, range, x),
        )
    }
}

/// The bin of `value` over `range` with `bits` bits, truncated toward zero as the reference's
/// `int()`; saturates far outside the range.
fn bin(value: f64, range: &CadRange, bits: u32) -> i64 {
    let levels = f64::from((1_u32 << bits) - 1);
    let mut width = range.max - range.min;
    if width == 0.0 {
        width = levels;
    }
    let step = width / levels;
    ((value - range.min) / step) as i64
}

/// CAD OSE over one (scaled) channel.
fn score_channel(
    params: &CadOseParams,
    rest_period: usize,
    range: &CadRange,
    x: &[f64],
) -> ChannelScores {
    let n = x.len();
    let mut values = vec![0.0; n];
    let mut engine = Engine::new(params.max_left_semi_contexts_len, params.max_active_neurons);
    // The last `rest_period` raw scores, seeded with 1.0 as the reference's history is.
    let mut recent: VecDeque<f64> = VecDeque::with_capacity(rest_period + 1);
    recent.push_back(1.0);
    let mut seen = 0;
    let mut warm_up = n;
    for (t, &value) in x.iter().enumerate() {
        if seen >= rest_period && warm_up == n {
            warm_up = t;
        }
        if !value.is_finite() {
            continue;
        }
        let facts = sensor_facts(
            bin(value, range, params.num_norm_value_bits),
            params.num_norm_value_bits,
        );
        let raw = engine.step(&facts);
        let quiet = recent.iter().all(|&r| r < params.base_threshold);
        values[t] = if quiet { raw } else { 0.0 };
        recent.push_back(raw);
        if recent.len() > rest_period {
            recent.pop_front();
        }
        seen += 1;
    }
    ChannelScores {
        values,
        warm_up,
        expected: None,
        band: None,
    }
}
