//! The command line (clap derive). Parsing and dispatch only: every command is a thin call into
//! the library. `anyhow` is used here and in `main` only.
//!
//! Exit codes: 0 ok, 1 run failure, 2 invalid input (bad scenario, template, request file or
//! usage), 3 thresholds or conformance checks failed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::acs::{self, AcsConfig, Policy};
use crate::cwmp::{CwmpVersion, DateTime};
use crate::fleet::{self, RunOptions, TraceSpec};
use crate::import;
use crate::metrics::progress::ProgressSpec;
use crate::model::Template;
use crate::render::{self, RenderInput};
use crate::report::{self, Report};
use crate::scenario::{Overrides, PhaseKind, Scenario};
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
    /// Scheduler tasks in this process (default: one per CPU). Not `--shard I/N`, which takes
    /// one slice of a distributed run. `--shards` is the old spelling.
    #[arg(
        long = "scheduler-shards",
        alias = "shards",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=1024)
    )]
    pub shards: Option<u32>,
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
        Command::Acs(a) => acs_cmd(a),
        Command::Render(a) => render_cmd(a),
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
            render::render_response(&input, &bytes).map_err(|e| match e {
                // Located: path:line:column: message, like every other input file.
                render::RenderError::At { .. } => InputError(format!("{}:{e}", path.display())),
                e => InputError(format!("{}: {e}", path.display())),
            })?
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

