//! Argument checks shared by the RPCs: what the CWMP schema allows that the codec does not
//! enforce (string lengths, FileType values, a transfer's URL). A wrong argument is fault 9003
//! (Invalid arguments, TR-069 A.5), never a dropped session.

use crate::cwmp::Fault;

/// CommandKey and ParameterKey are `string(32)` (TR-069 A.3.2.1, A.3.2.8, A.3.2.9, A.4.1.2).
pub const MAX_KEY_LEN: usize = 32;
/// A transfer URL is `string(256)` (A.3.2.8, A.4.1.5, A.4.1.8); a DU's `string(1024)` (A.4.1.10).
pub const MAX_URL_LEN: usize = 256;
pub const MAX_DU_URL_LEN: usize = 1024;

/// A CommandKey or ParameterKey within its length.
pub fn key(k: &str) -> Result<(), Fault> {
    if k.len() <= MAX_KEY_LEN {
        Ok(())
    } else {
        Err(Fault::new(9003))
    }
}

/// A transfer URL: present, within `max` bytes, with a scheme and a host. Only HTTP(S) is
/// implemented: another scheme is 9013 (unsupported protocol, §3.4.3), not 9003.
pub fn url(u: &str, max: usize) -> Result<(), Fault> {
    let Some((scheme, rest)) = u.split_once("://") else {
        return Err(Fault::new(9003));
    };
    if u.len() > max || scheme.is_empty() || rest.is_empty() || rest.starts_with('/') {
        return Err(Fault::new(9003));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => Ok(()),
        _ => Err(Fault::new(9013)),
    }
}

/// `X <OUI> <name>`: a vendor file type (the OUI six hex digits, then a name).
fn vendor(t: &str) -> bool {
    let mut parts = t.splitn(3, ' ');
    parts.next() == Some("X")
        && parts
            .next()
            .is_some_and(|oui| oui.len() == 6 && oui.bytes().all(|b| b.is_ascii_hexdigit()))
        && parts.next().is_some_and(|n| !n.is_empty())
}

/// Download and ScheduleDownload FileType (A.3.2.8): `1 Firmware Upgrade Image`, `2 Web
/// Content`, `3 Vendor Configuration File`, `4 Tone File`, `5 Ringer File` or a vendor type.
pub fn download_file_type(t: &str) -> Result<(), Fault> {
    const KNOWN: [&str; 5] = [
        "1 Firmware Upgrade Image",
        "2 Web Content",
        "3 Vendor Configuration File",
        "4 Tone File",
        "5 Ringer File",
    ];
    if KNOWN.contains(&t) || vendor(t) {
        Ok(())
    } else {
        Err(Fault::new(9003))
    }
}

/// Upload FileType (A.4.1.5): `1 Vendor Configuration File`, `2 Vendor Log File`, `3 Vendor
/// Configuration File <i>`, `4 Vendor Log File <i>` (an instance number) or a vendor type.
pub fn upload_file_type(t: &str) -> Result<(), Fault> {
    let numbered = |prefix: &str| {
        t.strip_prefix(prefix)
            .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
    };
    if matches!(t, "1 Vendor Configuration File" | "2 Vendor Log File")
        || numbered("3 Vendor Configuration File ")
        || numbered("4 Vendor Log File ")
        || vendor(t)
    {
        Ok(())
    } else {
        Err(Fault::new(9003))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<(), Fault>) -> u32 {
        r.err().map_or(0, |f| f.code)
    }

    #[test]
    fn keys_urls_and_file_types() {
        assert_eq!(code(key(&"k".repeat(32))), 0);
        assert_eq!(code(key(&"k".repeat(33))), 9003);
        assert_eq!(code(url("http://acs/fw.bin", MAX_URL_LEN)), 0);
        assert_eq!(code(url("HTTPS://acs/fw.bin", MAX_URL_LEN)), 0);
        assert_eq!(code(url("ftp://acs/fw.bin", MAX_URL_LEN)), 9013);
        for bad in ["", "fw.bin", "http://", "http:///fw.bin", "://acs/x"] {
            assert_eq!(code(url(bad, MAX_URL_LEN)), 9003, "{bad:?}");
        }
        let long = format!("http://acs/{}", "a".repeat(300));
        assert_eq!(code(url(&long, MAX_URL_LEN)), 9003);
        assert_eq!(code(url(&long, MAX_DU_URL_LEN)), 0);
        assert_eq!(code(download_file_type("1 Firmware Upgrade Image")), 0);
        assert_eq!(code(download_file_type("X 00D09E Bundle")), 0);
        for bad in ["", "1 Firmware", "6 Anything", "X 00D09E", "X nothex Name"] {
            assert_eq!(code(download_file_type(bad)), 9003, "{bad:?}");
        }
        assert_eq!(code(upload_file_type("2 Vendor Log File")), 0);
        assert_eq!(code(upload_file_type("3 Vendor Configuration File 2")), 0);
        assert_eq!(code(upload_file_type("4 Vendor Log File x")), 9003);
        assert_eq!(code(upload_file_type("1 Firmware Upgrade Image")), 9003);
    }
}
