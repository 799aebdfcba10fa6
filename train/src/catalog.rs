//! The catalog: every detector family listed once. Adding a family means one variant in each
//! enum below; the compiler then points at every match that needs it.

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::detectors::anomaly_likelihood::{AnomalyLikelihoodModel, AnomalyLikelihoodSpec};
use crate::detectors::arima::{ArimaModel, ArimaParams};
use crate::detectors::artime::{ArtimeModel, ArtimeParams};
use crate::detectors::cad_ose::{CadOseModel, CadOseParams};
use crate::detectors::cusum::{CusumModel, CusumParams};
use crate::detectors::damp::{DampModel, DampParams};
use crate::detectors::dbscan::{DbscanModel, DbscanParams};
use crate::detectors::discord::{DiscordModel, DiscordParams};
use crate::detectors::ecod::{EcodModel, EcodParams};
use crate::detectors::ewma::{EwmaModel, EwmaParams};
use crate::detectors::holt_winters::{HoltWintersModel, HoltWintersParams};
use crate::detectors::isolation_forest::{IsolationForestModel, IsolationForestParams};
use crate::detectors::knn::{KnnModel, KnnParams};
use crate::detectors::lof::{LofModel, LofParams};
use crate::detectors::lstm_ae::{LstmAutoencoderModel, LstmAutoencoderParams};
use crate::detectors::matrix_profile::{MatrixProfileModel, MatrixProfileParams};
use crate::detectors::mstl::{MstlModel, MstlParams};
use crate::detectors::ocsvm::{OcsvmModel, OcsvmParams};
use crate::detectors::pca::{PcaModel, PcaParams};
use crate::detectors::percentile::{RollingPercentileModel, RollingPercentileParams};
use crate::detectors::seasonal_baseline::{SeasonalBaselineModel, SeasonalBaselineParams};
use crate::detectors::seasonal_esd::{SeasonalEsdModel, SeasonalEsdParams};
use crate::detectors::seasonal_esd::{SeasonalEsdSlidingModel, SeasonalEsdSlidingParams};
use crate::detectors::zscore::{RollingZScoreModel, RollingZScoreParams};
use crate::error::{Result, TrainError};
use crate::scores::Scores;
use crate::space::Space;

/// Every detector family (the CLI's `--detector` values).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    /// Rolling z-score (mean/σ or median/MAD).
    RollingZscore,
    /// EWMA control chart.
    Ewma,
    /// Rolling percentile band.
    RollingPercentile,
    /// Holt-Winters / ETS one-step forecast errors.
    HoltWinters,
    /// ARIMA(p,d,q) one-step prediction errors, order by AIC.
    Arima,
    /// MSTL: several seasonal periods removed (detected when not given), causal robust residual.
    Mstl,
    /// Seasonal ESD (S-H-ESD), batch: STL + generalised ESD on the whole series.
    SeasonalEsd,
    /// Seasonal ESD, causal sliding form.
    SeasonalEsdSliding,
    /// Seasonal baseline: deviation from the median of the same phase in past (weekly) seasons.
    SeasonalBaseline,
    /// Anomaly likelihood transform over a wrapped detector's scores.
    AnomalyLikelihood,
    /// CUSUM change-point detector (level shifts, trend changes).
    Cusum,
    /// Matrix-profile discord (left matrix profile, z-normalised subsequence distance).
    MatrixProfile,
    /// Multi-window matrix-profile discord (self-join, windows from the detected period; batch).
    Discord,
    /// DAMP: the causal multi-window discord (left matrix profile with pruning).
    Damp,
    /// Contextual Anomaly Detector, Open Source Edition (NAB's `contextOSE`).
    CadOse,
    /// ARTime: dual-vigilance fuzzy ART over downsampled wavelet windows (NAB's `ARTime`).
    Artime,
    /// Isolation Forest over feature rows.
    IsolationForest,
    /// kNN distance to the training rows, over feature rows.
    Knn,
    /// Local Outlier Factor (novelty mode), over feature rows.
    Lof,
    /// ECOD (empirical-CDF outlier scores, no-leak novelty form), over feature rows.
    Ecod,
    /// PCA reconstruction error (PyOD's score), over feature rows.
    Pca,
    /// PCA reconstruction error over sliding windows of the channels (subsequence PCA).
    SubsequencePca,
    /// One-class SVM (RBF kernel), over feature rows.
    Ocsvm,
    /// DBSCAN novelty score (distance to the nearest core point over eps), over feature rows.
    Dbscan,
    /// LSTM autoencoder: reconstruction error of sliding windows over all channels.
    LstmAutoencoder,
}

