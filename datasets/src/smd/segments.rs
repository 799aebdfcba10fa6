//! `interpretation_label` segments and ASD's `anomaly_type.csv`, and the check of segments
//! against the anomalous runs of `test_label`.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{DatasetError, Result};
use crate::numtext::data_lines;

/// One interpretation segment as test rows (0-based, `first ..= last`) with its 1-based
/// source line and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub line: usize,
    pub text: String,
    pub first: usize,
    pub last: usize,
    /// 0-based channel indices.
    pub channels: Vec<usize>,
}

/// Parses `start-end` with the end convention of the layout into inclusive `(first, last)`.
/// `None` when the text is not two unsigned integers around a `-`.
fn parse_range(text: &str) -> Option<(usize, usize)> {
    let (a, b) = text.trim_ascii().split_once('-')?;
    Some((a.trim_ascii().parse().ok()?, b.trim_ascii().parse().ok()?))
}

fn convention(end_inclusive: bool) -> &'static str {
    if end_inclusive {
        "this layout's ends are inclusive: rows start..=end"
    } else {
        "this layout's ends are exclusive: rows start..end"
    }
}

/// Reads `start-end:d1,d2,...` lines. `rows` is the test row count and `channels` the column
/// count, both for bounds checks.
pub(crate) fn parse_segments(
    path: &Path,
    text: &str,
    end_inclusive: bool,
    rows: usize,
    channels: usize,
) -> Result<Vec<Segment>> {
    let mut segments = Vec::new();
    for (index, raw) in data_lines(text).enumerate() {
        let line = index + 1;
        let raw = raw.trim_ascii();
        if raw.is_empty() {
            continue;
        }
        let syntax = |reason: &str| DatasetError::SegmentSyntax {
            path: path.to_path_buf(),
            line,
            text: raw.to_string(),
            reason: reason.to_string(),
        };
        let (range, dims) = raw
            .split_once(':')
            .ok_or_else(|| syntax("no `:` before the dimensions"))?;
        let (start, end) = parse_range(range)
            .ok_or_else(|| syntax("the range is not `start-end` with unsigned integers"))?;
        let convention = convention(end_inclusive);
        let last = if end_inclusive {
            Some(end)
        } else {
            end.checked_sub(1)
        };
        let last = match last {
            Some(last) if last >= start => last,
            _ => {
                return Err(DatasetError::SegmentReversed {
                    path: path.to_path_buf(),
                    line,
                    segment: range.trim_ascii().to_string(),
                    convention,
                });
            }
        };
        if last >= rows {
            return Err(DatasetError::SegmentOutOfBounds {
                path: path.to_path_buf(),
                line,
                segment: range.trim_ascii().to_string(),
                first: start,
                last,
                rows,
                convention,
            });
        }
        let mut channel_list = Vec::new();
        for dim in dims.split(',') {
            let dim = dim.trim_ascii();
            if dim.is_empty() {
                continue;
            }
            let dim: usize = dim
                .parse()
                .map_err(|_| syntax("a dimension is not an unsigned integer"))?;
            if dim == 0 || dim > channels {
                return Err(DatasetError::SegmentDimension {
                    path: path.to_path_buf(),
                    line,
                    dim,
                    channels,
                });
            }
            channel_list.push(dim - 1);
        }
        segments.push(Segment {
            line,
            text: range.trim_ascii().to_string(),
            first: start,
            last,
            channels: channel_list,
        });
    }
    Ok(segments)
}

/// ASD's `anomaly_type.csv`: `(entity, (first, last)) → type`, segments read with inclusive
/// ends like ASD's interpretation files.
pub(crate) type AnomalyTypes = HashMap<(String, usize, usize), String>;

/// Reads `dataset,anomaly_segment,anomaly_type` (header required).
pub(crate) fn parse_anomaly_types(path: &Path, text: &str) -> Result<AnomalyTypes> {
    let mut lines = data_lines(text).enumerate();
    let header_hint = "the first line must be `dataset,anomaly_segment,anomaly_type`";
    match lines.next() {
        Some((_, header))
            if header.trim_ascii().split(',').map(str::trim_ascii).eq([
                "dataset",
                "anomaly_segment",
                "anomaly_type",
            ]) => {}
        Some((_, header)) => {
            return Err(DatasetError::format(
                path,
                format!("unexpected header {:?}", header.trim_ascii()),
                header_hint,
            ));
        }
        None => return Err(DatasetError::format(path, "no header", header_hint)),
    }
    let mut types = AnomalyTypes::new();
    for (index, line) in lines {
        let line_no = index + 1;
        if line.trim_ascii().is_empty() {
            continue;
        }
        let bad = || {
            DatasetError::format(
                path,
                format!("line {line_no}: cannot read {:?}", line.trim_ascii()),
                "write `entity,start-end,type`, for example `omi-1,760-765,metric`",
            )
        };
        let parts: Vec<&str> = line.split(',').map(str::trim_ascii).collect();
        let [entity, segment, kind] = parts.as_slice() else {
            return Err(bad());
        };
        let (first, last) = parse_range(segment).ok_or_else(bad)?;
        if entity.is_empty() || kind.is_empty() {
            return Err(bad());
        }
        types.insert((entity.to_string(), first, last), kind.to_string());
    }
    Ok(types)
}