fn recipe_cmd(path: &Path, a: &ImportArgs) -> anyhow::Result<i32> {
    let origin = path.display().to_string();
    let recipe = import::Recipe::parse(&read_input(path)?)
        .map_err(|e| InputError(format!("{origin}: {e}")))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let texts = recipe
        .files()
        .iter()
        .map(|f| read_input(&dir.join(f)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let out = match &a.record_edits {
        Some(edited) => {
            // Loaded first, so a template that does not load is reported with its location.
            load_template(edited)?;
            let file: crate::model::file::TemplateFile = serde_yaml::from_str(&read_input(edited)?)
                .map_err(|e| InputError(format!("{}: {e}", edited.display())))?;
            recipe.record_edits(&texts, &file)
        }
        None => recipe.build(&texts),
    }
    .map_err(|e| InputError(format!("{origin}: {e}")))?;
    write_output(a.output.as_deref(), &out)?;
    Ok(0)
}

fn import_cmd(a: ImportArgs) -> anyhow::Result<i32> {
    if let Some(recipe) = &a.recipe {
        return recipe_cmd(recipe, &a);
    }
    let (Some(format), Some(file)) = (a.format, a.file.as_deref()) else {
        return Err(
            InputError("template import: give --from FORMAT FILE, or --recipe".into()).into(),
        );
    };
    let src = read_input(file)?;
    let name = a.name.clone().unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "imported".into())
    });
    let origin = file.display().to_string();
    let t = match format {
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
    // Only what loads is written: a template that `template check` would refuse is an import
    // error here, with the loader's reason, not a file that fails later.
    if let Err(e) = Template::from_yaml_str(&yaml, "the imported template") {
        let service = src.contains("isService=\"true\"");
        let hint = if matches!(format, ImportFormat::BbfXml) && service {
            "; a service model (TR-104, TR-135) has no root object of its own: give --root \
             Device. and combine it with a root model's DeviceInfo and ManagementServer"
        } else {
            ""
        };
        return Err(InputError(format!(
            "{origin}: the imported template does not load, nothing written: {e}{hint}"
        ))
        .into());
    }
    write_output(a.output.as_deref(), &yaml)?;
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

fn run_cmd(a: RunArgs) -> anyhow::Result<i32> {
    let mut s = load_scenario(&a.scenario, &a.overrides)?;
    // Before anything runs: a report lost to a typo'd path after an hour-long run is the worst
    // way to learn about it.
    check_outputs(&[
        ("--report-json", a.report_json.as_deref()),
        ("--report-html", a.report_html.as_deref()),
        ("--junit", a.junit.as_deref()),
    ])?;
    if let Some(u) = &a.cr_url {
        s.cr.url = Some(u.clone());
    }
    let shard_of = match (a.shard, a.shard_from_env) {
        (Some(sh), _) => Some(sh),
        (None, true) => Some(shard_from_env()?),
        (None, false) => None,
    };
    // Templates are checked before anything starts, so a bad one is input (exit 2).
    fleet::load_templates(&s).map_err(|e| InputError(e.to_string()))?;
    let trace = match &a.trace {
        Some(v) if v.len() == 2 => Some(
            TraceSpec::parse(&v[0], PathBuf::from(&v[1]))
                .map_err(|e| InputError(format!("--trace: {e}")))?,
        ),
        _ => None,
    };
    let rt = runtime()?;
    rt.block_on(async move {
        let shutdown = crate::shutdown::install();
        let cancel = shutdown.stop.clone();
        // No ACS URL: the embedded ACS, in this process, on loopback.
        let embedded = match &s.acs.url {
            Some(_) => None,
            None => {
                let policy = match &s.acs.policy {
                    Some(p) => Policy::load(p).map_err(|e| InputError(e.to_string()))?,
                    None => Policy::from_arg("null").map_err(|e| InputError(e.to_string()))?,
                };
                let cfg = AcsConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), policy);
                Some(acs::start(cfg, cancel.child_token()).await?)
            }
        };
        let acs_url = match (&s.acs.url, &embedded) {
            (Some(u), _) => u.clone(),
            (None, Some(h)) => h.url(),
            (None, None) => unreachable!("started above"),
        };
        let live = std::sync::Arc::new(crate::metrics::stats::Live::default());
        let metrics_stop = tokio_util::sync::CancellationToken::new();
        if let Some(addr) = a.metrics_listen {
            let bound = crate::metrics::exporter::serve(
                addr,
                live.clone(),
                s.devices(),
                metrics_stop.clone(),
            )
            .await
            // A listener that cannot bind is a failure of the run (exit 1), not bad input.
            .map_err(|e| anyhow::anyhow!("--metrics-listen: {e}"))?;
            eprintln!("metrics at http://{bound}/metrics");
        }
        let opts = RunOptions {
            shard_of,
            shards: a.shards,
            grace: a.grace,
            quit: Some(shutdown.quit.clone()),
            trace,
            live: Some(live.clone()),
            ..RunOptions::default()
        };
        let progress_stop = tokio_util::sync::CancellationToken::new();
        let progress = (!a.quiet).then(|| {
            let spec = ProgressSpec::new(s.duration, s.devices(), &s.phases);
            tokio::spawn(crate::metrics::progress::run(
                live,
                spec,
                progress_stop.clone(),
            ))
        });
        let cr_source = if a.overrides.cr_listen.is_some() {
            "--cr-listen"
        } else {
            "fleet.connection_requests.listen"
        };
        let result = fleet::run(&s, &acs_url, &opts, cancel)
            .await
            .map_err(|e| match e {
                e @ fleet::FleetError::Listen { .. } => anyhow::anyhow!("{cr_source}: {e}"),
                e => e.into(),
            });
        progress_stop.cancel();
        if let Some(p) = progress {
            let _ = p.await;
        }
        let result = result?;
        let mut report = Report::from_run(&result, &s.name);
        report.partial = shutdown.quit_code().is_some();
        report.judge(&s.thresholds);
        if let Some(h) = &embedded {
            report.embedded_acs = Some(serde_json::to_value(h.status())?);
        }
        // Files first: after SIGHUP the terminal may be gone, the files are what matters.
        write_reports(
            &report,
            a.report_json.as_deref(),
            a.report_html.as_deref(),
            a.junit.as_deref(),
        )?;
        if let Some(code) = shutdown.quit_code() {
            crate::shutdown::say("cpefleet: quit before the end: the report is partial");
            return Ok(code);
        }
        print!("{}", report::text::render(&report));
        if let Some(h) = &embedded {
            print_embedded_status(h);
        }
        if a.metrics_listen.is_some() && !a.metrics_linger.is_zero() {
            tokio::time::sleep(a.metrics_linger).await;
        }
        metrics_stop.cancel();
        Ok(verdict(&report))
    })
}

