//! Kill a writer with SIGKILL at random points; the database must hold only whole writes.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_registry::{RunFilter, RunStatus};

use crate::both_backends;
use crate::common::TestDb;
use crate::common::child::{spawn, wait_for_line};
use crate::common::fixtures::metric_value;

both_backends!(sigkill_leaves_only_whole_writes);

const ROUNDS: u64 = 8;

fn sigkill_leaves_only_whole_writes(db: &TestDb) {
    drop(db.open());
    let mut rng = ChaCha8Rng::seed_from_u64(20_261_121);
    for round in 0..ROUNDS {
        let mut child = spawn(db, "crasher", &[round]);
        let mut stdout = child.stdout();
        assert!(
            wait_for_line(&mut stdout, "READY").is_some(),
            "crasher {round} died before writing"
        );
        std::thread::sleep(Duration::from_millis(rng.random_range(50..500)));
        child.child.kill().expect("SIGKILL");
        let status = child.child.wait().expect("reaping the child");
        assert!(
            !status.success(),
            "the child must have been killed, not exited"
        );
    }
    verify(db);
}

fn verify(db: &TestDb) {
    if !db.is_postgres() {
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"),
            0
        );
    }
    let registry = db.open();
    let runs = registry
        .runs(&RunFilter {
            experiment: Some("crash".to_owned()),
            ..RunFilter::default()
        })
        .expect("runs");
    let (mut whole, mut finished_inc, mut partial_inc) = (0, 0, 0);
    for run in &runs {
        let details = registry.run(&run.id).expect("details");
        let key = run.info.trial_key.as_deref().expect("trial key");
        if key.starts_with("inc-") {
            // Incremental runs: each logging call is atomic, so counts move in whole batches.
            let (params, metrics) = (details.params.len(), details.metrics.len());
            if run.status == RunStatus::Finished {
                assert_eq!((params, metrics), (5, 20), "finished incremental run {key}");
                finished_inc += 1;
            } else {
                assert_eq!(run.status, RunStatus::Running, "{key}");
                assert!(
                    matches!((params, metrics), (0, 0) | (5, 0) | (5, 10) | (5, 20)),
                    "partial batch in {key}: {params} params, {metrics} metrics"
                );
                partial_inc += 1;
            }
            for point in &details.metrics {
                assert!(point.value.is_finite(), "{key}");
            }
        } else {
            // Whole runs: all or nothing.
            assert_eq!(run.status, RunStatus::Finished, "{key}");
            assert_eq!(details.params.len(), 5, "{key}");
            assert_eq!(details.metrics.len(), 20, "{key}");
            assert_eq!(details.tags.len(), 3, "{key}");
            let mut parts = key.trim_start_matches('w').split("-r");
            let writer: u64 = parts.next().and_then(|s| s.parse().ok()).expect("writer");
            let index: u64 = parts.next().and_then(|s| s.parse().ok()).expect("index");
            for (k, point) in details.metrics.iter().enumerate() {
                assert_eq!(point.value, metric_value(writer, index, k as u64), "{key}");
            }
            whole += 1;
        }
    }
    assert!(
        partial_inc <= ROUNDS,
        "at most one unfinished run per killed child"
    );
    assert!(
        whole >= ROUNDS,
        "each child wrote at least one whole run (got {whole})"
    );

    let versions = registry.versions("crash-model").expect("versions");
    let numbers: Vec<i64> = versions.iter().map(|v| v.version).collect();
    assert_eq!(
        numbers,
        (1..=versions.len() as i64).collect::<Vec<_>>(),
        "gap-free"
    );
    for version in &versions {
        assert_eq!(version.metrics.len(), 3);
        assert_eq!(version.artifacts.len(), 1);
        assert_eq!(version.datasets.len(), 1);
        let run_id = version.run_id.as_deref().expect("run");
        assert_eq!(
            registry.run(run_id).expect("its run").run.status,
            RunStatus::Finished
        );
        registry
            .read_artifact(&version.artifacts[0].artifact.sha256)
            .expect("a committed version's state is in the store and intact");
    }
    let history = registry.alias_history("crash-model").expect("history");
    for (i, entry) in history.iter().enumerate() {
        assert_eq!(entry.seq, i as i64 + 1, "audit log is gap-free");
        if i > 0 {
            assert_eq!(entry.from_version, history[i - 1].to_version, "audit chain");
        }
    }
    let champion = registry
        .aliases("crash-model")
        .expect("aliases")
        .get("champion")
        .copied();
    assert_eq!(champion, history.last().and_then(|h| h.to_version));
    eprintln!(
        "crash: {whole} whole runs, {finished_inc} finished and {partial_inc} interrupted \
         incremental runs, {} versions, {} alias moves",
        versions.len(),
        history.len()
    );
}
