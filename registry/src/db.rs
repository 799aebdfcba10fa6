//! Connecting, migrating and transacting: the only module that knows which backend it talks to.
//!
//! sqlx's `Any` driver runs one code path and one migration set on SQLite and PostgreSQL. The
//! backend differences handled here: SQLite gets WAL journaling, a busy timeout and
//! `BEGIN IMMEDIATE` write transactions (so writers queue on the lock instead of failing on a
//! stale snapshot); both backends retry a whole transaction on busy/serialisation errors.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Connection, Executor, Row, Transaction};

use crate::error::{RegistryError, Result, is_retryable_sqlx};

/// The embedded schema migrations (`registry/migrations/`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a SQLite connection waits for the write lock before reporting busy.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 30_000;
/// How long a logical write keeps retrying busy/serialisation failures.
const RETRY_FOR: Duration = Duration::from_secs(120);

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// A parsed database location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbLocation {
    /// The backend.
    pub backend: Backend,
    /// The URL handed to sqlx (SQLite URLs gain `mode=rwc` so the file is created).
    pub url: String,
    /// The SQLite file, when the backend is SQLite.
    pub sqlite_path: Option<PathBuf>,
}

impl DbLocation {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, a bare path (SQLite) or `postgres://…` /
    /// `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                url: url.to_owned(),
                sqlite_path: None,
            });
        }
        let rest = if let Some(rest) = url.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            rest
        } else if url.contains("://") || url.is_empty() {
            return Err(RegistryError::UnsupportedUrl {
                url: url.to_owned(),
            });
        } else {
            url
        };
        let (path, params) = match rest.split_once('?') {
            Some((path, params)) => (path, Some(params)),
            None => (rest, None),
        };
        if path.is_empty() || path == ":memory:" {
            // Each pooled connection would see its own empty in-memory database.
            return Err(RegistryError::UnsupportedUrl {
                url: url.to_owned(),
            });
        }
        let mut params: Vec<String> = params
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if !params.iter().any(|p| p.starts_with("mode=")) {
            params.push("mode=rwc".to_owned());
        }
        let encoded: String = path
            .chars()
            .map(|c| match c {
                '%' => "%25".to_owned(),
                '?' => "%3F".to_owned(),
                '#' => "%23".to_owned(),
                ' ' => "%20".to_owned(),
                c => c.to_string(),
            })
            .collect();
        Ok(Self {
            backend: Backend::Sqlite,
            url: format!("sqlite://{encoded}?{}", params.join("&")),
            sqlite_path: Some(PathBuf::from(path)),
        })
    }
}

/// A connection pool plus the backend it talks to.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
}

impl Db {
    /// Connects, checks the schema version and applies pending migrations.
    pub(crate) async fn open(location: &DbLocation, max_connections: u32) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let options: AnyConnectOptions = location
            .url
            .parse()
            .map_err(RegistryError::db(format!("parsing {}", location.url)))?;
        if location.backend == Backend::Sqlite {
            enable_wal(&options).await?;
        }
        let backend = location.backend;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(60))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(sqlx::AssertSqlSafe(format!(
                            "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"
                        )))
                        .await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(RegistryError::db(format!(
                "connecting to {}",
                redact(&location.url)
            )))?;
        let db = Self { pool, backend };
        db.migrate().await?;
        Ok(db)
    }

    /// The newest migration version applied to the database, if any.
    pub(crate) async fn applied_schema_version(&self) -> Result<Option<i64>> {
        let exists_sql = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 = sqlx::query(exists_sql)
            .fetch_one(&self.pool)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(RegistryError::db("reading the schema version"))?;
        if exists == 0 {
            return Ok(None);
        }
        sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.pool)
            .await
            .and_then(|row| row.try_get::<Option<i64>, _>(0))
            .map_err(RegistryError::db("reading the schema version"))
    }

    /// Refuses a database from a newer vigil, then applies pending migrations. Concurrent
    /// openers of a fresh SQLite file may collide on the first migration; the loser retries
    /// and finds the schema in place.
    async fn migrate(&self) -> Result<()> {
        let supported = supported_schema_version();
        let mut attempts = 0;
        loop {
            if let Some(found) = self.applied_schema_version().await?
                && found > supported
            {
                return Err(RegistryError::SchemaTooNew { found, supported });
            }
            match MIGRATOR.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(source) if attempts < 5 => {
                    attempts += 1;
                    tracing::debug!(%source, attempts, "migration attempt failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50 * attempts)).await;
                }
                Err(source) => return Err(RegistryError::Migration { source }),
            }
        }
    }

    /// Starts a read transaction with one consistent snapshot for all its statements
    /// (SQLite's deferred transaction; PostgreSQL's repeatable read).
    pub(crate) async fn begin_read(&self) -> Result<Transaction<'static, Any>> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin().await,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
        };
        tx.map_err(RegistryError::db("starting a read transaction"))
    }

    /// Starts a write transaction: `BEGIN IMMEDIATE` on SQLite, so the write lock is taken up
    /// front and waits on the busy timeout; a plain `BEGIN` (read committed) on PostgreSQL,
    /// where row locks serialise the writes that must be serial.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        };
        tx.map_err(RegistryError::db("starting a write transaction"))
    }
}

