//! The blocking face of the registry, for the CLI and the rayon-based experiment runner.
//!
//! It owns a small multi-threaded tokio runtime and blocks on the async core. Methods take
//! `&self` and may be called from many threads at once (each call blocks only its thread).
//! Calling them from inside an async runtime panics (tokio forbids nested `block_on`): async
//! callers use [`AsyncRegistry`] directly.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::artifacts::{ArtifactStore, StoredArtifact};
use crate::db::Backend;
use crate::error::{RegistryError, Result};
use crate::export::Manifest;
use crate::gc::GcReport;
use crate::models::{
    AliasMove, ExpectedAlias, ModelRef, ModelVersion, NewVersion, RegisteredModel,
};
use crate::types::{
    ArtifactInfo, Dataset, DatasetUse, Experiment, MetricPoint, NamedArtifact, Run, RunDetails,
    RunFilter, RunInfo, RunRecord, RunStatus,
};
use crate::{AsyncRegistry, RegistryOptions};

/// A blocking registry handle. Cheap to clone; clones share the pool and the runtime.
#[derive(Debug, Clone)]
pub struct Registry {
    inner: AsyncRegistry,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl Registry {
    /// Opens `url` (`sqlite://PATH` or `postgres://…`) with default options.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(&RegistryOptions::new(url))
    }

