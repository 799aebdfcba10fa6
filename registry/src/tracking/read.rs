//! Reading experiments, runs, datasets and artifact rows.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::rows::decode_float;
use crate::AsyncRegistry;
use crate::artifacts::StoredArtifact;
use crate::error::{RegistryError, Result};
use crate::names::{validate_digest, validate_key, validate_name};
use crate::types::{
    ArtifactInfo, Dataset, DatasetUse, Experiment, MetricPoint, NamedArtifact, Run, RunDetails,
    RunFilter, RunInfo,
};

const RUN_COLUMNS: &str = "id, experiment, name, trial_key, status, started_at_ms, ended_at_ms, \
                           git_commit, spec_hash, host";

fn read_err(what: &str) -> impl FnOnce(sqlx::Error) -> RegistryError {
    RegistryError::db(format!("reading {what}"))
}

pub(crate) fn run_from_row(row: &AnyRow) -> std::result::Result<Run, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Run {
        id: row.try_get("id")?,
        info: RunInfo {
            experiment: row.try_get("experiment")?,
            name: row.try_get("name")?,
            trial_key: row.try_get("trial_key")?,
            git_commit: row.try_get("git_commit")?,
            spec_hash: row.try_get("spec_hash")?,
            host: row.try_get("host")?,
            started_at_ms: row.try_get("started_at_ms")?,
        },
        status: status
            .parse()
            .map_err(|e: RegistryError| sqlx::Error::Decode(e.to_string().into()))?,
        ended_at_ms: row.try_get("ended_at_ms")?,
    })
}

fn artifact_from_row(row: &AnyRow) -> std::result::Result<StoredArtifact, sqlx::Error> {
    let size: i64 = row.try_get("size_bytes")?;
    Ok(StoredArtifact {
        sha256: row.try_get("sha256")?,
        size_bytes: u64::try_from(size).unwrap_or(0),
        media_type: row.try_get("media_type")?,
    })
}

pub(crate) fn named_artifact_from_row(
    row: &AnyRow,
) -> std::result::Result<NamedArtifact, sqlx::Error> {
    Ok(NamedArtifact {
        name: row.try_get("name")?,
        artifact: artifact_from_row(row)?,
    })
}

pub(crate) fn dataset_use_from_row(row: &AnyRow) -> std::result::Result<DatasetUse, sqlx::Error> {
    Ok(DatasetUse {
        fingerprint: row.try_get("fingerprint")?,
        description: row.try_get("description")?,
        role: row.try_get("role")?,
    })
}

