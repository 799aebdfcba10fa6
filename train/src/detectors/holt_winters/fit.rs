//! Fitting one channel: choose the structure (detect the period, fall back when the data
//! cannot support the request), initialise, and minimise the one-step SSE over the free
//! smoothing weights inside statsmodels' admissible region.

use serde::{Deserialize, Serialize};

use super::gradient::{Tape, sse_gradient};
use super::init::{initial_heuristic, initial_simple};
use super::recursion::{Component, Smoothing, State, Structure, sse};
use super::{HoltWintersParams, Initialization};
use crate::error::{Result, TrainError};
use crate::optim::{lbfgs, logistic, logit};
use crate::season::detect_period;

/// Why the fitted structure differs from the requested one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fallback {
    /// The structure the parameters asked for.
    pub requested: String,
    /// The structure that was fitted.
    pub fitted: String,
    /// Each step down, with its reason.
    pub reasons: Vec<String>,
}

/// One channel's fitted Holt-Winters model (scaled units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoltWintersChannel {
    /// The structure actually fitted.
    pub structure: Structure,
    /// Fitted (or fixed) smoothing weights.
    pub smoothing: Smoothing,
    /// Initial state at the first training row.
    pub initial: State,
    /// One-step SSE over the training rows.
    pub sse: f64,
    /// Root mean squared one-step error on the training rows (the initial score scale).
    pub sigma: f64,
    /// Evaluations of the SSE the optimiser spent.
    pub evaluations: usize,
    /// Present when the requested structure could not be fitted.
    pub fallback: Option<Fallback>,
}

/// statsmodels' lower bound on α: √ε.
const ALPHA_LOWER: f64 = 1.490_116_119_384_765_6e-8;
/// Damping search range (statsmodels' default bounds).
const PHI_RANGE: (f64, f64) = (0.8, 0.995);

/// Fits one scaled channel.
pub(crate) fn fit_channel(
    params: &HoltWintersParams,
    y: &[f64],
    channel: usize,
) -> Result<HoltWintersChannel> {
    let finite = y.iter().filter(|v| v.is_finite()).count();
    if finite < params.min_train {
        return Err(TrainError::NotEnoughData {
            family: "holt_winters",
            channel,
            needed: params.min_train,
            got: finite,
        });
    }
    let requested = Structure {
        trend: params.trend,
        damped: params.damped && params.trend != Component::None,
        seasonal: params.seasonal,
        period: if params.seasonal == Component::None {
            0
        } else {
            params.period.unwrap_or(0)
        },
    };
    let mut reasons = Vec::new();
    let mut first = requested;
    if first.seasonal != Component::None && first.period == 0 {
        match detect_period(y, params.max_period) {
            Some(period) => first.period = period,
            None => {
                reasons.push(format!(
                    "no seasonal period detected up to {} rows; dropped the season",
                    params.max_period
                ));
                first.seasonal = Component::None;
            }
        }
    }
    if (first.trend == Component::Mul || first.seasonal == Component::Mul)
        && y.iter().any(|v| v.is_finite() && *v <= 0.0)
    {
        reasons.push(
            "multiplicative components need strictly positive data; used additive ones".into(),
        );
        if first.trend == Component::Mul {
            first.trend = Component::Add;
        }
        if first.seasonal == Component::Mul {
            first.seasonal = Component::Add;
        }
    }
    let mut candidates = vec![first];
    if first.seasonal != Component::None {
        candidates.push(Structure {
            seasonal: Component::None,
            period: 0,
            ..first
        });
    }
    if first.trend != Component::None {
        candidates.push(Structure {
            trend: Component::None,
            damped: false,
            seasonal: Component::None,
            period: 0,
        });
    }
    for structure in candidates {
        if structure.seasonal != Component::None && y.len() < 2 * structure.period {
            reasons.push(format!(
                "{}: needs two full seasons ({} rows), got {}",
                structure.describe(),
                2 * structure.period,
                y.len()
            ));
            continue;
        }
        let initial = match params.initialization {
            Initialization::Simple => initial_simple(y, &structure),
            // As statsmodels' "estimated": the heuristic states when the data is long enough
            // for them, else the simple ones.
            Initialization::Heuristic | Initialization::Estimated => {
                initial_heuristic(y, &structure).or_else(|| initial_simple(y, &structure))
            }
        };
        let Some(initial) = initial else {
            reasons.push(format!(
                "{}: too few values to initialise",
                structure.describe()
            ));
            continue;
        };
        // Refined weights are also the better start for the joint fit of weights and states
        // (measured: fewer evaluations in all, and a lower SSE).
        let (mut smoothing, mut sse_value, mut evaluations) =
            optimise(params, y, &initial, &structure);
        let mut initial = initial;
        if params.initialization == Initialization::Estimated && sse_value.is_finite() {
            let (s, state, value, count) = estimate(params, y, &initial, &structure, &smoothing);
            evaluations += count;
            if value.is_finite() && value <= sse_value {
                smoothing = s;
                initial = state;
                sse_value = value;
            }
        }
        if !sse_value.is_finite() {
            reasons.push(format!(
                "{}: the fit failed (non-finite SSE)",
                structure.describe()
            ));
            continue;
        }
        let fallback = (!reasons.is_empty()).then(|| Fallback {
            requested: requested.describe(),
            fitted: structure.describe(),
            reasons: reasons.clone(),
        });
        if let Some(fallback) = &fallback {
            // Recorded in the fitted state ([`crate::FittedModel::fit_notes`]); the runner
            // reports it once per family with the series it concerns.
            tracing::debug!(
                channel,
                requested = %fallback.requested,
                fitted = %fallback.fitted,
                reasons = ?fallback.reasons,
                "holt_winters fell back to a simpler model"
            );
        }
        return Ok(HoltWintersChannel {
            structure,
            smoothing,
            initial,
            sse: sse_value,
            sigma: (sse_value / finite as f64).sqrt(),
            evaluations,
            fallback,
        });
    }
    Err(TrainError::NotEnoughData {
        family: "holt_winters",
        channel,
        needed: params.min_train.max(2),
        got: finite,
    })
}

