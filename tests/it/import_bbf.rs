//! The BBF data-model XML importer: a small hand-written document exercising the syntax it must
//! understand, and the real TR-181 2.17 file with an include list.

use std::collections::BTreeMap;

use cpefleet::import::{
    concrete_parameter_count, import_bbf_xml, write_yaml, BbfImportOptions, ImportError,
};
use cpefleet::model::file::{GenSpec, ParamSpec, TemplateFile};
use serde_yaml::Value;

const TR181: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/bbf/data-models/tr-181-2-17-0-cwmp-full.xml"
);
const TR104: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/bbf/data-models/tr-104-2-0-2-cwmp-full.xml"
);

const SNIPPET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<dm:document xmlns:dm="urn:broadband-forum-org:cwmp:datamodel-1-14"
    xmlns:dmr="urn:broadband-forum-org:cwmp:datamodel-report-1-0"
    spec="urn:example:test" file="test.xml">
  <dataType name="IPAddress">
    <description>An address &amp; more.</description>
    <string><size maxLength="45"/></string>
  </dataType>
  <dataType name="IPv4Address" base="IPAddress">
    <size maxLength="15"/>
    <pattern value=""/>
  </dataType>
  <dataType name="Mode" base="ModeBase"/>
  <dataType name="ModeBase">
    <string>
      <enumeration value="Auto"/>
      <enumeration value="Manual"/>
    </string>
  </dataType>
  <dataType name="Level">
    <int><range minInclusive="-10" maxInclusive="10"/></int>
  </dataType>
  <model name="Device:2.17">
    <object name="Device." access="readOnly" minEntries="1" maxEntries="1">
      <parameter name="RootDataModelVersion" access="readOnly" forcedInform="true">
        <syntax><string><size maxLength="32"/></string></syntax>
      </parameter>
      <parameter name="BoxNumberOfEntries" access="readOnly">
        <syntax><unsignedInt/></syntax>
      </parameter>
    </object>
    <object name="Device.DeviceInfo." access="readOnly" minEntries="1" maxEntries="1">
      <parameter name="SoftwareVersion" access="readOnly" activeNotify="forceEnabled" forcedInform="true">
        <syntax><string><size maxLength="64"/></string></syntax>
      </parameter>
      <parameter name="SerialNumber" access="readOnly">
        <syntax><string><size maxLength="64"/></string></syntax>
      </parameter>
      <parameter name="UpTime" access="readOnly" activeNotify="canDeny">
        <syntax><unsignedInt/></syntax>
      </parameter>
      <parameter name="OldThing" access="readOnly" status="deleted">
        <syntax><dataType ref="NoSuchTypeButDeleted"/></syntax>
      </parameter>
    </object>
    <object name="Device.Box.{i}." access="readWrite" minEntries="0" maxEntries="4"
        numEntriesParameter="BoxNumberOfEntries" enableParameter="Enable">
      <uniqueKey><parameter ref="Alias"/></uniqueKey>
      <parameter name="Alias" access="readWrite">
        <syntax><dataType ref="Alias"/></syntax>
      </parameter>
      <parameter name="Enable" access="readWrite">
        <syntax><boolean/><default type="object" value="true"/></syntax>
      </parameter>
      <parameter name="Address" access="writeOnceReadOnly">
        <syntax><dataType ref="IPv4Address"/></syntax>
      </parameter>
      <parameter name="Mode" access="readWrite">
        <syntax><dataType ref="Mode"/><default type="factory" value="Manual"/></syntax>
      </parameter>
      <parameter name="Gain" access="readWrite">
        <syntax><dataType base="Level"><units value="dB"/></dataType></syntax>
      </parameter>
      <parameter name="Retries" access="readWrite">
        <syntax><unsignedInt><range minInclusive="1" maxInclusive="8"/></unsignedInt></syntax>
      </parameter>
      <parameter name="Secret" access="readWrite">
        <syntax secured="true"><string><size maxLength="32"/></string></syntax>
      </parameter>
      <parameter name="Tags" access="readWrite">
        <syntax>
          <list maxItems="8"><size maxLength="256"/></list>
          <string>
            <size maxLength="16"/>
            <enumeration value="red"/>
            <enumeration value="blue"/>
          </string>
        </syntax>
      </parameter>
      <parameter name="BytesSent" access="readOnly">
        <syntax><dataType ref="StatsCounter64"/></syntax>
      </parameter>
      <parameter name="LastChange" access="readOnly">
        <syntax><dateTime/></syntax>
      </parameter>
      <parameter name="Ratio" access="readOnly">
        <syntax><decimal/></syntax>
      </parameter>
      <parameter name="Legacy" access="readOnly" status="obsoleted">
        <syntax><string/></syntax>
      </parameter>
    </object>
    <object name="Device.Gone." access="readOnly" minEntries="1" maxEntries="1" status="obsoleted">
      <parameter name="X" access="readOnly"><syntax><string/></syntax></parameter>
    </object>
    <object name="Device.Gone.Child." access="readOnly" minEntries="1" maxEntries="1">
      <parameter name="Y" access="readOnly"><syntax><string/></syntax></parameter>
    </object>
    <profile name="Box:1">
      <object ref="Device.Box.{i}." requirement="createDelete">
        <parameter ref="Enable" requirement="readWrite"/>
      </object>
    </profile>
  </model>
