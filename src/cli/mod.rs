//! The command line (clap derive). Parsing and dispatch only: every command is a thin call into
//! the library. `anyhow` is used here and in `main` only.
//!
//! Exit codes: 0 ok, 1 run failure, 2 invalid input (bad scenario, template, request file or
//! usage), 3 thresholds or conformance checks failed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::acs::{AcsConfig, Policy};
use crate::cwmp::{CwmpVersion, DateTime};
use crate::fleet::{self, RunOptions, TraceSpec};
use crate::import;
use crate::metrics::progress::ProgressSpec;
use crate::model::Template;
use crate::render::RenderInput;
use crate::report::Report;
use crate::scenario::{Overrides, PhaseKind, Scenario};
use crate::units;

mod acs;
mod check;
mod conformance;
mod output;
mod render;
mod report;
mod run;
mod template;

use check::check_cmd;
use conformance::conformance_cmd;
use output::{check_outputs, verdict, write_reports};
use report::{compare_cmd, merge_cmd};
use run::run_cmd;
use template::{import_cmd, template_check};

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
    /// Run a scenario: the fleet against the ACS (the embedded one when no URL is given).
    Run(Box<RunArgs>),
    /// Validate a scenario and print its fleet, phase timeline and memory estimate.
    Check(CheckArgs),
    /// Run the embedded ACS on its own (for any CPE, not only cpefleet's).
    Acs(AcsArgs),
    /// Print what device N of a template would send: its Inform, or its answer to a request.
    Render(RenderArgs),
    /// Work with data-model templates.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Score an ACS: play the conformance cases (a case file or a directory of them).
    Conformance(ConformanceArgs),
    /// Work with JSON reports: merge the reports of a distributed run, compare two runs.
    #[command(subcommand)]
    Report(ReportCommand),
}

#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// A case file or a suite directory (e.g. scenarios/conformance/).
    pub suite: PathBuf,
    /// The ACS's CWMP URL; without it the embedded ACS starts with the suite's policy.
    #[arg(long)]
    pub acs: Option<String>,
    /// Base URL of the ACS's northbound API for `{nbi}` (GenieACS: http://host:7557/).
    #[arg(long)]
    pub nbi: Option<String>,
    /// Device credentials (ManagementServer.Username/Password); default: the suite's.
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub password: Option<String>,
    /// Address the devices' connection-request listeners bind (must be reachable by the ACS).
    #[arg(long, default_value = "127.0.0.1")]
    pub cr_ip: std::net::IpAddr,
    /// The NBI's dialect: genieacs, embedded or none; default: asked of `--nbi` (GenieACS
    /// answers `GET /devices`), none without `--nbi`.
    #[arg(long, value_parser = parse_dialect)]
    pub acs_dialect: Option<crate::conformance::Dialect>,
    /// Sessions the ACS accepts at once, when small enough to fill (lets the 503 case run).
    #[arg(long)]
    pub acs_session_cap: Option<u32>,
    /// Least time between a device's sessions (default 1s against your ACS, 0 embedded).
    #[arg(long, value_parser = parse_duration)]
    pub session_gap: Option<Duration>,
    /// Cases needing `xmpp` (TR-069 Annex K): the component port of the XMPP server your ACS
    /// sends connection requests through; each case's device joins it as an external component
    /// (XEP-0114) of --xmpp-domain with --xmpp-secret. The embedded ACS serves one itself.
    #[arg(long, requires_all = ["xmpp_domain", "xmpp_secret"])]
    pub xmpp_component: Option<std::net::SocketAddr>,
    #[arg(long)]
    pub xmpp_domain: Option<String>,
    #[arg(long)]
    pub xmpp_secret: Option<String>,
    /// Write JUnit XML here (one testcase per case and per protocol check).
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write the JSON report here.
    #[arg(long)]
    pub report_json: Option<PathBuf>,
}

/// Command-line values that override the scenario file (flag > file > default).
#[derive(Debug, Args, Clone, Default)]
pub struct OverrideArgs {
    /// ACS URL (instead of the file's, or of the embedded ACS).
    #[arg(long)]
    pub acs: Option<String>,
    /// Total devices (the groups are rescaled proportionally).
    #[arg(long, value_parser = units::parse_count)]
    pub devices: Option<u64>,
    /// Run length (wall clock), e.g. 30s, 5m.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Seed of every random choice: the same seed gives the same schedule.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Sessions running at once.
    #[arg(long, value_parser = units::parse_count)]
    pub max_sessions: Option<u64>,
    /// A shard's timer, when it wakes, also fires the devices due within this much (e.g. 10ms;
    /// at most 1s): fewer wake-ups of the process. Early devices have no lag. Default 0.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timer_slack: Option<Duration>,
    /// Simulated seconds per real second for device timers.
    #[arg(long)]
    pub time_scale: Option<f64>,
    /// Address of the connection-request listener.
    #[arg(long)]
    pub cr_listen: Option<std::net::SocketAddr>,
    /// Every device's ManagementServer.Username (beats the groups' and acs.username).
    #[arg(long)]
    pub username: Option<String>,
    /// Every device's ManagementServer.Password (beats the groups' and acs.password).
    #[arg(long)]
    pub password: Option<String>,
}