impl AsyncRegistry {
    /// All experiments with their run counts, by name.
    pub async fn experiments(&self) -> Result<Vec<Experiment>> {
        let rows = sqlx::query(
            "SELECT e.name, e.description, e.created_at_ms, \
             (SELECT COUNT(*) FROM runs r WHERE r.experiment = e.name) AS run_count \
             FROM experiments e ORDER BY e.name",
        )
        .fetch_all(&self.db.pool)
        .await
        .map_err(read_err("experiments"))?;
        rows.iter()
            .map(|row| {
                Ok(Experiment {
                    name: row.try_get("name")?,
                    description: row.try_get("description")?,
                    created_at_ms: row.try_get("created_at_ms")?,
                    run_count: row.try_get("run_count")?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(read_err("experiments"))
    }

    /// Runs matching `filter`, newest first.
    pub async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        let mut conditions = Vec::new();
        let mut n = 0;
        if filter.experiment.is_some() {
            n += 1;
            conditions.push(format!("experiment = ${n}"));
        }
        if filter.status.is_some() {
            n += 1;
            conditions.push(format!("status = ${n}"));
        }
        if filter.spec_hash.is_some() {
            n += 1;
            conditions.push(format!("spec_hash = ${n}"));
        }
        let mut sql = format!("SELECT {RUN_COLUMNS} FROM runs");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY started_at_ms DESC, id");
        if filter.limit.is_some() {
            n += 1;
            sql.push_str(&format!(" LIMIT ${n}"));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(experiment) = &filter.experiment {
            query = query.bind(experiment.as_str());
        }
        if let Some(status) = filter.status {
            query = query.bind(status.as_str());
        }
        if let Some(spec_hash) = &filter.spec_hash {
            query = query.bind(spec_hash.as_str());
        }
        if let Some(limit) = filter.limit {
            query = query.bind(i64::from(limit));
        }
        let rows = query
            .fetch_all(&self.db.pool)
            .await
            .map_err(read_err("runs"))?;
        rows.iter()
            .map(run_from_row)
            .collect::<std::result::Result<_, _>>()
            .map_err(read_err("runs"))
    }

    /// The finished run of `trial_key` in `experiment`, if there is one: how a resumed sweep
    /// skips trials it already ran.
    pub async fn find_finished_run(
        &self,
        experiment: &str,
        trial_key: &str,
    ) -> Result<Option<Run>> {
        validate_name("experiment", experiment)?;
        validate_key("trial", trial_key)?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE experiment = $1 AND trial_key = $2 \
             AND status = 'finished'"
        )))
        .bind(experiment)
        .bind(trial_key)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(read_err("runs"))?;
        row.as_ref()
            .map(run_from_row)
            .transpose()
            .map_err(read_err("runs"))
    }

    /// A run with everything logged to it. All parts are read in one transaction, so the
    /// view is consistent even while others write.
    pub async fn run(&self, run_id: &str) -> Result<RunDetails> {
        let what = format!("run {run_id}");
        let mut tx = self.db.begin_read().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"
        )))
        .bind(run_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(read_err(&what))?;
        let Some(row) = row else {
            return Err(RegistryError::NotFound {
                kind: "run",
                key: run_id.to_owned(),
                hint: "list runs with `vigil registry runs`",
            });
        };
        let run = run_from_row(&row).map_err(read_err(&what))?;
        let params = key_values(&mut tx, "run_params", run_id, &what).await?;
        let tags = key_values(&mut tx, "run_tags", run_id, &what).await?;
        let metrics = sqlx::query(
            "SELECT key, step, timestamp_ms, value FROM run_metrics WHERE run_id = $1 \
             ORDER BY key, step",
        )
        .bind(run_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(read_err(&what))?
        .iter()
        .map(|row| {
            Ok(MetricPoint {
                key: row.try_get("key")?,
                step: row.try_get("step")?,
                timestamp_ms: row.try_get("timestamp_ms")?,
                value: decode_float(row.try_get("value")?),
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(read_err(&what))?;
        let artifacts = sqlx::query(
            "SELECT ra.name, a.sha256, a.size_bytes, a.media_type FROM run_artifacts ra \
             JOIN artifacts a ON a.sha256 = ra.sha256 WHERE ra.run_id = $1 ORDER BY ra.name",
        )
        .bind(run_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(read_err(&what))?
        .iter()
        .map(named_artifact_from_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(read_err(&what))?;
        let datasets = sqlx::query(
            "SELECT rd.fingerprint, d.description, rd.role FROM run_datasets rd \
             JOIN datasets d ON d.fingerprint = rd.fingerprint WHERE rd.run_id = $1 \
             ORDER BY rd.fingerprint, rd.role",
        )
        .bind(run_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(read_err(&what))?
        .iter()
        .map(dataset_use_from_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(read_err(&what))?;
        tx.commit().await.map_err(read_err(&what))?;
        Ok(RunDetails {
            run,
            params,
            metrics,
            tags,
            artifacts,
            datasets,
        })
    }

    /// All datasets, by fingerprint.
    pub async fn datasets(&self) -> Result<Vec<Dataset>> {
        sqlx::query(
            "SELECT fingerprint, description, created_at_ms FROM datasets ORDER BY fingerprint",
        )
        .fetch_all(&self.db.pool)
        .await
        .map_err(read_err("datasets"))?
        .iter()
        .map(|row| {
            Ok(Dataset {
                fingerprint: row.try_get("fingerprint")?,
                description: row.try_get("description")?,
                created_at_ms: row.try_get("created_at_ms")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(read_err("datasets"))
    }

    /// Lineage: the runs that used a dataset, with the role it played, newest first.
    pub async fn dataset_runs(&self, fingerprint: &str) -> Result<Vec<(Run, String)>> {
        validate_digest("dataset fingerprint", fingerprint)?;
        let columns = RUN_COLUMNS
            .split(", ")
            .map(|c| format!("r.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {columns}, rd.role FROM run_datasets rd JOIN runs r ON r.id = rd.run_id \
             WHERE rd.fingerprint = $1 ORDER BY r.started_at_ms DESC, r.id, rd.role"
        )))
        .bind(fingerprint)
        .fetch_all(&self.db.pool)
        .await
        .map_err(read_err("dataset lineage"))?
        .iter()
        .map(|row| Ok((run_from_row(row)?, row.try_get("role")?)))
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(read_err("dataset lineage"))
    }

    /// Every artifact row with its reference count (runs + versions), by sha256.
    pub async fn artifact_rows(&self) -> Result<Vec<ArtifactInfo>> {
        sqlx::query(
            "SELECT a.sha256, a.size_bytes, a.media_type, a.created_at_ms, \
             (SELECT COUNT(*) FROM run_artifacts ra WHERE ra.sha256 = a.sha256) \
             + (SELECT COUNT(*) FROM version_artifacts va WHERE va.sha256 = a.sha256) AS refs \
             FROM artifacts a ORDER BY a.sha256",
        )
        .fetch_all(&self.db.pool)
        .await
        .map_err(read_err("artifacts"))?
        .iter()
        .map(|row| {
            Ok(ArtifactInfo {
                artifact: artifact_from_row(row)?,
                created_at_ms: row.try_get("created_at_ms")?,
                references: row.try_get("refs")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(read_err("artifacts"))
    }

    /// Reads a run's artifact by name, verifying its hash.
    pub async fn read_run_artifact(&self, run_id: &str, name: &str) -> Result<Vec<u8>> {
        let row = sqlx::query("SELECT sha256 FROM run_artifacts WHERE run_id = $1 AND name = $2")
            .bind(run_id)
            .bind(name)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(read_err("run artifacts"))?;
        let Some(row) = row else {
            return Err(RegistryError::NotFound {
                kind: "artifact",
                key: format!("{run_id}/{name}"),
                hint: "see the run's artifacts with `vigil registry show RUN_ID`",
            });
        };
        let sha256: String = row.try_get("sha256").map_err(read_err("run artifacts"))?;
        self.store.read(&sha256)
    }
}

async fn key_values(
    conn: &mut sqlx::AnyConnection,
    table: &'static str,
    run_id: &str,
    what: &str,
) -> Result<BTreeMap<String, String>> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT key, value FROM {table} WHERE run_id = $1"
    )))
    .bind(run_id)
    .fetch_all(conn)
    .await
    .map_err(read_err(what))?
    .iter()
    .map(|row| Ok((row.try_get("key")?, row.try_get("value")?)))
    .collect::<std::result::Result<_, sqlx::Error>>()
    .map_err(read_err(what))
}
