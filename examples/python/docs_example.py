# The Python docs' example, in the guest: stdin is an open pipe with no data; a non-blocking
# read raises BlockingIOError. The guest's CPython (on wasi-libc) says Errno 6, WASI's EAGAIN;
# the host prints what CPython on Linux, macOS or Windows would have said (--platform).
import os

os.set_blocking(0, False)
print("blocking:", os.get_blocking(0), flush=True)
try:
    os.read(0, 100)
except BlockingIOError as e:
    print("caught:", repr(e), flush=True)
    raise