/// Maximal runs of `true` as inclusive `(first, last)` indices.
pub(crate) fn runs(labels: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &l) in labels.iter().enumerate() {
        match (l, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, labels.len() - 1));
    }
    out
}

/// Disagreements between segments and the anomalous runs of `test_label`, as messages: a
/// segment that is not exactly one run, and a run that no segment matches.
pub(crate) fn disagreements(segments: &[Segment], labels: &[bool]) -> Vec<String> {
    let runs = runs(labels);
    let mut messages = Vec::new();
    for seg in segments {
        if runs.binary_search(&(seg.first, seg.last)).is_ok() {
            continue;
        }
        let overlapping: Vec<String> = runs
            .iter()
            .filter(|(a, b)| *a <= seg.last && *b >= seg.first)
            .map(|(a, b)| format!("{a}..={b}"))
            .collect();
        let labelled = if overlapping.is_empty() {
            "no anomalous test_label row".to_string()
        } else {
            format!("the test_label run(s) {}", overlapping.join(", "))
        };
        messages.push(format!(
            "interpretation segment {:?} (line {}) covers test rows {}..={}, but overlaps {labelled}; test_label is kept as the ground truth",
            seg.text, seg.line, seg.first, seg.last
        ));
    }
    for &(a, b) in &runs {
        let touched = segments.iter().any(|s| s.first <= b && s.last >= a);
        if !touched {
            messages.push(format!(
                "test_label marks test rows {a}..={b} as anomalous, but no interpretation segment covers them; they count as anomalous rows without an incident"
            ));
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("i.txt")
    }

    #[test]
    fn exclusive_and_inclusive_ends() {
        let smd = parse_segments(p(), "2-5:1,3\n", false, 10, 3).expect("parses");
        assert_eq!(
            (smd[0].first, smd[0].last, smd[0].channels.clone()),
            (2, 4, vec![0, 2])
        );
        let asd = parse_segments(p(), "2-5:1,3", true, 10, 3).expect("parses");
        assert_eq!((asd[0].first, asd[0].last), (2, 5));
    }

    #[test]
    fn reversed_and_empty_segments_are_errors() {
        let err = parse_segments(p(), "0-1:1\n5-3:1\n", true, 10, 1).expect_err("reversed");
        assert!(
            matches!(err, DatasetError::SegmentReversed { line: 2, .. }),
            "{err}"
        );
        // end-exclusive `4-4` names no row at all
        let err = parse_segments(p(), "4-4:1\n", false, 10, 1).expect_err("empty");
        assert!(
            matches!(err, DatasetError::SegmentReversed { line: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn out_of_bounds_depends_on_the_convention() {
        assert!(parse_segments(p(), "8-10:1", false, 10, 1).is_ok());
        let err = parse_segments(p(), "8-10:1", true, 10, 1).expect_err("past the end");
        assert!(
            matches!(
                err,
                DatasetError::SegmentOutOfBounds {
                    last: 10,
                    rows: 10,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("0..=9"), "{err}");
    }

    #[test]
    fn bad_syntax_and_dimensions() {
        for text in ["1-2", "a-2:1", "1-2:x", "12:1"] {
            let err = parse_segments(p(), text, false, 10, 3).expect_err(text);
            assert!(
                matches!(err, DatasetError::SegmentSyntax { line: 1, .. }),
                "{text}: {err}"
            );
        }
        let err = parse_segments(p(), "1-2:4", false, 10, 3).expect_err("dim");
        assert!(matches!(
            err,
            DatasetError::SegmentDimension {
                dim: 4,
                channels: 3,
                ..
            }
        ));
        let err = parse_segments(p(), "1-2:0", false, 10, 3).expect_err("dim 0");
        assert!(matches!(err, DatasetError::SegmentDimension { dim: 0, .. }));
    }

    #[test]
    fn anomaly_types_need_the_header() {
        let t = parse_anomaly_types(
            p(),
            "dataset,anomaly_segment,anomaly_type\nomi-1,760-765,metric\n",
        )
        .expect("parses");
        assert_eq!(
            t.get(&("omi-1".into(), 760, 765)).map(String::as_str),
            Some("metric")
        );
        assert!(parse_anomaly_types(p(), "a,b,c\n").is_err());
        let err = parse_anomaly_types(
            p(),
            "dataset,anomaly_segment,anomaly_type\nomi-1,760,metric\n",
        )
        .expect_err("bad");
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn runs_and_disagreements() {
        let labels = [false, true, true, false, true, false, false, true, true];
        assert_eq!(runs(&labels), vec![(1, 2), (4, 4), (7, 8)]);
        let seg = |first, last| Segment {
            line: 1,
            text: format!("{first}-{last}"),
            first,
            last,
            channels: vec![],
        };
        assert!(disagreements(&[seg(1, 2), seg(4, 4), seg(7, 8)], &labels).is_empty());
        let msgs = disagreements(&[seg(1, 2), seg(7, 7)], &labels);
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].contains("7..=8"), "{msgs:?}");
        assert!(msgs[1].contains("4..=4"), "{msgs:?}");
    }
}
