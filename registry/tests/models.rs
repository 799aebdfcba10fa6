//! Models, versions, aliases, the audit log and the `get` read path.

use std::sync::{Arc, Barrier};

use vigil_registry::{
    ExpectedAlias, MANIFEST_FILE, Manifest, ModelRef, NamedArtifact, RegistryError, RunStatus,
};

use crate::both_backends;
use crate::common::TestDb;
use crate::common::fixtures::{new_version, run_record};

both_backends!(
    versions_round_trip,
    invalid_versions_are_refused,
    aliases_move_with_compare_and_set,
    get_writes_verified_artifacts_and_manifest,
    concurrent_registration_is_gap_free,
    concurrent_promotions_have_one_winner,
    attached_artifacts_are_added_once_and_never_replaced,
);

fn model_ref(s: &str) -> ModelRef {
    s.parse().expect("a model reference")
}

fn versions_round_trip(db: &TestDb) {
    let registry = db.open();
    let run_id = registry
        .log_run(&run_record("exp", 0, 0, 1, 1))
        .expect("run");
    let first = new_version(&registry, "cpu-ewma", Some(run_id.clone()), "one");
    assert_eq!(registry.register_version(&first).expect("v1"), 1);
    for label in ["two", "three"] {
        registry
            .register_version(&new_version(&registry, "cpu-ewma", None, label))
            .expect("version");
    }
    registry
        .create_model("cpu-ewma", "EWMA on CPU")
        .expect("describe");

    let versions = registry.versions("cpu-ewma").expect("versions");
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let v1 = &versions[0];
    assert_eq!(v1.run_id.as_deref(), Some(run_id.as_str()));
    assert_eq!(v1.spec, first.spec);
    assert_eq!(v1.alert_policy, first.alert_policy);
    assert_eq!(v1.threshold, 3.5);
    assert_eq!(v1.state_artifact, "state.json");
    assert_eq!(v1.artifacts, first.artifacts);
    assert_eq!(v1.datasets, first.datasets);
    assert_eq!(v1.created_by, "tests");
    assert_eq!(v1.metrics.len(), 3);
    assert_eq!(v1.metrics["f1"], 0.5);
    assert!(v1.metrics["nab_standard"].is_nan());

    assert_eq!(
        registry
            .resolve(&model_ref("cpu-ewma"))
            .expect("latest")
            .version,
        3
    );
    assert_eq!(
        registry
            .resolve(&model_ref("cpu-ewma@2"))
            .expect("v2")
            .description,
        "two"
    );
    let err = registry
        .resolve(&model_ref("cpu-ewma@9"))
        .expect_err("missing");
    assert!(
        matches!(
            err,
            RegistryError::NotFound {
                kind: "version",
                ..
            }
        ),
        "{err}"
    );
    let models = registry.models().expect("models");
    assert_eq!(models.len(), 1);
    assert_eq!(
        (models[0].description.as_str(), models[0].latest_version),
        ("EWMA on CPU", Some(3))
    );
    let err = registry.versions("nope").expect_err("unknown model");
    assert!(
        matches!(err, RegistryError::NotFound { kind: "model", .. }),
        "{err}"
    );
}

