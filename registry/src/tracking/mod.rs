//! Writing experiments and runs. Each public method is one transaction.

mod read;
mod rows;

use std::collections::BTreeMap;

pub(crate) use read::{dataset_use_from_row, named_artifact_from_row};
use rows::{
    commit, duplicate_trial_or, insert_key_values, insert_metrics, insert_run_artifacts,
    insert_run_datasets, insert_run_row, lock_running, new_run_id, validate_info, validate_metrics,
    validate_params,
};
pub(crate) use rows::{
    decode_float, encode_float, ensure_artifact_rows, ensure_dataset_rows, validate_artifacts,
    validate_datasets,
};

use crate::AsyncRegistry;
use crate::db::with_retry;
use crate::error::{RegistryError, Result};
use crate::names::{validate_digest, validate_name};
use crate::types::{DatasetUse, MetricPoint, NamedArtifact, RunInfo, RunRecord, RunStatus, now_ms};
use sqlx::AnyConnection;

impl AsyncRegistry {
    /// Creates an experiment, or updates the description of an existing one.
    pub async fn create_experiment(&self, name: &str, description: &str) -> Result<()> {
        validate_name("experiment", name)?;
        with_retry("create experiment", || async move {
            let mut tx = self.db.begin_write().await?;
            sqlx::query(
                "INSERT INTO experiments (name, description, created_at_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET description = excluded.description",
            )
            .bind(name)
            .bind(description)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(RegistryError::db(format!("creating experiment {name}")))?;
            commit(tx, "experiment").await
        })
        .await
    }

    /// Writes a complete run (params, metrics, tags, artifacts, datasets) in one transaction
    /// and returns its id. Nothing of it is visible unless all of it is.
    pub async fn log_run(&self, record: &RunRecord) -> Result<String> {
        validate_info(&record.info)?;
        if record.status == RunStatus::Running {
            return Err(RegistryError::InvalidField {
                field: "run status",
                reason: "log_run writes a completed run, but the status is running".to_owned(),
                hint: "use start_run for a run that is still logging",
            });
        }
        let run_id = new_run_id();
        validate_params("param", &record.params)?;
        validate_params("tag", &record.tags)?;
        validate_metrics(&run_id, &record.metrics)?;
        validate_artifacts(self, &run_id, &record.artifacts)?;
        validate_datasets(&run_id, &record.datasets)?;
        let id = run_id.as_str();
        with_retry("log run", || async move {
            let mut tx = self.db.begin_write().await?;
            let conn: &mut AnyConnection = &mut tx;
            insert_run_row(
                conn,
                id,
                &record.info,
                record.status,
                Some(record.ended_at_ms),
            )
            .await?;
            insert_key_values(self.db.backend, conn, "run_params", id, &record.params).await?;
            insert_key_values(self.db.backend, conn, "run_tags", id, &record.tags).await?;
            insert_metrics(self.db.backend, conn, id, &record.metrics).await?;
            insert_run_artifacts(conn, id, &record.artifacts).await?;
            insert_run_datasets(conn, id, &record.datasets).await?;
            commit(tx, "run").await
        })
        .await?;
        Ok(run_id)
    }

    /// Starts a run that logs incrementally; it stays `running` until [`Self::finish_run`].
    pub async fn start_run(&self, info: &RunInfo) -> Result<String> {
        validate_info(info)?;
        let run_id = new_run_id();
        let id = run_id.as_str();
        with_retry("start run", || async move {
            let mut tx = self.db.begin_write().await?;
            insert_run_row(&mut tx, id, info, RunStatus::Running, None).await?;
            commit(tx, "run start").await
        })
        .await?;
        Ok(run_id)
    }

    /// Adds parameters to a running run (one transaction; a key may be logged once).
    pub async fn log_params(&self, run_id: &str, params: &BTreeMap<String, String>) -> Result<()> {
        validate_params("param", params)?;
        with_retry("log params", || async move {
            let mut tx = self.db.begin_write().await?;
            lock_running(&mut tx, run_id).await?;
            insert_key_values(self.db.backend, &mut tx, "run_params", run_id, params).await?;
            commit(tx, "params").await
        })
        .await
    }

