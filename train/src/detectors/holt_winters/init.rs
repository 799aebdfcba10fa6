//! Initial states: statsmodels' "simple" rule (Hyndman & Athanasopoulos, FPP §7.6) and its
//! "heuristic" rule (Hyndman et al. 2008 §2.6: a classical decomposition over the first few
//! cycles), written as statsmodels 0.15 `_initialization_simple` / `_initialization_heuristic`
//! compute them, so that the same data gives the same states to rounding.

use super::recursion::{Component, State, Structure};

/// statsmodels' "simple" initial state: the first season's mean as level, the mean of the
/// season-on-season differences of the second season over `period` as trend, and the first
/// season's deviations from the level as seasonal values; without a season, `y[0]` and
/// `y[1] − y[0]` (or `y[1] / y[0]`). NaN-aware: missing values are left out of the means and
/// a missing seasonal value starts neutral (0 or 1). `None` when there are too few values.
pub fn initial_simple(y: &[f64], structure: &Structure) -> Option<State> {
    if structure.seasonal == Component::None {
        let mut finite = y.iter().copied().filter(|v| v.is_finite());
        let first = finite.next()?;
        let trend = match structure.trend {
            Component::None => 0.0,
            Component::Add => finite.next()? - first,
            Component::Mul => finite.next()? / first,
        };
        return Some(State {
            level: first,
            trend,
            season: Vec::new(),
            row: 0,
        });
    }
    let m = structure.period;
    if y.len() < 2 * m {
        return None;
    }
    let level = nan_mean(&y[..m])?;
    let trend = match structure.trend {
        Component::None => 0.0,
        _ => nan_mean(
            &(m..2 * m)
                .map(|i| (y[i] - y[i - m]) / m as f64)
                .collect::<Vec<_>>(),
        )?,
    };
    let season = y[..m]
        .iter()
        .map(|&v| match (structure.seasonal, v.is_finite()) {
            (Component::Add, true) => v - level,
            (Component::Mul, true) => v / level,
            (Component::Mul, false) => 1.0,
            _ => 0.0,
        })
        .collect();
    Some(State {
        level,
        trend,
        season,
        row: 0,
    })
}

/// Fewest rows the heuristic rule accepts: 10, and with a season of length m also
/// `max(2m, 10 + 2⌊m/2⌋)` (two full cycles, and ten rows left after the centred average).
pub fn heuristic_min_rows(structure: &Structure) -> usize {
    if structure.seasonal == Component::None {
        10
    } else {
        let m = structure.period;
        (2 * m).max(10 + 2 * (m / 2))
    }
}

/// statsmodels' "heuristic" initial state. With a season of length m: take the first
/// `k = max(min(5, n / m), ⌈(10 + 2⌊m/2⌋) / m⌉)` cycles, estimate the trend by the centred
/// moving average of length m (a 2×m average when m is even), average the detrended values
/// (y − trend, or y / trend) of each slot over the cycles and normalise them to mean 0 (or 1),
/// then fit a line to the first ten values of the trend (without a season: of the data
/// itself) by least squares; its intercept is the level and its slope the trend (or
/// `1 + slope / intercept` for a multiplicative one).
///
/// NaN-aware: a moving average that spans a missing value is missing (pandas' rule), a slot
/// with no detrended value starts neutral, and the line is fitted to the first ten finite
/// values. `None` when there are fewer rows than [`heuristic_min_rows`] or fewer than two
/// finite values to fit the line to.
pub fn initial_heuristic(y: &[f64], structure: &Structure) -> Option<State> {
    if y.len() < heuristic_min_rows(structure) {
        return None;
    }
    let (line_source, season) = if structure.seasonal == Component::None {
        (y.to_vec(), Vec::new())
    } else {
        let m = structure.period;
        let min_rows = 10 + 2 * (m / 2);
        let cycles = (y.len() / m).min(5).max(min_rows.div_ceil(m));
        let head = &y[..(m * cycles).min(y.len())];
        let trend = centred_average(head, m);
        let mut sums = vec![0.0; m];
        let mut counts = vec![0usize; m];
        for (i, (&value, &level)) in head.iter().zip(&trend).enumerate() {
            let detrended = match structure.seasonal {
                Component::Mul => value / level,
                _ => value - level,
            };
            if detrended.is_finite() {
                sums[i % m] += detrended;
                counts[i % m] += 1;
            }
        }
        let neutral = if structure.seasonal == Component::Mul {
            1.0
        } else {
            0.0
        };
        let mut season: Vec<f64> = sums
            .iter()
            .zip(&counts)
            .map(|(&s, &c)| if c > 0 { s / c as f64 } else { neutral })
            .collect();
        let mean = season.iter().sum::<f64>() / m as f64;
        match structure.seasonal {
            Component::Mul => season.iter_mut().for_each(|s| *s /= mean),
            _ => season.iter_mut().for_each(|s| *s -= mean),
        }
        (trend, season)
    };
    let points: Vec<f64> = line_source
        .into_iter()
        .filter(|v| v.is_finite())
        .take(10)
        .collect();
    if points.len() < 2 {
        return None;
    }
    // Least squares of the points on x = 1, 2, …, as numpy's pinv solution.
    let count = points.len() as f64;
    let x_mean = (count + 1.0) / 2.0;
    let y_mean = points.iter().sum::<f64>() / count;
    let (sxy, sxx) = points
        .iter()
        .enumerate()
        .fold((0.0, 0.0), |(sxy, sxx), (i, &v)| {
            let dx = (i + 1) as f64 - x_mean;
            (sxy + dx * (v - y_mean), sxx + dx * dx)
        });
    let slope = sxy / sxx;
    let intercept = y_mean - slope * x_mean;
    let trend = match structure.trend {
        Component::None => 0.0,
        Component::Add => slope,
        Component::Mul => 1.0 + slope / intercept,
    };
    let state = State {
        level: intercept,
        trend,
        season,
        row: 0,
    };
    let finite = state.level.is_finite()
        && state.trend.is_finite()
        && state.season.iter().all(|s| s.is_finite());
    finite.then_some(state)
}

