//! Ground truth as plain data: incident windows (inclusive row ranges) and per-row labels.
//!
//! A `vigil_datasets::Series` converts with
//! `Window::from_ranges(&series.incident_row_ranges())` and `series.labels()`.

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};

/// One labelled incident: rows `start..=end` of a series (both ends inclusive, 0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Window {
    /// First row inside the incident.
    pub start: usize,
    /// Last row inside the incident (inclusive).
    pub end: usize,
}

impl Window {
    /// A window over rows `start..=end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// Number of rows in the window.
    pub fn len(&self) -> usize {
        self.end + 1 - self.start
    }

    /// A window always holds at least one row; provided for clippy's `len` rule.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether `row` lies inside the window.
    pub fn contains(&self, row: usize) -> bool {
        self.start <= row && row <= self.end
    }

    /// Whether the two windows share at least one row.
    pub fn overlaps(&self, other: &Window) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Windows from `(start, end)` inclusive pairs, as `Series::incident_row_ranges` returns them.
    pub fn from_ranges(ranges: &[(usize, usize)]) -> Vec<Window> {
        ranges.iter().map(|&(s, e)| Window::new(s, e)).collect()
    }
}

impl From<(usize, usize)> for Window {
    fn from((start, end): (usize, usize)) -> Self {
        Window::new(start, end)
    }
}

/// Checks that windows are well formed, inside `len` rows, sorted and disjoint.
pub fn validate_windows(windows: &[Window], len: usize) -> Result<()> {
    let mut previous_end: Option<usize> = None;
    for (index, w) in windows.iter().enumerate() {
        if w.end < w.start {
            return Err(EvalError::WindowReversed {
                index,
                start: w.start,
                end: w.end,
            });
        }
        if w.end >= len {
            return Err(EvalError::WindowOutOfRange {
                index,
                end: w.end,
                len,
            });
        }
        if let Some(prev) = previous_end
            && w.start <= prev
        {
            return Err(EvalError::WindowsOverlap {
                index,
                start: w.start,
                end: w.end,
                previous_end: prev,
            });
        }
        previous_end = Some(w.end);
    }
    Ok(())
}

/// Sorts windows and merges those that overlap or touch (as NAB merges its label windows).
pub fn merge_windows(windows: &[Window]) -> Vec<Window> {
    let mut sorted = windows.to_vec();
    sorted.sort();
    let mut merged: Vec<Window> = Vec::with_capacity(sorted.len());
    for w in sorted {
        match merged.last_mut() {
            Some(last) if w.start <= last.end + 1 => last.end = last.end.max(w.end),
            _ => merged.push(w),
        }
    }
    merged
}

/// Maximal runs of `true` as windows (the incidents implied by per-row labels).
pub fn windows_from_labels(labels: &[bool]) -> Vec<Window> {
    runs(labels)
}

/// The windows that overlap `rows`, clipped to them and shifted so that `rows.start` is row 0
/// (a part of a series evaluated on its own).
pub fn windows_in(windows: &[Window], rows: &std::ops::Range<usize>) -> Vec<Window> {
    windows
        .iter()
        .filter(|w| w.end >= rows.start && w.start < rows.end)
        .map(|w| {
            Window::new(
                w.start.max(rows.start) - rows.start,
                w.end.min(rows.end - 1) - rows.start,
            )
        })
        .collect()
}

/// Per-row membership of any window, for `len` rows (rows past `len` are ignored).
pub fn labels_from_windows(windows: &[Window], len: usize) -> Vec<bool> {
    let mut labels = vec![false; len];
    for w in windows {
        for label in labels.iter_mut().take(w.end + 1).skip(w.start) {
            *label = true;
        }
    }
    labels
}

/// Maximal runs of `true` in a boolean mask, as inclusive windows.
pub(crate) fn runs(mask: &[bool]) -> Vec<Window> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, &m) in mask.iter().enumerate() {
        match (m, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(Window::new(s, i - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Window::new(s, mask.len() - 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_labels_round_trip() {
        let labels = [true, true, false, false, true, false, true];
        let w = windows_from_labels(&labels);
        assert_eq!(
            w,
            vec![Window::new(0, 1), Window::new(4, 4), Window::new(6, 6)]
        );
        assert_eq!(labels_from_windows(&w, labels.len()), labels);
        assert!(windows_from_labels(&[]).is_empty());
        assert!(windows_from_labels(&[false, false]).is_empty());
    }

    #[test]
    fn merge_joins_overlapping_and_touching() {
        let merged = merge_windows(&[
            Window::new(10, 12),
            Window::new(0, 3),
            Window::new(2, 5),
            Window::new(6, 7),
        ]);
        assert_eq!(merged, vec![Window::new(0, 7), Window::new(10, 12)]);
    }

    #[test]
    fn validation_rules() {
        assert!(validate_windows(&[Window::new(0, 2), Window::new(3, 4)], 5).is_ok());
        assert!(matches!(
            validate_windows(&[Window::new(3, 2)], 5),
            Err(EvalError::WindowReversed { index: 0, .. })
        ));
        assert!(matches!(
            validate_windows(&[Window::new(0, 5)], 5),
            Err(EvalError::WindowOutOfRange { end: 5, len: 5, .. })
        ));
        assert!(matches!(
            validate_windows(&[Window::new(0, 2), Window::new(2, 4)], 5),
            Err(EvalError::WindowsOverlap { index: 1, .. })
        ));
        let message = validate_windows(&[Window::new(0, 9)], 5)
            .unwrap_err()
            .to_string();
        assert!(message.contains("hint:"), "{message}");
    }

    #[test]
    fn window_geometry() {
        let w = Window::from((2, 4));
        assert_eq!(w.len(), 3);
        assert!(w.contains(2) && w.contains(4) && !w.contains(5));
        assert!(w.overlaps(&Window::new(4, 9)) && !w.overlaps(&Window::new(5, 9)));
        assert_eq!(Window::from_ranges(&[(1, 1)]), vec![Window::new(1, 1)]);
    }
}