</dm:document>
"#;

fn snippet() -> TemplateFile {
    import_bbf_xml(
        SNIPPET,
        &BbfImportOptions {
            name: "snippet".into(),
            instances: 2,
            ..BbfImportOptions::default()
        },
    )
    .unwrap()
}

fn param<'a>(t: &'a TemplateFile, object: &str, name: &str) -> &'a ParamSpec {
    t.objects
        .get(object)
        .and_then(|o| o.parameters.get(name))
        .unwrap_or_else(|| panic!("no parameter {object}{name}"))
}

fn n(v: i64) -> Value {
    Value::Number(v.into())
}

#[test]
fn snippet_types_resolve_through_datatype_chains() {
    let t = snippet();
    let b = "Device.Box.{i}.";
    let address = param(&t, b, "Address");
    assert_eq!(address.kind.as_deref(), Some("string"));
    assert_eq!(
        address.max_length,
        Some(15),
        "IPv4Address narrows IPAddress"
    );
    assert!(address.writable, "writeOnceReadOnly is writable over CWMP");
    let mode = param(&t, b, "Mode");
    assert_eq!(
        mode.allowed,
        vec!["Auto", "Manual"],
        "Mode -> ModeBase (defined later)"
    );
    assert_eq!(
        mode.value,
        Some(Value::String("Manual".into())),
        "factory default"
    );
    let gain = param(&t, b, "Gain");
    assert_eq!(
        gain.kind.as_deref(),
        Some("int"),
        "anonymous dataType base=Level"
    );
    assert_eq!(gain.range, Some((-10, 10)));
    assert_eq!(gain.value, Some(n(0)));
    assert_eq!(
        param(&t, b, "BytesSent").kind.as_deref(),
        Some("unsignedLong")
    );
    assert_eq!(param(&t, b, "Ratio").kind.as_deref(), Some("decimal"));
    assert_eq!(param(&t, b, "Ratio").value, Some(n(0)));
    assert_eq!(
        param(&t, b, "LastChange").value,
        Some(Value::String("0001-01-01T00:00:00Z".into()))
    );
}

