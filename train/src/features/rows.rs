//! The wrapper every point family shares: features fitted on the training series, the family
//! fitted on the valid training feature rows, and scoring of a series into [`Scores`].

use ndarray::{ArrayView2, Axis, s};
use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use super::{FeatureModel, FeatureRows, FeatureValid};
use crate::error::{Result, TrainError};
use crate::scores::{Combine, Scores, finite};

/// Fewest valid training feature rows any point family fits on: below this, neither the
/// scaling nor a neighbourhood or an isolation depth describes the data.
pub const MIN_TRAIN_ROWS: usize = 10;

/// Checked parameters of a detector over feature rows (Isolation Forest, LOF, kNN, …).
pub trait PointFamily {
    /// The family's name in errors (`isolation_forest`).
    const NAME: &'static str;
    /// The fitted model.
    type Model: PointScorer;
    /// Fewest valid training rows this family fits on (at least [`MIN_TRAIN_ROWS`] apply).
    fn min_rows(&self) -> usize;
    /// Fits on finite training rows (rows × features).
    fn fit_rows(&self, rows: ArrayView2<'_, f64>) -> Result<Self::Model>;
}

/// A fitted detector over feature rows.
pub trait PointScorer {
    /// One score per row (finite rows in, higher = more anomalous). Each row's score depends
    /// on the model and that row only.
    fn score_rows(&self, rows: ArrayView2<'_, f64>) -> Vec<f64>;
}

/// A point family fitted on a series: the feature transform and the family's model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowModel<M> {
    /// Fitted features (layout and training scaling).
    pub features: FeatureModel,
    /// The family's fitted model, over scaled feature rows.
    pub model: M,
}

/// Calls `f` on the valid rows of `rows` (a view when they run contiguously to the end, the
/// usual case; a copy otherwise), with the row index of each.
fn with_valid_rows<R>(rows: &FeatureRows, f: impl FnOnce(ArrayView2<'_, f64>, &[usize]) -> R) -> R {
    let n = rows.valid.len();
    let first = rows.valid.iter().position(|v| *v).unwrap_or(n);
    if rows.valid[first..].iter().all(|v| *v) {
        let index: Vec<usize> = (first..n).collect();
        return f(rows.rows.slice(s![first.., ..]), &index);
    }
    let keep: Vec<usize> = (first..n).filter(|t| rows.valid[*t]).collect();
    let picked = rows.rows.select(Axis(0), &keep);
    f(picked.view(), &keep)
}

/// Runs `score` on the valid rows only, and scatters the scores back (invalid rows score 0).
fn scatter(rows: &FeatureRows, score: impl Fn(ArrayView2<'_, f64>) -> Vec<f64>) -> Vec<f64> {
    let mut out = vec![0.0; rows.valid.len()];
    with_valid_rows(rows, |view, index| {
        if !index.is_empty() {
            for (t, v) in index.iter().zip(score(view)) {
                out[*t] = finite(v);
            }
        }
    });
    out
}

impl<M: PointScorer> RowModel<M> {
    /// Fits `features` on `train`, then `family` on the valid training rows.
    pub fn fit<F: PointFamily<Model = M>>(
        features: &FeatureValid,
        family: &F,
        train: &Series,
    ) -> Result<Self> {
        let needed = family.min_rows().max(MIN_TRAIN_ROWS);
        let not_enough = |got| TrainError::NotEnoughData {
            family: F::NAME,
            channel: 0,
            needed: needed + features.warm_up(),
            got,
        };
        let (features, rows) = match features.fit_transform(train) {
            Ok(fitted) => fitted,
            Err(TrainError::NotEnoughData { .. }) => return Err(not_enough(0)),
            Err(other) => return Err(other),
        };
        let got = rows.valid_count();
        if got < needed {
            return Err(not_enough(got));
        }
        let model = with_valid_rows(&rows, |view, _| family.fit_rows(view))?;
        Ok(RowModel { features, model })
    }

    /// Scores every row of `series` (same channels as the training series): rows before the
    /// features' warm-up or with a missing input score 0.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        let rows = self.features.transform(series)?;
        let values = scatter(&rows, |view| self.model.score_rows(view));
        Ok(Scores {
            values,
            warm_up: rows.warm_up.min(series.len()),
            expected: None,
            band: None,
            combine: Combine::Max,
            per_channel: Vec::new(),
        })
    }

    /// Scores feature rows directly (already transformed by [`RowModel::features`]).
    pub fn score_features(&self, rows: &FeatureRows) -> Vec<f64> {
        scatter(rows, |view| self.model.score_rows(view))
    }
}
