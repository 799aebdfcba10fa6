//! What the verbs that read a registered version share (`vigil score`, `vigil export`):
//! opening the registry and the version's typed state, refusing with a message and a hint
//! (exit 2), and writing an output directory that is complete or absent.

use std::path::{Path, PathBuf};

use anyhow::Context;
use vigil_experiments::state::VersionState;
use vigil_registry::{ModelRef, ModelVersion, Registry, RegistryOptions};

/// A user-facing failure: message and hint, exit 2.
pub(super) struct Refusal {
    pub(super) message: String,
    pub(super) hint: String,
}

pub(super) fn refuse(message: impl Into<String>, hint: impl Into<String>) -> Refusal {
    Refusal {
        message: message.into(),
        hint: hint.into(),
    }
}

/// A reader's error as a refusal: its message, and its hint when it has one.
pub(super) fn refusal_of(e: &vigil_experiments::ExperimentError) -> Refusal {
    let text = e.to_string();
    match text.split_once("\nhint: ") {
        Some((message, hint)) => refuse(message, hint),
        None => refuse(text, "use versions registered by `vigil run`"),
    }
}

/// Opens the registry at `db` and the version `reference` with its state; a version the
/// state reader refuses is a refusal, a registry that cannot be opened an error. A version
/// registered before the typed state logs what its reader filled in.
pub(super) fn open_version(
    db: &str,
    artifacts: Option<&Path>,
    reference: &str,
) -> anyhow::Result<Result<(Registry, ModelRef, ModelVersion, VersionState), Refusal>> {
    let reference: ModelRef = reference.parse()?;
    let mut options = RegistryOptions::new(db);
    if let Some(dir) = artifacts {
        options = options.artifact_dir(dir);
    }
    let registry = Registry::open_with(&options)
        .with_context(|| format!("opening registry {}", vigil_registry::redact(db)))?;
    let version = registry
        .resolve(&reference)
        .with_context(|| format!("resolving {reference}"))?;
    let state = match VersionState::load(&registry, &version) {
        Ok(state) => state,
        Err(e) => return Ok(Err(refusal_of(&e))),
    };
    if let Some(note) = &state.legacy {
        tracing::warn!("{}@{}: {note}", version.model, version.version);
    }
    Ok(Ok((registry, reference, version, state)))
}

/// DIR must be absent or an empty directory (never overwrite earlier output).
pub(super) fn check_out_dir(out: &Path) -> Option<Refusal> {
    match std::fs::read_dir(out) {
        Ok(mut entries) => entries.next().map(|_| {
            refuse(
                format!("--out {} exists and is not empty", out.display()),
                "choose a new directory (vigil never overwrites an output directory)",
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(refuse(
            format!("--out {}: {e}", out.display()),
            "pass a directory path that does not exist yet",
        )),
    }
}

/// A fresh staging directory beside `out`, renamed into place by [`move_into_place`] once
/// everything is written.
pub(super) fn temp_dir_beside(out: &Path) -> anyhow::Result<PathBuf> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("creating the parent of --out {}", out.display()))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let temp = parent.join(format!(".{name}.{}.partial", std::process::id()));
    if temp.exists() {
        std::fs::remove_dir_all(&temp)
            .with_context(|| format!("removing a stale {}", temp.display()))?;
    }
    std::fs::create_dir(&temp).with_context(|| format!("creating {}", temp.display()))?;
    Ok(temp)
}

pub(super) fn move_into_place(temp: &Path, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        // Empty (checked before exporting): rename cannot replace a directory on every
        // platform, so remove the empty one first.
        std::fs::remove_dir(out).with_context(|| format!("replacing empty {}", out.display()))?;
    }
    std::fs::rename(temp, out)
        .with_context(|| format!("moving {} to {}", temp.display(), out.display()))
}
