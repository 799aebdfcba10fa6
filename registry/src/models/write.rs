//! Registering versions and moving aliases; each call is one transaction.

use sqlx::{AnyConnection, Row};

use super::{AliasMove, ExpectedAlias, NewVersion, describe_position};
use crate::AsyncRegistry;
use crate::db::with_retry;
use crate::error::{RegistryError, Result};
use crate::names::{validate_alias, validate_key, validate_name};
use crate::tracking::{
    encode_float, ensure_artifact_rows, ensure_dataset_rows, validate_artifacts, validate_datasets,
};
use crate::types::{NamedArtifact, now_ms};

fn validate_actor(field: &'static str, value: &str) -> Result<()> {
    if value.trim().is_empty() || value.chars().count() > 1000 {
        return Err(RegistryError::InvalidField {
            field,
            reason: format!("{value:?} is empty or longer than 1000 characters"),
            hint: "say who acts and why, e.g. --reason \"beats v3 on NAB F1\"",
        });
    }
    Ok(())
}

fn validate_new_version(registry: &AsyncRegistry, new: &NewVersion) -> Result<()> {
    validate_name("model", &new.model)?;
    if !new.threshold.is_finite() {
        return Err(RegistryError::NotFinite {
            field: "threshold",
            value: new.threshold,
        });
    }
    if !new.artifacts.iter().any(|a| a.name == new.state_artifact) {
        return Err(RegistryError::InvalidField {
            field: "state_artifact",
            reason: format!(
                "{:?} is not among the version's artifacts",
                new.state_artifact
            ),
            hint: "include the fitted-state artifact in `artifacts` and name it in `state_artifact`",
        });
    }
    new.metrics
        .keys()
        .try_for_each(|key| validate_key("metric", key))?;
    validate_artifacts(registry, &new.model, &new.artifacts)?;
    validate_datasets(&new.model, &new.datasets)?;
    validate_actor("created_by", &new.created_by)
}

/// Takes the model row's lock and returns the next audit sequence number, or None when the
/// model does not exist. The increment rolls back with the transaction, so the log has no gaps.
async fn next_audit_seq(conn: &mut AnyConnection, model: &str) -> Result<Option<i64>> {
    let row = sqlx::query(
        "UPDATE registered_models SET next_audit = next_audit + 1 WHERE name = $1 \
         RETURNING next_audit - 1 AS seq",
    )
    .bind(model)
    .fetch_optional(conn)
    .await
    .map_err(RegistryError::db(format!("locking model {model}")))?;
    row.map(|r| r.try_get::<i64, _>("seq"))
        .transpose()
        .map_err(RegistryError::db(format!("locking model {model}")))
}

async fn alias_position(conn: &mut AnyConnection, model: &str, alias: &str) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT version FROM model_aliases WHERE model = $1 AND alias = $2")
        .bind(model)
        .bind(alias)
        .fetch_optional(conn)
        .await
        .map_err(RegistryError::db(format!("reading alias {model}@{alias}")))?;
    row.map(|r| r.try_get::<i64, _>("version"))
        .transpose()
        .map_err(RegistryError::db(format!("reading alias {model}@{alias}")))
}

fn model_not_found(model: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: "model",
        key: model.to_owned(),
        hint: "list models with `vigil registry models`",
    }
}

impl AsyncRegistry {
    /// Creates a model, or updates the description of an existing one.
    pub async fn create_model(&self, name: &str, description: &str) -> Result<()> {
        validate_name("model", name)?;
        with_retry("create model", || async move {
            let mut tx = self.db.begin_write().await?;
            sqlx::query(
                "INSERT INTO registered_models (name, description, created_at_ms, next_version, \
                 next_audit) VALUES ($1, $2, $3, 1, 1) \
                 ON CONFLICT (name) DO UPDATE SET description = excluded.description",
            )
            .bind(name)
            .bind(description)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(RegistryError::db(format!("creating model {name}")))?;
            tx.commit()
                .await
                .map_err(RegistryError::db(format!("committing model {name}")))
        })
        .await
    }

