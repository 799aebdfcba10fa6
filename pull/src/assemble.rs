//! Lays the chunks' samples onto the pull's step grid: one column per label set, NaN where a
//! label set has no sample at a grid time (absent or stale — Prometheus returns no point once
//! a series is stale or beyond the lookback window, and nothing is filled in here).

use std::collections::BTreeMap;

use vigil_datasets::prometheus::series_name;

use crate::chunk::{Chunk, Grid};
use crate::client::RangeAnswer;

/// One label set's values on the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// `name{label="value",...}` as Prometheus writes a label set (labels sorted).
    pub name: String,
    /// The label set.
    pub labels: BTreeMap<String, String>,
    /// One value per grid point; NaN where there is no sample.
    pub values: Vec<f64>,
}

/// Collects the columns of one query, chunk by chunk.
#[derive(Debug)]
pub struct Assembler {
    grid: Grid,
    columns: BTreeMap<String, Column>,
    samples: u64,
}

impl Assembler {
    /// An empty assembler for `grid`.
    pub fn new(grid: Grid) -> Self {
        Self {
            grid,
            columns: BTreeMap::new(),
            samples: 0,
        }
    }

    /// Adds one chunk's answer. A sample off the grid or outside the chunk is an error (the
    /// text says which); a time repeated for one label set keeps the last value.
    pub fn add(&mut self, chunk: &Chunk, answer: RangeAnswer) -> Result<(), String> {
        let points = self.grid.points as usize;
        for series in answer.series {
            let name = series_name(&series.labels);
            let column = self.columns.entry(name.clone()).or_insert_with(|| Column {
                name,
                labels: series.labels,
                values: vec![f64::NAN; points],
            });
            for (time, value) in series.samples {
                let index = self
                    .grid
                    .index_of(time)
                    .filter(|k| (chunk.first..=chunk.last).contains(k))
                    .ok_or_else(|| {
                        format!(
                            "series {} has a sample at {} that is not one of the chunk's evaluation times ({} .. {} every {} ms)",
                            column.name,
                            crate::time::show(time),
                            crate::time::show(chunk.start),
                            crate::time::show(chunk.end),
                            self.grid.step
                        )
                    })?;
                column.values[index as usize] = value;
                self.samples += 1;
            }
        }
        Ok(())
    }

    /// Samples received so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The columns, sorted by name.
    pub fn finish(self) -> Vec<Column> {
        self.columns.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::RawSeries;

    fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> RawSeries {
        RawSeries {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            samples: samples.to_vec(),
        }
    }

    #[test]
    fn chunks_join_on_the_grid_with_nan_for_missing_points() {
        let grid = Grid::new(0, 5_000, 1_000); // 6 points
        let chunks = grid.chunks(3);
        let mut assembler = Assembler::new(grid);
        let first = RangeAnswer {
            series: vec![
                series(
                    &[("__name__", "up"), ("job", "b")],
                    &[(0, 1.0), (2_000, 3.0)],
                ),
                series(&[("__name__", "up"), ("job", "a")], &[(1_000, 2.0)]),
            ],
            warnings: vec![],
        };
        let second = RangeAnswer {
            series: vec![series(
                &[("__name__", "up"), ("job", "b")],
                &[(3_000, 4.0), (5_000, f64::INFINITY)],
            )],
            warnings: vec![],
        };
        assert_eq!(assembler.add(&chunks[0], first), Ok(()));
        assert_eq!(assembler.add(&chunks[1], second), Ok(()));
        assert_eq!(assembler.samples(), 5);
        let columns = assembler.finish();
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["up{job=\"a\"}", "up{job=\"b\"}"]);
        let bits = |values: &[f64]| {
            values
                .iter()
                .map(|v| if v.is_nan() { None } else { Some(*v) })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bits(&columns[0].values),
            [None, Some(2.0), None, None, None, None]
        );
        assert_eq!(
            bits(&columns[1].values),
            [
                Some(1.0),
                None,
                Some(3.0),
                Some(4.0),
                None,
                Some(f64::INFINITY)
            ]
        );
    }

    #[test]
    fn off_grid_or_out_of_chunk_samples_are_refused() {
        let grid = Grid::new(0, 5_000, 1_000);
        let chunks = grid.chunks(3);
        let mut assembler = Assembler::new(grid);
        let off = RangeAnswer {
            series: vec![series(&[("job", "a")], &[(1_500, 1.0)])],
            warnings: vec![],
        };
        let message = assembler.add(&chunks[0], off).err().unwrap_or_default();
        assert!(
            message.contains("{job=\"a\"}")
                && message.contains("not one of the chunk's evaluation times"),
            "{message}"
        );
        let outside = RangeAnswer {
            series: vec![series(&[("job", "a")], &[(4_000, 1.0)])],
            warnings: vec![],
        };
        assert!(assembler.add(&chunks[0], outside).is_err());
    }
}
