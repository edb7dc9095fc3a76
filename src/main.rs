//! The `trailgate` binary: parse the command line, run, exit with the code
//! the library chose (0 accept, 1 reject, 2 cannot judge).

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(trailgate::cli::run(std::env::args_os().collect()))
}
