//! Deployment units changed on the device's own initiative (a local user, the CPE's own app
//! store), reported with AutonomousDUStateChangeComplete and `12 AUTONOMOUS DU STATE CHANGE
//! COMPLETE` only as far as `ManagementServer.DUStateChangeComplPolicy` lets them through
//! (TR-181: Enable, OperationTypeFilter, ResultTypeFilter, FaultCodeFilter). Pure: the session
//! layer fetches the file ([`DeviceView::du_fetches`] of the planned operation) and hands the
//! outcome to [`DeviceView::autonomous_du_change`].

use crate::cwmp::{
    AutonomousDUStateChangeComplete, ChangeDUState, DateTime, DuOperation, OpResultStruct,
};
use crate::device::software::{name_of, version_of, Fetched};
use crate::device::view::DeviceView;

impl DeviceView<'_> {
    /// What an autonomous change of the unit at `url` does here: install it where no unit of
    /// that name is, update a unit of that name at another version, uninstall it where this
    /// version is installed. Without a URL, the first installed unit is uninstalled. None:
    /// nothing to change (no URL and no unit).
    pub fn autonomous_du_plan(&self, url: Option<&str>) -> Option<DuOperation> {
        let dus = self.dus();
        let Some(url) = url else {
            let d = dus.first()?;
            return Some(DuOperation::Uninstall {
                uuid: d.uuid.clone(),
                version: d.version.clone(),
                execution_env_ref: String::new(),
            });
        };
        let name = name_of(url);
        let version = version_of(url);
        Some(
            match dus
                .iter()
                .find(|d| name_of(&d.url) == name && !d.url.is_empty())
            {
                None => DuOperation::Install {
                    url: url.to_string(),
                    uuid: String::new(),
                    username: String::new(),
                    password: String::new(),
                    execution_env_ref: String::new(),
                },
                Some(d) if d.version == version => DuOperation::Uninstall {
                    uuid: d.uuid.clone(),
                    version: d.version.clone(),
                    execution_env_ref: String::new(),
                },
                Some(d) => DuOperation::Update {
                    uuid: d.uuid.clone(),
                    version: String::new(),
                    url: url.to_string(),
                    username: String::new(),
                    password: String::new(),
                },
            },
        )
    }

    /// Applies an autonomous operation (its file already fetched, or not needed) and returns
    /// the report the policy lets through; None when it filters the change out.
    pub fn autonomous_du_change(
        &mut self,
        op: &DuOperation,
        fetched: Fetched,
        start: DateTime,
    ) -> Option<AutonomousDUStateChangeComplete> {
        let req = ChangeDUState {
            operations: vec![op.clone()],
            command_key: String::new(),
        };
        let mut result: OpResultStruct = self
            .change_du_state(&req, &[fetched], start)
            .results
            .pop()?;
        let kind = match op {
            DuOperation::Install { .. } => "Install",
            DuOperation::Update { .. } => "Update",
            DuOperation::Uninstall { .. } => "Uninstall",
        };
        if !self.du_policy_reports(kind, result.fault.fault_code) {
            return None;
        }
        result.operation_performed = Some(kind.to_string());
        Some(AutonomousDUStateChangeComplete {
            results: vec![result],
        })
    }

    /// TR-181 `ManagementServer.DUStateChangeComplPolicy.`: Enable; the operation in
    /// OperationTypeFilter (empty: none); a success when ResultTypeFilter is Success or Both; a
    /// failure when it is Failure or Both and its code is in FaultCodeFilter (empty: none).
    fn du_policy_reports(&self, operation: &str, fault_code: u32) -> bool {
        let p = format!(
            "{}ManagementServer.DUStateChangeComplPolicy.",
            self.t.root()
        );
        let read = |n: &str| {
            self.get(&format!("{p}{n}"))
                .map(|x| x.value)
                .unwrap_or_default()
        };
        let listed = |list: &str, item: &str| list.split(',').any(|x| x.trim() == item);
        let enabled = matches!(read("Enable").as_str(), "true" | "1");
        let results = read("ResultTypeFilter");
        enabled
            && listed(&read("OperationTypeFilter"), operation)
            && if fault_code == 0 {
                matches!(results.as_str(), "Success" | "Both")
            } else {
                matches!(results.as_str(), "Failure" | "Both")
                    && listed(&read("FaultCodeFilter"), &fault_code.to_string())
            }
    }
}
