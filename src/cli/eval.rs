//! `vigil eval`: evaluate scores from any tool against labelled incidents with vigil's yardstick.
//!
//! Scores: a CSV `timestamp,score` (one series), a folder of such CSVs (one series per file,
//! searched recursively), or NAB's results layout `results/<detector>/<category>/<detector>_<file>.csv`
//! (column `anomaly_score`; the `<detector>_` prefix is dropped so series are named like NAB's
//! label keys, `<category>/<file>.csv`).
//! Labels: NAB's `combined_windows.json`, a JSON array of `{series, start, end, kind?, severity?}`,
//! or a CSV `series,start,end[,kind,severity]`. Timestamps are `YYYY-MM-DD HH:MM:SS[.ffffff]`,
//! RFC 3339, or epoch seconds / milliseconds.

mod input;
mod recorded;
mod table;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use vigil_eval::alert::{AlertPolicy, SeverityBands};
use vigil_eval::nab::NabProfile;
use vigil_eval::threshold::{Objective, ThresholdPolicy};
use vigil_eval::vus::VusParams;
use vigil_eval::{EvalConfig, EvalSeries, Window, evaluate};

use input::{ScoreSeries, find_labels, read_labels, read_scores, windows_to_rows};

/// Arguments of `vigil eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Scores: a `timestamp,score` CSV, a folder of them, or a NAB results folder.
    #[arg(long, value_name = "PATH")]
    pub scores: PathBuf,
    /// Labels: NAB combined_windows.json, a JSON array of {series,start,end,kind?,severity?}, or a
    /// CSV series,start,end[,kind,severity]. Optional when every score file has a `label`
    /// column (as `vigil run --scores` and `vigil score` write).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Threshold policy: fixed:V, quantile:Q, contamination:R, topk:K, std:K, mad:K, best-f1,
    /// best-adjusted-f1, nab[:profile], or `recorded`: each series' own `threshold` column,
    /// evaluated on its `part = test` rows (the default when every file has `threshold` and
    /// `part` columns, as `vigil run --scores` writes; otherwise best-f1).
    #[arg(long, value_name = "POLICY")]
    pub threshold: Option<String>,
    /// With recorded thresholds: average the metrics over series (`series`, as the
    /// leaderboard does under the series and pooled scopes) or evaluate all series as one
    /// corpus (`pooled`, the corpus scope; needs one threshold for every series). Default:
    /// the spec's scope with --spec, else `series`.
    #[arg(long, value_enum)]
    pub average: Option<Average>,
    /// Take the evaluation settings (alert policy, early allowance, UCR slack, baseline seed,
    /// threshold scope) from this experiment spec, so that recorded scores re-score to the
    /// run's leaderboard; the alert and timing flags below are then ignored.
    #[arg(long, value_name = "SPEC")]
    pub spec: Option<PathBuf>,
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
    /// Points allowed on each side of an incident by the UCR top-1 accuracy (`ucr_top1`:
    /// does each series' highest score fall within the incident ± this slack?).
    #[arg(long, default_value_t = vigil_eval::ucr::DEFAULT_SLACK, value_name = "ROWS")]
    pub ucr_slack: usize,
    /// Seed of the random-score baseline.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// How recorded-threshold metrics are aggregated over series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Average {
    /// Per series, then the mean over series.
    Series,
    /// All series as one corpus at one threshold.
    Pooled,
}

/// Runs `vigil eval`: 0 on success; errors bubble up (the binary maps them to exit code 2).
pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    let series = read_scores(&args.scores)?;
    let recorded_columns = series
        .iter()
        .all(|s| s.threshold.is_some() && s.part.is_some());
    let policy = match args.threshold.as_deref() {
        Some(p) => p,
        None if recorded_columns => "recorded",
        None => "best-f1",
    };
    let spec = args
        .spec
        .as_deref()
        .map(vigil_experiments::load_spec)
        .transpose()?;
    let mut rows = Vec::with_capacity(series.len());
    match &args.labels {
        Some(path) => {
            let labels = read_labels(path)?;
            for s in &series {
                let limits = find_labels(&labels, &s.name);
                if limits.is_none() {
                    tracing::warn!(series = %s.name, "no labels for this series; treating it as incident-free");
                }
                rows.push(windows_to_rows(&s.timestamps, limits.unwrap_or(&[])));
            }
        }
        None => {
            for s in &series {
                let label = s.label.as_ref().ok_or_else(|| {
                    anyhow!(
                        "series {} has no `label` column and no --labels file was given; hint: \
                         pass --labels FILE (NAB combined_windows.json, or series,start,end CSV)",
                        s.name
                    )
                })?;
                let windows = vigil_eval::windows_from_labels(label);
                let severities = vec![None; windows.len()];
                rows.push((windows, severities));
            }
        }
    }
    if policy == "recorded" {
        let config = match &spec {
            Some(spec) => spec.eval_config(),
            None => config_from(args, "best-f1")?,
        };
        let average = args.average.unwrap_or(match &spec {
            Some(s) if s.threshold_scope == vigil_experiments::spec::ThresholdScope::Corpus => {
                Average::Pooled
            }
            _ => Average::Series,
        });
        let windows: Vec<Vec<Window>> = rows.into_iter().map(|(w, _)| w).collect();
        return recorded::run(args, &series, &windows, config, average);
    }
    let mut config = config_from(args, policy)?;
    if let Some(spec) = &spec {
        let threshold = config.threshold;
        config = spec.eval_config();
        config.threshold = threshold;
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
            table::render_table(&evaluation, series.len(), total_rows, incidents)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn config_from(args: &EvalArgs, policy: &str) -> Result<EvalConfig> {
    if !(0.0..1.0).contains(&args.validation_fraction) {
        bail!(
            "--validation-fraction {} is outside [0, 1); hint: use e.g. 0.3 to fit the threshold on the first 30 % of each series",
            args.validation_fraction
        );
    }
    let threshold: ThresholdPolicy = policy.parse()?;
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
        ucr_top1_slack: args.ucr_slack,
        nab_profiles,
        baseline_seed: args.seed,
        ..EvalConfig::default()
    })
}

/// A duration flag: `0` switches it off; anything else is a Prometheus duration (`500ms`,
/// `30s`, `5m`, `1h30m`, `1d`, or a bare number of seconds), read by the one duration parser
/// vigil has (`vigil_pull::time::parse_duration`, which `vigil datasets pull` uses).
fn parse_duration_ms(text: &str, flag: &'static str) -> Result<i64> {
    if text.trim().parse::<f64>().is_ok_and(|v| v == 0.0) {
        return Ok(0);
    }
    Ok(vigil_pull::time::parse_duration(flag, text)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration_ms("5m", "--cooldown").expect("valid duration"),
            300_000
        );
        assert_eq!(
            parse_duration_ms("300", "--cooldown").expect("valid duration"),
            300_000
        );
        assert_eq!(
            parse_duration_ms("250ms", "--cooldown").expect("valid duration"),
            250
        );
        assert_eq!(
            parse_duration_ms("1h30m", "--cooldown").expect("valid duration"),
            5_400_000
        );
        assert_eq!(parse_duration_ms("0", "--cooldown").expect("off"), 0);
        let err = parse_duration_ms("5 parsecs", "--cooldown")
            .expect_err("invalid duration")
            .to_string();
        assert!(err.contains("hint:"), "{err}");
    }
}