impl DetectorKind {
    /// All kinds, in catalog order.
    pub const ALL: &'static [DetectorKind] = &[
        DetectorKind::RollingZscore,
        DetectorKind::Ewma,
        DetectorKind::RollingPercentile,
        DetectorKind::HoltWinters,
        DetectorKind::Arima,
        DetectorKind::Mstl,
        DetectorKind::SeasonalEsd,
        DetectorKind::SeasonalEsdSliding,
        DetectorKind::SeasonalBaseline,
        DetectorKind::AnomalyLikelihood,
        DetectorKind::Cusum,
        DetectorKind::MatrixProfile,
        DetectorKind::Discord,
        DetectorKind::Damp,
        DetectorKind::CadOse,
        DetectorKind::Artime,
        DetectorKind::IsolationForest,
        DetectorKind::Knn,
        DetectorKind::Lof,
        DetectorKind::Ecod,
        DetectorKind::Pca,
        DetectorKind::SubsequencePca,
        DetectorKind::Ocsvm,
        DetectorKind::Dbscan,
        DetectorKind::LstmAutoencoder,
    ];

    /// The serde / CLI name.
    pub fn name(self) -> &'static str {
        match self {
            DetectorKind::RollingZscore => "rolling_zscore",
            DetectorKind::Ewma => "ewma",
            DetectorKind::RollingPercentile => "rolling_percentile",
            DetectorKind::HoltWinters => "holt_winters",
            DetectorKind::Arima => "arima",
            DetectorKind::SeasonalEsd => "seasonal_esd",
            DetectorKind::SeasonalEsdSliding => "seasonal_esd_sliding",
            DetectorKind::SeasonalBaseline => "seasonal_baseline",
            DetectorKind::AnomalyLikelihood => "anomaly_likelihood",
            DetectorKind::Cusum => "cusum",
            DetectorKind::MatrixProfile => "matrix_profile",
            DetectorKind::Discord => "discord",
            DetectorKind::Damp => "damp",
            DetectorKind::Mstl => "mstl",
            DetectorKind::CadOse => "cad_ose",
            DetectorKind::Artime => "artime",
            DetectorKind::IsolationForest => "isolation_forest",
            DetectorKind::Knn => "knn",
            DetectorKind::Lof => "lof",
            DetectorKind::Ecod => "ecod",
            DetectorKind::Pca => "pca",
            DetectorKind::SubsequencePca => "subsequence_pca",
            DetectorKind::Ocsvm => "ocsvm",
            DetectorKind::Dbscan => "dbscan",
            DetectorKind::LstmAutoencoder => "lstm_autoencoder",
        }
    }

    /// One line on what the family scores (`vigil families`).
    pub fn description(self) -> &'static str {
        match self {
            DetectorKind::RollingZscore => {
                "distance from a rolling mean/σ or median/MAD over the last `window` rows"
            }
            DetectorKind::Ewma => {
                "EWMA control chart: deviation from an exponentially weighted mean"
            }
            DetectorKind::RollingPercentile => {
                "how far a value leaves the rolling percentile band of the last `window` rows"
            }
            DetectorKind::HoltWinters => {
                "Holt-Winters / ETS one-step forecast error over its fitted error scale"
            }
            DetectorKind::Arima => "ARIMA(p,d,q) one-step prediction error, order chosen by AIC",
            DetectorKind::SeasonalEsd => {
                "S-H-ESD: STL decomposition, then the generalised ESD test on the residual (batch)"
            }
            DetectorKind::SeasonalEsdSliding => {
                "S-H-ESD over a sliding window of past rows (causal form)"
            }
            DetectorKind::SeasonalBaseline => {
                "deviation from the median of the same phase in past (weekly) seasons, in noise σ"
            }
            DetectorKind::AnomalyLikelihood => {
                "Numenta's anomaly likelihood over a wrapped detector's scores (and its `others`)"
            }
            DetectorKind::Cusum => "CUSUM change points: level shifts and trend changes",
            DetectorKind::MatrixProfile => {
                "matrix-profile discord: distance of each subsequence to its nearest past match"
            }
            DetectorKind::Discord => {
                "discord over several windows from the detected period: distance of each \
                 subsequence to its nearest match anywhere in the series (batch)"
            }
            DetectorKind::Mstl => {
                "MSTL: a day and a week (detected by periodogram when not given) removed, the \
                 residual from a causal level scored by median / MAD"
            }
            DetectorKind::Damp => {
                "DAMP: causal discord over several windows from the detected period, each \
                 subsequence against the past only, with DAMP's pruning"
            }
            DetectorKind::CadOse => {
                "Contextual Anomaly Detector, open-source edition (NAB's contextOSE)"
            }
            DetectorKind::Artime => {
                "ARTime: dual-vigilance fuzzy ART over downsampled windows (NAB's ARTime)"
            }
            DetectorKind::IsolationForest => "Isolation Forest path lengths over feature rows",
            DetectorKind::Knn => "distance to the k nearest training feature rows",
            DetectorKind::Lof => "Local Outlier Factor of feature rows against the training rows",
            DetectorKind::Ecod => "ECOD: empirical-CDF tail probabilities of feature rows",
            DetectorKind::Pca => "PCA reconstruction error of feature rows (PyOD's score)",
            DetectorKind::SubsequencePca => {
                "PCA reconstruction error of sliding windows over the channels"
            }
            DetectorKind::Ocsvm => "one-class SVM (RBF kernel) decision value of feature rows",
            DetectorKind::Dbscan => {
                "distance to the nearest DBSCAN core point of the training rows, over eps"
            }
            DetectorKind::LstmAutoencoder => {
                "LSTM autoencoder reconstruction error of sliding windows over all channels"
            }
        }
    }

    /// The spec with default parameters.
    pub fn default_spec(self) -> DetectorSpec {
        match self {
            DetectorKind::RollingZscore => {
                DetectorSpec::RollingZscore(RollingZScoreParams::default())
            }
            DetectorKind::Ewma => DetectorSpec::Ewma(EwmaParams::default()),
            DetectorKind::RollingPercentile => {
                DetectorSpec::RollingPercentile(RollingPercentileParams::default())
            }
            DetectorKind::HoltWinters => DetectorSpec::HoltWinters(HoltWintersParams::default()),
            DetectorKind::Arima => DetectorSpec::Arima(ArimaParams::default()),
            DetectorKind::SeasonalEsd => DetectorSpec::SeasonalEsd(SeasonalEsdParams::default()),
            DetectorKind::SeasonalEsdSliding => {
                DetectorSpec::SeasonalEsdSliding(SeasonalEsdSlidingParams::default())
            }
            DetectorKind::SeasonalBaseline => {
                DetectorSpec::SeasonalBaseline(SeasonalBaselineParams::default())
            }
            DetectorKind::AnomalyLikelihood => {
                DetectorSpec::AnomalyLikelihood(AnomalyLikelihoodSpec::default())
            }
            DetectorKind::Cusum => DetectorSpec::Cusum(CusumParams::default()),
            DetectorKind::MatrixProfile => {
                DetectorSpec::MatrixProfile(MatrixProfileParams::default())
            }
            DetectorKind::Discord => DetectorSpec::Discord(DiscordParams::default()),
            DetectorKind::Damp => DetectorSpec::Damp(DampParams::default()),
            DetectorKind::Mstl => DetectorSpec::Mstl(MstlParams::default()),
            DetectorKind::CadOse => DetectorSpec::CadOse(CadOseParams::default()),
            DetectorKind::Artime => DetectorSpec::Artime(ArtimeParams::default()),
            DetectorKind::IsolationForest => {
                DetectorSpec::IsolationForest(IsolationForestParams::default())
            }
            DetectorKind::Knn => DetectorSpec::Knn(KnnParams::default()),
            DetectorKind::Lof => DetectorSpec::Lof(LofParams::default()),
            DetectorKind::Ecod => DetectorSpec::Ecod(EcodParams::default()),
            DetectorKind::Pca => DetectorSpec::Pca(PcaParams::default()),
            DetectorKind::SubsequencePca => DetectorSpec::SubsequencePca(PcaParams::subsequence()),
            DetectorKind::Ocsvm => DetectorSpec::Ocsvm(OcsvmParams::default()),
            DetectorKind::Dbscan => DetectorSpec::Dbscan(DbscanParams::default()),
            DetectorKind::LstmAutoencoder => {
                DetectorSpec::LstmAutoencoder(LstmAutoencoderParams::default())
            }
        }
    }

    /// True when the score at row t uses rows ≤ t only (usable under NAB's protocol and by a
    /// runtime service); false for batch-only families.
    pub fn causal(self) -> bool {
        match self {
            DetectorKind::RollingZscore
            | DetectorKind::Ewma
            | DetectorKind::RollingPercentile
            | DetectorKind::HoltWinters => true,
            DetectorKind::Arima => true,
            DetectorKind::SeasonalEsd => false,
            DetectorKind::SeasonalEsdSliding => true,
            DetectorKind::SeasonalBaseline => true,
            DetectorKind::AnomalyLikelihood => true,
            DetectorKind::Cusum => true,
            DetectorKind::MatrixProfile => true,
            DetectorKind::Discord => false,
            DetectorKind::Damp => true,
            DetectorKind::Mstl => true,
            DetectorKind::CadOse => true,
            DetectorKind::Artime => true,
            DetectorKind::IsolationForest | DetectorKind::Knn | DetectorKind::Lof => true,
            DetectorKind::Ecod
            | DetectorKind::Pca
            | DetectorKind::SubsequencePca
            | DetectorKind::Ocsvm
            | DetectorKind::Dbscan => true,
            DetectorKind::LstmAutoencoder => true,
        }
    }

    /// True for point detectors over feature rows ([`crate::features`]): they score each row
    /// from all channels at once, so there are no per-channel scores and no `combine`.
    pub fn is_point(self) -> bool {
        matches!(
            self,
            DetectorKind::IsolationForest
                | DetectorKind::Knn
                | DetectorKind::Lof
                | DetectorKind::Ecod
                | DetectorKind::Pca
                | DetectorKind::SubsequencePca
                | DetectorKind::Ocsvm
                | DetectorKind::Dbscan
        )
    }

    /// True for transforms that wrap another detector (their score is not a per-channel
    /// combination of their own channel scores).
    pub fn is_transform(self) -> bool {
        matches!(self, DetectorKind::AnomalyLikelihood)
    }

    /// True for event detectors whose score is 0 except at the rows they flag (ARTime): on
    /// in-control data they stay at 0, so "how many rows score above 0" says nothing about
    /// their state; ask instead whether they flag a clear anomaly.
    pub fn sparse(self) -> bool {
        matches!(self, DetectorKind::Artime)
    }

    /// True for families that model all channels jointly: their per-channel scores are each
    /// channel's share of one multichannel model, not a univariate fit of that channel alone.
    pub fn joint_channels(self) -> bool {
        matches!(self, DetectorKind::LstmAutoencoder)
    }

    /// The family's search space (for a transform, around its default wrapped detector).
    pub fn space(self) -> Space {
        match self {
            DetectorKind::RollingZscore => RollingZScoreParams::space(),
            DetectorKind::Ewma => EwmaParams::space(),
            DetectorKind::RollingPercentile => RollingPercentileParams::space(),
            DetectorKind::HoltWinters => HoltWintersParams::space(),
            DetectorKind::Arima => ArimaParams::space(),
            DetectorKind::SeasonalEsd => SeasonalEsdParams::space(),
            DetectorKind::SeasonalEsdSliding => SeasonalEsdSlidingParams::space(),
            DetectorKind::SeasonalBaseline => SeasonalBaselineParams::space(),
            DetectorKind::AnomalyLikelihood => AnomalyLikelihoodSpec::default().space(),
            DetectorKind::Cusum => CusumParams::space(),
            DetectorKind::MatrixProfile => MatrixProfileParams::space(),
            DetectorKind::Discord => DiscordParams::space(),
            DetectorKind::Damp => DampParams::space(),
            DetectorKind::Mstl => MstlParams::space(),
            DetectorKind::CadOse => CadOseParams::space(),
            DetectorKind::Artime => ArtimeParams::space(),
            DetectorKind::IsolationForest => IsolationForestParams::space(),
            DetectorKind::Knn => KnnParams::space(),
            DetectorKind::Lof => LofParams::space(),
            DetectorKind::Ecod => EcodParams::space(),
            DetectorKind::Pca => PcaParams::space(),
            DetectorKind::SubsequencePca => PcaParams::subsequence_space(),
            DetectorKind::Ocsvm => OcsvmParams::space(),
            DetectorKind::Dbscan => DbscanParams::space(),
            DetectorKind::LstmAutoencoder => LstmAutoencoderParams::space(),
        }
    }
}

