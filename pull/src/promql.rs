//! Just enough PromQL reading to catch a raw counter before it is pulled.
//!
//! A counter only grows and drops to zero when its process restarts, so its raw value is a
//! poor signal for an anomaly detector: what matters is its rate. A selector counts as a
//! **counter** when its metric name ends in `_total`, `_count`, `_sum` or `_bucket` (the
//! OpenMetrics / Prometheus naming rules for counters, summaries and histograms), and its use
//! is **raw** unless it is the range-vector argument of `rate`, `irate`, `increase` or `resets`.
//! So `http_requests_total`, `sum(http_requests_total)` and
//! `max_over_time(http_requests_total[1h])` are raw, while `rate(http_requests_total[5m])` and
//! `histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))` are not.
//!
//! The reader tokenises the query (strings, comments, label lists after `by`/`without`/`on`/
//! `ignoring`/`group_left`/`group_right` handled) and tracks which function call encloses each
//! selector; it does not validate PromQL — the server does that and its errors are reported.

/// Counter-like metric name suffixes.
const COUNTER_SUFFIXES: [&str; 4] = ["_total", "_count", "_sum", "_bucket"];

/// Functions meant for counters.
const COUNTER_FUNCTIONS: [&str; 4] = ["rate", "irate", "increase", "resets"];

/// Words that are not metric names when they stand outside braces.
const KEYWORDS: [&str; 14] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "and",
    "or",
    "unless",
    "atan2",
    "inf",
    "nan",
];

/// Keywords followed by a parenthesised label list.
const LABEL_LIST_KEYWORDS: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Whether a metric name looks like a counter (see the module docs).
pub fn is_counter_name(name: &str) -> bool {
    COUNTER_SUFFIXES
        .iter()
        .any(|suffix| name.ends_with(suffix) && name.len() > suffix.len())
}

