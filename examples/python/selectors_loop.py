# A selectors loop on a non-blocking stdin whose data arrives later (--stdin after:MS:TEXT):
# the read before it raises BlockingIOError, select() waits until the data is there, and the
# loop ends at end-of-file.
import os
import selectors

os.set_blocking(0, False)
sel = selectors.DefaultSelector()
sel.register(0, selectors.EVENT_READ)
try:
    os.read(0, 100)
except BlockingIOError as e:
    print("before:", repr(e), flush=True)
while True:
    ready = sel.select(timeout=5)
    print("ready:", [key.fd for key, _ in ready], flush=True)
    data = os.read(0, 100)
    print("read:", data, flush=True)
    if not data:
        break
