//! The `iamgate` command line. See `iamgate --help`.

fn main() -> std::process::ExitCode {
    iamgate::cli::main()
}
