//! ARTime's per-value pipeline for one channel: downsample, normalise, discretise, levelise,
//! build the 2·window feature vector (Haar wavelet + raw window), batch the probationary period
//! into the DVFA after an initial-vigilance search, then detect and adapt the vigilances.
//!
//! Written from `ARTime.jl` (Mark Hampton, ARTimeNAB, 2021): `process_sample!`,
//! `process_features!`, `detect!`, `confidence`, `init_rho` and `similarity`. Indices follow
//! the reference's 1-based counters (`i` counts values, `dsi` downsampled values), so the
//! conditions read as in the original.

use std::collections::VecDeque;

use super::dvfa::{Dvfa, Outcome};

/// The resolved settings of one channel's detector (everything `init` derives in ARTime).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    /// Values per feature window.
    pub window: usize,
    /// Discretisation levels.
    pub nlevels: usize,
    /// A discretised value this close to the running median becomes the median.
    pub chomp: f64,
    /// Vigilance search start.
    pub initial_rho: f64,
    /// Lower end of the normalisation range.
    pub dmin: f64,
    /// Upper end of the normalisation range.
    pub dmax: f64,
    /// Values per downsampled value.
    pub sstep: usize,
    /// Downsampled values in the probationary batch (ARTime's `trend_window`).
    pub trend_window: usize,
    /// ARTime's `mask_rho_after_anomaly`: 1.5 windows.
    pub mask: usize,
}

impl Settings {
    /// `init(dmin, dmax, ·)` of ARTime from an (already even) probationary length.
    pub fn new(
        window: usize,
        windows_per_pb: usize,
        nlevels: usize,
        chomp: f64,
        initial_rho: f64,
        probationary: usize,
        (dmin, dmax): (f64, f64),
    ) -> Self {
        let sstep = (probationary / (window * windows_per_pb)).max(1);
        Self {
            window,
            nlevels,
            chomp,
            initial_rho,
            dmin,
            dmax,
            sstep,
            trend_window: probationary / sstep,
            mask: window * 3 / 2,
        }
    }
}

/// The streaming detector state of one channel.
#[derive(Debug, Clone)]
pub(crate) struct Stream {
    s: Settings,
    /// Values seen, 1-based for the next one (ARTime's `p.i`).
    i: usize,
    /// The last `sstep` values (zeros before the first).
    ds_window: VecDeque<f64>,
    /// Downsampled values seen, 1-based for the next one (`dsi`).
    dsi: usize,
    ds_moving_average: f64,
    medbin: Vec<usize>,
    medlevel: usize,
    belowmed: usize,
    abovemed: usize,
    /// The last `window` levelised values (zeros before the first).
    f_window: VecDeque<f64>,
    /// Feature vectors of the probationary period, until the batch runs.
    probation: Vec<Vec<f64>>,
    art: Dvfa,
    last_anomaly_i: usize,
    last_anomaly_sim: f64,
    last_rho_update_i: usize,
    mask_after_cat: bool,
    no_new_cat_count: usize,
    anomaly_sim_history: Vec<f64>,
    sim_diff_window: VecDeque<f64>,
    /// Running mean of `A` (OnlineStats' `Mean`: μ += (x − μ)/n) and its count.
    rho_ub_mean: f64,
    rho_ub_count: usize,
    sim_window: VecDeque<f64>,
}

impl Stream {
    pub fn new(s: Settings) -> Self {
        let dim = 2 * s.window;
        Self {
            i: 1,
            ds_window: std::iter::repeat_n(0.0, s.sstep).collect(),
            dsi: 1,
            ds_moving_average: 0.0,
            medbin: vec![0; s.nlevels + 1],
            medlevel: 0,
            belowmed: 0,
            abovemed: 0,
            f_window: std::iter::repeat_n(0.0, s.window).collect(),
            probation: Vec::with_capacity(s.trend_window),
            art: Dvfa::new(dim, 0.0),
            last_anomaly_i: 0,
            last_anomaly_sim: 0.0,
            last_rho_update_i: 0,
            mask_after_cat: false,
            no_new_cat_count: 0,
            anomaly_sim_history: Vec::new(),
            sim_diff_window: std::iter::repeat_n(0.0, s.trend_window + 1).collect(),
            rho_ub_mean: 0.0,
            rho_ub_count: 0,
            sim_window: std::iter::repeat_n(1.0, s.trend_window / 2 + 1).collect(),
            s,
        }
    }

    /// True once the probationary batch has run (later values can be anomalies).
    pub fn ready(&self) -> bool {
        self.dsi > self.s.trend_window
    }

