//! AddObject and DeleteObject (TR-069 A.3.2.6, A.3.2.7), and the same table operations for the
//! device's own objects (diagnostic results, deployment units), which the ACS cannot write.

use crate::cwmp::{
    AddObject, AddObjectResponse, CpeResponse, DeleteObject, DeleteObjectResponse, Fault,
};
use crate::device::view::DeviceView;
use crate::model::path;
use crate::model::template::Instances;
use crate::model::{Node, ObjId};

use super::{ok, Outcome};

/// Who adds or deletes: the ACS may only touch writable tables; the device itself may touch any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum By {
    Acs,
    Device,
}

impl DeviceView<'_> {
    /// TR-069 A.3.2.6.
    pub(super) fn add_object(&mut self, r: &AddObject) -> Outcome {
        let n = self.add_instance(&r.object_name, By::Acs)?;
        self.set_parameter_key(&r.parameter_key);
        ok(CpeResponse::AddObjectResponse(AddObjectResponse {
            instance_number: n,
            status: 0,
        }))
    }

    /// A new instance of the table `name` ("…Table."), numbered past every number ever
    /// assigned in it (TR-069 A.3.2.6: never reused).
    pub(crate) fn add_instance(&mut self, name: &str, by: By) -> Result<u32, Fault> {
        let (table, parent) = match self.lookup(name) {
            Some((Node::Table(o), inst)) if path::is_partial(name) => (o, inst),
            _ => return Err(Fault::new(9005)),
        };
        let def = self
            .t
            .object(table)
            .and_then(|o| o.table.as_ref())
            .ok_or_else(|| Fault::new(9005))?;
        if by == By::Acs && !def.writable {
            return Err(Fault::new(9005));
        }
        let existing = self.instances().list(table, &parent).len();
        if def.max_entries.is_some_and(|m| existing >= m as usize) {
            return Err(Fault::new(9004));
        }
        let highest_initial = self.t.initial_instances(table, &parent).into_iter().max();
        let last = self
            .delta()
            .and_then(|d| d.last_assigned(&(table, parent)))
            .into_iter()
            .chain(highest_initial)
            .max()
            .unwrap_or(0);
        let n = last.checked_add(1).ok_or_else(|| Fault::new(9004))?;
        let inst = parent.push(n).ok_or_else(|| Fault::new(9004))?;
        let d = self.d.delta_mut();
        d.add_instance((table, inst));
        d.set_last_assigned((table, parent), n);
        Ok(n)
    }

    pub(super) fn delete_object(&mut self, r: &DeleteObject) -> Outcome {
        self.delete_instance(&r.object_name, By::Acs)?;
        self.set_parameter_key(&r.parameter_key);
        ok(CpeResponse::DeleteObjectResponse(DeleteObjectResponse {
            status: 0,
        }))
    }

    /// Deletes the instance `name` ("…Table.3.") with everything under it.
    pub(crate) fn delete_instance(&mut self, name: &str, by: By) -> Result<(), Fault> {
        let (table, inst) = match self.lookup(name) {
            Some((Node::Instance(o), inst)) if path::is_partial(name) => (o, inst),
            _ => return Err(Fault::new(9005)),
        };
        if by == By::Acs && !self.node_writable(Node::Instance(table)) {
            return Err(Fault::new(9005));
        }
        let initial = self.t.is_initial(table, &inst);
        let t = self.t;
        let Some(table_path) = t.object(table).map(|o| o.path.clone()) else {
            return Err(Fault::new(9005));
        };
        let under = |o: ObjId| {
            t.object(o)
                .is_some_and(|d| d.path.starts_with(&*table_path))
        };
        let param_under = |p| t.param(p).is_some_and(|d| d.path.starts_with(&*table_path));
        let d = self.d.delta_mut();
        if d.is_added(&(table, inst)) || initial {
            d.delete_instance((table, inst), initial, &under, &param_under);
        }
        Ok(())
    }

    /// The instance numbers of the table `name` ("…Table."), in order; empty when there is no
    /// such table.
    pub(crate) fn instance_numbers(&self, name: &str) -> Vec<u32> {
        match self.lookup(name) {
            Some((Node::Table(o), parent)) if path::is_partial(name) => {
                self.instances().list(o, &parent)
            }
            _ => Vec::new(),
        }
    }
}