fn invalid_versions_are_refused(db: &TestDb) {
    let registry = db.open();
    let good = new_version(&registry, "m", None, "x");

    let mut bad = good.clone();
    bad.threshold = f64::NAN;
    let err = registry.register_version(&bad).expect_err("nan threshold");
    assert!(
        matches!(
            err,
            RegistryError::NotFinite {
                field: "threshold",
                ..
            }
        ),
        "{err}"
    );

    let mut bad = good.clone();
    bad.state_artifact = "missing.bin".to_owned();
    let err = registry
        .register_version(&bad)
        .expect_err("state not listed");
    assert!(err.to_string().contains("missing.bin"), "{err}");

    let mut bad = good.clone();
    bad.model = "no spaces".to_owned();
    let err = registry.register_version(&bad).expect_err("bad name");
    assert!(err.to_string().contains("invalid model name"), "{err}");

    let mut bad = good.clone();
    bad.run_id = Some("ffff".to_owned());
    let err = registry.register_version(&bad).expect_err("unknown run");
    assert!(
        matches!(err, RegistryError::NotFound { kind: "run", .. }),
        "{err}"
    );

    let running = registry
        .start_run(&vigil_registry::RunInfo::new("exp"))
        .expect("start");
    let mut bad = good.clone();
    bad.run_id = Some(running.clone());
    let err = registry.register_version(&bad).expect_err("running run");
    assert!(err.to_string().contains("needs a finished run"), "{err}");
    registry
        .finish_run(&running, RunStatus::Failed)
        .expect("fail");

    let mut bad = good.clone();
    bad.artifacts.push(NamedArtifact {
        name: "ghost.bin".to_owned(),
        artifact: vigil_registry::StoredArtifact {
            sha256: "0".repeat(64),
            size_bytes: 1,
            media_type: "application/octet-stream".to_owned(),
        },
    });
    let err = registry
        .register_version(&bad)
        .expect_err("blob not stored");
    assert!(
        matches!(err, RegistryError::ArtifactMissing { .. }),
        "{err}"
    );

    // None of the refusals used up a version number.
    assert_eq!(registry.register_version(&good).expect("good"), 1);
}

fn aliases_move_with_compare_and_set(db: &TestDb) {
    let registry = db.open();
    for label in ["a", "b", "c"] {
        registry
            .register_version(&new_version(&registry, "m", None, label))
            .expect("version");
    }
    let first = registry
        .move_alias(
            "m",
            "champion",
            1,
            ExpectedAlias::Unset,
            "alice",
            "first model",
        )
        .expect("create alias");
    assert_eq!(
        (first.seq, first.from_version, first.to_version),
        (1, None, Some(1))
    );
    assert_eq!(
        registry
            .resolve(&model_ref("m@champion"))
            .expect("alias")
            .version,
        1
    );

    registry
        .move_alias("m", "champion", 2, ExpectedAlias::At(1), "bob", "better F1")
        .expect("cas");
    let err = registry
        .move_alias(
            "m",
            "champion",
            3,
            ExpectedAlias::At(1),
            "carol",
            "stale view",
        )
        .expect_err("stale cas");
    match &err {
        RegistryError::AliasConflict {
            expected, found, ..
        } => {
            assert_eq!(
                (expected.as_str(), found.as_str()),
                ("version 1", "version 2")
            );
        }
        other => panic!("expected a conflict, got {other}"),
    }
    let err = registry
        .move_alias(
            "m",
            "champion",
            3,
            ExpectedAlias::Unset,
            "carol",
            "stale view",
        )
        .expect_err("not unset");
    assert!(matches!(err, RegistryError::AliasConflict { .. }), "{err}");
    let err = registry
        .move_alias(
            "m",
            "champion",
            9,
            ExpectedAlias::Anything,
            "carol",
            "no such version",
        )
        .expect_err("missing version");
    assert!(
        matches!(
            err,
            RegistryError::NotFound {
                kind: "version",
                ..
            }
        ),
        "{err}"
    );
    let err = registry
        .move_alias(
            "m",
            "42",
            1,
            ExpectedAlias::Anything,
            "carol",
            "numeric alias",
        )
        .expect_err("numeric alias");
    assert!(matches!(err, RegistryError::InvalidName { .. }), "{err}");
    let err = registry
        .move_alias("m", "champion", 1, ExpectedAlias::Anything, "carol", " ")
        .expect_err("empty reason");
    assert!(err.to_string().contains("reason"), "{err}");
    let err = registry
        .move_alias("nope", "champion", 1, ExpectedAlias::Anything, "carol", "x")
        .expect_err("missing model");
    assert!(
        matches!(err, RegistryError::NotFound { kind: "model", .. }),
        "{err}"
    );

    registry
        .move_alias(
            "m",
            "challenger",
            3,
            ExpectedAlias::Anything,
            "carol",
            "try c",
        )
        .expect("challenger");
    registry
        .move_alias(
            "m",
            "champion",
            3,
            ExpectedAlias::Anything,
            "carol",
            "c wins",
        )
        .expect("force");
    registry
        .remove_alias("m", "challenger", ExpectedAlias::At(3), "carol", "promoted")
        .expect("remove");
    let aliases = registry.aliases("m").expect("aliases");
    assert_eq!(
        aliases.into_iter().collect::<Vec<_>>(),
        vec![("champion".to_owned(), 3)]
    );
    assert_eq!(
        registry.resolve(&model_ref("m@3")).expect("v3").aliases,
        vec!["champion"]
    );
    let err = registry
        .resolve(&model_ref("m@challenger"))
        .expect_err("removed");
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err}");

    let history = registry.alias_history("m").expect("history");
    let summary: Vec<_> = history
        .iter()
        .map(|h| {
            (
                h.seq,
                h.alias.as_str(),
                h.from_version,
                h.to_version,
                h.moved_by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "champion", None, Some(1), "alice"),
            (2, "champion", Some(1), Some(2), "bob"),
            (3, "challenger", None, Some(3), "carol"),
            (4, "champion", Some(2), Some(3), "carol"),
            (5, "challenger", Some(3), None, "carol"),
        ]
    );
    assert_eq!(history[1].reason, "better F1");
    assert!(
        history
            .windows(2)
            .all(|w| w[0].moved_at_ms <= w[1].moved_at_ms)
    );
}

