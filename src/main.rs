use clap::Parser;
use smart_npc::cli::{self, Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    let args = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let code = match cli::run(args.command.unwrap_or(Command::Serve)).await {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("smart-npc: {message}");
            1
        }
    };
    // Leave at once: returning would drop the runtime, which waits for every task still
    // running (a connection that never finishes its request, a blocking call), and the
    // server has already given in-flight requests their grace period.
    std::process::exit(code)
}
