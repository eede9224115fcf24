//! Thin binary: parse the command line, run, map the outcome to an exit code.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(cpefleet_cli::main());
}

mod cpefleet_cli {
    pub fn main() -> i32 {
        0
    }
}
