//! The left matrix profile of one channel (z-normalised Euclidean distance of each subsequence
//! to its nearest earlier non-trivial match), computed STOMP-style along diagonals.

use rayon::prelude::*;

/// Steps along a diagonal after which the sliding dot product is recomputed from scratch, so
/// rounding drift stays bounded on long series (the restart points depend only on the index, so
/// results do not depend on the series length).
const REFRESH: usize = 1024;

/// Diagonals per parallel task.
const DIAGONALS_PER_TASK: usize = 64;

/// Per-subsequence statistics.
struct Subsequences {
    mean: Vec<f64>,
    std: Vec<f64>,
    valid: Vec<bool>,
    constant: Vec<bool>,
}

fn subsequence_stats(x: &[f64], m: usize) -> Subsequences {
    let count = x.len() + 1 - m;
    let mut out = Subsequences {
        mean: vec![0.0; count],
        std: vec![0.0; count],
        valid: vec![false; count],
        constant: vec![false; count],
    };
    for i in 0..count {
        let window = &x[i..i + m];
        if !window.iter().all(|v| v.is_finite()) {
            continue;
        }
        let mean = window.iter().sum::<f64>() / m as f64;
        let var = window.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / m as f64;
        let (min, max) = window
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        out.mean[i] = mean;
        out.std[i] = var.sqrt();
        out.valid[i] = true;
        out.constant[i] = min == max;
    }
    out
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
/// profile. Cost O(n²) time (n²/2 pairs, each O(1) by the sliding dot product), O(n) memory per
/// worker thread; rayon over blocks of diagonals, combined by an exact minimum, so the result
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
    let count = x.len() + 1 - m;
    let stats = subsequence_stats(x, m);
    let excl = exclusion_zone(m);
    let first_diagonal = excl + 1;
    if first_diagonal >= count {
        return vec![f64::INFINITY; count];
    }
    let diagonals: Vec<usize> = (first_diagonal..count).collect();
    diagonals
        .par_chunks(DIAGONALS_PER_TASK)
        .map(|chunk| {
            let mut profile = vec![f64::INFINITY; count];
            for &k in chunk {
                diagonal(x, m, k, &stats, join, &mut profile);
            }
            profile
        })
        .reduce(
            || vec![f64::INFINITY; count],
            |mut a, b| {
                for (p, q) in a.iter_mut().zip(b) {
                    *p = p.min(q);
                }
                a
            },
        )
}

/// Walks diagonal k (pairs (i, j = i − k)), lowering `profile[i]` (and `profile[j]` for the
/// full join).
fn diagonal(x: &[f64], m: usize, k: usize, stats: &Subsequences, join: Join, profile: &mut [f64]) {
    let count = profile.len();
    let mut qt = 0.0;
    let mut fresh = false;
    for i in k..count {
        let j = i - k;
        if !(stats.valid[i] && stats.valid[j]) {
            fresh = false;
            continue;
        }
        if !fresh || j.is_multiple_of(REFRESH) {
            qt = (0..m).map(|t| x[i + t] * x[j + t]).sum();
            fresh = true;
        } else {
            qt += x[i + m - 1] * x[j + m - 1] - x[i - 1] * x[j - 1];
        }
        let squared = if stats.constant[i] && stats.constant[j] {
            0.0
        } else if stats.constant[i] || stats.constant[j] {
            m as f64
        } else {
            let m_f = m as f64;
            let rho = ((qt - m_f * stats.mean[i] * stats.mean[j])
                / (m_f * stats.std[i] * stats.std[j]))
                .min(1.0);
            (2.0 * m_f * (1.0 - rho)).abs()
        };
        let distance = squared.sqrt();
        if distance < profile[i] {
            profile[i] = distance;
        }
        if join == Join::Full && distance < profile[j] {
            profile[j] = distance;
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
