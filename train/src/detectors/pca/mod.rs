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
//! - `whiten` is accepted for parity with PyOD and changes nothing: PyOD's score reads
//!   `components_`, which whitening leaves alone.
//! - Causal over the causal feature rows: a row's score depends on the fitted state and that row.
//! - Cost: fit O(n·d² + d³), score O(k·d) per row; memory O(n·d) for the feature rows.

pub mod core;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::detectors::ecod::score_parallel;
use crate::error::{Result, TrainError};
use crate::features::{FeatureParams, FeatureValid, PointFamily, PointScorer, RowModel, Scaling};
use crate::space::{Dim, Space};

pub use self::core::{PcaFitError, PcaSettings, PcaState};

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
    features: FeatureValid,
    settings: PcaSettings,
}

/// A fitted PCA detector: features plus the components.
pub type PcaModel = RowModel<PcaState>;

impl PcaValid {
    /// Fits the features on `train`, then the components on the valid training rows.
    pub fn fit(&self, train: &Series) -> Result<PcaModel> {
        RowModel::fit(&self.features, self, train)
    }
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
        score_parallel(rows, |row, buffer| self.score_row(row, buffer))
    }
}
