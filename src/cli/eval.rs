//! `vigil eval`: evaluate scores from any tool against labelled incidents with vigil's yardstick.
//!
//! Scores: a CSV `timestamp,score` (one series), a folder of such CSVs (one series per file,
//! searched recursively), or NAB's results layout `results/<detector>/<category>/<detector>_<file>.csv`
//! (column `anomaly_score`; the `<detector>_` prefix is dropped so series are named like NAB's
//! label keys, `<category>/<file>.csv`).
//! Labels: NAB's `combined_windows.json`, a JSON array of `{series, start, end, kind?, severity?}`,
//! or a CSV `series,start,end[,kind,severity]`. Timestamps are `YYYY-MM-DD HH:MM:SS[.ffffff]`,
//! RFC 3339, or epoch seconds / milliseconds.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, NaiveDateTime};
use vigil_eval::alert::{AlertPolicy, SeverityBands};
use vigil_eval::nab::NabProfile;
use vigil_eval::report::{NabSummary, ThresholdedMetrics};
use vigil_eval::threshold::{Objective, ThresholdPolicy};
use vigil_eval::vus::VusParams;
use vigil_eval::{EvalConfig, EvalSeries, Evaluation, Window, evaluate};

/// Arguments of `vigil eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Scores: a `timestamp,score` CSV, a folder of them, or a NAB results folder.
    #[arg(long, value_name = "PATH")]
    pub scores: PathBuf,
    /// Labels: NAB combined_windows.json, a JSON array of {series,start,end,kind?,severity?}, or a
    /// CSV series,start,end[,kind,severity].
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
    /// Threshold policy: fixed:V, quantile:Q, contamination:R, topk:K, std:K, mad:K, best-f1,
    /// best-adjusted-f1, nab[:profile].
    #[arg(long, default_value = "best-f1", value_name = "POLICY")]
    pub threshold: String,
    /// NAB profiles to report (repeatable): standard, reward_low_FP_rate, reward_low_FN_rate.
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Leading share of every series used to fit the threshold (0: fit on the evaluated rows and
    /// flag the result as in-sample).
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION")]
    pub validation_fraction: f64,
    /// Consecutive detected rows before an alert fires.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub min_consecutive: usize,
    /// Suppress alerts within this time of the previous one (e.g. 5m).
    #[arg(long, default_value = "0", value_name = "DURATION")]
    pub cooldown: String,
    /// Merge alert events separated by at most this time (e.g. 10m).
    #[arg(long, default_value = "0", value_name = "DURATION")]
    pub merge_gap: String,
    /// Early-detection allowance before an incident starts (e.g. 15m).
    #[arg(long, default_value = "0", value_name = "DURATION")]
    pub early: String,
    /// Severity bands, e.g. info=0.5,warning=0.8,critical=0.95.
    #[arg(long, value_name = "BANDS")]
    pub severity: Option<String>,
    /// K of PA%K, in percent.
    #[arg(long, default_value_t = 20.0, value_name = "K")]
    pub pa_k: f64,
    /// Largest VUS buffer width, in rows.
    #[arg(long, default_value_t = 100, value_name = "ROWS")]
    pub vus_window: usize,
    /// Seed of the random-score baseline.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One series of scores as read from disk.
#[derive(Debug)]
struct ScoreSeries {
    name: String,
    timestamps: Vec<i64>,
    scores: Vec<f64>,
}

/// One labelled incident, in time.
#[derive(Debug, Clone)]
struct LabelWindow {
    start: i64,
    end: i64,
    severity: Option<String>,
}

/// Runs `vigil eval`: 0 on success; errors bubble up (the binary maps them to exit code 2).
pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    let config = config_from(args)?;
    let series = read_scores(&args.scores)?;
    let labels = read_labels(&args.labels)?;
    let mut rows = Vec::with_capacity(series.len());
    for s in &series {
        let limits = find_labels(&labels, &s.name);
        if limits.is_none() {
            tracing::warn!(series = %s.name, "no labels for this series; treating it as incident-free");
        }
        let (windows, severities) = windows_to_rows(&s.timestamps, limits.unwrap_or(&[]));
        rows.push((windows, severities));
    }
    let split = |s: &ScoreSeries| -> usize {
        (args.validation_fraction * s.scores.len() as f64).floor() as usize
    };
    let mut validation_windows = Vec::new();
    let mut test_windows = Vec::new();
    for (s, (windows, severities)) in series.iter().zip(&rows) {
        let k = split(s);
        let (mut val, mut test, mut test_sev) = (Vec::new(), Vec::new(), Vec::new());
        for (w, sev) in windows.iter().zip(severities) {
            if w.start < k {
                val.push(Window::new(w.start, w.end.min(k - 1)));
            }
            if w.end >= k {
                test.push(Window::new(w.start.max(k) - k, w.end - k));
                test_sev.push(sev.clone());
            }
        }
        validation_windows.push(val);
        test_windows.push((test, test_sev));
    }
    let mut validation = Vec::new();
    let mut test = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let k = split(s);
        if k > 0 {
            validation.push(
                EvalSeries::new(&s.scores[..k], &validation_windows[i], &s.timestamps[..k])
                    .with_context(|| format!("validation part of series {}", s.name))?,
            );
        }
        let (windows, severities) = &test_windows[i];
        let mut e = EvalSeries::new(&s.scores[k..], windows, &s.timestamps[k..])
            .with_context(|| format!("series {}", s.name))?;
        if severities.iter().any(Option::is_some) {
            e = e.with_severities(severities)?;
        }
        test.push(e);
    }
    let evaluation = evaluate(&validation, &test, &config)
        .context("evaluating the scores; hint: check the threshold policy and the labels")?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &evaluation)?;
        writeln!(out)?;
    } else {
        let total_rows: usize = series.iter().map(|s| s.scores.len()).sum();
        let incidents: usize = rows.iter().map(|(w, _)| w.len()).sum();
        write!(
            out,
            "{}",
            render_table(&evaluation, series.len(), total_rows, incidents)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn config_from(args: &EvalArgs) -> Result<EvalConfig> {
    if !(0.0..1.0).contains(&args.validation_fraction) {
        bail!(
            "--validation-fraction {} is outside [0, 1); hint: use e.g. 0.3 to fit the threshold on the first 30 % of each series",
            args.validation_fraction
        );
    }
    let threshold: ThresholdPolicy = args.threshold.parse()?;
    // The oracle maximises what the policy maximises (point F1 for unsupervised policies).
    let oracle = match threshold {
        ThresholdPolicy::Best { objective } => objective,
        _ => Objective::PointF1,
    };
    let nab_profiles = if args.profiles.is_empty() {
        NabProfile::ALL.to_vec()
    } else {
        args.profiles
            .iter()
            .map(|p| p.parse())
            .collect::<Result<_, _>>()?
    };
    let severity = args.severity.as_deref().map(parse_bands).transpose()?;
    Ok(EvalConfig {
        threshold,
        oracle,
        alert: AlertPolicy {
            min_consecutive: args.min_consecutive,
            cooldown_ms: parse_duration_ms(&args.cooldown, "--cooldown")?,
            merge_gap_ms: parse_duration_ms(&args.merge_gap, "--merge-gap")?,
            severity,
        },
        early_ms: parse_duration_ms(&args.early, "--early")?,
        pa_k_percent: args.pa_k,
        vus: VusParams {
            max_window: args.vus_window,
            ..VusParams::default()
        },
        nab_profiles,
        baseline_seed: args.seed,
        ..EvalConfig::default()
    })
}

/// `500ms`, `30s`, `5m`, `2h`, `1d`; a bare number is seconds.
fn parse_duration_ms(text: &str, flag: &str) -> Result<i64> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.trim().parse().map_err(|_| {
        anyhow!("{flag} `{text}` is not a duration; hint: write e.g. 300s, 5m, 1h or 500ms")
    })?;
    let factor = match unit {
        "" | "s" => 1_000.0,
        "ms" => 1.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        other => bail!("{flag}: unknown unit `{other}`; hint: use ms, s, m, h or d"),
    };
    if value < 0.0 || !value.is_finite() {
        bail!("{flag} `{text}` must be a non-negative duration; hint: use 0 to switch it off");
    }
    Ok((value * factor).round() as i64)
}

fn parse_bands(text: &str) -> Result<SeverityBands> {
    let mut bands = Vec::new();
    for part in text.split(',') {
        let (name, value) = part.split_once('=').ok_or_else(|| {
            anyhow!("--severity `{part}` is not NAME=SCORE; hint: e.g. info=0.5,warning=0.8,critical=0.95")
        })?;
        let value: f64 = value.trim().parse().map_err(|_| {
            anyhow!("--severity `{part}`: `{value}` is not a number; hint: e.g. warning=0.8")
        })?;
        bands.push((name.trim(), value));
    }
    Ok(SeverityBands::new(&bands)?)
}

/// Milliseconds UTC from `YYYY-MM-DD HH:MM:SS[.f]` (taken as UTC), RFC 3339, or epoch seconds /
/// milliseconds (numbers above 1e11 are taken as milliseconds).
fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim().trim_matches('"');
    if let Ok(n) = t.parse::<f64>() {
        return n.is_finite().then(|| {
            if n.abs() >= 1e11 {
                n.round() as i64
            } else {
                (n * 1000.0).round() as i64
            }
        });
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, format) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    None
}