    /// ARTime's `process_sample!`: the anomaly confidence of this value (0 unless it
    /// completes a downsampled value that forces a new cluster outside the masks).
    pub fn push(&mut self, value: f64) -> f64 {
        let i = self.i;
        self.i += 1;
        self.ds_window.pop_front();
        self.ds_window.push_back(value);
        if !i.is_multiple_of(self.s.sstep) {
            return 0.0;
        }
        let ds = self.downsample();
        let ds = self.levelise(ds);
        self.f_window.pop_front();
        self.f_window.push_back(ds);
        let features = if self.dsi >= self.s.window {
            window_features(self.f_window.make_contiguous())
        } else {
            vec![0.0; 2 * self.s.window]
        };
        let anomaly = self.process_features(features);
        self.dsi += 1;
        anomaly
    }

    /// Downsampling, the spike rule and normalisation (clamped to [0, 1]).
    fn downsample(&mut self) -> f64 {
        let n = self.ds_window.len() as f64;
        let mean = self.ds_window.iter().sum::<f64>() / n;
        let max = self
            .ds_window
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let min = self.ds_window.iter().copied().fold(f64::INFINITY, f64::min);
        if self.dsi == 1 {
            self.ds_moving_average = mean;
        }
        self.ds_moving_average = (self.ds_moving_average + mean) / 2.0;
        // The value of the window furthest from the moving average, unless within 10 % of
        // the mean.
        let mut ds = max;
        if (max - self.ds_moving_average).abs() < (min - self.ds_moving_average).abs() {
            ds = min;
        }
        if (ds - mean).abs() < 0.1 * mean {
            ds = mean;
        }
        ds -= self.s.dmin;
        let width = self.s.dmax - self.s.dmin;
        if width != 0.0 {
            ds /= width;
        }
        // ARTime's range is the whole file's, so it never needs this; with a range known
        // beforehand a value beyond it saturates at the nearest end.
        ds.clamp(0.0, 1.0)
    }

    /// Discretisation to `nlevels` and the pull towards the running median level.
    fn levelise(&mut self, ds: f64) -> f64 {
        let nlevels = self.s.nlevels;
        // Julia's `round(Int, ·)` rounds half to even.
        let level = ((ds * nlevels as f64).round_ties_even() as usize).min(nlevels);
        let ds = level as f64 / nlevels as f64;
        self.medbin[level] += 1;
        let medpos = self.dsi / 2;
        if self.dsi == 1 {
            self.medlevel = level;
        }
        if self.medlevel > level {
            self.belowmed += 1;
        } else if self.medlevel < level {
            self.abovemed += 1;
        }
        // One step per value (the reference: "not strictly a running median but close
        // enough"); the bounds checks never trigger while the counts are consistent.
        if medpos < self.abovemed {
            self.belowmed += self.medbin[self.medlevel];
            self.medlevel = (self.medlevel + 1).min(nlevels);
            while self.medlevel < nlevels && self.medbin[self.medlevel] == 0 {
                self.medlevel += 1;
            }
            self.abovemed = self.abovemed.saturating_sub(self.medbin[self.medlevel]);
        } else if medpos < self.belowmed {
            self.abovemed += self.medbin[self.medlevel];
            self.medlevel = self.medlevel.saturating_sub(1);
            while self.medlevel > 0 && self.medbin[self.medlevel] == 0 {
                self.medlevel -= 1;
            }
            self.belowmed = self.belowmed.saturating_sub(self.medbin[self.medlevel]);
        }
        let median = self.medlevel as f64 / nlevels as f64;
        if (ds - median).abs() < self.s.chomp {
            median
        } else {
            ds
        }
    }

    /// ARTime's `process_features!`: collect the probationary period, then batch it.
    fn process_features(&mut self, features: Vec<f64>) -> f64 {
        let i = self.dsi;
        let trend_window = self.s.trend_window;
        if i > trend_window {
            return self.detect(&features, i);
        }
        self.probation.push(features);
        if i == trend_window {
            let probation = std::mem::take(&mut self.probation);
            let rho = self.initial_rho(&probation[self.s.window - 1..]);
            self.art.rho_lb = rho;
            self.art.rho_ub = rho;
            for (k, features) in probation.iter().enumerate() {
                // The reference discards these outputs: no anomaly before the batch ends.
                self.detect(features, k + 1);
            }
        }
        0.0
    }

