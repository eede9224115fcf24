//! Group-level values (`Template::with_values`, src/model/overlay.rs) read per device. Kept
//! here, not beside the code: reading them needs `device`, a layer above `model`.

use cpefleet::device::{Device, DeviceView, Env};
use cpefleet::model::Template;

const T: &str = r#"
name: t
root: Device.
objects:
  Device.DeviceInfo.:
    parameters:
      Manufacturer: { type: string, value: cpefleet }
      ManufacturerOUI: { type: string, value: 00D09E }
      ProductClass: { type: string, value: t }
      SerialNumber: { type: string, gen: { pattern: "CPF{index:08}" } }
  Device.ManagementServer.:
    parameters:
      ConnReqJabberID: { type: string, value: "" }
      PeriodicInformInterval: { type: unsignedInt, value: 300, writable: true }
  Device.XMPP.Connection.{i}.:
    instances: 1
    parameters:
      Username: { type: string, value: "", writable: true }
"#;

fn read(t: &Template, index: u32, path: &str) -> String {
    let mut d = Device::new(index);
    let env = Env {
        seed: 1,
        now: cpefleet::cwmp::DateTime::from_unix_ms(0),
        cr_url_base: "",
        udp: None,
    };
    let v = DeviceView::new(t, &mut d, &env);
    v.get(path).map(|p| p.value).unwrap_or_default()
}

#[test]
fn group_values_read_per_device_without_storing_anything() {
    let t = Template::from_yaml_str(T, "t").unwrap();
    let g = t
        .with_values(&[
            (
                "Device.ManagementServer.ConnReqJabberID".into(),
                "cpe{index}@cpe.example/cwmp".into(),
            ),
            (
                "Device.XMPP.Connection.1.Username".into(),
                "u{index}".into(),
            ),
            (
                "Device.ManagementServer.PeriodicInformInterval".into(),
                "60".into(),
            ),
        ])
        .unwrap();
    let jid = "Device.ManagementServer.ConnReqJabberID";
    assert_eq!(read(&g, 7, jid), "cpe7@cpe.example/cwmp");
    assert_eq!(read(&g, 8, "Device.XMPP.Connection.1.Username"), "u8");
    assert_eq!(
        read(&g, 8, "Device.ManagementServer.PeriodicInformInterval"),
        "60"
    );
    assert_eq!(read(&t, 7, jid), "", "the shared template is untouched");
    for (path, pattern, why) in [
        ("Device.Nope", "x", "no such parameter"),
        ("Device.XMPP.Connection.2.Username", "x", "no such instance"),
        (
            "Device.ManagementServer.PeriodicInformInterval",
            "ten",
            "not a valid",
        ),
        (
            "Device.ManagementServer.ConnReqJabberID",
            "{bogus}",
            "pattern",
        ),
    ] {
        let e = t.with_values(&[(path.into(), pattern.into())]).unwrap_err();
        assert!(e.contains(why), "{e}");
    }
}
