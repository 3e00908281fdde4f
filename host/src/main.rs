//! The `wouldblock` binary: the command line of the `wouldblock` library crate.

fn main() {
    // Errors are reported as one line; a Rust backtrace would never be shown, and capturing one
    // on every error return (anyhow reads these variables) costs ~20x on the guest's error path.
    // Set before any thread exists.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "wouldblock: error: internal error: {}",
            wouldblock::one_line(&info.to_string())
        );
    }));
    let code = wouldblock::main_with_args(std::env::args_os());
    std::process::exit(code);
}
