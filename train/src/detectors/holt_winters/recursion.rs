//! The Holt-Winters (error-correction ETS) recursions, written term for term as statsmodels'
//! `ExponentialSmoothing._predict` (0.15) so that fitted values and SSE agree to rounding, and
//! statsmodels' "simple" initialisation (Hyndman & Athanasopoulos, FPP §7.6).

use serde::{Deserialize, Serialize};

/// How a component enters the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// Absent.
    #[default]
    None,
    /// Additive.
    Add,
    /// Multiplicative (needs strictly positive data).
    Mul,
}

/// The model structure: which components, whether the trend is damped, the season length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Structure {
    /// Trend component.
    pub trend: Component,
    /// Damped trend (φ < 1).
    pub damped: bool,
    /// Seasonal component.
    pub seasonal: Component,
    /// Season length in rows (0 without a seasonal component).
    pub period: usize,
}

impl Structure {
    /// A readable name, e.g. `add-damped/mul/288`.
    pub fn describe(&self) -> String {
        let name = |c: Component| match c {
            Component::None => "none",
            Component::Add => "add",
            Component::Mul => "mul",
        };
        format!(
            "trend={}{}, seasonal={}{}",
            name(self.trend),
            if self.damped { " (damped)" } else { "" },
            name(self.seasonal),
            if self.seasonal == Component::None {
                String::new()
            } else {
                format!(" (period {})", self.period)
            }
        )
    }
}

/// Smoothing weights: α (level), β (trend), γ (season), φ (damping; 1 when undamped).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Smoothing {
    /// Level weight.
    pub alpha: f64,
    /// Trend weight.
    pub beta: f64,
    /// Seasonal weight.
    pub gamma: f64,
    /// Damping factor.
    pub phi: f64,
}

/// Level, trend and the last `period` seasonal values (slot `t mod period` belongs to row t).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Current level.
    pub level: f64,
    /// Current trend (additive: a slope; multiplicative: a growth factor; 0 without trend).
    pub trend: f64,
    /// Seasonal values, indexed by row modulo the period (empty without a season).
    pub season: Vec<f64>,
    /// Index of the next row.
    pub row: usize,
}

impl State {
    #[inline(always)]
    fn damped_trend(&self, structure: &Structure, phi: f64) -> f64 {
        match structure.trend {
            Component::None => 0.0,
            Component::Add => self.trend * phi,
            Component::Mul => self.trend.powf(phi),
        }
    }

    #[inline(always)]
    fn trended(&self, structure: &Structure, damped_trend: f64) -> f64 {
        match structure.trend {
            Component::None => self.level,
            Component::Add => self.level + damped_trend,
            Component::Mul => self.level * damped_trend,
        }
    }

    /// The seasonal slot of the next row (0 without a season).
    #[inline]
    pub fn slot(&self, structure: &Structure) -> usize {
        if structure.seasonal == Component::None {
            0
        } else {
            self.row % structure.period
        }
    }

    /// The one-step-ahead forecast of the next row.
    #[inline]
    pub fn forecast(&self, structure: &Structure, smoothing: &Smoothing) -> f64 {
        self.forecast_at(self.slot(structure), structure, smoothing)
    }

    /// [`State::forecast`] with the next row's seasonal slot given (hot loops carry it
    /// instead of dividing by the period every row).
    #[inline]
    pub(crate) fn forecast_at(
        &self,
        slot: usize,
        structure: &Structure,
        smoothing: &Smoothing,
    ) -> f64 {
        let trended = self.trended(structure, self.damped_trend(structure, smoothing.phi));
        match structure.seasonal {
            Component::None => trended,
            Component::Add => trended + self.season[slot],
            Component::Mul => trended * self.season[slot],
        }
    }

    /// Takes in the next row's value (NaN: the state coasts on its forecast).
    #[inline]
    pub fn update(&mut self, y: f64, structure: &Structure, smoothing: &Smoothing) {
        self.update_at(self.slot(structure), y, structure, smoothing);
    }