impl std::fmt::Display for DetectorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A detector and its parameters, as written in an experiment spec:
/// `{"kind": "ewma", "alpha": 0.1}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DetectorSpec {
    /// See [`crate::detectors::zscore`].
    RollingZscore(RollingZScoreParams),
    /// See [`crate::detectors::ewma`].
    Ewma(EwmaParams),
    /// See [`crate::detectors::percentile`].
    RollingPercentile(RollingPercentileParams),
    /// See [`crate::detectors::holt_winters`].
    HoltWinters(HoltWintersParams),
    /// See [`crate::detectors::arima`].
    Arima(ArimaParams),
    /// See [`crate::detectors::seasonal_esd`].
    SeasonalEsd(SeasonalEsdParams),
    /// See [`crate::detectors::seasonal_esd`].
    SeasonalEsdSliding(SeasonalEsdSlidingParams),
    /// See [`crate::detectors::seasonal_baseline`].
    SeasonalBaseline(SeasonalBaselineParams),
    /// See [`crate::detectors::anomaly_likelihood`].
    AnomalyLikelihood(AnomalyLikelihoodSpec),
    /// See [`crate::detectors::cusum`].
    Cusum(CusumParams),
    /// See [`crate::detectors::matrix_profile`].
    MatrixProfile(MatrixProfileParams),
    /// See [`crate::detectors::discord`].
    Discord(DiscordParams),
    /// See [`crate::detectors::damp`].
    Damp(DampParams),
    /// See [`crate::detectors::mstl`].
    Mstl(MstlParams),
    /// See [`crate::detectors::cad_ose`].
    CadOse(CadOseParams),
    /// See [`crate::detectors::artime`].
    Artime(ArtimeParams),
    /// See [`crate::detectors::isolation_forest`].
    IsolationForest(IsolationForestParams),
    /// See [`crate::detectors::knn`].
    Knn(KnnParams),
    /// See [`crate::detectors::lof`].
    Lof(LofParams),
    /// See [`crate::detectors::ecod`].
    Ecod(EcodParams),
    /// See [`crate::detectors::pca`].
    Pca(PcaParams),
    /// See [`crate::detectors::pca`] (window features by default).
    SubsequencePca(PcaParams),
    /// See [`crate::detectors::ocsvm`].
    Ocsvm(OcsvmParams),
    /// See [`crate::detectors::dbscan`].
    Dbscan(DbscanParams),
    /// See [`crate::detectors::lstm_ae`].
    LstmAutoencoder(LstmAutoencoderParams),
}

