//! The command line (clap derive). Parsing and dispatch only: every command is a thin call into
//! the library. `anyhow` is used here and in `main` only.
//!
//! Exit codes: 0 ok, 1 run failure, 2 invalid input (bad scenario, template, request file or
//! usage), 3 thresholds or conformance checks failed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cwmp::{CwmpVersion, DateTime};
use crate::import;
use crate::model::Template;
use crate::render::{self, RenderInput};
use crate::units;

#[derive(Debug, Parser)]
#[command(
    name = "cpefleet",
    version,
    about = "TR-069 (CWMP) CPE fleet simulator and load tester"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print what device N of a template would send: its Inform, or its answer to a request.
    Render(RenderArgs),
    /// Work with data-model templates.
    #[command(subcommand)]
    Template(TemplateCommand),
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Template file (data-models/*.yaml).
    pub template: PathBuf,
    /// Device index within the fleet.
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    /// Run seed (generated values depend on it).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Events of the Inform, comma-separated ("0 BOOTSTRAP,1 BOOT", "M Reboot:KEY").
    #[arg(long, conflicts_with = "request")]
    pub inform: Option<String>,
    /// An ACS request envelope (a file); prints the device's response.
    #[arg(long)]
    pub request: Option<PathBuf>,
    /// CWMP version (1.0 … 1.4); the template's by default.
    #[arg(long, value_parser = parse_version)]
    pub cwmp_version: Option<CwmpVersion>,
    /// Base URL of the connection-request listener the device advertises.
    #[arg(long, default_value = "http://127.0.0.1:7548")]
    pub cr_url: String,
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Write a template from a device dump or an official data model.
    Import(ImportArgs),
    /// Load a template and print what a device of it holds.
    Check {
        /// Template file.
        template: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportFormat {
    /// genieacs-sim CSV dump (Parameter,Object,Writable,Value,Value type).
    GenieacsCsv,
    /// Broadband Forum data-model XML (cwmp-datamodel).
    BbfXml,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long = "from", value_enum)]
    pub format: ImportFormat,
    /// The input file.
    pub file: PathBuf,
    /// bbf-xml: the sub-tree to import (e.g. "Device." or "Device.WiFi.").
    #[arg(long)]
    pub root: Option<String>,
    /// bbf-xml: object path prefixes to keep (repeatable; default everything under --root).
    #[arg(long)]
    pub include: Vec<String>,
    /// bbf-xml: initial instances per table.
    #[arg(long, default_value_t = 1)]
    pub instances: u32,
    /// Template name (default: from the file name).
    #[arg(long)]
    pub name: Option<String>,
    /// Output file (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

fn parse_version(s: &str) -> Result<CwmpVersion, String> {
    CwmpVersion::parse(s).ok_or_else(|| format!("{s:?}: use 1.0, 1.1, 1.2, 1.3 or 1.4"))
}

/// Parses a duration argument with the same spellings the YAML files accept.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    units::parse_duration(s)
}

/// An error the user caused (exit 2) as opposed to a failure of the run (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Runs a parsed command line; returns the exit code.
pub fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Render(a) => render_cmd(a),
        Command::Template(TemplateCommand::Import(a)) => import_cmd(a),
        Command::Template(TemplateCommand::Check { template }) => template_check(&template),
    }
}

fn load_template(path: &Path) -> anyhow::Result<Template> {
    Template::load(path).map_err(|e| InputError(e.to_string()).into())
}

fn now() -> DateTime {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    // Whole seconds: CurrentTime reads like a real CPE's clock.
    DateTime::from_unix_ms(ms - ms % 1000)
}

fn render_cmd(a: RenderArgs) -> anyhow::Result<i32> {
    let template = load_template(&a.template)?;
    let input = RenderInput {
        template: &template,
        index: a.index,
        seed: a.seed,
        version: a.cwmp_version,
        now: now(),
        cr_url_base: &a.cr_url,
    };
    let out = match &a.request {
        Some(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| InputError(format!("{}: {e}", path.display())))?;
            render::render_response(&input, &bytes)
                .map_err(|e| InputError(format!("{}: {e}", path.display())))?
        }
        None => {
            let events = render::parse_events(a.inform.as_deref().unwrap_or("1 BOOT"))
                .map_err(|e| InputError(format!("--inform: {e}")))?;
            render::render_inform(&input, events)
        }
    };
    println!("{}", String::from_utf8_lossy(&out));
    Ok(0)
}

fn import_cmd(a: ImportArgs) -> anyhow::Result<i32> {
    let src = std::fs::read_to_string(&a.file)
        .map_err(|e| InputError(format!("{}: {e}", a.file.display())))?;
    let name = a.name.clone().unwrap_or_else(|| {
        a.file
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "imported".into())
    });
    let origin = a.file.display().to_string();
    let t = match a.format {
        ImportFormat::GenieacsCsv => import::import_genieacs_csv(&src, &name),
        ImportFormat::BbfXml => {
            let opts = import::BbfImportOptions {
                root: a.root.clone(),
                include: a.include.clone(),
                instances: a.instances,
                name: name.clone(),
                ..Default::default()
            };
            import::import_bbf_xml(&src, &opts)
        }
    }
    .map_err(|e| InputError(format!("{origin}: {e}")))?;
    let yaml = import::write_yaml(&t).map_err(|e| InputError(format!("{origin}: {e}")))?;
    match &a.output {
        Some(out) => {
            std::fs::write(out, yaml)?;
            eprintln!("wrote {}", out.display());
        }
        None => print!("{yaml}"),
    }
    Ok(0)
}

fn template_check(path: &Path) -> anyhow::Result<i32> {
    let t = load_template(path)?;
    println!(
        "{}: template {:?}, root {}, CWMP {}, {} parameters per device",
        path.display(),
        t.name(),
        t.root(),
        t.cwmp_version().as_str(),
        t.parameter_count()
    );
    Ok(0)
}