    /// [`State::update`] with the row's seasonal slot given; returns the one-step forecast
    /// of this row made before the update (equal to [`State::forecast_at`]), so a hot loop
    /// computes the damped trend once per row.
    #[inline(always)]
    pub(crate) fn update_at(
        &mut self,
        slot: usize,
        y: f64,
        structure: &Structure,
        smoothing: &Smoothing,
    ) -> f64 {
        let Smoothing {
            alpha,
            beta,
            gamma,
            phi,
        } = *smoothing;
        let damped_trend = self.damped_trend(structure, phi);
        let trended = self.trended(structure, damped_trend);
        let forecast = match structure.seasonal {
            Component::None => trended,
            Component::Add => trended + self.season[slot],
            Component::Mul => trended * self.season[slot],
        };
        self.row += 1;
        if y.is_nan() {
            self.level = trended;
            if structure.trend != Component::None {
                self.trend = damped_trend;
            }
            return forecast;
        }
        let previous_level = self.level;
        self.level = match structure.seasonal {
            Component::None => alpha * y + (1.0 - alpha) * trended,
            Component::Add => alpha * y - alpha * self.season[slot] + (1.0 - alpha) * trended,
            Component::Mul => alpha * y / self.season[slot] + (1.0 - alpha) * trended,
        };
        match structure.trend {
            Component::None => {}
            Component::Add => {
                self.trend = beta * (self.level - previous_level) + (1.0 - beta) * damped_trend
            }
            Component::Mul => {
                self.trend = beta * (self.level / previous_level) + (1.0 - beta) * damped_trend
            }
        }
        match structure.seasonal {
            Component::None => {}
            Component::Add => {
                self.season[slot] = gamma * y - gamma * trended + (1.0 - gamma) * self.season[slot];
            }
            Component::Mul => {
                self.season[slot] = gamma * y / trended + (1.0 - gamma) * self.season[slot];
            }
        }
        forecast
    }
}

/// Sum of squared one-step errors over the finite values of `y`, starting from `initial`.
pub fn sse(y: &[f64], initial: &State, structure: &Structure, smoothing: &Smoothing) -> f64 {
    // One copy of the loop per (trend, season) pair, with the components as constants, so the
    // per-row branches on the structure compile away.
    let with = |trend, seasonal| Structure {
        trend,
        seasonal,
        ..*structure
    };
    use Component::{Add, Mul, None};
    match (structure.trend, structure.seasonal) {
        (None, None) => sse_for(y, initial, &with(None, None), smoothing),
        (None, Add) => sse_for(y, initial, &with(None, Add), smoothing),
        (None, Mul) => sse_for(y, initial, &with(None, Mul), smoothing),
        (Add, None) => sse_for(y, initial, &with(Add, None), smoothing),
        (Add, Add) => sse_for(y, initial, &with(Add, Add), smoothing),
        (Add, Mul) => sse_for(y, initial, &with(Add, Mul), smoothing),
        (Mul, None) => sse_for(y, initial, &with(Mul, None), smoothing),
        (Mul, Add) => sse_for(y, initial, &with(Mul, Add), smoothing),
        (Mul, Mul) => sse_for(y, initial, &with(Mul, Mul), smoothing),
    }
}

#[inline(always)]
fn sse_for(y: &[f64], initial: &State, structure: &Structure, smoothing: &Smoothing) -> f64 {
    let mut state = initial.clone();
    let mut total = 0.0;
    let period = structure.period.max(1);
    let mut slot = state.slot(structure);
    for &value in y {
        let forecast = state.update_at(slot, value, structure, smoothing);
        if value.is_finite() {
            let error = forecast - value;
            total += error * error;
        }
        slot += 1;
        if slot == period {
            slot = 0;
        }
    }
    total
}
