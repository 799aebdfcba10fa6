//! The stable read path for runtime services: materialise a version into a directory.
//!
//! `get` writes every artifact of the version under its name (bytes verified against their
//! sha256 on the way out) and then `manifest.json`. The manifest is written last and
//! atomically, so a reader that sees a manifest sees complete artifacts.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::AsyncRegistry;
use crate::error::{RegistryError, Result};
use crate::models::ModelRef;
use crate::names::validate_artifact_name;
use crate::types::DatasetUse;

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The manifest format, bumped on incompatible changes.
pub const MANIFEST_FORMAT: &str = "vigil-model-manifest/1";

/// One artifact in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestArtifact {
    /// File name inside the output directory.
    pub name: String,
    /// sha256 of the bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Media type.
    pub media_type: String,
}

/// What a runtime service needs to load and run a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// The reference that was resolved (e.g. `cpu-ewma@champion`).
    pub reference: String,
    /// Model name.
    pub model: String,
    /// Resolved version.
    pub version: i64,
    /// Aliases pointing at this version when it was read.
    pub aliases: Vec<String>,
    /// Producing run.
    pub run_id: Option<String>,
    /// Detector spec.
    pub spec: serde_json::Value,
    /// Decision threshold.
    pub threshold: f64,
    /// Alert policy.
    pub alert_policy: serde_json::Value,
    /// The artifact holding the fitted state.
    pub state_artifact: String,
    /// All artifacts written.
    pub artifacts: Vec<ManifestArtifact>,
    /// Metrics (null for NaN).
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Lineage.
    pub datasets: Vec<DatasetUse>,
    /// Who registered the version.
    pub created_by: String,
    /// When, ms since the epoch.
    pub created_at_ms: i64,
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    validate_artifact_name(name).or_else(|err| {
        if name == MANIFEST_FILE {
            Ok(())
        } else {
            Err(err)
        }
    })?;
    let dest = dir.join(name);
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = File::create(&temp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&temp, &dest));
    if let Err(source) = written {
        let _ = fs::remove_file(&temp);
        return Err(RegistryError::Io { path: dest, source });
    }
    Ok(())
}

impl AsyncRegistry {
    /// Resolves `reference` and writes its artifacts plus [`MANIFEST_FILE`] into `out_dir`
    /// (created if needed). Every artifact's hash is verified before it is written.
    pub async fn get(&self, reference: &ModelRef, out_dir: &Path) -> Result<Manifest> {
        let version = self.resolve(reference).await?;
        let mut blobs = Vec::with_capacity(version.artifacts.len());
        for named in &version.artifacts {
            blobs.push((named, self.store.read(&named.artifact.sha256)?));
        }
        fs::create_dir_all(out_dir).map_err(RegistryError::io(out_dir))?;
        for (named, bytes) in &blobs {
            write_atomically(out_dir, &named.name, bytes)?;
        }
        let manifest = Manifest {
            format: MANIFEST_FORMAT.to_owned(),
            reference: reference.to_string(),
            model: version.model.clone(),
            version: version.version,
            aliases: version.aliases.clone(),
            run_id: version.run_id.clone(),
            spec: version.spec.clone(),
            threshold: version.threshold,
            alert_policy: version.alert_policy.clone(),
            state_artifact: version.state_artifact.clone(),
            artifacts: version
                .artifacts
                .iter()
                .map(|a| ManifestArtifact {
                    name: a.name.clone(),
                    sha256: a.artifact.sha256.clone(),
                    size_bytes: a.artifact.size_bytes,
                    media_type: a.artifact.media_type.clone(),
                })
                .collect(),
            metrics: version
                .metrics
                .iter()
                .map(|(k, v)| (k.clone(), (!v.is_nan()).then_some(*v)))
                .collect(),
            datasets: version.datasets.clone(),
            created_by: version.created_by.clone(),
            created_at_ms: version.created_at_ms,
        };
        let json =
            serde_json::to_vec_pretty(&manifest).map_err(|source| RegistryError::InvalidJson {
                field: "manifest",
                source,
            })?;
        write_atomically(out_dir, MANIFEST_FILE, &json)?;
        let dir = File::open(out_dir).map_err(RegistryError::io(out_dir))?;
        dir.sync_all().map_err(RegistryError::io(out_dir))?;
        Ok(manifest)
    }
}
