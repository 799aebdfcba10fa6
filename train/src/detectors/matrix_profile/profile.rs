//! Matrix profiles of one channel (z-normalised Euclidean distance of each subsequence to its
//! nearest non-trivial match), computed STOMP-style along diagonals in correlation space: the
//! centred covariance of a pair follows from its predecessor on the diagonal by the update
//! SCAMP and stumpy use, each entry keeps the highest correlation seen, and distances are taken
//! once at the end (`√(2m(1 − ρ))` is decreasing in ρ, so the nearest match is the most
//! correlated one). Eight diagonals advance in lockstep so the compiler can keep them in vector
//! registers.

use rayon::prelude::*;

/// Steps along a diagonal after which the covariance is recomputed from scratch, so rounding
/// drift stays bounded on long series (the restart points depend only on the index, so results
/// do not depend on the series length).
const REFRESH: usize = 1024;

/// Diagonals advanced together.
const LANES: usize = 8;

/// Diagonals per parallel task (a multiple of `LANES`).
const DIAGONALS_PER_TASK: usize = 64;

/// What a subsequence is, for the pair rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Finite and not constant: compared by correlation.
    Ordinary,
    /// Finite and constant: at distance 0 from another constant one, √m from any other.
    Constant,
    /// Holds a non-finite value: never scored, never matched.
    Invalid,
}

/// Per-subsequence statistics and the terms of the covariance update (shared with DAMP,
/// which compares pairs by the same rules).
pub(crate) struct Subsequences {
    /// The series with non-finite values replaced by 0, so the covariance update never meets
    /// one (pairs with an invalid subsequence are skipped whatever their covariance).
    x: Vec<f64>,
    /// Mean of each subsequence of `x`.
    mean: Vec<f64>,
    /// `1 / (σ √m)` of an ordinary subsequence (so ρ = covariance × inv_i × inv_j), 0 otherwise.
    inv: Vec<f64>,
    /// `(x[i+m−1] − x[i−1]) / 2` (0 at i = 0).
    df: Vec<f64>,
    /// `(x[i+m−1] − mean[i]) + (x[i−1] − mean[i−1])` (0 at i = 0).
    dg: Vec<f64>,
    kind: Vec<Kind>,
    /// `specials[i]`: how many subsequences before i are not ordinary.
    specials: Vec<u32>,
}

impl Subsequences {
    pub(crate) fn new(raw: &[f64], m: usize) -> Self {
        let count = raw.len() + 1 - m;
        let x: Vec<f64> = raw
            .iter()
            .map(|v| if v.is_finite() { *v } else { 0.0 })
            .collect();
        let per: Vec<(f64, f64, Kind)> = (0..count)
            .into_par_iter()
            .map(|i| {
                let window = &x[i..i + m];
                let mean = window.iter().sum::<f64>() / m as f64;
                if !raw[i..i + m].iter().all(|v| v.is_finite()) {
                    return (mean, 0.0, Kind::Invalid);
                }
                let first = window[0];
                if window.iter().all(|v| *v == first) {
                    return (mean, 0.0, Kind::Constant);
                }
                let var = window.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / m as f64;
                (mean, 1.0 / (var.sqrt() * (m as f64).sqrt()), Kind::Ordinary)
            })
            .collect();
        let mean: Vec<f64> = per.iter().map(|p| p.0).collect();
        let inv = per.iter().map(|p| p.1).collect();
        let kind: Vec<Kind> = per.iter().map(|p| p.2).collect();
        let mut df = vec![0.0; count];
        let mut dg = vec![0.0; count];
        for i in 1..count {
            let (enter, leave) = (x[i + m - 1], x[i - 1]);
            df[i] = (enter - leave) / 2.0;
            dg[i] = (enter - mean[i]) + (leave - mean[i - 1]);
        }
        let mut specials = Vec::with_capacity(count + 1);
        specials.push(0u32);
        for k in &kind {
            let last = *specials.last().unwrap_or(&0);
            specials.push(last + u32::from(*k != Kind::Ordinary));
        }
        Self {
            x,
            mean,
            inv,
            df,
            dg,
            kind,
            specials,
        }
    }

    /// How many subsequences there are.
    pub(crate) fn count(&self) -> usize {
        self.mean.len()
    }

    /// The series the statistics describe (non-finite values replaced by 0).
    pub(crate) fn series(&self) -> &[f64] {
        &self.x
    }

    /// Mean of subsequence i.
    pub(crate) fn mean(&self, i: usize) -> f64 {
        self.mean[i]
    }

    /// True when subsequence i holds only finite values (it is scored and matched).
    pub(crate) fn scored(&self, i: usize) -> bool {
        self.kind[i] != Kind::Invalid
    }

    /// The distance the pair rules give (i, j), from scratch (`None` when either is invalid).
    pub(crate) fn distance(&self, m: usize, i: usize, j: usize) -> Option<f64> {
        self.correlation(i, j, self.covariance(m, i, j))
            .map(|rho| distance(m, rho))
    }