/// The embedded ACS's view of the run, in one line.
fn print_embedded_status(h: &acs::AcsHandle) {
    let st = h.status();
    let ended: Vec<String> = st
        .sessions
        .ended
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    println!(
        "embedded ACS: {} sessions ({}), {} devices known",
        st.sessions.started,
        ended.join(", "),
        st.devices.known
    );
}

/// Fails (exit 2, naming the flag) unless every given output path can be written. A file that
/// did not exist is not left behind.
fn check_outputs(outputs: &[(&str, Option<&Path>)]) -> Result<(), InputError> {
    for (flag, path) in outputs {
        let Some(p) = path else { continue };
        let existed = p.exists();
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(p)
            .map_err(|e| InputError(format!("{flag}: {}: {e}", p.display())))?;
        if !existed {
            let _ = std::fs::remove_file(p);
        }
    }
    Ok(())
}

/// Writes the requested report files.
fn write_reports(
    r: &Report,
    json: Option<&Path>,
    html: Option<&Path>,
    junit: Option<&Path>,
) -> anyhow::Result<()> {
    type Render = fn(&Report) -> String;
    let outputs: [(Option<&Path>, Render, &str); 3] = [
        (json, |r| r.to_json() + "\n", "report"),
        (html, report::html::render, "HTML report"),
        (junit, report::junit::render, "JUnit report"),
    ];
    for (path, render, what) in outputs {
        if let Some(p) = path {
            std::fs::write(p, render(r)).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            crate::shutdown::say(&format!("{what} written to {}", p.display()));
        }
    }
    Ok(())
}

/// Exit code of a judged report: 3 with the failures listed, or 0.
fn verdict(r: &Report) -> i32 {
    let failures = r.failures();
    if failures.is_empty() {
        return 0;
    }
    eprintln!("cpefleet: {} threshold(s) failed:", failures.len());
    for f in failures {
        eprintln!("  {f}");
    }
    if let Some(d) = &r.diagnosis {
        eprintln!("cpefleet: {d}");
    }
    3
}

fn load_report(p: &Path) -> anyhow::Result<Report> {
    Report::load(p).map_err(|e| InputError(e.to_string()).into())
}

fn merge_cmd(a: MergeArgs) -> anyhow::Result<i32> {
    check_outputs(&[
        ("--output", Some(&a.output)),
        ("--report-html", a.report_html.as_deref()),
        ("--junit", a.junit.as_deref()),
    ])?;
    let mut merged: Option<Report> = None;
    // Run id → the report that brought it: a report given twice would count its sessions twice.
    let mut seen: std::collections::HashMap<String, &Path> = Default::default();
    let mut scenarios: Vec<(String, &Path)> = Vec::new();
    for p in &a.reports {
        let r = load_report(p)?;
        for id in &r.run_ids {
            if let Some(first) = seen.insert(id.clone(), p) {
                return Err(InputError(format!(
                    "{}: run {id} is already in {} (a report given twice?)",
                    p.display(),
                    first.display()
                ))
                .into());
            }
        }
        if !scenarios.iter().any(|(s, _)| *s == r.scenario) {
            scenarios.push((r.scenario.clone(), p));
        }
        match &mut merged {
            None => merged = Some(r),
            Some(m) => m.merge(&r),
        }
    }
    let Some(m) = merged else {
        return Err(InputError("no report to merge".into()).into());
    };
    if scenarios.len() > 1 {
        let list: Vec<String> = scenarios
            .iter()
            .map(|(s, p)| format!("{s:?} ({})", p.display()))
            .collect();
        eprintln!(
            "cpefleet: warning: merging reports of different scenarios: {}",
            list.join(", ")
        );
    }
    print!("{}", report::text::render(&m));
    write_reports(
        &m,
        Some(&a.output),
        a.report_html.as_deref(),
        a.junit.as_deref(),
    )?;
    Ok(verdict(&m))
}

