//! A small derivative-free minimiser (Nelder–Mead with the standard coefficients 1, 2, ½, ½,
//! Lagarias et al. 1998) for the few smoothing or ARMA parameters the families fit. Parameters
//! are unconstrained here; families map them into their admissible region.

/// Result of a minimisation.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub(crate) x: Vec<f64>,
    pub(crate) value: f64,
    pub(crate) evaluations: usize,
}

/// Minimises `f` from `start` with initial simplex steps `step`, until the simplex values
/// agree to `tolerance` (relative) or `max_evaluations` is reached. Non-finite values count as
/// +∞, so an inadmissible point is simply never accepted.
pub(crate) fn nelder_mead(
    f: &mut dyn FnMut(&[f64]) -> f64,
    start: &[f64],
    step: &[f64],
    tolerance: f64,
    max_evaluations: usize,
) -> Minimum {
    let dim = start.len();
    let mut evaluations = 0;
    let mut eval = |x: &[f64], evaluations: &mut usize| {
        *evaluations += 1;
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(dim + 1);
    simplex.push((start.to_vec(), eval(start, &mut evaluations)));
    for i in 0..dim {
        let mut x = start.to_vec();
        x[i] += step[i];
        let v = eval(&x, &mut evaluations);
        simplex.push((x, v));
    }
    loop {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let best = simplex[0].1;
        let worst = simplex[dim].1;
        let spread = (worst - best).abs();
        if evaluations >= max_evaluations || spread <= tolerance * (best.abs() + tolerance) {
            break;
        }
        let centroid: Vec<f64> = (0..dim)
            .map(|j| simplex[..dim].iter().map(|(x, _)| x[j]).sum::<f64>() / dim as f64)
            .collect();
        let towards = |t: f64| -> Vec<f64> {
            (0..dim)
                .map(|j| centroid[j] + t * (simplex[dim].0[j] - centroid[j]))
                .collect()
        };
        let reflected = towards(-1.0);
        let fr = eval(&reflected, &mut evaluations);
        if fr < simplex[0].1 {
            let expanded = towards(-2.0);
            let fe = eval(&expanded, &mut evaluations);
            simplex[dim] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
            continue;
        }
        if fr < simplex[dim - 1].1 {
            simplex[dim] = (reflected, fr);
            continue;
        }
        let (contracted, fc) = if fr < simplex[dim].1 {
            let c = towards(-0.5);
            let fc = eval(&c, &mut evaluations);
            (c, fc)
        } else {
            let c = towards(0.5);
            let fc = eval(&c, &mut evaluations);
            (c, fc)
        };
        if fc < fr.min(simplex[dim].1) {
            simplex[dim] = (contracted, fc);
            continue;
        }
        let best_x = simplex[0].0.clone();
        for vertex in simplex.iter_mut().skip(1) {
            let x: Vec<f64> = (0..dim)
                .map(|j| best_x[j] + 0.5 * (vertex.0[j] - best_x[j]))
                .collect();
            let v = eval(&x, &mut evaluations);
            *vertex = (x, v);
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, value) = simplex.swap_remove(0);
    Minimum {
        x,
        value,
        evaluations,
    }
}

/// The logistic function, mapping ℝ onto (0, 1).
pub(crate) fn logistic(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

/// The inverse of [`logistic`], for values clipped into (0, 1).
pub(crate) fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let mut f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = nelder_mead(&mut f, &[-1.2, 1.0], &[0.5, 0.5], 1e-14, 5000);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] - 1.0).abs() < 1e-4,
            "{:?}",
            m.x
        );
    }
}

/// Minimises a smooth `f` (which writes its gradient into the second argument) by L-BFGS
/// (Nocedal 1980; memory 10) with a backtracking Armijo line search. Stops when an iteration
/// improves the value by less than `ftol` relative three times in a row (scipy's `ftol`
/// rule, made patient), or after `max_iterations`. Non-finite values are rejected by the
/// line search; a failed search restarts from steepest descent once.
pub(crate) fn lbfgs(
    f: &mut dyn FnMut(&[f64], &mut [f64]) -> f64,
    start: &[f64],
    ftol: f64,
    max_iterations: usize,
) -> Minimum {
    const MEMORY: usize = 10;
    let dim = start.len();
    let mut x = start.to_vec();
    let mut g = vec![0.0; dim];
    let mut value = f(&x, &mut g);
    let mut evaluations = 1;
    let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> =
        std::collections::VecDeque::new();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    if !value.is_finite() {
        return Minimum {
            x,
            value,
            evaluations,
        };
    }
    let mut x_new = vec![0.0; dim];
    let mut g_new = vec![0.0; dim];
    let mut stalled = 0;
    for _ in 0..max_iterations {
        // Two-loop recursion: d = −H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = history
            .back()
            .map_or(1.0 / dot(&g, &g).sqrt().max(1e-300), |(s, y, _)| {
                dot(s, y) / dot(y, y)
            });
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&g, &direction);
        if slope.is_nan() || slope >= 0.0 {
            history.clear();
            let norm = dot(&g, &g).sqrt().max(1e-300);
            direction = g.iter().map(|v| -v / norm).collect();
            slope = dot(&g, &direction);
            if slope.is_nan() || slope >= 0.0 {
                break;
            }
        }
        // Backtracking Armijo search from the unit step.
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            x_new
                .iter_mut()
                .zip(&x)
                .zip(&direction)
                .for_each(|((xn, xi), di)| *xn = xi + step * di);
            let candidate = f(&x_new, &mut g_new);
            evaluations += 1;
            if candidate.is_finite() && candidate <= value + 1e-4 * step * slope {
                accepted = Some(candidate);
                break;
            }
            step *= 0.5;
        }
        let Some(candidate) = accepted else {
            // No descent along this direction: retry once from steepest descent, then stop.
            if history.is_empty() {
                break;
            }
            history.clear();
            continue;
        };
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 * dot(&s, &s).sqrt() * dot(&y, &y).sqrt() {
            if history.len() == MEMORY {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        let improvement = (value - candidate) / value.abs().max(candidate.abs()).max(1e-300);
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        value = candidate;
        // Stop after three consecutive iterations that improve by less than `ftol`.
        stalled = if improvement <= ftol { stalled + 1 } else { 0 };
        if stalled >= 3 {
            break;
        }
    }
    Minimum {
        x,
        value,
        evaluations,
    }
}

#[cfg(test)]
mod lbfgs_tests {
    use super::*;

    #[test]
    fn lbfgs_finds_the_rosenbrock_minimum() {
        let mut f = |x: &[f64], g: &mut [f64]| {
            g[0] = -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]);
            g[1] = 200.0 * (x[1] - x[0] * x[0]);
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        };
        let m = lbfgs(&mut f, &[-1.2, 1.0], 1e-15, 500);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5,
            "{:?}",
            m.x
        );
    }
}