    /// Opens a registry, creating and migrating the database as needed.
    pub fn open_with(options: &RegistryOptions) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("vigil-registry")
            .enable_all()
            .build()
            .map_err(RegistryError::io("<tokio runtime>"))?;
        let inner = runtime.block_on(AsyncRegistry::open(options))?;
        Ok(Self {
            inner,
            runtime: Arc::new(runtime),
        })
    }

    fn block<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The async core, for callers that have their own runtime.
    pub fn as_async(&self) -> &AsyncRegistry {
        &self.inner
    }

    /// Which backend this registry talks to.
    pub fn backend(&self) -> Backend {
        self.inner.backend()
    }

    /// The artifact store.
    pub fn artifacts(&self) -> &ArtifactStore {
        self.inner.artifacts()
    }

    /// Stores bytes in the artifact store (before recording them in a run or version).
    pub fn put_artifact(&self, bytes: &[u8], media_type: &str) -> Result<StoredArtifact> {
        self.inner.artifacts().put_bytes(bytes, media_type)
    }

    /// Streams a file into the artifact store.
    pub fn put_artifact_file(&self, path: &Path, media_type: &str) -> Result<StoredArtifact> {
        self.inner.artifacts().put_file(path, media_type)
    }

    /// Reads a blob by sha256, verifying its hash.
    pub fn read_artifact(&self, sha256: &str) -> Result<Vec<u8>> {
        self.inner.artifacts().read(sha256)
    }

    /// See [`AsyncRegistry::schema_version`].
    pub fn schema_version(&self) -> Result<i64> {
        self.block(self.inner.schema_version())
    }

    /// See [`AsyncRegistry::create_experiment`].
    pub fn create_experiment(&self, name: &str, description: &str) -> Result<()> {
        self.block(self.inner.create_experiment(name, description))
    }

    /// See [`AsyncRegistry::experiments`].
    pub fn experiments(&self) -> Result<Vec<Experiment>> {
        self.block(self.inner.experiments())
    }

    /// See [`AsyncRegistry::log_run`].
    pub fn log_run(&self, record: &RunRecord) -> Result<String> {
        self.block(self.inner.log_run(record))
    }

    /// See [`AsyncRegistry::start_run`].
    pub fn start_run(&self, info: &RunInfo) -> Result<String> {
        self.block(self.inner.start_run(info))
    }

    /// See [`AsyncRegistry::log_params`].
    pub fn log_params(&self, run_id: &str, params: &BTreeMap<String, String>) -> Result<()> {
        self.block(self.inner.log_params(run_id, params))
    }

    /// See [`AsyncRegistry::log_metrics`].
    pub fn log_metrics(&self, run_id: &str, metrics: &[MetricPoint]) -> Result<()> {
        self.block(self.inner.log_metrics(run_id, metrics))
    }

    /// See [`AsyncRegistry::set_tags`].
    pub fn set_tags(&self, run_id: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        self.block(self.inner.set_tags(run_id, tags))
    }

    /// See [`AsyncRegistry::log_outputs`].
    pub fn log_outputs(
        &self,
        run_id: &str,
        artifacts: &[NamedArtifact],
        datasets: &[DatasetUse],
    ) -> Result<()> {
        self.block(self.inner.log_outputs(run_id, artifacts, datasets))
    }

    /// See [`AsyncRegistry::finish_run`].
    pub fn finish_run(&self, run_id: &str, status: RunStatus) -> Result<()> {
        self.block(self.inner.finish_run(run_id, status))
    }

    /// See [`AsyncRegistry::find_finished_run`].
    pub fn find_finished_run(&self, experiment: &str, trial_key: &str) -> Result<Option<Run>> {
        self.block(self.inner.find_finished_run(experiment, trial_key))
    }

    /// See [`AsyncRegistry::runs`].
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        self.block(self.inner.runs(filter))
    }

    /// See [`AsyncRegistry::run`].
    pub fn run(&self, run_id: &str) -> Result<RunDetails> {
        self.block(self.inner.run(run_id))
    }

    /// See [`AsyncRegistry::read_run_artifact`].
    pub fn read_run_artifact(&self, run_id: &str, name: &str) -> Result<Vec<u8>> {
        self.block(self.inner.read_run_artifact(run_id, name))
    }

    /// See [`AsyncRegistry::register_dataset`].
    pub fn register_dataset(&self, fingerprint: &str, description: &str) -> Result<()> {
        self.block(self.inner.register_dataset(fingerprint, description))
    }

    /// See [`AsyncRegistry::datasets`].
    pub fn datasets(&self) -> Result<Vec<Dataset>> {
        self.block(self.inner.datasets())
    }

    /// See [`AsyncRegistry::dataset_runs`].
    pub fn dataset_runs(&self, fingerprint: &str) -> Result<Vec<(Run, String)>> {
        self.block(self.inner.dataset_runs(fingerprint))
    }

    /// See [`AsyncRegistry::artifact_rows`].
    pub fn artifact_rows(&self) -> Result<Vec<ArtifactInfo>> {
        self.block(self.inner.artifact_rows())
    }

    /// See [`AsyncRegistry::create_model`].
    pub fn create_model(&self, name: &str, description: &str) -> Result<()> {
        self.block(self.inner.create_model(name, description))
    }

    /// See [`AsyncRegistry::register_version`].
    pub fn register_version(&self, new: &NewVersion) -> Result<i64> {
        self.block(self.inner.register_version(new))
    }

    /// See [`AsyncRegistry::models`].
    pub fn models(&self) -> Result<Vec<RegisteredModel>> {
        self.block(self.inner.models())
    }

    /// See [`AsyncRegistry::versions`].
    pub fn versions(&self, model: &str) -> Result<Vec<ModelVersion>> {
        self.block(self.inner.versions(model))
    }

    /// See [`AsyncRegistry::resolve`].
    pub fn resolve(&self, reference: &ModelRef) -> Result<ModelVersion> {
        self.block(self.inner.resolve(reference))
    }

    /// See [`AsyncRegistry::attach_version_artifacts`].
    pub fn attach_version_artifacts(
        &self,
        model: &str,
        version: i64,
        artifacts: &[NamedArtifact],
    ) -> Result<()> {
        self.block(
            self.inner
                .attach_version_artifacts(model, version, artifacts),
        )
    }

    /// See [`AsyncRegistry::move_alias`].
    pub fn move_alias(
        &self,
        model: &str,
        alias: &str,
        to_version: i64,
        expected: ExpectedAlias,
        who: &str,
        why: &str,
    ) -> Result<AliasMove> {
        self.block(
            self.inner
                .move_alias(model, alias, to_version, expected, who, why),
        )
    }

    /// See [`AsyncRegistry::remove_alias`].
    pub fn remove_alias(
        &self,
        model: &str,
        alias: &str,
        expected: ExpectedAlias,
        who: &str,
        why: &str,
    ) -> Result<AliasMove> {
        self.block(self.inner.remove_alias(model, alias, expected, who, why))
    }

    /// See [`AsyncRegistry::aliases`].
    pub fn aliases(&self, model: &str) -> Result<BTreeMap<String, i64>> {
        self.block(self.inner.aliases(model))
    }

    /// See [`AsyncRegistry::alias_history`].
    pub fn alias_history(&self, model: &str) -> Result<Vec<AliasMove>> {
        self.block(self.inner.alias_history(model))
    }

    /// See [`AsyncRegistry::get`].
    pub fn get(&self, reference: &ModelRef, out_dir: &Path) -> Result<Manifest> {
        self.block(self.inner.get(reference, out_dir))
    }

    /// See [`AsyncRegistry::gc`].
    pub fn gc(&self, dry_run: bool, min_age: Duration) -> Result<GcReport> {
        self.block(self.inner.gc(dry_run, min_age))
    }

    /// Closes the pool (pending connections finish first).
    pub fn close(&self) {
        self.block(self.inner.close());
    }
}
