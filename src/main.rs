use clap::Parser;
use ghlsync::cli::Cli;
use ghlsync::config::paths::Dirs;
use std::io::Write;

fn main() {
    let cli = Cli::parse();
    // Before any thread starts.
    ghlsync::allocator::tune(match cli.command {
        None | Some(ghlsync::cli::args::Command::Console(_)) => {
            ghlsync::allocator::Workload::Console
        }
        Some(ghlsync::cli::args::Command::Run(_)) => ghlsync::allocator::Workload::Service,
        Some(_) => ghlsync::allocator::Workload::Other,
    });
    // Logs go to a file in the XDG state dir; without one we still run, just unlogged. The
    // service sets up its own (stderr for journald, or the file; text or JSON) from its config.
    let service = matches!(cli.command, Some(ghlsync::cli::args::Command::Run(_)));
    let _log_guard = match Dirs::discover() {
        _ if service => None,
        Ok(dirs) => match ghlsync::logging::init(&dirs.log_dir(), cli.log_level.as_deref()) {
            Ok(guard) => Some(guard),
            Err(err) => {
                warn(&format!("warning: {err}; continuing without a log file"));
                None
            }
        },
        Err(err) => {
            warn(&format!("warning: {err}; continuing without a log file"));
            None
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            warn(&format!("error: cannot start the async runtime: {err}"));
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(ghlsync::cli::run(cli));
    drop(runtime);
    drop(_log_guard);
    std::process::exit(code);
}

/// A line on stderr; a closed stderr is ignored (`eprintln!` would panic on it).
fn warn(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
