//! Schema versions: older databases migrate forward, newer ones are refused.

use sqlx::Connection;
use vigil_registry::{MIGRATOR, Registry, RegistryError, supported_schema_version};

use crate::both_backends;
use crate::common::fixtures::new_version;
use crate::common::{TestDb, block_on};

both_backends!(
    an_older_schema_is_migrated_forward,
    a_newer_schema_is_refused,
    concurrent_openers_of_a_fresh_database_agree,
);

fn an_older_schema_is_migrated_forward(db: &TestDb) {
    // Build a database as the first release (schema 1, tracking only) left it.
    block_on(async {
        sqlx::any::install_default_drivers();
        let url = if db.is_postgres() {
            db.url.clone()
        } else {
            format!("{}?mode=rwc", db.url)
        };
        let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
        MIGRATOR.run_to(1, &mut conn).await.expect("schema 1");
        conn.close().await.expect("close");
    });
    assert_eq!(db.scalar("SELECT MAX(version) FROM _sqlx_migrations"), 1);
    db.execute(
        "INSERT INTO experiments (name, description, created_at_ms) VALUES ('old', 'v1 era', 1); \
         INSERT INTO runs (id, experiment, name, trial_key, status, started_at_ms, ended_at_ms) \
         VALUES ('00000000000000000000000000000001', 'old', 'legacy', 't1', 'finished', 1, 2); \
         INSERT INTO run_params (run_id, key, value) \
         VALUES ('00000000000000000000000000000001', 'alpha', '0.5')",
    );

    let registry = db.open();
    assert_eq!(
        registry.schema_version().expect("schema"),
        supported_schema_version()
    );
    let legacy = registry
        .run("00000000000000000000000000000001")
        .expect("legacy run survives");
    assert_eq!(legacy.params["alpha"], "0.5");
    assert_eq!(legacy.run.info.experiment, "old");
    // The new schema's tables work on the migrated database.
    let mut new = new_version(&registry, "m", Some(legacy.run.id.clone()), "after upgrade");
    new.description = "after upgrade".to_owned();
    assert_eq!(registry.register_version(&new).expect("register"), 1);
}

fn a_newer_schema_is_refused(db: &TestDb) {
    drop(db.open());
    if db.is_postgres() {
        db.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (20991231000000, 'from the future', TRUE, '\\x00'::bytea, 0)",
        );
    } else {
        db.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (20991231000000, 'from the future', TRUE, X'00', 0)",
        );
    }
    let err = Registry::open_with(&db.options()).expect_err("newer schema");
    match &err {
        RegistryError::SchemaTooNew { found, supported } => {
            assert_eq!(
                (*found, *supported),
                (20991231000000, supported_schema_version())
            );
        }
        other => panic!("expected SchemaTooNew, got {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("20991231000000") && message.contains("schema version 2"),
        "{message}"
    );
    assert!(message.contains("hint: upgrade vigil"), "{message}");
}

fn concurrent_openers_of_a_fresh_database_agree(db: &TestDb) {
    let opened: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| Registry::open_with(&db.options()).map(|r| r.schema_version())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for result in opened {
        assert_eq!(
            result.expect("open").expect("version"),
            supported_schema_version()
        );
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM _sqlx_migrations"), 2);
}