impl DetectorSpec {
    /// Which family this is.
    pub fn kind(&self) -> DetectorKind {
        match self {
            DetectorSpec::RollingZscore(_) => DetectorKind::RollingZscore,
            DetectorSpec::Ewma(_) => DetectorKind::Ewma,
            DetectorSpec::RollingPercentile(_) => DetectorKind::RollingPercentile,
            DetectorSpec::HoltWinters(_) => DetectorKind::HoltWinters,
            DetectorSpec::Arima(_) => DetectorKind::Arima,
            DetectorSpec::SeasonalEsd(_) => DetectorKind::SeasonalEsd,
            DetectorSpec::SeasonalEsdSliding(_) => DetectorKind::SeasonalEsdSliding,
            DetectorSpec::SeasonalBaseline(_) => DetectorKind::SeasonalBaseline,
            DetectorSpec::AnomalyLikelihood(_) => DetectorKind::AnomalyLikelihood,
            DetectorSpec::Cusum(_) => DetectorKind::Cusum,
            DetectorSpec::MatrixProfile(_) => DetectorKind::MatrixProfile,
            DetectorSpec::Discord(_) => DetectorKind::Discord,
            DetectorSpec::Damp(_) => DetectorKind::Damp,
            DetectorSpec::Mstl(_) => DetectorKind::Mstl,
            DetectorSpec::CadOse(_) => DetectorKind::CadOse,
            DetectorSpec::Artime(_) => DetectorKind::Artime,
            DetectorSpec::IsolationForest(_) => DetectorKind::IsolationForest,
            DetectorSpec::Knn(_) => DetectorKind::Knn,
            DetectorSpec::Lof(_) => DetectorKind::Lof,
            DetectorSpec::Ecod(_) => DetectorKind::Ecod,
            DetectorSpec::Pca(_) => DetectorKind::Pca,
            DetectorSpec::SubsequencePca(_) => DetectorKind::SubsequencePca,
            DetectorSpec::Ocsvm(_) => DetectorKind::Ocsvm,
            DetectorSpec::Dbscan(_) => DetectorKind::Dbscan,
            DetectorSpec::LstmAutoencoder(_) => DetectorKind::LstmAutoencoder,
        }
    }

