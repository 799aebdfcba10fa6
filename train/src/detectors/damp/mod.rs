//! DAMP, the discord-aware matrix profile (Lu, Wu, Mueen, Zuluaga & Keogh, KDD 2022): the
//! causal discord a streaming service can run. Each subsequence is compared with the past only
//! (the left matrix profile), in time order, and most of that work is pruned away:
//!
//! - **Best so far.** `bsf` is the largest exact left-profile value met so far. A subsequence
//!   only matters when its nearest past match lies farther than `bsf`.
//! - **Backward search.** The subsequence is compared with the most recent stretch of the past
//!   (`2m` starts, rounded up to a power of two), then a stretch twice as long, and so on; as
//!   soon as a match closer than `bsf` turns up it cannot be a new discord and the search stops,
//!   keeping that distance. Only a search that reaches the start of the series gives the exact
//!   left-profile value, which raises `bsf` when larger.
//! - **Forward pruning.** The subsequence is then compared with the next `lookahead` windows of
//!   starts (`4m` by default, rounded up to a power of two): each one closer than `bsf` has a
//!   past match closer than `bsf` (this one), so it is never searched; it keeps its distance
//!   to the first subsequence that pruned it.
//! - **Split point.** Scoring the training rows followed by new ones (the catalog's convention),
//!   `bsf` restarts at the first subsequence that ends after the training rows, as DAMP's split
//!   point: the training prefix's own discords cannot mask the new rows'.
//!   A first stretch of 8m with a reach of 16m cost 1.7× the time on four long UCR series
//!   (resperation, gait, apnea ECG, power demand; the discords are the same, exact either way).
//!
//! So every value is at least the exact left-profile value, and **equals it wherever that value
//! reaches the best so far before it**: the discords (and every new maximum a streaming service
//! would alert on) are exact, the rest are upper bounds below `bsf`. The value of subsequence i
//! uses rows up to its last one only, bit-identically (a prefix of the series gives a prefix
//! of the values): the family is causal. Candidates come from MASS (a centred query correlated
//! with a stretch of the series through a real FFT; `realfft`), but the FFT only selects: every
//! comparison that decides something and every value kept is recomputed exactly by a direct
//! dot product (so rounding never depends on the stretch), with the pair rules of
//! [`matrix_profile`](crate::detectors::matrix_profile): a constant subsequence is at distance 0
//! from another constant one and √m from any other, one holding a non-finite value is neither
//! scored nor matched.
//!
//! Windows as in [`discord`](crate::detectors::discord) (`multiples` × the period found per
//! channel in the training rows), each window's values divided by √(2m) and placed at the
//! subsequence's **last** row (causality forbids the discord's centre), the row's score the
//! **largest** over windows. Not the discord's mean: below the best so far DAMP's values are
//! upper bounds, which a mean adds up across windows until ordinary rows outscore a discord
//! that only one window sees exactly. On the 51 UCR development series (split at each training
//! prefix, defaults) the maximum places the top score in the anomaly on 24 (0.471), the mean on
//! 5, one window of one period on 21; the left profile itself scored at most 0.471 in the
//! discord's prototype.

use std::ops::Range;

use rayon::prelude::*;
use realfft::RealFftPlanner;
use realfft::num_complex::Complex;
use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::channels::{ChannelFit, score_channels};
use crate::detectors::discord::{DiscordChannel, DiscordParams, WindowRule};
use crate::detectors::matrix_profile::Subsequences;
use crate::detectors::matrix_profile::{exclusion_zone, fill_short_gaps};
use crate::error::{Result, TrainError};
use crate::scores::{ChannelScores, Combine, Scores};
use crate::space::Space;

const FAMILY: &str = "damp";

