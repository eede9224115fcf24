//! Model/device hot paths on a large generated template (~800 concrete parameters):
//! GetParameterValues over a partial path and over 32 names (GenieACS batches 32),
//! SetParameterValues, building an Inform, and the same partial GPV on a device whose
//! instances changed (schema walk instead of the sorted table).

use std::fmt::Write;
use std::hint::black_box;

use cpefleet::cwmp::{
    AcsRequest, AddObject, DateTime, EventCode, EventStruct, GetParameterValues,
    ParameterValueStruct, SetParameterValues,
};
use cpefleet::device::{Device, DeviceView, Env};
use cpefleet::model::Template;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

fn table(out: &mut String, path: &str, instances: u32, params: usize, prefix: &str) {
    let _ = writeln!(
        out,
        "  {path}{{i}}.:\n    writable: true\n    instances: {instances}\n    parameters:"
    );
    for k in 0..params {
        let line = match k % 4 {
            0 => format!("      {prefix}Enable{k}: {{ type: boolean, value: true, writable: true }}"),
            1 => format!(
                "      {prefix}Bytes{k}: {{ type: unsignedLong, gen: {{ counter: {{ rate_per_s: 100 }} }} }}"
            ),
            2 => format!(
                "      {prefix}Name{k}: {{ type: string, gen: {{ pattern: \"{prefix}-{{index}}-{{i}}\" }}, writable: true }}"
            ),
            _ => format!("      {prefix}Level{k}: {{ type: int, value: -40, writable: true }}"),
        };
        let _ = writeln!(out, "{line}");
    }
}

fn large_template() -> Template {
    let mut y = String::from(
        "name: bench\nroot: Device.\ncwmp_version: \"1.4\"\nobjects:\n  Device.DeviceInfo.:\n    parameters:\n      Manufacturer: { type: string, value: cpefleet }\n      ManufacturerOUI: { type: string, value: 0A1B2C }\n      ProductClass: { type: string, value: BENCH }\n      SerialNumber: { type: string, gen: { pattern: \"CPF{index:08}\" } }\n      SoftwareVersion: { type: string, value: \"1.0\", forced_inform: true, active_notify: forceEnabled }\n      HardwareVersion: { type: string, value: hw, forced_inform: true }\n      ProvisioningCode: { type: string, value: \"\", forced_inform: true, writable: true }\n      UpTime: { type: unsignedInt, gen: uptime }\n",
    );
    for k in 0..12 {
        let _ = writeln!(
            y,
            "      Extra{k}: {{ type: string, value: \"x{k}\", writable: true }}"
        );
    }
    y.push_str(
        "  Device.ManagementServer.:\n    parameters:\n      URL: { type: string, value: \"http://acs:7547/\", writable: true }\n      PeriodicInformEnable: { type: boolean, value: true, writable: true }\n      PeriodicInformInterval: { type: unsignedInt, value: 300, writable: true }\n      ParameterKey: { type: string, value: \"\", forced_inform: true }\n      ConnectionRequestURL: { type: string, gen: connection_request_url, forced_inform: true }\n",
    );
    table(&mut y, "Device.WiFi.Radio.", 2, 25, "R");
    table(&mut y, "Device.WiFi.SSID.", 4, 30, "S");
    table(&mut y, "Device.WiFi.AccessPoint.", 4, 20, "A");
    table(&mut y, "Device.Ethernet.Interface.", 4, 20, "E");
    table(&mut y, "Device.Hosts.Host.", 16, 15, "H");
    for o in 0..20 {
        let _ = writeln!(y, "  Device.Obj{o}.:\n    parameters:");
        for k in 0..10 {
            let _ = writeln!(
                y,
                "      P{k}: {{ type: unsignedInt, value: {k}, writable: true }}"
            );
        }
    }
    Template::from_yaml_str(&y, "bench.yaml").expect("bench template")
}

fn env() -> Env<'static> {
    Env {
        seed: 1,
        now: DateTime::from_unix_ms(1_800_000_000_000),
        cr_url_base: "http://127.0.0.1:7548",
        udp: None,
    }
}

