use clap::Parser;

fn main() -> std::process::ExitCode {
    vllm_mux::main_with(vllm_mux::cli::Cli::parse())
}