    /// The centred covariance of subsequences i and j, from scratch.
    fn covariance(&self, m: usize, i: usize, j: usize) -> f64 {
        let (a, b) = (&self.x[i..i + m], &self.x[j..j + m]);
        let (ma, mb) = (self.mean[i], self.mean[j]);
        a.iter().zip(b).map(|(p, q)| (p - ma) * (q - mb)).sum()
    }

    /// The covariance of (i, j) from that of (i − 1, j − 1), or from scratch at a diagonal's
    /// start and every `REFRESH` steps.
    #[inline(always)]
    fn advance(&self, m: usize, i: usize, j: usize, previous: f64) -> f64 {
        if j.is_multiple_of(REFRESH) {
            self.covariance(m, i, j)
        } else {
            update(previous, self.df[i], self.dg[j], self.df[j], self.dg[i])
        }
    }

    /// The correlation the pair rules give (i, j), or `None` when either is invalid.
    #[inline(always)]
    pub(crate) fn correlation(&self, i: usize, j: usize, covariance: f64) -> Option<f64> {
        match (self.kind[i], self.kind[j]) {
            (Kind::Ordinary, Kind::Ordinary) => Some(covariance * self.inv[i] * self.inv[j]),
            (Kind::Invalid, _) | (_, Kind::Invalid) => None,
            // 2m(1 − 1) = 0 and 2m(1 − ½) = m, exactly.
            (Kind::Constant, Kind::Constant) => Some(1.0),
            _ => Some(0.5),
        }
    }

    /// True when every subsequence in `start..end` is ordinary.
    fn ordinary(&self, start: usize, end: usize) -> bool {
        self.specials[end] == self.specials[start]
    }
}

/// The z-normalised distance of a pair with correlation `rho`: `√(2m(1 − ρ))`, ρ capped at 1
/// (and −∞, no match, giving +∞).
#[inline]
pub(crate) fn distance(m: usize, rho: f64) -> f64 {
    (2.0 * m as f64 * (1.0 - rho.min(1.0))).abs().sqrt()
}

/// One step of the covariance update along a diagonal (one expression, so the lockstep and the
/// scalar paths round identically).
#[inline(always)]
fn update(previous: f64, df_i: f64, dg_j: f64, df_j: f64, dg_i: f64) -> f64 {
    previous + df_i * dg_j + df_j * dg_i
}

/// The exclusion zone stumpy uses: ⌈m / 4⌉.
pub fn exclusion_zone(m: usize) -> usize {
    m.div_ceil(4)
}

/// Left matrix profile of `x` with subsequence length `m`: entry i is the smallest
/// z-normalised Euclidean distance from `x[i..i+m]` to any `x[j..j+m]` with
/// `j < i − exclusion_zone(m)`, or +∞ where there is none (or the subsequence holds a
/// non-finite value; such subsequences are never matched either). A constant subsequence is at
/// distance 0 from another constant one and √m from any other (stumpy's convention).
///
/// Entry i uses `x[..i+m]` only, and bit-identically so: a prefix of `x` gives a prefix of the
/// profile. Cost O(n²) time (n²/2 pairs, each O(1) by the covariance update), O(n) memory per
/// worker thread; rayon over blocks of diagonals, combined by an exact maximum, so the result
/// does not depend on the thread count.
pub fn left_matrix_profile(x: &[f64], m: usize) -> Vec<f64> {
    profile(x, m, Join::Left)
}

/// The (self-join) matrix profile of `x` with subsequence length `m`, as `stumpy.stump`'s
/// first column: entry i is the smallest z-normalised Euclidean distance from `x[i..i+m]` to
/// any `x[j..j+m]` with `|i − j| > exclusion_zone(m)`, earlier or later; +∞ where there is none
/// or the subsequence holds a non-finite value. Batch: entry i depends on the whole series.
/// Same cost and determinism as [`left_matrix_profile`] (each pair updates both ends).
pub fn matrix_profile(x: &[f64], m: usize) -> Vec<f64> {
    profile(x, m, Join::Full)
}

/// Which neighbours a subsequence is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    /// Earlier subsequences only (causal).
    Left,
    /// Earlier and later ones.
    Full,
}

fn profile(x: &[f64], m: usize, join: Join) -> Vec<f64> {
    if m == 0 || x.len() < m {
        return Vec::new();
    }
    let s = Subsequences::new(x, m);
    let count = s.count();
    let first_diagonal = exclusion_zone(m) + 1;
    if first_diagonal >= count {
        return vec![f64::INFINITY; count];
    }
    let diagonals: Vec<usize> = (first_diagonal..count).collect();
    let best = diagonals
        .par_chunks(DIAGONALS_PER_TASK)
        .fold(
            || vec![f64::NEG_INFINITY; count],
            |mut best, chunk| {
                let mut rest = chunk;
                while let Some(&k0) = rest.first() {
                    if rest.len() >= LANES && k0 + LANES - 1 < count {
                        lockstep(&s, m, k0, join, &mut best);
                        rest = &rest[LANES..];
                    } else {
                        diagonal(&s, m, k0, join, &mut best);
                        rest = &rest[1..];
                    }
                }
                best
            },
        )
        .reduce(
            || vec![f64::NEG_INFINITY; count],
            |mut a, b| {
                for (p, q) in a.iter_mut().zip(b) {
                    *p = p.max(q);
                }
                a
            },
        );
    best.into_iter().map(|rho| distance(m, rho)).collect()
}

