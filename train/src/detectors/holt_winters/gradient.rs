//! The SSE of a Holt-Winters model and its exact gradient with respect to the smoothing
//! weights and every initial state value, by reverse-mode differentiation of the recursion
//! (one forward pass that records the pre-update state, one backward pass): O(n) for all
//! m + 6 partial derivatives, where finite differences would cost O(n · m).

use super::recursion::{Component, Smoothing, State, Structure};

/// Partial derivatives of the SSE.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Gradient {
    /// ∂/∂(α, β, γ, φ).
    pub(crate) smoothing: [f64; 4],
    /// ∂/∂ initial level.
    pub(crate) level: f64,
    /// ∂/∂ initial trend.
    pub(crate) trend: f64,
    /// ∂/∂ initial seasonal values.
    pub(crate) season: Vec<f64>,
}

/// The forward pass's record, (level, trend, seasonal value) before each row's update; kept
/// by the caller so an optimiser's evaluations reuse one allocation.
pub(crate) type Tape = Vec<(f64, f64, f64)>;

/// SSE over the finite values of `y` from `initial`, and its gradient (`tape` is scratch
/// space).
pub(crate) fn sse_gradient(
    y: &[f64],
    initial: &State,
    structure: &Structure,
    smoothing: &Smoothing,
    tape: &mut Tape,
) -> (f64, Gradient) {
    // One copy of the loops per (trend, season) pair, with the components as constants, so
    // the per-row branches on the structure compile away (the hot path of every fit).
    let with = |trend, seasonal| Structure {
        trend,
        seasonal,
        ..*structure
    };
    use Component::{Add, Mul, None};
    match (structure.trend, structure.seasonal) {
        (None, None) => sse_gradient_for(y, initial, &with(None, None), smoothing, tape),
        (None, Add) => sse_gradient_for(y, initial, &with(None, Add), smoothing, tape),
        (None, Mul) => sse_gradient_for(y, initial, &with(None, Mul), smoothing, tape),
        (Add, None) => sse_gradient_for(y, initial, &with(Add, None), smoothing, tape),
        (Add, Add) => sse_gradient_for(y, initial, &with(Add, Add), smoothing, tape),
        (Add, Mul) => sse_gradient_for(y, initial, &with(Add, Mul), smoothing, tape),
        (Mul, None) => sse_gradient_for(y, initial, &with(Mul, None), smoothing, tape),
        (Mul, Add) => sse_gradient_for(y, initial, &with(Mul, Add), smoothing, tape),
        (Mul, Mul) => sse_gradient_for(y, initial, &with(Mul, Mul), smoothing, tape),
    }
}

