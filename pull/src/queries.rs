//! The queries to pull and the names their output files get.
//!
//! A query is given on the command line as `PROMQL` or `NAME=PROMQL`, or in a TOML file of
//! `[[query]]` tables (`name` optional, `query` required). `NAME` is the output file stem
//! (`DIR/NAME.parquet`) and the `series` that labels name; without one the name is derived
//! from the query text (`rate(http_requests_total[5m])` → `rate_http_requests_total_5m`), with
//! `_2`, `_3`… added when two queries would share a name.

use std::path::Path;

use serde::Deserialize;

use crate::error::{PullError, Result};

/// Longest derived name.
const MAX_DERIVED_NAME: usize = 60;

/// Names that would collide with the other files of a pull folder.
const RESERVED_NAMES: [&str; 2] = ["labels", "pull"];

/// One query to pull and its output name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Query {
    /// Output file stem and series name.
    pub name: String,
    /// The PromQL text.
    pub query: String,
}

/// A query as written, before names are settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryArg {
    /// The name given, if any.
    pub name: Option<String>,
    /// The PromQL text.
    pub query: String,
}

impl QueryArg {
    /// Reads a `--query` value: `NAME=PROMQL` when it starts with a name (letters, digits,
    /// `_ . -`, not starting with a digit) followed by a single `=` (not `==` or `=~`), else the
    /// whole text is PromQL.
    pub fn parse(text: &str) -> Self {
        let trimmed = text.trim();
        let name_len = trimmed
            .char_indices()
            .take_while(|(i, c)| {
                c.is_ascii_alphabetic()
                    || *c == '_'
                    || (*i > 0 && (c.is_ascii_digit() || matches!(*c, '.' | '-')))
            })
            .count();
        let rest = trimmed[name_len..].trim_start();
        if name_len > 0
            && let Some(query) = rest.strip_prefix('=')
            && !query.starts_with(['=', '~'])
            && !query.trim().is_empty()
        {
            return Self {
                name: Some(trimmed[..name_len].to_owned()),
                query: query.trim().to_owned(),
            };
        }
        Self {
            name: None,
            query: trimmed.to_owned(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryFile {
    query: Vec<QueryEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryEntry {
    name: Option<String>,
    query: String,
}

/// Reads a TOML query file: `[[query]]` tables with `query = "..."` and an optional
/// `name = "..."`.
pub fn read_query_file(path: &Path) -> Result<Vec<QueryArg>> {
    let text = std::fs::read_to_string(path).map_err(|e| PullError::QueryFile {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    let file: QueryFile = toml::from_str(&text).map_err(|e| PullError::QueryFile {
        path: path.to_path_buf(),
        message: e.message().to_owned(),
    })?;
    Ok(file
        .query
        .into_iter()
        .map(|entry| QueryArg {
            name: entry.name,
            query: entry.query.trim().to_owned(),
        })
        .collect())
}

/// Settles names: checks given names, derives missing ones, and refuses duplicates or an
/// empty query.
pub fn resolve_names(args: Vec<QueryArg>) -> Result<Vec<Query>> {
    if args.is_empty() {
        return Err(PullError::bad_query(
            "no query to pull",
            "give at least one --query 'PROMQL' (or NAME=PROMQL), or --query-file FILE",
        ));
    }
    for arg in &args {
        if arg.query.is_empty() {
            return Err(PullError::bad_query(
                format!("query {:?} is empty", arg.name.as_deref().unwrap_or("")),
                "write the PromQL after the name, like cpu='rate(node_cpu_seconds_total[5m])'",
            ));
        }
        if let Some(name) = &arg.name {
            check_name(name)?;
        }
    }
    let mut queries: Vec<Query> = Vec::with_capacity(args.len());
    for arg in &args {
        if let Some(name) = &arg.name
            && queries.iter().any(|q| &q.name == name)
        {
            return Err(PullError::bad_query(
                format!("two queries are named {name:?}"),
                "give each query its own name: it becomes the output file name",
            ));
        }
        if let Some(name) = &arg.name {
            queries.push(Query {
                name: name.clone(),
                query: arg.query.clone(),
            });
        }
    }
    let mut settled = Vec::with_capacity(args.len());
    for arg in args {
        let name = match arg.name {
            Some(name) => name,
            None => {
                let base = derive_name(&arg.query);
                let mut name = base.clone();
                let mut n = 2;
                while queries.iter().any(|q| q.name == name) {
                    name = format!("{base}_{n}");
                    n += 1;
                }
                queries.push(Query {
                    name: name.clone(),
                    query: arg.query.clone(),
                });
                name
            }
        };
        settled.push(Query {
            name,
            query: arg.query,
        });
    }
    Ok(settled)
}

fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        return Err(PullError::bad_query(
            format!("query name {name:?} cannot be a file name"),
            "use letters, digits, `_`, `.` and `-` only, starting with a letter or `_`",
        ));
    }
    if RESERVED_NAMES.iter().any(|r| name.eq_ignore_ascii_case(r)) {
        return Err(PullError::bad_query(
            format!("query name {name:?} is reserved (labels.csv and pull.json share the folder)"),
            "choose another name",
        ));
    }
    Ok(())
}

/// A file-name-safe name from the query text.
pub fn derive_name(query: &str) -> String {
    let mut name = String::new();
    for c in query.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('_') && !name.is_empty() {
            name.push('_');
        }
        if name.len() >= MAX_DERIVED_NAME {
            break;
        }
    }
    let name = name.trim_end_matches('_').to_owned();
    if name.is_empty() || RESERVED_NAMES.contains(&name.as_str()) {
        format!("query_{name}").trim_end_matches('_').to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(text: &str) -> (Option<String>, String) {
        let parsed = QueryArg::parse(text);
        (parsed.name, parsed.query)
    }

    #[test]
    fn names_are_split_off_only_when_present() {
        assert_eq!(
            arg("cpu=rate(x[5m])"),
            (Some("cpu".into()), "rate(x[5m])".into())
        );
        assert_eq!(
            arg("api-latency.p99 = histogram_quantile(0.99, y)"),
            (
                Some("api-latency.p99".into()),
                "histogram_quantile(0.99, y)".into()
            )
        );
        assert_eq!(arg("up==1"), (None, "up==1".into()));
        assert_eq!(arg("up =~ 1"), (None, "up =~ 1".into()));
        assert_eq!(arg("up{job=\"a\"}"), (None, "up{job=\"a\"}".into()));
        assert_eq!(arg("rate(x_total[5m])"), (None, "rate(x_total[5m])".into()));
        assert_eq!(arg("9x=up"), (None, "9x=up".into()));
    }

    #[test]
    fn derived_names_are_safe_and_unique() {
        assert_eq!(
            derive_name("rate(http_requests_total[5m])"),
            "rate_http_requests_total_5m"
        );
        assert_eq!(derive_name("up{job=\"api\"}"), "up_job_api");
        assert_eq!(derive_name("1 + 1"), "1_1");
        assert_eq!(derive_name("(  )"), "query");
        let queries = resolve_names(vec![
            QueryArg::parse("up"),
            QueryArg::parse("up"),
            QueryArg::parse("up_2=node_load1"),
        ])
        .map(|q| q.into_iter().map(|q| q.name).collect::<Vec<_>>())
        .ok();
        assert_eq!(
            queries,
            Some(vec!["up".into(), "up_3".into(), "up_2".into()])
        );
    }

    #[test]
    fn bad_names_and_lists_are_refused() {
        let error = |args: Vec<QueryArg>| {
            resolve_names(args)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(error(vec![]).contains("no query"));
        assert!(
            error(vec![
                QueryArg::parse("a=up"),
                QueryArg::parse("a=node_load1")
            ])
            .contains("two queries are named \"a\"")
        );
        assert!(error(vec![QueryArg::parse("labels=up")]).contains("reserved"));
        let slash = QueryArg {
            name: Some("a/b".into()),
            query: "up".into(),
        };
        assert!(error(vec![slash]).contains("cannot be a file name"));
        let empty = QueryArg {
            name: Some("a".into()),
            query: String::new(),
        };
        assert!(error(vec![empty]).contains("is empty"));
    }

    #[test]
    fn query_files_are_read() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("q.toml");
        std::fs::write(
            &path,
            "[[query]]\nname = \"cpu\"\nquery = \"rate(x_total[5m])\"\n\n[[query]]\nquery = \"up\"\n",
        )?;
        let args = read_query_file(&path)?;
        assert_eq!(
            args,
            vec![
                QueryArg {
                    name: Some("cpu".into()),
                    query: "rate(x_total[5m])".into()
                },
                QueryArg {
                    name: None,
                    query: "up".into()
                },
            ]
        );
        std::fs::write(&path, "[[query]]\nnam = \"cpu\"\nquery = \"up\"\n")?;
        let message = read_query_file(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("q.toml") && message.contains("nam") && message.contains("hint:"),
            "{message}"
        );
        Ok(())
    }
}