    /// The search space of this spec (a transform's includes its wrapped detector's, under
    /// `detector.`).
    pub fn space(&self) -> Space {
        match self {
            DetectorSpec::AnomalyLikelihood(spec) => spec.space(),
            other => other.kind().space(),
        }
    }

    /// Checks the parameters without fitting.
    pub fn check(&self) -> Result<()> {
        match self {
            DetectorSpec::RollingZscore(p) => p.check().map(drop),
            DetectorSpec::Ewma(p) => p.check().map(drop),
            DetectorSpec::RollingPercentile(p) => p.check().map(drop),
            DetectorSpec::HoltWinters(p) => p.check().map(drop),
            DetectorSpec::Arima(p) => p.check().map(drop),
            DetectorSpec::SeasonalEsd(p) => p.check().map(drop),
            DetectorSpec::SeasonalEsdSliding(p) => p.check().map(drop),
            DetectorSpec::SeasonalBaseline(p) => p.check().map(drop),
            DetectorSpec::AnomalyLikelihood(p) => p.check().map(drop),
            DetectorSpec::Cusum(p) => p.check().map(drop),
            DetectorSpec::MatrixProfile(p) => p.check().map(drop),
            DetectorSpec::Discord(p) => p.check().map(drop),
            DetectorSpec::Damp(p) => p.check().map(drop),
            DetectorSpec::Mstl(p) => p.check().map(drop),
            DetectorSpec::CadOse(p) => p.check().map(drop),
            DetectorSpec::Artime(p) => p.check().map(drop),
            DetectorSpec::IsolationForest(p) => p.check().map(drop),
            DetectorSpec::Knn(p) => p.check().map(drop),
            DetectorSpec::Lof(p) => p.check().map(drop),
            DetectorSpec::Ecod(p) => p.check().map(drop),
            DetectorSpec::Pca(p) | DetectorSpec::SubsequencePca(p) => p.check().map(drop),
            DetectorSpec::Ocsvm(p) => p.check().map(drop),
            DetectorSpec::Dbscan(p) => p.check().map(drop),
            DetectorSpec::LstmAutoencoder(p) => p.check().map(drop),
        }
    }