    /// ARTime's `detect!` for downsampled value `i` (1-based).
    fn detect(&mut self, features: &[f64], i: usize) -> f64 {
        let s = &self.s;
        let since_anomaly = i - self.last_anomaly_i;
        let update_rho_after_anomaly = since_anomaly == s.mask;
        let update_rho_for_trend = i - self.last_rho_update_i >= s.trend_window / 2;
        let mask_after_anomaly = since_anomaly <= s.mask;
        if i > s.trend_window + s.mask && self.mask_after_cat && self.no_new_cat_count >= s.mask {
            self.mask_after_cat = false;
        }
        // Before a full window the features are zeros: present them without learning, which
        // keeps the network's counters aligned with the input as the reference does.
        let learning = i >= s.window;
        let step = self.art.train(features, learning);
        let new_cluster = !learning || step.outcome == Outcome::Mismatch;
        let similarity = step.similarity;
        self.no_new_cat_count = if new_cluster {
            0
        } else {
            self.no_new_cat_count + 1
        };
        self.rho_ub_count += 1;
        self.rho_ub_mean += (similarity - self.rho_ub_mean) / self.rho_ub_count as f64;
        self.sim_window.pop_front();
        self.sim_window.push_back(similarity);
        self.sim_diff_window.pop_front();
        self.sim_diff_window.push_back(self.art.rho_ub - similarity);
        // The smallest similarity during each anomaly's masking window.
        if since_anomaly < s.mask
            && let Some(last) = self.anomaly_sim_history.last_mut()
        {
            *last = last.min(similarity);
        }
        let masking_anomaly = self.mask_after_cat || mask_after_anomaly;
        let below_last_scale = if mask_after_anomaly { 0.90 } else { 0.70 };
        let below_last = similarity < self.last_anomaly_sim * below_last_scale;
        let anomaly_with_cat = new_cluster && (!masking_anomaly || below_last);
        let anomaly = if i > s.trend_window && anomaly_with_cat {
            self.anomaly_sim_history.push(similarity);
            self.last_anomaly_sim = similarity;
            self.last_anomaly_i = i;
            self.confidence(similarity, step.energy)
        } else {
            0.0
        };
        self.mask_after_cat = new_cluster || self.mask_after_cat;
        if i > self.s.trend_window && (update_rho_after_anomaly || update_rho_for_trend) {
            self.adapt_vigilance(i);
        }
        anomaly
    }

    /// The vigilance update of `detect!`: the upper bound follows the mean similarity, the
    /// lower bound creeps up towards the trend window's smallest similarity or steps down.
    fn adapt_vigilance(&mut self, i: usize) {
        let min_sim = self
            .sim_window
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let new_ub = self.rho_ub_mean.min(0.97);
        let prev_lb = self.art.rho_lb;
        let mut new_lb = if prev_lb <= min_sim {
            prev_lb + (min_sim - prev_lb) * 0.19
        } else {
            let mut decrement = 0.0;
            if i > self.s.trend_window * 2 {
                let below: Vec<f64> = self
                    .sim_diff_window
                    .iter()
                    .filter(|&&d| d > 0.05)
                    .map(|&d| d.min(0.37))
                    .collect();
                if !below.is_empty() {
                    decrement = mean(&below);
                }
            }
            let decrement = decrement.max(0.01);
            let lowered = prev_lb - decrement / 2.0;
            if self.anomaly_sim_history.is_empty() {
                lowered
            } else {
                mean(&self.anomaly_sim_history).max(lowered)
            }
        };
        new_lb = new_lb.min(new_ub);
        self.art.rho_lb = new_lb;
        self.art.rho_ub = new_ub;
        self.last_rho_update_i = i;
        self.mask_after_cat = true;
    }

    /// ARTime's `confidence`: how far the match fell below each vigilance, relative to the
    /// room left under 1, plus the energy dissimilarity; capped at 1, rounded to 6 digits.
    fn confidence(&self, features_sim: f64, energy_sim: f64) -> f64 {
        let fs = features_sim.min(0.999);
        let ub = ((1.0 - fs) - (1.0 - self.art.rho_ub)) / (1.0 - fs);
        let lb = ((1.0 - fs) - (1.0 - self.art.rho_lb)) / (1.0 - fs);
        let s = (ub * 0.35 + lb * 0.65) + (1.0 - energy_sim) * 1.5;
        ((s.min(1.0) * 1e6).round_ties_even() / 1e6).max(0.0)
    }