#[test]
fn snippet_facets_access_and_flags() {
    let t = snippet();
    let b = "Device.Box.{i}.";
    let retries = param(&t, b, "Retries");
    assert_eq!(retries.range, Some((1, 8)));
    assert_eq!(
        retries.value,
        Some(n(1)),
        "neutral value moved into the range"
    );
    let enable = param(&t, b, "Enable");
    assert_eq!(enable.value, Some(Value::Bool(true)), "object default");
    assert!(enable.writable);
    assert!(param(&t, b, "Secret").hidden, "secured reads back empty");
    let tags = param(&t, b, "Tags");
    assert_eq!(tags.kind.as_deref(), Some("string"));
    assert!(
        tags.allowed.is_empty(),
        "item enums do not apply to the list text"
    );
    assert_eq!(
        tags.max_length,
        Some(256),
        "the list's size, not the item's"
    );
    assert_eq!(
        param(&t, b, "Alias").gen,
        Some(GenSpec::Pattern("cpe-{i}".into()))
    );

    let sw = param(&t, "Device.DeviceInfo.", "SoftwareVersion");
    assert!(sw.forced_inform);
    assert_eq!(sw.active_notify.as_deref(), Some("forceEnabled"));
    assert_eq!(sw.notification, Some(2));
    let up = param(&t, "Device.DeviceInfo.", "UpTime");
    assert_eq!(up.active_notify.as_deref(), Some("canDeny"));
    assert_eq!(up.gen, Some(GenSpec::Uptime));
    assert_eq!(up.notification, None);
    let root = param(&t, "Device.", "RootDataModelVersion");
    assert!(root.forced_inform);
    assert_eq!(
        root.value,
        Some(Value::String("2.17".into())),
        "from the model name"
    );
}

#[test]
fn snippet_tables_and_dropped_items() {
    let t = snippet();
    let table = &t.objects["Device.Box.{i}."];
    assert!(table.writable);
    assert_eq!(table.instances, Some(2));
    assert_eq!(table.max_entries, Some(4));
    assert_eq!(param(&t, "Device.", "BoxNumberOfEntries").value, Some(n(2)));
    assert!(
        !table.parameters.contains_key("Legacy"),
        "obsoleted parameter"
    );
    assert!(!t.objects["Device.DeviceInfo."]
        .parameters
        .contains_key("OldThing"));
    assert!(
        !t.objects.keys().any(|k| k.starts_with("Device.Gone.")),
        "obsoleted object and its children"
    );
    assert!(
        !t.objects.contains_key("Device.Box."),
        "a table has no {{i}}-less object"
    );
    // Device. 2, DeviceInfo 3, and 11 per Box instance (Legacy dropped).
    assert_eq!(concrete_parameter_count(&t), 2 + 3 + 2 * 11);
}

#[test]
fn snippet_include_exclude_and_table_counts() {
    let opts = BbfImportOptions {
        include: vec!["Device.Box.".into()],
        table_instances: BTreeMap::from([("Device.Box.{i}.".into(), 3)]),
        ..BbfImportOptions::default()
    };
    let t = import_bbf_xml(SNIPPET, &opts).unwrap();
    let keys: Vec<&String> = t.objects.keys().collect();
    assert_eq!(
        keys,
        ["Device.", "Device.Box.{i}."],
        "the ancestor Device. comes along"
    );
    assert_eq!(t.objects["Device.Box.{i}."].instances, Some(3));
    assert_eq!(param(&t, "Device.", "BoxNumberOfEntries").value, Some(n(3)));

    let too_many = BbfImportOptions {
        table_instances: BTreeMap::from([("Device.Box.{i}.".into(), 5)]),
        ..BbfImportOptions::default()
    };
    let err = import_bbf_xml(SNIPPET, &too_many).unwrap_err();
    assert_eq!(err.label(), "options");
    let typo = BbfImportOptions {
        table_instances: BTreeMap::from([("Device.Bx.{i}.".into(), 1)]),
        ..BbfImportOptions::default()
    };
    assert!(import_bbf_xml(SNIPPET, &typo)
        .unwrap_err()
        .to_string()
        .contains("Device.Bx.{i}."));
    let nothing = BbfImportOptions {
        exclude: vec!["Device.".into()],
        ..BbfImportOptions::default()
    };
    assert_eq!(
        import_bbf_xml(SNIPPET, &nothing).unwrap_err().label(),
        "options"
    );
    let wrong_root = BbfImportOptions {
        root: Some("Device.WiFi.".into()),
        ..BbfImportOptions::default()
    };
    assert_eq!(
        import_bbf_xml(SNIPPET, &wrong_root).unwrap_err().label(),
        "options"
    );
}

