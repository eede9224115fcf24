//! Thin binary: parse the command line, run, map the outcome to an exit code.
#![forbid(unsafe_code)]

use clap::Parser;
use cpefleet::cli::{self, Cli, InputError};

// mimalloc, chosen by measurement (the reason is beside the dependency in Cargo.toml);
// `--features system-allocator` switches back to the system's.
#[cfg(all(feature = "mimalloc", not(feature = "system-allocator")))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    let code = match cli::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cpefleet: {}", cli::error_message(&e));
            // Bad input the user can fix is 2; anything else that stopped the run is 1.
            if e.downcast_ref::<InputError>().is_some() {
                2
            } else {
                1
            }
        }
    };
    std::process::exit(code);
}
