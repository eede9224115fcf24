//! Software modules (TR-157, TR-069 A.4.1.10 ChangeDUState, A.4.2.6 DUStateChangeComplete):
//! Install, Update and Uninstall of deployment units in `SoftwareModules.DeploymentUnit.{i}.`,
//! each with one execution unit in `SoftwareModules.ExecutionUnit.{i}.`. Pure: the session
//! layer fetches the DU files ([`DeviceView::du_fetches`]) and hands the outcomes to
//! [`DeviceView::change_du_state`], which applies every operation in order and returns the
//! report with the spec's per-operation fault codes (9010-9019 for the file, 9022-9032 for
//! the unit).

use crate::cwmp::{
    ChangeDUState, DUStateChangeComplete, DateTime, DuOperation, OpResultStruct,
    TransferCompleteFaultStruct,
};
use crate::device::rpc::objects::By;
use crate::device::view::DeviceView;
use crate::seed;

/// What fetching one operation's file gave: `Ok(bytes)` or `Err((fault code, reason))`.
pub type Fetched = Option<Result<u64, (u32, String)>>;

/// A deployment unit on the device.
pub(super) struct Du {
    pub(super) path: String,
    pub(super) uuid: String,
    pub(super) version: String,
    pub(super) url: String,
    ee: String,
    eus: String,
}

