//! Garbage collection of the artifact store.
//!
//! Writers put a blob into the store *before* the transaction that records it, so a blob
//! without a row may simply be waiting for its commit. `gc` therefore only touches blobs,
//! rows and temp files older than a grace period (`min_age`).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::AsyncRegistry;
use crate::db::with_retry;
use crate::error::{RegistryError, Result};
use crate::types::now_ms;

/// What `gc` removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcReport {
    /// True when nothing was deleted.
    pub dry_run: bool,
    /// Artifact rows no run or version refers to.
    pub unreferenced_rows: Vec<String>,
    /// Blob files removed: unreferenced rows' files and files without a row.
    pub removed_files: Vec<String>,
    /// Bytes those files held.
    pub removed_bytes: u64,
    /// Leftover temp files of crashed writers removed.
    pub removed_temp_files: usize,
    /// Unreferenced blobs kept because they are younger than the grace period.
    pub kept_recent: usize,
}

impl AsyncRegistry {
    /// Removes artifact rows that nothing references and blob files that no row references,
    /// when older than `min_age`. With `dry_run` it only reports.
    pub async fn gc(&self, dry_run: bool, min_age: Duration) -> Result<GcReport> {
        let min_age_ms = i64::try_from(min_age.as_millis()).unwrap_or(i64::MAX);
        let cutoff_ms = now_ms().saturating_sub(min_age_ms);
        let cutoff_time = SystemTime::now()
            .checked_sub(min_age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let unreferenced_rows = with_retry("gc", || async move {
            let mut tx = self.db.begin_write().await?;
            let rows = sqlx::query(
                "SELECT a.sha256 FROM artifacts a WHERE a.created_at_ms < $1 \
                 AND NOT EXISTS (SELECT 1 FROM run_artifacts r WHERE r.sha256 = a.sha256) \
                 AND NOT EXISTS (SELECT 1 FROM version_artifacts v WHERE v.sha256 = a.sha256) \
                 ORDER BY a.sha256",
            )
            .bind(cutoff_ms)
            .fetch_all(&mut *tx)
            .await
            .map_err(RegistryError::db("finding unreferenced artifacts"))?;
            let shas = rows
                .iter()
                .map(|row| row.try_get::<String, _>("sha256"))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(RegistryError::db("finding unreferenced artifacts"))?;
            if !dry_run {
                for sha in &shas {
                    sqlx::query(
                        "DELETE FROM artifacts WHERE sha256 = $1 \
                         AND NOT EXISTS (SELECT 1 FROM run_artifacts r WHERE r.sha256 = $1) \
                         AND NOT EXISTS (SELECT 1 FROM version_artifacts v WHERE v.sha256 = $1)",
                    )
                    .bind(sha.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(RegistryError::db("deleting unreferenced artifacts"))?;
                }
            }
            tx.commit()
                .await
                .map_err(RegistryError::db("committing gc"))?;
            Ok(shas)
        })
        .await?;

        let known: BTreeSet<String> = sqlx::query("SELECT sha256 FROM artifacts")
            .fetch_all(&self.db.pool)
            .await
            .map_err(RegistryError::db("listing artifacts"))?
            .iter()
            .map(|row| row.try_get::<String, _>("sha256"))
            .collect::<std::result::Result<_, _>>()
            .map_err(RegistryError::db("listing artifacts"))?;
        let doomed: BTreeSet<&String> = if dry_run {
            unreferenced_rows.iter().collect()
        } else {
            BTreeSet::new()
        };

        let mut report = GcReport {
            dry_run,
            unreferenced_rows: unreferenced_rows.clone(),
            ..GcReport::default()
        };
        for (sha, path, modified) in self.store.list()? {
            let referenced = known.contains(&sha) && !doomed.contains(&sha);
            if referenced {
                continue;
            }
            if modified > cutoff_time {
                report.kept_recent += 1;
                continue;
            }
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if !dry_run {
                std::fs::remove_file(&path).map_err(RegistryError::io(&path))?;
            }
            report.removed_bytes += size;
            report.removed_files.push(sha);
        }
        for (path, modified) in self.store.list_temp()? {
            if modified <= cutoff_time {
                if !dry_run {
                    std::fs::remove_file(&path).map_err(RegistryError::io(&path))?;
                }
                report.removed_temp_files += 1;
            }
        }
        tracing::info!(
            dry_run,
            rows = report.unreferenced_rows.len(),
            files = report.removed_files.len(),
            bytes = report.removed_bytes,
            "artifact gc"
        );
        Ok(report)
    }
}
