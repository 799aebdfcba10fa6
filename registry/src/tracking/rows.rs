//! Row-level building blocks of the tracking writes: validation and batched inserts. They run
//! inside a caller's transaction and never commit.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::AsyncRegistry;
use crate::db::{Backend, value_rows};
use crate::error::{RegistryError, Result, is_unique_violation};
use crate::names::{validate_artifact_name, validate_digest, validate_key, validate_name};
use crate::types::{DatasetUse, MetricPoint, NamedArtifact, RunInfo, RunStatus, now_ms};

/// Most bound values in one statement (SQLite allows 32766, PostgreSQL 65535).
pub(crate) const MAX_BINDS: usize = 6_000;

pub(crate) fn new_run_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// NaN is stored as NULL (SQLite turns NaN into NULL anyway; this makes both backends agree).
pub(crate) fn encode_float(value: f64) -> Option<f64> {
    (!value.is_nan()).then_some(value)
}

pub(crate) fn decode_float(value: Option<f64>) -> f64 {
    value.unwrap_or(f64::NAN)
}

pub(crate) fn to_i64(field: &'static str, value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| RegistryError::InvalidField {
        field,
        reason: format!("{value} does not fit in a signed 64-bit integer"),
        hint: "artifacts above 8 EiB are not supported",
    })
}

pub(crate) fn validate_info(info: &RunInfo) -> Result<()> {
    validate_name("experiment", &info.experiment)?;
    if let Some(key) = &info.trial_key {
        validate_key("trial", key)?;
    }
    Ok(())
}

pub(crate) fn validate_params(kind: &'static str, map: &BTreeMap<String, String>) -> Result<()> {
    map.keys().try_for_each(|key| validate_key(kind, key))
}

pub(crate) fn validate_metrics(run_id: &str, metrics: &[MetricPoint]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for point in metrics {
        validate_key("metric", &point.key)?;
        if !seen.insert((point.key.as_str(), point.step)) {
            return Err(RegistryError::DuplicateKey {
                kind: "metric",
                key: format!("{} at step {}", point.key, point.step),
                run_id: run_id.to_owned(),
            });
        }
    }
    Ok(())
}

/// Checks names, uniqueness, and that every blob is in the store with the stated size, so a
/// committed row never points at a missing file.
pub(crate) fn validate_artifacts(
    registry: &AsyncRegistry,
    owner: &str,
    artifacts: &[NamedArtifact],
) -> Result<()> {
    let mut seen = BTreeSet::new();
    for named in artifacts {
        validate_artifact_name(&named.name)?;
        if !seen.insert(named.name.as_str()) {
            return Err(RegistryError::DuplicateKey {
                kind: "artifact",
                key: named.name.clone(),
                run_id: owner.to_owned(),
            });
        }
        let path = registry.store.path_of(&named.artifact.sha256)?;
        let meta = std::fs::metadata(&path).map_err(|_| RegistryError::ArtifactMissing {
            sha256: named.artifact.sha256.clone(),
            path: path.clone(),
        })?;
        if meta.len() != named.artifact.size_bytes {
            return Err(RegistryError::InvalidField {
                field: "artifact size",
                reason: format!(
                    "{} is {} bytes in the store but the record says {}",
                    named.name,
                    meta.len(),
                    named.artifact.size_bytes
                ),
                hint: "pass the StoredArtifact returned by put_bytes/put_file unchanged",
            });
        }
    }
    Ok(())
}

pub(crate) fn validate_datasets(owner: &str, datasets: &[DatasetUse]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for used in datasets {
        validate_digest("dataset fingerprint", &used.fingerprint)?;
        validate_name("dataset role", &used.role)?;
        if !seen.insert((used.fingerprint.as_str(), used.role.as_str())) {
            return Err(RegistryError::DuplicateKey {
                kind: "dataset",
                key: format!("{} as {}", used.fingerprint, used.role),
                run_id: owner.to_owned(),
            });
        }
    }
    Ok(())
}

pub(crate) async fn ensure_experiment(conn: &mut AnyConnection, name: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO experiments (name, description, created_at_ms) VALUES ($1, '', $2) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now_ms())
    .execute(conn)
    .await
    .map_err(RegistryError::db(format!("creating experiment {name}")))?;
    Ok(())
}

