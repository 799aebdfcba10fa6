//! Eight writer processes × 500 runs × 20 metrics: nothing lost, nothing duplicated.

use std::collections::BTreeSet;

use vigil_registry::{RunFilter, RunStatus};

use crate::both_backends;
use crate::common::TestDb;
use crate::common::child::{spawn, wait_for_line};
use crate::common::fixtures::metric_value;

both_backends!(eight_writer_processes_lose_and_duplicate_nothing);

const WRITERS: u64 = 8;
const RUNS: u64 = 500;
const METRICS: u64 = 20;
const PARAMS: u64 = 3;
/// Each writer registers a version every 50 runs.
const VERSIONS_PER_WRITER: u64 = RUNS / 50;

fn eight_writer_processes_lose_and_duplicate_nothing(db: &TestDb) {
    // Create and migrate first, as a deployment would; writers then only write.
    drop(db.open());
    let children: Vec<_> = (0..WRITERS)
        .map(|w| spawn(db, "writer", &[w, RUNS, METRICS]))
        .collect();
    let (mut wins, mut conflicts) = (0u64, 0u64);
    for (w, mut child) in children.into_iter().enumerate() {
        let mut stdout = child.stdout();
        let done = wait_for_line(&mut stdout, "DONE");
        let status = child.child.wait().expect("waiting for a writer");
        assert!(status.success(), "writer {w} failed: {status}");
        let done = done.unwrap_or_else(|| panic!("writer {w} did not report"));
        let counts: Vec<u64> = done
            .split_whitespace()
            .map(|n| n.parse().expect("a count"))
            .collect();
        wins += counts[0];
        conflicts += counts[1];
    }

    let total_runs = (WRITERS * RUNS) as i64;
    assert_eq!(db.scalar("SELECT COUNT(*) FROM runs"), total_runs);
    assert_eq!(
        db.scalar("SELECT COUNT(DISTINCT trial_key) FROM runs"),
        total_runs
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM run_metrics"),
        total_runs * METRICS as i64
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM run_params"),
        total_runs * PARAMS as i64
    );
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM (SELECT run_id FROM run_metrics GROUP BY run_id \
             HAVING COUNT(*) <> 20) t"
        ),
        0
    );

    let registry = db.open();
    let runs = registry
        .runs(&RunFilter {
            experiment: Some("concurrency".to_owned()),
            ..RunFilter::default()
        })
        .expect("runs");
    assert!(runs.iter().all(|r| r.status == RunStatus::Finished));
    let keys: BTreeSet<String> = runs
        .iter()
        .filter_map(|r| r.info.trial_key.clone())
        .collect();
    let expected: BTreeSet<String> = (0..WRITERS)
        .flat_map(|w| (0..RUNS).map(move |r| format!("w{w}-r{r}")))
        .collect();
    assert_eq!(keys, expected);
    // Exact values for a spread of runs.
    for run in runs.iter().step_by(97) {
        let details = registry.run(&run.id).expect("details");
        let writer: u64 = details.tags["writer"].parse().expect("writer tag");
        let index: u64 = run
            .info
            .name
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("index");
        for (k, point) in details.metrics.iter().enumerate() {
            assert_eq!(
                point.value,
                metric_value(writer, index, k as u64),
                "{}",
                run.id
            );
        }
    }

    let versions = registry.versions("shared").expect("versions");
    let numbers: Vec<i64> = versions.iter().map(|v| v.version).collect();
    assert_eq!(
        numbers,
        (1..=(WRITERS * VERSIONS_PER_WRITER) as i64).collect::<Vec<_>>()
    );
    let labels: BTreeSet<String> = versions.iter().map(|v| v.description.clone()).collect();
    assert_eq!(labels.len() as u64, WRITERS * VERSIONS_PER_WRITER);

    // Every successful compare-and-set is in the audit log, in an unbroken chain.
    assert_eq!(wins + conflicts, WRITERS * VERSIONS_PER_WRITER);
    let history = registry.alias_history("shared").expect("history");
    assert_eq!(history.len() as u64, wins);
    for (i, pair) in history.windows(2).enumerate() {
        assert_eq!(pair[0].seq, i as i64 + 1);
        assert_eq!(pair[1].from_version, pair[0].to_version);
    }
    assert_eq!(
        registry
            .aliases("shared")
            .expect("aliases")
            .get("champion")
            .copied(),
        history.last().and_then(|h| h.to_version)
    );
    eprintln!("concurrency: {wins} promotions won, {conflicts} lost a compare-and-set");
}