#[test]
fn xml_errors_carry_positions() {
    let broken = SNIPPET.replace(
        "</object>\n    <object name=\"Device.DeviceInfo.\"",
        "</objet>\n    <object name=\"Device.DeviceInfo.\"",
    );
    let err = import_bbf_xml(&broken, &BbfImportOptions::default()).unwrap_err();
    assert_eq!(err.label(), "xml_syntax");
    let expected_line = SNIPPET
        .lines()
        .position(|l| l.contains("<object name=\"Device.DeviceInfo.\""))
        .unwrap(); // the </objet> line is the one before (1-based = index)
    assert_eq!(err.line(), Some(expected_line), "{err}");

    let unknown = SNIPPET.replace(
        "<dataType ref=\"StatsCounter64\"/>",
        "<dataType ref=\"Nope\"/>",
    );
    let err = import_bbf_xml(&unknown, &BbfImportOptions::default()).unwrap_err();
    assert_eq!(err.label(), "xml_model");
    let line = SNIPPET
        .lines()
        .position(|l| l.contains("name=\"BytesSent\""))
        .unwrap()
        + 1;
    assert_eq!(err.line(), Some(line), "{err}");
    assert!(err.to_string().contains("Nope"), "{err}");
    if let ImportError::XmlModel { column, byte, .. } = err {
        assert!(column >= 1 && byte > 0);
    }

    let no_model = import_bbf_xml("<dm:document/>", &BbfImportOptions::default()).unwrap_err();
    assert_eq!(no_model.label(), "options");
}

#[test]
fn service_models_mount_under_services() {
    let src = std::fs::read_to_string(TR104).unwrap();
    let opts = BbfImportOptions {
        include: vec!["Device.Services.VoiceService.{i}.POTS.".into()],
        instances: 0,
        table_instances: BTreeMap::from([
            ("Device.Services.VoiceService.{i}.".into(), 1),
            ("Device.Services.VoiceService.{i}.POTS.FXS.{i}.".into(), 2),
        ]),
        ..BbfImportOptions::default()
    };
    let bad_mount = BbfImportOptions {
        mount: "Device.Services".into(),
        ..opts.clone()
    };
    assert_eq!(
        import_bbf_xml(&src, &bad_mount).unwrap_err().label(),
        "options"
    );
    let t = import_bbf_xml(&src, &opts).unwrap();
    assert_eq!(t.root, "Device.");
    assert!(t.objects.contains_key("Device."));
    let counter = param(&t, "Device.Services.", "VoiceServiceNumberOfEntries");
    assert_eq!(counter.value, Some(n(1)));
    assert_eq!(counter.kind.as_deref(), Some("unsignedInt"));
    assert_eq!(
        t.objects["Device.Services.VoiceService.{i}.POTS.FXS.{i}."].instances,
        Some(2)
    );
    assert_eq!(
        param(
            &t,
            "Device.Services.VoiceService.{i}.POTS.",
            "FXSNumberOfEntries"
        )
        .value,
        Some(n(2))
    );
}

