#!/usr/bin/env python3
"""Records what another WASI runtime does with the guests: `tests/record_peer.py RUNTIME NOTE`.

Runs the cases node's recordings define (tests/expectations/node/: the same scenarios, stdin,
arguments and deadlines) under RUNTIME with `wouldblock suite --runtime RUNTIME`, twice, and
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
TEMPLATE = "node"
KEYS = ("abi", "stdin", "args", "timeout_ms")


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
        results[(c["scenario"], c["case"], c["lang"])] = (outcome, c["wb"])
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
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    runtime, note = sys.argv[1], sys.argv[2]
    templates = {}
    scratch = tempfile.mkdtemp(prefix="wouldblock-record-")
    os.makedirs(os.path.join(scratch, runtime))
    for name in sorted(os.listdir(os.path.join(EXPECTATIONS, TEMPLATE))):
        with open(os.path.join(EXPECTATIONS, TEMPLATE, name), "rb") as f:
            cases = tomllib.load(f)["case"]
        scenario = name.removesuffix(".toml")
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
        lines = [f"# {scenario} under {version}: what it does today (recorded by",
                 "# tests/record_peer.py, kept true by CI).", f"# {note}", ""]
        for c in cases:
            for (sc, name, lang), (outcome, wb) in sorted(first.items()):
                if sc != scenario or name != c["name"]:
                    continue
                outcome2, wb2 = second[(sc, name, lang)]
                if outcome != outcome2:
                    print(f"RACY {runtime} {sc}/{name} {lang}: {outcome} vs {outcome2}")
                stdout, racy = merge(wb, wb2)
                if racy:
                    print(f"RACY {runtime} {sc}/{name} {lang}: {wb} vs {wb2}")
                lines.append("[[case]]")
                lines.append(f"name = {toml_str(name)}")
                for k in KEYS:
                    if k in c:
                        lines.append(f"{k} = {json.dumps(c[k])}")
                lines.append(f"langs = [{toml_str(lang)}]")
                lines.append(f"{outcome[0]} = {json.dumps(outcome[1])}")
                lines.append("stdout = [")
                lines.extend(f"  {toml_str(line)}," for line in stdout)
                lines.append("]")
                lines.append("")
        with open(os.path.join(out_dir, f"{scenario}.toml"), "w") as f:
            f.write("\n".join(lines))
    print(f"recorded {runtime} ({version}) into {out_dir}")


if __name__ == "__main__":
    main()
