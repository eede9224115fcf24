//! What the ACS under test offers beyond TR-069 (its NBI dialect, optional tasks, a session cap
//! the runner can fill), and the dialect-specific NBI calls the runner makes: reading back a
//! device's record, putting a file, and removing what a run created.
//!
//! TR-069 specifies the CPE–ACS protocol only; how an operator makes the ACS act (a task, a
//! file, a device listing) is each ACS's own API. A case names the capabilities it needs, and
//! one the ACS lacks is skipped with the reason given here.

use serde::Serialize;

use super::case::Capability;
use super::http::{http_call, http_call_with};

/// The northbound API's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// cpefleet's embedded ACS: GenieACS's task endpoint plus `/status/devices/<id>`, and
    /// cpefleet's `scheduleInform` task.
    Embedded,
    /// GenieACS 1.2 (`/devices`, `/tasks`, `/files`, `/faults`).
    GenieAcs,
    /// No NBI known: only cases that need nothing but TR-069 apply.
    None,
}

impl Dialect {
    pub fn label(self) -> &'static str {
        match self {
            Dialect::Embedded => "embedded",
            Dialect::GenieAcs => "genieacs",
            Dialect::None => "none",
        }
    }

    /// `embedded`, `genieacs`, `none` (the `--acs-dialect` flag).
    pub fn parse(s: &str) -> Option<Dialect> {
        [Dialect::Embedded, Dialect::GenieAcs, Dialect::None]
            .into_iter()
            .find(|d| d.label() == s)
    }
}

/// The ACS under test, as far as the cases need to know.
#[derive(Debug, Clone, Serialize)]
pub struct AcsProfile {
    pub dialect: Dialect,
    /// The runner can make the ACS answer 503 by holding this many sessions open.
    pub session_cap: Option<u32>,
    /// The ACS authenticates CPEs.
    pub cpe_auth: bool,
    /// How the devices join the XMPP server the ACS sends connection requests through.
    #[serde(skip)]
    pub xmpp: Option<super::xmpp::XmppJoin>,
}

impl AcsProfile {
    /// The embedded ACS with its policy's session cap and auth.
    pub fn embedded(session_cap: Option<u32>, cpe_auth: bool) -> Self {
        AcsProfile {
            dialect: Dialect::Embedded,
            session_cap,
            cpe_auth,
            xmpp: None,
        }
    }

    /// Why the ACS cannot run a case needing `c` (None: it can).
    pub fn lacks(&self, c: Capability) -> Option<String> {
        let d = self.dialect;
        let no_nbi = || {
            format!(
                "needs an NBI (--nbi) the runner knows; dialect {}",
                d.label()
            )
        };
        match c {
            Capability::Nbi | Capability::DeviceRecord | Capability::Files => {
                (d == Dialect::None).then(no_nbi)
            }
            Capability::TaskScheduleInform => match d {
                Dialect::Embedded => None,
                Dialect::GenieAcs => Some(
                    "GenieACS 1.2's NBI has no scheduleInform task (the case never posts it)"
                        .into(),
                ),
                Dialect::None => Some(no_nbi()),
            },
            Capability::TaskScheduleDownload => match d {
                Dialect::Embedded => None,
                Dialect::GenieAcs => Some(
                    "GenieACS 1.2's NBI has no scheduleDownload or cancelTransfer task (the \
                     case never posts them)"
                        .into(),
                ),
                Dialect::None => Some(no_nbi()),
            },
            Capability::SoftwareModules => match d {
                Dialect::Embedded => None,
                Dialect::GenieAcs => Some(
                    "GenieACS 1.2 has no ChangeDUState task and answers DUStateChangeComplete \
                     with fault 8000 (it does not offer software modules)"
                        .into(),
                ),
                Dialect::None => Some(no_nbi()),
            },
            Capability::Force503 => match self.session_cap {
                Some(n) if n <= 16 => None,
                _ => Some(
                    "no way to make this ACS answer 503 on demand: its session cap is unknown \
                     or too large to fill (--acs-session-cap N)"
                        .into(),
                ),
            },
            Capability::Xmpp => self.xmpp.is_none().then(|| {
                "no XMPP server known that the ACS sends connection requests through (give the \
                 component the devices join: --xmpp-component HOST:PORT --xmpp-domain D \
                 --xmpp-secret S)"
                    .into()
            }),
            Capability::CpeAuth => (!self.cpe_auth).then(|| {
                "the ACS is not known to authenticate CPEs (pass --username/--password of the \
                 credentials it checks)"
                    .into()
            }),
        }
    }

    /// The first unmet need of a case, as the skip reason.
    pub fn skip_reason(&self, needs: &[Capability]) -> Option<String> {
        needs
            .iter()
            .find_map(|c| self.lacks(*c).map(|r| format!("{}: {r}", c.label())))
    }

    /// The ACS's record of a device as text (JSON), to look for a value in.
    pub async fn device_record(
        &self,
        acs: &str,
        nbi: &str,
        device_id: &str,
        path: &str,
    ) -> Result<String, String> {
        let url = match self.dialect {
            Dialect::Embedded => format!("{acs}status/devices/{}", url_escape(device_id)),
            Dialect::GenieAcs => format!(
                "{nbi}devices/?query={}&projection={}",
                url_escape(&format!("{{\"_id\":{}}}", json_str(device_id))),
                url_escape(path)
            ),
            Dialect::None => return Err("no NBI".into()),
        };
        match http_call("GET", &url, "").await? {
            // The embedded ACS's record holds every parameter: the one asked for, when there.
            (200, body) if self.dialect == Dialect::Embedded => {
                Ok(parameter_value(&body, path).unwrap_or(body))
            }
            (200, body) => Ok(body),
            (s, _) => Err(format!("GET {url} answered {s}")),
        }
    }