/// The newest schema version this binary embeds.
pub fn supported_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Switches a SQLite file to WAL (persistent in the file). Changing the journal mode needs an
/// exclusive lock that the busy timeout does not wait for, so busy is retried here.
async fn enable_wal(options: &AnyConnectOptions) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = async {
            let mut conn = sqlx::AnyConnection::connect_with(options).await?;
            conn.execute(sqlx::AssertSqlSafe(format!(
                "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"
            )))
            .await?;
            let mode: String = sqlx::query("PRAGMA journal_mode = WAL")
                .fetch_one(&mut conn)
                .await?
                .try_get(0)?;
            conn.close().await?;
            Ok::<_, sqlx::Error>(mode)
        };
        match attempt.await {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                return Err(RegistryError::InvalidField {
                    field: "sqlite journal mode",
                    reason: format!("SQLite refused WAL mode and stayed in {mode:?}"),
                    hint: "put the database on a local file system that supports shared memory",
                });
            }
            Err(err) if is_retryable_sqlx(&err) && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(err) => return Err(RegistryError::db("enabling WAL journaling")(err)),
        }
    }
}

/// Runs one logical write, retrying the whole transaction while the database reports busy,
/// locked, a serialisation failure or a deadlock. Each attempt must be a complete transaction
/// so a retry never repeats half of one.
pub(crate) async fn with_retry<T, F, Fut>(what: &str, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let deadline = Instant::now() + RETRY_FOR;
    let mut delay_ms = 2u64;
    let mut tries = 0u32;
    loop {
        match attempt().await {
            Err(err) if err.is_retryable() && Instant::now() < deadline => {
                tries += 1;
                tracing::debug!(what, tries, %err, "transaction conflict; retrying");
                let jitter = rand::random::<u64>() % (delay_ms + 1);
                tokio::time::sleep(Duration::from_millis(delay_ms + jitter)).await;
                delay_ms = (delay_ms * 2).min(250);
            }
            other => return other,
        }
    }
}

/// The `VALUES` list of a multi-row insert: `($1, $2), ($3, $4), …` on PostgreSQL,
/// `(?, ?), (?, ?), …` on SQLite. SQLite looks up a named parameter (`$N`) by a linear scan,
/// which makes binding a statement with thousands of `$N` quadratic (it cost ~100 µs per
/// metric row at 1,200 rows per statement); anonymous `?` parameters bind in constant time.
pub(crate) fn value_rows(backend: Backend, rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 6);
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..cols {
            if col > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Removes a password from a URL before it reaches a log line or error message.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        let pg = DbLocation::parse("postgres://postgres@127.0.0.1:5432/x").expect("pg");
        assert_eq!(pg.backend, Backend::Postgres);
        let lite = DbLocation::parse("sqlite://./vigil.db").expect("sqlite");
        assert_eq!(lite.backend, Backend::Sqlite);
        assert_eq!(lite.url, "sqlite://./vigil.db?mode=rwc");
        assert_eq!(lite.sqlite_path, Some(PathBuf::from("./vigil.db")));
        let bare = DbLocation::parse("/tmp/a b.db").expect("bare path");
        assert_eq!(bare.url, "sqlite:///tmp/a%20b.db?mode=rwc");
        let ro = DbLocation::parse("sqlite:x.db?mode=ro").expect("ro");
        assert_eq!(ro.url, "sqlite://x.db?mode=ro");
        for bad in ["mysql://x", "", "sqlite::memory:", "sqlite://"] {
            let err = DbLocation::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("hint:"), "{err}");
        }
    }

    #[test]
    fn placeholders_number_across_rows() {
        assert_eq!(
            value_rows(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(value_rows(Backend::Postgres, 1, 1), "($1)");
        assert_eq!(value_rows(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://a.db"), "sqlite://a.db");
    }

    #[test]
    fn the_binary_knows_both_migrations() {
        assert_eq!(supported_schema_version(), 2);
    }
}
