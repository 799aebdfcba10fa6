//! Exact corpus-level NAB threshold search: sort every scorable row of the corpus once by score,
//! then sweep every distinct score from the top, updating the corpus score in O(1) per row.
//! O(n log n) for all profiles together; no hill-climb, so the optimum is the true one.

use serde::{Deserialize, Serialize};

use super::score::{NabCorpusScore, normalise, null_and_perfect, score_corpus};
use super::{NabProfile, NabSeries, Placement, detection_value};

/// The best corpus threshold for one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NabSearchResult {
    /// The profile optimised.
    pub profile: NabProfile,
    /// Best threshold (`score >= threshold` detects). Among equal totals the highest threshold
    /// (fewest detections) wins; "detect nothing" is the value just above the highest score.
    pub threshold: f64,
    /// Raw corpus score at that threshold, recomputed by [`score_corpus`].
    pub raw: f64,
    /// Normalised corpus score at that threshold.
    pub normalised: Option<f64>,
    /// Distinct thresholds examined (distinct scorable scores, plus "detect nothing").
    pub candidates: usize,
    /// The full corpus result at the chosen threshold.
    pub score: NabCorpusScore,
}

#[derive(Clone, Copy)]
struct Point {
    score: f64,
    series: usize,
    row: usize,
    placement: Placement,
}

/// Best corpus threshold for one profile (see [`search_thresholds`]).
pub fn search_threshold(corpus: &[NabSeries<'_>], profile: NabProfile) -> NabSearchResult {
    search_thresholds(corpus, &[profile])
        .pop()
        .unwrap_or_else(|| unreachable_result(corpus, profile))
}

fn unreachable_result(corpus: &[NabSeries<'_>], profile: NabProfile) -> NabSearchResult {
    // `search_thresholds` returns one result per profile asked for; kept total for safety.
    let score = score_corpus(corpus, f64::MAX, profile);
    NabSearchResult {
        profile,
        threshold: f64::MAX,
        raw: score.raw,
        normalised: score.normalised,
        candidates: 0,
        score,
    }
}

/// Best corpus threshold for each profile, sorting the corpus once for all of them.
pub fn search_thresholds(
    corpus: &[NabSeries<'_>],
    profiles: &[NabProfile],
) -> Vec<NabSearchResult> {
    let mut offsets = Vec::with_capacity(corpus.len());
    let mut total_windows = 0usize;
    let mut points: Vec<Point> = Vec::new();
    for (series, s) in corpus.iter().enumerate() {
        offsets.push(total_windows);
        total_windows += s.windows().len();
        let placements = s.placements();
        let scored = s.scores().iter().zip(placements).enumerate();
        for (row, (&score, placement)) in scored.skip(s.probation()) {
            points.push(Point {
                score,
                series,
                row,
                placement,
            });
        }
    }
    points.sort_unstable_by(|a, b| b.score.total_cmp(&a.score));
    let above_all = points.first().map_or(f64::MAX, |p| p.score.next_up());

    profiles
        .iter()
        .map(|&profile| {
            let costs = profile.costs();
            let mut parts = vec![-costs.fn_weight; total_windows];
            let mut total = -costs.fn_weight * total_windows as f64;
            let mut best = (total, above_all);
            let mut candidates = 1usize;
            let mut i = 0usize;
            while i < points.len() {
                let threshold = points[i].score;
                while i < points.len() && points[i].score == threshold {
                    let p = points[i];
                    let windows = corpus[p.series].windows();
                    let value = detection_value(windows, p.placement, p.row, &costs);
                    match p.placement {
                        Placement::Inside(w) => {
                            let slot = &mut parts[offsets[p.series] + w];
                            if value > *slot {
                                total += value - *slot;
                                *slot = value;
                            }
                        }
                        Placement::Outside(_) => total += value,
                    }
                    i += 1;
                }
                candidates += 1;
                if total > best.0 {
                    best = (total, threshold);
                }
            }
            let score = score_corpus(corpus, best.1, profile);
            let (null, perfect) = null_and_perfect(corpus, profile);
            NabSearchResult {
                profile,
                threshold: best.1,
                raw: score.raw,
                normalised: normalise(score.raw, null, perfect),
                candidates,
                score,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Window;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Brute force: score the corpus at every distinct score and above the maximum.
    fn brute_force(corpus: &[NabSeries<'_>], profile: NabProfile) -> (f64, f64) {
        let mut thresholds: Vec<f64> = corpus
            .iter()
            .flat_map(|s| s.scores()[s.probation()..].iter().copied())
            .collect();
        thresholds.sort_by(|a, b| b.total_cmp(a));
        thresholds.dedup();
        let mut best = (
            score_corpus(corpus, f64::INFINITY, profile).raw,
            f64::INFINITY,
        );
        for t in thresholds {
            let raw = score_corpus(corpus, t, profile).raw;
            if raw > best.0 + 1e-12 {
                best = (raw, t);
            }
        }
        best
    }

    #[test]
    fn sweep_equals_brute_force_on_random_corpora() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20 {
            let data: Vec<(Vec<f64>, Vec<Window>)> = (0..3)
                .map(|_| {
                    let n = rng.random_range(30..80);
                    // Coarse scores so that ties occur.
                    let scores = (0..n)
                        .map(|_| f64::from(rng.random_range(0..12u32)) / 11.0)
                        .collect();
                    let a = rng.random_range(5..n / 2);
                    let b = rng.random_range(a..n / 2 + 2);
                    let c = rng.random_range(b + 3..n - 2);
                    (scores, vec![Window::new(a, b), Window::new(c, n - 2)])
                })
                .collect();
            let corpus: Vec<NabSeries<'_>> = data
                .iter()
                .map(|(s, w)| NabSeries::new(s, w).unwrap())
                .collect();
            for r in search_thresholds(&corpus, &NabProfile::ALL) {
                let (raw, _) = brute_force(&corpus, r.profile);
                assert!((r.raw - raw).abs() < 1e-9, "{} vs {raw}", r.raw);
            }
        }
    }

    #[test]
    fn nothing_to_gain_keeps_detect_nothing() {
        // Only false positives are possible: the best is to detect nothing.
        let scores = [0.1, 0.9, 0.3, 0.8, 0.2, 0.7, 0.4, 0.6, 0.5, 0.5];
        let corpus = [NabSeries::with_probation_percent(&scores, &[], 0.0).unwrap()];
        let r = search_threshold(&corpus, NabProfile::Standard);
        assert!(r.threshold > 0.9);
        assert_eq!(r.raw, 0.0);
        assert_eq!(r.candidates, 10); // 9 distinct scores + "nothing"
    }
}