/// Which weights are free, and the map from unconstrained coordinates to admissible weights:
/// α ∈ [√ε, 1 − √ε], β ∈ [0, α], γ ∈ [0, 1 − α], φ ∈ [0.8, 0.995] (statsmodels' region).
struct Free {
    alpha: Option<f64>,
    beta: Option<f64>,
    gamma: Option<f64>,
    phi: Option<f64>,
    structure: Structure,
}

impl Free {
    fn slots(&self) -> [bool; 4] {
        [
            self.alpha.is_none(),
            self.structure.trend != Component::None && self.beta.is_none(),
            self.structure.seasonal != Component::None && self.gamma.is_none(),
            self.structure.damped && self.phi.is_none(),
        ]
    }

    fn smoothing(&self, u: &[f64]) -> Smoothing {
        let slots = self.slots();
        let mut next = u.iter();
        let mut take = |free: bool| if free { next.next().copied() } else { None };
        let ua = take(slots[0]);
        let ub = take(slots[1]);
        let ug = take(slots[2]);
        let up = take(slots[3]);
        let alpha = self.alpha.unwrap_or_else(|| {
            ALPHA_LOWER + (1.0 - 2.0 * ALPHA_LOWER) * logistic(ua.unwrap_or(0.0))
        });
        let beta = match ub {
            Some(u) => alpha * logistic(u),
            None => self.beta.unwrap_or(0.0),
        };
        let gamma = match ug {
            Some(u) => (1.0 - alpha) * logistic(u),
            None => self.gamma.unwrap_or(0.0),
        };
        let phi = if !self.structure.damped {
            1.0
        } else {
            match up {
                Some(u) => PHI_RANGE.0 + (PHI_RANGE.1 - PHI_RANGE.0) * logistic(u),
                None => self.phi.unwrap_or(1.0),
            }
        };
        Smoothing {
            alpha,
            beta,
            gamma,
            phi,
        }
    }

