//! Scenario `memory_hog`: allocates 1 MiB at a time and keeps it, reporting every 8 MiB. Only
//! a memory limit stops it short of wasm's 4 GiB (the allocator then aborts: a trap).

fn main() {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for mib in 1..=4096usize {
        kept.push(vec![1u8; 1 << 20]);
        if mib % 8 == 0 {
            println!("WB op=allocated fd=none errno=0 name=success mib={mib}");
        }
    }
    println!(
        "WB op=done fd=none errno=0 name=success kept={}",
        kept.len()
    );
}
