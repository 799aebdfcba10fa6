//! Reading models, versions, aliases and the audit log.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};

use super::{AliasMove, ModelRef, ModelVersion, RegisteredModel};
use crate::AsyncRegistry;
use crate::error::{RegistryError, Result};
use crate::names::validate_name;
use crate::tracking::{dataset_use_from_row, decode_float, named_artifact_from_row};

fn read_err(what: &str) -> impl FnOnce(sqlx::Error) -> RegistryError {
    RegistryError::db(format!("reading {what}"))
}

fn parse_json(field: &'static str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|source| RegistryError::InvalidJson { field, source })
}

async fn aliases_of(conn: &mut AnyConnection, model: &str) -> Result<BTreeMap<String, i64>> {
    sqlx::query("SELECT alias, version FROM model_aliases WHERE model = $1 ORDER BY alias")
        .bind(model)
        .fetch_all(conn)
        .await
        .map_err(read_err("aliases"))?
        .iter()
        .map(|row| Ok((row.try_get("alias")?, row.try_get("version")?)))
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(read_err("aliases"))
}

async fn version_numbers(conn: &mut AnyConnection, model: &str) -> Result<Vec<i64>> {
    sqlx::query("SELECT version FROM model_versions WHERE model = $1 ORDER BY version")
        .bind(model)
        .fetch_all(conn)
        .await
        .map_err(read_err("versions"))?
        .iter()
        .map(|row| row.try_get("version"))
        .collect::<std::result::Result<_, _>>()
        .map_err(read_err("versions"))
}

async fn load_version(
    conn: &mut AnyConnection,
    model: &str,
    version: i64,
) -> Result<Option<ModelVersion>> {
    let what = format!("version {model}@{version}");
    let Some(row) = sqlx::query(
        "SELECT run_id, spec_json, state_artifact, threshold, alert_policy_json, description, \
         created_by, created_at_ms FROM model_versions WHERE model = $1 AND version = $2",
    )
    .bind(model)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await
    .map_err(read_err(&what))?
    else {
        return Ok(None);
    };
    let get_text = |col: &str| row.try_get::<String, _>(col).map_err(read_err(&what));
    let spec = parse_json("spec_json", &get_text("spec_json")?)?;
    let alert_policy = parse_json("alert_policy_json", &get_text("alert_policy_json")?)?;
    let mut out = ModelVersion {
        model: model.to_owned(),
        version,
        run_id: row.try_get("run_id").map_err(read_err(&what))?,
        spec,
        state_artifact: get_text("state_artifact")?,
        artifacts: Vec::new(),
        threshold: row.try_get("threshold").map_err(read_err(&what))?,
        alert_policy,
        metrics: BTreeMap::new(),
        datasets: Vec::new(),
        description: get_text("description")?,
        created_by: get_text("created_by")?,
        created_at_ms: row.try_get("created_at_ms").map_err(read_err(&what))?,
        aliases: Vec::new(),
    };
    out.artifacts = sqlx::query(
        "SELECT va.name, a.sha256, a.size_bytes, a.media_type FROM version_artifacts va \
         JOIN artifacts a ON a.sha256 = va.sha256 WHERE va.model = $1 AND va.version = $2 \
         ORDER BY va.name",
    )
    .bind(model)
    .bind(version)
    .fetch_all(&mut *conn)
    .await
    .map_err(read_err(&what))?
    .iter()
    .map(named_artifact_from_row)
    .collect::<std::result::Result<_, _>>()
    .map_err(read_err(&what))?;
    out.metrics =
        sqlx::query("SELECT key, value FROM version_metrics WHERE model = $1 AND version = $2")
            .bind(model)
            .bind(version)
            .fetch_all(&mut *conn)
            .await
            .map_err(read_err(&what))?
            .iter()
            .map(|row| Ok((row.try_get("key")?, decode_float(row.try_get("value")?))))
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(read_err(&what))?;
    out.datasets = sqlx::query(
        "SELECT vd.fingerprint, d.description, vd.role FROM version_datasets vd \
         JOIN datasets d ON d.fingerprint = vd.fingerprint \
         WHERE vd.model = $1 AND vd.version = $2 ORDER BY vd.fingerprint, vd.role",
    )
    .bind(model)
    .bind(version)
    .fetch_all(&mut *conn)
    .await
    .map_err(read_err(&what))?
    .iter()
    .map(dataset_use_from_row)
    .collect::<std::result::Result<_, _>>()
    .map_err(read_err(&what))?;
    out.aliases = aliases_of(conn, model)
        .await?
        .into_iter()
        .filter(|(_, v)| *v == version)
        .map(|(alias, _)| alias)
        .collect();
    Ok(Some(out))
}