    /// Writes the gradient in unconstrained coordinates `u` (one entry per free weight, into
    /// `out[..u.len()]`) from the gradient `g` in (α, β, γ, φ).
    fn chain(&self, u: &[f64], g: &[f64; 4], out: &mut [f64]) {
        let slots = self.slots();
        let mut next = u.iter();
        let mut take = |free: bool| if free { next.next().copied() } else { None };
        let ua = take(slots[0]);
        let ub = take(slots[1]);
        let ug = take(slots[2]);
        let up = take(slots[3]);
        let smoothing = self.smoothing(u);
        let derivative = |v: f64| {
            let s = logistic(v);
            s * (1.0 - s)
        };
        let mut at = 0;
        let mut push = |value: f64| {
            out[at] = value;
            at += 1;
        };
        if let Some(ua) = ua {
            let d_alpha = (1.0 - 2.0 * ALPHA_LOWER) * derivative(ua);
            let mut total = g[0] * d_alpha;
            if let Some(ub) = ub {
                total += g[1] * logistic(ub) * d_alpha;
            }
            if let Some(ug) = ug {
                total -= g[2] * logistic(ug) * d_alpha;
            }
            push(total);
        }
        if let Some(ub) = ub {
            push(g[1] * smoothing.alpha * derivative(ub));
        }
        if let Some(ug) = ug {
            push(g[2] * (1.0 - smoothing.alpha) * derivative(ug));
        }
        if let Some(up) = up {
            push(g[3] * (PHI_RANGE.1 - PHI_RANGE.0) * derivative(up));
        }
    }

    /// Unconstrained coordinates of a starting point given as (α, β/α, γ/(1−α), φ-fraction).
    fn coordinates(
        &self,
        alpha: f64,
        beta_share: f64,
        gamma_share: f64,
        phi_share: f64,
    ) -> Vec<f64> {
        let slots = self.slots();
        let mut u = Vec::new();
        if slots[0] {
            u.push(logit((alpha - ALPHA_LOWER) / (1.0 - 2.0 * ALPHA_LOWER)));
        }
        if slots[1] {
            u.push(logit(beta_share));
        }
        if slots[2] {
            u.push(logit(gamma_share));
        }
        if slots[3] {
            u.push(logit(phi_share));
        }
        u
    }
}

/// Refines the free weights *and* the whole initial state together (statsmodels'
/// `initialization_method="estimated"`), by L-BFGS on the exact reverse-mode gradient,
/// starting from the weights found for the simple initial state.
fn estimate(
    params: &HoltWintersParams,
    y: &[f64],
    initial: &State,
    structure: &Structure,
    smoothing: &Smoothing,
) -> (Smoothing, State, f64, usize) {
    let free = Free {
        alpha: params.alpha,
        beta: params.beta,
        gamma: params.gamma,
        phi: params.phi,
        structure: *structure,
    };
    let slots = free.slots();
    let dims = slots.iter().filter(|&&f| f).count();
    let has_trend = structure.trend != Component::None;
    let mut start = free.coordinates(
        smoothing.alpha,
        if smoothing.alpha > 0.0 {
            smoothing.beta / smoothing.alpha
        } else {
            0.5
        },
        if smoothing.alpha < 1.0 {
            smoothing.gamma / (1.0 - smoothing.alpha)
        } else {
            0.5
        },
        (smoothing.phi - PHI_RANGE.0) / (PHI_RANGE.1 - PHI_RANGE.0),
    );
    start.push(initial.level);
    if has_trend {
        start.push(initial.trend);
    }
    start.extend_from_slice(&initial.season);
    let unpack = |u: &[f64]| -> (Smoothing, State) {
        let smoothing = free.smoothing(&u[..dims]);
        let mut rest = u[dims..].iter().copied();
        let level = rest.next().unwrap_or(0.0);
        let trend = if has_trend {
            rest.next().unwrap_or(0.0)
        } else {
            0.0
        };
        let season: Vec<f64> = rest.collect();
        (
            smoothing,
            State {
                level,
                trend,
                season,
                row: 0,
            },
        )
    };
    let mut tape = Tape::new();
    let mut objective = |u: &[f64], grad: &mut [f64]| -> f64 {
        let (smoothing, state) = unpack(u);
        let (value, g) = sse_gradient(y, &state, structure, &smoothing, &mut tape);
        free.chain(&u[..dims], &g.smoothing, &mut grad[..dims]);
        let mut at = dims;
        grad[at] = g.level;
        at += 1;
        if has_trend {
            grad[at] = g.trend;
            at += 1;
        }
        grad[at..].copy_from_slice(&g.season);
        value
    };
    let result = lbfgs(&mut objective, &start, 1e-12, 5000);
    let (smoothing, state) = unpack(&result.x);
    let value = sse(y, &state, structure, &smoothing);
    (smoothing, state, value, result.evaluations)
}

