//! `cpefleet check`: a scenario validated and explained without running it.

use super::*;

pub(super) fn check_cmd(a: CheckArgs) -> anyhow::Result<i32> {
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
    let template_bytes = print_groups(&s, &templates);
    println!("timeline");
    for p in &s.phases {
        println!(
            "  {:>8}  {}",
            units::fmt_duration(p.start),
            describe(&p.kind)
        );
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

/// One line per group (and its credentials' sources and a warning when the whole group would
/// inform at once); returns the templates' estimated bytes.
fn print_groups(s: &Scenario, templates: &[(PathBuf, std::sync::Arc<Template>)]) -> usize {
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
            println!("    credentials: {}", credentials_line(s, g, t));
            if !g.wan.is_none() {
                println!("    wan: {}", g.wan);
            }
            let path = format!("{}ManagementServer.PeriodicInformTime", t.root());
            let fixed_time = first_value(s, t, &path)
                .and_then(|v| DateTime::parse(&v))
                .is_some_and(|d| !d.is_unknown());
            if fixed_time && g.jitter == 0.0 {
                println!(
                    "  warning: every device of {:?} anchors its periodic informs on the same PeriodicInformTime: the whole group will inform at once (set jitter, or let the ACS spread PeriodicInformTime)",
                    g.name
                );
            }
        }
    }
    template_bytes
}

/// A phase as one line of the timeline.
fn describe(kind: &PhaseKind) -> String {
    match kind {
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
        PhaseKind::AcsOutage { down, mode } => format!(
            "acs_outage: the ACS unreachable ({}) for {}, devices retrying",
            mode.label(),
            units::fmt_duration(*down)
        ),
        PhaseKind::Churn {
            value_changes_per_s,
            reboots_per_s,
            du_changes_per_s,
            ..
        } => format!(
            "churn: {:.2} value changes, {:.3} reboots and {:.3} autonomous DU changes per device per hour",
            value_changes_per_s * 3600.0,
            reboots_per_s * 3600.0,
            du_changes_per_s * 3600.0
        ),
    }
}

/// "username from group gw, password from the template": where each credential comes from,
/// never the value.
pub(super) fn credentials_line(s: &Scenario, g: &crate::scenario::Group, t: &Template) -> String {
    let [user, pass] = s.credential_sources(g);
    let from = |src: Option<String>, key: &str, param: &str| match src {
        Some(src) => format!("{key} from {src}"),
        None => match first_value(s, t, &format!("{}ManagementServer.{param}", t.root())) {
            Some(v) if !v.is_empty() => format!("{key} from the template"),
            _ => format!("no {key}"),
        },
    };
    format!(
        "{}, {}",
        from(user, "username", "Username"),
        from(pass, "password", "Password")
    )
}

/// The value of the parameter at `path` on the scenario's first device (device 0 at time 0):
/// what the template gives every device before its own variations.
fn first_value(s: &Scenario, t: &Template, path: &str) -> Option<String> {
    let mut dev = crate::device::Device::new(0);
    let env = crate::device::Env {
        seed: s.seed,
        now: DateTime::from_unix_ms(0),
        cr_url_base: "",
        udp: None,
    };
    crate::device::DeviceView::new(t, &mut dev, &env)
        .get(path)
        .map(|p| p.value)
}