/// Unchecked parameters of the DAMP detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DampParams {
    /// The base subsequence length in rows; `None` finds it per channel from the training
    /// rows (the dominant autocorrelation period).
    pub period: Option<usize>,
    /// Longest period searched for, in rows.
    pub max_period: usize,
    /// Window lengths as multiples of the period.
    pub multiples: Vec<f64>,
    /// Shortest window, in rows.
    pub min_window: usize,
    /// Base length when a channel has no autocorrelation peak at all.
    pub fallback_window: usize,
    /// Longest run of missing rows filled with the last value before it (0 = never fill).
    pub max_fill: usize,
    /// Forward pruning reach, in windows (rounded up to a power of two of rows; 0 = none).
    pub lookahead: usize,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for DampParams {
    fn default() -> Self {
        Self {
            period: None,
            max_period: 1000,
            multiples: vec![0.5, 1.0, 2.0],
            min_window: 8,
            fallback_window: 100,
            max_fill: 3,
            lookahead: 4,
            combine: Combine::Max,
        }
    }
}

impl DampParams {
    /// Sets a fixed base length instead of the detected period.
    pub fn with_period(mut self, period: usize) -> Self {
        self.period = Some(period);
        self
    }

    /// Sets the window multiples.
    pub fn with_multiples(mut self, multiples: Vec<f64>) -> Self {
        self.multiples = multiples;
        self
    }

    /// Sets the forward pruning reach, in windows.
    pub fn with_lookahead(mut self, lookahead: usize) -> Self {
        self.lookahead = lookahead;
        self
    }

    /// The search space: the discord's (the windows follow the data, so there is little to
    /// tune).
    pub fn space() -> Space {
        DiscordParams::space()
    }

    fn rule(&self) -> WindowRule<'_> {
        WindowRule {
            family: FAMILY,
            period: self.period,
            max_period: self.max_period,
            multiples: &self.multiples,
            min_window: self.min_window,
            fallback_window: self.fallback_window,
            max_fill: self.max_fill,
        }
    }

    /// Checks every rule; a checked value cannot be wrong.
    pub fn check(&self) -> Result<DampValid> {
        self.rule().check()?;
        if self.lookahead > 1 << 10 {
            return Err(TrainError::param(
                "damp.lookahead",
                format!("{} windows is above 1024", self.lookahead),
                "the forward pruning looks this many windows ahead (default 4)",
            ));
        }
        Ok(DampValid {
            params: self.clone(),
        })
    }
}

/// Checked parameters of the DAMP detector.
#[derive(Debug, Clone, PartialEq)]
pub struct DampValid {
    params: DampParams,
}

impl DampValid {
    /// Fits on `train`: the period and windows per channel.
    pub fn fit(&self, train: &Series) -> Result<DampModel> {
        Ok(DampModel {
            params: self.params.clone(),
            train_rows: train.len(),
            channels: self.params.rule().fit(train)?,
        })
    }
}

/// A fitted DAMP detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DampModel {
    /// The parameters it was fitted with.
    pub params: DampParams,
    /// Rows it was fitted on: DAMP's split point. Scoring a series that starts with them
    /// (training rows, then new ones), the best so far restarts at the first subsequence that
    /// ends after them, so the new rows' discords are exact whatever the training rows held.
    pub train_rows: usize,
    /// Per-channel scale, period and windows.
    pub channels: Vec<ChannelFit<DiscordChannel>>,
}

impl DampModel {
    /// Scores every row of `series`, in time order (causal: see the module doc).
    pub fn score(&self, series: &Series) -> Result<Scores> {
        let (max_fill, lookahead) = (self.params.max_fill, self.params.lookahead);
        let split = self.train_rows;
        score_channels(
            series,
            FAMILY,
            &self.channels,
            self.params.combine,
            |state, x| score_channel(x, &state.windows, max_fill, lookahead, split),
        )
    }
}

