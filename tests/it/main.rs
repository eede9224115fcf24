//! The integration tests, one binary (as ripgrep does) so the crate is linked once, not once per
//! test file. Each module is one concern; `support` holds the scripted ACS and the schema check.

// The shape lints (clippy.toml) are for the library: a test reads as one scripted scenario, set
// up, run and checked in order, and splitting it would hide the script.
#![allow(clippy::too_many_lines, clippy::cognitive_complexity)]

mod support;

mod acs_server;
mod answer_limits;
mod codec_genieacs;
mod codec_schema;
mod conformance_suite;
mod cr_listener;
mod credentials;
mod deploy;
mod deploy_scripts;
mod device_life;
mod device_rpc;
mod diagnostics;
mod event_accounting;
mod fidelity_schema;
mod fleet_schedule;
mod genieacs_replay;
mod hostile_acs;
mod import_bbf;
mod import_csv;
mod import_data_models;
mod import_generate;
mod interop_embedded;
mod interop_genieacs;
mod interop_genieacs_udp;
mod layers;
mod light_load;
mod metrics_prometheus;
mod metrics_recording;
mod model_device;
mod model_load;
mod model_overlay;
mod render_cli;
mod report_cli;
mod report_formats;
mod report_html;
mod report_limits;
mod reproducible;
mod scenarios_cli;
mod schedule_download;
mod session;
mod session_rpcs;
mod shape;
mod shards;
mod signals;
mod software_modules;
mod template_cli;
mod tls;
mod transfer;
mod udp_cr;
mod wan;
mod wrong_arguments;
mod xmpp_codec;
mod xmpp_embedded;
mod xmpp_prosody;
mod xmpp_scenario;
