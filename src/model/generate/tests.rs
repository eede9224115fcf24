use super::*;
use crate::cwmp::XsdType;
use crate::model::file::GenSpec;

fn ctx_for<'a>(index: u32, inst: &'a [u32], ident: &'a dyn Fn(Ident) -> String) -> GenCtx<'a> {
    GenCtx {
        seed: 42,
        index,
        inst,
        now: DateTime::from_unix_ms(1_700_000_100_000),
        boot: DateTime::from_unix_ms(1_700_000_000_000),
        salt: salt("Device.X.Y"),
        cr_url_base: "http://127.0.0.1:7548/",
        ident,
    }
}

fn no_ident(_: Ident) -> String {
    String::new()
}

fn gen(spec: GenSpec, kind: XsdType) -> Gen {
    Gen::compile(&spec, kind, 2).unwrap()
}

#[test]
fn pattern_placeholders() {
    let g = gen(
        GenSpec::Pattern("S{index:08}-{index:x}-{index:X6}-{i}-{i1}-{{x}}".into()),
        XsdType::String,
    );
    let ident = no_ident;
    assert_eq!(
        g.eval(&ctx_for(255, &[3, 7], &ident)),
        "S00000255-ff-0000FF-7-3-{x}"
    );
    let g = gen(
        GenSpec::Pattern("{serial}/{oui}/{product_class}".into()),
        XsdType::String,
    );
    let ident = |id: Ident| format!("{id:?}");
    assert_eq!(g.eval(&ctx_for(1, &[], &ident)), "Serial/Oui/ProductClass");
}

#[test]
fn pattern_errors() {
    for bad in [
        "{nope}",
        "{index:q}",
        "{i3}",
        "{rand:0}",
        "{rand:x}",
        "a{b",
        "a}b",
    ] {
        assert!(
            Gen::compile(&GenSpec::Pattern(bad.into()), XsdType::String, 2).is_err(),
            "{bad}"
        );
    }
    assert!(Gen::compile(&GenSpec::Pattern("{i}".into()), XsdType::String, 0).is_err());
    // numeric pattern on a numeric type is fine, a non-numeric one is not
    assert!(Gen::compile(&GenSpec::Pattern("{index}".into()), XsdType::UnsignedInt, 0).is_ok());
    assert!(Gen::compile(
        &GenSpec::Pattern("x{index}".into()),
        XsdType::UnsignedInt,
        0
    )
    .is_err());
}

#[test]
fn rand_is_deterministic_per_seed_and_index() {
    let g = gen(GenSpec::Pattern("{rand:20}".into()), XsdType::String);
    let ident = no_ident;
    let a = g.eval(&ctx_for(7, &[], &ident));
    assert_eq!(a.len(), 20);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(a, g.eval(&ctx_for(7, &[], &ident)));
    assert_ne!(a, g.eval(&ctx_for(8, &[], &ident)));
    let mut other_seed = ctx_for(7, &[], &ident);
    other_seed.seed = 43;
    assert_ne!(a, g.eval(&other_seed));
}

#[test]
fn mac_shape() {
    let g = gen(
        GenSpec::Mac {
            oui: "0a1b2c".into(),
            offset: 1,
            stride: 2,
        },
        XsdType::String,
    );
    let ident = no_ident;
    let m = g.eval(&ctx_for(0x10, &[], &ident));
    assert_eq!(m, "0A:1B:2C:00:00:21");
    // wraps in the low 24 bits
    let m = g.eval(&ctx_for(0x0080_0000, &[], &ident));
    assert_eq!(m, "0A:1B:2C:00:00:01");
    assert!(Gen::compile(
        &GenSpec::Mac {
            oui: "0A1B2".into(),
            offset: 0,
            stride: 1
        },
        XsdType::String,
        0
    )
    .is_err());
}

#[test]
fn ipv4_shape_and_wrap() {
    let g = gen(
        GenSpec::Ipv4 {
            prefix: "10.20.0.0/16".into(),
            offset: 0,
            stride: 1,
        },
        XsdType::String,
    );
    let ident = no_ident;
    assert_eq!(g.eval(&ctx_for(0, &[], &ident)), "10.20.0.1");
    assert_eq!(g.eval(&ctx_for(300, &[], &ident)), "10.20.1.45");
    assert_eq!(g.eval(&ctx_for(65535, &[], &ident)), "10.20.0.0");
    let ip: Ipv4Addr = g.eval(&ctx_for(123_456, &[], &ident)).parse().unwrap();
    assert_eq!(
        u32::from(ip) >> 16,
        u32::from(Ipv4Addr::new(10, 20, 0, 0)) >> 16
    );
    for bad in ["10.0.0.0", "10.0.0.0/33", "x/8"] {
        assert!(Gen::compile(
            &GenSpec::Ipv4 {
                prefix: bad.into(),
                offset: 0,
                stride: 1
            },
            XsdType::String,
            0
        )
        .is_err());
    }
}

