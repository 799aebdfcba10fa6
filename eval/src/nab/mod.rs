//! The Numenta Anomaly Benchmark score (Lavin & Ahmad, 2015), ported from NAB v1.0's scorer so
//! that per-file raw scores and TP/TN/FP/FN counts equal NAB's own to 1e-9.
//!
//! Rules (NAB `scorer.py` v1.0, the code that wrote the reference tables):
//! * the first `min(floor(p·N), p·5000)` rows (p = 0.15) are probationary and not scored;
//! * a window scores its *earliest* scorable detection `i` as
//!   `tpW·σ(−(end−i+1)/len)/σ(−1)`, or `−fnW` when it has none (this holds for every labelled
//!   window, also one that lies inside the probationary period);
//! * a detection outside every window costs `fpW·σ(|i−prevEnd|/(prevLen−1))` relative to the
//!   closest preceding window, or `−fpW` when no window ends before it;
//! * `σ(x) = 2/(1+e^{5x}) − 1`, taken as −1 once `x > 3`.
//!
//! The corpus score is normalised as `100·(raw − null)/(perfect − null)` where the null detector
//! (no detections) scores `−fnW` per window and the perfect one `tpW` per window.

mod score;
mod search;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result, check_finite};
use crate::labels::{Window, validate_windows};

pub use score::{NabCorpusScore, NabSeriesScore, score_corpus, score_series};
pub use search::{NabSearchResult, search_threshold, search_thresholds};

/// NAB's share of each file kept as a probationary (unscored) prefix.
pub const PROBATION_PERCENT: f64 = 0.15;

/// Weights of one NAB profile (NAB `config/profiles.json`, `CostMatrix`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostMatrix {
    /// Reward for a window detected at its first row.
    pub tp_weight: f64,
    /// Cost of a false positive far from any window.
    pub fp_weight: f64,
    /// Cost of a missed window.
    pub fn_weight: f64,
    /// Unused by the score (NAB carries it for completeness).
    pub tn_weight: f64,
}

/// The three application profiles NAB reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NabProfile {
    /// tpW 1, fpW 0.11, fnW 1.
    #[serde(rename = "standard")]
    Standard,
    /// tpW 1, fpW 0.22, fnW 1: false alarms cost twice as much.
    #[serde(rename = "reward_low_FP_rate")]
    RewardLowFp,
    /// tpW 1, fpW 0.11, fnW 2: misses cost twice as much.
    #[serde(rename = "reward_low_FN_rate")]
    RewardLowFn,
}

impl NabProfile {
    /// All three, in NAB's reporting order.
    pub const ALL: [NabProfile; 3] = [
        NabProfile::Standard,
        NabProfile::RewardLowFp,
        NabProfile::RewardLowFn,
    ];

    /// NAB's weights for this profile.
    pub fn costs(self) -> CostMatrix {
        let (fp, fn_) = match self {
            NabProfile::Standard => (0.11, 1.0),
            NabProfile::RewardLowFp => (0.22, 1.0),
            NabProfile::RewardLowFn => (0.11, 2.0),
        };
        CostMatrix {
            tp_weight: 1.0,
            fp_weight: fp,
            fn_weight: fn_,
            tn_weight: 1.0,
        }
    }

    /// NAB's name (`standard`, `reward_low_FP_rate`, `reward_low_FN_rate`).
    pub fn name(self) -> &'static str {
        match self {
            NabProfile::Standard => "standard",
            NabProfile::RewardLowFp => "reward_low_FP_rate",
            NabProfile::RewardLowFn => "reward_low_FN_rate",
        }
    }
}

impl fmt::Display for NabProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for NabProfile {
    type Err = EvalError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "standard" => Ok(NabProfile::Standard),
            "reward_low_fp_rate" | "reward_low_fp" | "low_fp" => Ok(NabProfile::RewardLowFp),
            "reward_low_fn_rate" | "reward_low_fn" | "low_fn" => Ok(NabProfile::RewardLowFn),
            _ => Err(EvalError::ParsePolicy {
                what: "NAB profile",
                input: s.to_string(),
                reason: "unknown profile".into(),
                hint: "use standard, reward_low_FP_rate (low-fp) or reward_low_FN_rate (low-fn)",
            }),
        }
    }
}

/// NAB's probationary length: `min(floor(percent·rows), percent·5000)` rows, rounded up to whole
/// rows as NAB's `index < probationaryPeriod` test does.
pub fn probationary_rows(rows: usize, percent: f64) -> usize {
    let limit = (percent * rows as f64).floor().min(percent * 5000.0);
    (limit.ceil().max(0.0) as usize).min(rows)
}

/// NAB's scaled sigmoid: `2/(1+e^{5x}) − 1`, and −1 once `x > 3`.
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x > 3.0 {
        -1.0
    } else {
        2.0 * (1.0 / (1.0 + (5.0 * x).exp())) - 1.0
    }
}

/// One series ready for NAB scoring: its scores, its windows (validated: sorted, disjoint,
/// inside the series) and its probationary length.
#[derive(Debug, Clone)]
pub struct NabSeries<'a> {
    scores: &'a [f64],
    windows: Vec<Window>,
    probation: usize,
}

impl<'a> NabSeries<'a> {
    /// Checks the inputs and applies NAB's standard 15 % probation.
    pub fn new(scores: &'a [f64], windows: &[Window]) -> Result<Self> {
        Self::with_probation_percent(scores, windows, PROBATION_PERCENT)
    }

