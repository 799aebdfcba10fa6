//! Round trips of experiments, runs, params, metrics, tags, artifacts and datasets.

use std::collections::BTreeMap;

use vigil_registry::{
    DatasetUse, MetricPoint, NamedArtifact, RegistryError, RunFilter, RunInfo, RunStatus,
};

use crate::both_backends;
use crate::common::TestDb;
use crate::common::fixtures::{fingerprint, run_record};

both_backends!(
    whole_run_round_trip,
    incremental_run_round_trip,
    trials_finish_once,
    hostile_strings_are_data,
    invalid_records_write_nothing,
);

fn whole_run_round_trip(db: &TestDb) {
    let registry = db.open();
    registry
        .create_experiment("exp", "round trip")
        .expect("experiment");
    let blob = registry
        .put_artifact(b"scores,1,2,3", "text/csv")
        .expect("artifact");
    let mut record = run_record("exp", 1, 7, 4, 3);
    record.metrics.push(MetricPoint {
        key: "loss".to_owned(),
        value: f64::NAN,
        step: 5,
        timestamp_ms: 42,
    });
    record.metrics.push(MetricPoint {
        key: "loss".to_owned(),
        value: f64::INFINITY,
        step: 6,
        timestamp_ms: 43,
    });
    record.artifacts.push(NamedArtifact {
        name: "scores.csv".to_owned(),
        artifact: blob.clone(),
    });
    record.datasets = vec![
        DatasetUse {
            fingerprint: fingerprint("train"),
            description: "NAB train split".to_owned(),
            role: "train".to_owned(),
        },
        DatasetUse {
            fingerprint: fingerprint("train"),
            description: "NAB train split".to_owned(),
            role: "validation".to_owned(),
        },
        DatasetUse {
            fingerprint: fingerprint("test"),
            description: "NAB test split".to_owned(),
            role: "test".to_owned(),
        },
    ];
    let id = registry.log_run(&record).expect("log run");
    assert_eq!(id.len(), 32);

    let got = registry.run(&id).expect("read run");
    assert_eq!(got.run.id, id);
    assert_eq!(got.run.info, record.info);
    assert_eq!(got.run.status, RunStatus::Finished);
    assert_eq!(got.run.ended_at_ms, Some(record.ended_at_ms));
    assert_eq!(got.params, record.params);
    assert_eq!(got.tags, record.tags);
    assert_eq!(got.artifacts, record.artifacts);
    let mut expected_datasets = record.datasets.clone();
    expected_datasets.sort_by(|a, b| (&a.fingerprint, &a.role).cmp(&(&b.fingerprint, &b.role)));
    assert_eq!(got.datasets, expected_datasets);
    let mut expected_metrics = record.metrics.clone();
    expected_metrics.sort_by(|a, b| (&a.key, a.step).cmp(&(&b.key, b.step)));
    assert_eq!(got.metrics.len(), expected_metrics.len());
    for (g, e) in got.metrics.iter().zip(&expected_metrics) {
        assert_eq!(
            (&g.key, g.step, g.timestamp_ms),
            (&e.key, e.step, e.timestamp_ms)
        );
        assert!(
            g.value == e.value || (g.value.is_nan() && e.value.is_nan()),
            "{g:?} vs {e:?}"
        );
    }
    assert_eq!(got.final_metrics()["loss"], f64::INFINITY);

    assert_eq!(
        registry
            .read_run_artifact(&id, "scores.csv")
            .expect("bytes"),
        b"scores,1,2,3"
    );
    let experiments = registry.experiments().expect("experiments");
    assert_eq!(experiments.len(), 1);
    assert_eq!(
        (
            experiments[0].name.as_str(),
            experiments[0].description.as_str(),
            experiments[0].run_count
        ),
        ("exp", "round trip", 1)
    );
    let filter = RunFilter {
        experiment: Some("exp".to_owned()),
        ..RunFilter::default()
    };
    assert_eq!(registry.runs(&filter).expect("runs").len(), 1);
    let failed = RunFilter {
        status: Some(RunStatus::Failed),
        ..RunFilter::default()
    };
    assert!(registry.runs(&failed).expect("runs").is_empty());
    let by_spec = |hash: &str| RunFilter {
        spec_hash: Some(hash.to_owned()),
        status: Some(RunStatus::Finished),
        experiment: Some("exp".to_owned()),
        limit: Some(5),
    };
    let spec_hash = record.info.spec_hash.clone().expect("spec hash");
    assert_eq!(registry.runs(&by_spec(&spec_hash)).expect("runs").len(), 1);
    assert!(registry.runs(&by_spec("other")).expect("runs").is_empty());

    let datasets = registry.datasets().expect("datasets");
    assert_eq!(datasets.len(), 2);
    let lineage = registry
        .dataset_runs(&fingerprint("train"))
        .expect("lineage");
    let roles: Vec<_> = lineage
        .iter()
        .map(|(r, role)| (r.id.as_str(), role.as_str()))
        .collect();
    assert_eq!(
        roles,
        vec![(id.as_str(), "train"), (id.as_str(), "validation")]
    );
    let rows = registry.artifact_rows().expect("artifact rows");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].artifact.clone(), rows[0].references), (blob, 1));

    // Everything survives a reopen, and the schema is current.
    drop(registry);
    let reopened = db.open();
    assert_eq!(reopened.run(&id).expect("read again").params, record.params);
    assert_eq!(reopened.schema_version().expect("schema"), 2);
}

