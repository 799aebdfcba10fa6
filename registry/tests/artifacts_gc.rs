//! Artifact garbage collection.

use std::time::Duration;

use vigil_registry::NamedArtifact;

use crate::both_backends;
use crate::common::TestDb;
use crate::common::fixtures::run_record;

both_backends!(gc_removes_only_unreferenced_old_blobs);

fn gc_removes_only_unreferenced_old_blobs(db: &TestDb) {
    let registry = db.open();
    let kept = registry
        .put_artifact(b"referenced", "text/plain")
        .expect("kept");
    // Blobs put into the store whose recording transaction never came.
    let orphan_one = registry
        .put_artifact(b"orphan one", "text/plain")
        .expect("orphan");
    let orphan_two = registry
        .put_artifact(b"orphan two", "text/plain")
        .expect("orphan");
    let mut record = run_record("exp", 0, 0, 1, 1);
    record.artifacts.push(NamedArtifact {
        name: "kept.txt".to_owned(),
        artifact: kept.clone(),
    });
    registry.log_run(&record).expect("run");
    // A row nothing refers to (left by hand; the API never writes one).
    db.execute(
        "INSERT INTO artifacts (sha256, size_bytes, media_type, created_at_ms) VALUES \
         ('0e6b1d3d35d1e3e9fa1e6bc9dbd3e47ae25d4b2b8e8ec1ee1f5d44e31b5af3c8', 10, 'text/plain', 0)",
    );
    let stray_sha = "0e6b1d3d35d1e3e9fa1e6bc9dbd3e47ae25d4b2b8e8ec1ee1f5d44e31b5af3c8";
    // A temp file left by a writer that crashed mid-write.
    let tmp = registry.artifacts().root().join("tmp");
    std::fs::write(tmp.join("123.0.0.tmp"), b"partial").expect("temp file");

    let mut orphans = vec![orphan_one.sha256.clone(), orphan_two.sha256.clone()];
    orphans.sort();

    let dry = registry.gc(true, Duration::ZERO).expect("dry run");
    assert!(dry.dry_run);
    assert_eq!(dry.unreferenced_rows, vec![stray_sha.to_owned()]);
    assert_eq!(dry.removed_files, orphans);
    assert_eq!(dry.removed_temp_files, 1);
    assert!(
        registry.read_artifact(&orphan_one.sha256).is_ok(),
        "dry run deletes nothing"
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM artifacts"), 2);

    // With a long grace period young blobs and temp files are kept; the old row goes.
    let cautious = registry.gc(false, Duration::from_secs(3600)).expect("gc");
    assert!(cautious.removed_files.is_empty(), "{cautious:?}");
    assert_eq!(cautious.kept_recent, 2);
    assert_eq!(cautious.removed_temp_files, 0);
    assert_eq!(cautious.unreferenced_rows, vec![stray_sha.to_owned()]);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM artifacts"), 1);

    let real = registry.gc(false, Duration::ZERO).expect("gc");
    assert_eq!(real.removed_files, orphans);
    assert_eq!(
        real.removed_bytes,
        ("orphan one".len() + "orphan two".len()) as u64
    );
    assert_eq!(real.removed_temp_files, 1);
    assert!(registry.read_artifact(&orphan_one.sha256).is_err());
    assert_eq!(
        registry.read_artifact(&kept.sha256).expect("kept"),
        b"referenced"
    );
    assert!(std::fs::read_dir(&tmp).expect("tmp dir").next().is_none());

    let again = registry.gc(false, Duration::ZERO).expect("idempotent");
    assert!(again.removed_files.is_empty() && again.unreferenced_rows.is_empty());
}