    /// ARTime's `init_rho`: order the probationary feature vectors from least to most
    /// similar to the others (summed cosine similarity), train a fresh network at
    /// `initial_rho` on them in that order, and return the mean best match over the second
    /// half of the trend window. O(n²·dim) for n vectors.
    fn initial_rho(&self, samples: &[Vec<f64>]) -> f64 {
        let n = samples.len();
        // Column sums of the similarity matrix, whose diagonal is 1 as in the reference.
        let sums: Vec<f64> = (0..n)
            .map(|k| {
                (0..n)
                    .map(|j| {
                        if j == k {
                            1.0
                        } else {
                            cosine_like(&samples[j], &samples[k])
                        }
                    })
                    .sum()
            })
            .collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| sums[a].total_cmp(&sums[b]));
        let mut art = Dvfa::new(2 * self.s.window, self.s.initial_rho);
        let similarities: Vec<f64> = order
            .iter()
            .map(|&k| art.train(&samples[k], true).similarity)
            .collect();
        let start = (self.s.trend_window / 2).saturating_sub(1).min(n - 1);
        mean(&similarities[start..])
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// ARTime's `similarity`: the cosine, with `1 − |other|` when one vector is zero.
fn cosine_like(a: &[f64], b: &[f64]) -> f64 {
    let na = a.iter().map(|v| v * v).sum::<f64>().sqrt();
    let nb = b.iter().map(|v| v * v).sum::<f64>().sqrt();
    if na == 0.0 {
        1.0 - nb
    } else if nb == 0.0 {
        1.0 - na
    } else {
        a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / (na * nb)
    }
}

/// The feature vector of a full window: its Haar transform (of the window shifted to 0 and
/// scaled to [0, 1], then itself scaled to [0, 1]) followed by the window's own values.
fn window_features(window: &[f64]) -> Vec<f64> {
    let mut dw: Vec<f64> = window.to_vec();
    min_max_scale(&mut dw);
    let mut features = haar_dwt(&dw);
    min_max_scale(&mut features);
    features.extend_from_slice(window);
    features
}

/// Shift to a minimum of 0 and divide by the maximum when it is not 0.
fn min_max_scale(values: &mut [f64]) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    values.iter_mut().for_each(|v| *v -= min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max != 0.0 {
        values.iter_mut().for_each(|v| *v /= max);
    }
}

/// The orthonormal Haar DWT with periodic boundaries at every level the length allows, laid
/// out as Wavelets.jl's `dwt(x, wavelet(WT.haar))`: `[a_L, d_L, d_{L−1}, …, d_1]`, with
/// `a = (x_{2k} + x_{2k+1})/√2` and `d = (x_{2k+1} − x_{2k})/√2` (0-based), the signs
/// Wavelets.jl's quadrature mirror filter gives.
pub(crate) fn haar_dwt(x: &[f64]) -> Vec<f64> {
    // Wavelets.jl's Haar filter, normalised to unit l2 norm as `OrthoFilter` does.
    let h = 0.707_106_781_186_547_5_f64;
    let c = h / (h * h + h * h).sqrt();
    let mut out = x.to_vec();
    let mut n = x.len();
    let mut approx = x.to_vec();
    while n >= 2 && n.is_multiple_of(2) {
        let half = n / 2;
        let mut next = vec![0.0; half];
        for k in 0..half {
            next[k] = c * approx[2 * k] + c * approx[2 * k + 1];
            out[half + k] = c * approx[2 * k + 1] - c * approx[2 * k];
        }
        out[..half].copy_from_slice(&next);
        approx = next;
        n = half;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haar_matches_the_orthonormal_transform_in_wavelets_jl_layout() {
        let x = [1.0, 3.0, 2.0, 2.0, 0.0, 4.0, 5.0, 1.0];
        let y = haar_dwt(&x);
        let r = std::f64::consts::FRAC_1_SQRT_2;
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        // Level 1 details: (x1 − x0)/√2, …
        assert!(close(y[4], 2.0 * r) && close(y[5], 0.0));
        assert!(close(y[6], 4.0 * r) && close(y[7], -4.0 * r));
        // Level 2: approximations 4r, 4r, 4r, 6r → details (4r − 4r)/√2, (6r − 4r)/√2.
        assert!(close(y[2], 0.0) && close(y[3], 1.0));
        // Level 3: approximations 4, 5 → d = 1/√2, a = 9/√2.
        assert!(close(y[1], r) && close(y[0], 9.0 * r));
        // Orthonormal: the energy is kept.
        let energy = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
        assert!(close(energy(&x), energy(&y)));
    }

    #[test]
    fn settings_follow_artime_s_init() {
        // A 4032-row NAB file: probationary 604 → sstep 5, trend window 120, mask 12.
        let s = Settings::new(8, 13, 80, 0.075, 0.8, 604, (0.0, 1.0));
        assert_eq!((s.sstep, s.trend_window, s.mask), (5, 120, 12));
        let s = Settings::new(8, 13, 80, 0.075, 0.8, 750, (0.0, 1.0));
        assert_eq!((s.sstep, s.trend_window), (7, 107));
        let s = Settings::new(8, 13, 80, 0.075, 0.8, 60, (0.0, 1.0));
        assert_eq!((s.sstep, s.trend_window), (1, 60));
    }
}
