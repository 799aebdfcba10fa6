//! Registered models, immutable versions and movable aliases.

mod read;
mod write;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{RegistryError, Result};
use crate::names::{validate_alias, validate_name};
use crate::types::{DatasetUse, NamedArtifact};

/// What a caller registers as a new version. Versions are immutable once written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewVersion {
    /// Model name (created on first registration).
    pub model: String,
    /// The finished run that produced it, if any.
    pub run_id: Option<String>,
    /// The detector spec (serde JSON of the train catalog's spec).
    pub spec: serde_json::Value,
    /// Name of the artifact (in `artifacts`) that holds the fitted state.
    pub state_artifact: String,
    /// Artifacts already put into the store: the fitted state and any others (ONNX, report).
    pub artifacts: Vec<NamedArtifact>,
    /// The chosen decision threshold on the raw score.
    pub threshold: f64,
    /// The alert policy (serde JSON of eval's policy).
    pub alert_policy: serde_json::Value,
    /// Evaluation metrics (NaN allowed).
    pub metrics: BTreeMap<String, f64>,
    /// Datasets that trained and evaluated it.
    pub datasets: Vec<DatasetUse>,
    /// Free-text description.
    pub description: String,
    /// Who registered it.
    pub created_by: String,
}

/// A registered version as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    /// Model name.
    pub model: String,
    /// Version number, 1, 2, 3… without gaps.
    pub version: i64,
    /// The producing run.
    pub run_id: Option<String>,
    /// Detector spec.
    pub spec: serde_json::Value,
    /// Name of the fitted-state artifact.
    pub state_artifact: String,
    /// Artifacts, by name.
    pub artifacts: Vec<NamedArtifact>,
    /// Decision threshold.
    pub threshold: f64,
    /// Alert policy.
    pub alert_policy: serde_json::Value,
    /// Metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Datasets, by fingerprint then role.
    pub datasets: Vec<DatasetUse>,
    /// Description.
    pub description: String,
    /// Who registered it.
    pub created_by: String,
    /// When, ms since the epoch.
    pub created_at_ms: i64,
    /// Aliases currently pointing here.
    pub aliases: Vec<String>,
}

/// A model with its newest version and current aliases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredModel {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Creation time.
    pub created_at_ms: i64,
    /// Newest version, if any.
    pub latest_version: Option<i64>,
    /// Alias → version.
    pub aliases: BTreeMap<String, i64>,
}

/// One entry of the alias audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasMove {
    /// Model.
    pub model: String,
    /// Per-model sequence number, 1, 2, 3… without gaps.
    pub seq: i64,
    /// Alias moved.
    pub alias: String,
    /// Where it pointed before (None: it did not exist).
    pub from_version: Option<i64>,
    /// Where it points now (None: it was removed).
    pub to_version: Option<i64>,
    /// Who moved it.
    pub moved_by: String,
    /// Why.
    pub reason: String,
    /// When, ms since the epoch.
    pub moved_at_ms: i64,
}

/// The compare-and-set precondition of an alias move: where the caller believes the alias
/// points. Two concurrent moves with the same precondition cannot both succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedAlias {
    /// No precondition: move it wherever it is.
    Anything,
    /// The alias must not exist yet.
    Unset,
    /// The alias must point at this version.
    At(i64),
}

impl ExpectedAlias {
    /// The precondition that `current` (the alias's version, or None) satisfies exactly.
    pub fn from_current(current: Option<i64>) -> Self {
        current.map_or(ExpectedAlias::Unset, ExpectedAlias::At)
    }

    pub(crate) fn admits(self, current: Option<i64>) -> bool {
        match self {
            ExpectedAlias::Anything => true,
            ExpectedAlias::Unset => current.is_none(),
            ExpectedAlias::At(version) => current == Some(version),
        }
    }
}

pub(crate) fn describe_position(version: Option<i64>) -> String {
    version.map_or_else(|| "unset".to_owned(), |v| format!("version {v}"))
}

/// A reference to a version: `MODEL` (newest), `MODEL@3` (version 3) or `MODEL@champion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelRef {
    /// The newest version.
    Latest(String),
    /// A version number.
    Version(String, i64),
    /// Wherever an alias points.
    Alias(String, String),
}

impl ModelRef {
    /// The model name.
    pub fn model(&self) -> &str {
        match self {
            ModelRef::Latest(model) | ModelRef::Version(model, _) | ModelRef::Alias(model, _) => {
                model
            }
        }
    }
}

impl FromStr for ModelRef {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Self> {
        let Some((model, selector)) = s.split_once('@') else {
            validate_name("model", s)?;
            return Ok(ModelRef::Latest(s.to_owned()));
        };
        validate_name("model", model)?;
        if !selector.is_empty() && selector.bytes().all(|b| b.is_ascii_digit()) {
            let version = selector.parse().map_err(|_| RegistryError::InvalidField {
                field: "model reference",
                reason: format!("version {selector:?} in {s:?} is too large"),
                hint: "write MODEL@VERSION with a version number that exists",
            })?;
            return Ok(ModelRef::Version(model.to_owned(), version));
        }
        validate_alias(selector)?;
        Ok(ModelRef::Alias(model.to_owned(), selector.to_owned()))
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelRef::Latest(model) => write!(f, "{model}"),
            ModelRef::Version(model, version) => write!(f, "{model}@{version}"),
            ModelRef::Alias(model, alias) => write!(f, "{model}@{alias}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_refs_parse_all_three_forms() {
        assert_eq!(
            "m".parse::<ModelRef>().expect("latest"),
            ModelRef::Latest("m".into())
        );
        assert_eq!(
            "m@12".parse::<ModelRef>().expect("version"),
            ModelRef::Version("m".into(), 12)
        );
        assert_eq!(
            "m@champion".parse::<ModelRef>().expect("alias"),
            ModelRef::Alias("m".into(), "champion".into())
        );
        assert_eq!(
            "m@champion".parse::<ModelRef>().expect("alias").to_string(),
            "m@champion"
        );
        for bad in ["", "@x", "m@", "m@a b", "m@99999999999999999999999"] {
            let err = bad.parse::<ModelRef>().expect_err(bad).to_string();
            assert!(err.contains("hint:"), "{bad}: {err}");
        }
    }

    #[test]
    fn expectations_compare_positions() {
        assert!(ExpectedAlias::Anything.admits(None));
        assert!(ExpectedAlias::Anything.admits(Some(3)));
        assert!(ExpectedAlias::Unset.admits(None));
        assert!(!ExpectedAlias::Unset.admits(Some(1)));
        assert!(ExpectedAlias::At(2).admits(Some(2)));
        assert!(!ExpectedAlias::At(2).admits(Some(3)));
        assert!(!ExpectedAlias::At(2).admits(None));
        assert_eq!(ExpectedAlias::from_current(Some(4)), ExpectedAlias::At(4));
        assert_eq!(ExpectedAlias::from_current(None), ExpectedAlias::Unset);
    }
}