fn incremental_run_round_trip(db: &TestDb) {
    let registry = db.open();
    let mut info = RunInfo::new("inc");
    info.trial_key = Some("trial-1".to_owned());
    let id = registry.start_run(&info).expect("start");
    assert_eq!(
        registry.run(&id).expect("read").run.status,
        RunStatus::Running
    );
    let params: BTreeMap<String, String> = [("alpha", "0.3"), ("window", "12")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    registry.log_params(&id, &params).expect("params");
    let batch = |from: i64, to: i64| -> Vec<MetricPoint> {
        (from..to)
            .map(|s| MetricPoint::new("loss", 1.0 / (s + 1) as f64, s))
            .collect()
    };
    registry.log_metrics(&id, &batch(0, 100)).expect("batch 1");
    registry
        .log_metrics(&id, &batch(100, 200))
        .expect("batch 2");

    // A batch that repeats a logged step fails as a whole: step 200 is not written either.
    let err = registry
        .log_metrics(&id, &batch(199, 201))
        .expect_err("duplicate step");
    assert!(
        matches!(err, RegistryError::DuplicateKey { kind: "metric", .. }),
        "{err}"
    );
    let err = registry
        .log_metrics(
            &id,
            &[MetricPoint::new("x", 1.0, 3), MetricPoint::new("x", 2.0, 3)],
        )
        .expect_err("duplicate inside one batch");
    assert!(err.to_string().contains("appears twice"), "{err}");

    let tags: BTreeMap<String, String> = [("stage".to_owned(), "tuning".to_owned())].into();
    registry.set_tags(&id, &tags).expect("tags");
    let blob = registry
        .put_artifact(b"{}", "application/json")
        .expect("blob");
    let named = [NamedArtifact {
        name: "model.json".to_owned(),
        artifact: blob,
    }];
    let used = [DatasetUse {
        fingerprint: fingerprint("d"),
        description: "d".to_owned(),
        role: "train".to_owned(),
    }];
    registry.log_outputs(&id, &named, &used).expect("outputs");
    registry
        .finish_run(&id, RunStatus::Finished)
        .expect("finish");

    let got = registry.run(&id).expect("read");
    assert_eq!(got.run.status, RunStatus::Finished);
    assert!(got.run.ended_at_ms.is_some());
    assert_eq!(got.params, params);
    assert_eq!(got.metrics.len(), 200);
    assert_eq!(got.metrics.last().map(|m| m.step), Some(199));
    assert_eq!(got.tags, tags);
    assert_eq!(got.artifacts, named.to_vec());
    assert_eq!(got.datasets, used.to_vec());

    // Finished runs are immutable, except tags.
    let err = registry
        .log_metrics(&id, &batch(500, 501))
        .expect_err("finished");
    assert!(matches!(err, RegistryError::RunNotRunning { .. }), "{err}");
    assert!(err.to_string().contains("finished"), "{err}");
    let retag: BTreeMap<String, String> = [("stage".to_owned(), "done".to_owned())].into();
    registry.set_tags(&id, &retag).expect("retag");
    assert_eq!(registry.run(&id).expect("read").tags, retag);

    let err = registry
        .log_metrics("0000", &batch(0, 1))
        .expect_err("unknown run");
    assert!(
        matches!(err, RegistryError::NotFound { kind: "run", .. }),
        "{err}"
    );
}

fn trials_finish_once(db: &TestDb) {
    let registry = db.open();
    let record = run_record("sweep", 0, 1, 2, 2);
    let trial = record.info.trial_key.clone().expect("trial key");
    assert!(
        registry
            .find_finished_run("sweep", &trial)
            .expect("lookup")
            .is_none()
    );
    let id = registry.log_run(&record).expect("first");
    let found = registry.find_finished_run("sweep", &trial).expect("lookup");
    assert_eq!(found.map(|r| r.id), Some(id));

    let err = registry.log_run(&record).expect_err("second finish");
    assert!(matches!(err, RegistryError::DuplicateTrial { .. }), "{err}");
    assert_eq!(registry.runs(&RunFilter::default()).expect("runs").len(), 1);

    // A failed attempt of the same trial is kept beside the finished one.
    let mut failed = record.clone();
    failed.status = RunStatus::Failed;
    registry.log_run(&failed).expect("failed attempt");

    // An incremental re-run cannot finish the trial again, but can be marked failed.
    let inc = registry.start_run(&record.info).expect("start");
    let err = registry
        .finish_run(&inc, RunStatus::Finished)
        .expect_err("duplicate finish");
    assert!(matches!(err, RegistryError::DuplicateTrial { .. }), "{err}");
    assert_eq!(
        registry.run(&inc).expect("read").run.status,
        RunStatus::Running
    );
    registry
        .finish_run(&inc, RunStatus::Failed)
        .expect("mark failed");
    assert_eq!(
        registry.run(&inc).expect("read").run.status,
        RunStatus::Failed
    );
}

fn hostile_strings_are_data(db: &TestDb) {
    let registry = db.open();
    let mut record = run_record("exp", 0, 0, 0, 0);
    let hostile = "x'); DROP TABLE runs; --";
    record.params.insert(hostile.to_owned(), hostile.to_owned());
    record
        .tags
        .insert("quote\"s".to_owned(), "$1 ? %s \\".to_owned());
    record.info.name = "Robert'); DELETE FROM runs;--".to_owned();
    let id = registry.log_run(&record).expect("log");
    let got = registry.run(&id).expect("read");
    assert_eq!(got.params[hostile], hostile);
    assert_eq!(got.tags["quote\"s"], "$1 ? %s \\");
    assert_eq!(got.run.info.name, record.info.name);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM runs"), 1);
}

fn invalid_records_write_nothing(db: &TestDb) {
    let registry = db.open();
    let mut record = run_record("exp", 0, 0, 2, 2);
    let blob = registry.put_artifact(b"x", "text/plain").expect("blob");
    record.artifacts.push(NamedArtifact {
        name: "../escape".to_owned(),
        artifact: blob,
    });
    let err = registry.log_run(&record).expect_err("bad artifact name");
    assert!(
        matches!(err, RegistryError::InvalidArtifactName { .. }),
        "{err}"
    );

    let mut record = run_record("bad name!", 0, 0, 2, 2);
    let err = registry.log_run(&record).expect_err("bad experiment");
    assert!(err.to_string().contains("invalid experiment name"), "{err}");
    record.info.experiment = "ok".to_owned();
    record.datasets.push(DatasetUse {
        fingerprint: "not-a-sha".to_owned(),
        description: String::new(),
        role: "train".to_owned(),
    });
    let err = registry.log_run(&record).expect_err("bad fingerprint");
    assert!(matches!(err, RegistryError::InvalidDigest { .. }), "{err}");
    record.datasets.clear();
    record.status = RunStatus::Running;
    assert!(registry.log_run(&record).is_err());
    assert_eq!(db.scalar("SELECT COUNT(*) FROM runs"), 0);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM experiments"), 0);
}
