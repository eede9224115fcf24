//! What every imported template gets regardless of its source: the forced-inform and forced
//! active-notification parameters of its root (TR-069 A.3.3.1, TR-106 forcedInform), and generators for the few
//! parameters that must differ per device or move with time (serial number, connection-request
//! URL, uptime, clock). Everything else stays as the source gave it.

use crate::model::file::{GenSpec, ParamSpec, TemplateFile};

/// Who the device says it is, for importers whose source has no values (BBF XML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub manufacturer: String,
    /// Six upper-case hex digits.
    pub oui: String,
    pub product_class: String,
    /// A `GenSpec::Pattern` text for `DeviceInfo.SerialNumber`.
    pub serial_pattern: String,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            manufacturer: "cpefleet".into(),
            oui: "00D09E".into(),
            product_class: "CPE".into(),
            serial_pattern: "CPF{index:08}".into(),
        }
    }
}

/// Forced-inform parameters by root, as schema paths below the root (TR-106 forcedInform). Device:1
/// and Device:2 share the `Device.` root; each list entry only applies where the parameter
/// exists, so the union is safe.
fn forced_list(root: &str) -> &'static [&'static str] {
    match root {
        "InternetGatewayDevice." => &[
            "DeviceSummary",
            "DeviceInfo.SpecVersion",
            "DeviceInfo.HardwareVersion",
            "DeviceInfo.SoftwareVersion",
            "DeviceInfo.ProvisioningCode",
            "ManagementServer.ParameterKey",
            "ManagementServer.ConnectionRequestURL",
            "ManagementServer.AliasBasedAddressing",
            // TR-069 wants only the default WAN connection's address; a template cannot
            // single out one instance, so every instance of the table is forced (dumps and
            // shipped templates have one).
            "WANDevice.{i}.WANConnectionDevice.{i}.WANIPConnection.{i}.ExternalIPAddress",
            "WANDevice.{i}.WANConnectionDevice.{i}.WANPPPConnection.{i}.ExternalIPAddress",
        ],
        "Device." => &[
            "RootDataModelVersion",
            "DeviceSummary",
            "DeviceInfo.HardwareVersion",
            "DeviceInfo.SoftwareVersion",
            "DeviceInfo.ProvisioningCode",
            "ManagementServer.ParameterKey",
            "ManagementServer.ConnectionRequestURL",
            "ManagementServer.AliasBasedAddressing",
            "LAN.IPAddress",
        ],
        _ => &[],
    }
}

/// Whether the parameter at `rel` (schema path below `root`) is forced into every Inform.
pub fn is_forced_inform(root: &str, rel: &str) -> bool {
    forced_list(root).contains(&rel)
}

/// The TR-106 activeNotify of well-known parameters (TR-106 activeNotify), for sources that lack it.
pub fn active_notify(rel: &str) -> Option<&'static str> {
    match rel {
        "DeviceInfo.SoftwareVersion" | "DeviceInfo.ProvisioningCode" => Some("forceEnabled"),
        "ManagementServer.ConnectionRequestURL"
        | "ManagementServer.ConnReqJabberID"
        | "WANDevice.{i}.WANConnectionDevice.{i}.WANIPConnection.{i}.ExternalIPAddress"
        | "WANDevice.{i}.WANConnectionDevice.{i}.WANPPPConnection.{i}.ExternalIPAddress" => {
            Some("forceDefaultEnabled")
        }
        _ => None,
    }
}

/// The generator for a parameter whose value is per device or per moment by nature.
pub fn time_or_session_generator(rel: &str) -> Option<GenSpec> {
    match rel {
        "DeviceInfo.UpTime" => Some(GenSpec::Uptime),
        "ManagementServer.ConnectionRequestURL" => Some(GenSpec::ConnectionRequestUrl),
        "Time.CurrentLocalTime" => Some(GenSpec::Now),
        _ => None,
    }
}