fn compare_cmd(a: CompareArgs) -> anyhow::Result<i32> {
    let base = load_report(&a.base)?;
    let new = load_report(&a.new)?;
    let tol = report::compare::Tolerance {
        ratio: a.tolerance,
        min_ms: a.min_delta.as_secs_f64() * 1000.0,
        error_rate: a.error_tolerance,
    };
    let rows = report::compare::compare(&base, &new, tol);
    print!("{}", report::compare::render(&rows));
    Ok(if rows.iter().any(|r| r.regression) {
        3
    } else {
        0
    })
}

fn check_cmd(a: CheckArgs) -> anyhow::Result<i32> {
    let s = load_scenario(&a.scenario, &a.overrides)?;
    let templates = fleet::load_templates(&s).map_err(|e| InputError(e.to_string()))?;
    println!(
        "scenario {:?}: seed {}, duration {}, time scale {}x",
        s.name,
        s.seed,
        units::fmt_duration(s.duration),
        s.time_scale
    );
    match &s.acs.url {
        Some(u) => println!("ACS       {u}"),
        None => println!(
            "ACS       embedded, policy {}",
            s.acs
                .policy
                .as_ref()
                .map_or("null".to_string(), |p| p.display().to_string())
        ),
    }
    println!(
        "fleet     {} devices, at most {} sessions at once",
        s.devices(),
        s.max_sessions
    );
    let mut template_bytes = 0usize;
    for g in &s.groups {
        let t = templates
            .iter()
            .find(|(p, _)| *p == g.template)
            .map(|(_, t)| t.clone());
        let (params, name, version) = t
            .as_ref()
            .map(|t| (t.parameter_count(), t.name().to_string(), t.cwmp_version()))
            .unwrap_or((0, String::new(), CwmpVersion::V1_0));
        template_bytes += params * 96;
        println!(
            "  group {:<14} {:>9} x {} ({} parameters, CWMP {}{})",
            g.name,
            g.count,
            name,
            params,
            g.version.unwrap_or(version).as_str(),
            if g.bootstrapped { ", bootstrapped" } else { "" }
        );
        if let Some(t) = &t {
            println!("    credentials: {}", credentials_line(&s, g, t));
            let root = t.root();
            let mut dev = crate::device::Device::new(0);
            let env = crate::device::Env {
                seed: s.seed,
                now: DateTime::from_unix_ms(0),
                cr_url_base: "",
            };
            let v = crate::device::DeviceView::new(t, &mut dev, &env);
            let fixed_time = v
                .get(&format!("{root}ManagementServer.PeriodicInformTime"))
                .and_then(|p| DateTime::parse(&p.value))
                .is_some_and(|d| !d.is_unknown());
            if fixed_time && g.jitter == 0.0 {
                println!(
                    "  warning: every device of {:?} anchors its periodic informs on the same PeriodicInformTime: the whole group will inform at once (set jitter, or let the ACS spread PeriodicInformTime)",
                    g.name
                );
            }
        }
    }
    println!("timeline");
    for p in &s.phases {
        let what = match &p.kind {
            PhaseKind::Boot {
                over,
                groups,
                share,
            } => format!(
                "boot {:.0}% of {} over {}",
                share * 100.0,
                if groups.is_empty() {
                    "all groups".to_string()
                } else {
                    groups.join(", ")
                },
                units::fmt_duration(*over)
            ),
            PhaseKind::Steady => "steady: periodic informs".to_string(),
            PhaseKind::Rate {
                from,
                to,
                poisson,
                event,
            } => format!(
                "rate {from:.1}/s → {to:.1}/s ({}), event {}",
                if *poisson { "poisson" } else { "constant" },
                event.as_str()
            ),
            PhaseKind::Outage {
                share,
                down,
                recover_over,
            } => format!(
                "outage: {:.0}% lose power for {}, back over {}",
                share * 100.0,
                units::fmt_duration(*down),
                units::fmt_duration(*recover_over)
            ),
            PhaseKind::Churn {
                value_changes_per_s,
                reboots_per_s,
                ..
            } => format!(
                "churn: {:.2} value changes and {:.3} reboots per device per hour",
                value_changes_per_s * 3600.0,
                reboots_per_s * 3600.0
            ),
        };
        println!("  {:>8}  {what}", units::fmt_duration(p.start));
    }
    println!("  {:>8}  end", units::fmt_duration(s.duration));
    if !s.thresholds.is_empty() {
        println!("thresholds (exit 3 when one fails)");
        for t in &s.thresholds {
            println!("  {}", t.name);
        }
    }
    let per = fleet::bytes_per_idle_device();
    let total = per as u64 * s.devices() + template_bytes as u64;
    println!(
        "memory    ~{per} bytes per idle device + templates: ~{:.1} MiB for the fleet (sessions in flight and devices the ACS wrote to add to it)",
        total as f64 / (1024.0 * 1024.0)
    );
    Ok(0)
}

