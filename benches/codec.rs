//! Codec throughput on the messages a fleet exchanges most: Inform and InformResponse,
//! GenieACS's 32-name GPV and its answer, SPV, GPN response, AddObject, Fault. Encode benches
//! reuse one buffer, as the session layer does.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use cpefleet::cwmp::sample;
use cpefleet::cwmp::{
    decode_acs, decode_cpe, encode_acs, encode_cpe, AcsMessage, AcsRequest, AcsResponse, AddObject,
    CpeMessage, CpeResponse, CwmpVersion, Envelope, EventCode, EventStruct, Fault,
    GetParameterNamesResponse, GetParameterValues, Header, InformResponse, ParameterInfoStruct,
    SetParameterValuesFault,
};

fn acs_env(req: AcsRequest) -> Envelope<AcsMessage> {
    Envelope::new(
        CwmpVersion::V1_0,
        Header::with_id("1a2137f31190000"),
        AcsMessage::Request(req),
    )
}

fn bench_cpe(c: &mut Criterion, name: &str, env: &Envelope<CpeMessage>) {
    let mut buf = Vec::with_capacity(16 * 1024);
    encode_cpe(env, &mut buf);
    let bytes = buf.clone();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("encode", |b| {
        b.iter(|| {
            buf.clear();
            encode_cpe(black_box(env), &mut buf);
            black_box(buf.len())
        })
    });
    g.bench_function("decode", |b| {
        b.iter(|| decode_cpe(black_box(&bytes)).map(|e| e.version))
    });
    g.finish();
}

fn bench_acs(c: &mut Criterion, name: &str, env: &Envelope<AcsMessage>) {
    let mut buf = Vec::with_capacity(16 * 1024);
    encode_acs(env, &mut buf);
    let bytes = buf.clone();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("encode", |b| {
        b.iter(|| {
            buf.clear();
            encode_acs(black_box(env), &mut buf);
            black_box(buf.len())
        })
    });
    g.bench_function("decode", |b| {
        b.iter(|| decode_acs(black_box(&bytes)).map(|e| e.version))
    });
    g.finish();
}

fn codec(c: &mut Criterion) {
    let events = vec![
        EventStruct::new(EventCode::Periodic, ""),
        EventStruct::new(EventCode::ValueChange, ""),
    ];
    bench_cpe(
        c,
        "inform_30_params",
        &sample::inform(CwmpVersion::V1_0, events, 30),
    );

    // The ACS's half of every minimal session (decoded once per session by the fleet).
    let ir = Envelope::new(
        CwmpVersion::V1_0,
        Header::with_id("1a2137f31190000"),
        AcsMessage::Response(AcsResponse::InformResponse(InformResponse {
            max_envelopes: 1,
        })),
    );
    bench_acs(c, "inform_response", &ir);

    let gpv = acs_env(AcsRequest::GetParameterValues(GetParameterValues {
        parameter_names: sample::gpv_names(32),
    }));
    bench_acs(c, "gpv_request_32_names", &gpv);
    bench_cpe(
        c,
        "gpv_response_32_values",
        &sample::gpv_response(CwmpVersion::V1_0, 32),
    );

    let spv = sample::acs_requests(CwmpVersion::V1_0)
        .into_iter()
        .find(|r| matches!(r, AcsRequest::SetParameterValues(_)))
        .map(acs_env)
        .expect("sample SPV");
    bench_acs(c, "spv_request_5_values", &spv);

    let gpn = GetParameterNamesResponse {
        parameter_list: (0..20)
            .map(|i| ParameterInfoStruct {
                name: format!("InternetGatewayDevice.LANDevice.1.Hosts.Host.{i}."),
                writable: i % 3 == 0,
            })
            .collect(),
    };
    let gpn = Envelope::new(
        CwmpVersion::V1_0,
        Header::with_id("1a2137f31190001"),
        CpeMessage::Response(CpeResponse::GetParameterNamesResponse(gpn)),
    );
    bench_cpe(c, "gpn_response_20_names", &gpn);

    let add = acs_env(AcsRequest::AddObject(AddObject {
        object_name:
            "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.PortMapping."
                .into(),
        parameter_key: String::new(),
    }));
    bench_acs(c, "add_object_request", &add);

    let fault = Fault {
        set_parameter_values_faults: vec![
            SetParameterValuesFault::new(
                "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.Channel",
                9007,
            ),
            SetParameterValuesFault::new("InternetGatewayDevice.DeviceInfo.UpTime", 9008),
        ],
        ..Fault::new(9003)
    };
    let fault = Envelope::new(
        CwmpVersion::V1_0,
        Header::with_id("1a2137f31190002"),
        CpeMessage::Fault(fault),
    );
    bench_cpe(c, "spv_fault_9003", &fault);
}

criterion_group!(benches, codec);
criterion_main!(benches);
