//! Matrix-profile discord: how far the subsequence ending at row t lies from its nearest
//! earlier non-trivial match (Yeh et al., "Matrix Profile I", ICDM 2016; Zhu et al., STOMP,
//! ICDM 2016). The discord (largest nearest-neighbour distance) is the strongest simple method
//! on the UCR anomaly archive.
//!
//! - Score at row t ≥ `window − 1`: the left matrix profile of the subsequence
//!   `x[t−window+1 ..= t]`, i.e. the z-normalised Euclidean distance to its nearest match among
//!   the subsequences that *start* more than ⌈window/4⌉ rows earlier (stumpy's exclusion zone).
//!   Those lie in the training part and in the earlier rows of the scored series: this is the
//!   AB-join against the reference plus the causal self-join in one pass. Pass the series that
//!   starts where the training data started (the catalog's convention for causal families).
//! - Causal: the score at t uses rows ≤ t only, bit-identically (prefix rule).
//! - Scale-free (z-normalised), so fitting learns only each channel's power-of-two scale and
//!   checks the training part is long enough. Missing values: a run of at most `max_fill`
//!   missing rows is filled with the last value before it (causal), longer gaps break the
//!   series, and a subsequence that still holds a missing value scores 0 and is never a match;
//!   a missing row itself always scores 0. A constant subsequence is at 0 from another constant
//!   one and √window from any other (stumpy's convention).
//! - Cost: O(n²) time per scored series of n rows (STOMP diagonals in correlation space with
//!   the SCAMP covariance update, O(1) per pair, eight diagonals in lockstep; no FFT), O(n)
//!   memory per worker thread; rayon over blocks of diagonals. Its pruned, streaming sibling
//!   is [`damp`](crate::detectors::damp).
//! - Channels are scored apart and combined by [`Combine`].

mod profile;

pub(crate) use profile::Subsequences;
pub use profile::{exclusion_zone, left_matrix_profile, matrix_profile};

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::channels::{ChannelFit, fit_channels, score_channels};
use crate::error::{Result, TrainError};
use crate::scores::{ChannelScores, Combine, Scores};
use crate::space::{Dim, Space};

const FAMILY: &str = "matrix_profile";

/// Unchecked parameters of the matrix-profile discord detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatrixProfileParams {
    /// Subsequence length in rows (about one period of the pattern to compare).
    pub window: usize,
    /// Longest run of missing rows filled with the last value before it (0 = never fill).
    pub max_fill: usize,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for MatrixProfileParams {
    fn default() -> Self {
        Self {
            window: 48,
            max_fill: 3,
            combine: Combine::Max,
        }
    }
}

impl MatrixProfileParams {
    /// Sets the subsequence length.
    pub fn with_window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }
    /// Sets the channel combination.
    pub fn with_combine(mut self, combine: Combine) -> Self {
        self.combine = combine;
        self
    }

    /// The search space: the subsequence length.
    pub fn space() -> Space {
        vec![
            Dim::int("window", 4, 512, 4),
            Dim::int("max_fill", 0, 16, 1),
        ]
    }

    /// Checks every rule; a checked value cannot be wrong.
    pub fn check(&self) -> Result<MatrixProfileValid> {
        if self.window < 3 {
            return Err(TrainError::param(
                "matrix_profile.window",
                format!("{} is below 3", self.window),
                "a z-normalised shape needs at least 3 rows: use a window of about one period",
            ));
        }
        Ok(MatrixProfileValid {
            params: self.clone(),
        })
    }
}

/// Checked parameters of the matrix-profile discord detector.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixProfileValid {
    params: MatrixProfileParams,
}

impl MatrixProfileValid {
    /// Rows the training part needs so that at least one subsequence has a match: the window,
    /// the exclusion zone and one more.
    pub fn min_rows(&self) -> usize {
        self.params.window + exclusion_zone(self.params.window) + 1
    }

    /// Fits on `train`: checks each channel has enough rows with a complete subsequence and a
    /// match, and learns each channel's scale.
    pub fn fit(&self, train: &Series) -> Result<MatrixProfileModel> {
        let needed = self.min_rows();
        let window = self.params.window;
        let max_fill = self.params.max_fill;
        let channels = fit_channels(train, FAMILY, |x, channel| {
            if !has_a_match(&fill_short_gaps(x, max_fill), window) {
                return Err(TrainError::NotEnoughData {
                    family: FAMILY,
                    channel,
                    needed,
                    got: x.iter().filter(|v| v.is_finite()).count(),
                });
            }
            Ok(())
        })?;
        Ok(MatrixProfileModel {
            params: self.params.clone(),
            channels,
        })
    }
}

/// A fitted matrix-profile discord detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixProfileModel {
    /// The parameters it was fitted with.
    pub params: MatrixProfileParams,
    /// Per-channel scale.
    pub channels: Vec<ChannelFit<()>>,
}

impl MatrixProfileModel {
    /// Scores every row of `series` causally (see the module doc).
    pub fn score(&self, series: &Series) -> Result<Scores> {
        let window = self.params.window;
        let max_fill = self.params.max_fill;
        score_channels(
            series,
            FAMILY,
            &self.channels,
            self.params.combine,
            |_, x| score_channel(x, window, max_fill),
        )
    }
}

/// `x` with each run of at most `max_fill` missing values replaced by the last finite value
/// before it (a run at the very start stays missing; of a longer run, the rows past
/// `max_fill` stay missing). Row t of the result depends on rows ≤ t only.
pub(crate) fn fill_short_gaps(x: &[f64], max_fill: usize) -> Vec<f64> {
    let mut out = x.to_vec();
    let mut last = f64::NAN;
    let mut run = 0;
    for v in out.iter_mut() {
        if v.is_finite() {
            last = *v;
            run = 0;
        } else {
            run += 1;
            if run <= max_fill {
                *v = last;
            }
        }
    }
    out
}

/// True when two complete subsequences lie more than the exclusion zone apart.
pub(crate) fn has_a_match(x: &[f64], window: usize) -> bool {
    if x.len() < window {
        return false;
    }
    let mut missing = x[..window].iter().filter(|v| !v.is_finite()).count();
    let (mut first, mut last) = (None, None);
    for start in 0..=(x.len() - window) {
        if start > 0 {
            missing -= usize::from(!x[start - 1].is_finite());
            missing += usize::from(!x[start + window - 1].is_finite());
        }
        if missing == 0 {
            first.get_or_insert(start);
            last = Some(start);
        }
    }
    matches!((first, last), (Some(a), Some(b)) if b > a + exclusion_zone(window))
}

/// The discord score of one (scaled) channel.
fn score_channel(x: &[f64], window: usize, max_fill: usize) -> ChannelScores {
    let n = x.len();
    let mut values = vec![0.0; n];
    let profile = left_matrix_profile(&fill_short_gaps(x, max_fill), window);
    for (start, distance) in profile.iter().enumerate() {
        let row = start + window - 1;
        if distance.is_finite() && x[row].is_finite() {
            values[row] = *distance;
        }
    }
    ChannelScores {
        values,
        warm_up: (window + exclusion_zone(window)).min(n),
        expected: None,
        band: None,
    }
}
