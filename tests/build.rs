//! Builds every guest in `guest/` from source, as wasmtime's test-programs artifacts do:
//! - Rust (`guest/rust/src/bin/<scenario>.rs`) for wasm32-wasip1 (`p1_rust_<scenario>`) and
//!   wasm32-wasip2 (`p2_rust_<scenario>`), by a nested cargo with its own target directory;
//! - Rust for WASI 0.3 (`guest/p3/src/bin/<scenario>.rs`, `p3_rust_<scenario>`): built for
//!   wasm32-wasip2 with the `wasip3` bindings, componentized by rustc's own linker;
//! - C (`guest/c/<scenario>.c`) with clang on wasi-libc (`p1_c_<scenario>`);
//! - WAT (`guest/wat/<scenario>.wat`), used as text by the host (`p1_wat_<scenario>`).
//!
//! Outputs land in `target/guests/` (stable, for `make run`) and `guests.rs` in OUT_DIR: one
//! path constant per guest, `ALL`, and `foreach_guest!` so that a guest without a host test
//! fails to compile. A missing toolchain is a build error that says how to install it.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    let guest_dir = root.join("guest");
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"));
    let out = target_dir.join("guests");
    fs::create_dir_all(&out).unwrap();
    println!("cargo:rerun-if-changed={}", guest_dir.display());
    for sub in [
        "rust/src",
        "rust/src/bin",
        "rust/Cargo.toml",
        "p3/src",
        "p3/src/bin",
        "p3/Cargo.toml",
        "c",
        "wat",
    ] {
        println!("cargo:rerun-if-changed={}", guest_dir.join(sub).display());
    }

    let mut guests: Vec<(String, PathBuf)> = Vec::new();
    let scenarios = |dir: &Path, ext: &str| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .filter_map(|e| e.ok()?.path().file_name()?.to_str().map(String::from))
            .filter_map(|n| n.strip_suffix(ext).map(String::from))
            .collect();
        v.sort();
        v
    };

    // Rust: the scenarios for both targets, and the WASI 0.3 ones (wasm32-wasip2 with the
    // wasip3 bindings: rustup has no std for wasm32-wasip3).
    // Each crate has a target directory of its own: both build wasm32-wasip2 binaries, and a
    // scenario may have the same name in both.
    for (crate_dir, builds, build_dir) in [
        (
            "rust",
            &[("p1", "wasm32-wasip1"), ("p2", "wasm32-wasip2")][..],
            "guest-build",
        ),
        ("p3", &[("p3", "wasm32-wasip2")][..], "guest-build-p3"),
    ] {
        let rust_target = target_dir.join(build_dir);
        let bins = scenarios(&guest_dir.join(crate_dir).join("src/bin"), ".rs");
        let manifest = guest_dir.join(crate_dir).join("Cargo.toml");
        for (abi, triple) in builds {
            let built = build_rust(&manifest, triple, &rust_target);
            for bin in &bins {
                let from = built.join(format!("{bin}.wasm"));
                let dest = out.join(format!("{abi}_rust_{bin}.wasm"));
                fs::copy(&from, &dest).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
                guests.push((format!("{abi}_rust_{bin}"), dest));
            }
        }
    }

    // C on wasi-libc (WOULDBLOCK_C_GUESTS=0 skips them where no wasi-libc can be had).
    let clang = env::var("WOULDBLOCK_CLANG").unwrap_or_else(|_| "clang".into());
    println!("cargo:rerun-if-env-changed=WOULDBLOCK_C_GUESTS");
    println!("cargo:rerun-if-env-changed=WOULDBLOCK_CLANG");
    let c_guests = env::var("WOULDBLOCK_C_GUESTS")
        .map(|v| v != "0")
        .unwrap_or(true);
    let c_sources = if c_guests {
        scenarios(&guest_dir.join("c"), ".c")
    } else {
        Vec::new()
    };
    for name in c_sources {
        let src = guest_dir.join("c").join(format!("{name}.c"));
        let dest = out.join(format!("p1_c_{name}.wasm"));
        let status = Command::new(&clang)
            .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&dest)
            .arg(&src)
            .status()
            .unwrap_or_else(|e| panic!("running {clang}: {e}; install clang lld wasi-libc libclang-rt-dev-wasm32 (`make setup`)"));
        assert!(
            status.success(),
            "compiling {} failed; is wasi-libc installed? (`make setup`)",
            src.display()
        );
        guests.push((format!("p1_c_{name}"), dest));
    }

    // WAT: the host reads the text itself; a copy sits with the other guests for `suite`.
    for name in scenarios(&guest_dir.join("wat"), ".wat") {
        let src = guest_dir.join("wat").join(format!("{name}.wat"));
        let copy = out.join(format!("p1_wat_{name}.wat"));
        fs::copy(&src, &copy).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        guests.push((format!("p1_wat_{name}"), src));
    }

    guests.sort();
    let mut src = String::new();
    for (name, path) in &guests {
        assert!(
            ["p1_", "p2_", "p3_"].iter().any(|p| name.starts_with(p)),
            "guest {name}: unknown ABI prefix"
        );
        src += &format!(
            "/// Path of guest `{name}`.\npub const {}: &str = {:?};\n",
            name.to_uppercase(),
            path.display().to_string()
        );
    }
    src += "/// Every guest: (name, path).\npub const ALL: &[(&str, &str)] = &[\n";
    for (name, _) in &guests {
        src += &format!("    ({name:?}, {}),\n", name.to_uppercase());
    }
    src += "];\n\n/// Calls `$mac!(guest_name)` for every guest.\n#[macro_export]\nmacro_rules! foreach_guest {\n    ($mac:ident) => {\n";
    for (name, _) in &guests {
        src += &format!("        $mac!({name});\n");
    }
    src += "    };\n}\n";
    fs::write(
        PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("guests.rs"),
        src,
    )
    .unwrap();
}

/// Builds the guest crate at `manifest` for `triple` by a nested cargo with its own target
/// directory (under `target_dir`); the directory its binaries land in.
fn build_rust(manifest: &Path, triple: &str, target_dir: &Path) -> PathBuf {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args([
        "build",
        "--release",
        "--quiet",
        "--target",
        triple,
        "--manifest-path",
    ])
    .arg(manifest)
    .env("CARGO_TARGET_DIR", target_dir);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("running cargo for the guests");
    assert!(
        status.success(),
        "building the Rust guests of {} for {triple} failed; is the target installed? \
         (`rustup target add {triple}`, or `make setup`)",
        manifest.display()
    );
    target_dir.join(triple).join("release")
}
