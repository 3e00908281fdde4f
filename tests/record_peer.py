#!/usr/bin/env python3
"""Records what another WASI runtime does with the guests:
`tests/record_peer.py RUNTIME NOTE [SCENARIO...]`.

Runs, for each SCENARIO (default: those RUNTIME has recordings of), the cases of its
recording (the same cases again: a re-recording rewrites the file, comments included), or
for a new scenario the cases of tests/expectations/SCENARIO.toml that need nothing only
wouldblock provides (no bounded pipes, listeners or clients, preopens, limits or chaos; a
guest's own sockets, `net = "allow-net"`, only where the runtime gives the network), with the longest deadline
of RUNTIME's recordings (at least 3 s), under
RUNTIME with `wouldblock suite --runtime RUNTIME`, twice, and
writes what each guest saw (its exit code or how it stopped, and its `WB` lines) as
tests/expectations/RUNTIME/<scenario>.toml, one case per language, headed by the runtime's
version and NOTE. A line that differs between the two runs is written as `*` where it differs
and reported: racy behaviour is then kept as a wildcard, with a reason to add by hand.

It only records; CI keeps the recordings true (`make peers`). Needs the build (`make build`)
and the runtime installed (`make peers` installs those that come from registries).
"""

import json
import os
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTATIONS = os.path.join(ROOT, "tests", "expectations")
WOULDBLOCK = os.path.join(ROOT, "target", "debug", "wouldblock")
KEYS = ("abi", "net", "stdin", "args", "timeout_ms")
WOULDBLOCK_ONLY = ("net", "client", "preopen", "stdout_spec", "stderr_spec", "max_memory", "fuel",
                   "chaos")
# Runtimes that can give a guest the network (the suite's `Peer::network`).
NETWORK = ("wasmtime",)


def template(runtime, scenario):
    """The cases to run: the runtime's recording, or the main expectations' it can run."""
    own = os.path.join(EXPECTATIONS, runtime, f"{scenario}.toml")
    if os.path.exists(own):
        with open(own, "rb") as f:
            return tomllib.load(f)["case"]
    with open(os.path.join(EXPECTATIONS, f"{scenario}.toml"), "rb") as f:
        cases = tomllib.load(f)["case"]
    def own_sockets(c):
        return runtime in NETWORK and c.get("net") == "allow-net" and "client" not in c

    runnable = [c for c in cases
                if not any(k in c and not (k == "net" and own_sockets(c)) for k in WOULDBLOCK_ONLY)
                and c.get("wasi", "faithful") == "faithful"]
    return [dict(c, timeout_ms=deadline(runtime)) for c in runnable]


def deadline(runtime):
    """The longest deadline of the runtime's recordings (a slow starter has long ones), or 3 s."""
    longest = 3000
    folder = os.path.join(EXPECTATIONS, runtime)
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        with open(os.path.join(folder, name), "rb") as f:
            for c in tomllib.load(f)["case"]:
                longest = max(longest, c.get("timeout_ms", 0))
    return longest


def toml_str(s):
    return json.dumps(s, ensure_ascii=False)


def run_once(runtime, scratch):
    out = os.path.join(scratch, "report.json")
    cmd = [WOULDBLOCK, "suite", "--runtime", runtime, "--expectations", scratch,
           "--format", "json", "--output", out]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    with open(out) as f:
        report = json.load(f)
    results = {}
    for c in report["cases"]:
        if c["exit_code"] is not None:
            outcome = ("exit", c["exit_code"])
        elif c["stop"]:
            outcome = ("stop", c["stop"])
        else:
            sys.exit(f"{c['id']}: no result: {c['error']}")
        results[(c["scenario"], c["case"], c["abi"], c["lang"])] = (outcome, c["wb"])
    return report["runtime"]["version"], results


def merge(a, b):
    """Lines of two runs, `*` where they differ; and whether they did."""
    if a == b:
        return a, False
    lines = [x if x == y else "*" for x, y in zip(a, b)]
    if len(a) != len(b):
        lines.append("**")
    return lines, True


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runtime, note = sys.argv[1], sys.argv[2]
    scenarios = sys.argv[3:] or sorted(
        n.removesuffix(".toml") for n in os.listdir(os.path.join(EXPECTATIONS, runtime)))
    templates = {}
    scratch = tempfile.mkdtemp(prefix="wouldblock-record-")
    os.makedirs(os.path.join(scratch, runtime))
    for scenario in scenarios:
        cases = template(runtime, scenario)
        name = f"{scenario}.toml"
        # One case per name and ABI, every language, expecting nothing in particular.
        plain = {}
        for c in cases:
            key = (c["name"], c.get("abi"))
            plain[key] = {k: c[k] for k in KEYS if k in c}
            plain[key]["name"] = c["name"]
        templates[scenario] = list(plain.values())
        with open(os.path.join(scratch, runtime, name), "w") as f:
            for c in templates[scenario]:
                f.write("[[case]]\n")
                for k, v in c.items():
                    f.write(f"{k} = {json.dumps(v)}\n")
                f.write("exit = 0\n\n")
    version, first = run_once(runtime, scratch)
    _, second = run_once(runtime, scratch)
    out_dir = os.path.join(EXPECTATIONS, runtime)
    os.makedirs(out_dir, exist_ok=True)
    for scenario, cases in templates.items():
        label = version if version.startswith(runtime) else f"{runtime} {version}"
        lines = [f"# {scenario} under {label}: what it does today (recorded by",
                 "# tests/record_peer.py, kept true by CI).", f"# {note}", ""]
        for c in cases:
            for (sc, name, abi, lang), (outcome, wb) in sorted(first.items()):
                if sc != scenario or name != c["name"] or c.get("abi", abi) != abi:
                    continue
                outcome2, wb2 = second[(sc, name, abi, lang)]
                if outcome != outcome2:
                    print(f"RACY {runtime} {sc}/{name} {lang}: {outcome} vs {outcome2}")
                stdout, racy = merge(wb, wb2)
                if racy:
                    print(f"RACY {runtime} {sc}/{name} {lang}: {wb} vs {wb2}")
                lines.append("[[case]]")
                lines.append(f"name = {toml_str(name)}")
                lines.append(f"abi = {toml_str(abi)}")
                for k in KEYS:
                    if k in c and k != "abi":
                        lines.append(f"{k} = {json.dumps(c[k])}")
                lines.append(f"langs = [{toml_str(lang)}]")
                lines.append(f"{outcome[0]} = {json.dumps(outcome[1])}")
                lines.append("wb = [")
                lines.extend(f"  {toml_str(line)}," for line in stdout)
                lines.append("]")
                lines.append("")
        with open(os.path.join(out_dir, f"{scenario}.toml"), "w") as f:
            f.write("\n".join(lines))
    print(f"recorded {runtime} ({version}) into {out_dir}")


if __name__ == "__main__":
    main()
