//! Checks that row-aligned inputs are aligned before anything is drawn.

use crate::error::{ReportError, Result};
use crate::input::{ScoreTrack, SeriesData};

const ALIGN_HINT: &str = "give one entry per timestamp (NaN/null where there is no value)";

fn aligned(what: &str, field: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(ReportError::Misaligned {
            what: what.to_string(),
            field,
            expected,
            got,
            hint: ALIGN_HINT,
        })
    }
}

/// Values and every track row-aligned with the timestamps; timestamps non-decreasing.
pub(crate) fn series(context: &str, data: &SeriesData, tracks: &[&ScoreTrack]) -> Result<()> {
    let what = format!("{context}series \"{}\"", data.name);
    let n = data.timestamps_ms.len();
    aligned(&what, "values", n, data.values.len())?;
    if let Some(i) = data.timestamps_ms.windows(2).position(|w| w[1] < w[0]) {
        return Err(ReportError::Invalid {
            what,
            field: "timestamps_ms",
            reason: format!("decreases at row {}", i + 1),
            hint: "sort the rows by time before building the report",
        });
    }
    for w in &data.incidents {
        if w.end_ms < w.start_ms {
            return Err(ReportError::Invalid {
                what,
                field: "incidents",
                reason: format!(
                    "window ends ({}) before it starts ({})",
                    w.end_ms, w.start_ms
                ),
                hint: "incident windows are inclusive [start_ms, end_ms] with start <= end",
            });
        }
    }
    for t in tracks {
        let what = format!("{what} track \"{}\"", t.label);
        aligned(&what, "scores", n, t.scores.len())?;
        if let Some(e) = &t.expected {
            aligned(&what, "expected", n, e.len())?;
        }
        if let Some(b) = &t.band {
            aligned(&what, "band.lower", n, b.lower.len())?;
            aligned(&what, "band.upper", n, b.upper.len())?;
        }
    }
    Ok(())
}
