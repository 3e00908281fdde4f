//! Scenario `trivial`: prints one line and exits 0; for start-up time and memory.

fn main() {
    println!("WB op=hello fd=none errno=0 name=success");
}
