//! Tests of `vigil registry` on throw-away SQLite registries.

use super::*;
use clap::Parser;
use vigil_registry::{NamedArtifact, NewVersion};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: RegistryArgs,
}

struct Fixture {
    dir: tempfile::TempDir,
    db: String,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = format!("sqlite://{}", dir.path().join("vigil.db").display());
        Self { dir, db }
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<ExitCode> {
        let mut argv = vec!["registry", "--db", self.db.as_str()];
        argv.extend_from_slice(args);
        run(&Cli::try_parse_from(argv)?.args)
    }

    fn registry(&self) -> Registry {
        Registry::open(&self.db).expect("open")
    }

    fn register(&self, registry: &Registry) -> i64 {
        let state = registry
            .put_artifact(b"{\"mean\": 1.5}", "application/json")
            .expect("state");
        registry
            .register_version(&NewVersion {
                model: "cpu".to_owned(),
                run_id: None,
                spec: json!({"kind": "ewma", "alpha": 0.3}),
                state_artifact: "state.json".to_owned(),
                artifacts: vec![NamedArtifact {
                    name: "state.json".to_owned(),
                    artifact: state,
                }],
                threshold: 2.5,
                alert_policy: json!({"min_duration": 1}),
                metrics: [("f1".to_owned(), 0.75)].into(),
                datasets: Vec::new(),
                description: String::new(),
                created_by: "test".to_owned(),
            })
            .expect("register")
    }
}

#[test]
fn listings_succeed_on_a_fresh_registry() {
    let fx = Fixture::new();
    for args in [
        &["experiments"][..],
        &["runs", "--status", "finished"],
        &["models"],
        &["artifacts", "--verify"],
        &["gc", "--dry-run"],
        &["--json", "experiments"],
    ] {
        assert_eq!(fx.run(args).expect("runs"), ExitCode::SUCCESS, "{args:?}");
    }
}

#[test]
fn promote_moves_with_compare_and_set_and_records_who() {
    let fx = Fixture::new();
    let registry = fx.registry();
    fx.register(&registry);
    fx.register(&registry);
    fx.run(&["promote", "cpu", "1", "--reason", "first", "--who", "alice"])
        .expect("promote 1");
    let err = fx
        .run(&["promote", "cpu", "2", "--reason", "x", "--expect", "none"])
        .expect_err("stale expectation");
    assert!(
        format!("{err:#}").contains("was expected at unset"),
        "{err:#}"
    );
    fx.run(&[
        "promote", "cpu", "2", "--reason", "better", "--expect", "1", "--who", "bob",
    ])
    .expect("promote 2");
    let history = registry.alias_history("cpu").expect("history");
    let moves: Vec<_> = history
        .iter()
        .map(|h| {
            (
                h.from_version,
                h.to_version,
                h.moved_by.as_str(),
                h.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        vec![
            (None, Some(1), "alice", "first"),
            (Some(1), Some(2), "bob", "better")
        ]
    );
    assert!(
        fx.run(&["promote", "cpu", "2"]).is_err(),
        "--reason is required"
    );
}

#[test]
fn get_show_compare_and_verify() {
    let fx = Fixture::new();
    let registry = fx.registry();
    fx.register(&registry);
    fx.run(&["promote", "cpu", "1", "--reason", "first"])
        .expect("promote");
    let out = fx.dir.path().join("served");
    let out_arg = out.to_string_lossy().into_owned();
    fx.run(&["get", "cpu@champion", "--out", &out_arg])
        .expect("get");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["version"], 1);
    assert_eq!(manifest["threshold"], 2.5);
    assert_eq!(
        std::fs::read(out.join("state.json")).expect("state"),
        b"{\"mean\": 1.5}"
    );

    fx.register(&registry);
    assert!(fx.run(&["show", "cpu@2"]).is_ok());
    assert!(fx.run(&["compare", "cpu@1", "cpu@champion"]).is_ok());
    assert!(
        fx.run(&["compare", "cpu@1"]).is_err(),
        "compare needs two targets"
    );
    assert!(fx.run(&["show", "cpu@9"]).is_err());

    assert_eq!(
        fx.run(&["artifacts", "--verify"]).expect("verify"),
        ExitCode::SUCCESS
    );
    let sha = &registry
        .resolve(&"cpu@1".parse().expect("ref"))
        .expect("v1")
        .artifacts[0]
        .artifact
        .sha256;
    let path = registry.artifacts().path_of(sha).expect("path");
    std::fs::write(path, b"corrupt").expect("corrupt");
    assert_eq!(
        fx.run(&["artifacts", "--verify"]).expect("verify"),
        ExitCode::from(1)
    );
}

#[test]
fn numbers_read_well() {
    assert_eq!(number(0.75), "0.75");
    assert_eq!(number(2.0), "2");
    assert_eq!(number(f64::NAN), "NaN");
    assert_eq!(number(1e-9), "1e-9");
    assert_eq!(number(0.0), "0");
}
