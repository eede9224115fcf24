//! CWMP faults (the `cwmp:Fault` detail of a SOAP Fault): ACS codes 8000-8899, CPE codes
//! 9000-9899, with the per-parameter list SetParameterValues uses.

use super::version::CwmpVersion;

/// A cwmp Fault. `string` is the FaultString (free text, the standard text by default).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fault {
    pub code: u32,
    pub string: String,
    pub set_parameter_values_faults: Vec<SetParameterValuesFault>,
}

/// One entry of a SetParameterValues fault: which parameter failed and why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetParameterValuesFault {
    pub parameter_name: String,
    pub code: u32,
    pub string: String,
}

impl SetParameterValuesFault {
    pub fn new(parameter_name: impl Into<String>, code: u32) -> Self {
        SetParameterValuesFault {
            parameter_name: parameter_name.into(),
            code,
            string: Fault::standard_string(code).to_owned(),
        }
    }
}

impl Fault {
    /// A fault with the standard FaultString for `code` and no per-parameter entries.
    pub fn new(code: u32) -> Self {
        Fault {
            code,
            string: Self::standard_string(code).to_owned(),
            set_parameter_values_faults: Vec::new(),
        }
    }

    /// The first CWMP version whose schema allows this FaultCode: cwmp-1-0 enumerates
    /// 9000-9013 and 8000-8005 only (plus the vendor ranges).
    pub fn min_version(&self) -> CwmpVersion {
        match self.code {
            9000..=9013 | 9800..=9899 | 8000..=8005 | 8800..=8899 => CwmpVersion::V1_0,
            _ => CwmpVersion::V1_1,
        }
    }

    /// SOAP `faultcode` attribution: `Client` when the request's sender is to blame (bad
    /// arguments, names, types, values), `Server` otherwise.
    pub fn is_client(&self) -> bool {
        matches!(self.code, 8003 | 8006 | 9003 | 9005..=9008 | 9021..=9025)
    }

    /// The fault text the schemas document for each defined code ("" for reserved/vendor codes).
    pub fn standard_string(code: u32) -> &'static str {
        match code {
            8000 => "Method not supported",
            8001 => "Request denied",
            8002 => "Internal error",
            8003 => "Invalid arguments",
            8004 => "Resources exceeded",
            8005 => "Retry request",
            8006 => "ACS version incompatible with CPE",
            9000 => "Method not supported",
            9001 => "Request denied",
            9002 => "Internal error",
            9003 => "Invalid arguments",
            9004 => "Resources exceeded",
            9005 => "Invalid parameter name",
            9006 => "Invalid parameter type",
            9007 => "Invalid parameter value",
            9008 => "Attempt to set a non-writable parameter",
            9009 => "Notification request rejected",
            9010 => "File transfer failure",
            9011 => "Upload failure",
            9012 => "File transfer server authentication failure",
            9013 => "Unsupported protocol for file transfer",
            9014 => "File transfer failure: unable to join multicast group",
            9015 => "File transfer failure: unable to contact file server",
            9016 => "File transfer failure: unable to access file",
            9017 => "File transfer failure: unable to complete download",
            9018 => "File transfer failure: file corrupted",
            9019 => "File transfer failure: file authentication failure",
            9020 => {
                "File transfer failure: unable to complete download within specified time windows"
            }
            9021 => "Cancelation of file transfer not permitted in current transfer state",
            9022 => "Invalid UUID Format",
            9023 => "Unknown Execution Environment",
            9024 => "Disabled Execution Environment",
            9025 => "Deployment Unit to Execution Environment Mismatch",
            9026 => "Duplicate Deployment Unit",
            9027 => "System Resources Exceeded",
            9028 => "Unknown Deployment Unit",
            9029 => "Invalid Deployment Unit State",
            9030 => "Invalid Deployment Unit Update - Downgrade not permitted",
            9031 => "Invalid Deployment Unit Update - Version not specified",
            9032 => "Invalid Deployment Unit Update - Version already exists",
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defined_code_has_text() {
        for code in (8000..=8006).chain(9000..=9032) {
            assert!(!Fault::standard_string(code).is_empty(), "{code}");
            assert_eq!(Fault::new(code).string, Fault::standard_string(code));
        }
        assert_eq!(Fault::standard_string(9033), "");
        assert_eq!(Fault::standard_string(9850), "");
    }

    #[test]
    fn client_or_server() {
        for c in [9003, 9005, 9006, 9007, 9008, 8003] {
            assert!(Fault::new(c).is_client(), "{c}");
        }
        for c in [
            9000, 9001, 9002, 9004, 9009, 9010, 9011, 9020, 8000, 8002, 8005,
        ] {
            assert!(!Fault::new(c).is_client(), "{c}");
        }
    }

    #[test]
    fn spv_fault_entry_uses_standard_text() {
        let f = SetParameterValuesFault::new("Device.X", 9007);
        assert_eq!(f.string, "Invalid parameter value");
        assert_eq!(f.parameter_name, "Device.X");
    }
}