/// A serial-number pattern that looks like `serial`: its trailing digits (at most 8, at least
/// 6 wide) become the zero-padded device index, so `8KA8WA1151100043` gives
/// `8KA8WA11{index:08}`.
pub fn serial_pattern(serial: &str) -> String {
    // Braces would read as placeholders.
    let clean: String = serial.chars().filter(|c| *c != '{' && *c != '}').collect();
    let digits = clean
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let replaced = digits.min(8);
    let keep = clean.len() - replaced; // digits are ASCII, so this is a char boundary
    let prefix = clean.get(..keep).unwrap_or("");
    let prefix = if prefix.is_empty() { "SN" } else { prefix };
    format!("{prefix}{{index:0{}}}", replaced.max(6))
}

/// Mark the forced-inform and forced-active parameters of `t` (those present), per its root.
pub fn mark_inform_flags(t: &mut TemplateFile) {
    let root = t.root.clone();
    for (obj, spec) in t.objects.iter_mut() {
        let Some(rel_obj) = obj.strip_prefix(&root) else {
            continue;
        };
        if is_concrete(rel_obj) {
            continue;
        }
        for (name, p) in spec.parameters.iter_mut() {
            let rel = format!("{rel_obj}{name}");
            if is_forced_inform(&root, &rel) {
                p.forced_inform = true;
            }
            if p.active_notify.is_none() {
                if let Some(an) = active_notify(&rel) {
                    p.active_notify = Some(an.to_string());
                }
            }
            if matches!(
                p.active_notify.as_deref(),
                Some("forceEnabled" | "forceDefaultEnabled")
            ) && p.notification.is_none()
            {
                p.notification = Some(2);
            }
        }
    }
}

/// Replace the values of uptime, clock and connection-request URL by their generators.
pub fn apply_time_generators(t: &mut TemplateFile) {
    let root = t.root.clone();
    for (obj, spec) in t.objects.iter_mut() {
        let Some(rel_obj) = obj.strip_prefix(&root) else {
            continue;
        };
        for (name, p) in spec.parameters.iter_mut() {
            if let Some(g) = time_or_session_generator(&format!("{rel_obj}{name}")) {
                set_gen(p, g);
            }
        }
    }
}

/// Give `p` a generator instead of its literal value.
pub fn set_gen(p: &mut ParamSpec, g: GenSpec) {
    p.value = None;
    p.gen = Some(g);
}

/// The parameter at full path `path` (`Device.DeviceInfo.SerialNumber`), if the template has it.
pub fn param_mut<'a>(t: &'a mut TemplateFile, path: &str) -> Option<&'a mut ParamSpec> {
    let dot = path.rfind('.')?;
    let (obj, name) = path.split_at(dot + 1);
    t.objects.get_mut(obj)?.parameters.get_mut(name)
}

/// Whether a path has a concrete instance number in it (`X.3.` or `X.3.Y.`).
pub fn is_concrete(path: &str) -> bool {
    path.split('.').any(is_instance_number)
}

/// Whether a path segment is an instance number.
pub fn is_instance_number(seg: &str) -> bool {
    !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_patterns_keep_the_look() {
        assert_eq!(serial_pattern("8KA8WA1151100043"), "8KA8WA11{index:08}");
        assert_eq!(serial_pattern("ABC123"), "ABC{index:06}");
        assert_eq!(serial_pattern("XYZ"), "XYZ{index:06}");
        assert_eq!(serial_pattern("0"), "SN{index:06}");
        assert_eq!(serial_pattern("a{b}9"), "ab{index:06}");
    }

    #[test]
    fn forced_inform_lists_per_root() {
        assert!(is_forced_inform("Device.", "RootDataModelVersion"));
        assert!(is_forced_inform(
            "Device.",
            "ManagementServer.ConnectionRequestURL"
        ));
        assert!(!is_forced_inform("Device.", "DeviceInfo.UpTime"));
        assert!(is_forced_inform(
            "InternetGatewayDevice.",
            "DeviceInfo.SpecVersion"
        ));
        assert!(!is_forced_inform(
            "InternetGatewayDevice.",
            "RootDataModelVersion"
        ));
    }

    #[test]
    fn instance_numbers() {
        assert!(is_concrete("Device.IP.Interface.2."));
        assert!(is_concrete("Device.IP.Interface.2.Stats."));
        assert!(!is_concrete("Device.IP.Interface.{i}."));
        assert!(!is_concrete("Device.IP."));
    }
}