#[test]
fn ipv6_shape() {
    let g = gen(
        GenSpec::Ipv6 {
            prefix: "2001:db8:1::/48".into(),
            offset: 0,
            stride: 0x1_0000,
        },
        XsdType::String,
    );
    let ident = no_ident;
    assert_eq!(g.eval(&ctx_for(2, &[], &ident)), "2001:db8:1::2:1");
    let ip: Ipv6Addr = g.eval(&ctx_for(99, &[], &ident)).parse().unwrap();
    assert_eq!(ip.segments()[..3], [0x2001, 0xdb8, 1]);
}

#[test]
fn uptime_counter_now_cr_url() {
    let ident = no_ident;
    let c = ctx_for(5, &[], &ident);
    assert_eq!(gen(GenSpec::Uptime, XsdType::UnsignedInt).eval(&c), "100");
    assert_eq!(
        gen(GenSpec::Now, XsdType::DateTime).eval(&c),
        c.now.format()
    );
    assert_eq!(
        gen(GenSpec::ConnectionRequestUrl, XsdType::String).eval(&c),
        "http://127.0.0.1:7548/cr/5"
    );
    let counter = gen(
        GenSpec::Counter {
            start: 1000,
            rate_per_s: 10.0,
        },
        XsdType::UnsignedLong,
    );
    let v: u64 = counter.eval(&c).parse().unwrap();
    // start + 10/s * 100 s + jitter below a minute's worth
    assert!((2000..2600).contains(&v), "{v}");
    let later = GenCtx {
        now: DateTime::from_unix_ms(1_700_000_200_000),
        ..ctx_for(5, &[], &ident)
    };
    let w: u64 = counter.eval(&later).parse().unwrap();
    assert_eq!(w - v, 1000);
    // unsignedInt counters wrap like StatsCounter32
    let c32 = gen(
        GenSpec::Counter {
            start: u64::from(u32::MAX),
            rate_per_s: 0.0,
        },
        XsdType::UnsignedInt,
    );
    assert_eq!(c32.eval(&c), u32::MAX.to_string());
    assert!(Gen::compile(&GenSpec::Uptime, XsdType::String, 0).is_err());
    assert!(Gen::compile(&GenSpec::Now, XsdType::String, 0).is_err());
    assert!(Gen::compile(
        &GenSpec::Counter {
            start: 0,
            rate_per_s: f64::NAN
        },
        XsdType::UnsignedInt,
        0
    )
    .is_err());
}

#[test]
fn choice_and_random_are_stable_and_in_range() {
    let ident = no_ident;
    let choice = gen(
        GenSpec::Choice(vec!["a".into(), "b".into(), "c".into()]),
        XsdType::String,
    );
    let random = gen(GenSpec::Random { min: -5, max: 5 }, XsdType::Int);
    let mut seen = std::collections::HashSet::new();
    for i in 0..200 {
        let c = ctx_for(i, &[], &ident);
        let v = choice.eval(&c);
        assert_eq!(v, choice.eval(&c));
        seen.insert(v);
        let r: i64 = random.eval(&c).parse().unwrap();
        assert!((-5..=5).contains(&r));
    }
    assert_eq!(seen.len(), 3);
    assert!(Gen::compile(
        &GenSpec::Random {
            min: 0,
            max: 1 << 40
        },
        XsdType::UnsignedInt,
        0
    )
    .is_err());
    assert!(Gen::compile(&GenSpec::Random { min: 2, max: 1 }, XsdType::Int, 0).is_err());
    assert!(Gen::compile(&GenSpec::Choice(vec!["x".into()]), XsdType::Boolean, 0).is_err());
    assert!(Gen::compile(&GenSpec::Choice(vec![]), XsdType::String, 0).is_err());
}

#[test]
fn cr_path_round_trip() {
    assert_eq!(device_from_cr_path(&cr_path(123)), Some(123));
    assert_eq!(device_from_cr_path("/cr/7"), Some(7));
    assert_eq!(device_from_cr_path("cr/x"), None);
    assert_eq!(device_from_cr_path("cr/"), None);
}
