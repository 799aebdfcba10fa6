//! libsvm's one-class solver (Chang & Lin, "LIBSVM: a library for support vector machines",
//! 2011; Fan, Chen & Lin, "Working set selection using second order information", JMLR 2005),
//! ported with its shrinking heuristic: SMO on
//!
//! ```text
//! min ½ αᵀQα   s.t.  0 ≤ α_i ≤ 1,  Σ α_i = ν·l,   Q_ij = K(x_i, x_j)
//! ```
//!
//! with the second-order working-set selection (WSS3), scikit-learn's libsvm starting point (the
//! first ⌊ν·l⌋ multipliers at the bound, the next one fractional) and its stopping rule
//! (`m(α) − M(α) < tol`), and optionally its shrinking (every min(l, 1000) iterations, bound
//! variables that cannot enter the working set leave the active set; the gradient is rebuilt
//! before the final check). Variables are permuted exactly as libsvm swaps them, and kernel
//! values in the solver are rounded to `f32` as libsvm's `Qfloat`, so the iterates follow
//! scikit-learn's `OneClassSVM` step for step, with or without shrinking.
//!
//! Memory: O(l) for the solver state plus a kernel-column cache bounded by `cache_bytes`
//! (columns computed on demand, least recently used evicted), never the l × l matrix unless it
//! fits in the budget. Time: O(l·d) per new column, typically O(l) to O(l²) iterations.

use std::collections::HashMap;

use ndarray::ArrayView2;

const TAU: f64 = 1e-12;

/// Kernel columns computed on demand, least recently used evicted past the budget.
struct KernelCache<'a> {
    rows: ArrayView2<'a, f64>,
    squares: Vec<f64>,
    gamma: f64,
    columns: HashMap<usize, (u64, Vec<f32>)>,
    capacity: usize,
    /// K(x_i, x_i) in double, libsvm's QD (1 for the RBF kernel up to rounding).
    diagonal: Vec<f64>,
    clock: u64,
}

impl<'a> KernelCache<'a> {
    fn new(rows: ArrayView2<'a, f64>, gamma: f64, cache_bytes: usize) -> Self {
        let l = rows.nrows();
        let squares = rows.rows().into_iter().map(|r| r.dot(&r)).collect();
        let capacity = (cache_bytes / (4 * l.max(1))).max(2);
        let mut cache = Self {
            rows,
            squares,
            gamma,
            columns: HashMap::new(),
            capacity,
            diagonal: Vec::new(),
            clock: 0,
        };
        cache.diagonal = (0..l).map(|i| cache.kernel(i, i)).collect();
        cache
    }

    /// libsvm's `kernel_rbf`: exp(−γ(‖x_i‖² + ‖x_j‖² − 2 x_i·x_j)).
    fn kernel(&self, i: usize, j: usize) -> f64 {
        let dot = self.rows.row(i).dot(&self.rows.row(j));
        (-self.gamma * (self.squares[i] + self.squares[j] - 2.0 * dot)).exp()
    }

    /// Column i of Q (as f32, libsvm's Qfloat).
    fn column(&mut self, i: usize) -> &[f32] {
        self.clock += 1;
        let clock = self.clock;
        if !self.columns.contains_key(&i) {
            if self.columns.len() >= self.capacity {
                let oldest = self
                    .columns
                    .iter()
                    .min_by_key(|(_, (stamp, _))| *stamp)
                    .map(|(k, _)| *k)
                    .expect("a full cache is not empty");
                self.columns.remove(&oldest);
            }
            let l = self.rows.nrows();
            let column = (0..l).map(|j| self.kernel(i, j) as f32).collect();
            self.columns.insert(i, (clock, column));
        }
        let entry = self.columns.get_mut(&i).expect("just inserted");
        entry.0 = clock;
        &entry.1
    }
}

/// The solution: multipliers and the offset ρ (decision value = Σ α_i K(x_i, x) − ρ).
#[derive(Debug, Clone, PartialEq)]
pub struct OneClassSolution {
    /// One multiplier per training row, in [0, 1], summing to ν·l.
    pub alpha: Vec<f64>,
    /// The offset.
    pub rho: f64,
    /// Iterations the solver took.
    pub iterations: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Bound {
    Lower,
    Upper,
    Free,
}

fn status(alpha: f64) -> Bound {
    if alpha >= 1.0 {
        Bound::Upper
    } else if alpha <= 0.0 {
        Bound::Lower
    } else {
        Bound::Free
    }
}

/// The solver state, in libsvm's position order (`index[p]` is the training row at position p).
struct Solver<'a> {
    cache: KernelCache<'a>,
    l: usize,
    active: usize,
    index: Vec<usize>,
    alpha: Vec<f64>,
    gradient: Vec<f64>,
    gradient_bar: Vec<f64>,
    bound: Vec<Bound>,
    tol: f64,
    unshrink: bool,
}

