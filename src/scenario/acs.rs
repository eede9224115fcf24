//! The scenario's `acs:` section: which ACS the fleet talks to and how.

use std::path::PathBuf;
use std::time::Duration;

use super::file::AcsSpec;
use super::validate::{flag_err, locate, Validator};
use super::{Overrides, ScenarioError};
use crate::net::tls::TlsOptions;

/// The ACS side of a validated scenario.
#[derive(Debug, Clone)]
pub struct Acs {
    /// `None`: start the embedded ACS.
    pub url: Option<String>,
    /// Embedded ACS policy file; `None` = the built-in null policy.
    pub policy: Option<PathBuf>,
    /// Default device credentials (below a group's, above the template's).
    pub username: Option<String>,
    pub password: Option<String>,
    /// The credentials came from `--username` / `--password` (shown by `check`).
    pub flag_credentials: (bool, bool),
    pub tls: TlsOptions,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
    pub exchange_timeout: Duration,
    pub session_timeout: Duration,
}

impl Validator<'_> {
    /// Validates `acs:`; settings the run will not use are pushed to `unused`.
    pub(super) fn acs(
        &self,
        a: &AcsSpec,
        ov: &Overrides,
        unused: &mut Vec<String>,
    ) -> Result<Acs, ScenarioError> {
        let url = ov.acs_url.clone().or(a.url.clone());
        if let Some(u) = &url {
            if crate::net::client::Endpoint::parse(u).is_err() {
                let msg = format!("ACS URL {u:?} is not an http(s) URL");
                return Err(match ov.acs_url {
                    Some(_) => flag_err("--acs", msg),
                    None => self.err(u, msg),
                });
            }
        }
        let policy = self.policy(a, ov, unused)?;
        let acs = Acs {
            url,
            policy,
            username: ov.username.clone().or(a.username.clone()),
            password: ov.password.clone().or(a.password.clone()),
            flag_credentials: (ov.username.is_some(), ov.password.is_some()),
            tls: TlsOptions {
                ca_file: a.tls.ca_file.as_deref().map(|p| self.resolve(p)),
                insecure: a.tls.insecure,
            },
            // Relative to the scenario; may hold {serial}/{index}/{oui}/{product_class}.
            client_cert: a
                .tls
                .client_cert
                .as_deref()
                .map(|p| self.resolve(p).display().to_string()),
            client_key: a
                .tls
                .client_key
                .as_deref()
                .map(|p| self.resolve(p).display().to_string()),
            exchange_timeout: a.exchange_timeout.map_or(Duration::from_secs(30), |d| d.0),
            session_timeout: a.session_timeout.map_or(Duration::from_secs(300), |d| d.0),
        };
        if acs.client_cert.is_some() != acs.client_key.is_some() {
            return Err(self.err("client_", "tls.client_cert and tls.client_key go together"));
        }
        Ok(acs)
    }

    /// The embedded ACS's policy file, if it will be used.
    fn policy(
        &self,
        a: &AcsSpec,
        ov: &Overrides,
        unused: &mut Vec<String>,
    ) -> Result<Option<PathBuf>, ScenarioError> {
        let policy = match a.policy.as_deref() {
            None | Some("null") => None,
            Some(p) => {
                let path = self.resolve(p);
                if !path.exists() {
                    return Err(self.err(p, format!("policy file {} not found", path.display())));
                }
                Some(path)
            }
        };
        Ok(match (&ov.acs_url, &a.url, policy) {
            // `--acs` replaces the scenario's ACS wholesale: a scenario written for the
            // embedded ACS runs unchanged against a real one; its policy goes unused.
            (Some(u), _, Some(_)) => {
                let (line, column) = locate(self.src, "policy");
                unused.push(format!(
                    "{}:{line}:{column}: acs.policy configures the embedded ACS; unused with --acs {u}",
                    self.origin
                ));
                None
            }
            (None, Some(_), Some(_)) => {
                return Err(self.err(
                    "policy",
                    "acs.policy configures the embedded ACS; it cannot be used with acs.url",
                ))
            }
            (_, _, p) => p,
        })
    }
}