/// Reads every score series under `path`.
fn read_scores(path: &Path) -> Result<Vec<ScoreSeries>> {
    if path.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![read_score_file(path, name)?]);
    }
    if !path.is_dir() {
        bail!(
            "--scores {} does not exist; hint: give a CSV file or a folder of CSV files",
            path.display()
        );
    }
    let detector = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut files = Vec::new();
    collect_csv(path, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(path).unwrap_or(&file);
        let file_name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file_name.ends_with("_scores.csv") {
            continue; // NAB's score tables sit beside the per-row results.
        }
        let prefix = format!("{detector}_");
        let short = file_name
            .strip_prefix(&prefix)
            .unwrap_or(&file_name)
            .to_string();
        let name = match rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => format!("{}/{short}", dir.to_string_lossy()),
            None => short,
        };
        out.push(read_score_file(&file, name)?);
    }
    if out.is_empty() {
        bail!(
            "no score CSV under {}; hint: the folder should hold timestamp,score CSV files",
            path.display()
        );
    }
    Ok(out)
}

fn collect_csv(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("reading folder {}", dir.display()))?
    {
        let p = entry?.path();
        if p.is_dir() {
            collect_csv(&p, out)?;
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            out.push(p);
        }
    }
    Ok(())
}

fn read_score_file(path: &Path, name: String) -> Result<ScoreSeries> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("opening scores {}; hint: check the path", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| {
            format!(
                "{}: cannot read the header row; hint: the first line must be `timestamp,score`",
                path.display()
            )
        })?
        .clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()))
    };
    let ts_col = find(&["timestamp", "time", "ts"]).ok_or_else(|| {
        anyhow!(
            "{}: no `timestamp` column (header: {:?}); hint: the header must be `timestamp,score`",
            path.display(),
            headers
        )
    })?;
    let score_col = find(&["score", "anomaly_score"]).ok_or_else(|| {
        anyhow!("{}: no `score` or `anomaly_score` column (header: {:?}); hint: the header must be `timestamp,score`", path.display(), headers)
    })?;
    let mut series = ScoreSeries {
        name,
        timestamps: Vec::new(),
        scores: Vec::new(),
    };
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let r = record.with_context(|| {
            format!(
                "{}: line {line} is not valid CSV; hint: one `timestamp,score` pair per line",
                path.display()
            )
        })?;
        let ts = r.get(ts_col).unwrap_or("");
        let t = parse_timestamp(ts).ok_or_else(|| {
            anyhow!("{}: line {line}: timestamp `{ts}` not understood; hint: use YYYY-MM-DD HH:MM:SS, RFC 3339 or epoch seconds/ms", path.display())
        })?;
        let raw = r.get(score_col).unwrap_or("");
        let score: f64 = raw.trim().parse().map_err(|_| {
            anyhow!(
                "{}: line {line}: score `{raw}` is not a number; hint: write plain decimal scores",
                path.display()
            )
        })?;
        if !score.is_finite() {
            bail!(
                "{}: line {line}: score is {score}; hint: scores must be finite, fill the detector's warm-up rows with 0",
                path.display()
            );
        }
        series.timestamps.push(t);
        series.scores.push(score);
    }
    if series.scores.is_empty() {
        bail!(
            "{}: no rows; hint: the file needs at least one `timestamp,score` line",
            path.display()
        );
    }
    Ok(series)
}