/// pandas' `rolling(m, center=True).mean()`, followed for an even m by
/// `.shift(-1).rolling(2).mean()`: row i averages `y[i − ⌊m/2⌋ ..= i − ⌊m/2⌋ + m − 1]` (and,
/// for even m, that average with the next row's). NaN where the window leaves the data or
/// spans a missing value.
fn centred_average(y: &[f64], m: usize) -> Vec<f64> {
    let n = y.len();
    let half = m / 2;
    let mut centred = vec![f64::NAN; n];
    // Running sum of the finite values in the window and count of missing ones (O(n)).
    let (mut sum, mut missing) = (0.0, 0usize);
    for end in 0..n {
        if y[end].is_finite() {
            sum += y[end];
        } else {
            missing += 1;
        }
        if end >= m {
            let leaving = y[end - m];
            if leaving.is_finite() {
                sum -= leaving;
            } else {
                missing -= 1;
            }
        }
        // The window y[end + 1 − m ..= end] belongs to row end + 1 − m + ⌊m/2⌋.
        if end + 1 >= m && missing == 0 {
            centred[end + 1 - m + half] = sum / m as f64;
        }
    }
    if m % 2 == 1 {
        return centred;
    }
    (0..n)
        .map(|i| {
            if i + 1 < n {
                (centred[i] + centred[i + 1]) / 2.0
            } else {
                f64::NAN
            }
        })
        .collect()
}

fn nan_mean(values: &[f64]) -> Option<f64> {
    let (sum, count) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (count > 0).then(|| sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn structure(seasonal: Component, period: usize) -> Structure {
        Structure {
            trend: Component::Add,
            damped: false,
            seasonal,
            period,
        }
    }

    fn cycle(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| 50.0 + 0.1 * i as f64 + 5.0 * (i as f64 * std::f64::consts::TAU / 12.0).sin())
            .collect()
    }

    #[test]
    fn heuristic_needs_its_minimum_rows() {
        let s = structure(Component::Add, 12);
        assert_eq!(heuristic_min_rows(&s), 24);
        assert!(initial_heuristic(&cycle(23), &s).is_none());
        assert!(initial_heuristic(&cycle(24), &s).is_some());
        let plain = structure(Component::None, 0);
        assert!(initial_heuristic(&cycle(9), &plain).is_none());
    }

    #[test]
    fn heuristic_recovers_a_clean_cycle_and_survives_a_gap() {
        let s = structure(Component::Add, 12);
        let y = cycle(120);
        let state = initial_heuristic(&y, &s).expect("states");
        assert!((state.trend - 0.1).abs() < 1e-9, "slope {}", state.trend);
        assert!(state.season.iter().sum::<f64>().abs() < 1e-9);
        let mut gapped = y.clone();
        gapped[14..19].iter_mut().for_each(|v| *v = f64::NAN);
        let state = initial_heuristic(&gapped, &s).expect("states with a gap");
        assert!(state.level.is_finite() && state.trend.is_finite());
        assert!(state.season.iter().all(|v| v.is_finite()));
        let mul = initial_heuristic(&gapped, &structure(Component::Mul, 12)).expect("mul");
        assert!((mul.season.iter().sum::<f64>() / 12.0 - 1.0).abs() < 1e-12);
    }
}
