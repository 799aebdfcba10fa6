//! Anomaly placement and injection, and the exact labels that come out of it (the label
//! contract is in the parent module's docs).

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::check::{first_allowed_row, minutes_to_rows};
use super::config::{AnomalyConfig, AnomalyKind, MetricProfile, Seasonality};
use super::signal::{CleanSignal, clamp, expected};
use crate::error::{DatasetError, Result};
use crate::model::Incident;

/// One anomaly, placed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planned {
    pub(crate) kind: AnomalyKind,
    /// First row it may alter.
    pub(crate) start: usize,
    /// Rows it may alter (`start .. start + rows`); a persistent anomaly runs to the last row.
    pub(crate) rows: usize,
    /// Magnitude in local noise standard deviations.
    pub(crate) magnitude: f64,
    /// +1 or −1 for the kinds that can go either way.
    pub(crate) sign: f64,
}

/// Draws count, kinds, sizes and non-overlapping positions for series `index`.
pub(crate) fn plan(
    index: usize,
    length: usize,
    step_ms: i64,
    cfg: &AnomalyConfig,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Planned>> {
    let count = rng.random_range(cfg.min_per_series..=cfg.max_per_series);
    if count == 0 || cfg.kinds.is_empty() {
        return Ok(Vec::new());
    }
    let n_kinds = cfg.kinds.len();
    let mut planned = Vec::with_capacity(count);
    for j in 0..count {
        let kind = if j < cfg.min_per_series {
            cfg.kinds[(index.wrapping_mul(cfg.min_per_series).wrapping_add(j)) % n_kinds]
        } else {
            cfg.kinds[rng.random_range(0..n_kinds)]
        };
        let strength: f64 = rng.random();
        let magnitude = cfg.magnitude_min_sigma
            + strength * (cfg.magnitude_max_sigma - cfg.magnitude_min_sigma);
        let range = cfg.durations.get(kind);
        let (lo, hi) = (
            minutes_to_rows(range.min, step_ms),
            minutes_to_rows(range.max, step_ms),
        );
        let rows = match kind {
            // No size to speak of: the stronger the anomaly, the longer it lasts.
            AnomalyKind::FlatLine | AnomalyKind::Gap => {
                lo + ((hi - lo) as f64 * strength).round() as usize
            }
            _ => rng.random_range(lo..=hi),
        };
        let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        planned.push(Planned {
            kind,
            start: 0,
            rows,
            magnitude,
            sign,
        });
    }

    let candidates: Vec<usize> = (0..count)
        .filter(|&j| planned[j].kind.can_persist())
        .collect();
    let persistent = if !candidates.is_empty() && rng.random_bool(cfg.persist_probability) {
        Some(candidates[rng.random_range(0..candidates.len())])
    } else {
        None
    };
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(rng);
    if let Some(p) = persistent {
        order.retain(|&j| j != p);
        order.push(p);
    }

    // Spread the spare rows over the count + 1 gaps around the anomalies (uniform cut points),
    // so nothing overlaps and no rejection loop is needed.
    let first = first_allowed_row(length, cfg.min_start_fraction);
    let needed: usize =
        planned.iter().map(|p| p.rows).sum::<usize>() + cfg.guard_rows * (count - 1);
    let slack =
        (length - first)
            .checked_sub(needed)
            .ok_or_else(|| DatasetError::InvalidSynthConfig {
                key: "anomalies.max_per_series".into(),
                reason: format!(
                    "{count} anomalies need {needed} rows but only {} rows are allowed",
                    length - first
                ),
                hint: "inject fewer or shorter anomalies, or generate more rows".into(),
            })?;
    let mut cuts: Vec<usize> = (0..count).map(|_| rng.random_range(0..=slack)).collect();
    cuts.sort_unstable();
    let mut pos = first + cuts[0];
    for (rank, &j) in order.iter().enumerate() {
        planned[j].start = pos;
        let gap_after = if rank + 1 < count {
            cuts[rank + 1] - cuts[rank]
        } else {
            slack - cuts[rank]
        };
        if persistent == Some(j) {
            planned[j].rows += gap_after; // runs to the last row
        }
        pos += planned[j].rows + cfg.guard_rows + gap_after;
    }
    let mut placed: Vec<Planned> = order.into_iter().map(|j| planned[j].clone()).collect();
    placed.sort_by_key(|p| p.start);
    Ok(placed)
}

/// A floor for the noise scale of noise-free profiles, so magnitudes stay meaningful.
fn local_sigma(profile: &MetricProfile, mean: f64) -> f64 {
    let sd = profile.noise.sd_at(mean);
    if sd > 0.0 {
        sd
    } else if mean != 0.0 {
        0.01 * mean.abs()
    } else {
        1.0
    }
}

/// Applies the planned anomalies to a copy of the clean values and returns the altered values
/// with one incident per anomaly that changed at least one row (see the module's label contract).
pub(crate) fn inject(
    profile: &MetricProfile,
    start_ms: i64,
    timestamps: &[i64],
    clean: &CleanSignal,
    planned: &[Planned],
    cfg: &AnomalyConfig,
    rng: &mut ChaCha8Rng,
) -> (Vec<f64>, Vec<Incident>) {
    let mut values = clean.values.clone();
    let mut incidents = Vec::with_capacity(planned.len());
    for p in planned {
        let (a, b) = (p.start, p.start + p.rows - 1);
        let mean = clean.means[a];
        let sigma = local_sigma(profile, mean);
        // Multiplicative profiles take anomalies on the log scale (a latency dip halves it
        // rather than driving it to zero); additive ones in the metric's unit.
        let log_sigma = (1.0 + (sigma / mean).powi(2)).ln().sqrt();
        let multiplicative =
            profile.seasonality == Seasonality::Multiplicative && mean > 0.0 && log_sigma > 0.0;
        // Moves a value by `amount` local noise standard deviations.
        let shift = |v: f64, amount: f64| {
            if multiplicative {
                v * (amount * log_sigma).exp()
            } else {
                v + amount * sigma
            }
        };
        let k = p.magnitude;
        match p.kind {
            AnomalyKind::Spike => values[a..=b].iter_mut().for_each(|v| *v = shift(*v, k)),
            AnomalyKind::Dip => values[a..=b].iter_mut().for_each(|v| *v = shift(*v, -k)),
            AnomalyKind::LevelShift => values[a..=b]
                .iter_mut()
                .for_each(|v| *v = shift(*v, p.sign * k)),
            AnomalyKind::VarianceChange => {
                let factor = 1.0 + k / 2.0;
                let extra = (factor * factor - 1.0).sqrt();
                for v in &mut values[a..=b] {
                    let z: f64 = rng.sample(StandardNormal);
                    *v = shift(*v, extra * z);
                }
            }
            AnomalyKind::TrendDrift => {
                // Reaches ±k at the window's last row, also when it persists to the end.
                let slope = p.sign * k / p.rows as f64;
                for (i, v) in values[a..=b].iter_mut().enumerate() {
                    *v = shift(*v, slope * (i + 1) as f64);
                }
            }
            AnomalyKind::SeasonalBreak => {
                let delay_ms = (1.5 * k * 3_600_000.0).round() as i64;
                for row in a..=b {
                    let late = expected(profile, start_ms, timestamps[row], delay_ms);
                    let usual = clean.means[row];
                    if multiplicative && usual > 0.0 {
                        values[row] *= late / usual;
                    } else {
                        values[row] += late - usual;
                    }
                }
            }
            AnomalyKind::FlatLine => {
                // The last good observation before the onset (a gap may end just before it).
                let held = values[..a]
                    .iter()
                    .rev()
                    .find(|v| !v.is_nan())
                    .copied()
                    .unwrap_or(clean.values[a]);
                values[a..=b].iter_mut().for_each(|v| *v = held);
            }
            AnomalyKind::Gap => values[a..=b].iter_mut().for_each(|v| *v = f64::NAN),
        }
        for v in &mut values[a..=b] {
            *v = clamp(profile, *v);
        }
        let altered = |row: usize| values[row].to_bits() != clean.values[row].to_bits();
        let first = (a..=b).find(|&row| altered(row));
        let last = (a..=b).rev().find(|&row| altered(row));
        match (first, last) {
            (Some(first), Some(last)) => incidents.push(Incident {
                start: timestamps[first],
                end: timestamps[last],
                kind: Some(p.kind.as_str().to_owned()),
                severity: Some(cfg.severity(k).to_owned()),
                channels: Vec::new(),
            }),
            _ => tracing::debug!(
                series = %profile.name,
                kind = %p.kind,
                row = a,
                "injected anomaly changed no row (clamped away); no incident"
            ),
        }
    }
    (values, incidents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn plans_do_not_overlap_and_respect_the_guard_and_probation() {
        let cfg = AnomalyConfig {
            min_per_series: 4,
            max_per_series: 6,
            persist_probability: 1.0,
            ..AnomalyConfig::default()
        };
        let length = 8_064;
        for seed in 0..200 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let placed = plan(seed as usize, length, 300_000, &cfg, &mut rng).expect("plan");
            assert!((4..=6).contains(&placed.len()));
            assert!(placed[0].start >= first_allowed_row(length, 0.15));
            for w in placed.windows(2) {
                assert!(
                    w[0].start + w[0].rows + cfg.guard_rows <= w[1].start,
                    "seed {seed}: {w:?}"
                );
            }
            let last = placed.last().expect("non-empty");
            assert!(last.start + last.rows <= length);
            if placed.iter().any(|p| p.kind.can_persist()) {
                // With probability 1 one of them persists, and it is the last one.
                assert!(last.kind.can_persist(), "seed {seed}: {placed:?}");
                assert_eq!(last.start + last.rows, length, "seed {seed}");
            }
        }
    }

    #[test]
    fn dealt_kinds_follow_the_series_index() {
        let cfg = AnomalyConfig::default();
        let mut seen = std::collections::BTreeSet::new();
        for index in 0..4 {
            let mut rng = ChaCha8Rng::seed_from_u64(99);
            let placed = plan(index, 8_064, 300_000, &cfg, &mut rng).expect("plan");
            let kinds: Vec<_> = placed.iter().map(|p| p.kind).collect();
            assert!(kinds.contains(&AnomalyKind::ALL[2 * index]));
            assert!(kinds.contains(&AnomalyKind::ALL[2 * index + 1]));
            seen.extend(kinds);
        }
        assert_eq!(seen.len(), AnomalyKind::ALL.len());
    }
}
