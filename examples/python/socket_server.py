# A non-blocking server on a listener the host hands over (--tcplisten ADDR@FD+nonblock).
#
# This CPython embeds its standard library with wasi-vfs, which keeps descriptor numbers of its
# own: it takes the numbers right after the host's preopens (where a listener would go by
# default) and answers fcntl/fstat/poll on any number it did not see at start-up with EBADF.
# So the host puts the listener at a number of its choosing (@FD, told in
# WOULDBLOCK_LISTEN_FDS) and hands it over non-blocking already (+nonblock), as a parent may:
# accept() reaches the host directly, setblocking() cannot.
import os
import socket
import time

fd = int(os.environ["WOULDBLOCK_LISTEN_FDS"].split(",")[0])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM, fileno=fd)
try:
    server.setblocking(False)
except OSError as e:
    print("setblocking:", repr(e), flush=True)
try:
    server.accept()
except BlockingIOError as e:
    print("accept:", repr(e), flush=True)
while True:
    try:
        conn, _ = server.accept()
        break
    except BlockingIOError:
        time.sleep(0.01)
data = b""
while not data.endswith(b"\n"):
    chunk = conn.recv(100)
    if not chunk:
        break
    data += chunk
conn.sendall(data.upper())
print("served:", data, flush=True)
