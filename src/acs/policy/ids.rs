//! Device ids, connection-request passwords and deterministic shares of the fleet.

use super::*;

/// GenieACS's device id: `OUI-ProductClass-SerialNumber` (`OUI-SerialNumber` without a
/// product class), every byte other than `[A-Za-z0-9_]` escaped as `%XX`.
pub fn device_id(d: &DeviceIdStruct) -> String {
    let mut out =
        String::with_capacity(d.oui.len() + d.product_class.len() + d.serial_number.len() + 8);
    escape_into(&mut out, &d.oui);
    out.push('-');
    if !d.product_class.is_empty() {
        escape_into(&mut out, &d.product_class);
        out.push('-');
    }
    escape_into(&mut out, &d.serial_number);
    out
}

pub(super) fn escape_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// The root object named by the Inform's parameters ("Device." / "InternetGatewayDevice."),
/// "" when it names none.
pub fn root_of(params: &[ParameterValueStruct]) -> &str {
    params
        .iter()
        .filter(|p| crate::acs::store::name_ok(&p.name))
        .find_map(|p| p.name.find('.').and_then(|i| p.name.get(..=i)))
        .unwrap_or("")
}

/// The ConnectionRequestPassword the ACS gives a device: 16 base-36 characters derived from
/// the seed and the device id (reproducible across runs, different per device).
pub fn cr_password(seed: &str, device_id: &str) -> String {
    use md5::{Digest, Md5};
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut h = Md5::new();
    h.update(b"cpefleet-cr\0");
    h.update(seed.as_bytes());
    h.update(b"\0");
    h.update(device_id.as_bytes());
    h.finalize()
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % 36]))
        .collect()
}

/// FNV-1a over the parts, each followed by a 0xff byte (which UTF-8 text never contains), so
/// ("ab", "c") and ("a", "bc") hash apart.
pub(super) fn fnv1a(parts: &[&[u8]]) -> u64 {
    parts
        .iter()
        .fold(Fnv1a::default(), |h, p| h.write(p).write(&[0xff]))
        .finish()
}

/// Whether a device falls in `share` percent for `salt` (a task name, "firmware_wave", ...).
pub fn in_share(seed: &str, salt: &str, device_id: &str, share: f64) -> bool {
    if share >= 100.0 {
        return true;
    }
    if share <= 0.0 {
        return false;
    }
    let bucket = fnv1a(&[seed.as_bytes(), salt.as_bytes(), device_id.as_bytes()]) % 1_000_000;
    (bucket as f64) < share * 10_000.0
}
