//! Experiment tracking and model registry for vigil, over SQLite (default) or PostgreSQL.
//!
//! What it stores: experiments, runs (status, timings, git commit, spec hash, host) with their
//! parameters, metrics (per step), tags, artifacts and datasets; registered models with
//! immutable versions and movable aliases (`champion`, `challenger`), every alias move in an
//! audit log. Artifacts are content-addressed files (see [`ArtifactStore`]).
//!
//! Guarantees:
//! - every logical write (a whole run, one incremental logging call, a version registration,
//!   an alias move) is one transaction, so a crash leaves the state before or after it;
//! - version numbers per model are unique and gap-free under concurrent registration;
//! - alias moves are compare-and-set ([`ExpectedAlias`]) and serialise per model;
//! - every value is a bound parameter; names are validated with a clear error;
//! - the schema is migrated forward on open, and a newer schema is refused.
//!
//! Two faces: [`Registry`] is blocking (it owns a small tokio runtime) for the CLI and the
//! rayon-based experiment runner; [`AsyncRegistry`] is the async core for async callers.
//! Do not call [`Registry`] methods from inside an async runtime: use [`AsyncRegistry`] there.
//!
//! ```no_run
//! use vigil_registry::{ExpectedAlias, MetricPoint, Registry, RunInfo, RunRecord};
//!
//! # fn main() -> vigil_registry::Result<()> {
//! let registry = Registry::open("sqlite://./vigil.db")?;
//! let mut info = RunInfo::new("nab-ewma");
//! info.trial_key = Some("spec-3f2a/fold-0".into());
//! // Resuming a sweep: skip trials that already finished.
//! if registry.find_finished_run("nab-ewma", "spec-3f2a/fold-0")?.is_none() {
//!     let mut record = RunRecord::finished(info);
//!     record.params.insert("alpha".into(), "0.3".into());
//!     record.metrics.push(MetricPoint::new("f1", 0.71, 0));
//!     let run_id = registry.log_run(&record)?; // all of it, or nothing
//!     # let _ = run_id;
//! }
//! // Promote version 4 only if champion still points at version 3.
//! registry.move_alias("cpu", "champion", 4, ExpectedAlias::At(3), "ci", "F1 +0.04")?;
//! # Ok(())
//! # }
//! ```

mod artifacts;
mod blocking;
mod db;
mod error;
mod export;
mod gc;
mod models;
mod names;
mod tracking;
mod types;

use std::path::PathBuf;

pub use artifacts::{ArtifactStore, StoredArtifact, sha256_hex};
pub use blocking::Registry;
pub use db::{Backend, DbLocation, MIGRATOR, redact, supported_schema_version};
pub use error::{RegistryError, Result};
pub use export::{MANIFEST_FILE, Manifest, ManifestArtifact};
pub use gc::GcReport;
pub use models::{AliasMove, ExpectedAlias, ModelRef, ModelVersion, NewVersion, RegisteredModel};
pub use names::{
    validate_alias, validate_artifact_name, validate_digest, validate_key, validate_name,
};
pub use types::{
    ArtifactInfo, Dataset, DatasetUse, Experiment, MetricPoint, NamedArtifact, Run, RunDetails,
    RunFilter, RunInfo, RunRecord, RunStatus, host_name, now_ms,
};

/// The database URL used when none is given.
pub const DEFAULT_DB_URL: &str = "sqlite://./vigil.db";

/// Where and how to open a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryOptions {
    /// `sqlite://PATH` or `postgres://…`.
    pub url: String,
    /// The artifact directory. Default: `<db stem>-artifacts` beside a SQLite file
    /// (`./vigil-artifacts` for `./vigil.db`), `./vigil-artifacts` for PostgreSQL. Two
    /// registries must not share one, or `gc` on one deletes the other's artifacts.
    pub artifact_dir: Option<PathBuf>,
    /// Connection pool size.
    pub max_connections: u32,
}

impl RegistryOptions {
    /// Options for `url` with the default artifact directory and pool size.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            artifact_dir: None,
            max_connections: 4,
        }
    }

    /// Sets the artifact directory.
    pub fn artifact_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.artifact_dir = Some(dir.into());
        self
    }

    /// The artifact directory these options resolve to.
    pub fn resolved_artifact_dir(&self) -> Result<PathBuf> {
        if let Some(dir) = &self.artifact_dir {
            return Ok(dir.clone());
        }
        let location = DbLocation::parse(&self.url)?;
        Ok(match &location.sqlite_path {
            Some(path) => {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "vigil".to_owned());
                path.with_file_name(format!("{stem}-artifacts"))
            }
            None => PathBuf::from("./vigil-artifacts"),
        })
    }
}

/// The async registry: a connection pool plus an artifact store.
#[derive(Debug, Clone)]
pub struct AsyncRegistry {
    pub(crate) db: db::Db,
    pub(crate) store: ArtifactStore,
}

impl AsyncRegistry {
    /// Opens (creating if needed) the registry and migrates its schema forward.
    pub async fn open(options: &RegistryOptions) -> Result<Self> {
        let location = DbLocation::parse(&options.url)?;
        let artifact_dir = options.resolved_artifact_dir()?;
        if let Some(parent) = location.sqlite_path.as_ref().and_then(|p| p.parent())
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(RegistryError::io(parent))?;
        }
        let db = db::Db::open(&location, options.max_connections).await?;
        tracing::debug!(url = %redact(&options.url), artifacts = %artifact_dir.display(), "registry open");
        Ok(Self {
            db,
            store: ArtifactStore::new(artifact_dir),
        })
    }

    /// Which backend this registry talks to.
    pub fn backend(&self) -> Backend {
        self.db.backend
    }

    /// The artifact store.
    pub fn artifacts(&self) -> &ArtifactStore {
        &self.store
    }

    /// The newest schema migration applied to the database.
    pub async fn schema_version(&self) -> Result<i64> {
        Ok(self.db.applied_schema_version().await?.unwrap_or(0))
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.db.pool.close().await;
    }
}
