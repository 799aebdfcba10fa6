//! Where to pull from: the server's base URL (checked once, kept without credentials) and how
//! to authenticate (a bearer token or basic-auth pair read from an environment variable).
//!
//! Secrets are held only inside [`Auth`], whose `Debug` prints the variable name and never the
//! value; messages and `pull.json` name the variable, not its content.

use std::fmt;

use crate::error::{PullError, Result};

/// A checked Prometheus base URL: `http` or `https`, a host, an optional port and an optional
/// path prefix (for a server behind a reverse proxy), without a trailing slash, user info,
/// query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    base: String,
}

impl ServerUrl {
    /// Checks a base URL. User info (`user:pass@`) is refused so that credentials go through
    /// the environment instead of the command line.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| PullError::BadUrl {
            url: text.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it contains spaces or control characters"));
        }
        let Some((scheme, rest)) = trimmed.split_once("://") else {
            return Err(bad("it has no scheme (http:// or https://)"));
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(bad(&format!("the scheme {scheme:?} is not http or https")));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.contains('@') {
            let host = authority.rsplit('@').next().unwrap_or_default();
            return Err(PullError::UrlHasCredentials {
                url: format!("{scheme}://{host}{path}"),
            });
        }
        if path.contains(['?', '#']) || authority.contains(['?', '#']) {
            return Err(bad(
                "it has a query or fragment (?…/#…); give only the base URL",
            ));
        }
        let (host, port) = split_host_port(authority).map_err(bad)?;
        if host.is_empty() {
            return Err(bad("it has no host name"));
        }
        if !host.starts_with('[')
            && !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(bad("the host name has characters a host name cannot have"));
        }
        let mut base = format!("{scheme}://{host}");
        if let Some(port) = port {
            base.push(':');
            base.push_str(port);
        }
        base.push_str(path.trim_end_matches('/'));
        Ok(Self { base })
    }

    /// The base URL as given (normalised: lower-case scheme, no trailing slash).
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// The URL of an API endpoint, e.g. `endpoint("/api/v1/query_range")`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

fn split_host_port(authority: &str) -> std::result::Result<(&str, Option<&str>), &'static str> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority
            .find(']')
            .ok_or("an IPv6 host lacks its closing `]`")?;
        let (host, rest) = authority.split_at(close + 1);
        match rest.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if rest.is_empty() => (host, None),
            None => return Err("unexpected text after the IPv6 host"),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0))
    {
        return Err("the port is not a number from 1 to 65535");
    }
    Ok((host, port))
}

/// How requests authenticate. The secret is read once from the environment.
#[derive(Clone, Default)]
pub enum Auth {
    /// No `Authorization` header.
    #[default]
    None,
    /// `Authorization: Bearer <token>`; `var` names the environment variable it came from.
    Bearer { var: String, token: String },
    /// `Authorization: Basic <base64(user:pass)>`.
    Basic { var: String, encoded: String },
}

impl Auth {
    /// Reads the secret named by `--bearer-token-env` or `--basic-auth-env` (at most one) with
    /// `lookup` (the process environment in the CLI; a map in tests).
    pub fn from_env(
        bearer_var: Option<&str>,
        basic_var: Option<&str>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let read = |flag: &'static str, var: &str| -> Result<String> {
            lookup(var)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| PullError::MissingSecret {
                    flag,
                    var: var.to_owned(),
                })
        };
        match (bearer_var, basic_var) {
            (Some(_), Some(_)) => Err(PullError::bad_query(
                "both --bearer-token-env and --basic-auth-env are given",
                "a server takes one kind of credentials; keep one of the two flags",
            )),
            (Some(var), None) => Ok(Self::Bearer {
                var: var.to_owned(),
                token: read("--bearer-token-env", var)?.trim().to_owned(),
            }),
            (None, Some(var)) => {
                let pair = read("--basic-auth-env", var)?;
                if !pair.contains(':') {
                    return Err(PullError::BadBasicAuth {
                        var: var.to_owned(),
                    });
                }
                Ok(Self::Basic {
                    var: var.to_owned(),
                    encoded: base64(pair.trim_end_matches(['\r', '\n']).as_bytes()),
                })
            }
            (None, None) => Ok(Self::None),
        }
    }

    /// The `Authorization` header value, if any. Never log it.
    pub(crate) fn header(&self) -> Option<String> {
        match self {
            Self::None => None,
            Self::Bearer { token, .. } => Some(format!("Bearer {token}")),
            Self::Basic { encoded, .. } => Some(format!("Basic {encoded}")),
        }
    }

    /// What to tell the user when the server answers 401/403.
    pub(crate) fn refused_hint(&self) -> String {
        match self {
            Self::None => "the server wants credentials: put a token in an environment variable and pass --bearer-token-env NAME (or `user:pass` with --basic-auth-env NAME)".to_owned(),
            Self::Bearer { var, .. } => format!("the token in ${var} was refused; check that it is current and allowed to query"),
            Self::Basic { var, .. } => format!("the user and password in ${var} were refused; check them"),
        }
    }

    /// A description without the secret, for logs and metadata.
    pub fn describe(&self) -> String {
        match self {
            Self::None => "none".to_owned(),
            Self::Bearer { var, .. } => format!("bearer token from ${var}"),
            Self::Basic { var, .. } => format!("basic auth from ${var}"),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Auth({})", self.describe())
    }
}

