//! Test fixtures: a fresh database per test on SQLite (temp dir) or PostgreSQL (a database
//! created for the test and dropped by a guard, even when the test fails).

pub mod child;
pub mod fixtures;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::{Connection, Executor, Row};
use vigil_registry::{Registry, RegistryOptions};

/// Where the PostgreSQL tests connect unless `VIGIL_TEST_POSTGRES_URL` says otherwise.
pub const DEFAULT_PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A throw-away registry location: URL plus artifact directory.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub artifact_dir: PathBuf,
    pub dir: tempfile::TempDir,
    pg: Option<PgGuard>,
}

impl TestDb {
    /// A fresh database of `kind`, or None (with a loud SKIPPED line) when PostgreSQL is not
    /// reachable and `CI` is unset. Under `CI` an unreachable PostgreSQL fails the test.
    pub fn new(kind: Kind) -> Option<Self> {
        let dir = tempfile::tempdir().expect("creating a temp dir");
        let artifact_dir = dir.path().join("artifacts");
        match kind {
            Kind::Sqlite => Some(Self {
                url: format!("sqlite://{}", dir.path().join("vigil.db").display()),
                artifact_dir,
                dir,
                pg: None,
            }),
            Kind::Postgres => {
                let guard = PgGuard::create()?;
                Some(Self {
                    url: guard.url.clone(),
                    artifact_dir,
                    dir,
                    pg: Some(guard),
                })
            }
        }
    }

    pub fn options(&self) -> RegistryOptions {
        RegistryOptions::new(&self.url).artifact_dir(&self.artifact_dir)
    }

    pub fn open(&self) -> Registry {
        Registry::open_with(&self.options()).expect("opening the registry")
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs a scalar query (e.g. a COUNT) on a separate connection.
    pub fn scalar(&self, sql: &'static str) -> i64 {
        block_on(async {
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&self.url)
                .await
                .expect("connecting for a check");
            let row = sqlx::query(sql)
                .fetch_one(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let value: i64 = row.try_get(0).expect("an integer");
            conn.close().await.expect("closing");
            value
        })
    }

    /// Runs statements on a separate connection (to build old schemas, corrupt state…).
    pub fn execute(&self, sql: &'static str) {
        block_on(async {
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&self.url)
                .await
                .expect("connecting");
            conn.execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            conn.close().await.expect("closing");
        })
    }
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn admin_url() -> String {
    std::env::var("VIGIL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG_ADMIN_URL.to_owned())
}

/// A PostgreSQL database that exists for one test.
#[derive(Debug)]
struct PgGuard {
    admin_url: String,
    name: String,
    url: String,
}

impl PgGuard {
    fn create() -> Option<Self> {
        let admin_url = admin_url();
        let name = format!("vigil_test_{:016x}", rand::random::<u64>());
        let created = block_on(async {
            let mut conn = tokio::time::timeout(
                Duration::from_secs(5),
                sqlx::postgres::PgConnection::connect(&admin_url),
            )
            .await
            .map_err(|_| "timed out after 5 s".to_owned())?
            .map_err(|e| e.to_string())?;
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .map_err(|e| e.to_string())?;
            conn.close().await.map_err(|e| e.to_string())
        });
        match created {
            Ok(()) => {
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(base, _)| base.to_owned())
                    .unwrap_or_else(|| admin_url.clone());
                let url = format!("{base}/{name}");
                Some(Self {
                    admin_url,
                    name,
                    url,
                })
            }
            Err(err) => {
                let message = format!(
                    "PostgreSQL not reachable at {} ({err}); set VIGIL_TEST_POSTGRES_URL or start PostgreSQL",
                    vigil_registry::redact(&admin_url)
                );
                if std::env::var_os("CI").is_some() {
                    panic!("{message} (CI is set, so PostgreSQL tests must run)");
                }
                // Written to the process's stderr directly: libtest captures `eprintln!`
                // of passing tests, and a skip must never be silent.
                let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
                None
            }
        }
    }
}

impl Drop for PgGuard {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // A fresh thread: the guard may be dropped while a runtime is running on this one.
        let dropped = std::thread::spawn(move || {
            block_on(async {
                let mut conn = sqlx::postgres::PgConnection::connect(&admin_url).await?;
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await?;
                conn.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "warning: could not drop test database {}: {dropped:?}",
                self.name
            );
        }
    }
}

/// Runs a test body on both backends: `<name>_sqlite` and `<name>_postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            pub mod $name {
                #[test]
                fn sqlite() {
                    let db = $crate::common::TestDb::new($crate::common::Kind::Sqlite)
                        .expect("sqlite is always available");
                    super::$name(&db);
                }

                #[test]
                fn postgres() {
                    if let Some(db) = $crate::common::TestDb::new($crate::common::Kind::Postgres) {
                        super::$name(&db);
                    }
                }
            }
        )*
    };
}
