use clap::Parser;
use smart_npc::cli::{self, Cli, Command};

/// mimalloc instead of glibc's malloc (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let args = Cli::parse();
    let format = cli::LogFormat::parse(std::env::var("LOG_FORMAT").ok().as_deref());
    let traces = smart_npc::config::Traces::from_lookup(|key| std::env::var(key).ok())
        .map_err(|e| e.to_string());
    let tracer = match format.and_then(|format| cli::init_logging(format, traces?.as_ref())) {
        Ok(tracer) => tracer,
        Err(message) => {
            eprintln!("smart-npc: {message}");
            std::process::exit(1)
        }
    };
    let code = match cli::run(args.command.unwrap_or(Command::Serve)).await {
        Ok(()) => 0,
        Err(message) => {
            cli::say_error(&format!("smart-npc: {message}"));
            1
        }
    };
    // The spans still buffered go to the collector before the process ends.
    if let Some(tracer) = tracer {
        tracer.shutdown();
    }
    // Leave at once: returning would drop the runtime, which waits for every task still
    // running (a connection that never finishes its request, a blocking call), and the
    // server has already given in-flight requests their grace period.
    std::process::exit(code)
}
