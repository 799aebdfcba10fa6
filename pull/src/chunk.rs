//! The step grid of a pull and its split into requests small enough for Prometheus.
//!
//! Prometheus evaluates a range query at `start, start + step, …` up to `end` and refuses a
//! request whose `(end - start) / step` exceeds 11,000 ("exceeded maximum resolution of 11,000
//! points per timeseries"). A long range is therefore cut into chunks of whole grid points:
//! chunk `c` asks for points `c·P … c·P + P - 1` (P = points per chunk), so chunks neither
//! overlap nor leave a point out, and every chunk's evaluation times lie on the one grid.

/// Prometheus' limit on `(end - start) / step` for one range query.
pub const PROMETHEUS_MAX_RESOLUTION: u64 = 11_000;

/// Points per chunk by default: at most 11,000 points means `(end - start) / step` ≤ 10,999,
/// one under the limit.
pub const DEFAULT_POINTS_PER_CHUNK: u64 = PROMETHEUS_MAX_RESOLUTION;

/// The evaluation grid `start + k·step`, `k = 0 … points - 1`, in milliseconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// First evaluation time.
    pub start: i64,
    /// Distance between evaluation times (> 0).
    pub step: i64,
    /// Number of evaluation times; the last is `start + (points - 1)·step` ≤ the range end.
    pub points: u64,
}

impl Grid {
    /// The grid of a range `[start, end]` (`end >= start`, `step > 0`): the last point is the
    /// last grid time not after `end`, as Prometheus evaluates it.
    pub fn new(start: i64, end: i64, step: i64) -> Self {
        debug_assert!(step > 0 && end >= start);
        let points = ((end as i128 - start as i128) / step as i128) as u64 + 1;
        Self {
            start,
            step,
            points,
        }
    }

    /// Time of grid point `k`.
    pub fn time(&self, k: u64) -> i64 {
        self.start + k as i64 * self.step
    }

    /// The last evaluation time.
    pub fn end(&self) -> i64 {
        self.time(self.points - 1)
    }

    /// The grid index of `time`, or `None` when it is off the grid or outside it.
    pub fn index_of(&self, time: i64) -> Option<u64> {
        let offset = time.checked_sub(self.start)?;
        if offset < 0 || offset % self.step != 0 {
            return None;
        }
        let k = (offset / self.step) as u64;
        (k < self.points).then_some(k)
    }

    /// Splits the grid into consecutive chunks of at most `points_per_chunk` points
    /// (at least 1).
    pub fn chunks(&self, points_per_chunk: u64) -> Vec<Chunk> {
        let per = points_per_chunk.max(1);
        let mut chunks = Vec::with_capacity(self.points.div_ceil(per) as usize);
        let mut first = 0;
        while first < self.points {
            let last = (first + per - 1).min(self.points - 1);
            chunks.push(Chunk {
                first,
                last,
                start: self.time(first),
                end: self.time(last),
            });
            first = last + 1;
        }
        chunks
    }
}

/// One request's share of the grid: points `first ..= last`, asked for as
/// `start=<start>&end=<end>` with the pull's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// First grid index (inclusive).
    pub first: u64,
    /// Last grid index (inclusive).
    pub last: u64,
    /// Evaluation time of `first` (ms).
    pub start: i64,
    /// Evaluation time of `last` (ms).
    pub end: i64,
}

impl Chunk {
    /// Number of grid points in the chunk.
    pub fn points(&self) -> u64 {
        self.last - self.first + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_ends_on_the_last_step_not_after_end() {
        let grid = Grid::new(1_000, 10_500, 1_000);
        assert_eq!(grid.points, 10);
        assert_eq!(grid.end(), 10_000);
        assert_eq!(Grid::new(5, 5, 60_000).points, 1);
        assert_eq!(grid.index_of(1_000), Some(0));
        assert_eq!(grid.index_of(10_000), Some(9));
        assert_eq!(grid.index_of(11_000), None);
        assert_eq!(grid.index_of(1_500), None);
        assert_eq!(grid.index_of(0), None);
    }

    #[test]
    fn chunks_cover_the_grid_once_in_order() {
        let grid = Grid::new(0, 99 * 60_000, 60_000); // 100 points
        for per in [1, 7, 33, 99, 100, 101, 11_000] {
            let chunks = grid.chunks(per);
            assert_eq!(chunks.len() as u64, 100u64.div_ceil(per), "per={per}");
            let mut next = 0;
            for chunk in &chunks {
                assert_eq!(chunk.first, next, "per={per}");
                assert!(chunk.points() <= per);
                assert_eq!(chunk.start, grid.time(chunk.first));
                assert_eq!(chunk.end, grid.time(chunk.last));
                next = chunk.last + 1;
            }
            assert_eq!(next, 100, "per={per}");
        }
    }

    #[test]
    fn default_chunks_stay_under_prometheus_limit() {
        // 30 days of 1-minute points: 43,201 points -> 4 chunks of at most 11,000 points.
        let day = 86_400_000;
        let grid = Grid::new(0, 30 * day, 60_000);
        assert_eq!(grid.points, 43_201);
        let chunks = grid.chunks(DEFAULT_POINTS_PER_CHUNK);
        assert_eq!(chunks.len(), 4);
        for chunk in &chunks {
            // What Prometheus checks: (end - start) / step must not exceed 11,000.
            let resolution = ((chunk.end - chunk.start) / 60_000) as u64;
            assert!(resolution <= PROMETHEUS_MAX_RESOLUTION);
        }
        assert_eq!(chunks[0].end + 60_000, chunks[1].start);
        assert_eq!(chunks[3].end, 30 * day);
    }
}
