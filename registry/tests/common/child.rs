//! Child processes for the concurrency and crash tests.
//!
//! The test binary re-invokes itself, running only the ignored `child_process_entry` test,
//! with the role and parameters in environment variables. Children report on stdout lines
//! prefixed with `CHILD:`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

use vigil_registry::{ExpectedAlias, MetricPoint, Registry, RegistryError, RunInfo, RunStatus};

use super::TestDb;
use super::fixtures::{metric_value, new_version, run_record};

const ROLE: &str = "VIGIL_REGISTRY_TEST_CHILD";
const URL: &str = "VIGIL_REGISTRY_TEST_URL";
const ARTIFACTS: &str = "VIGIL_REGISTRY_TEST_ARTIFACTS";
const ARGS: &str = "VIGIL_REGISTRY_TEST_ARGS";

/// A child process that is killed and reaped when dropped, so a failing test never leaves a
/// writer running.
#[derive(Debug)]
pub struct ChildGuard {
    pub child: Child,
}

impl ChildGuard {
    /// Takes the child's stdout for line reading.
    pub fn stdout(&mut self) -> BufReader<ChildStdout> {
        BufReader::new(self.child.stdout.take().expect("piped stdout"))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Starts a child running `role` with space-separated integer `args`.
pub fn spawn(db: &TestDb, role: &str, args: &[u64]) -> ChildGuard {
    let exe = std::env::current_exe().expect("the test binary's path");
    let child = Command::new(exe)
        .args([
            "child_process_entry",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(URL, &db.url)
        .env(ARTIFACTS, &db.artifact_dir)
        .env(
            ARGS,
            args.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawning a child test process");
    ChildGuard { child }
}

/// Reads the child's stdout until a `CHILD:` line starting with `prefix`; returns its rest.
pub fn wait_for_line(stdout: &mut BufReader<ChildStdout>, prefix: &str) -> Option<String> {
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line).expect("reading child stdout") == 0 {
            return None;
        }
        // libtest prints `test child_process_entry ... ` before the child's first line.
        if let Some(at) = line.find("CHILD:")
            && let Some(rest) = line[at + "CHILD:".len()..].trim_end().strip_prefix(prefix)
        {
            return Some(rest.trim().to_owned());
        }
    }
}

/// The body of `child_process_entry`: does nothing unless started by [`spawn`].
pub fn entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let url = std::env::var(URL).expect("child URL");
    let artifacts = std::env::var(ARTIFACTS).expect("child artifact dir");
    let args: Vec<u64> = std::env::var(ARGS)
        .unwrap_or_default()
        .split_whitespace()
        .map(|a| a.parse().expect("integer child args"))
        .collect();
    let registry =
        Registry::open_with(&vigil_registry::RegistryOptions::new(url).artifact_dir(artifacts))
            .expect("child opens the registry");
    match role.as_str() {
        "writer" => writer(&registry, args[0], args[1], args[2] as usize),
        "crasher" => crasher(&registry, args[0]),
        other => panic!("unknown child role {other}"),
    }
}

/// Logs `runs` complete runs of `metrics` metrics; every 50th run also registers a version of
/// `shared` and tries to promote it with a compare-and-set.
fn writer(registry: &Registry, writer: u64, runs: u64, metrics: usize) {
    let (mut wins, mut conflicts) = (0, 0);
    for run in 0..runs {
        registry
            .log_run(&run_record("concurrency", writer, run, 3, metrics))
            .expect("logging a run");
        if run % 50 == 49 {
            let label = format!("w{writer}-v{run}");
            let version = registry
                .register_version(&new_version(registry, "shared", None, &label))
                .expect("registering a version");
            let current = registry
                .aliases("shared")
                .expect("reading aliases")
                .get("champion")
                .copied();
            match registry.move_alias(
                "shared",
                "champion",
                version,
                ExpectedAlias::from_current(current),
                &format!("writer-{writer}"),
                "concurrency test",
            ) {
                Ok(_) => wins += 1,
                Err(RegistryError::AliasConflict { .. }) => conflicts += 1,
                Err(other) => panic!("alias move failed: {other}"),
            }
        }
    }
    println!("CHILD:DONE {wins} {conflicts}");
}

/// Writes forever (until SIGKILL): whole runs, incremental runs, versions and alias moves.
fn crasher(registry: &Registry, round: u64) {
    println!("CHILD:READY");
    std::io::stdout().flush().expect("flushing stdout");
    for i in 0.. {
        let run_id = registry
            .log_run(&run_record("crash", round, i, 5, 20))
            .expect("logging a run");

        let mut info = RunInfo::new("crash");
        info.trial_key = Some(format!("inc-{round}-{i}"));
        let inc = registry.start_run(&info).expect("starting a run");
        let params: BTreeMap<String, String> =
            (0..5).map(|p| (format!("p{p}"), p.to_string())).collect();
        registry.log_params(&inc, &params).expect("logging params");
        for batch in 0..2 {
            let points: Vec<MetricPoint> = (0..10)
                .map(|k| {
                    let key = batch * 10 + k;
                    MetricPoint::new(format!("m{key:02}"), metric_value(round, i, key), 0)
                })
                .collect();
            registry
                .log_metrics(&inc, &points)
                .expect("logging metrics");
        }
        registry
            .finish_run(&inc, RunStatus::Finished)
            .expect("finishing a run");

        let label = format!("crash-{round}-{i}");
        let version = registry
            .register_version(&new_version(registry, "crash-model", Some(run_id), &label))
            .expect("registering a version");
        registry
            .move_alias(
                "crash-model",
                "champion",
                version,
                ExpectedAlias::Anything,
                "crasher",
                "crash test",
            )
            .expect("moving the alias");
    }
}
