// wouldblock's runner for Deno and Bun, whose node:wasi implementations take the same
// construction as Node's: one preview1 guest, its arguments after it, stdio inherited, no
// environment, no preopens. `wasiImport` rather than `getImportObject()`, which Bun lacks.
// Exit code: the guest's; 134 when it traps.
import { readFileSync } from "node:fs";
import process from "node:process";
import { WASI } from "node:wasi";

const [guest, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [guest, ...args], env: {}, preopens: {}, returnOnExit: true });
try {
  const module = await WebAssembly.compile(readFileSync(guest));
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
  process.exitCode = wasi.start(instance) ?? 0;
} catch (e) {
  console.error(`trap: ${e?.message ?? e}`);
  process.exitCode = 134;
}
