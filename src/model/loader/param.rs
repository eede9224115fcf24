//! One parameter spec -> [`ParamDef`]: its type, flags and notification attributes, allowed
//! values, role and default or generator.

use super::{fail, join, Fail};
use crate::cwmp::XsdType;
use crate::model::error::Problem;
use crate::model::file::ParamSpec;
use crate::model::generate::{salt, Gen};
use crate::model::template::{flag, ObjId, ParamDef, Role, Source};

pub(super) fn compile_param(
    obj_path: &str,
    name: &str,
    p: &ParamSpec,
    obj: ObjId,
    depth: usize,
    root: &str,
) -> Result<ParamDef, Fail> {
    let at = ["objects", obj_path, "parameters", name];
    let kind_name = p
        .kind
        .as_deref()
        .ok_or_else(|| fail(Problem::Type, &at, format!("{name} has no type")))?;
    let kind = XsdType::from_tr106(kind_name).ok_or_else(|| {
        fail(
            Problem::Type,
            &join(&at, "type"),
            format!(
                "unknown type {kind_name:?} (string, int, unsignedInt, long, unsignedLong, \
                 boolean, dateTime, base64, hexBinary, decimal)"
            ),
        )
    })?;
    let (flags, notification) = flags_and_notification(p, &at)?;
    check_access_list(p, &at)?;
    let allowed = allowed_values(p, kind, kind_name, &at)?;
    check_range_and_length(p, kind, kind_name, &at)?;
    let path = format!("{obj_path}{name}");
    let role = role_of(path.strip_prefix(root).unwrap_or(&path), name);
    let mut def = ParamDef {
        salt: salt(&path),
        path: path.into_boxed_str(),
        obj,
        kind,
        flags,
        notification,
        access_list: p.access_list.iter().map(|s| s.as_str().into()).collect(),
        source: Source::Null,
        allowed,
        range: p.range,
        max_length: p.max_length,
        role,
    };
    def.source = value_source(p, kind, depth, &at)?;
    if let Source::Literal(v) = &def.source {
        if !def.admits(v) {
            return Err(fail(
                Problem::Value,
                &join(&at, "value"),
                format!("default {v:?} is outside {name}'s enum/range/max_length"),
            ));
        }
    }
    Ok(def)
}

/// The parameter's flags and its default notification (0 off, 1 passive, 2 active), with
/// what `active_notify` forces or forbids.
fn flags_and_notification(p: &ParamSpec, at: &[&str]) -> Result<(u8, u8), Fail> {
    let mut flags = 0u8;
    if p.writable {
        flags |= flag::WRITABLE;
    }
    if p.forced_inform {
        flags |= flag::FORCED_INFORM;
    }
    if p.hidden {
        flags |= flag::HIDDEN;
    }
    let mut notification = p.notification.unwrap_or(0);
    if notification > 2 {
        return Err(fail(
            Problem::Attribute,
            &join(at, "notification"),
            format!("notification {notification} must be 0 (off), 1 (passive) or 2 (active)"),
        ));
    }
    match p.active_notify.as_deref() {
        None | Some("normal") => {}
        Some("canDeny") => flags |= flag::CAN_DENY,
        Some("forceEnabled") => {
            flags |= flag::FORCE_ENABLED;
            notification = 2;
        }
        Some("forceDefaultEnabled") => {
            if p.notification.is_none() {
                notification = 2;
            }
        }
        Some(other) => {
            return Err(fail(
                Problem::Attribute,
                &join(at, "active_notify"),
                format!(
                    "active_notify {other:?} is not normal, forceEnabled, forceDefaultEnabled \
                     or canDeny"
                ),
            ))
        }
    }
    if flags & flag::CAN_DENY != 0 && notification == 2 {
        return Err(fail(
            Problem::Attribute,
            &join(at, "notification"),
            "a canDeny parameter cannot default to active notification",
        ));
    }
    Ok((flags, notification))
}

/// "Subscriber" is the only access-list entry TR-069 defines.
fn check_access_list(p: &ParamSpec, at: &[&str]) -> Result<(), Fail> {
    for a in &p.access_list {
        if a != "Subscriber" {
            return Err(fail(
                Problem::Attribute,
                &join(at, "access_list"),
                format!("access list entry {a:?}: only \"Subscriber\" is defined"),
            ));
        }
    }
    Ok(())
}