    /// Checks the parameters and fits on `train` (for NAB: the probationary prefix).
    pub fn fit(&self, train: &Series) -> Result<FittedModel> {
        Ok(match self {
            DetectorSpec::RollingZscore(p) => FittedModel::RollingZscore(p.check()?.fit(train)?),
            DetectorSpec::Ewma(p) => FittedModel::Ewma(p.check()?.fit(train)?),
            DetectorSpec::RollingPercentile(p) => {
                FittedModel::RollingPercentile(p.check()?.fit(train)?)
            }
            DetectorSpec::HoltWinters(p) => FittedModel::HoltWinters(p.check()?.fit(train)?),
            DetectorSpec::Arima(p) => FittedModel::Arima(p.check()?.fit(train)?),
            DetectorSpec::SeasonalEsd(p) => FittedModel::SeasonalEsd(p.check()?.fit(train)?),
            DetectorSpec::SeasonalEsdSliding(p) => {
                FittedModel::SeasonalEsdSliding(p.check()?.fit(train)?)
            }
            DetectorSpec::SeasonalBaseline(p) => {
                FittedModel::SeasonalBaseline(p.check()?.fit(train)?)
            }
            DetectorSpec::AnomalyLikelihood(p) => {
                FittedModel::AnomalyLikelihood(p.check()?.fit(train)?)
            }
            DetectorSpec::Cusum(p) => FittedModel::Cusum(p.check()?.fit(train)?),
            DetectorSpec::MatrixProfile(p) => FittedModel::MatrixProfile(p.check()?.fit(train)?),
            DetectorSpec::Discord(p) => FittedModel::Discord(p.check()?.fit(train)?),
            DetectorSpec::Damp(p) => FittedModel::Damp(p.check()?.fit(train)?),
            DetectorSpec::Mstl(p) => FittedModel::Mstl(p.check()?.fit(train)?),
            DetectorSpec::CadOse(p) => FittedModel::CadOse(p.check()?.fit(train)?),
            DetectorSpec::Artime(p) => FittedModel::Artime(p.check()?.fit(train)?),
            DetectorSpec::IsolationForest(p) => {
                FittedModel::IsolationForest(p.check()?.fit(train)?)
            }
            DetectorSpec::Knn(p) => FittedModel::Knn(p.check()?.fit(train)?),
            DetectorSpec::Lof(p) => FittedModel::Lof(p.check()?.fit(train)?),
            DetectorSpec::Ecod(p) => FittedModel::Ecod(p.check()?.fit(train)?),
            DetectorSpec::Pca(p) => FittedModel::Pca(p.check()?.fit(train)?),
            DetectorSpec::SubsequencePca(p) => FittedModel::SubsequencePca(p.check()?.fit(train)?),
            DetectorSpec::Ocsvm(p) => FittedModel::Ocsvm(p.check()?.fit(train)?),
            DetectorSpec::Dbscan(p) => FittedModel::Dbscan(p.check()?.fit(train)?),
            DetectorSpec::LstmAutoencoder(p) => {
                FittedModel::LstmAutoencoder(p.check()?.fit(train)?)
            }
        })
    }

    /// This spec with some parameters replaced (names and values as in [`DetectorSpec::space`];
    /// dotted paths reach into nested specs), checked. Values go through serde, so any field
    /// of the params can be set this way.
    pub fn with_values(&self, values: &[(String, serde_json::Value)]) -> Result<DetectorSpec> {
        let kind = self.kind().name().to_string();
        let mut json = serde_json::to_value(self).map_err(|e| TrainError::BadAssignment {
            kind: kind.clone(),
            param: String::new(),
            value: String::new(),
            reason: e.to_string(),
        })?;
        for (name, value) in values {
            let bad = |reason: String| TrainError::BadAssignment {
                kind: kind.clone(),
                param: name.clone(),
                value: value.to_string(),
                reason,
            };
            let mut target = &mut json;
            let mut parts = name.split('.').peekable();
            while let Some(part) = parts.next() {
                let object = target
                    .as_object_mut()
                    .ok_or_else(|| bad("the path does not lead to an object".into()))?;
                if part == "kind" || !object.contains_key(part) {
                    return Err(bad("no such parameter".into()));
                }
                if parts.peek().is_none() {
                    object.insert(part.to_string(), value.clone());
                    break;
                }
                target = object
                    .get_mut(part)
                    .ok_or_else(|| bad("no such parameter".into()))?;
            }
            let spec: DetectorSpec =
                serde_json::from_value(json.clone()).map_err(|e| bad(e.to_string()))?;
            json = serde_json::to_value(&spec).map_err(|e| bad(e.to_string()))?;
        }
        let spec: DetectorSpec =
            serde_json::from_value(json).map_err(|e| TrainError::BadAssignment {
                kind,
                param: String::new(),
                value: String::new(),
                reason: e.to_string(),
            })?;
        spec.check()?;
        Ok(spec)
    }
}