/// The largest, over windows, of the end-placed DAMP values divided by √(2m).
fn score_channel(
    x: &[f64],
    windows: &[usize],
    max_fill: usize,
    lookahead: usize,
    split: usize,
) -> ChannelScores {
    let n = x.len();
    let filled = fill_short_gaps(x, max_fill);
    // DAMP is sequential within a window; the windows run in parallel.
    let profiles: Vec<Vec<f64>> = windows
        .par_iter()
        .map(|&m| damp(&filled, m, lookahead, split))
        .collect();
    let mut values = vec![0.0_f64; n];
    for (&m, profile) in windows.iter().zip(&profiles) {
        let scale = (2.0 * m as f64).sqrt();
        for (start, d) in profile.iter().enumerate() {
            let row = start + m - 1;
            if d.is_finite() && x[row].is_finite() {
                values[row] = values[row].max(d / scale);
            }
        }
    }
    let shortest = windows.iter().copied().min().unwrap_or(0);
    ChannelScores {
        values,
        warm_up: (shortest + exclusion_zone(shortest)).min(n),
        expected: None,
        band: None,
    }
}

/// Correlation margin within which an FFT result is recomputed exactly (the FFT's own error is
/// many orders of magnitude smaller), so every decision and every value is exact.
const MARGIN: f64 = 1e-6;

/// DAMP's values for subsequence length `m` with forward pruning over `lookahead` windows and
/// the best-so-far restarting at the first subsequence that ends on row `split` or later (the
/// first scored row after the training rows): entry i (a subsequence start) is at least the
/// exact left-matrix-profile value and equals it wherever that reaches the largest exact value
/// before i in its part (see the module doc); +∞ where the subsequence has no earlier match
/// outside the exclusion zone or holds a non-finite value.
pub fn damp(x: &[f64], m: usize, lookahead: usize, split: usize) -> Vec<f64> {
    if m == 0 || x.len() < m {
        return Vec::new();
    }
    // Distances ignore offsets: taking one out (the first finite value, which a prefix shares)
    // keeps the FFT's rounding small.
    let offset = x.iter().copied().find(|v| v.is_finite()).unwrap_or(0.0);
    let centred: Vec<f64> = x.iter().map(|v| v - offset).collect();
    let s = Subsequences::new(&centred, m);
    let count = s.count();
    let restart = split.saturating_sub(m - 1).min(count);
    let mut values = vec![f64::INFINITY; count];
    let mut mass = Mass::new(m);
    for part in [0..restart, restart..count] {
        let mut pass = Pass {
            s: &s,
            m,
            excl: exclusion_zone(m),
            first_width: (2 * m).next_power_of_two(),
            reach: if lookahead == 0 {
                0
            } else {
                (lookahead * m).next_power_of_two()
            },
            end: part.end,
            bsf: f64::NEG_INFINITY,
        };
        let mut pruned = vec![f64::INFINITY; part.len()];
        for i in part.clone() {
            if !s.scored(i) || i <= pass.excl {
                continue;
            }
            let bound = pruned[i - part.start];
            if bound.is_finite() {
                values[i] = bound;
                continue;
            }
            values[i] = pass.backward(&mut mass, i);
            pass.forward(&mut mass, i, &mut pruned, part.start);
        }
    }
    values
}

/// One DAMP pass over a part of the series.
struct Pass<'a> {
    s: &'a Subsequences,
    m: usize,
    excl: usize,
    /// Starts searched first by the backward search.
    first_width: usize,
    /// Starts looked at by the forward pruning.
    reach: usize,
    /// One past the part's last start.
    end: usize,
    /// The largest exact value so far (−∞: none yet).
    bsf: f64,
}

