//! Group-level values: a copy of a template in which some parameters of an untouched device
//! read as a pattern of the device index instead of the file's default.
//!
//! Why: some values are the same rule for every device of a scenario group but not part of the
//! data model file — an XMPP group's ConnReqJabberID (`cpe{index}@domain/cwmp`, TR-069
//! Annex K), its ConnReqAllowedJabberIDs and its XMPP.Connection settings. Stored once per
//! group, as the template's own per-instance overrides, they cost no byte per device (a device
//! holds only what the ACS or the device itself later writes), which is what keeps a million
//! devices reachable through one XMPP component within the memory budget.

use super::file::GenSpec;
use super::generate::Gen;
use super::template::{Node, Source, Template};

impl Template {
    /// This template with `values` (concrete parameter path, value pattern as in a file's
    /// `gen: { pattern }`: `{index}` is the device index, `{{`/`}}` literal braces) read by
    /// every untouched device. Errors name the path.
    pub fn with_values(&self, values: &[(String, String)]) -> Result<Template, String> {
        let mut t = self.clone();
        let mut overrides = t.overrides.to_vec();
        for (path, pattern) in values {
            let Some((Node::Param(pid), inst)) = t.resolve(path) else {
                return Err(format!("{path}: no such parameter in template {}", t.name));
            };
            if !t.is_initial_chain(pid, &inst) {
                return Err(format!("{path}: no such instance in template {}", t.name));
            }
            let def = t
                .param(pid)
                .ok_or_else(|| format!("{path}: no such parameter"))?;
            let depth = t.object(def.obj).map_or(0, |o| o.depth);
            let gen = Gen::compile(&GenSpec::Pattern(pattern.clone()), def.kind, depth)
                .map_err(|e| format!("{path}: {e}"))?;
            let source = match gen {
                // A pattern without placeholders is a literal: read without evaluating.
                Gen::Pattern(p)
                    if p.iter()
                        .all(|x| matches!(x, super::generate::Piece::Lit(_))) =>
                {
                    let lit: String = p
                        .iter()
                        .filter_map(|x| match x {
                            super::generate::Piece::Lit(s) => Some(&**s),
                            _ => None,
                        })
                        .collect();
                    let canonical = def.kind.canonical(&lit).ok_or_else(|| {
                        format!("{path}: {lit:?} is not a valid {}", def.kind.tr106())
                    })?;
                    Source::Literal(canonical.into())
                }
                g => Source::Gen(g),
            };
            overrides.retain(|(k, _)| *k != (pid, inst));
            overrides.push(((pid, inst), source));
        }
        overrides.sort_by_key(|a| a.0);
        t.overrides = overrides.into_boxed_slice();
        Ok(t)
    }

    /// Whether every table instance on the path to this parameter exists in an untouched device.
    fn is_initial_chain(&self, pid: super::ParamId, inst: &super::path::Inst) -> bool {
        let mut obj = self.param(pid).map(|p| p.obj);
        while let Some(o) = obj.and_then(|o| self.object(o)) {
            if o.table.is_some() {
                let Some(id) = obj else { return false };
                if !self.is_initial(id, &inst.truncate(o.depth)) {
                    return false;
                }
            }
            obj = o.parent;
        }
        true
    }
}
