//! The `wouldblock` binary: see [`wouldblock::cli`].

fn main() {
    // Errors are reported as one line; a Rust backtrace would never be shown, and capturing one
    // on every error return (anyhow reads these variables) costs ~20x on the guest's error path.
    // Set before any thread exists.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "wouldblock: error: internal error: {}",
            wouldblock::run::one_line(&info.to_string())
        );
    }));
    let code = wouldblock::cli::main_with_args(std::env::args_os());
    std::process::exit(code);
}
