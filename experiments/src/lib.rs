//! Experiment specs and the runner (filled by the experiments issue).