/// A fitted detector of any family; serde-tagged like [`DetectorSpec`], so it can be saved and
/// loaded apart from the code that fitted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FittedModel {
    /// See [`crate::detectors::zscore`].
    RollingZscore(RollingZScoreModel),
    /// See [`crate::detectors::ewma`].
    Ewma(EwmaModel),
    /// See [`crate::detectors::percentile`].
    RollingPercentile(RollingPercentileModel),
    /// See [`crate::detectors::holt_winters`].
    HoltWinters(HoltWintersModel),
    /// See [`crate::detectors::arima`].
    Arima(ArimaModel),
    /// See [`crate::detectors::seasonal_esd`].
    SeasonalEsd(SeasonalEsdModel),
    /// See [`crate::detectors::seasonal_esd`].
    SeasonalEsdSliding(SeasonalEsdSlidingModel),
    /// See [`crate::detectors::seasonal_baseline`].
    SeasonalBaseline(SeasonalBaselineModel),
    /// See [`crate::detectors::anomaly_likelihood`].
    AnomalyLikelihood(AnomalyLikelihoodModel),
    /// See [`crate::detectors::cusum`].
    Cusum(CusumModel),
    /// See [`crate::detectors::matrix_profile`].
    MatrixProfile(MatrixProfileModel),
    /// See [`crate::detectors::discord`].
    Discord(DiscordModel),
    /// See [`crate::detectors::damp`].
    Damp(DampModel),
    /// See [`crate::detectors::mstl`].
    Mstl(MstlModel),
    /// See [`crate::detectors::cad_ose`].
    CadOse(CadOseModel),
    /// See [`crate::detectors::artime`].
    Artime(ArtimeModel),
    /// See [`crate::detectors::isolation_forest`].
    IsolationForest(IsolationForestModel),
    /// See [`crate::detectors::knn`].
    Knn(KnnModel),
    /// See [`crate::detectors::lof`].
    Lof(LofModel),
    /// See [`crate::detectors::ecod`].
    Ecod(EcodModel),
    /// See [`crate::detectors::pca`].
    Pca(PcaModel),
    /// See [`crate::detectors::pca`].
    SubsequencePca(PcaModel),
    /// See [`crate::detectors::ocsvm`].
    Ocsvm(OcsvmModel),
    /// See [`crate::detectors::dbscan`].
    Dbscan(DbscanModel),
    /// See [`crate::detectors::lstm_ae`].
    LstmAutoencoder(LstmAutoencoderModel),
}

impl FittedModel {
    /// Which family this is.
    pub fn kind(&self) -> DetectorKind {
        match self {
            FittedModel::RollingZscore(_) => DetectorKind::RollingZscore,
            FittedModel::Ewma(_) => DetectorKind::Ewma,
            FittedModel::RollingPercentile(_) => DetectorKind::RollingPercentile,
            FittedModel::HoltWinters(_) => DetectorKind::HoltWinters,
            FittedModel::Arima(_) => DetectorKind::Arima,
            FittedModel::SeasonalEsd(_) => DetectorKind::SeasonalEsd,
            FittedModel::SeasonalEsdSliding(_) => DetectorKind::SeasonalEsdSliding,
            FittedModel::SeasonalBaseline(_) => DetectorKind::SeasonalBaseline,
            FittedModel::AnomalyLikelihood(_) => DetectorKind::AnomalyLikelihood,
            FittedModel::Cusum(_) => DetectorKind::Cusum,
            FittedModel::MatrixProfile(_) => DetectorKind::MatrixProfile,
            FittedModel::Discord(_) => DetectorKind::Discord,
            FittedModel::Damp(_) => DetectorKind::Damp,
            FittedModel::Mstl(_) => DetectorKind::Mstl,
            FittedModel::CadOse(_) => DetectorKind::CadOse,
            FittedModel::Artime(_) => DetectorKind::Artime,
            FittedModel::IsolationForest(_) => DetectorKind::IsolationForest,
            FittedModel::Knn(_) => DetectorKind::Knn,
            FittedModel::Lof(_) => DetectorKind::Lof,
            FittedModel::Ecod(_) => DetectorKind::Ecod,
            FittedModel::Pca(_) => DetectorKind::Pca,
            FittedModel::SubsequencePca(_) => DetectorKind::SubsequencePca,
            FittedModel::Ocsvm(_) => DetectorKind::Ocsvm,
            FittedModel::Dbscan(_) => DetectorKind::Dbscan,
            FittedModel::LstmAutoencoder(_) => DetectorKind::LstmAutoencoder,
        }
    }