/// Labels keyed by series name.
fn read_labels(path: &Path) -> Result<BTreeMap<String, Vec<LabelWindow>>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading labels {}; hint: check the path", path.display()))?;
    let mut out: BTreeMap<String, Vec<LabelWindow>> = BTreeMap::new();
    let ts = |v: &serde_json::Value, what: &str, key: &str| -> Result<i64> {
        let parsed = match v {
            serde_json::Value::String(s) => parse_timestamp(s),
            serde_json::Value::Number(n) => {
                n.as_f64().and_then(|x| parse_timestamp(&x.to_string()))
            }
            _ => None,
        };
        parsed.ok_or_else(|| anyhow!("{}: {key}: {what} `{v}` is not a timestamp; hint: use YYYY-MM-DD HH:MM:SS, RFC 3339 or epoch seconds/ms", path.display()))
    };
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with(['{', '[']);
    if is_json {
        let json: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: invalid JSON; hint: give NAB's combined_windows.json or an array of {{series,start,end}}", path.display()))?;
        match json {
            serde_json::Value::Object(map) => {
                for (key, list) in map {
                    let windows = list.as_array().ok_or_else(|| anyhow!("{}: {key}: expected a list of [start, end] pairs; hint: NAB's combined_windows.json layout", path.display()))?;
                    let entry = out.entry(key.clone()).or_default();
                    for (i, pair) in windows.iter().enumerate() {
                        let k = format!("{key}[{i}]");
                        entry.push(LabelWindow {
                            start: ts(&pair[0], "start", &k)?,
                            end: ts(&pair[1], "end", &k)?,
                            severity: None,
                        });
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let k = format!("item {i}");
                    let series = item["series"].as_str().ok_or_else(|| anyhow!("{}: {k}: missing `series`; hint: each item is {{series,start,end,kind?,severity?}}", path.display()))?;
                    out.entry(series.to_string())
                        .or_default()
                        .push(LabelWindow {
                            start: ts(&item["start"], "start", &k)?,
                            end: ts(&item["end"], "end", &k)?,
                            severity: item["severity"].as_str().map(str::to_string),
                        });
                }
            }
            _ => bail!(
                "{}: expected a JSON object or array; hint: give NAB's combined_windows.json or an array of {{series,start,end}}",
                path.display()
            ),
        }
    } else {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers()?.clone();
        let col = |n: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(n))
        };
        let (Some(sc), Some(st), Some(en)) = (col("series"), col("start"), col("end")) else {
            bail!(
                "{}: header {:?} lacks series,start,end; hint: the labels CSV header is series,start,end[,kind,severity]",
                path.display(),
                headers
            );
        };
        let sev = col("severity");
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let r = record
                .with_context(|| format!("{}: line {line} is not valid CSV", path.display()))?;
            let k = format!("line {line}");
            let field = |c: usize| serde_json::Value::String(r.get(c).unwrap_or("").to_string());
            out.entry(r.get(sc).unwrap_or("").to_string())
                .or_default()
                .push(LabelWindow {
                    start: ts(&field(st), "start", &k)?,
                    end: ts(&field(en), "end", &k)?,
                    severity: sev
                        .and_then(|c| r.get(c))
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                });
        }
    }
    for (series, windows) in out.iter_mut() {
        windows.sort_by_key(|w| w.start);
        let mut merged: Vec<LabelWindow> = Vec::with_capacity(windows.len());
        for w in windows.drain(..) {
            match merged.last_mut() {
                Some(last) if w.start <= last.end => {
                    tracing::warn!(%series, "overlapping label windows merged");
                    last.end = last.end.max(w.end);
                    last.severity = last.severity.take().or(w.severity);
                }
                _ => merged.push(w),
            }
        }
        *windows = merged;
    }
    Ok(out)
}

