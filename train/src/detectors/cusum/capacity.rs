//! Capacity forecast: when will a series cross a limit if its current trend continues?
//! An ordinary least-squares line through the rows since the last change point (or any row
//! the caller names), extrapolated to the limit. A report shows the crossing time and the
//! line it came from.

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// The fitted trend and where it meets the limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityForecast {
    /// The limit (same units as the values).
    pub limit: f64,
    /// First row of the fit.
    pub from_row: usize,
    /// Finite rows used.
    pub rows: usize,
    /// Slope per millisecond.
    pub slope_per_ms: f64,
    /// Fitted value at the last timestamp.
    pub current: f64,
    /// Standard deviation of the residuals around the line.
    pub residual_sd: f64,
    /// Timestamp (ms) at which the line reaches the limit; `None` when the trend moves away
    /// from it (or is flat). Equal to the last timestamp when the fitted value is already past.
    pub crossing_ms: Option<i64>,
    /// Milliseconds from the last timestamp to the crossing.
    pub time_left_ms: Option<i64>,
}

/// Fits the line through rows `from_row..` of (`timestamps`, `values`) and extrapolates it
/// to `limit` (an upper limit when the values are below it, a lower one when above).
pub fn capacity_forecast(
    timestamps: &[i64],
    values: &[f64],
    limit: f64,
    from_row: usize,
) -> Result<CapacityForecast> {
    let rows: Vec<(f64, f64)> = (from_row.min(values.len())..values.len())
        .filter(|&i| values[i].is_finite())
        .map(|i| {
            (
                (timestamps[i] - timestamps[from_row.min(values.len() - 1)]) as f64,
                values[i],
            )
        })
        .collect();
    if rows.len() < 3 {
        return Err(TrainError::NotEnoughData {
            family: "capacity_forecast",
            channel: 0,
            needed: 3,
            got: rows.len(),
        });
    }
    if !limit.is_finite() {
        return Err(TrainError::param(
            "capacity_forecast.limit",
            format!("{limit} is not finite"),
            "give the capacity limit as a number in the series' units",
        ));
    }
    let n = rows.len() as f64;
    let mean_t = rows.iter().map(|r| r.0).sum::<f64>() / n;
    let mean_v = rows.iter().map(|r| r.1).sum::<f64>() / n;
    let sxx: f64 = rows.iter().map(|r| (r.0 - mean_t).powi(2)).sum();
    let sxy: f64 = rows.iter().map(|r| (r.0 - mean_t) * (r.1 - mean_v)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let intercept = mean_v - slope * mean_t;
    let residual_sd = (rows
        .iter()
        .map(|r| (r.1 - intercept - slope * r.0).powi(2))
        .sum::<f64>()
        / (n - 2.0))
        .sqrt();
    let origin = timestamps[from_row.min(values.len() - 1)];
    let last_t = rows.last().map_or(0.0, |r| r.0);
    let current = intercept + slope * last_t;
    let last_ms = origin + last_t as i64;
    // The limit is an upper one when the series has lived below it, a lower one otherwise.
    let upper = mean_v <= limit;
    let reached = if upper {
        current >= limit
    } else {
        current <= limit
    };
    let approaching = if upper { slope > 0.0 } else { slope < 0.0 };
    let (crossing_ms, time_left_ms) = if reached {
        (Some(last_ms), Some(0))
    } else if approaching {
        let left_ms = ((limit - current) / slope).round() as i64;
        (Some(last_ms + left_ms), Some(left_ms))
    } else {
        (None, None)
    };
    Ok(CapacityForecast {
        limit,
        from_row,
        rows: rows.len(),
        slope_per_ms: slope,
        current,
        residual_sd,
        crossing_ms,
        time_left_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_crosses_where_expected_and_a_receding_one_never() {
        let ts: Vec<i64> = (0..100).map(|i| i * 60_000).collect();
        let rising: Vec<f64> = (0..100).map(|i| 10.0 + 0.5 * i as f64).collect();
        // 10 + 0.5 row reaches 100 at row 180: 81 minutes after the last row (99).
        let f = capacity_forecast(&ts, &rising, 100.0, 0).expect("fit");
        assert_eq!(
            (f.crossing_ms, f.time_left_ms),
            (Some(180 * 60_000), Some(81 * 60_000))
        );
        assert!(f.residual_sd < 1e-9);
        let falling: Vec<f64> = rising.iter().map(|x| 200.0 - x).collect();
        // A lower limit of 100: 190 − 0.5 row reaches it at row 180 too.
        let f = capacity_forecast(&ts, &falling, 100.0, 0).expect("fit");
        assert_eq!(f.crossing_ms, Some(180 * 60_000));
        // An upper limit the series moves away from.
        assert_eq!(
            capacity_forecast(&ts, &falling, 250.0, 0)
                .expect("fit")
                .crossing_ms,
            None
        );
        // Already past: the crossing is now.
        assert_eq!(
            capacity_forecast(&ts, &rising, 50.0, 0)
                .expect("fit")
                .time_left_ms,
            Some(0)
        );
        // Only the rows after a change count.
        let mut shifted = rising.clone();
        shifted[..50].iter_mut().for_each(|v| *v -= 1000.0);
        let f = capacity_forecast(&ts, &shifted, 100.0, 50).expect("fit");
        assert_eq!(f.crossing_ms, Some(180 * 60_000));
        assert!(capacity_forecast(&ts, &rising, 100.0, 98).is_err());
    }
}