/// "username from group gw, password from the template": where each credential comes from,
/// never the value.
fn credentials_line(s: &Scenario, g: &crate::scenario::Group, t: &Template) -> String {
    let [user, pass] = s.credential_sources(g);
    let mut dev = crate::device::Device::new(0);
    let env = crate::device::Env {
        seed: s.seed,
        now: DateTime::from_unix_ms(0),
        cr_url_base: "",
    };
    let v = crate::device::DeviceView::new(t, &mut dev, &env);
    let from = |src: Option<String>, key: &str, param: &str| match src {
        Some(src) => format!("{key} from {src}"),
        None => match v.get(&format!("{}ManagementServer.{param}", t.root())) {
            Some(p) if !p.value.is_empty() => format!("{key} from the template"),
            _ => format!("no {key}"),
        },
    };
    format!(
        "{}, {}",
        from(user, "username", "Username"),
        from(pass, "password", "Password")
    )
}

fn acs_cmd(a: AcsArgs) -> anyhow::Result<i32> {
    let policy = Policy::from_arg(&a.policy).map_err(|e| InputError(format!("--policy: {e}")))?;
    let rt = runtime()?;
    rt.block_on(async move {
        let cancel = crate::shutdown::install().stop;
        let mut cfg = AcsConfig::new(a.listen, policy);
        cfg.auth = a.username.clone().zip(a.password.clone());
        cfg.max_concurrent_sessions = a.max_sessions;
        cfg.file_server_listen = a.files_listen;
        let handle = acs::start(cfg, cancel.clone())
            .await
            .map_err(|e| match &e {
                acs::AcsError::Bind { what: "files", .. } => anyhow::anyhow!("--files-listen: {e}"),
                acs::AcsError::Bind { .. } => anyhow::anyhow!("--listen: {e}"),
            })?;
        eprintln!(
            "cpefleet ACS listening on {} (status: {}status, files: {})",
            handle.url(),
            handle.url(),
            handle.file_server_url()
        );
        cancel.cancelled().await;
        let st = handle.status();
        println!("{}", serde_json::to_string_pretty(&st)?);
        Ok(0)
    })
}

fn parse_dialect(s: &str) -> Result<crate::conformance::Dialect, String> {
    crate::conformance::Dialect::parse(s)
        .ok_or_else(|| format!("{s:?}: expected genieacs, embedded or none"))
}