/// Standard base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn urls_are_checked_and_normalised() {
        let ok = |text: &str| ServerUrl::parse(text).map(|u| u.as_str().to_owned()).ok();
        assert_eq!(
            ok("http://127.0.0.1:9090").as_deref(),
            Some("http://127.0.0.1:9090")
        );
        assert_eq!(
            ok("HTTP://localhost:9090/").as_deref(),
            Some("http://localhost:9090")
        );
        assert_eq!(
            ok("https://prom.example.com/prom/").as_deref(),
            Some("https://prom.example.com/prom")
        );
        assert_eq!(
            ok("http://[::1]:9090").as_deref(),
            Some("http://[::1]:9090")
        );
        let reason = |text: &str| match ServerUrl::parse(text) {
            Err(PullError::BadUrl { reason, .. }) => reason,
            other => panic!("{text:?}: {other:?}"),
        };
        assert!(reason("").contains("empty"));
        assert!(reason("127.0.0.1:9090").contains("no scheme"));
        assert!(reason("ftp://host").contains("not http or https"));
        assert!(reason("http://").contains("no host"));
        assert!(reason("http://host:port").contains("port"));
        assert!(reason("http://host:0").contains("port"));
        assert!(reason("http://host:99999").contains("port"));
        assert!(reason("http://ho st").contains("spaces"));
        assert!(reason("http://host/api?x=1").contains("query or fragment"));
        assert!(reason("http://ho$t").contains("host name"));
    }

    #[test]
    fn credentials_in_url_are_refused_without_echoing_them() {
        let error = ServerUrl::parse("http://admin:s3cret@127.0.0.1:9090/x").err();
        let message = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("http://127.0.0.1:9090/x"), "{message}");
        assert!(message.contains("--basic-auth-env"), "{message}");
        assert!(
            !message.contains("s3cret") && !message.contains("admin"),
            "{message}"
        );
    }

    #[test]
    fn auth_reads_the_environment_and_hides_the_secret() {
        let env = |name: &str| match name {
            "TOKEN" => Some("t0ken\n".to_owned()),
            "PAIR" => Some("Aladdin:open sesame".to_owned()),
            "NOCOLON" => Some("justuser".to_owned()),
            "EMPTY" => Some("  ".to_owned()),
            _ => None,
        };
        let bearer = Auth::from_env(Some("TOKEN"), None, env).ok();
        assert_eq!(
            bearer.as_ref().and_then(Auth::header).as_deref(),
            Some("Bearer t0ken")
        );
        assert!(!format!("{bearer:?}").contains("t0ken"));
        let basic = Auth::from_env(None, Some("PAIR"), env).ok();
        assert_eq!(
            basic.as_ref().and_then(Auth::header).as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert!(!format!("{basic:?}").contains("sesame"));
        assert!(matches!(Auth::from_env(None, None, env), Ok(Auth::None)));
        assert!(matches!(
            Auth::from_env(Some("MISSING"), None, env),
            Err(PullError::MissingSecret {
                flag: "--bearer-token-env",
                ..
            })
        ));
        assert!(matches!(
            Auth::from_env(Some("EMPTY"), None, env),
            Err(PullError::MissingSecret { .. })
        ));
        let error = Auth::from_env(None, Some("NOCOLON"), env)
            .err()
            .map(|e| e.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("NOCOLON") && !e.contains("justuser"))
        );
        assert!(Auth::from_env(Some("TOKEN"), Some("PAIR"), env).is_err());
    }
}