impl OverrideArgs {
    fn to_overrides(&self) -> Overrides {
        Overrides {
            acs_url: self.acs.clone(),
            devices: self.devices,
            duration: self.duration,
            seed: self.seed,
            max_sessions: self.max_sessions,
            timer_slack: self.timer_slack,
            time_scale: self.time_scale,
            cr_listen: self.cr_listen,
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (scenarios/*.yaml).
    pub scenario: PathBuf,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Schedulers in this process (default: one per CPU), each on its own thread (or a task,
    /// with `--shard-runtime shared`). Not `--shard I/N`, which takes one slice of a
    /// distributed run. `--shards` is the old spelling.
    #[arg(
        long = "scheduler-shards",
        alias = "shards",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=1024)
    )]
    pub shards: Option<u32>,
    /// Where the schedulers run: `threads` (default), each on its own thread with a
    /// single-threaded runtime, so a session and its connection never change thread; `shared`,
    /// all as tasks of one multi-threaded runtime (the layout before issue #17).
    #[arg(long, value_parser = parse_shard_runtime, default_value = "threads", value_name = "LAYOUT")]
    pub shard_runtime: fleet::ShardRuntime,
    /// How long running sessions may finish after the end or Ctrl-C.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub grace: Duration,
    /// Write the full HTTP exchanges of these devices ("0-9,42") into DIR.
    #[arg(long, num_args = 2, value_names = ["DEVICES", "DIR"])]
    pub trace: Option<Vec<String>>,
    /// Write the JSON report here (schema: docs/report.schema.json).
    #[arg(long)]
    pub report_json: Option<PathBuf>,
    /// Write a self-contained HTML report (plots over time, latency distribution) here.
    #[arg(long)]
    pub report_html: Option<PathBuf>,
    /// Write the thresholds as JUnit XML test cases here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Serve Prometheus metrics on this address (GET /metrics), e.g. 127.0.0.1:9464.
    #[arg(long)]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Keep serving /metrics this long after the run, so the last figures get scraped.
    #[arg(long, value_parser = parse_duration, default_value = "0s", requires = "metrics_listen")]
    pub metrics_linger: Duration,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run only slice I of N of every group's devices (a distributed run: each process takes a
    /// disjoint, deterministic slice, its share of open-model rates, and writes its report for
    /// `cpefleet report merge`). Not `--scheduler-shards`, the tasks inside one process.
    #[arg(long, value_parser = parse_shard, value_name = "I/N", conflicts_with = "shard_from_env")]
    pub shard: Option<(u32, u32)>,
    /// The slice from a Kubernetes Indexed Job: I = $JOB_COMPLETION_INDEX, N = $CPEFLEET_SHARDS.
    #[arg(long)]
    pub shard_from_env: bool,
    /// Base URL the devices advertise for connection requests (e.g. http://$(POD_IP):7548).
    #[arg(long)]
    pub cr_url: Option<String>,
}

/// Parses "I/N" with I < N.
pub fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard {s:?}: expected I/N, e.g. 0/4"))?;
    let i: u32 = i
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s:?}: I is not a number"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s:?}: N is not a number"))?;
    if n == 0 || i >= n {
        return Err(format!("--shard {s:?}: need 0 <= I < N"));
    }
    Ok((i, n))
}

/// The shard of a Kubernetes Indexed Job, from the environment.
fn shard_from_env() -> Result<(u32, u32), InputError> {
    let get = |k: &str| {
        std::env::var(k).map_err(|_| InputError(format!("--shard-from-env: ${k} is not set")))
    };
    parse_shard(&format!(
        "{}/{}",
        get("JOB_COMPLETION_INDEX")?,
        get("CPEFLEET_SHARDS")?
    ))
    .map_err(InputError)
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Merge reports exactly (histograms and counts add): the whole fleet of a distributed
    /// run. Thresholds are judged again on the merged figures (exit 3 when one fails).
    Merge(MergeArgs),
    /// Compare a run against a baseline: latency percentiles, error rate, throughput (exit 3
    /// on a regression past the tolerance).
    Compare(CompareArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Reports written by `run --report-json`.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// The merged JSON report.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also write the merged HTML report.
    #[arg(long)]
    pub report_html: Option<PathBuf>,
    /// Also write the merged thresholds as JUnit XML.
    #[arg(long)]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    pub base: PathBuf,
    pub new: PathBuf,
    /// Relative worsening still accepted (latency growth, throughput fall).
    #[arg(long, value_parser = units::parse_share, default_value = "10%")]
    pub tolerance: f64,
    /// A latency must also grow by more than this to count (noise floor).
    #[arg(long, value_parser = parse_duration, default_value = "1ms")]
    pub min_delta: Duration,
    /// Rise of the error rate still accepted (absolute: 0.1% is 0.1 percentage point).
    #[arg(long, value_parser = units::parse_share, default_value = "0.1%")]
    pub error_tolerance: f64,
    /// Fewer samples than this in either run (latencies recorded, sessions): "not enough
    /// data" instead of a verdict.
    #[arg(long, default_value_t = 30)]
    pub min_samples: u64,
}

#[derive(Debug, Args)]
pub struct AcsArgs {
    /// Address to listen on (the status endpoint is /status on the same port).
    #[arg(long, default_value = "127.0.0.1:7547")]
    pub listen: std::net::SocketAddr,
    /// "null" (InformResponse then 204, as fast as possible) or a policy file.
    #[arg(long, default_value = "null")]
    pub policy: String,
    /// Require CPEs to authenticate (Digest) with these credentials.
    #[arg(long, requires = "password")]
    pub username: Option<String>,
    #[arg(long, requires = "username")]
    pub password: Option<String>,
    /// New sessions beyond this many at once get 503 with Retry-After.
    #[arg(long)]
    pub max_sessions: Option<usize>,
    /// The file server's address (default: the ACS's IP, any port).
    #[arg(long)]
    pub files_listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario file.
    pub scenario: PathBuf,
    #[command(flatten)]
    pub overrides: OverrideArgs,
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
    /// An ACS request (a file): an envelope, or one recorded HTTP message (headers and body);
    /// prints the device's response.
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
    #[arg(long = "from", value_enum, required_unless_present = "recipe")]
    pub format: Option<ImportFormat>,
    /// The input file.
    #[arg(required_unless_present = "recipe", conflicts_with = "recipe")]
    pub file: Option<PathBuf>,
    /// Make a template from a recipe (data-models/recipes/*.yaml): its sources, their import
    /// options and the hand edits, so the shipped file comes out byte for byte.
    #[arg(long, conflicts_with = "format")]
    pub recipe: Option<PathBuf>,
    /// With --recipe: print the `overlay:` that turns the recipe's import into this template
    /// (edited by hand), to put in the recipe.
    #[arg(long, requires = "recipe")]
    pub record_edits: Option<PathBuf>,
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

/// The error and its causes, each once: an error whose message already quotes its source
/// (`metrics listener 127.0.0.1:9464: Address already in use`) does not repeat it.
pub fn error_message(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}

/// An error the user caused (exit 2) as opposed to a failure of the run (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Runs a parsed command line; returns the exit code.
pub fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(a) => run_cmd(*a),
        Command::Check(a) => check_cmd(a),
        Command::Acs(a) => acs::acs_cmd(a),
        Command::Render(a) => render::render_cmd(a),
        Command::Template(TemplateCommand::Import(a)) => import_cmd(a),
        Command::Template(TemplateCommand::Check { template }) => template_check(&template),
        Command::Conformance(a) => conformance_cmd(a),
        Command::Report(ReportCommand::Merge(a)) => merge_cmd(a),
        Command::Report(ReportCommand::Compare(a)) => compare_cmd(a),
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

/// Reads a file a user named; failing is their input error.
fn read_input(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| InputError(format!("{}: {e}", path.display())).into())
}

fn write_output(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(out) => {
            std::fs::write(out, text)?;
            eprintln!("wrote {}", out.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

fn load_scenario(path: &Path, ov: &OverrideArgs) -> anyhow::Result<Scenario> {
    let s = Scenario::load(path, &ov.to_overrides()).map_err(|e| InputError(e.to_string()))?;
    for u in &s.unused {
        eprintln!("warning: {u}");
    }
    Ok(s)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn parse_shard_runtime(s: &str) -> Result<fleet::ShardRuntime, String> {
    s.parse()
}

fn parse_dialect(s: &str) -> Result<crate::conformance::Dialect, String> {
    crate::conformance::Dialect::parse(s)
        .ok_or_else(|| format!("{s:?}: expected genieacs, embedded or none"))
}
