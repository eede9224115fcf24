//! The scenario's `fleet.connection_requests:` section: the devices' connection-request
//! listener (TR-069 §3.2.2).

use std::net::SocketAddr;
use std::time::Duration;

use super::file::CrSpec;
use super::validate::Validator;
use super::{Overrides, ScenarioError};
use crate::cr::CrAuth;

/// The connection-request listener.
#[derive(Debug, Clone)]
pub struct Cr {
    pub listen: SocketAddr,
    pub url: Option<String>,
    pub auth: CrAuth,
    pub min_interval: Duration,
}

impl Validator<'_> {
    /// Validates `fleet.connection_requests:`; `--cr-listen` beats its `listen`.
    pub(super) fn connection_requests(
        &self,
        crs: &CrSpec,
        ov: &Overrides,
    ) -> Result<Cr, ScenarioError> {
        let listen = match (ov.cr_listen, crs.listen.as_deref()) {
            (Some(a), _) => a,
            (None, Some(l)) => l
                .parse()
                .map_err(|_| self.err(l, format!("{l:?} is not an address:port")))?,
            (None, None) => SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let auth = match crs.auth.as_deref().unwrap_or("digest") {
            "digest" => CrAuth::Digest,
            "basic" => CrAuth::Basic,
            "digest-or-basic" => CrAuth::DigestOrBasic,
            "none" => CrAuth::None,
            other => {
                return Err(self.err(
                    other,
                    format!("connection_requests.auth {other:?}: use digest, basic, digest-or-basic or none"),
                ))
            }
        };
        Ok(Cr {
            listen,
            url: crs.url.clone(),
            auth,
            min_interval: crs.min_interval.map_or(Duration::from_secs(1), |d| d.0),
        })
    }
}
