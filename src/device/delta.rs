//! What one device has that its template does not: values and attributes the ACS (or a local
//! change) wrote, added and deleted instances, the ParameterKey, queued transfers and the value
//! changes awaiting the next Inform. Allocated only on the first write, so an idle fleet
//! stores none of this.
//!
//! Keys are compact: a parameter definition id plus its fixed-size instance numbers, no path
//! strings. Vectors are kept sorted by key and searched by bisection; a touched device has a
//! handful of entries, so this beats a map in both size and speed.

use crate::model::path::Inst;
use crate::model::{ObjId, ParamId};

/// A concrete parameter: its definition and its instance numbers.
pub type Key = (ParamId, Inst);

/// A concrete table instance: the table's definition and its full instance numbers.
pub type InstanceRef = (ObjId, Inst);

/// Notification and access list that differ from the template's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub notification: u8,
    pub access_list: Box<[Box<str>]>,
}

/// A transfer accepted by Download/Upload/ScheduleDownload and not yet reported complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedTransfer {
    pub command_key: String,
    pub is_download: bool,
    pub file_type: String,
    pub file_size: u32,
    pub target_file_name: String,
    /// 1 not yet started, 2 in progress, 3 completed (GetQueuedTransfers' State).
    pub state: u32,
}

/// At most this many queued transfers (GetQueuedTransfers allows 16); more is fault 9004.
pub const MAX_QUEUED_TRANSFERS: usize = 16;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    pub(crate) values: Vec<(Key, Box<str>)>,
    pub(crate) attrs: Vec<(Key, Attr)>,
    /// Instances the ACS added (sorted).
    pub(crate) added: Vec<InstanceRef>,
    /// Initial (template) instances the ACS deleted (sorted).
    pub(crate) deleted: Vec<InstanceRef>,
    /// Per table and parent instance: the highest instance number ever assigned, so numbers
    /// are never reused (TR-069 A.3.2.6).
    pub(crate) last_assigned: Vec<(InstanceRef, u32)>,
    pub(crate) parameter_key: Option<Box<str>>,
    pub(crate) transfers: Vec<QueuedTransfer>,
    /// Parameters with notification 1/2 changed locally since the last delivered Inform, in
    /// the order they changed.
    pub(crate) changed: Vec<Key>,
    /// Diagnostic tests finished on this device: numbers each test's draws.
    pub(crate) diagnostic_runs: u32,
}

impl Delta {
    /// The ordinal of the next diagnostic test (counts from 0).
    pub(crate) fn next_diagnostic_run(&mut self) -> u32 {
        let n = self.diagnostic_runs;
        self.diagnostic_runs = n.wrapping_add(1);
        n
    }

    pub fn is_empty(&self) -> bool {
        *self == Delta::default()
    }

    /// Whether instances differ from the template's (then reads walk the schema).
    pub fn has_structure(&self) -> bool {
        !self.added.is_empty() || !self.deleted.is_empty()
    }

    /// How many values the ACS wrote that the device still holds.
    pub fn value_count(&self) -> usize {
        self.values.len()
    }

    pub fn value(&self, key: &Key) -> Option<&str> {
        let i = self.values.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        self.values.get(i).map(|(_, v)| &**v)
    }