#[inline(always)]
fn sse_gradient_for(
    y: &[f64],
    initial: &State,
    structure: &Structure,
    smoothing: &Smoothing,
    tape: &mut Tape,
) -> (f64, Gradient) {
    let Smoothing {
        alpha,
        beta,
        gamma,
        phi,
    } = *smoothing;
    let seasonal = structure.seasonal != Component::None;
    let m = structure.period.max(1);
    let damp = |b: f64| match structure.trend {
        Component::None => 0.0,
        Component::Add => b * phi,
        Component::Mul => b.powf(phi),
    };
    let trended = |l: f64, db: f64| match structure.trend {
        Component::None => l,
        Component::Add => l + db,
        Component::Mul => l * db,
    };

    // Forward: record (level, trend, season value) before each update.
    tape.clear();
    tape.reserve(y.len());
    let mut state = initial.clone();
    let mut total = 0.0;
    let mut k = state.slot(structure);
    for &value in y {
        let s = if seasonal { state.season[k] } else { 0.0 };
        tape.push((state.level, state.trend, s));
        let forecast = state.update_at(k, value, structure, smoothing);
        if value.is_finite() {
            let e = forecast - value;
            total += e * e;
        }
        k += 1;
        if k == m {
            k = 0;
        }
    }

    // Backward.
    let (mut a_level, mut a_trend) = (0.0, 0.0);
    let mut a_season = vec![0.0; if seasonal { m } else { 0 }];
    let mut g = [0.0; 4];
    // The slot of row t, counted down from the last row (rows start at `initial.row`).
    let mut k = (initial.row + y.len())
        .checked_sub(1)
        .map_or(0, |last| last % m);
    let mut unused = 0.0;
    for (&value, &(l, b, s)) in y.iter().zip(tape.iter()).rev() {
        // The adjoint of this row's seasonal slot, read here and overwritten at the end.
        let season_adjoint = if seasonal {
            &mut a_season[k]
        } else {
            &mut unused
        };
        let db = damp(b);
        let tr = trended(l, db);
        let next_level = a_level;
        let next_trend = a_trend;
        let next_season = *season_adjoint;
        let mut bar_tr;
        let mut bar_s;
        let mut bar_db;
        let bar_l_extra;
        if value.is_nan() {
            // l' = tr, b' = db, s' = s.
            bar_tr = next_level;
            bar_db = if structure.trend != Component::None {
                next_trend
            } else {
                0.0
            };
            bar_s = next_season;
            bar_l_extra = 0.0;
        } else {
            let new_level = match structure.seasonal {
                Component::None => alpha * value + (1.0 - alpha) * tr,
                Component::Add => alpha * value - alpha * s + (1.0 - alpha) * tr,
                Component::Mul => alpha * value / s + (1.0 - alpha) * tr,
            };
            // b' = B(l', l, db).
            let level_total;
            match structure.trend {
                Component::None => {
                    level_total = next_level;
                    bar_l_extra = 0.0;
                    bar_db = 0.0;
                }
                Component::Add => {
                    level_total = next_level + next_trend * beta;
                    g[1] += next_trend * ((new_level - l) - db);
                    bar_l_extra = -beta * next_trend;
                    bar_db = (1.0 - beta) * next_trend;
                }
                Component::Mul => {
                    level_total = next_level + next_trend * beta / l;
                    g[1] += next_trend * (new_level / l - db);
                    bar_l_extra = -beta * new_level / (l * l) * next_trend;
                    bar_db = (1.0 - beta) * next_trend;
                }
            }
            // l' = L(y, s, tr).
            bar_tr = level_total * (1.0 - alpha);
            match structure.seasonal {
                Component::None => {
                    g[0] += level_total * (value - tr);
                    bar_s = 0.0;
                }
                Component::Add => {
                    g[0] += level_total * (value - s - tr);
                    bar_s = -alpha * level_total;
                }
                Component::Mul => {
                    g[0] += level_total * (value / s - tr);
                    bar_s = -alpha * value / (s * s) * level_total;
                }
            }
            // s' = S(y, tr, s).
            match structure.seasonal {
                Component::None => {}
                Component::Add => {
                    g[2] += next_season * (value - tr - s);
                    bar_tr -= gamma * next_season;
                    bar_s += (1.0 - gamma) * next_season;
                }
                Component::Mul => {
                    g[2] += next_season * (value / tr - s);
                    bar_tr -= gamma * value / (tr * tr) * next_season;
                    bar_s += (1.0 - gamma) * next_season;
                }
            }
            // f = F(tr, s), loss = (f − y)².
            let f = match structure.seasonal {
                Component::None => tr,
                Component::Add => tr + s,
                Component::Mul => tr * s,
            };
            let bar_f = 2.0 * (f - value);
            match structure.seasonal {
                Component::None => bar_tr += bar_f,
                Component::Add => {
                    bar_tr += bar_f;
                    bar_s += bar_f;
                }
                Component::Mul => {
                    bar_tr += bar_f * s;
                    bar_s += bar_f * tr;
                }
            }
        }
        // tr = T(l, db).
        let bar_l = match structure.trend {
            Component::None => bar_tr,
            Component::Add => {
                bar_db += bar_tr;
                bar_tr
            }
            Component::Mul => {
                bar_db += bar_tr * l;
                bar_tr * db
            }
        } + bar_l_extra;
        // db = D(b).
        let bar_b = match structure.trend {
            Component::None => 0.0,
            Component::Add => {
                g[3] += bar_db * b;
                bar_db * phi
            }
            Component::Mul => {
                g[3] += bar_db * db * b.ln();
                bar_db * phi * b.powf(phi - 1.0)
            }
        };
        a_level = bar_l;
        a_trend = bar_b;
        *season_adjoint = bar_s;
        k = if k == 0 { m - 1 } else { k - 1 };
    }
    (
        total,
        Gradient {
            smoothing: g,
            level: a_level,
            trend: a_trend,
            season: a_season,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detectors::holt_winters::init::initial_simple;
    use crate::detectors::holt_winters::recursion::sse;

    fn data() -> Vec<f64> {
        (0..120)
            .map(|i| {
                let t = i as f64;
                let v = 20.0
                    + 0.05 * t
                    + 3.0 * (t * std::f64::consts::TAU / 12.0).sin()
                    + ((i * 37) % 11) as f64 * 0.1;
                if i == 50 || i == 51 { f64::NAN } else { v }
            })
            .collect()
    }

    #[test]
    fn gradient_matches_finite_differences_for_every_structure() {
        let y = data();
        for trend in [Component::None, Component::Add, Component::Mul] {
            for seasonal in [Component::None, Component::Add, Component::Mul] {
                let structure = Structure {
                    trend,
                    damped: trend != Component::None,
                    seasonal,
                    period: if seasonal == Component::None { 0 } else { 12 },
                };
                let mut initial = initial_simple(&y, &structure).expect("init");
                if trend == Component::Mul {
                    initial.trend = 1.002;
                }
                let smoothing = Smoothing {
                    alpha: 0.3,
                    beta: 0.1,
                    gamma: 0.2,
                    phi: 0.9,
                };
                let (value, grad) =
                    sse_gradient(&y, &initial, &structure, &smoothing, &mut Vec::new());
                assert!((value - sse(&y, &initial, &structure, &smoothing)).abs() <= 1e-12 * value);
                let h = 1e-6;
                let check = |analytic: f64, plus: f64, minus: f64, what: &str| {
                    let numeric = (plus - minus) / (2.0 * h);
                    assert!(
                        (analytic - numeric).abs() <= 1e-4 * numeric.abs().max(1.0),
                        "{trend:?}/{seasonal:?} {what}: analytic {analytic} vs numeric {numeric}"
                    );
                };
                for (i, name) in ["alpha", "beta", "gamma", "phi"].iter().enumerate() {
                    let mut p = smoothing;
                    let mut q = smoothing;
                    let (pp, qq) = match i {
                        0 => (&mut p.alpha, &mut q.alpha),
                        1 => (&mut p.beta, &mut q.beta),
                        2 => (&mut p.gamma, &mut q.gamma),
                        _ => (&mut p.phi, &mut q.phi),
                    };
                    *pp += h;
                    *qq -= h;
                    check(
                        grad.smoothing[i],
                        sse(&y, &initial, &structure, &p),
                        sse(&y, &initial, &structure, &q),
                        name,
                    );
                }
                let mut p = initial.clone();
                let mut q = initial.clone();
                p.level += h;
                q.level -= h;
                check(
                    grad.level,
                    sse(&y, &p, &structure, &smoothing),
                    sse(&y, &q, &structure, &smoothing),
                    "level",
                );
                if trend != Component::None {
                    let mut p = initial.clone();
                    let mut q = initial.clone();
                    p.trend += h;
                    q.trend -= h;
                    check(
                        grad.trend,
                        sse(&y, &p, &structure, &smoothing),
                        sse(&y, &q, &structure, &smoothing),
                        "trend",
                    );
                }
                for k in 0..initial.season.len() {
                    let mut p = initial.clone();
                    let mut q = initial.clone();
                    p.season[k] += h;
                    q.season[k] -= h;
                    check(
                        grad.season[k],
                        sse(&y, &p, &structure, &smoothing),
                        sse(&y, &q, &structure, &smoothing),
                        "season",
                    );
                }
            }
        }
    }
}
