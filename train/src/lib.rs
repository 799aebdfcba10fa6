//! Detectors for metric time series.
//!
//! Every family follows one contract: unchecked `XParams` (serde, defaults, `with_*` setters)
//! → `check()` → `XValid` (cannot be wrong) → `fit(&Series)` → `XModel` (serde) →
//! `score(&Series)` → [`Scores`]: one finite raw score per row, higher = more anomalous, a
//! stated warm-up, and for window and forecasting families the expected value and band. No
//! threshold lives here: `eval` decides.
//!
//! [`catalog`] lists every family once (kind enum, tagged spec, fitted-model enum, dispatch,
//! search space, causal flag). Univariate families run per channel and combine channel scores
//! by [`Combine`]. Causal families obey the prefix rule `score(x[..k]) == score(x)[..k]` and
//! keep adapting online as each row arrives, with the memory stated in each family's doc.

pub mod catalog;
mod channels;
pub mod detectors;
pub mod error;
pub mod features;
pub mod linalg;
pub mod neighbors;
mod optim;
mod rolling;
pub mod scores;
pub mod season;
pub mod space;
pub mod stats;

pub use catalog::{DetectorKind, DetectorSpec, FittedModel};
pub use channels::ChannelFit;
pub use error::{Result, TrainError};
pub use scores::{Band, ChannelScores, Combine, Scores};
pub use space::{Dim, Domain, Space, trial_seed};