/// The NBI dialect of an external ACS: GenieACS answers `GET {nbi}devices/?projection=_id`
/// with a JSON array.
async fn detect_dialect(nbi: Option<&str>) -> crate::conformance::Dialect {
    use crate::conformance::Dialect;
    let Some(nbi) = nbi else {
        return Dialect::None;
    };
    let url = format!("{nbi}devices/?projection=_id&limit=1");
    match crate::conformance::http::http_call("GET", &url, "").await {
        Ok((200, body)) if body.trim_start().starts_with('[') => Dialect::GenieAcs,
        _ => Dialect::None,
    }
}

/// `cpefleet conformance`: exit 0 when every case and check passed, 3 when any failed.
fn conformance_cmd(a: ConformanceArgs) -> anyhow::Result<i32> {
    use crate::conformance::{case, run_suite, AcsProfile, SuiteOptions};
    let (cases, suite, dir) = case::load_suite(&a.suite).map_err(|e| InputError(e.to_string()))?;
    if cases.is_empty() {
        return Err(InputError(format!("{}: no cases", a.suite.display())).into());
    }
    check_outputs(&[
        ("--junit", a.junit.as_deref()),
        ("--report-json", a.report_json.as_deref()),
    ])?;
    let rt = runtime()?;
    rt.block_on(async move {
        let cancel = tokio_util::sync::CancellationToken::new();
        let username = a.username.clone().or(suite.username.clone());
        let password = a.password.clone().or(suite.password.clone());
        let (embedded, profile) = match &a.acs {
            Some(_) => {
                let dialect = match a.acs_dialect {
                    Some(d) => d,
                    None => detect_dialect(a.nbi.as_deref()).await,
                };
                let profile = AcsProfile {
                    dialect,
                    session_cap: a.acs_session_cap,
                    // Only credentials given for this ACS say it checks them.
                    cpe_auth: a.username.is_some(),
                };
                (None, profile)
            }
            None => {
                let policy = match &suite.policy {
                    Some(p) => Policy::load(&dir.join(p))
                        .map_err(|e| InputError(format!("{}: {e}", dir.join(p).display())))?,
                    None => Policy::load(Path::new("scenarios/policies/provisioning.yaml"))
                        .map_err(|e| InputError(e.to_string()))?,
                };
                let cap = policy.max_concurrent_sessions().map(|n| n as u32);
                let mut cfg =
                    AcsConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), policy);
                cfg.auth = username.clone().zip(password.clone());
                let auth = cfg.auth.is_some();
                let h = acs::start(cfg, cancel.child_token()).await?;
                (Some(h), AcsProfile::embedded(cap, auth))
            }
        };
        let url = match (&a.acs, &embedded) {
            (Some(u), _) => u.clone(),
            (None, Some(h)) => h.url(),
            (None, None) => unreachable!("started above"),
        };
        let mut opts = SuiteOptions::new(&url);
        opts.nbi_url = a.nbi.clone();
        opts.username = username;
        opts.password = password;
        opts.cr_ip = a.cr_ip;
        opts.session_gap = a.session_gap.unwrap_or(if embedded.is_some() {
            Duration::ZERO
        } else {
            Duration::from_secs(1)
        });
        let run_id = crate::conformance::new_run_id();
        opts.run_id = Some(run_id);
        eprintln!(
            "conformance: {} cases against {url} (NBI dialect {}, run {run_id}: serials CPF{run_id}NNN)",
            cases.len(),
            profile.dialect.label()
        );
        opts.profile = profile;
        let result = run_suite(&cases, &opts).await;
        cancel.cancel();
        print!("{}", result.text());
        if let Some(p) = &a.junit {
            std::fs::write(p, result.junit())?;
            eprintln!("JUnit written to {}", p.display());
        }
        if let Some(p) = &a.report_json {
            std::fs::write(p, serde_json::to_string_pretty(&result.json())?)?;
            eprintln!("report written to {}", p.display());
        }
        Ok(if result.passed() { 0 } else { 3 })
    })
}
