//! One error type for the experiment runner. Every message names the file, key, dataset,
//! series or family involved and ends with a `hint:`.

use std::path::PathBuf;

/// Result alias.
pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;

/// Everything that can stop an experiment.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The spec is not valid TOML or does not fit the schema.
    #[error("{file}:{line}:{column}: {message}\nhint: {hint}")]
    SpecSyntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
        hint: String,
    },
    /// The spec parses but a value breaks a rule.
    #[error("{file}: key `{key}`: {message}\nhint: {hint}")]
    SpecInvalid {
        file: String,
        key: String,
        message: String,
        hint: String,
    },
    /// A file could not be read or written.
    #[error("{}: {message}\nhint: {hint}", path.display())]
    Io {
        path: PathBuf,
        message: String,
        hint: String,
    },
    /// Loading or splitting data failed.
    #[error("dataset {dataset}: {source}")]
    Data {
        dataset: String,
        #[source]
        source: Box<vigil_datasets::DatasetError>,
    },
    /// The data selected holds nothing to run on.
    #[error("dataset {dataset}: {message}\nhint: {hint}")]
    Selection {
        dataset: String,
        message: String,
        hint: String,
    },
    /// A detector could not be configured (fitting failures of single candidates are
    /// recorded as failed trials instead).
    #[error("{family}: {source}")]
    Detector {
        family: String,
        #[source]
        source: Box<vigil_train::TrainError>,
    },
    /// Evaluation failed.
    #[error(transparent)]
    Eval(#[from] Box<vigil_eval::EvalError>),
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] Box<vigil_registry::RegistryError>),
    /// Every candidate of every family failed, or nothing met the constraints.
    #[error("{message}\nhint: {hint}")]
    NothingToChoose { message: String, hint: String },
    /// `--resume` found nothing to resume.
    #[error("{message}\nhint: {hint}")]
    Resume { message: String, hint: String },
    /// A sharded run cannot proceed (incomplete shards, a bad group, an unsplittable search).
    #[error("{message}\nhint: {hint}")]
    Shard { message: String, hint: String },
    /// The run was interrupted (Ctrl-C); finished trials are in the registry.
    #[error(
        "interrupted; finished trials are saved\nhint: run the same command with --resume to continue"
    )]
    Interrupted,
}

impl From<vigil_eval::EvalError> for ExperimentError {
    fn from(e: vigil_eval::EvalError) -> Self {
        ExperimentError::Eval(Box::new(e))
    }
}

impl From<vigil_registry::RegistryError> for ExperimentError {
    fn from(e: vigil_registry::RegistryError) -> Self {
        ExperimentError::Registry(Box::new(e))
    }
}
