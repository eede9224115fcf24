//! The integration tests, one binary (as ripgrep does) so the crate is linked once, not once per
//! test file. Each module is one concern; `support` holds the scripted ACS and the schema check.

mod support;

mod acs_server;
mod answer_limits;
mod codec_genieacs;
mod codec_schema;
mod conformance_suite;
mod cr_listener;
mod credentials;
mod deploy;
mod device_life;
mod device_rpc;
mod fleet_schedule;
mod genieacs_replay;
mod hostile_acs;
mod import_bbf;
mod import_csv;
mod import_data_models;
mod import_generate;
mod interop_embedded;
mod layers;
mod metrics_prometheus;
mod metrics_recording;
mod model_device;
mod model_load;
mod render_cli;
mod report_cli;
mod report_formats;
mod report_html;
mod scenarios_cli;
mod session;
mod session_rpcs;
mod shards;
mod signals;
mod template_cli;
mod tls;
mod transfer;