impl DeviceView<'_> {
    pub(super) fn sm(&self) -> String {
        format!("{}SoftwareModules.", self.t.root())
    }

    fn read(&self, path: &str) -> String {
        self.get(path).map(|p| p.value).unwrap_or_default()
    }

    pub(super) fn dus(&self) -> Vec<Du> {
        let table = format!("{}DeploymentUnit.", self.sm());
        self.instance_numbers(&table)
            .into_iter()
            .map(|n| {
                let path = format!("{table}{n}");
                let r = |p: &str| self.read(&format!("{path}.{p}"));
                Du {
                    uuid: r("UUID"),
                    version: r("Version"),
                    url: r("URL"),
                    ee: r("ExecutionEnvRef"),
                    eus: r("ExecutionUnitList"),
                    path,
                }
            })
            .collect()
    }

    /// The URL each operation's file comes from (None: nothing to fetch). An Update without
    /// a URL fetches the unit's own URL again.
    pub fn du_fetches(&self, r: &ChangeDUState) -> Vec<Option<String>> {
        let dus = self.dus();
        r.operations
            .iter()
            .map(|op| match op {
                // An Install that will fail anyway fetches nothing.
                DuOperation::Install {
                    url,
                    uuid,
                    execution_env_ref,
                    ..
                } => self
                    .install_check(url, uuid, execution_env_ref)
                    .is_ok()
                    .then(|| url.clone()),
                DuOperation::Update { url, uuid, .. } if url.is_empty() => {
                    dus.iter().find(|d| &d.uuid == uuid).map(|d| d.url.clone())
                }
                DuOperation::Update { url, .. } => Some(url.clone()),
                DuOperation::Uninstall { .. } => None,
            })
            .collect()
    }

    /// Applies the operations in order and reports each (TR-069 A.4.2.6). `fetched` is in the
    /// order of [`Self::du_fetches`].
    pub fn change_du_state(
        &mut self,
        r: &ChangeDUState,
        fetched: &[Fetched],
        start: DateTime,
    ) -> DUStateChangeComplete {
        let results = r
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| {
                let f = fetched.get(i).cloned().flatten();
                let mut res = match op {
                    DuOperation::Install {
                        url,
                        uuid,
                        execution_env_ref,
                        ..
                    } => self.du_install(url, uuid, execution_env_ref, f),
                    DuOperation::Update {
                        uuid, version, url, ..
                    } => self.du_update(uuid, version, url, f),
                    DuOperation::Uninstall {
                        uuid,
                        version,
                        execution_env_ref,
                    } => self.du_uninstall(uuid, version, execution_env_ref),
                };
                res.start_time = start;
                res.complete_time = self.env.now;
                res
            })
            .collect();
        DUStateChangeComplete {
            results,
            command_key: r.command_key.clone(),
        }
    }

    /// An Install's UUID (given or made) and execution environment, or the fault it draws
    /// before any file is fetched: 9022 bad UUID, 9023/9024 environment, 9026 duplicate.
    fn install_check(&self, url: &str, uuid: &str, ee: &str) -> Result<(String, String), u32> {
        let uuid = if uuid.is_empty() {
            uuid_from(url)
        } else {
            uuid.to_string()
        };
        if !uuid_ok(&uuid) {
            return Err(9022);
        }
        let ee = self.exec_env(ee)?;
        let version = version_of(url);
        if self
            .dus()
            .iter()
            .any(|d| d.uuid == uuid && d.version == version)
        {
            return Err(9026);
        }
        Ok((uuid, ee))
    }

    pub(super) fn du_install(
        &mut self,
        url: &str,
        uuid: &str,
        ee: &str,
        f: Fetched,
    ) -> OpResultStruct {
        let (uuid, ee) = match self.install_check(url, uuid, ee) {
            Ok(x) => x,
            Err(code) => return failure(&valid_uuid(uuid, url), "", "Failed", code),
        };
        let failed = |code: u32| failure(&uuid, "", "Failed", code);
        let version = version_of(url);
        match &f {
            Some(Err((code, _))) => return failed(*code),
            None => return failed(9016),
            Some(Ok(_)) => {}
        }
        let sm = self.sm();
        let Ok(du_n) = self.add_instance(&format!("{sm}DeploymentUnit."), By::Device) else {
            return failed(9027);
        };
        let Ok(eu_n) = self.add_instance(&format!("{sm}ExecutionUnit."), By::Device) else {
            let _ = self.delete_instance(&format!("{sm}DeploymentUnit.{du_n}."), By::Device);
            return failed(9027);
        };
        let (du, eu) = (
            format!("{sm}DeploymentUnit.{du_n}"),
            format!("{sm}ExecutionUnit.{eu_n}"),
        );
        let name = name_of(url);
        let now = self.env.now.to_string();
        for (p, v) in [
            ("UUID", uuid.as_str()),
            ("DUID", &du_n.to_string()),
            ("Name", &name),
            ("Status", "Installed"),
            ("Resolved", "true"),
            ("URL", url),
            ("Version", &version),
            ("Vendor", "cpefleet"),
            ("ExecutionEnvRef", &ee),
            ("ExecutionUnitList", &eu),
            ("Installed", &now),
            ("LastUpdate", &now),
        ] {
            let _ = self.set_local(&format!("{du}.{p}"), v);
        }
        for (p, v) in [
            ("EUID", eu_n.to_string().as_str()),
            ("Name", &name),
            ("ExecEnvLabel", &name),
            ("Version", &version),
            ("Vendor", "cpefleet"),
            ("ExecutionEnvRef", &ee),
            ("References", &du),
        ] {
            let _ = self.set_local(&format!("{eu}.{p}"), v);
        }
        OpResultStruct {
            uuid,
            deployment_unit_ref: du,
            version,
            current_state: "Installed".into(),
            resolved: true,
            execution_unit_ref_list: eu,
            ..OpResultStruct::default()
        }
    }

    pub(super) fn du_update(
        &mut self,
        uuid: &str,
        version: &str,
        url: &str,
        f: Fetched,
    ) -> OpResultStruct {
        let found = self.dus().into_iter().find(|d| {
            (uuid.is_empty() || d.uuid == uuid) && (version.is_empty() || d.version == version)
        });
        let Some(d) = found else {
            return failure(&valid_uuid(uuid, uuid), "", "Failed", 9028);
        };
        let url = if url.is_empty() {
            d.url.clone()
        } else {
            url.to_string()
        };
        let new = version_of(&url);
        let failed = |code| {
            let mut r = failure(&d.uuid, &d.path, "Installed", code);
            r.version = d.version.clone();
            r.execution_unit_ref_list = d.eus.clone();
            r
        };
        let code = match &f {
            Some(Err((code, _))) => Some(*code),
            _ if new.is_empty() => Some(9031),
            _ if new == d.version => Some(9032),
            _ if older(&new, &d.version) => Some(9030),
            _ => None,
        };
        if let Some(code) = code {
            return failed(code);
        }
        let now = self.env.now.to_string();
        for (p, v) in [
            ("URL", url.as_str()),
            ("Version", &new),
            ("LastUpdate", &now),
        ] {
            let _ = self.set_local(&format!("{}.{p}", d.path), v);
        }
        let _ = self.set_local(&format!("{}.Version", d.eus), &new);
        OpResultStruct {
            uuid: d.uuid,
            deployment_unit_ref: d.path,
            version: new,
            current_state: "Installed".into(),
            resolved: true,
            execution_unit_ref_list: d.eus,
            ..OpResultStruct::default()
        }
    }

    pub(super) fn du_uninstall(&mut self, uuid: &str, version: &str, ee: &str) -> OpResultStruct {
        let found = self
            .dus()
            .into_iter()
            .find(|d| d.uuid == uuid && (version.is_empty() || d.version == version));
        let Some(d) = found else {
            return failure(&valid_uuid(uuid, uuid), "", "Failed", 9028);
        };
        if !ee.is_empty() && ee.trim_end_matches('.') != d.ee.trim_end_matches('.') {
            let mut r = failure(&d.uuid, &d.path, "Installed", 9025);
            r.version = d.version;
            return r;
        }
        for eu in d.eus.split(',').filter(|e| !e.is_empty()) {
            let _ = self.delete_instance(&format!("{eu}."), By::Device);
        }
        let _ = self.delete_instance(&format!("{}.", d.path), By::Device);
        OpResultStruct {
            uuid: d.uuid,
            version: d.version,
            current_state: "Uninstalled".into(),
            ..OpResultStruct::default()
        }
    }

    /// The execution environment an Install names ("" is the first), or its fault: 9023
    /// unknown, 9024 disabled.
    fn exec_env(&self, ee: &str) -> Result<String, u32> {
        let table = format!("{}ExecEnv.", self.sm());
        let first = self
            .instance_numbers(&table)
            .first()
            .copied()
            .ok_or(9023u32)?;
        let path = if ee.is_empty() {
            format!("{table}{first}")
        } else {
            ee.trim_end_matches('.').to_string()
        };
        match self.get(&format!("{path}.Enable")).map(|p| p.value) {
            None => Err(9023),
            Some(v) if v == "false" || v == "0" => Err(9024),
            Some(_) => Ok(path),
        }
    }
}