fn gpv(names: Vec<String>) -> AcsRequest {
    AcsRequest::GetParameterValues(GetParameterValues {
        parameter_names: names,
    })
}

fn bench(c: &mut Criterion) {
    let t = large_template();
    eprintln!("bench template: {} parameters", t.parameter_count());
    let e = env();

    let wifi = gpv(vec!["Device.WiFi.".into()]);
    c.bench_function("gpv_partial_wifi", |b| {
        let mut d = Device::new(42);
        b.iter(|| black_box(DeviceView::new(&t, &mut d, &e).apply(black_box(&wifi))))
    });

    let names: Vec<String> = t
        .paths()
        .filter(|p| !p.ends_with('.'))
        .step_by(23)
        .take(32)
        .map(String::from)
        .collect();
    assert_eq!(names.len(), 32);
    let batch = gpv(names);
    c.bench_function("gpv_32_names", |b| {
        let mut d = Device::new(42);
        b.iter(|| black_box(DeviceView::new(&t, &mut d, &e).apply(black_box(&batch))))
    });

    let spv = AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list: vec![
            ParameterValueStruct {
                name: "Device.ManagementServer.PeriodicInformInterval".into(),
                value: "600".into(),
                kind: None,
            },
            ParameterValueStruct {
                name: "Device.WiFi.SSID.2.SName2".into(),
                value: "guest".into(),
                kind: None,
            },
            ParameterValueStruct {
                name: "Device.WiFi.SSID.1.SEnable0".into(),
                value: "0".into(),
                kind: None,
            },
        ],
        parameter_key: "bench".into(),
    });
    c.bench_function("spv_apply_3", |b| {
        b.iter_batched(
            || Device::new(42),
            |mut d| black_box(DeviceView::new(&t, &mut d, &e).apply(black_box(&spv))),
            BatchSize::SmallInput,
        )
    });

    c.bench_function("inform_build", |b| {
        let mut d = Device::new(42);
        b.iter(|| {
            let v = DeviceView::new(&t, &mut d, &e);
            black_box(v.inform(vec![EventStruct::new(EventCode::Periodic, "")], 0))
        })
    });

    // The shipped TR-181 gateway (the template the fleet figures are measured with).
    let real = Template::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml"),
    )
    .expect("data-models/tr181-gateway.yaml");
    eprintln!("tr181-gateway: {} parameters", real.parameter_count());
    for (name, path) in [
        ("tr181_gpv_partial_wifi", "Device.WiFi."),
        ("tr181_gpv_partial_ip", "Device.IP."),
        ("tr181_gpv_whole_tree", "Device."),
    ] {
        let req = gpv(vec![path.into()]);
        c.bench_function(name, |b| {
            let mut d = Device::new(42);
            b.iter(|| black_box(DeviceView::new(&real, &mut d, &e).apply(black_box(&req))))
        });
    }
    let real_names: Vec<String> = real
        .paths()
        .filter(|p| !p.ends_with('.'))
        .step_by(37)
        .take(32)
        .map(String::from)
        .collect();
    let real_batch = gpv(real_names);
    c.bench_function("tr181_gpv_32_names", |b| {
        let mut d = Device::new(42);
        b.iter(|| black_box(DeviceView::new(&real, &mut d, &e).apply(black_box(&real_batch))))
    });
    c.bench_function("tr181_inform_build", |b| {
        let mut d = Device::new(42);
        b.iter(|| {
            let v = DeviceView::new(&real, &mut d, &e);
            black_box(v.inform(vec![EventStruct::new(EventCode::Periodic, "")], 0))
        })
    });

    let mut walked = Device::new(42);
    let add = AcsRequest::AddObject(AddObject {
        object_name: "Device.Hosts.Host.".into(),
        parameter_key: "k".into(),
    });
    DeviceView::new(&t, &mut walked, &e).apply(&add);
    c.bench_function("gpv_partial_wifi_after_add_object", |b| {
        b.iter(|| black_box(DeviceView::new(&t, &mut walked, &e).apply(black_box(&wifi))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
