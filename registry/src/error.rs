//! The registry's error type: one variant per rule, each message ending with a `hint:`.

use std::path::PathBuf;

/// Everything that can go wrong in the registry.
///
/// Validation variants name the offending field and value; database variants keep the sqlx
/// error as their source and say what the registry was doing when it failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A model, alias, experiment or role name breaks the naming rule.
    #[error(
        "invalid {kind} name {value:?}: {reason}\nhint: use 1 to 128 characters from A-Z a-z 0-9 . _ - starting with a letter or digit"
    )]
    InvalidName {
        /// What was being named (`model`, `alias`, `experiment`, `dataset role`).
        kind: &'static str,
        /// The rejected name.
        value: String,
        /// Which part of the rule it breaks.
        reason: &'static str,
    },

    /// A param, metric or tag key is empty, too long or holds control characters.
    #[error("invalid {kind} key {value:?}: {reason}\nhint: keys are 1 to 250 printable characters")]
    InvalidKey {
        /// `param`, `metric` or `tag`.
        kind: &'static str,
        /// The rejected key.
        value: String,
        /// Which part of the rule it breaks.
        reason: &'static str,
    },

    /// An artifact name could escape the artifact directory or is otherwise unusable.
    #[error(
        "invalid artifact name {value:?}: {reason}\nhint: use a plain file name such as `model.json` (no `/`, `\\`, `..`, NUL, at most 255 bytes)"
    )]
    InvalidArtifactName {
        /// The rejected name.
        value: String,
        /// Which part of the rule it breaks.
        reason: &'static str,
    },

    /// A dataset fingerprint or artifact hash is not 64 lowercase hex digits.
    #[error(
        "invalid {kind} {value:?}: expected 64 lowercase hex digits (a sha256)\nhint: pass the sha256 hex digest exactly as computed"
    )]
    InvalidDigest {
        /// `dataset fingerprint` or `artifact sha256`.
        kind: &'static str,
        /// The rejected value.
        value: String,
    },

    /// A JSON field (detector spec, alert policy) does not parse.
    #[error("{field} is not valid JSON: {source}\nhint: pass a serialised JSON document")]
    InvalidJson {
        /// Which field.
        field: &'static str,
        /// The parser's complaint.
        source: serde_json::Error,
    },

    /// A number that must be finite is NaN or infinite.
    #[error("{field} must be finite, got {value}\nhint: compute a finite value before registering")]
    NotFinite {
        /// Which field.
        field: &'static str,
        /// The rejected value.
        value: f64,
    },

    /// Any other rule on a record's fields (e.g. the state artifact must be in the list).
    #[error("invalid {field}: {reason}\nhint: {hint}")]
    InvalidField {
        /// Which field.
        field: &'static str,
        /// What is wrong.
        reason: String,
        /// How to fix it.
        hint: &'static str,
    },

    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error(
        "unsupported database URL {url:?}\nhint: use sqlite://PATH (e.g. sqlite://./vigil.db) or postgres://USER@HOST:PORT/DB"
    )]
    UnsupportedUrl {
        /// The rejected URL.
        url: String,
    },

    /// The database holds a schema version newer than this binary knows.
    #[error(
        "database schema version {found} is newer than this vigil supports (schema version {supported})\nhint: upgrade vigil to a release that knows schema {found}; never downgrade a registry"
    )]
    SchemaTooNew {
        /// The newest version applied to the database.
        found: i64,
        /// The newest version this binary embeds.
        supported: i64,
    },

    /// Applying migrations failed.
    #[error(
        "migrating the registry schema failed: {source}\nhint: check the database is writable and not modified by hand"
    )]
    Migration {
        /// sqlx's migration error.
        source: sqlx::migrate::MigrateError,
    },

    /// A database statement failed.
    #[error(
        "database error while {context}: {source}\nhint: check the database is reachable and writable"
    )]
    Database {
        /// What the registry was doing.
        context: String,
        /// sqlx's error.
        source: sqlx::Error,
    },

    /// A filesystem operation in the artifact store failed.
    #[error("I/O error on {}: {source}\nhint: check the artifact directory exists and is writable", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// A stored artifact's bytes do not hash to its name: the file was corrupted or tampered with.
    #[error(
        "artifact {expected} at {} is corrupt: its bytes hash to {actual}\nhint: restore the file from a backup or re-log the artifact; `vigil registry gc` does not repair it",
        path.display()
    )]
    ArtifactCorrupt {
        /// The sha256 the artifact is stored under.
        expected: String,
        /// The sha256 of the bytes found.
        actual: String,
        /// The file.
        path: PathBuf,
    },

    /// An artifact is referenced but its file is not in the artifact directory.
    #[error(
        "artifact {sha256} is missing from the artifact store (expected at {})\nhint: point --artifacts / VIGIL_ARTIFACTS at the directory this registry was written with",
        path.display()
    )]
    ArtifactMissing {
        /// The sha256 looked up.
        sha256: String,
        /// Where the file was expected.
        path: PathBuf,
    },

    /// A looked-up entity does not exist.
    #[error("{kind} {key:?} not found\nhint: {hint}")]
    NotFound {
        /// `experiment`, `run`, `model`, `version`, `alias`, `artifact`, `dataset`.
        kind: &'static str,
        /// The key looked up.
        key: String,
        /// Where to look instead.
        hint: &'static str,
    },

    /// A compare-and-set alias move found the alias elsewhere than expected.
    #[error(
        "alias {model}@{alias} was expected at {expected} but is at {found}\nhint: someone moved it concurrently; re-read the aliases and retry"
    )]
    AliasConflict {
        /// The model.
        model: String,
        /// The alias.
        alias: String,
        /// What the caller expected, in words.
        expected: String,
        /// What was found, in words.
        found: String,
    },

    /// A write to a run that is no longer running.
    #[error(
        "run {run_id} is {status}, not running\nhint: start a new run; finished runs are immutable"
    )]
    RunNotRunning {
        /// The run.
        run_id: String,
        /// Its status.
        status: String,
    },

    /// A second finished run for the same (experiment, trial key).
    #[error(
        "experiment {experiment:?} already has a finished run for trial key {trial_key:?}\nhint: look it up with find_finished_run to resume instead of re-running"
    )]
    DuplicateTrial {
        /// The experiment.
        experiment: String,
        /// The trial key.
        trial_key: String,
    },

    /// A record repeats a key that must be unique (param, tag, metric step, artifact name).
    #[error(
        "{kind} {key:?} appears twice in run {run_id}\nhint: log each {kind} once (metrics: once per step)"
    )]
    DuplicateKey {
        /// `param`, `tag`, `metric`, `artifact`, `dataset`.
        kind: &'static str,
        /// The repeated key.
        key: String,
        /// The run.
        run_id: String,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

impl RegistryError {
    /// Wraps a sqlx error with what the registry was doing.
    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> RegistryError {
        let context = context.into();
        move |source| RegistryError::Database { context, source }
    }

    /// Wraps an I/O error with the path involved.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> RegistryError {
        let path = path.into();
        move |source| RegistryError::Io { path, source }
    }

    /// True when retrying the whole transaction may succeed: SQLite busy/locked, PostgreSQL
    /// serialisation failure or deadlock.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            RegistryError::Database { source, .. } => is_retryable_sqlx(source),
            _ => false,
        }
    }
}

/// SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended codes; PostgreSQL:
/// serialization_failure (40001) and deadlock_detected (40P01).
pub(crate) fn is_retryable_sqlx(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    let Some(code) = db.code() else {
        return false;
    };
    match code.as_ref() {
        "40001" | "40P01" => true,
        other => other
            .parse::<i64>()
            .map(|c| matches!(c & 0xff, 5 | 6))
            .unwrap_or(false),
    }
}

/// True when the error is a unique-constraint violation on either backend.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db.kind() == sqlx::error::ErrorKind::UniqueViolation,
        _ => false,
    }
}