/// Raises `best[i]` (and `best[j]` for the full join) to the pair's correlation.
#[inline(always)]
fn visit(s: &Subsequences, i: usize, j: usize, covariance: f64, join: Join, best: &mut [f64]) {
    if let Some(rho) = s.correlation(i, j, covariance) {
        best[i] = best[i].max(rho);
        if join == Join::Full {
            best[j] = best[j].max(rho);
        }
    }
}

/// Walks diagonal k (pairs (i, j = i − k)) alone.
fn diagonal(s: &Subsequences, m: usize, k: usize, join: Join, best: &mut [f64]) {
    let mut covariance = 0.0;
    for i in k..best.len() {
        let j = i - k;
        covariance = s.advance(m, i, j, covariance);
        visit(s, i, j, covariance, join, best);
    }
}

/// Walks diagonals `k0 .. k0 + LANES` together. Lane l follows diagonal `k0 + LANES − 1 − l`,
/// so at row i the lanes' partners are the consecutive rows `i − k0 − LANES + 1 + l`. Each
/// lane computes exactly what [`diagonal`] would (same start, same refresh points, same
/// expression), so grouping changes no bit.
fn lockstep(s: &Subsequences, m: usize, k0: usize, join: Join, best: &mut [f64]) {
    let count = best.len();
    let top = k0 + LANES - 1;
    let mut cov = [0.0; LANES];
    // The lanes start at different rows: bring each up to row `top − 1` alone.
    for (l, c) in cov.iter_mut().enumerate() {
        let k = top - l;
        for i in k..top {
            *c = s.advance(m, i, i - k, *c);
            visit(s, i, i - k, *c, join, best);
        }
    }
    for i in top..count {
        let jb = i - top;
        // Some lane's partner is a multiple of REFRESH.
        let phase = jb % REFRESH;
        let refresh = phase == 0 || phase > REFRESH - LANES;
        if refresh || !(s.ordinary(i, i + 1) && s.ordinary(jb, jb + LANES)) {
            for (l, c) in cov.iter_mut().enumerate() {
                *c = s.advance(m, i, jb + l, *c);
                visit(s, i, jb + l, *c, join, best);
            }
            continue;
        }
        let (df_i, dg_i, inv_i) = (s.df[i], s.dg[i], s.inv[i]);
        let df_j = &s.df[jb..jb + LANES];
        let dg_j = &s.dg[jb..jb + LANES];
        let inv_j = &s.inv[jb..jb + LANES];
        let mut rho = [0.0; LANES];
        for l in 0..LANES {
            cov[l] = update(cov[l], df_i, dg_j[l], df_j[l], dg_i);
            rho[l] = cov[l] * inv_i * inv_j[l];
        }
        best[i] = rho.iter().fold(best[i], |a, r| a.max(*r));
        if join == Join::Full {
            for (b, r) in best[jb..jb + LANES].iter_mut().zip(rho) {
                *b = b.max(r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// z-normalised Euclidean distance between `x[i..i+m]` and `x[j..j+m]`.
    fn pair(x: &[f64], m: usize, i: usize, j: usize) -> f64 {
        let z = |i: usize| {
            let w = &x[i..i + m];
            let mean = w.iter().sum::<f64>() / m as f64;
            let std = (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m as f64).sqrt();
            w.iter().map(|v| (v - mean) / std).collect::<Vec<f64>>()
        };
        z(i).iter()
            .zip(&z(j))
            .map(|(p, q)| (p - q).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    fn brute(x: &[f64], m: usize) -> Vec<f64> {
        let count = x.len() + 1 - m;
        (0..count)
            .map(|i| {
                (0..count)
                    .filter(|&j| j + exclusion_zone(m) < i)
                    .map(|j| pair(x, m, i, j))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    #[test]
    fn matches_brute_force_and_prefixes() {
        let x: Vec<f64> = (0..300)
            .map(|i| (i as f64 * 0.3).sin() * 5.0 + 100.0 + ((i * 7919) % 13) as f64 * 0.1)
            .collect();
        let m = 12;
        let fast = left_matrix_profile(&x, m);
        let slow = brute(&x, m);
        for (i, (a, b)) in fast.iter().zip(&slow).enumerate() {
            if b.is_infinite() {
                assert!(a.is_infinite(), "{i}");
            } else {
                assert!((a - b).abs() < 1e-6, "{i}: {a} vs {b}");
            }
        }
        let full = matrix_profile(&x, m);
        let count = x.len() + 1 - m;
        assert_eq!(full.len(), count);
        for (i, got) in full.iter().enumerate() {
            let expected = (0..count)
                .filter(|&j| j.abs_diff(i) > exclusion_zone(m))
                .map(|j| pair(&x, m, i, j))
                .fold(f64::INFINITY, f64::min);
            assert!((got - expected).abs() < 1e-6, "{i}: {got} vs {expected}");
        }
        let part = left_matrix_profile(&x[..150], m);
        for (a, b) in part.iter().zip(&fast) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }
}
