//! `vigil families [NAME] [--json]`: the detector catalog as a user sees it, generated from
//! the catalog itself (descriptions, causality, input, defaults, search spaces) and the
//! exporter's declared forms, so it cannot drift from what `vigil run` and `vigil export` do.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use comfy_table::{Cell, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use vigil_export::{ExportForm, Exportability, exportability};
use vigil_train::DetectorKind;
use vigil_train::space::{Dim, Domain};

use super::EXIT_OK;

/// `vigil families …`
#[derive(Debug, clap::Args)]
pub struct FamiliesArgs {
    /// One family (e.g. `knn`): every parameter with its default, and its search space.
    pub name: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// One family, as `vigil families` shows it.
#[derive(Debug, Serialize)]
struct Family {
    kind: &'static str,
    description: &'static str,
    /// Whether the score at row t uses rows ≤ t only.
    causal: bool,
    /// `feature rows` (all channels at once) or `per channel`.
    input: &'static str,
    export: Exportability,
    /// Every parameter with its default (the spec's fields, as a spec file writes them).
    parameters: serde_json::Map<String, serde_json::Value>,
    /// What `search = "default"` tunes.
    search_space: Vec<Dim>,
}

impl Family {
    fn of(kind: DetectorKind) -> anyhow::Result<Family> {
        let mut parameters = match serde_json::to_value(kind.default_spec())? {
            serde_json::Value::Object(map) => map,
            other => bail!("{kind}: the default spec serialised to {other}, not a table"),
        };
        parameters.remove("kind");
        Ok(Family {
            kind: kind.name(),
            description: kind.description(),
            causal: kind.causal(),
            input: if kind.is_point() {
                "feature rows"
            } else if kind.joint_channels() {
                "all channels"
            } else {
                "per channel"
            },
            export: exportability(kind),
            parameters,
            search_space: kind.space(),
        })
    }
}

/// Runs the verb.
pub fn run(args: &FamiliesArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match &args.name {
        None => {
            let families = DetectorKind::ALL
                .iter()
                .map(|&k| Family::of(k))
                .collect::<anyhow::Result<Vec<_>>>()?;
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&families)?)?;
            } else {
                print_catalog(&mut out, &families)?;
            }
        }
        Some(name) => {
            let Some(&kind) = DetectorKind::ALL.iter().find(|k| k.name() == name) else {
                let names: Vec<&str> = DetectorKind::ALL.iter().map(|k| k.name()).collect();
                bail!(
                    "no family named {name:?}\nhint: the families are {}",
                    names.join(", ")
                );
            };
            let family = Family::of(kind)?;
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&family)?)?;
            } else {
                print_family(&mut out, &family)?;
            }
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn form(export: &Exportability) -> &'static str {
    match export.form {
        ExportForm::Window => "window",
        ExportForm::Streaming => "streaming",
        ExportForm::None => "no",
    }
}

fn print_catalog(out: &mut impl Write, families: &[Family]) -> std::io::Result<()> {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec!["family", "causal", "input", "ONNX", "what it scores"]);
    for f in families {
        table.add_row(vec![
            Cell::new(f.kind),
            Cell::new(if f.causal { "yes" } else { "batch" }),
            Cell::new(f.input),
            Cell::new(form(&f.export)),
            Cell::new(f.description),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "`vigil families NAME` shows a family's parameters, defaults, search space and export \
         notes; `--json` prints everything."
    )
}

fn domain(d: &Domain) -> String {
    match d {
        Domain::Float { low, high, log } => {
            format!("{low} ..= {high}{}", if *log { " (log scale)" } else { "" })
        }
        Domain::Int { low, high, step } => format!("{low} ..= {high} step {step}"),
        Domain::Choice { options } => options
            .iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            .join(" | "),
    }
}

fn print_family(out: &mut impl Write, f: &Family) -> std::io::Result<()> {
    writeln!(out, "{}: {}", f.kind, f.description)?;
    writeln!(
        out,
        "causal: {}; input: {}",
        if f.causal {
            "yes (row t's score uses rows ≤ t)"
        } else {
            "no (batch: scores use the whole series)"
        },
        f.input
    )?;
    writeln!(out, "ONNX export: {} — {}", form(&f.export), f.export.note)?;
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec!["parameter", "default", "searched over"]);
    for (name, default) in &f.parameters {
        let searched = f
            .search_space
            .iter()
            .find(|d| d.name == *name)
            .map_or(String::new(), |d| domain(&d.domain));
        table.add_row(vec![
            Cell::new(name),
            Cell::new(default.to_string()),
            Cell::new(searched),
        ]);
    }
    // Dimensions that name a nested field (e.g. `features.window`) have no top-level row.
    for d in f
        .search_space
        .iter()
        .filter(|d| !f.parameters.contains_key(&d.name))
    {
        table.add_row(vec![
            Cell::new(&d.name),
            Cell::new(nested_default(&f.parameters, &d.name)),
            Cell::new(domain(&d.domain)),
        ]);
    }
    writeln!(out, "{table}")
}

/// The default of a dotted parameter path (`features.window`), or `—`.
fn nested_default(parameters: &serde_json::Map<String, serde_json::Value>, path: &str) -> String {
    let mut parts = path.split('.');
    let Some(first) = parts.next() else {
        return "—".into();
    };
    let mut value = parameters.get(first);
    for part in parts {
        value = value.and_then(|v| v.get(part));
    }
    value.map_or("—".into(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_train::DetectorSpec;

    #[test]
    fn every_family_has_a_table_of_parameters_and_its_space_rows() {
        for &kind in DetectorKind::ALL {
            let f = Family::of(kind).expect("serialises");
            assert!(!f.description.is_empty(), "{kind}");
            let spec: DetectorSpec = serde_json::from_value(serde_json::Value::Object({
                let mut m = f.parameters.clone();
                m.insert("kind".into(), kind.name().into());
                m
            }))
            .expect("the parameters read back as the spec");
            assert_eq!(spec, kind.default_spec(), "{kind}");
            let mut shown = Vec::new();
            print_family(&mut shown, &f).expect("writes");
            let shown = String::from_utf8(shown).expect("utf-8");
            for d in &f.search_space {
                assert!(shown.contains(&d.name), "{kind}: {} missing", d.name);
            }
        }
    }
}
