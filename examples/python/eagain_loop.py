# N non-blocking reads (default 100,000) of an open, empty stdin, each raising
# BlockingIOError and caught: the whole stack per call (interpreter, libc, host). Prints the
# rate, timed around the loop alone. `make bench` runs it in the guest and under the native
# CPython; the suite runs it with 1,000.
import os
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
os.set_blocking(0, False)
caught = 0
start = time.perf_counter()
for _ in range(n):
    try:
        os.read(0, 64)
    except BlockingIOError:
        caught += 1
elapsed = time.perf_counter() - start
print(f"calls={n} caught={caught}")
print(f"per_second={n / elapsed:.0f}")