fn get_writes_verified_artifacts_and_manifest(db: &TestDb) {
    let registry = db.open();
    let mut new = new_version(&registry, "m", None, "served");
    let onnx = registry
        .put_artifact(b"onnx-bytes", "application/onnx")
        .expect("onnx");
    new.artifacts.push(NamedArtifact {
        name: "model.onnx".to_owned(),
        artifact: onnx.clone(),
    });
    let version = registry.register_version(&new).expect("register");
    registry
        .move_alias(
            "m",
            "champion",
            version,
            ExpectedAlias::Unset,
            "ci",
            "first",
        )
        .expect("promote");

    let out = db.path().join("served");
    let manifest = registry.get(&model_ref("m@champion"), &out).expect("get");
    assert_eq!((manifest.model.as_str(), manifest.version), ("m", 1));
    assert_eq!(manifest.reference, "m@champion");
    assert_eq!(manifest.threshold, 3.5);
    assert_eq!(manifest.aliases, vec!["champion"]);
    assert_eq!(manifest.metrics["f1"], Some(0.5));
    assert_eq!(manifest.metrics["nab_standard"], None);
    assert_eq!(
        std::fs::read(out.join("model.onnx")).expect("onnx file"),
        b"onnx-bytes"
    );
    for artifact in &manifest.artifacts {
        let bytes = std::fs::read(out.join(&artifact.name)).expect("artifact file");
        assert_eq!(vigil_registry::sha256_hex(&bytes), artifact.sha256);
        assert_eq!(bytes.len() as u64, artifact.size_bytes);
    }
    let on_disk: Manifest =
        serde_json::from_slice(&std::fs::read(out.join(MANIFEST_FILE)).expect("manifest file"))
            .expect("manifest parses");
    assert_eq!(on_disk, manifest);

    // A corrupted blob is refused and not written out.
    let path = registry.artifacts().path_of(&onnx.sha256).expect("path");
    std::fs::write(&path, b"tampered").expect("tamper");
    let elsewhere = db.path().join("served-2");
    let err = registry
        .get(&model_ref("m@champion"), &elsewhere)
        .expect_err("corrupt");
    assert!(
        matches!(err, RegistryError::ArtifactCorrupt { .. }),
        "{err}"
    );
    assert!(!elsewhere.join(MANIFEST_FILE).exists());
}

