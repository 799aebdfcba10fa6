//! The dual-vigilance fuzzy ART network behind ARTime, in the compact form ARTime ships
//! (`AdaptiveResonanceCompact.jl`, derived from AdaptiveResonance.jl's `DVFA`, Petrenko &
//! Wunsch; dual vigilance after da Silva, Elnabarawy & Wunsch 2019).
//!
//! Inputs are complement coded (`[x, 1 − x]`). Each category `j` holds a weight vector `w_j`
//! of the same length. For an input `x` the network computes, per category,
//! - the feature similarity `|x ∧ w_j|₁ / |w_j|₁` (fuzzy AND = element-wise minimum; ARTime
//!   divides by the weight's norm, the fuzzy-ART *choice* form with α = 0, not by `|x|`);
//! - the energy similarity over the last feature and its complement only (ARTime puts the
//!   newest discretised value there): `(min(x_d, w_d) + min(1 − x_d, w_2d)) / (w_d + w_2d)`;
//! - the match `M_j = feature³ · energy²`.
//!
//! With lower and upper vigilance `rho_lb ≤ rho_ub`, learning follows the compact code's loop
//! over categories in decreasing match: every category with `M_j ≥ rho_ub` learns by fast
//! commit (`w_j ← x ∧ w_j`, β = 1) and the input resonates; otherwise, if the best match is
//! `≥ rho_lb`, the input becomes a new category of the best category's cluster; otherwise it
//! is a *mismatch*: a new category in a new cluster, which is what ARTime calls an anomaly.
//! The best match `A` and its category's energy similarity `Ae` are returned for every input
//! (they drive ARTime's confidence and its vigilance adaptation).
//!
//! The first input ever seen does not train: it creates the all-ones category (a category
//! that matches everything weakly, `M = 1/32` for any input) and reports `A = Ae = 0`, as the
//! compact code does.
//!
//! Cost: O(categories · input length) per input; one category is added per input that does
//! not resonate, so memory grows with the number of novel inputs.

/// What one input did to the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The network was empty: the all-ones category was created, the input was not learned.
    Initialised,
    /// Learning was off: nothing changed.
    NotLearned,
    /// At least one category matched at or above `rho_ub` and learned the input.
    Resonance,
    /// The best match was in `[rho_lb, rho_ub)`: the input became a new category of an
    /// existing cluster.
    NewCategory,
    /// The best match was below `rho_lb`: the input became a new category in a new cluster
    /// (the compact code's label −1).
    Mismatch,
}

/// The best match of one input and what the network did with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Step {
    /// `A`: the highest match over all categories (0 when none is positive).
    pub similarity: f64,
    /// `Ae`: the energy similarity of the category with that match (first one among ties).
    pub energy: f64,
    /// What happened.
    pub outcome: Outcome,
}

/// A DVFA network over `dim`-long inputs in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dvfa {
    /// Input length before complement coding.
    dim: usize,
    /// Category weights, `2·dim` per category, one category after another.
    weights: Vec<f64>,
    /// Lower vigilance.
    pub rho_lb: f64,
    /// Upper vigilance.
    pub rho_ub: f64,
    /// `x ∧ w_j` of the last input, reused by fast commit.
    meets: Vec<f64>,
    /// `M_j` of the last input.
    matches: Vec<f64>,
}

impl Dvfa {
    /// An empty network with both vigilances at `rho`.
    pub fn new(dim: usize, rho: f64) -> Self {
        Self {
            dim,
            weights: Vec::new(),
            rho_lb: rho,
            rho_ub: rho,
            meets: Vec::new(),
            matches: Vec::new(),
        }
    }

    /// Number of categories.
    pub fn categories(&self) -> usize {
        self.weights.len() / (2 * self.dim).max(1)
    }

