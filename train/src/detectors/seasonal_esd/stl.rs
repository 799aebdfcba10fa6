//! STL: Seasonal-Trend decomposition by Loess (Cleveland et al. 1990), ported line for line
//! from statsmodels' `_stl.pyx` (itself a port of the netlib Fortran `stl.f`), so components
//! agree with `statsmodels.tsa.seasonal.STL` to rounding. Indices inside follow the Fortran's
//! 1-based conventions where the arithmetic depends on them; loops stay index-based like the
//! original so the port can be checked line by line.
#![allow(clippy::needless_range_loop)]

/// STL settings (statsmodels' names and defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct StlConfig {
    /// Season length (≥ 2).
    pub period: usize,
    /// Seasonal smoother length (odd ≥ 3).
    pub seasonal: usize,
    /// Trend smoother length (odd, > period); `None` = statsmodels' default.
    pub trend: Option<usize>,
    /// Low-pass length (odd, > period); `None` = the smallest odd number > period.
    pub low_pass: Option<usize>,
    /// Degree of the seasonal loess (0 or 1).
    pub seasonal_deg: usize,
    /// Degree of the trend loess (0 or 1).
    pub trend_deg: usize,
    /// Degree of the low-pass loess (0 or 1).
    pub low_pass_deg: usize,
    /// Robustness iterations (bisquare weights).
    pub robust: bool,
    /// Inner iterations; `None` = 2 if robust else 5.
    pub inner_iter: Option<usize>,
    /// Outer iterations; `None` = 15 if robust else 0.
    pub outer_iter: Option<usize>,
    /// Evaluate the seasonal loess every this many points and interpolate (1 = everywhere).
    pub seasonal_jump: usize,
    /// Same for the trend loess.
    pub trend_jump: usize,
    /// Same for the low-pass loess.
    pub low_pass_jump: usize,
}

impl StlConfig {
    /// statsmodels' defaults for a period.
    pub fn new(period: usize) -> Self {
        Self {
            period,
            seasonal: 7,
            trend: None,
            low_pass: None,
            seasonal_deg: 1,
            trend_deg: 1,
            low_pass_deg: 1,
            robust: false,
            inner_iter: None,
            outer_iter: None,
            seasonal_jump: 1,
            trend_jump: 1,
            low_pass_jump: 1,
        }
    }

    pub(crate) fn trend_len(&self) -> usize {
        self.trend.unwrap_or_else(|| {
            let t = (1.5 * self.period as f64 / (1.0 - 1.5 / self.seasonal as f64)).ceil() as usize;
            t + usize::from(t.is_multiple_of(2))
        })
    }

    fn low_pass_len(&self) -> usize {
        self.low_pass.unwrap_or_else(|| {
            let l = self.period + 1;
            l + usize::from(l.is_multiple_of(2))
        })
    }
}

/// The three components (and the final robustness weights).
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    /// Seasonal component.
    pub seasonal: Vec<f64>,
    /// Trend component.
    pub trend: Vec<f64>,
    /// y − seasonal − trend.
    pub resid: Vec<f64>,
    /// Robustness weights (1 without robust iterations).
    pub weights: Vec<f64>,
}

/// Decomposes `y` (finite values; at least two periods long).
pub fn decompose(y: &[f64], config: &StlConfig) -> Decomposition {
    let n = y.len();
    let np = config.period;
    let mut stl = Stl {
        n,
        np,
        ns: config.seasonal,
        nt: config.trend_len(),
        nl: config.low_pass_len(),
        isdeg: config.seasonal_deg,
        itdeg: config.trend_deg,
        ildeg: config.low_pass_deg,
        nsjump: config.seasonal_jump.max(1),
        ntjump: config.trend_jump.max(1),
        nljump: config.low_pass_jump.max(1),
        trend: vec![0.0; n],
        season: vec![0.0; n],
        rw: vec![1.0; n],
        use_rw: false,
        work: (0..5).map(|_| vec![0.0; n + 2 * np]).collect(),
    };
    let inner = config
        .inner_iter
        .unwrap_or(if config.robust { 2 } else { 5 });
    let outer = config
        .outer_iter
        .unwrap_or(if config.robust { 15 } else { 0 });
    let mut k = 0;
    loop {
        stl.onestp(y, inner);
        k += 1;
        if k > outer {
            break;
        }
        for i in 0..n {
            stl.work[0][i] = stl.trend[i] + stl.season[i];
        }
        stl.rwts(y);
        stl.use_rw = true;
    }
    let resid = (0..n)
        .map(|i| y[i] - stl.season[i] - stl.trend[i])
        .collect();
    Decomposition {
        seasonal: stl.season,
        trend: stl.trend,
        resid,
        weights: stl.rw,
    }
}