impl Pass<'_> {
    /// The smallest distance from subsequence `i` to an earlier one, searching backwards in
    /// doubling stretches until one closer than the best so far turns up (then that distance)
    /// or the series' start is reached (then the exact value, which may raise the best so far).
    fn backward(&mut self, mass: &mut Mass, i: usize) -> f64 {
        let end = i - self.excl;
        let mut searched = end;
        let mut width = self.first_width;
        let mut nearest = f64::INFINITY;
        loop {
            let start = end.saturating_sub(width);
            nearest = nearest.min(mass.nearest(self.s, i, start..searched));
            searched = start;
            if start == 0 {
                self.bsf = self.bsf.max(nearest);
                return nearest;
            }
            if nearest < self.bsf {
                return nearest;
            }
            width *= 2;
        }
    }

    /// Prunes each later start within the reach that lies closer to `i` than the best so far
    /// and is not pruned yet, recording its exact distance to `i` in `pruned[j − base]`.
    fn forward(&self, mass: &mut Mass, i: usize, pruned: &mut [f64], base: usize) {
        let first = i + self.excl + 1;
        let last = (first + self.reach).min(self.end);
        if first >= last || !self.bsf.is_finite() {
            return;
        }
        // Correlation above which a pair is closer than the best so far.
        let floor = 1.0 - self.bsf * self.bsf / (2.0 * self.m as f64);
        mass.correlations(self.s, i, first..last);
        for (k, j) in (first..last).enumerate() {
            let slot = &mut pruned[j - base];
            if mass.rho[k] > floor - MARGIN
                && slot.is_infinite()
                && let Some(d) = self.s.distance(self.m, i, j)
                && d < self.bsf
            {
                *slot = d;
            }
        }
    }
}

/// Mueen's algorithm for similarity search: the correlations of one subsequence with a stretch
/// of others, the covariances from one FFT convolution (the planner caches a plan per size; the
/// buffers are kept across calls and only resized).
struct Mass {
    m: usize,
    planner: RealFftPlanner<f64>,
    query: Vec<f64>,
    stretch: Vec<f64>,
    query_spectrum: Vec<Complex<f64>>,
    stretch_spectrum: Vec<Complex<f64>>,
    product: Vec<f64>,
    scratch: Vec<Complex<f64>>,
    /// The last call's correlations (−∞ for pairs that are never matched).
    rho: Vec<f64>,
}

impl Mass {
    fn new(m: usize) -> Self {
        Self {
            m,
            planner: RealFftPlanner::new(),
            query: Vec::new(),
            stretch: Vec::new(),
            query_spectrum: Vec::new(),
            stretch_spectrum: Vec::new(),
            product: Vec::new(),
            scratch: Vec::new(),
            rho: Vec::new(),
        }
    }

    /// Fills `self.rho[k]` with the (FFT) correlation of subsequence `i` and subsequence
    /// `starts.start + k` under the pair rules.
    fn correlations(&mut self, s: &Subsequences, i: usize, starts: Range<usize>) {
        let m = self.m;
        let x = s.series();
        let data = &x[starts.start..starts.end + m - 1];
        let size = data.len().next_power_of_two().max(2);
        let forward = self.planner.plan_fft_forward(size);
        let inverse = self.planner.plan_fft_inverse(size);
        // The query reversed and centred, so the convolution gives the centred covariances.
        let mean = s.mean(i);
        self.query.clear();
        self.query.extend((0..m).map(|t| x[i + m - 1 - t] - mean));
        self.query.resize(size, 0.0);
        self.stretch.clear();
        self.stretch.extend_from_slice(data);
        self.stretch.resize(size, 0.0);
        let bins = forward.complex_len();
        self.query_spectrum.resize(bins, Complex::default());
        self.stretch_spectrum.resize(bins, Complex::default());
        self.product.resize(size, 0.0);
        let scratch = forward.get_scratch_len().max(inverse.get_scratch_len());
        self.scratch.resize(scratch, Complex::default());
        // Buffers of the planned lengths: the transforms cannot fail.
        forward
            .process_with_scratch(&mut self.query, &mut self.query_spectrum, &mut self.scratch)
            .expect("planned length");
        forward
            .process_with_scratch(
                &mut self.stretch,
                &mut self.stretch_spectrum,
                &mut self.scratch,
            )
            .expect("planned length");
        let norm = 1.0 / size as f64;
        for (a, b) in self.query_spectrum.iter_mut().zip(&self.stretch_spectrum) {
            *a = *a * *b * norm;
        }
        inverse
            .process_with_scratch(
                &mut self.query_spectrum,
                &mut self.product,
                &mut self.scratch,
            )
            .expect("planned length");
        self.rho.clear();
        let covariances = &self.product[m - 1..m - 1 + starts.len()];
        self.rho.extend(
            starts
                .zip(covariances)
                .map(|(j, c)| s.correlation(i, j, *c).unwrap_or(f64::NEG_INFINITY)),
        );
    }