    /// Adds a batch of metric points to a running run (one transaction, batched inserts).
    pub async fn log_metrics(&self, run_id: &str, metrics: &[MetricPoint]) -> Result<()> {
        validate_metrics(run_id, metrics)?;
        with_retry("log metrics", || async move {
            let mut tx = self.db.begin_write().await?;
            lock_running(&mut tx, run_id).await?;
            insert_metrics(self.db.backend, &mut tx, run_id, metrics).await?;
            commit(tx, "metrics").await
        })
        .await
    }

    /// Sets tags on any run (tags stay mutable after the run ends; a key is overwritten).
    pub async fn set_tags(&self, run_id: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        validate_params("tag", tags)?;
        with_retry("set tags", || async move {
            let mut tx = self.db.begin_write().await?;
            let exists = sqlx::query("SELECT id FROM runs WHERE id = $1")
                .bind(run_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(RegistryError::db(format!("reading run {run_id}")))?;
            if exists.is_none() {
                return Err(RegistryError::NotFound {
                    kind: "run",
                    key: run_id.to_owned(),
                    hint: "list runs with `vigil registry runs`",
                });
            }
            for (key, value) in tags {
                sqlx::query(
                    "INSERT INTO run_tags (run_id, key, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                )
                .bind(run_id)
                .bind(key.as_str())
                .bind(value.as_str())
                .execute(&mut *tx)
                .await
                .map_err(RegistryError::db(format!("setting tags of run {run_id}")))?;
            }
            commit(tx, "tags").await
        })
        .await
    }

    /// Attaches stored artifacts and datasets to a running run (one transaction).
    pub async fn log_outputs(
        &self,
        run_id: &str,
        artifacts: &[NamedArtifact],
        datasets: &[DatasetUse],
    ) -> Result<()> {
        validate_artifacts(self, run_id, artifacts)?;
        validate_datasets(run_id, datasets)?;
        with_retry("log outputs", || async move {
            let mut tx = self.db.begin_write().await?;
            lock_running(&mut tx, run_id).await?;
            insert_run_artifacts(&mut tx, run_id, artifacts).await?;
            insert_run_datasets(&mut tx, run_id, datasets).await?;
            commit(tx, "artifacts and datasets").await
        })
        .await
    }

    /// Ends a running run with `status` (finished, failed or killed) in one transaction.
    /// Finishing fails with [`RegistryError::DuplicateTrial`] if the trial already finished.
    pub async fn finish_run(&self, run_id: &str, status: RunStatus) -> Result<()> {
        if status == RunStatus::Running {
            return Err(RegistryError::InvalidField {
                field: "run status",
                reason: "a run cannot be finished as running".to_owned(),
                hint: "use finished, failed or killed",
            });
        }
        with_retry("finish run", || async move {
            let mut tx = self.db.begin_write().await?;
            let info = lock_running(&mut tx, run_id).await?;
            sqlx::query("UPDATE runs SET status = $1, ended_at_ms = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(now_ms())
                .bind(run_id)
                .execute(&mut *tx)
                .await
                .map_err(|err| duplicate_trial_or(err, &info, format!("finishing run {run_id}")))?;
            commit(tx, "run end").await
        })
        .await
    }

    /// Records a dataset (fingerprint + description) without a run; idempotent.
    pub async fn register_dataset(&self, fingerprint: &str, description: &str) -> Result<()> {
        validate_digest("dataset fingerprint", fingerprint)?;
        let used = [DatasetUse {
            fingerprint: fingerprint.to_owned(),
            description: description.to_owned(),
            role: "unused".to_owned(),
        }];
        let used = &used;
        with_retry("register dataset", || async move {
            let mut tx = self.db.begin_write().await?;
            ensure_dataset_rows(&mut tx, used).await?;
            commit(tx, "dataset").await
        })
        .await
    }
}