struct Stl {
    n: usize,
    np: usize,
    ns: usize,
    nt: usize,
    nl: usize,
    isdeg: usize,
    itdeg: usize,
    ildeg: usize,
    nsjump: usize,
    ntjump: usize,
    nljump: usize,
    trend: Vec<f64>,
    season: Vec<f64>,
    rw: Vec<f64>,
    use_rw: bool,
    work: Vec<Vec<f64>>,
}

impl Stl {
    fn onestp(&mut self, y: &[f64], inner: usize) {
        let (n, np) = (self.n, self.np);
        for _ in 0..inner {
            for i in 0..n {
                self.work[0][i] = y[i] - self.trend[i];
            }
            self.ss();
            self.fts();
            let (w0, rest) = self.work.split_at_mut(1);
            let (w1_2, w3_4) = rest.split_at_mut(2);
            let (w3, w4) = w3_4.split_at_mut(1);
            ess(
                &w1_2[1],
                n,
                self.nl,
                self.ildeg,
                self.nljump,
                false,
                &w3[0],
                &mut w0[0],
                &mut w4[0],
            );
            for i in 0..n {
                self.season[i] = self.work[1][np + i] - self.work[0][i];
                self.work[0][i] = y[i] - self.season[i];
            }
            let (w0, rest) = self.work.split_at_mut(1);
            ess(
                &w0[0],
                n,
                self.nt,
                self.itdeg,
                self.ntjump,
                self.use_rw,
                &self.rw,
                &mut self.trend,
                &mut rest[1],
            );
        }
    }

    /// Cycle-subseries smoothing: work[0] → work[1] (extended by one period at each end).
    fn ss(&mut self) {
        let (n, np, ns) = (self.n, self.np, self.ns);
        let [w0, w1, w2, w3, w4] = &mut self.work[..] else {
            unreachable!("five work rows")
        };
        let scratch = &mut self.season;
        for j in 0..np {
            let k = (n - (j + 1)) / np + 1;
            for i in 0..k {
                w2[i] = w0[i * np + j];
            }
            if self.use_rw {
                for i in 0..k {
                    w4[i] = self.rw[i * np + j];
                }
            }
            ess(
                &w2[..],
                k,
                ns,
                self.isdeg,
                self.nsjump,
                self.use_rw,
                &w4[..],
                &mut w3[1..],
                scratch,
            );
            let nright = ns.min(k) as i64;
            w3[0] = est(
                &w2[..],
                k,
                ns,
                self.isdeg,
                0,
                1,
                nright,
                scratch,
                self.use_rw,
                &w4[..],
            );
            if w3[0].is_nan() {
                w3[0] = w3[1];
            }
            let nleft = (k as i64 - ns as i64 + 1).max(1);
            w3[k + 1] = est(
                &w2[..],
                k,
                ns,
                self.isdeg,
                k as i64 + 1,
                nleft,
                k as i64,
                scratch,
                self.use_rw,
                &w4[..],
            );
            if w3[k + 1].is_nan() {
                w3[k + 1] = w3[k];
            }
            for m in 0..k + 2 {
                w1[m * np + j] = w3[m];
            }
        }
    }

    /// Low-pass filter of work[1]: moving averages of lengths np, np, 3 → work[2].
    fn fts(&mut self) {
        let n = self.n + 2 * self.np;
        let np = self.np;
        let [w0, w1, w2, ..] = &mut self.work[..] else {
            unreachable!("five work rows")
        };
        moving_average(w1, n, np, w2);
        moving_average(w2, n - np + 1, np, w0);
        moving_average(w0, n - 2 * np + 2, 3, w2);
    }

    /// Bisquare robustness weights from the residuals y − work[0].
    fn rwts(&mut self, y: &[f64]) {
        let n = self.n;
        for i in 0..n {
            self.rw[i] = (y[i] - self.work[0][i]).abs();
        }
        let mut sorted = self.rw.clone();
        sorted.sort_by(f64::total_cmp);
        let mid0 = n / 2;
        let mid1 = n - mid0 - 1;
        let cmad = 3.0 * (sorted[mid0] + sorted[mid1]);
        if cmad == 0.0 {
            self.rw.iter_mut().for_each(|w| *w = 1.0);
            return;
        }
        let (c9, c1) = (0.999 * cmad, 0.001 * cmad);
        for w in &mut self.rw {
            *w = if *w <= c1 {
                1.0
            } else if *w <= c9 {
                (1.0 - (*w / cmad).powi(2)).powi(2)
            } else {
                0.0
            };
        }
    }
}

