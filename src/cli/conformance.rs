//! `cpefleet conformance`: the protocol checks against an ACS.

use super::*;
use crate::acs;

/// The NBI dialect of an external ACS: GenieACS answers `GET {nbi}devices/?projection=_id`
/// with a JSON array.
pub(super) async fn detect_dialect(nbi: Option<&str>) -> crate::conformance::Dialect {
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

/// The embedded ACS with the suite's policy (or the provisioning one), CPE auth when the suite
/// has credentials, and its own XMPP component port for cases needing `xmpp` (Annex K).
async fn embedded_acs(
    suite: &crate::conformance::case::SuiteSpec,
    dir: &Path,
    auth: Option<(String, String)>,
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<(acs::AcsHandle, crate::conformance::AcsProfile)> {
    let policy = match &suite.policy {
        Some(p) => Policy::load(&dir.join(p))
            .map_err(|e| InputError(format!("{}: {e}", dir.join(p).display())))?,
        None => Policy::load(Path::new("scenarios/policies/provisioning.yaml"))
            .map_err(|e| InputError(e.to_string()))?,
    };
    let cap = policy.max_concurrent_sessions().map(|n| n as u32);
    let mut cfg = AcsConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), policy);
    cfg.auth = auth;
    let secret = format!("{:016x}", rand::random::<u64>());
    cfg.xmpp = Some(acs::xmpp::XmppGatewayConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        secret: secret.clone(),
    });
    let with_auth = cfg.auth.is_some();
    let h = acs::start(cfg, cancel.child_token()).await?;
    let mut profile = crate::conformance::AcsProfile::embedded(cap, with_auth);
    profile.xmpp = h.xmpp_addr().map(|server| crate::conformance::XmppJoin {
        server,
        domain: "cpe.conformance.invalid".into(),
        secret,
    });
    Ok((h, profile))
}

/// `cpefleet conformance`: exit 0 when every case and check passed, 3 when any failed.
pub(super) fn conformance_cmd(a: ConformanceArgs) -> anyhow::Result<i32> {
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
                    xmpp: a.xmpp_component.map(|server| crate::conformance::XmppJoin {
                        server,
                        domain: a.xmpp_domain.clone().unwrap_or_default(),
                        secret: a.xmpp_secret.clone().unwrap_or_default(),
                    }),
                };
                (None, profile)
            }
            None => {
                let creds = username.clone().zip(password.clone());
                let (h, profile) = embedded_acs(&suite, &dir, creds, &cancel).await?;
                (Some(h), profile)
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