    /// Scores every row of `series` (for causal families, from the series' first row on, so
    /// pass the series that starts where the training data started, e.g. the whole NAB file).
    pub fn score(&self, series: &Series) -> Result<Scores> {
        match self {
            FittedModel::RollingZscore(m) => m.score(series),
            FittedModel::Ewma(m) => m.score(series),
            FittedModel::RollingPercentile(m) => m.score(series),
            FittedModel::HoltWinters(m) => m.score(series),
            FittedModel::Arima(m) => m.score(series),
            FittedModel::SeasonalEsd(m) => m.score(series),
            FittedModel::SeasonalEsdSliding(m) => m.score(series),
            FittedModel::SeasonalBaseline(m) => m.score(series),
            FittedModel::AnomalyLikelihood(m) => m.score(series),
            FittedModel::Cusum(m) => m.score(series),
            FittedModel::MatrixProfile(m) => m.score(series),
            FittedModel::Discord(m) => m.score(series),
            FittedModel::Damp(m) => m.score(series),
            FittedModel::Mstl(m) => m.score(series),
            FittedModel::CadOse(m) => m.score(series),
            FittedModel::Artime(m) => m.score(series),
            FittedModel::IsolationForest(m) => m.score(series),
            FittedModel::Knn(m) => m.score(series),
            FittedModel::Lof(m) => m.score(series),
            FittedModel::Ecod(m) => m.score(series),
            FittedModel::Pca(m) | FittedModel::SubsequencePca(m) => m.score(series),
            FittedModel::Ocsvm(m) => m.score(series),
            FittedModel::Dbscan(m) => m.score(series),
            FittedModel::LstmAutoencoder(m) => m.score(series),
        }
    }

    /// How the fit departed from the parameters, one note per channel where it did (e.g.
    /// Holt-Winters dropping a season it found no period for); empty for most families. The
    /// notes name no series, so that a runner can count them across series.
    pub fn fit_notes(&self) -> Vec<String> {
        match self {
            FittedModel::HoltWinters(m) => m
                .channels
                .iter()
                .enumerate()
                .filter_map(|(c, fit)| {
                    let f = fit.state.fallback.as_ref()?;
                    let channel = if m.channels.len() > 1 {
                        format!("channel {c}: ")
                    } else {
                        String::new()
                    };
                    Some(format!(
                        "{channel}holt_winters fitted {} instead of {} ({})",
                        f.fitted,
                        f.requested,
                        f.reasons.join("; ")
                    ))
                })
                .collect(),
            FittedModel::AnomalyLikelihood(m) => std::iter::once(&*m.detector)
                .chain(&m.others)
                .flat_map(FittedModel::fit_notes)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The seasonal periods (rows) the model uses, per channel, for the families that take a
    /// period: given, or detected on the training rows when none was given. Empty for a
    /// channel without a season; `None` for families without a period.
    pub fn periods(&self) -> Option<Vec<Vec<usize>>> {
        fn nonzero(p: usize) -> Vec<usize> {
            if p > 1 { vec![p] } else { Vec::new() }
        }
        let per_channel = match self {
            FittedModel::HoltWinters(m) => m
                .channels
                .iter()
                .map(|c| nonzero(c.state.structure.period))
                .collect(),
            FittedModel::SeasonalEsd(m) => {
                m.channels.iter().map(|c| nonzero(c.state.period)).collect()
            }
            FittedModel::SeasonalEsdSliding(m) => {
                m.channels.iter().map(|c| nonzero(c.state.period)).collect()
            }
            FittedModel::SeasonalBaseline(m) => m
                .channels
                .iter()
                .map(|c| {
                    let mut p = nonzero(c.state.period);
                    if c.state.long_period > c.state.period {
                        p.push(c.state.long_period);
                    }
                    p
                })
                .collect(),
            FittedModel::Discord(m) => m.channels.iter().map(|c| nonzero(c.state.period)).collect(),
            FittedModel::Damp(m) => m.channels.iter().map(|c| nonzero(c.state.period)).collect(),
            FittedModel::Mstl(m) => m.channels.iter().map(|c| c.state.periods.clone()).collect(),
            FittedModel::AnomalyLikelihood(m) => return m.detector.periods(),
            _ => return None,
        };
        Some(per_channel)
    }
}
