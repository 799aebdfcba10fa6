//! Rolling-window statistics over the last `window` rows, computed incrementally so that a
//! causal detector costs O(1) (moments) or O(window) worst case (order statistics) per row.
//!
//! Semantics follow pandas' `Series.rolling(window, min_periods)`: the window counts *rows*,
//! NaN rows occupy a slot but are not observations, and a statistic exists once the window
//! holds `min_periods` finite values. Variance is the sample variance (ddof = 1); a window
//! whose finite values are all equal has variance exactly 0 (pandas does the same).

/// Running count, Kahan-compensated sum and Welford sum of squared deviations of the finite
/// values in a window, with add and remove.
#[derive(Debug, Clone, Default)]
pub(crate) struct Moments {
    count: usize,
    sum: f64,
    compensation: f64,
    mean: f64,
    ssq: f64,
    /// Length of the run of equal finite values ending at the last added one.
    same_run: usize,
    last: f64,
}

impl Moments {
    /// Adds a value (NaN is ignored by the caller).
    pub(crate) fn add(&mut self, x: f64) {
        self.count += 1;
        let y = x - self.compensation;
        let t = self.sum + y;
        self.compensation = (t - self.sum) - y;
        self.sum = t;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.ssq += delta * (x - self.mean);
        if self.count > 1 && x == self.last {
            self.same_run += 1;
        } else {
            self.same_run = 1;
        }
        self.last = x;
    }

    /// Removes a value that was added earlier.
    pub(crate) fn remove(&mut self, x: f64) {
        self.count -= 1;
        if self.count == 0 {
            *self = Self::default();
            return;
        }
        let y = -x - self.compensation;
        let t = self.sum + y;
        self.compensation = (t - self.sum) - y;
        self.sum = t;
        let delta = x - self.mean;
        self.mean -= delta / self.count as f64;
        self.ssq -= delta * (x - self.mean);
    }

    /// Number of finite values in the window.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Mean of the window (pandas: Kahan sum / count).
    pub(crate) fn mean(&self) -> f64 {
        if self.same_run >= self.count {
            return self.last;
        }
        self.sum / self.count as f64
    }

    /// Sample standard deviation (ddof = 1); needs two values.
    pub(crate) fn std(&self) -> f64 {
        if self.count < 2 || self.same_run >= self.count {
            return 0.0;
        }
        (self.ssq.max(0.0) / (self.count - 1) as f64).sqrt()
    }
}

/// The finite values of a window kept sorted, for medians, quantiles and the MAD.
#[derive(Debug, Clone, Default)]
pub(crate) struct SortedWindow {
    sorted: Vec<f64>,
}

impl SortedWindow {
    pub(crate) fn with_capacity(window: usize) -> Self {
        Self {
            sorted: Vec::with_capacity(window),
        }
    }

    pub(crate) fn add(&mut self, x: f64) {
        let at = self.sorted.partition_point(|v| *v < x);
        self.sorted.insert(at, x);
    }

    pub(crate) fn remove(&mut self, x: f64) {
        let at = self.sorted.partition_point(|v| *v < x);
        if at < self.sorted.len() && self.sorted[at] == x {
            self.sorted.remove(at);
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.sorted.len()
    }

    /// pandas' linear-interpolation quantile: `v[i] + (v[i+1] - v[i]) * frac` at `q (n - 1)`.
    pub(crate) fn quantile(&self, q: f64) -> f64 {
        let n = self.sorted.len();
        let position = q * (n - 1) as f64;
        let index = position as usize;
        let low = self.sorted[index];
        if position == index as f64 || index + 1 >= n {
            return low;
        }
        let high = self.sorted[index + 1];
        low + (high - low) * (position - index as f64)
    }

    /// Median (mean of the two middle values for an even count).
    pub(crate) fn median(&self) -> f64 {
        let n = self.sorted.len();
        if n % 2 == 1 {
            self.sorted[n / 2]
        } else {
            (self.sorted[n / 2 - 1] + self.sorted[n / 2]) / 2.0
        }
    }

    /// Median absolute deviation from `center` (unscaled), in O(log n): the k-th smallest of
    /// the two sorted sequences of distances left and right of the center.
    pub(crate) fn mad(&self, center: f64) -> f64 {
        let s = &self.sorted;
        let n = s.len();
        let split = s.partition_point(|v| *v < center);
        let left = |j: usize| center - s[split - 1 - j];
        let right = |j: usize| s[split + j] - center;
        let (nl, nr) = (split, n - split);
        let kth = |k: usize| kth_of_two(&left, nl, &right, nr, k);
        if n % 2 == 1 {
            kth(n / 2)
        } else {
            (kth(n / 2 - 1) + kth(n / 2)) / 2.0
        }
    }
}

/// The k-th smallest (0-based) of two ascending sequences given by index functions.
fn kth_of_two(
    a: &dyn Fn(usize) -> f64,
    na: usize,
    b: &dyn Fn(usize) -> f64,
    nb: usize,
    k: usize,
) -> f64 {
    // Take i values from `a` and k + 1 - i from `b`; binary-search the split.
    let take = k + 1;
    let mut lo = take.saturating_sub(nb);
    let mut hi = take.min(na);
    loop {
        let i = (lo + hi) / 2;
        let j = take - i;
        if i < na && j > 0 && b(j - 1) > a(i) {
            lo = i + 1;
        } else if i > 0 && j < nb && a(i - 1) > b(j) {
            hi = i - 1;
        } else {
            let from_a = if i > 0 { a(i - 1) } else { f64::NEG_INFINITY };
            let from_b = if j > 0 { b(j - 1) } else { f64::NEG_INFINITY };
            return from_a.max(from_b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mad_matches_a_direct_computation() {
        let values = [3.0, -1.0, 7.5, 2.0, 2.0, 10.0, -4.0, 0.5];
        for n in 1..=values.len() {
            let mut w = SortedWindow::default();
            values[..n].iter().for_each(|&x| w.add(x));
            let m = w.median();
            let mut dev: Vec<f64> = values[..n].iter().map(|x| (x - m).abs()).collect();
            dev.sort_by(f64::total_cmp);
            let direct = if n % 2 == 1 {
                dev[n / 2]
            } else {
                (dev[n / 2 - 1] + dev[n / 2]) / 2.0
            };
            assert_eq!(w.mad(m), direct, "n = {n}");
        }
    }

    #[test]
    fn moments_are_exact_on_a_constant_window() {
        let mut m = Moments::default();
        for _ in 0..5 {
            m.add(0.1);
        }
        m.remove(0.1);
        m.add(0.1);
        assert_eq!(m.std(), 0.0);
        assert_eq!(m.mean(), 0.1);
    }
}
