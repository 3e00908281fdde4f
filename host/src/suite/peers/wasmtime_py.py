# wouldblock's wasmtime-py runner: one preview1 guest, its arguments after it, stdio
# inherited, no environment, no preopens. Exit code: the guest's; 134 when it traps.
import sys

import wasmtime

guest, args = sys.argv[1], sys.argv[2:]
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
config = wasmtime.WasiConfig()
config.argv = [guest, *args]
config.inherit_stdin()
config.inherit_stdout()
config.inherit_stderr()
store.set_wasi(config)
linker = wasmtime.Linker(engine)
linker.define_wasi()
try:
    module = wasmtime.Module.from_file(engine, guest)
    instance = linker.instantiate(store, module)
    instance.exports(store)["_start"](store)
    code = 0
except wasmtime.ExitTrap as e:
    code = e.code
except wasmtime.Trap as e:
    print(f"trap: {e}", file=sys.stderr)
    code = 134
sys.stdout.flush()
sys.exit(code)