/// Counter metrics that `query` uses raw (outside `rate`/`irate`/`increase`/`resets`), in
/// order of appearance, without repeats.
pub fn raw_counters(query: &str) -> Vec<String> {
    let tokens = tokenize(query);
    let mut found: Vec<String> = Vec::new();
    let mut parens: Vec<Paren> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Open('(') => {
                parens.push(Paren::Group);
            }
            Token::Close(')') => {
                parens.pop();
            }
            Token::Ident(word) => {
                let next = tokens.get(i + 1);
                let in_label_list = matches!(parens.last(), Some(Paren::LabelList));
                if matches!(next, Some(Token::Open('('))) {
                    parens.push(if LABEL_LIST_KEYWORDS.contains(&word.as_str()) {
                        Paren::LabelList
                    } else {
                        Paren::Call(word.clone())
                    });
                    i += 2;
                    continue;
                }
                if !in_label_list && !KEYWORDS.contains(&word.as_str()) {
                    let after = skip_braces(&tokens, i + 1);
                    let is_range = matches!(tokens.get(after), Some(Token::Open('[')));
                    note(&mut found, word, is_range, &parens);
                    i = after;
                    continue;
                }
            }
            Token::Open('{') => {
                // A selector without a leading name: `{__name__="x_total", ...}`.
                let after = skip_braces(&tokens, i);
                if let Some(name) = name_matcher(&tokens[i..after]) {
                    let is_range = matches!(tokens.get(after), Some(Token::Open('[')));
                    note(&mut found, &name, is_range, &parens);
                }
                i = after;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Records `name` when it is a counter used raw.
fn note(found: &mut Vec<String>, name: &str, is_range: bool, parens: &[Paren]) {
    let in_counter_function = is_range
        && matches!(parens.last(), Some(Paren::Call(f)) if COUNTER_FUNCTIONS.contains(&f.as_str()));
    if is_counter_name(name) && !in_counter_function && !found.iter().any(|f| f == name) {
        found.push(name.to_owned());
    }
}

#[derive(Debug)]
enum Paren {
    Group,
    Call(String),
    LabelList,
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Open(char),
    Close(char),
    Other,
}

/// The index just past a `{...}` block starting at `start` (or `start` when there is none).
fn skip_braces(tokens: &[Token], start: usize) -> usize {
    if !matches!(tokens.get(start), Some(Token::Open('{'))) {
        return start;
    }
    let mut i = start + 1;
    while i < tokens.len() && !matches!(tokens[i], Token::Close('}')) {
        i += 1;
    }
    (i + 1).min(tokens.len())
}

/// The metric name of a `{__name__="..."}` block.
fn name_matcher(block: &[Token]) -> Option<String> {
    block.windows(3).find_map(|w| match w {
        [Token::Ident(label), Token::Other, Token::Str(value)] if label == "__name__" => {
            Some(value.clone())
        }
        _ => None,
    })
}

fn tokenize(query: &str) -> Vec<Token> {
    let chars: Vec<char> = query.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '"' || c == '\'' || c == '`' {
            let mut value = String::new();
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' && c != '`' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
            i += 1;
            tokens.push(Token::Str(value));
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() || c == '.' {
            // Numbers and durations (`5m`, `1.5e3`, `0x1f`) are one token.
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Other);
        } else if matches!(c, '(' | '{' | '[') {
            tokens.push(Token::Open(c));
            i += 1;
        } else if matches!(c, ')' | '}' | ']') {
            tokens.push(Token::Close(c));
            i += 1;
        } else {
            // Operators and punctuation: `=~`, `!=`, `==` … are one token.
            let start = i;
            while i < chars.len() && matches!(chars[i], '=' | '!' | '~' | '<' | '>') {
                i += 1;
            }
            if i == start {
                i += 1;
            }
            tokens.push(Token::Other);
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(query: &str) -> Vec<String> {
        raw_counters(query)
    }

    #[test]
    fn counter_names() {
        for name in [
            "http_requests_total",
            "rpc_duration_seconds_count",
            "x_sum",
            "le_bucket",
        ] {
            assert!(is_counter_name(name), "{name}");
        }
        for name in ["up", "node_memory_free_bytes", "_total", "total_size"] {
            assert!(!is_counter_name(name), "{name}");
        }
    }

    #[test]
    fn raw_counter_uses_are_found() {
        assert_eq!(raw("http_requests_total"), ["http_requests_total"]);
        assert_eq!(
            raw("http_requests_total{job=\"api\"}"),
            ["http_requests_total"]
        );
        assert_eq!(
            raw("sum by (job) (http_requests_total)"),
            ["http_requests_total"]
        );
        assert_eq!(raw("max_over_time(x_total[1h])"), ["x_total"]);
        assert_eq!(raw("x_total offset 5m"), ["x_total"]);
        assert_eq!(raw("{__name__=\"x_total\", job=\"a\"}"), ["x_total"]);
        assert_eq!(raw("a_total + rate(b_total[5m]) + a_total"), ["a_total"]);
        assert_eq!(raw("sum(rate(x_total[5m])) / sum(y_count)"), ["y_count"]);
    }

    #[test]
    fn counter_functions_and_gauges_pass() {
        for query in [
            "rate(http_requests_total[5m])",
            "irate(http_requests_total{code=~\"5..\"}[1m])",
            "increase(x_total[1h])",
            "resets(x_total[1h])",
            "sum by (job) (rate(x_total{job!=\"a\"}[5m]))",
            "histogram_quantile(0.9, sum by (le) (rate(req_duration_seconds_bucket[5m])))",
            "sum(rate(x_sum[5m])) / sum(rate(x_count[5m]))",
            "rate(x_total[30m:1m])",
            "node_memory_free_bytes",
            "up == 1",
            "avg without (cpu) (node_load1)",
            "# a comment naming x_total\nup",
            "count by (instance_total) (up)",
            "label_replace(up, \"dst_total\", \"$1\", \"instance\", \"(.*)\")",
            "a * on (job_total) group_left (team_total) b",
            "ALERTS{alertstate=\"firing\"}",
        ] {
            assert_eq!(raw(query), Vec::<String>::new(), "{query}");
        }
    }
}