pub(crate) async fn insert_key_values(
    backend: Backend,
    conn: &mut AnyConnection,
    table: &'static str,
    run_id: &str,
    map: &BTreeMap<String, String>,
) -> Result<()> {
    let pairs: Vec<_> = map.iter().collect();
    for chunk in pairs.chunks(MAX_BINDS / 3) {
        let sql = format!(
            "INSERT INTO {table} (run_id, key, value) VALUES {}",
            value_rows(backend, chunk.len(), 3)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (key, value) in chunk {
            query = query.bind(run_id).bind(key.as_str()).bind(value.as_str());
        }
        query.execute(&mut *conn).await.map_err(|err| {
            if is_unique_violation(&err) {
                RegistryError::DuplicateKey {
                    kind: if table == "run_params" {
                        "param"
                    } else {
                        "tag"
                    },
                    key: chunk
                        .iter()
                        .map(|(k, _)| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    run_id: run_id.to_owned(),
                }
            } else {
                RegistryError::db(format!("writing {table} of run {run_id}"))(err)
            }
        })?;
    }
    Ok(())
}

pub(crate) async fn insert_metrics(
    backend: Backend,
    conn: &mut AnyConnection,
    run_id: &str,
    metrics: &[MetricPoint],
) -> Result<()> {
    for chunk in metrics.chunks(MAX_BINDS / 5) {
        let sql = format!(
            "INSERT INTO run_metrics (run_id, key, step, timestamp_ms, value) VALUES {}",
            value_rows(backend, chunk.len(), 5)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for point in chunk {
            query = query
                .bind(run_id)
                .bind(point.key.as_str())
                .bind(point.step)
                .bind(point.timestamp_ms)
                .bind(encode_float(point.value));
        }
        query.execute(&mut *conn).await.map_err(|err| {
            if is_unique_violation(&err) {
                RegistryError::DuplicateKey {
                    kind: "metric",
                    key: "a (key, step) already logged".to_owned(),
                    run_id: run_id.to_owned(),
                }
            } else {
                RegistryError::db(format!("writing metrics of run {run_id}"))(err)
            }
        })?;
    }
    Ok(())
}

/// Inserts artifact rows (idempotent: a blob may already be known).
pub(crate) async fn ensure_artifact_rows(
    conn: &mut AnyConnection,
    artifacts: &[NamedArtifact],
) -> Result<()> {
    let mut unique: BTreeMap<&str, &NamedArtifact> = BTreeMap::new();
    for named in artifacts {
        unique
            .entry(named.artifact.sha256.as_str())
            .or_insert(named);
    }
    let now = now_ms();
    for named in unique.values() {
        sqlx::query(
            "INSERT INTO artifacts (sha256, size_bytes, media_type, created_at_ms) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(named.artifact.sha256.as_str())
        .bind(to_i64("artifact size", named.artifact.size_bytes)?)
        .bind(named.artifact.media_type.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(RegistryError::db("recording artifacts"))?;
    }
    Ok(())
}

/// Inserts dataset rows (idempotent: the first description seen is kept).
pub(crate) async fn ensure_dataset_rows(
    conn: &mut AnyConnection,
    datasets: &[DatasetUse],
) -> Result<()> {
    let mut unique: BTreeMap<&str, &str> = BTreeMap::new();
    for used in datasets {
        unique
            .entry(used.fingerprint.as_str())
            .or_insert(used.description.as_str());
    }
    let now = now_ms();
    for (fingerprint, description) in unique {
        sqlx::query(
            "INSERT INTO datasets (fingerprint, description, created_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(fingerprint)
        .bind(description)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(RegistryError::db("recording datasets"))?;
    }
    Ok(())
}

pub(crate) async fn insert_run_artifacts(
    conn: &mut AnyConnection,
    run_id: &str,
    artifacts: &[NamedArtifact],
) -> Result<()> {
    ensure_artifact_rows(conn, artifacts).await?;
    for named in artifacts {
        sqlx::query("INSERT INTO run_artifacts (run_id, name, sha256) VALUES ($1, $2, $3)")
            .bind(run_id)
            .bind(named.name.as_str())
            .bind(named.artifact.sha256.as_str())
            .execute(&mut *conn)
            .await
            .map_err(|err| {
                if is_unique_violation(&err) {
                    RegistryError::DuplicateKey {
                        kind: "artifact",
                        key: named.name.clone(),
                        run_id: run_id.to_owned(),
                    }
                } else {
                    RegistryError::db(format!("linking artifacts to run {run_id}"))(err)
                }
            })?;
    }
    Ok(())
}

pub(crate) async fn insert_run_datasets(
    conn: &mut AnyConnection,
    run_id: &str,
    datasets: &[DatasetUse],
) -> Result<()> {
    ensure_dataset_rows(conn, datasets).await?;
    for used in datasets {
        sqlx::query("INSERT INTO run_datasets (run_id, fingerprint, role) VALUES ($1, $2, $3)")
            .bind(run_id)
            .bind(used.fingerprint.as_str())
            .bind(used.role.as_str())
            .execute(&mut *conn)
            .await
            .map_err(|err| {
                if is_unique_violation(&err) {
                    RegistryError::DuplicateKey {
                        kind: "dataset",
                        key: format!("{} as {}", used.fingerprint, used.role),
                        run_id: run_id.to_owned(),
                    }
                } else {
                    RegistryError::db(format!("linking datasets to run {run_id}"))(err)
                }
            })?;
    }
    Ok(())
}

pub(crate) async fn insert_run_row(
    conn: &mut AnyConnection,
    run_id: &str,
    info: &RunInfo,
    status: RunStatus,
    ended_at_ms: Option<i64>,
) -> Result<()> {
    ensure_experiment(conn, &info.experiment).await?;
    sqlx::query(
        "INSERT INTO runs (id, experiment, name, trial_key, status, started_at_ms, ended_at_ms, \
         git_commit, spec_hash, host) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(run_id)
    .bind(info.experiment.as_str())
    .bind(info.name.as_str())
    .bind(info.trial_key.as_deref())
    .bind(status.as_str())
    .bind(info.started_at_ms)
    .bind(ended_at_ms)
    .bind(info.git_commit.as_deref())
    .bind(info.spec_hash.as_deref())
    .bind(info.host.as_deref())
    .execute(conn)
    .await
    .map_err(|err| duplicate_trial_or(err, info, format!("creating run {run_id}")))?;
    Ok(())
}

pub(crate) fn duplicate_trial_or(
    err: sqlx::Error,
    info: &RunInfo,
    context: String,
) -> RegistryError {
    match (&info.trial_key, is_unique_violation(&err)) {
        (Some(trial_key), true) => RegistryError::DuplicateTrial {
            experiment: info.experiment.clone(),
            trial_key: trial_key.clone(),
        },
        _ => RegistryError::db(context)(err),
    }
}

/// Locks a running run for writing: the no-op update takes PostgreSQL's row lock (SQLite's
/// `BEGIN IMMEDIATE` already holds the database lock) and proves the run is still running.
pub(crate) async fn lock_running(
    tx: &mut Transaction<'static, Any>,
    run_id: &str,
) -> Result<RunInfo> {
    let locked =
        sqlx::query("UPDATE runs SET status = status WHERE id = $1 AND status = 'running'")
            .bind(run_id)
            .execute(&mut **tx)
            .await
            .map_err(RegistryError::db(format!("locking run {run_id}")))?;
    let row = sqlx::query("SELECT experiment, trial_key, status FROM runs WHERE id = $1")
        .bind(run_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(RegistryError::db(format!("reading run {run_id}")))?;
    let Some(row) = row else {
        return Err(RegistryError::NotFound {
            kind: "run",
            key: run_id.to_owned(),
            hint: "list runs with `vigil registry runs`",
        });
    };
    let read = |err| RegistryError::db(format!("reading run {run_id}"))(err);
    if locked.rows_affected() == 0 {
        return Err(RegistryError::RunNotRunning {
            run_id: run_id.to_owned(),
            status: row.try_get::<String, _>("status").map_err(read)?,
        });
    }
    let mut info = RunInfo::new(row.try_get::<String, _>("experiment").map_err(read)?);
    info.trial_key = row.try_get("trial_key").map_err(read)?;
    Ok(info)
}

pub(crate) async fn commit(tx: Transaction<'static, Any>, what: &str) -> Result<()> {
    tx.commit()
        .await
        .map_err(RegistryError::db(format!("committing {what}")))
}
