//! The `plangate` binary: all the work is in the library.

fn main() {
    std::process::exit(plangate::cli::main());
}