/// The enum values, each valid for the type and in its canonical form.
fn allowed_values(
    p: &ParamSpec,
    kind: XsdType,
    kind_name: &str,
    at: &[&str],
) -> Result<Box<[Box<str>]>, Fail> {
    let mut allowed = Vec::with_capacity(p.allowed.len());
    for v in &p.allowed {
        let c = kind.canonical(v).ok_or_else(|| {
            fail(
                Problem::Value,
                &join(at, "enum"),
                format!("enum value {v:?} is not a valid {kind_name}"),
            )
        })?;
        allowed.push(c.into_boxed_str());
    }
    Ok(allowed.into_boxed_slice())
}

/// A range only on integer types, within the type; a maximum length only on string-like types.
fn check_range_and_length(
    p: &ParamSpec,
    kind: XsdType,
    kind_name: &str,
    at: &[&str],
) -> Result<(), Fail> {
    if let Some((lo, hi)) = p.range {
        let numeric = matches!(
            kind,
            XsdType::Int | XsdType::UnsignedInt | XsdType::Long | XsdType::UnsignedLong
        );
        if !numeric || lo > hi || !kind.is_valid(&lo.to_string()) || !kind.is_valid(&hi.to_string())
        {
            return Err(fail(
                Problem::Value,
                &join(at, "range"),
                format!("range [{lo}, {hi}] is not a valid range of {kind_name}"),
            ));
        }
    }
    if p.max_length.is_some()
        && !matches!(kind, XsdType::String | XsdType::Base64 | XsdType::HexBinary)
    {
        return Err(fail(
            Problem::Attribute,
            &join(at, "max_length"),
            format!("max_length does not apply to {kind_name}"),
        ));
    }
    Ok(())
}

/// What the device does with the parameter, by its path below the root.
fn role_of(rel: &str, name: &str) -> Role {
    match rel {
        "ManagementServer.ParameterKey" => Role::ParameterKey,
        "ManagementServer.PeriodicInformEnable"
        | "ManagementServer.PeriodicInformInterval"
        | "ManagementServer.PeriodicInformTime" => Role::PeriodicInform,
        "ManagementServer.URL" => Role::AcsUrl,
        "ManagementServer.ConnectionRequestUsername"
        | "ManagementServer.ConnectionRequestPassword" => Role::CrCredentials,
        "ManagementServer.UDPConnectionRequestAddress" => Role::UdpCrAddress,
        "ManagementServer.NATDetected" => Role::NatDetected,
        "ManagementServer.STUNEnable" => Role::StunEnable,
        _ if name == "DiagnosticsState" => Role::DiagnosticsState,
        _ => Role::None,
    }
}

/// The literal or generator of a parameter spec, checked against the type.
pub(super) fn value_source(
    p: &ParamSpec,
    kind: XsdType,
    depth: usize,
    at: &[&str],
) -> Result<Source, Fail> {
    match (&p.value, &p.gen) {
        (Some(_), Some(_)) => Err(fail(
            Problem::Generator,
            &join(at, "gen"),
            "value and gen are exclusive",
        )),
        (None, None) => Ok(Source::Null),
        (None, Some(g)) => Gen::compile(g, kind, depth)
            .map(Source::Gen)
            .map_err(|m| fail(Problem::Generator, &join(at, "gen"), m)),
        (Some(v), None) => {
            let text = match v {
                serde_yaml::Value::Null => String::new(),
                serde_yaml::Value::Bool(b) => b.to_string(),
                serde_yaml::Value::Number(n) => n.to_string(),
                serde_yaml::Value::String(s) => s.clone(),
                _ => {
                    return Err(fail(
                        Problem::Value,
                        &join(at, "value"),
                        "value must be a scalar",
                    ))
                }
            };
            kind.canonical(&text)
                .map(|c| Source::Literal(c.into_boxed_str()))
                .ok_or_else(|| {
                    fail(
                        Problem::Value,
                        &join(at, "value"),
                        format!("{text:?} is not a valid {}", kind.tr106()),
                    )
                })
        }
    }
}