    /// The exact smallest distance from subsequence `i` to one starting in `starts` (+∞: none):
    /// the FFT finds the most correlated starts, which are then recomputed exactly.
    fn nearest(&mut self, s: &Subsequences, i: usize, starts: Range<usize>) -> f64 {
        if starts.is_empty() {
            return f64::INFINITY;
        }
        self.correlations(s, i, starts.clone());
        let top = self.rho.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if top == f64::NEG_INFINITY {
            return f64::INFINITY;
        }
        starts
            .zip(&self.rho)
            .filter(|(_, r)| **r >= top - MARGIN)
            .filter_map(|(j, _)| s.distance(self.m, i, j))
            .fold(f64::INFINITY, f64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detectors::discord::tests::{periodic, series};
    use crate::detectors::matrix_profile::left_matrix_profile;

    #[test]
    fn finds_the_distorted_cycle_from_the_past_only() {
        let x = periodic(2000);
        let model = DampParams::default()
            .check()
            .expect("valid")
            .fit(&series(x[..1000].to_vec()))
            .expect("valid");
        assert_eq!(model.train_rows, 1000);
        assert_eq!(model.channels[0].state.windows, vec![25, 50, 100]);
        let scores = model.score(&series(x)).expect("valid");
        let top = 1000
            + scores.values[1000..]
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .expect("valid")
                .0;
        // Values sit at the subsequence's last row: within a window after the distortion.
        assert!((1510..1630).contains(&top), "top row {top}");
    }

    #[test]
    fn values_never_undercut_the_left_profile_and_pruning_keeps_its_records() {
        let x: Vec<f64> = periodic(3000)
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.2 * ((i as f64) * 0.013).sin())
            .collect();
        let m = 40;
        let left = left_matrix_profile(&x, m);
        let pruned = damp(&x, m, 16, 0);
        let plain = damp(&x, m, 0, 0);
        let mut running = f64::NEG_INFINITY;
        let mut skipped = 0;
        for i in 0..left.len() {
            if left[i].is_infinite() {
                assert!(pruned[i].is_infinite() && plain[i].is_infinite(), "{i}");
                continue;
            }
            assert!(
                pruned[i] >= left[i] - 1e-9,
                "{i}: {} < {}",
                pruned[i],
                left[i]
            );
            assert!(plain[i] >= left[i] - 1e-9, "{i}");
            if left[i] >= running {
                running = left[i];
                assert!((pruned[i] - left[i]).abs() < 1e-9, "{i}: record");
                assert!((plain[i] - left[i]).abs() < 1e-9, "{i}: record");
            } else if pruned[i] > left[i] + 1e-9 {
                skipped += 1;
            }
        }
        // Pruning did prune: most values are upper bounds, not exact searches.
        assert!(skipped > left.len() / 2, "only {skipped} pruned");
    }

    #[test]
    fn bad_parameters_name_the_key() {
        let err = |p: DampParams| p.check().expect_err("an error").to_string();
        assert!(err(DampParams::default().with_multiples(vec![])).contains("damp.multiples"));
        assert!(err(DampParams::default().with_period(1)).contains("damp.period"));
        assert!(err(DampParams::default().with_lookahead(5000)).contains("damp.lookahead"));
    }
}