    /// Puts a file of `size` zero bytes (GenieACS's `PUT /files/<name>`); the embedded ACS serves
    /// the files of its policy, so there it checks the name is one of them through a download.
    pub async fn put_file(
        &self,
        nbi: &str,
        name: &str,
        file_type: &str,
        size: u32,
    ) -> Result<(), String> {
        match self.dialect {
            Dialect::GenieAcs => {
                let url = format!("{nbi}files/{}", url_escape(name));
                let body = vec![0u8; size as usize];
                let headers = [
                    ("Content-Type", "application/octet-stream"),
                    ("fileType", file_type),
                ];
                match http_call_with("PUT", &url, &body, &headers).await? {
                    (200 | 201, _) => Ok(()),
                    (s, b) => Err(format!("PUT {url} answered {s}: {}", first_line(&b))),
                }
            }
            // The embedded ACS's files come from its policy (the suite's policy has the one
            // the firmware case downloads); nothing to put.
            Dialect::Embedded => Ok(()),
            Dialect::None => Err("no NBI to put a file through".into()),
        }
    }

    /// Removes what a case created in the ACS: the device (GenieACS removes its tasks, faults
    /// and operations with it), then any task left for it, and the files it put. Returns what
    /// could not be removed.
    pub async fn cleanup(&self, nbi: &str, device_id: &str, files: &[String]) -> Vec<String> {
        let mut left = Vec::new();
        if self.dialect != Dialect::GenieAcs {
            return left;
        }
        let id = url_escape(device_id);
        let tasks = format!(
            "{nbi}tasks/?query={}&projection=_id",
            url_escape(&format!("{{\"device\":{}}}", json_str(device_id)))
        );
        if let Ok((200, body)) = http_call("GET", &tasks, "").await {
            for t in ids(&body) {
                if let Err(e) = delete(&format!("{nbi}tasks/{}", url_escape(&t))).await {
                    left.push(e);
                }
            }
        }
        if let Err(e) = delete(&format!("{nbi}devices/{id}")).await {
            left.push(e);
        }
        for f in files {
            if let Err(e) = delete(&format!("{nbi}files/{}", url_escape(f))).await {
                left.push(e);
            }
        }
        left
    }
}

/// DELETE, retried while GenieACS answers 503 (the device is locked while it still saves the
/// last session): at most 10 tries, 300 ms apart.
async fn delete(url: &str) -> Result<(), String> {
    let mut last = 0;
    for _ in 0..10 {
        match http_call("DELETE", url, "").await {
            Ok((200 | 204 | 404, _)) => return Ok(()),
            Ok((503, _)) => last = 503,
            Ok((s, _)) => return Err(format!("DELETE {url} answered {s}")),
            Err(e) => return Err(format!("DELETE {url}: {e}")),
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    Err(format!("DELETE {url} answered {last} 10 times"))
}

/// The `_id`s of a JSON array of objects.
fn ids(body: &str) -> Vec<String> {
    let Ok(serde_json::Value::Array(v)) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    v.iter()
        .filter_map(|o| match o.get("_id")? {
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
        .collect()
}

/// `parameters[path].value` of an embedded ACS device record.
fn parameter_value(record: &str, path: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(record).ok()?;
    Some(
        v.get("parameters")?
            .get(path)?
            .get("value")?
            .as_str()?
            .to_string(),
    )
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Percent-encodes everything but RFC 3986's unreserved characters (a path segment or a
/// query value).
pub fn url_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(char::from(b));
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_name_the_missing_capability() {
        let g = AcsProfile {
            dialect: Dialect::GenieAcs,
            session_cap: None,
            cpe_auth: false,
            xmpp: None,
        };
        assert_eq!(g.skip_reason(&[Capability::Nbi]), None);
        let r = g
            .skip_reason(&[Capability::Nbi, Capability::TaskScheduleInform])
            .unwrap();
        assert!(
            r.starts_with("task_schedule_inform: ") && r.contains("GenieACS"),
            "{r}"
        );
        assert!(g.skip_reason(&[Capability::Force503]).is_some());
        assert!(g.skip_reason(&[Capability::CpeAuth]).is_some());
        assert!(g
            .skip_reason(&[Capability::Xmpp])
            .unwrap()
            .contains("--xmpp-component"));
        let e = AcsProfile::embedded(Some(2), true);
        assert_eq!(
            e.skip_reason(&[
                Capability::Nbi,
                Capability::Force503,
                Capability::TaskScheduleInform,
                Capability::CpeAuth
            ]),
            None
        );
        let none = AcsProfile {
            dialect: Dialect::None,
            session_cap: None,
            cpe_auth: true,
            xmpp: None,
        };
        assert!(none.skip_reason(&[Capability::DeviceRecord]).is_some());
    }

    #[test]
    fn escapes_and_ids() {
        assert_eq!(
            url_escape("00D09E-HGW181-CPF%2D1"),
            "00D09E-HGW181-CPF%252D1"
        );
        assert_eq!(
            ids(r#"[{"_id":"a1"},{"_id":5},{"x":1}]"#),
            vec!["a1".to_string(), "5".to_string()]
        );
        assert!(ids("not json").is_empty());
    }
}