impl Solver<'_> {
    /// Q[p][k] for positions p, k.
    fn q_column(&mut self, p: usize) -> Vec<f32> {
        let column = self.cache.column(self.index[p]);
        self.index.iter().map(|&k| column[k]).collect()
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.index.swap(a, b);
        self.alpha.swap(a, b);
        self.gradient.swap(a, b);
        self.gradient_bar.swap(a, b);
        self.bound.swap(a, b);
    }

    /// WSS3 over the active positions; `None` when the stopping rule holds.
    fn select_working_set(&mut self) -> Option<(usize, usize)> {
        let mut gmax = f64::NEG_INFINITY;
        let mut gmax2 = f64::NEG_INFINITY;
        let mut gmax_index = None;
        for t in 0..self.active {
            if self.bound[t] != Bound::Upper && -self.gradient[t] >= gmax {
                gmax = -self.gradient[t];
                gmax_index = Some(t);
            }
        }
        let mut gmin_index = None;
        let mut obj_diff_min = f64::INFINITY;
        let column = gmax_index.map(|i| self.cache.column(self.index[i]).to_vec());
        for j in 0..self.active {
            if self.bound[j] == Bound::Lower {
                continue;
            }
            let g = self.gradient[j];
            let grad_diff = gmax + g;
            if g >= gmax2 {
                gmax2 = g;
            }
            if grad_diff > 0.0
                && let (Some(i), Some(column)) = (gmax_index, &column)
            {
                let quad = self.cache.diagonal[self.index[i]] + self.cache.diagonal[self.index[j]]
                    - 2.0 * f64::from(column[self.index[j]]);
                let obj_diff = if quad > 0.0 {
                    -(grad_diff * grad_diff) / quad
                } else {
                    -(grad_diff * grad_diff) / TAU
                };
                if obj_diff <= obj_diff_min {
                    gmin_index = Some(j);
                    obj_diff_min = obj_diff;
                }
            }
        }
        match (gmax_index, gmin_index) {
            (Some(i), Some(j)) if gmax + gmax2 >= self.tol => Some((i, j)),
            _ => None,
        }
    }

    fn be_shrunk(&self, p: usize, gmax1: f64, gmax2: f64) -> bool {
        match self.bound[p] {
            Bound::Upper => -self.gradient[p] > gmax1,
            Bound::Lower => self.gradient[p] > gmax2,
            Bound::Free => false,
        }
    }

    fn do_shrinking(&mut self) {
        let (mut gmax1, mut gmax2) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for p in 0..self.active {
            if self.bound[p] != Bound::Upper && -self.gradient[p] >= gmax1 {
                gmax1 = -self.gradient[p];
            }
            if self.bound[p] != Bound::Lower && self.gradient[p] >= gmax2 {
                gmax2 = self.gradient[p];
            }
        }
        if !self.unshrink && gmax1 + gmax2 <= self.tol * 10.0 {
            self.unshrink = true;
            self.reconstruct_gradient();
            self.active = self.l;
        }
        let mut p = 0;
        while p < self.active {
            if self.be_shrunk(p, gmax1, gmax2) {
                self.active -= 1;
                while self.active > p {
                    if !self.be_shrunk(self.active, gmax1, gmax2) {
                        self.swap(p, self.active);
                        break;
                    }
                    self.active -= 1;
                }
            }
            p += 1;
        }
    }

    fn reconstruct_gradient(&mut self) {
        let (l, active) = (self.l, self.active);
        if active == l {
            return;
        }
        for j in active..l {
            self.gradient[j] = self.gradient_bar[j];
        }
        let free = (0..active)
            .filter(|&j| self.bound[j] == Bound::Free)
            .count();
        if free * l > 2 * active * (l - active) {
            for i in active..l {
                let column = self.q_column(i);
                for (j, q) in column.iter().enumerate().take(active) {
                    if self.bound[j] == Bound::Free {
                        self.gradient[i] += self.alpha[j] * f64::from(*q);
                    }
                }
            }
        } else {
            for i in 0..active {
                if self.bound[i] == Bound::Free {
                    let column = self.q_column(i);
                    let alpha = self.alpha[i];
                    for (g, q) in self.gradient[active..].iter_mut().zip(&column[active..]) {
                        *g += alpha * f64::from(*q);
                    }
                }
            }
        }
    }

    /// libsvm's ρ over the active positions.
    fn calculate_rho(&self) -> f64 {
        let (mut ub, mut lb) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut free, mut sum_free) = (0usize, 0.0);
        for p in 0..self.active {
            let g = self.gradient[p];
            match self.bound[p] {
                Bound::Upper => lb = lb.max(g),
                Bound::Lower => ub = ub.min(g),
                Bound::Free => {
                    free += 1;
                    sum_free += g;
                }
            }
        }
        if free > 0 {
            sum_free / free as f64
        } else {
            (ub + lb) / 2.0
        }
    }
}

