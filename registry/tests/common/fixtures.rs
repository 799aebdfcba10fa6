//! Deterministic records for tests: every value is a function of its indices, so a reader
//! can check exactly what a writer wrote.

use std::collections::BTreeMap;

use vigil_registry::{
    DatasetUse, MetricPoint, NamedArtifact, NewVersion, Registry, RunInfo, RunRecord,
};

/// The value a writer logs for metric `k` of run `run` of writer `writer`.
pub fn metric_value(writer: u64, run: u64, k: u64) -> f64 {
    (writer * 1_000_003 + run * 101 + k) as f64 / 7.0
}

/// A fingerprint derived from a label.
pub fn fingerprint(label: &str) -> String {
    vigil_registry::sha256_hex(label.as_bytes())
}

/// A complete finished run with `params` params, `metrics` metrics (one step each) and tags
/// naming the writer, keyed `w{writer}-r{run}`.
pub fn run_record(
    experiment: &str,
    writer: u64,
    run: u64,
    params: usize,
    metrics: usize,
) -> RunRecord {
    let mut info = RunInfo::new(experiment);
    info.name = format!("writer {writer} run {run}");
    info.trial_key = Some(format!("w{writer}-r{run}"));
    info.git_commit = Some("0123abc".to_owned());
    info.spec_hash = Some(fingerprint(&format!("spec-{run}")));
    info.started_at_ms = 1_700_000_000_000 + run as i64;
    let mut record = RunRecord::finished(info);
    record.ended_at_ms = 1_700_000_000_500 + run as i64;
    for p in 0..params {
        record
            .params
            .insert(format!("param_{p}"), format!("{}", writer * 10 + p as u64));
    }
    for k in 0..metrics {
        record.metrics.push(MetricPoint {
            key: format!("metric_{k:02}"),
            value: metric_value(writer, run, k as u64),
            step: 0,
            timestamp_ms: 1_700_000_000_100 + k as i64,
        });
    }
    record.tags.insert("writer".to_owned(), writer.to_string());
    record
        .tags
        .insert("expected_metrics".to_owned(), metrics.to_string());
    record
        .tags
        .insert("expected_params".to_owned(), params.to_string());
    record
}

/// A version of `model` with a fitted-state artifact unique to `label`.
pub fn new_version(
    registry: &Registry,
    model: &str,
    run_id: Option<String>,
    label: &str,
) -> NewVersion {
    let state = registry
        .put_artifact(
            format!("{{\"fitted\":\"{label}\"}}").as_bytes(),
            "application/json",
        )
        .expect("storing the state");
    let mut metrics = BTreeMap::new();
    metrics.insert("f1".to_owned(), 0.5);
    metrics.insert("precision".to_owned(), 0.25);
    metrics.insert("nab_standard".to_owned(), f64::NAN);
    NewVersion {
        model: model.to_owned(),
        run_id,
        spec: serde_json::json!({"kind": "ewma", "alpha": 0.3, "label": label}),
        state_artifact: "state.json".to_owned(),
        artifacts: vec![NamedArtifact {
            name: "state.json".to_owned(),
            artifact: state,
        }],
        threshold: 3.5,
        alert_policy: serde_json::json!({"min_duration": 2, "cooldown": 10}),
        metrics,
        datasets: vec![DatasetUse {
            fingerprint: fingerprint("nab"),
            description: "NAB realKnownCause".to_owned(),
            role: "train".to_owned(),
        }],
        description: label.to_owned(),
        created_by: "tests".to_owned(),
    }
}
