// wouldblock's node:wasi runner: one preview1 guest, its arguments after it, stdio inherited,
// no environment, no preopens. Exit code: the guest's; 134 when it traps.
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";

const [guest, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [guest, ...args], env: {}, preopens: {}, returnOnExit: true });
try {
  const module = await WebAssembly.compile(readFileSync(guest));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  process.exitCode = wasi.start(instance);
} catch (e) {
  console.error(`trap: ${e.message}`);
  process.exitCode = 134;
}