/// Minimises the SSE over the free weights with the initial state fixed: a coarse grid over
/// the admissible region, a short L-BFGS descent on the exact gradient from each of the best
/// grid points ([`STARTS`]; the SSE surface can have several basins), then L-BFGS to full
/// precision from the best of them. Returns the weights, their SSE and the number of
/// SSE evaluations (with or without the gradient).
fn optimise(
    params: &HoltWintersParams,
    y: &[f64],
    initial: &State,
    structure: &Structure,
) -> (Smoothing, f64, usize) {
    let free = Free {
        alpha: params.alpha,
        beta: params.beta,
        gamma: params.gamma,
        phi: params.phi,
        structure: *structure,
    };
    let dims = free.slots().iter().filter(|&&f| f).count();
    if dims == 0 {
        let value = sse(y, initial, structure, &free.smoothing(&[]));
        return (free.smoothing(&[]), value, 1);
    }
    let mut evaluations = 0;
    let mut grid: Vec<(Vec<f64>, f64)> = Vec::new();
    // φ shares 0.25 and 0.97 put φ near 0.85 and 0.99 (statsmodels starts at 0.99): a
    // damped trend often has one basin inside the range and one at its upper bound.
    for alpha in [0.05, 0.2, 0.4, 0.6, 0.8, 0.95] {
        for beta_share in [0.02, 0.2, 0.6] {
            for gamma_share in [0.02, 0.2, 0.6] {
                for phi_share in [0.25, 0.97] {
                    let u = free.coordinates(alpha, beta_share, gamma_share, phi_share);
                    if grid.iter().any(|(g, _)| *g == u) {
                        continue;
                    }
                    evaluations += 1;
                    let value = sse(y, initial, structure, &free.smoothing(&u));
                    grid.push((
                        u,
                        if value.is_finite() {
                            value
                        } else {
                            f64::INFINITY
                        },
                    ));
                }
            }
        }
    }
    grid.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut tape = Tape::new();
    let mut objective = |u: &[f64], grad: &mut [f64]| -> f64 {
        let (value, g) = sse_gradient(y, initial, structure, &free.smoothing(u), &mut tape);
        free.chain(u, &g.smoothing, grad);
        value
    };
    // A short descent from each of the best grid points finds the basin; only the best one
    // is then refined to full precision.
    let mut best = grid[0].clone();
    for (start, _) in grid.iter().take(STARTS) {
        let m = lbfgs(&mut objective, start, SCOUT_FTOL, SCOUT_ITERATIONS);
        evaluations += m.evaluations;
        if m.value < best.1 {
            best = (m.x, m.value);
        }
    }
    let m = lbfgs(&mut objective, &best.0, WEIGHTS_FTOL, 500);
    evaluations += m.evaluations;
    if m.value < best.1 {
        best = (m.x, m.value);
    }
    (free.smoothing(&best.0), best.1, evaluations)
}

/// Grid points the weight search descends from.
const STARTS: usize = 3;
/// Relative SSE improvement and iterations that end a scouting descent.
const SCOUT_FTOL: f64 = 1e-6;
const SCOUT_ITERATIONS: usize = 25;
/// Relative SSE improvement below which the weight search stops (three times in a row).
const WEIGHTS_FTOL: f64 = 1e-12;