/// Loess estimate at `xs` (1-based) from points `nleft..=nright` (1-based); NaN when no
/// point has weight.
#[allow(clippy::too_many_arguments)]
fn est(
    y: &[f64],
    n: usize,
    len: usize,
    ideg: usize,
    xs: i64,
    nleft: i64,
    nright: i64,
    w: &mut [f64],
    userw: bool,
    rw: &[f64],
) -> f64 {
    let range = n as f64 - 1.0;
    let mut h = ((xs - nleft).max(nright - xs)) as f64;
    if len > n {
        h += ((len - n) / 2) as f64;
    }
    let h9 = 0.999 * h;
    let h1 = 0.001 * h;
    let mut a = 0.0;
    for j in (nleft - 1)..nright {
        let ju = j as usize;
        w[ju] = 0.0;
        let r = ((j + 1 - xs) as f64).abs();
        if r <= h9 {
            w[ju] = if r <= h1 {
                1.0
            } else {
                (1.0 - (r / h).powi(3)).powi(3)
            };
            if userw {
                w[ju] *= rw[ju];
            }
            a += w[ju];
        }
    }
    if a <= 0.0 {
        return f64::NAN;
    }
    for j in (nleft - 1)..nright {
        w[j as usize] /= a;
    }
    if h > 0.0 && ideg > 0 {
        let mut a = 0.0;
        for j in (nleft - 1)..nright {
            a += w[j as usize] * (j + 1) as f64;
        }
        let mut b = xs as f64 - a;
        let mut c = 0.0;
        for j in (nleft - 1)..nright {
            c += w[j as usize] * ((j + 1) as f64 - a).powi(2);
        }
        if c.sqrt() > 0.001 * range {
            b /= c;
            for j in (nleft - 1)..nright {
                w[j as usize] *= b * ((j + 1) as f64 - a) + 1.0;
            }
        }
    }
    let mut ys = 0.0;
    for j in (nleft - 1)..nright {
        ys += w[j as usize] * y[j as usize];
    }
    ys
}

/// Loess smoothing of `y[..n]` into `ys`, evaluated every `njump` points and interpolated.
#[allow(clippy::too_many_arguments)]
fn ess(
    y: &[f64],
    n: usize,
    len: usize,
    ideg: usize,
    njump: usize,
    userw: bool,
    rw: &[f64],
    ys: &mut [f64],
    res: &mut [f64],
) {
    if n < 2 {
        ys[0] = y[0];
        return;
    }
    let newnj = njump.min(n - 1);
    let (mut nleft, mut nright): (i64, i64) = (0, 0);
    let n_i = n as i64;
    let len_i = len as i64;
    if len >= n {
        nleft = 1;
        nright = n_i;
        let mut i = 0;
        while i < n {
            ys[i] = est(y, n, len, ideg, i as i64 + 1, nleft, nright, res, userw, rw);
            if ys[i].is_nan() {
                ys[i] = y[i];
            }
            i += newnj;
        }
    } else if newnj == 1 {
        let nsh = (len_i + 2) / 2;
        nleft = 1;
        nright = len_i;
        for i in 0..n {
            if (i as i64 + 1) > nsh && nright != n_i {
                nleft += 1;
                nright += 1;
            }
            ys[i] = est(y, n, len, ideg, i as i64 + 1, nleft, nright, res, userw, rw);
            if ys[i].is_nan() {
                ys[i] = y[i];
            }
        }
    } else {
        let nsh = (len_i + 1) / 2;
        let mut i = 0;
        while i < n {
            let i1 = i as i64 + 1;
            if i1 < nsh {
                nleft = 1;
                nright = len_i;
            } else if i1 > n_i - nsh {
                nleft = n_i - len_i + 1;
                nright = n_i;
            } else {
                nleft = i1 - nsh + 1;
                nright = len_i + i1 - nsh;
            }
            ys[i] = est(y, n, len, ideg, i1, nleft, nright, res, userw, rw);
            if ys[i].is_nan() {
                ys[i] = y[i];
            }
            i += newnj;
        }
    }
    if newnj == 1 {
        return;
    }
    let mut i = 0;
    while i < n - newnj {
        let delta = (ys[i + newnj] - ys[i]) / newnj as f64;
        for j in i..i + newnj {
            ys[j] = ys[i] + delta * ((j + 1) as f64 - (i + 1) as f64);
        }
        i += newnj;
    }
    let k = ((n - 1) / newnj) * newnj + 1;
    if k != n {
        ys[n - 1] = est(y, n, len, ideg, n_i, nleft, nright, res, userw, rw);
        if ys[n - 1].is_nan() {
            ys[n - 1] = y[n - 1];
        }
        if k != n - 1 {
            let delta = (ys[n - 1] - ys[k - 1]) / (n - k) as f64;
            for j in k..n {
                ys[j] = ys[k - 1] + delta * ((j + 1) as f64 - k as f64);
            }
        }
    }
}

/// Moving average of length `len` over `x[..n]` into `ave[..n − len + 1]`.
fn moving_average(x: &[f64], n: usize, len: usize, ave: &mut [f64]) {
    let newn = n - len + 1;
    let flen = len as f64;
    let mut v: f64 = x[..len].iter().sum();
    ave[0] = v / flen;
    let (mut k, mut m) = (len, 0);
    for slot in ave.iter_mut().take(newn).skip(1) {
        v += x[k] - x[m];
        *slot = v / flen;
        k += 1;
        m += 1;
    }
}