    pub fn set_value(&mut self, key: Key, value: Box<str>) {
        match self.values.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => {
                if let Some(slot) = self.values.get_mut(i) {
                    slot.1 = value;
                }
            }
            Err(i) => {
                // A quarter more, not double: a device keeps its delta for life and most
                // gain one or two values after their first few (a firmware's
                // SoftwareVersion), so doubling would leave empty slots of 48 B on every
                // device of a fleet. Still geometric, so a long SetParameterValues stays
                // linear.
                if self.values.len() == self.values.capacity() {
                    self.values.reserve_exact(self.values.len() / 4 + 1);
                }
                self.values.insert(i, (key, value))
            }
        }
    }

    /// Gives back what emptied vectors hold. The delta lives as long as the device once it
    /// is written, so a finished transfer or a delivered change must not leave its capacity
    /// behind: a firmware wave left every upgraded device holding an empty 352 B transfer
    /// queue (350 MB across a million devices; the soak's RSS drift, issue #13).
    pub(crate) fn release_empty(&mut self) {
        fn release<T>(v: &mut Vec<T>) {
            if v.is_empty() && v.capacity() > 0 {
                *v = Vec::new();
            }
        }
        release(&mut self.values);
        release(&mut self.attrs);
        release(&mut self.added);
        release(&mut self.deleted);
        release(&mut self.transfers);
        release(&mut self.changed);
    }

    pub fn attr(&self, key: &Key) -> Option<&Attr> {
        let i = self.attrs.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        self.attrs.get(i).map(|(_, a)| a)
    }

    /// Set or (with None, meaning "back to the default") clear an attribute override.
    pub fn set_attr(&mut self, key: Key, attr: Option<Attr>) {
        match (self.attrs.binary_search_by(|(k, _)| k.cmp(&key)), attr) {
            (Ok(i), Some(a)) => {
                if let Some(slot) = self.attrs.get_mut(i) {
                    slot.1 = a;
                }
            }
            (Ok(i), None) => {
                self.attrs.remove(i);
            }
            (Err(i), Some(a)) => self.attrs.insert(i, (key, a)),
            (Err(_), None) => {}
        }
    }

    pub fn is_added(&self, r: &InstanceRef) -> bool {
        self.added.binary_search(r).is_ok()
    }

    pub fn is_deleted(&self, r: &InstanceRef) -> bool {
        self.deleted.binary_search(r).is_ok()
    }

    pub fn add_instance(&mut self, r: InstanceRef) {
        if let Err(i) = self.added.binary_search(&r) {
            self.added.insert(i, r);
        }
    }

    pub fn last_assigned(&self, table: &InstanceRef) -> Option<u32> {
        self.last_assigned
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, n)| *n)
    }

    pub fn set_last_assigned(&mut self, table: InstanceRef, n: u32) {
        match self.last_assigned.iter_mut().find(|(t, _)| *t == table) {
            Some(slot) => slot.1 = n,
            None => self.last_assigned.push((table, n)),
        }
    }

    /// Remove an instance and everything under it. `initial` says whether the template has
    /// it (then it is remembered as deleted); `under` says whether an object definition lies
    /// within the deleted instance's table (the caller knows the schema).
    pub fn delete_instance(
        &mut self,
        r: InstanceRef,
        initial: bool,
        under: &dyn Fn(ObjId) -> bool,
        param_under: &dyn Fn(ParamId) -> bool,
    ) {
        let inst = r.1;
        let inside = |obj: ObjId, i: &Inst| under(obj) && i.starts_with(&inst);
        let p_inside = |pid: ParamId, i: &Inst| param_under(pid) && i.starts_with(&inst);
        self.added.retain(|(o, i)| !inside(*o, i));
        self.deleted.retain(|(o, i)| !inside(*o, i));
        self.values.retain(|((p, i), _)| !p_inside(*p, i));
        self.attrs.retain(|((p, i), _)| !p_inside(*p, i));
        self.changed.retain(|(p, i)| !p_inside(*p, i));
        // Counters of nested tables under the deleted instance can go: the instance's number
        // is never reused, so no new parent will have the same numbers.
        self.last_assigned
            .retain(|((o, parent), _)| *o == r.0 || !(under(*o) && parent.starts_with(&inst)));
        if initial {
            if let Err(i) = self.deleted.binary_search(&r) {
                self.deleted.insert(i, r);
            }
        }
    }

    /// Record a reportable value change (once per parameter until delivered).
    pub fn note_change(&mut self, key: Key) {
        if !self.changed.contains(&key) {
            self.changed.push(key);
        }
    }

    /// Rough heap bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let strs: usize = self.values.iter().map(|(_, v)| v.len()).sum::<usize>()
            + self
                .attrs
                .iter()
                .map(|(_, a)| a.access_list.iter().map(|s| s.len() + 16).sum::<usize>())
                .sum::<usize>()
            + self
                .transfers
                .iter()
                .map(|t| t.command_key.len() + t.file_type.len() + t.target_file_name.len())
                .sum::<usize>()
            + self.parameter_key.as_ref().map_or(0, |k| k.len());
        size_of::<Delta>()
            + self.values.capacity() * size_of::<(Key, Box<str>)>()
            + self.attrs.capacity() * size_of::<(Key, Attr)>()
            + (self.added.capacity() + self.deleted.capacity()) * size_of::<InstanceRef>()
            + self.last_assigned.capacity() * size_of::<(InstanceRef, u32)>()
            + self.transfers.capacity() * size_of::<QueuedTransfer>()
            + self.changed.capacity() * size_of::<Key>()
            + strs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: u32, inst: &[u32]) -> Key {
        (ParamId(p), Inst::from_slice(inst).unwrap())
    }

    #[test]
    fn values_stay_sorted_and_replace() {
        let mut d = Delta::default();
        assert!(d.is_empty());
        d.set_value(key(5, &[]), "a".into());
        d.set_value(key(1, &[2]), "b".into());
        d.set_value(key(1, &[1]), "c".into());
        d.set_value(key(5, &[]), "d".into());
        assert_eq!(d.value(&key(5, &[])), Some("d"));
        assert_eq!(d.value(&key(1, &[1])), Some("c"));
        assert_eq!(d.value(&key(1, &[3])), None);
        assert!(d.values.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(!d.is_empty());
    }

    #[test]
    fn attrs_clear_back_to_default() {
        let mut d = Delta::default();
        let a = Attr {
            notification: 2,
            access_list: Box::new([]),
        };
        d.set_attr(key(1, &[]), Some(a.clone()));
        assert_eq!(d.attr(&key(1, &[])), Some(&a));
        d.set_attr(key(1, &[]), None);
        assert!(d.is_empty());
    }

    #[test]
    fn delete_instance_drops_its_subtree_only() {
        let mut d = Delta::default();
        let t = ObjId(3);
        let nested = ObjId(4);
        let i1 = Inst::from_slice(&[1]).unwrap();
        let i2 = Inst::from_slice(&[2]).unwrap();
        d.add_instance((nested, Inst::from_slice(&[1, 7]).unwrap()));
        d.add_instance((nested, Inst::from_slice(&[2, 7]).unwrap()));
        d.set_value((ParamId(9), i1), "x".into());
        d.set_value((ParamId(9), i2), "y".into());
        d.note_change((ParamId(9), i1));
        let under = |o: ObjId| o == t || o == nested;
        let p_under = |p: ParamId| p == ParamId(9);
        d.delete_instance((t, i1), true, &under, &p_under);
        assert!(d.is_deleted(&(t, i1)));
        assert_eq!(d.added, vec![(nested, Inst::from_slice(&[2, 7]).unwrap())]);
        assert_eq!(d.value(&(ParamId(9), i1)), None);
        assert_eq!(d.value(&(ParamId(9), i2)), Some("y"));
        assert!(d.changed.is_empty());
    }

    #[test]
    fn a_written_value_holds_no_doubled_capacity() {
        let mut d = Delta::default();
        for p in 0..5 {
            d.set_value(key(p, &[]), "v".into());
        }
        // Room for 1, 2, 3, 4, then 6: doubling would have held 8.
        assert_eq!(d.values.capacity(), 6);
        for p in 5..1000 {
            d.set_value(key(p, &[]), "v".into());
        }
        assert!(d.values.capacity() < 1250, "{}", d.values.capacity());
    }

    #[test]
    fn emptied_vectors_give_their_memory_back() {
        let mut d = Delta::default();
        d.transfers.push(QueuedTransfer {
            command_key: "k".into(),
            is_download: true,
            file_type: "1 Firmware Upgrade Image".into(),
            file_size: 0,
            target_file_name: String::new(),
            state: 1,
        });
        d.note_change(key(1, &[]));
        d.set_value(key(1, &[]), "v".into());
        d.transfers.clear();
        d.changed.clear();
        let before = d.heap_bytes();
        d.release_empty();
        assert_eq!(d.transfers.capacity(), 0);
        assert_eq!(d.changed.capacity(), 0);
        assert_eq!(d.values.len(), 1);
        assert!(d.heap_bytes() + 4 * std::mem::size_of::<QueuedTransfer>() <= before);
    }

    #[test]
    fn changes_are_noted_once() {
        let mut d = Delta::default();
        d.note_change(key(1, &[]));
        d.note_change(key(2, &[]));
        d.note_change(key(1, &[]));
        assert_eq!(d.changed, vec![key(1, &[]), key(2, &[])]);
    }
}