/// Labels of a series, matching its name with or without the `.csv` extension.
fn find_labels<'a>(
    labels: &'a BTreeMap<String, Vec<LabelWindow>>,
    name: &str,
) -> Option<&'a [LabelWindow]> {
    let stem = name.strip_suffix(".csv").unwrap_or(name);
    labels
        .get(name)
        .or_else(|| labels.get(stem))
        .or_else(|| labels.get(&format!("{stem}.csv")))
        .map(Vec::as_slice)
}

/// Maps time windows to inclusive row ranges by walking the rows in file order (NAB's rule:
/// open at the first row at or after the start, close at the first row equal to the end, or
/// before the first row past it). Windows that hold no row are dropped with a warning.
fn windows_to_rows(
    timestamps: &[i64],
    limits: &[LabelWindow],
) -> (Vec<Window>, Vec<Option<String>>) {
    let mut windows = Vec::new();
    let mut severities = Vec::new();
    let mut cursor = 0usize;
    for l in limits {
        let Some(first) = (cursor..timestamps.len()).find(|&i| timestamps[i] >= l.start) else {
            tracing::warn!(
                start = l.start,
                "label window starts after the last row; dropped"
            );
            continue;
        };
        let mut last = None;
        for (j, &t) in timestamps.iter().enumerate().skip(first) {
            if t == l.end {
                last = Some(j);
                break;
            }
            if t > l.end {
                last = j.checked_sub(1);
                break;
            }
            last = Some(j);
        }
        match last {
            Some(last) if last >= first => {
                windows.push(Window::new(first, last));
                severities.push(l.severity.clone());
                cursor = last + 1;
            }
            _ => tracing::warn!(
                start = l.start,
                end = l.end,
                "label window holds no row; dropped"
            ),
        }
    }
    (windows, severities)
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.4}"))
}

