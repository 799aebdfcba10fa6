//! PCA reconstruction error (Shyu et al., "A novel anomaly detection scheme based on principal
//! component classifier", 2003; PyOD's `PCA`), and subsequence PCA (the same on sliding windows
//! of a channel, `features.window = W`).
//!
//! - Fit: a StandardScaler (PyOD's `standardization`) and the principal components of the
//!   valid training rows, by our own symmetric eigen-decomposition of the covariance
//!   ([`crate::linalg::symmetric_eigen`], cyclic Jacobi; fine up to a few hundred features).
//! - Score of a row: PyOD's `Σ_j ‖x − v_j‖ / w_j` over the `n_selected_components` minor
//!   (last) components v_j, w_j their explained-variance ratio (`weighted`), x the standardised
//!   row. PyOD measures distances to the unit component vectors themselves, so the score
//!   depends on their sign: components follow scikit-learn's convention (largest |entry|
//!   positive) and the scores equal PyOD's.
//! - Missing values: runs of at most `max_fill` missing rows are filled with the last value
//!   before them (causal) before the windows are cut, so scattered gaps do not void every
//!   window of subsequence PCA; a row with a missing value itself still scores 0.
//! - `whiten` is accepted for parity with PyOD and changes nothing: PyOD's score reads
//!   `components_`, which whitening leaves alone.
//! - Causal over the causal feature rows: a row's score depends on the fitted state and that row.
//! - Cost: fit O(n·d² + d³), score O(k·d) per row; memory O(n·d) for the feature rows.

pub mod core;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::detectors::ecod::score_parallel;
use crate::detectors::matrix_profile::fill_short_gaps;
use crate::error::{Result, TrainError};
use crate::features::{FeatureParams, FeatureValid, PointFamily, PointScorer, RowModel, Scaling};
use crate::scores::Scores;
use crate::space::{Dim, Space};

pub use self::core::{PcaFitError, PcaSettings, PcaState, WEIGHT_FLOOR};

/// Default window of subsequence PCA.
pub const SUBSEQUENCE_WINDOW: usize = 32;

/// Unchecked parameters of PCA (and subsequence PCA).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PcaParams {
    /// The feature transform (default: raw rows unscaled, PCA standardises them itself).
    pub features: FeatureParams,
    /// Components kept (`None` = min(rows, features)).
    pub n_components: Option<usize>,
    /// Minor components the score uses, counted from the last kept one (`None` = all kept).
    pub n_selected_components: Option<usize>,
    /// Accepted for parity with PyOD; the score does not depend on it.
    pub whiten: bool,
    /// Divide each component's distance by its explained-variance ratio.
    pub weighted: bool,
    /// Standardise the features on the training rows first.
    pub standardization: bool,
    /// Longest run of missing rows filled with the last value before it (0 = never fill).
    pub max_fill: usize,
}

impl Default for PcaParams {
    fn default() -> Self {
        Self {
            features: FeatureParams::default().with_scaling(Scaling::None),
            n_components: None,
            n_selected_components: None,
            whiten: false,
            weighted: true,
            standardization: true,
            max_fill: 0,
        }
    }
}

impl PcaParams {
    /// Subsequence PCA's defaults: windows of [`SUBSEQUENCE_WINDOW`] rows, 8 components.
    pub fn subsequence() -> Self {
        Self {
            features: FeatureParams::default()
                .with_scaling(Scaling::None)
                .with_window(SUBSEQUENCE_WINDOW),
            n_components: Some(8),
            max_fill: 3,
            ..Self::default()
        }
    }
    /// Sets the feature transform.
    pub fn with_features(mut self, features: FeatureParams) -> Self {
        self.features = features;
        self
    }
    /// Sets the number of components kept.
    pub fn with_n_components(mut self, n: usize) -> Self {
        self.n_components = Some(n);
        self
    }
    /// Sets the number of minor components the score uses.
    pub fn with_n_selected_components(mut self, n: usize) -> Self {
        self.n_selected_components = Some(n);
        self
    }
    /// Sets standardisation.
    pub fn with_standardization(mut self, on: bool) -> Self {
        self.standardization = on;
        self
    }

