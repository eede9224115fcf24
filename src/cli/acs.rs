//! `cpefleet acs`: the embedded ACS on its own.

use super::*;
use crate::acs;

pub(super) fn acs_cmd(a: AcsArgs) -> anyhow::Result<i32> {
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