fn render_table(e: &Evaluation, series: usize, rows: usize, incidents: usize) -> String {
    let mut s = String::new();
    let fitted_on = if e.in_sample {
        "fitted on the evaluated rows (in-sample)"
    } else {
        "fitted on validation"
    };
    s.push_str(&format!(
        "vigil eval: {series} series, {rows} rows, {incidents} incidents; threshold {} {fitted_on}\n\n",
        e.fitted.policy
    ));
    let b = e.baselines.as_ref();
    let columns: Vec<(&str, Option<&ThresholdedMetrics>)> = vec![
        ("deployable", Some(&e.deployable)),
        ("oracle", e.oracle.as_ref()),
        ("random", b.map(|b| &b.random.deployable)),
        ("null", b.map(|b| &b.null)),
    ];
    s.push_str(&format!("{:<34}", "threshold-dependent"));
    for (name, _) in &columns {
        s.push_str(&format!("{name:>12}"));
    }
    s.push('\n');
    type Getter = fn(&ThresholdedMetrics) -> Option<f64>;
    let mut lines: Vec<(String, Getter)> = vec![
        ("threshold".into(), |m| {
            Some(m.threshold).filter(|t| *t < f64::MAX)
        }),
        ("point precision".into(), |m| Some(m.point.precision)),
        ("point recall".into(), |m| Some(m.point.recall)),
        ("point F1".into(), |m| Some(m.point.f1)),
        ("point FPR".into(), |m| Some(m.point.fpr)),
        ("point-adjusted F1 (adjusted)".into(), |m| {
            Some(m.point_adjusted.metrics.f1)
        }),
        (format!("PA%{} F1 (adjusted)", e.config.pa_k_percent), |m| {
            Some(m.pa_k.metrics.f1)
        }),
        ("PA%K F1 AUC (adjusted)".into(), |m| Some(m.pa_k_f1_auc)),
        ("range precision".into(), |m| Some(m.range.precision)),
        ("range recall".into(), |m| Some(m.range.recall)),
        ("range F1".into(), |m| Some(m.range.f1)),
        ("incident recall".into(), |m| Some(m.events.incident_recall)),
        ("alert precision".into(), |m| Some(m.events.alert_precision)),
        ("event F1".into(), |m| Some(m.events.event_f1)),
        ("alerts".into(), |m| Some(m.events.alerts as f64)),
        ("false alarms per day".into(), |m| {
            Some(m.events.false_alarms_per_day)
        }),
        ("delay mean (min)".into(), |m| {
            m.delay.ms.map(|d| d.mean / 60_000.0)
        }),
        ("delay median (min)".into(), |m| {
            m.delay.ms.map(|d| d.median / 60_000.0)
        }),
        ("delay max (min)".into(), |m| {
            m.delay.ms.map(|d| d.max / 60_000.0)
        }),
    ];
    for (i, p) in e.config.nab_profiles.iter().enumerate().take(3) {
        let getter: Getter = match i {
            0 => |m| m.nab.first().and_then(|n| n.normalised),
            1 => |m| m.nab.get(1).and_then(|n| n.normalised),
            _ => |m| m.nab.get(2).and_then(|n| n.normalised),
        };
        lines.push((format!("NAB {p} (normalised)"), getter));
    }
    for (label, get) in &lines {
        s.push_str(&format!("{label:<34}"));
        for (_, m) in &columns {
            let value = m.and_then(get);
            let cell = if label == "alerts" {
                value.map_or_else(|| "-".to_string(), |v| format!("{v:.0}"))
            } else {
                fmt_opt(value)
            };
            s.push_str(&format!("{cell:>12}"));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "\n{:<34}{:>12}{:>12}\n",
        "threshold-free", "detector", "random"
    ));
    let free = e.threshold_free;
    let rand = b.map(|b| b.random.threshold_free);
    for (label, v, r) in [
        ("ROC-AUC", free.roc_auc, rand.and_then(|r| r.roc_auc)),
        (
            "PR-AUC (average precision)",
            free.average_precision,
            rand.and_then(|r| r.average_precision),
        ),
        ("VUS-ROC", free.vus_roc, rand.and_then(|r| r.vus_roc)),
        ("VUS-PR", free.vus_pr, rand.and_then(|r| r.vus_pr)),
    ] {
        s.push_str(&format!(
            "{label:<34}{:>12}{:>12}\n",
            fmt_opt(v),
            fmt_opt(r)
        ));
    }
    s.push_str("\nNAB with the corpus threshold search (exact, best on these rows)\n");
    let rand_nab: &[NabSummary] = b.map_or(&[], |b| &b.random.nab_optimised);
    for (i, n) in e.nab_optimised.iter().enumerate() {
        s.push_str(&format!(
            "  {:<20} threshold {:<10.6} raw {:>10.4}  normalised {:>8}  (random {:>8})\n",
            n.profile.name(),
            n.threshold,
            n.raw,
            fmt_opt(n.normalised),
            fmt_opt(rand_nab.get(i).and_then(|r| r.normalised)),
        ));
    }
    if !e.deployable.severities.is_empty() {
        s.push_str(
            "\nseverity (deployable)           alerts   true  precision  labelled  matched\n",
        );
        for c in &e.deployable.severities {
            s.push_str(&format!(
                "  {:<28}{:>8}{:>7}{:>11.4}{:>10}{:>9}\n",
                c.severity.as_deref().unwrap_or("(below bands)"),
                c.alerts,
                c.true_alerts,
                c.precision,
                c.labelled_incidents,
                c.matched_incidents
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_accepted_form() {
        let nab = parse_timestamp("2014-04-10 07:15:00").unwrap();
        assert_eq!(parse_timestamp("2014-04-10 07:15:00.000000"), Some(nab));
        assert_eq!(parse_timestamp("2014-04-10T07:15:00Z"), Some(nab));
        assert_eq!(parse_timestamp("2014-04-10T09:15:00+02:00"), Some(nab));
        assert_eq!(parse_timestamp(&(nab / 1000).to_string()), Some(nab));
        assert_eq!(parse_timestamp(&nab.to_string()), Some(nab));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("5m", "--cooldown").unwrap(), 300_000);
        assert_eq!(parse_duration_ms("300", "--cooldown").unwrap(), 300_000);
        assert_eq!(parse_duration_ms("250ms", "--cooldown").unwrap(), 250);
        let err = parse_duration_ms("5 parsecs", "--cooldown")
            .unwrap_err()
            .to_string();
        assert!(err.contains("hint:"), "{err}");
    }

    #[test]
    fn windows_walk_rows_in_file_order() {
        let t = [0, 10, 20, 20, 30, 40, 50];
        let l = |start, end| LabelWindow {
            start,
            end,
            severity: None,
        };
        let (w, _) = windows_to_rows(&t, &[l(10, 20), l(35, 45)]);
        // The end matches the first row equal to it (NAB); the second ends before 50.
        assert_eq!(w, vec![Window::new(1, 2), Window::new(5, 5)]);
        let (w, _) = windows_to_rows(&t, &[l(41, 49)]);
        assert!(w.is_empty());
    }
}