    /// As [`NabSeries::new`] with another probationary share in `[0, 1]`.
    pub fn with_probation_percent(
        scores: &'a [f64],
        windows: &[Window],
        percent: f64,
    ) -> Result<Self> {
        if !(0.0..=1.0).contains(&percent) {
            return Err(EvalError::InvalidParam {
                param: "nab.probation_percent",
                value: percent.to_string(),
                reason: "must lie in [0, 1]",
                hint: "NAB uses 0.15",
            });
        }
        check_finite(scores)?;
        validate_windows(windows, scores.len())?;
        Ok(Self {
            scores,
            windows: windows.to_vec(),
            probation: probationary_rows(scores.len(), percent),
        })
    }

    /// The detector scores, one per row.
    pub fn scores(&self) -> &[f64] {
        self.scores
    }

    /// The incident windows.
    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    /// Rows `0..probation` are not scored.
    pub fn probation(&self) -> usize {
        self.probation
    }

    /// Per-row placement: `Inside(w)` for a row of window `w`, or `Outside(prev)` with the index
    /// of the closest window ending before the row.
    pub(crate) fn placements(&self) -> Vec<Placement> {
        let mut out = Vec::with_capacity(self.scores.len());
        let mut next = 0usize;
        let mut previous: Option<usize> = None;
        for row in 0..self.scores.len() {
            while next < self.windows.len() && self.windows[next].end < row {
                previous = Some(next);
                next += 1;
            }
            if next < self.windows.len() && self.windows[next].contains(row) {
                out.push(Placement::Inside(next));
            } else {
                out.push(Placement::Outside(previous));
            }
        }
        out
    }
}

/// Where a row lies relative to the windows of its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Inside window `w`.
    Inside(usize),
    /// Outside every window; the closest window ending before the row, if any.
    Outside(Option<usize>),
}

/// NAB weight of a detection at `row` given its placement (profile weights applied).
pub(crate) fn detection_value(
    windows: &[Window],
    placement: Placement,
    row: usize,
    costs: &CostMatrix,
) -> f64 {
    match placement {
        Placement::Inside(w) => {
            let win = windows[w];
            let position = -((win.end - row + 1) as f64) / win.len() as f64;
            scaled_sigmoid(position) * costs.tp_weight / scaled_sigmoid(-1.0)
        }
        Placement::Outside(None) => -costs.fp_weight,
        Placement::Outside(Some(p)) => {
            let win = windows[p];
            // A one-row window would divide by zero in NAB; treat it as "far past" (−fpW).
            let position = if win.len() > 1 {
                (row - win.end) as f64 / (win.len() - 1) as f64
            } else {
                f64::INFINITY
            };
            scaled_sigmoid(position) * costs.fp_weight
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probation_matches_nab() {
        assert_eq!(probationary_rows(4032, PROBATION_PERCENT), 604);
        assert_eq!(probationary_rows(22695, PROBATION_PERCENT), 750);
        assert_eq!(probationary_rows(5000, PROBATION_PERCENT), 750);
        assert_eq!(probationary_rows(0, PROBATION_PERCENT), 0);
        assert_eq!(probationary_rows(10, 0.0), 0);
    }

    #[test]
    fn sigmoid_anchor_values() {
        // NAB's docstring: S(-1) = 0.98661, S(-0.5) = 0.84828, S(0) = 0, S(1) = -0.98661.
        assert!((scaled_sigmoid(-1.0) - 0.986_614_298_151_430_3).abs() < 1e-15);
        assert!((scaled_sigmoid(-0.5) - 0.848_283_639_957_512_9).abs() < 1e-15);
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert!((scaled_sigmoid(1.0) + 0.986_614_298_151_430_3).abs() < 1e-15);
        assert_eq!(scaled_sigmoid(3.0 + 1e-12), -1.0);
        assert!(scaled_sigmoid(3.0) > -1.0);
    }

    #[test]
    fn profiles_parse_and_print() {
        for p in NabProfile::ALL {
            assert_eq!(p.name().parse::<NabProfile>().unwrap(), p);
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.name()));
        }
        assert_eq!(
            "low-fn".parse::<NabProfile>().unwrap(),
            NabProfile::RewardLowFn
        );
        assert!("bogus".parse::<NabProfile>().is_err());
        assert_eq!(NabProfile::RewardLowFn.costs().fn_weight, 2.0);
        assert_eq!(NabProfile::RewardLowFp.costs().fp_weight, 0.22);
    }

    #[test]
    fn placements_track_previous_window() {
        let scores = [0.0; 10];
        let s = NabSeries::with_probation_percent(
            &scores,
            &[Window::new(2, 3), Window::new(6, 7)],
            0.0,
        )
        .unwrap();
        let p = s.placements();
        assert_eq!(p[0], Placement::Outside(None));
        assert_eq!(p[2], Placement::Inside(0));
        assert_eq!(p[4], Placement::Outside(Some(0)));
        assert_eq!(p[7], Placement::Inside(1));
        assert_eq!(p[9], Placement::Outside(Some(1)));
        assert!(NabSeries::new(&[f64::NAN], &[]).is_err());
        assert!(NabSeries::with_probation_percent(&scores, &[], 1.5).is_err());
    }
}