fn version_not_found(key: String) -> RegistryError {
    RegistryError::NotFound {
        kind: "version",
        key,
        hint: "list versions with `vigil registry versions MODEL` and aliases with `vigil registry aliases MODEL`",
    }
}

impl AsyncRegistry {
    /// All models with their newest version and aliases, by name.
    pub async fn models(&self) -> Result<Vec<RegisteredModel>> {
        let mut tx = self.db.begin_read().await?;
        let rows = sqlx::query(
            "SELECT m.name, m.description, m.created_at_ms, \
             (SELECT MAX(v.version) FROM model_versions v WHERE v.model = m.name) AS latest \
             FROM registered_models m ORDER BY m.name",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(read_err("models"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let name: String = row.try_get("name").map_err(read_err("models"))?;
            let aliases = aliases_of(&mut tx, &name).await?;
            out.push(RegisteredModel {
                description: row.try_get("description").map_err(read_err("models"))?,
                created_at_ms: row.try_get("created_at_ms").map_err(read_err("models"))?,
                latest_version: row.try_get("latest").map_err(read_err("models"))?,
                aliases,
                name,
            });
        }
        tx.commit().await.map_err(read_err("models"))?;
        Ok(out)
    }

    /// Every version of a model, oldest first.
    pub async fn versions(&self, model: &str) -> Result<Vec<ModelVersion>> {
        validate_name("model", model)?;
        let mut tx = self.db.begin_read().await?;
        let exists = sqlx::query("SELECT name FROM registered_models WHERE name = $1")
            .bind(model)
            .fetch_optional(&mut *tx)
            .await
            .map_err(read_err("models"))?;
        if exists.is_none() {
            return Err(RegistryError::NotFound {
                kind: "model",
                key: model.to_owned(),
                hint: "list models with `vigil registry models`",
            });
        }
        let mut out = Vec::new();
        for version in version_numbers(&mut tx, model).await? {
            if let Some(v) = load_version(&mut tx, model, version).await? {
                out.push(v);
            }
        }
        tx.commit().await.map_err(read_err("versions"))?;
        Ok(out)
    }

    /// The version a reference (`MODEL`, `MODEL@3`, `MODEL@champion`) points at, read in one
    /// consistent snapshot: the stable read path for runtime services.
    pub async fn resolve(&self, reference: &ModelRef) -> Result<ModelVersion> {
        let model = reference.model();
        validate_name("model", model)?;
        let mut tx = self.db.begin_read().await?;
        let version = match reference {
            ModelRef::Version(_, version) => Some(*version),
            ModelRef::Latest(_) => version_numbers(&mut tx, model).await?.last().copied(),
            ModelRef::Alias(_, alias) => aliases_of(&mut tx, model).await?.get(alias).copied(),
        };
        let Some(version) = version else {
            return Err(version_not_found(reference.to_string()));
        };
        let found = load_version(&mut tx, model, version).await?;
        tx.commit().await.map_err(read_err("versions"))?;
        found.ok_or_else(|| version_not_found(reference.to_string()))
    }

    /// Current aliases of a model (alias → version).
    pub async fn aliases(&self, model: &str) -> Result<BTreeMap<String, i64>> {
        validate_name("model", model)?;
        let mut conn = self.db.pool.acquire().await.map_err(read_err("aliases"))?;
        aliases_of(&mut conn, model).await
    }

    /// The alias audit log of a model, oldest first.
    pub async fn alias_history(&self, model: &str) -> Result<Vec<AliasMove>> {
        validate_name("model", model)?;
        sqlx::query(
            "SELECT seq, alias, from_version, to_version, moved_by, reason, moved_at_ms \
             FROM alias_audit WHERE model = $1 ORDER BY seq",
        )
        .bind(model)
        .fetch_all(&self.db.pool)
        .await
        .map_err(read_err("alias audit log"))?
        .iter()
        .map(|row| {
            Ok(AliasMove {
                model: model.to_owned(),
                seq: row.try_get("seq")?,
                alias: row.try_get("alias")?,
                from_version: row.try_get("from_version")?,
                to_version: row.try_get("to_version")?,
                moved_by: row.try_get("moved_by")?,
                reason: row.try_get("reason")?,
                moved_at_ms: row.try_get("moved_at_ms")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(read_err("alias audit log"))
    }
}