fn concurrent_registration_is_gap_free(db: &TestDb) {
    let registry = db.open();
    let threads = 8;
    let per_thread = 10;
    let barrier = Arc::new(Barrier::new(threads));
    std::thread::scope(|scope| {
        for t in 0..threads {
            let registry = registry.clone();
            let barrier = Arc::clone(&barrier);
            scope.spawn(move || {
                barrier.wait();
                for i in 0..per_thread {
                    registry
                        .register_version(&new_version(&registry, "m", None, &format!("t{t}-{i}")))
                        .expect("register");
                }
            });
        }
    });
    let versions = registry.versions("m").expect("versions");
    let numbers: Vec<i64> = versions.iter().map(|v| v.version).collect();
    assert_eq!(
        numbers,
        (1..=(threads * per_thread) as i64).collect::<Vec<_>>()
    );
    let mut labels: Vec<_> = versions.iter().map(|v| v.description.clone()).collect();
    labels.sort();
    labels.dedup();
    assert_eq!(labels.len(), threads * per_thread);
}

fn concurrent_promotions_have_one_winner(db: &TestDb) {
    let registry = db.open();
    let contenders = 8;
    for i in 0..=contenders {
        registry
            .register_version(&new_version(&registry, "m", None, &format!("v{i}")))
            .expect("register");
    }
    registry
        .move_alias("m", "champion", 1, ExpectedAlias::Unset, "ci", "initial")
        .expect("initial");
    let barrier = Arc::new(Barrier::new(contenders));
    let outcomes: Vec<Result<i64, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..contenders)
            .map(|i| {
                let registry = registry.clone();
                let barrier = Arc::clone(&barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let to = i as i64 + 2;
                    registry
                        .move_alias("m", "champion", to, ExpectedAlias::At(1), "ci", "race")
                        .map(|_| to)
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let winners: Vec<i64> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().copied())
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for loser in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(loser.contains("was expected at version 1"), "{loser}");
    }
    assert_eq!(
        registry.aliases("m").expect("aliases")["champion"],
        winners[0]
    );
    assert_eq!(registry.alias_history("m").expect("history").len(), 2);
}

fn attached_artifacts_are_added_once_and_never_replaced(db: &TestDb) {
    let registry = db.open();
    registry
        .register_version(&new_version(&registry, "cpu-ewma", None, "one"))
        .expect("v1");
    let onnx = registry
        .put_artifact(b"onnx bytes", "application/onnx")
        .expect("put");
    let named = vec![NamedArtifact {
        name: "model.onnx".to_owned(),
        artifact: onnx.clone(),
    }];
    registry
        .attach_version_artifacts("cpu-ewma", 1, &named)
        .expect("attach");
    // The same bytes again: a no-op.
    registry
        .attach_version_artifacts("cpu-ewma", 1, &named)
        .expect("idempotent");
    let v1 = registry.resolve(&model_ref("cpu-ewma@1")).expect("v1");
    let attached: Vec<_> = v1
        .artifacts
        .iter()
        .filter(|a| a.name == "model.onnx")
        .collect();
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].artifact.sha256, onnx.sha256);
    // Other bytes under the same name: refused, the first stays.
    let other = registry
        .put_artifact(b"other bytes", "application/onnx")
        .expect("put");
    let err = registry
        .attach_version_artifacts(
            "cpu-ewma",
            1,
            &[NamedArtifact {
                name: "model.onnx".to_owned(),
                artifact: other,
            }],
        )
        .expect_err("never replaced");
    assert!(err.to_string().contains("immutable"), "{err}");
    let v1 = registry.resolve(&model_ref("cpu-ewma@1")).expect("v1");
    assert!(
        v1.artifacts
            .iter()
            .any(|a| a.name == "model.onnx" && a.artifact.sha256 == onnx.sha256)
    );
    // A version that does not exist.
    let err = registry
        .attach_version_artifacts("cpu-ewma", 7, &named)
        .expect_err("no such version");
    assert!(
        matches!(
            err,
            RegistryError::NotFound {
                kind: "version",
                ..
            }
        ),
        "{err}"
    );
}