    /// Presents one input (length `dim`, values in `[0, 1]`) and learns from it when
    /// `learning` is on.
    pub fn train(&mut self, input: &[f64], learning: bool) -> Step {
        debug_assert_eq!(input.len(), self.dim);
        let width = 2 * self.dim;
        if self.weights.is_empty() {
            self.weights = vec![1.0; width];
            return Step {
                similarity: 0.0,
                energy: 0.0,
                outcome: Outcome::Initialised,
            };
        }
        let coded: Vec<f64> = input
            .iter()
            .copied()
            .chain(input.iter().map(|v| 1.0 - v))
            .collect();
        let categories = self.categories();
        self.meets.resize(self.weights.len(), 0.0);
        self.matches.resize(categories, 0.0);
        // The compact code keeps the first category it meets with a strictly larger match,
        // visiting categories in decreasing match with ties in index order: the lowest index
        // among the maxima. It starts from 0, so a best match of 0 reports A = Ae = 0.
        let mut best = 0.0;
        let mut best_energy = 0.0;
        for j in 0..categories {
            let w = &self.weights[j * width..(j + 1) * width];
            let meet = &mut self.meets[j * width..(j + 1) * width];
            for ((m, &x), &wk) in meet.iter_mut().zip(&coded).zip(w) {
                *m = x.min(wk);
            }
            let mut norm_w: f64 = w.iter().sum();
            if norm_w == 0.0 {
                norm_w = 0.001;
            }
            let feature = meet.iter().sum::<f64>() / norm_w;
            let last = self.dim - 1;
            let energy_w = w[last] + w[width - 1];
            // The compact code divides without a guard (0/0 would be NaN); a category whose
            // energy weights are both 0 cannot arise from inputs in [0, 1], so 0 here only
            // keeps a degenerate case finite.
            let energy = if energy_w > 0.0 {
                (meet[last] + meet[width - 1]) / energy_w
            } else {
                0.0
            };
            let m = feature.powi(3) * energy.powi(2);
            self.matches[j] = m;
            if m > best {
                best = m;
                best_energy = energy;
            }
        }
        let outcome = if !learning {
            Outcome::NotLearned
        } else {
            let mut resonated = false;
            for j in 0..categories {
                if self.matches[j] >= self.rho_ub {
                    self.weights[j * width..(j + 1) * width]
                        .copy_from_slice(&self.meets[j * width..(j + 1) * width]);
                    resonated = true;
                }
            }
            if resonated {
                Outcome::Resonance
            } else {
                self.weights.extend_from_slice(&coded);
                if best >= self.rho_lb {
                    Outcome::NewCategory
                } else {
                    Outcome::Mismatch
                }
            }
        };
        Step {
            similarity: best,
            energy: best_energy,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_input_creates_the_all_ones_category_without_learning() {
        let mut art = Dvfa::new(2, 0.9);
        let step = art.train(&[0.3, 0.7], true);
        assert_eq!(step.outcome, Outcome::Initialised);
        assert_eq!((step.similarity, step.energy), (0.0, 0.0));
        assert_eq!(art.categories(), 1);
        // Against all ones: feature = |x| / 4 = 1/2, energy = (x_2 + 1 − x_2) / 2 = 1/2.
        let step = art.train(&[0.3, 0.7], false);
        assert_eq!(step.outcome, Outcome::NotLearned);
        assert!((step.similarity - 0.125 * 0.25).abs() < 1e-15);
        assert!((step.energy - 0.5).abs() < 1e-15);
    }

    #[test]
    fn mismatch_then_resonance_then_a_new_category_between_the_vigilances() {
        let mut art = Dvfa::new(2, 0.9);
        art.train(&[0.0, 0.0], true);
        assert_eq!(art.train(&[0.3, 0.7], true).outcome, Outcome::Mismatch);
        let same = art.train(&[0.3, 0.7], true);
        assert_eq!(same.outcome, Outcome::Resonance);
        assert!((same.similarity - 1.0).abs() < 1e-15);
        assert!((same.energy - 1.0).abs() < 1e-15);
        assert_eq!(art.categories(), 2);
        art.rho_lb = 0.5;
        // A nearby input: a match between 0.5 and 0.9 adds a category without a new cluster.
        let near = art.train(&[0.3, 0.6], true);
        assert!(near.similarity >= 0.5 && near.similarity < 0.9, "{near:?}");
        assert_eq!(near.outcome, Outcome::NewCategory);
        assert_eq!(art.categories(), 3);
    }

    #[test]
    fn fast_commit_learns_the_fuzzy_and() {
        let mut art = Dvfa::new(2, 0.5);
        art.train(&[0.0, 0.0], true);
        art.train(&[0.4, 0.6], true);
        let step = art.train(&[0.45, 0.6], true);
        assert_eq!(step.outcome, Outcome::Resonance);
        assert_eq!(&art.weights[4..], &[0.4, 0.6, 0.55, 0.4]);
    }
}
