// wouldblock's runner for @bjorn3/browser_wasi_shim under Node: one preview1 guest, its
// arguments after it, no environment, no preopens. The shim has no process stdio of its own:
// stdin is an Fd whose reads are blocking readSync(0) calls (EOF reads 0), stdout and stderr
// are written with writeSync, as a Node user would wire them. Every other call is the shim's
// own (e.g. fd_fdstat_set_flags answers notsup from its base Fd). Exit code: the guest's;
// 134 when it traps.
import { readFileSync, readSync, writeSync } from "node:fs";
import { ConsoleStdout, Fd, WASI, WASIProcExit, wasi } from "@bjorn3/browser_wasi_shim";

class Stdin extends Fd {
  fd_fdstat_get() {
    return { ret: 0, fdstat: new wasi.Fdstat(wasi.FILETYPE_CHARACTER_DEVICE, 0) };
  }
  fd_read(size) {
    const buf = Buffer.alloc(size);
    let n;
    try {
      n = readSync(0, buf, 0, size, null);
    } catch (e) {
      return { ret: e.code === "EAGAIN" ? wasi.ERRNO_AGAIN : wasi.ERRNO_IO, data: new Uint8Array() };
    }
    return { ret: 0, data: new Uint8Array(buf.subarray(0, n)) };
  }
}

const [guest, ...args] = process.argv.slice(2);
const fds = [new Stdin(), new ConsoleStdout((d) => writeSync(1, d)), new ConsoleStdout((d) => writeSync(2, d))];
const shim = new WASI([guest, ...args], [], fds);
try {
  const module = await WebAssembly.compile(readFileSync(guest));
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: shim.wasiImport });
  process.exitCode = shim.start(instance);
} catch (e) {
  if (e instanceof WASIProcExit) {
    process.exitCode = e.code;
  } else {
    console.error(`trap: ${e?.message ?? e}`);
    process.exitCode = 134;
  }
}