/// Solves the one-class dual on `rows` (l × d, finite) with the RBF kernel.
pub fn solve_one_class(
    rows: ArrayView2<f64>,
    nu: f64,
    gamma: f64,
    tol: f64,
    shrinking: bool,
    cache_bytes: usize,
) -> OneClassSolution {
    let l = rows.nrows();
    let cache = KernelCache::new(rows, gamma, cache_bytes);

    // scikit-learn's libsvm start: ν·l accumulated row by row, then handed out greedily (the
    // first multipliers at the bound 1, the next one the remainder).
    let mut nu_l = 0.0;
    for _ in 0..l {
        nu_l += nu;
    }
    let mut alpha = vec![0.0; l];
    for a in alpha.iter_mut() {
        if nu_l <= 0.0 {
            break;
        }
        *a = nu_l.min(1.0);
        nu_l -= *a;
    }
    let bound: Vec<Bound> = alpha.iter().map(|a| status(*a)).collect();
    let mut solver = Solver {
        cache,
        l,
        active: l,
        index: (0..l).collect(),
        alpha,
        gradient: vec![0.0; l],
        gradient_bar: vec![0.0; l],
        bound,
        tol,
        unshrink: false,
    };
    // Gradient G = Qα (the linear term is zero); Ḡ = Σ over upper-bound α of C·Q_i.
    for i in 0..l {
        if solver.bound[i] != Bound::Lower {
            let a = solver.alpha[i];
            let upper = solver.bound[i] == Bound::Upper;
            let column = solver.cache.column(i).to_vec();
            for (j, q) in column.iter().enumerate() {
                solver.gradient[j] += a * f64::from(*q);
                if upper {
                    solver.gradient_bar[j] += f64::from(*q);
                }
            }
        }
    }

    let max_iterations = 10_000_000usize.max(100usize.saturating_mul(l));
    let mut iterations = 0;
    let mut counter = l.min(1000) + 1;
    while iterations < max_iterations {
        counter -= 1;
        if counter == 0 {
            counter = l.min(1000);
            if shrinking {
                solver.do_shrinking();
            }
        }
        let (i, j) = match solver.select_working_set() {
            Some(pair) => pair,
            None => {
                solver.reconstruct_gradient();
                solver.active = l;
                match solver.select_working_set() {
                    Some(pair) => {
                        counter = 1;
                        pair
                    }
                    None => break,
                }
            }
        };
        iterations += 1;
        let column_i = solver.q_column(i);
        let column_j = solver.q_column(j);
        let (old_i, old_j) = (solver.alpha[i], solver.alpha[j]);
        let mut quad = solver.cache.diagonal[solver.index[i]]
            + solver.cache.diagonal[solver.index[j]]
            - 2.0 * f64::from(column_i[j]);
        if quad <= 0.0 {
            quad = TAU;
        }
        let delta = (solver.gradient[i] - solver.gradient[j]) / quad;
        let sum = solver.alpha[i] + solver.alpha[j];
        let (mut a_i, mut a_j) = (solver.alpha[i] - delta, solver.alpha[j] + delta);
        if sum > 1.0 {
            if a_i > 1.0 {
                a_i = 1.0;
                a_j = sum - 1.0;
            }
        } else if a_j < 0.0 {
            a_j = 0.0;
            a_i = sum;
        }
        if sum > 1.0 {
            if a_j > 1.0 {
                a_j = 1.0;
                a_i = sum - 1.0;
            }
        } else if a_i < 0.0 {
            a_i = 0.0;
            a_j = sum;
        }
        solver.alpha[i] = a_i;
        solver.alpha[j] = a_j;
        let (delta_i, delta_j) = (a_i - old_i, a_j - old_j);
        for k in 0..solver.active {
            solver.gradient[k] +=
                f64::from(column_i[k]) * delta_i + f64::from(column_j[k]) * delta_j;
        }
        for p in [i, j] {
            let before = solver.bound[p] == Bound::Upper;
            solver.bound[p] = status(solver.alpha[p]);
            let after = solver.bound[p] == Bound::Upper;
            if before != after {
                let column = solver.q_column(p);
                let sign = if before { -1.0 } else { 1.0 };
                for (g, q) in solver.gradient_bar.iter_mut().zip(&column) {
                    *g += sign * f64::from(*q);
                }
            }
        }
    }
    if solver.active < l {
        solver.reconstruct_gradient();
        solver.active = l;
    }
    let rho = solver.calculate_rho();
    let mut alpha = vec![0.0; l];
    for (p, &row) in solver.index.iter().enumerate() {
        alpha[row] = solver.alpha[p];
    }
    OneClassSolution {
        alpha,
        rho,
        iterations,
    }
}