    /// Registers a new immutable version in one transaction and returns its number. Numbers
    /// come from a counter on the model row, incremented under its lock: concurrent
    /// registrations get 1, 2, 3… with no duplicates and no gaps.
    pub async fn register_version(&self, new: &NewVersion) -> Result<i64> {
        validate_new_version(self, new)?;
        let spec = new.spec.to_string();
        let alert_policy = new.alert_policy.to_string();
        let (spec, alert_policy) = (spec.as_str(), alert_policy.as_str());
        let model = new.model.as_str();
        with_retry("register version", || async move {
            let mut tx = self.db.begin_write().await?;
            let conn: &mut AnyConnection = &mut tx;
            let ctx = || format!("registering a version of {model}");
            if let Some(run_id) = &new.run_id {
                let status = sqlx::query("SELECT status FROM runs WHERE id = $1")
                    .bind(run_id.as_str())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(RegistryError::db(ctx()))?;
                let status: Option<String> = status
                    .map(|r| r.try_get("status"))
                    .transpose()
                    .map_err(RegistryError::db(ctx()))?;
                match status.as_deref() {
                    None => {
                        return Err(RegistryError::NotFound {
                            kind: "run",
                            key: run_id.clone(),
                            hint: "register versions from runs that exist in this registry",
                        });
                    }
                    Some("finished") => {}
                    Some(other) => {
                        return Err(RegistryError::RunNotRunning {
                            run_id: run_id.clone(),
                            status: format!("{other} (a version needs a finished run)"),
                        });
                    }
                }
            }
            sqlx::query(
                "INSERT INTO registered_models (name, description, created_at_ms, next_version, \
                 next_audit) VALUES ($1, '', $2, 1, 1) ON CONFLICT (name) DO NOTHING",
            )
            .bind(model)
            .bind(now_ms())
            .execute(&mut *conn)
            .await
            .map_err(RegistryError::db(ctx()))?;
            let version: i64 = sqlx::query(
                "UPDATE registered_models SET next_version = next_version + 1 WHERE name = $1 \
                 RETURNING next_version - 1 AS version",
            )
            .bind(model)
            .fetch_one(&mut *conn)
            .await
            .and_then(|row| row.try_get("version"))
            .map_err(RegistryError::db(ctx()))?;
            sqlx::query(
                "INSERT INTO model_versions (model, version, run_id, spec_json, state_artifact, \
                 threshold, alert_policy_json, description, created_by, created_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(model)
            .bind(version)
            .bind(new.run_id.as_deref())
            .bind(spec)
            .bind(new.state_artifact.as_str())
            .bind(new.threshold)
            .bind(alert_policy)
            .bind(new.description.as_str())
            .bind(new.created_by.as_str())
            .bind(now_ms())
            .execute(&mut *conn)
            .await
            .map_err(RegistryError::db(ctx()))?;
            ensure_artifact_rows(conn, &new.artifacts).await?;
            for named in &new.artifacts {
                sqlx::query(
                    "INSERT INTO version_artifacts (model, version, name, sha256) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(model)
                .bind(version)
                .bind(named.name.as_str())
                .bind(named.artifact.sha256.as_str())
                .execute(&mut *conn)
                .await
                .map_err(RegistryError::db(ctx()))?;
            }
            for (key, value) in &new.metrics {
                sqlx::query(
                    "INSERT INTO version_metrics (model, version, key, value) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(model)
                .bind(version)
                .bind(key.as_str())
                .bind(encode_float(*value))
                .execute(&mut *conn)
                .await
                .map_err(RegistryError::db(ctx()))?;
            }
            ensure_dataset_rows(conn, &new.datasets).await?;
            for used in &new.datasets {
                sqlx::query(
                    "INSERT INTO version_datasets (model, version, fingerprint, role) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(model)
                .bind(version)
                .bind(used.fingerprint.as_str())
                .bind(used.role.as_str())
                .execute(&mut *conn)
                .await
                .map_err(RegistryError::db(ctx()))?;
            }
            tx.commit().await.map_err(RegistryError::db(ctx()))?;
            Ok(version)
        })
        .await
    }

    /// Attaches derived artifacts (an ONNX export, a model card) to an existing version in one
    /// transaction. The version's registered content stays immutable: a name it already
    /// carries with the same bytes is a no-op, with other bytes an error, so re-running an
    /// export is idempotent and nothing is ever overwritten.
    pub async fn attach_version_artifacts(
        &self,
        model: &str,
        version: i64,
        artifacts: &[NamedArtifact],
    ) -> Result<()> {
        validate_name("model", model)?;
        validate_artifacts(self, model, artifacts)?;
        with_retry("attach version artifacts", || async move {
            let mut tx = self.db.begin_write().await?;
            let conn: &mut AnyConnection = &mut tx;
            let ctx = || format!("attaching artifacts to {model}@{version}");
            let exists =
                sqlx::query("SELECT version FROM model_versions WHERE model = $1 AND version = $2")
                    .bind(model)
                    .bind(version)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(RegistryError::db(ctx()))?;
            if exists.is_none() {
                return Err(RegistryError::NotFound {
                    kind: "version",
                    key: format!("{model}@{version}"),
                    hint: "list versions with `vigil registry versions MODEL`",
                });
            }
            ensure_artifact_rows(conn, artifacts).await?;
            for named in artifacts {
                let present = sqlx::query(
                    "SELECT sha256 FROM version_artifacts WHERE model = $1 AND version = $2 \
                     AND name = $3",
                )
                .bind(model)
                .bind(version)
                .bind(named.name.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(RegistryError::db(ctx()))?;
                let present: Option<String> = present
                    .map(|r| r.try_get("sha256"))
                    .transpose()
                    .map_err(RegistryError::db(ctx()))?;
                match present {
                    Some(sha) if sha == named.artifact.sha256 => continue,
                    Some(sha) => {
                        return Err(RegistryError::InvalidField {
                            field: "version artifact",
                            reason: format!(
                                "{model}@{version} already carries {} with sha256 {sha}, not {}",
                                named.name, named.artifact.sha256
                            ),
                            hint: "versions are immutable: register a new version to ship \
                                   different bytes under the same name",
                        });
                    }
                    None => {}
                }
                sqlx::query(
                    "INSERT INTO version_artifacts (model, version, name, sha256) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(model)
                .bind(version)
                .bind(named.name.as_str())
                .bind(named.artifact.sha256.as_str())
                .execute(&mut *conn)
                .await
                .map_err(RegistryError::db(ctx()))?;
            }
            tx.commit().await.map_err(RegistryError::db(ctx()))
        })
        .await
    }

    /// Points `alias` at `to_version` if the alias is where `expected` says (compare-and-set),
    /// recording who, when, from, to and why in the audit log, all in one transaction. Moves
    /// on one model serialise on the model row, so of two concurrent moves expecting the same
    /// position exactly one wins; the other gets [`RegistryError::AliasConflict`].
    pub async fn move_alias(
        &self,
        model: &str,
        alias: &str,
        to_version: i64,
        expected: ExpectedAlias,
        who: &str,
        why: &str,
    ) -> Result<AliasMove> {
        self.change_alias(model, alias, Some(to_version), expected, who, why)
            .await
    }

    /// Removes an alias (compare-and-set like [`Self::move_alias`]), recording it in the audit
    /// log with `to_version` None.
    pub async fn remove_alias(
        &self,
        model: &str,
        alias: &str,
        expected: ExpectedAlias,
        who: &str,
        why: &str,
    ) -> Result<AliasMove> {
        self.change_alias(model, alias, None, expected, who, why)
            .await
    }

    async fn change_alias(
        &self,
        model: &str,
        alias: &str,
        to_version: Option<i64>,
        expected: ExpectedAlias,
        who: &str,
        why: &str,
    ) -> Result<AliasMove> {
        validate_name("model", model)?;
        validate_alias(alias)?;
        validate_actor("who", who)?;
        validate_actor("reason", why)?;
        with_retry("move alias", || async move {
            let mut tx = self.db.begin_write().await?;
            let conn: &mut AnyConnection = &mut tx;
            let ctx = || format!("moving alias {model}@{alias}");
            let seq = next_audit_seq(conn, model)
                .await?
                .ok_or_else(|| model_not_found(model))?;
            if let Some(version) = to_version {
                let exists = sqlx::query(
                    "SELECT version FROM model_versions WHERE model = $1 AND version = $2",
                )
                .bind(model)
                .bind(version)
                .fetch_optional(&mut *conn)
                .await
                .map_err(RegistryError::db(ctx()))?;
                if exists.is_none() {
                    return Err(RegistryError::NotFound {
                        kind: "version",
                        key: format!("{model}@{version}"),
                        hint: "list versions with `vigil registry versions MODEL`",
                    });
                }
            }
            let current = alias_position(conn, model, alias).await?;
            if !expected.admits(current) {
                return Err(RegistryError::AliasConflict {
                    model: model.to_owned(),
                    alias: alias.to_owned(),
                    expected: match expected {
                        ExpectedAlias::Anything => "anything".to_owned(),
                        ExpectedAlias::Unset => "unset".to_owned(),
                        ExpectedAlias::At(v) => format!("version {v}"),
                    },
                    found: describe_position(current),
                });
            }
            let now = now_ms();
            match to_version {
                Some(version) => {
                    sqlx::query(
                        "INSERT INTO model_aliases (model, alias, version, updated_at_ms) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (model, alias) DO UPDATE \
                         SET version = excluded.version, updated_at_ms = excluded.updated_at_ms",
                    )
                    .bind(model)
                    .bind(alias)
                    .bind(version)
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map_err(RegistryError::db(ctx()))?;
                }
                None => {
                    if current.is_none() {
                        return Err(RegistryError::NotFound {
                            kind: "alias",
                            key: format!("{model}@{alias}"),
                            hint: "list aliases with `vigil registry aliases MODEL`",
                        });
                    }
                    sqlx::query("DELETE FROM model_aliases WHERE model = $1 AND alias = $2")
                        .bind(model)
                        .bind(alias)
                        .execute(&mut *conn)
                        .await
                        .map_err(RegistryError::db(ctx()))?;
                }
            }
            sqlx::query(
                "INSERT INTO alias_audit (model, seq, alias, from_version, to_version, moved_by, \
                 reason, moved_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(model)
            .bind(seq)
            .bind(alias)
            .bind(current)
            .bind(to_version)
            .bind(who)
            .bind(why)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(RegistryError::db(ctx()))?;
            tx.commit().await.map_err(RegistryError::db(ctx()))?;
            Ok(AliasMove {
                model: model.to_owned(),
                seq,
                alias: alias.to_owned(),
                from_version: current,
                to_version,
                moved_by: who.to_owned(),
                reason: why.to_owned(),
                moved_at_ms: now,
            })
        })
        .await
    }
}