fn failure(uuid: &str, du: &str, state: &str, code: u32) -> OpResultStruct {
    OpResultStruct {
        uuid: uuid.into(),
        deployment_unit_ref: du.into(),
        current_state: state.into(),
        fault: TransferCompleteFaultStruct {
            fault_code: code,
            fault_string: crate::cwmp::Fault::standard_string(code).into(),
        },
        ..OpResultStruct::default()
    }
}

/// The UUID a result reports (the schema admits only the UUID form): the given one, else one
/// made from `source`.
fn valid_uuid(given: &str, source: &str) -> String {
    if uuid_ok(given) {
        given.to_string()
    } else {
        uuid_from(source)
    }
}

/// TR-157's UUID form: 8-4-4-4-12 hex digits.
fn uuid_ok(u: &str) -> bool {
    u.len() == 36
        && u.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A version 5 style UUID the CPE makes for a unit the ACS gave none (stable per URL name).
fn uuid_from(url: &str) -> String {
    let name = name_of(url);
    let a = seed::fnv1a(name.as_bytes());
    let b = seed::mix(a);
    format!(
        "{:08x}-{:04x}-5{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// The unit's name: the file name without its version and extension ("hello-1.2.ipk" → "hello").
pub(super) fn name_of(url: &str) -> String {
    let file = url.rsplit('/').next().unwrap_or(url);
    let stem = file.split_once('.').map_or(file, |(s, _)| s);
    stem.split_once('-').map_or(stem, |(n, _)| n).to_string()
}

/// The version a file name carries ("hello-1.2.ipk" → "1.2"); "" when none.
pub(super) fn version_of(url: &str) -> String {
    let file = url.rsplit('/').next().unwrap_or(url);
    let Some((_, rest)) = file.split_once('-') else {
        return String::new();
    };
    let v = rest.rsplit_once('.').map_or(rest, |(v, _)| v);
    if v.starts_with(|c: char| c.is_ascii_digit()) {
        v.to_string()
    } else {
        String::new()
    }
}

/// Whether version `a` is older than `b`, numerically by dotted parts.
fn older(a: &str, b: &str) -> bool {
    let parts = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parts(a) < parts(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_versions_and_uuids() {
        assert_eq!(name_of("http://x/du/hello-1.2.ipk"), "hello");
        assert_eq!(version_of("http://x/du/hello-1.2.ipk"), "1.2");
        assert_eq!(version_of("http://x/du/hello.ipk"), "");
        assert!(older("1.2", "1.10"));
        assert!(!older("2.0", "1.9"));
        let u = uuid_from("http://x/hello-1.0.ipk");
        assert!(uuid_ok(&u), "{u}");
        assert_eq!(u, uuid_from("http://y/hello-2.0.ipk"), "one unit, one UUID");
        assert!(!uuid_ok("not-a-uuid"));
    }
}