    /// The search space: weighting and standardisation, plus the features' window and
    /// differencing.
    pub fn space() -> Space {
        let mut space = vec![Dim::flag("weighted"), Dim::flag("standardization")];
        space.extend(
            FeatureParams::space()
                .into_iter()
                .filter(|d| d.name != "features.scaling"),
        );
        space
    }

    /// Subsequence PCA's search space: the window and the components kept.
    pub fn subsequence_space() -> Space {
        vec![
            Dim::int("features.window", 4, 256, 4),
            Dim::int("n_components", 1, 16, 1),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<PcaValid> {
        let features = self.features.check()?;
        if self.n_components == Some(0) {
            return Err(TrainError::param(
                "pca.n_components",
                "0 components",
                "keep at least one component, or leave it out for all",
            ));
        }
        if let Some(selected) = self.n_selected_components {
            let kept = self.n_components.unwrap_or(usize::MAX);
            if selected == 0 || selected > kept {
                return Err(TrainError::param(
                    "pca.n_selected_components",
                    format!("{selected} is not within 1..=n_components"),
                    "select between 1 and n_components minor components, or leave it out",
                ));
            }
        }
        Ok(PcaValid {
            max_fill: self.max_fill,
            features,
            settings: PcaSettings {
                n_components: self.n_components,
                n_selected_components: self.n_selected_components,
                weighted: self.weighted,
                standardization: self.standardization,
            },
        })
    }
}

/// Checked parameters of PCA.
#[derive(Debug, Clone, PartialEq)]
pub struct PcaValid {
    max_fill: usize,
    features: FeatureValid,
    settings: PcaSettings,
}

/// A fitted PCA detector: features plus the components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaModel {
    /// Longest run of missing rows filled before the features.
    pub max_fill: usize,
    /// Features and components.
    pub rows: RowModel<PcaState>,
}

impl PcaValid {
    /// Fits the features on `train`, then the components on the valid training rows.
    pub fn fit(&self, train: &Series) -> Result<PcaModel> {
        let filled = fill_series(train, self.max_fill);
        Ok(PcaModel {
            max_fill: self.max_fill,
            rows: RowModel::fit(&self.features, self, &filled)?,
        })
    }
}

impl PcaModel {
    /// Scores every row of `series`; rows with a missing value score 0.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        let mut scores = self.rows.score(&fill_series(series, self.max_fill))?;
        if self.max_fill > 0 {
            for (row, value) in series.values.rows().into_iter().zip(&mut scores.values) {
                if row.iter().any(|v| !v.is_finite()) {
                    *value = 0.0;
                }
            }
        }
        Ok(scores)
    }
}

/// `series` with short gaps filled per channel (see the module doc); itself when `max_fill`
/// is 0.
fn fill_series(series: &Series, max_fill: usize) -> Series {
    let mut filled = series.clone();
    if max_fill > 0 {
        for mut column in filled.values.columns_mut() {
            let values = fill_short_gaps(&column.to_vec(), max_fill);
            column.iter_mut().zip(values).for_each(|(v, f)| *v = f);
        }
    }
    filled
}

impl PointFamily for PcaValid {
    const NAME: &'static str = "pca";
    type Model = PcaState;

    fn min_rows(&self) -> usize {
        self.settings.n_components.unwrap_or(1).max(2)
    }

    fn fit_rows(&self, rows: ArrayView2<'_, f64>) -> Result<PcaState> {
        PcaState::fit(rows, self.settings).map_err(|e| match e {
            PcaFitError::TooFewRows { needed, got } => TrainError::NotEnoughData {
                family: "pca",
                channel: 0,
                needed,
                got,
            },
            PcaFitError::TooManyComponents { asked, features } => TrainError::param(
                "pca.n_components",
                format!("{asked} components asked, the features have {features} columns"),
                "lower n_components, or widen the features (features.window, lags, rolling)",
            ),
            PcaFitError::TooManySelected { asked, kept } => TrainError::param(
                "pca.n_selected_components",
                format!("{asked} asked, {kept} components kept"),
                "select at most n_components minor components",
            ),
        })
    }
}

impl PointScorer for PcaState {
    fn score_rows(&self, rows: ArrayView2<'_, f64>) -> Vec<f64> {
        let inverse = self.prescale_reciprocals();
        score_parallel(rows, |row, buffer| {
            self.score_row_with(row, &inverse, buffer)
        })
    }
}