#[test]
fn real_tr181_with_an_include_list() {
    let src = std::fs::read_to_string(TR181).unwrap();
    let opts = BbfImportOptions {
        name: "wifi".into(),
        include: vec![
            "Device.DeviceInfo.".into(),
            "Device.ManagementServer.".into(),
            "Device.WiFi.".into(),
        ],
        table_instances: BTreeMap::from([("Device.WiFi.SSID.{i}.".into(), 2)]),
        ..BbfImportOptions::default()
    };
    let t = import_bbf_xml(&src, &opts).unwrap();
    assert_eq!(t.root, "Device.");
    assert!(t.objects.keys().all(|k| k == "Device."
        || k.starts_with("Device.DeviceInfo.")
        || k.starts_with("Device.ManagementServer.")
        || k.starts_with("Device.WiFi.")));
    // Obsoleted in 2.17, with all its sub-objects.
    assert!(!t
        .objects
        .keys()
        .any(|k| k.starts_with("Device.WiFi.MultiAP.")));
    // Deleted in 2.17.
    assert!(!t.objects["Device.ManagementServer.ManageableDevice.{i}."]
        .parameters
        .contains_key("Alias"));

    let mut forced: Vec<String> = t
        .objects
        .iter()
        .flat_map(|(o, s)| {
            s.parameters
                .iter()
                .filter(|(_, p)| p.forced_inform)
                .map(move |(n, _)| format!("{o}{n}"))
        })
        .collect();
    forced.sort();
    assert_eq!(
        forced,
        [
            "Device.DeviceInfo.HardwareVersion",
            "Device.DeviceInfo.ProvisioningCode",
            "Device.DeviceInfo.SoftwareVersion",
            "Device.ManagementServer.AliasBasedAddressing",
            "Device.ManagementServer.ConnectionRequestURL",
            "Device.ManagementServer.ParameterKey",
            "Device.RootDataModelVersion",
        ],
        "TR-106 forcedInform, Device:2.17 row"
    );

    let ssid = &t.objects["Device.WiFi.SSID.{i}."];
    assert!(ssid.writable);
    assert_eq!(ssid.instances, Some(2));
    assert_eq!(
        param(&t, "Device.WiFi.", "SSIDNumberOfEntries").value,
        Some(n(2))
    );
    let stats = "Device.WiFi.SSID.{i}.Stats.";
    assert_eq!(
        param(&t, stats, "BytesSent").kind.as_deref(),
        Some("unsignedLong")
    );
    assert_eq!(
        param(&t, stats, "ErrorsSent").kind.as_deref(),
        Some("unsignedInt")
    );
    let mac = param(&t, "Device.WiFi.SSID.{i}.", "MACAddress");
    assert_eq!(
        (mac.kind.as_deref(), mac.max_length),
        (Some("string"), Some(17))
    );
    assert!(param(&t, "Device.ManagementServer.", "Password").hidden);
    let interval = param(&t, "Device.ManagementServer.", "PeriodicInformInterval");
    assert_eq!(interval.range, Some((1, i64::from(u32::MAX))));
    let status = param(&t, "Device.WiFi.SSID.{i}.", "Status");
    assert!(status.allowed.contains(&"LowerLayerDown".to_string()));
    // The model's object default, which is one of the enumeration.
    assert_eq!(status.value, Some(Value::String("Down".into())));

    // Every value the importer chose fits the parameter's own restrictions.
    for (o, spec) in &t.objects {
        for (name, p) in &spec.parameters {
            if let Some(Value::String(v)) = &p.value {
                if !p.allowed.is_empty() {
                    assert!(p.allowed.contains(v), "{o}{name} = {v:?}");
                }
                if let Some(max) = p.max_length {
                    assert!(v.len() <= max as usize, "{o}{name}");
                }
            }
            if let (Some(Value::Number(v)), Some((lo, hi))) = (&p.value, p.range) {
                let v = v.as_i64().unwrap();
                assert!(
                    (lo..=hi).contains(&v),
                    "{o}{name} = {v} outside [{lo}, {hi}]"
                );
            }
        }
    }
    let back: TemplateFile = serde_yaml::from_str(&write_yaml(&t).unwrap()).unwrap();
    assert_eq!(back, t);
}
