/* Scenario `sock_recv_no_data` in C on wasi-libc: accept4(SOCK_NONBLOCK) a client on the
 * listener (fd 3) — wasi-libc's accept4 waits for it — then recv() and read() with nothing sent:
 * both fail with EAGAIN, the raw WASI `again`. */
#include "wouldblock_guest.h"

#include <sys/socket.h>

int main(void) {
    char extra[96];
    int fd = accept4(3, NULL, NULL, SOCK_NONBLOCK);
    int e = fd < 0 ? errno : 0;
    int flags = fd < 0 ? 0 : fcntl(fd, F_GETFL) & O_NONBLOCK;
    snprintf(extra, sizeof extra, "flags=%d new_fd=%d new_flags=%d", O_NONBLOCK, fd, flags);
    wb_report("sock_accept", 3, e, fd < 0 ? "flags=4" : extra);
    if (fd < 0) {
        return 1;
    }
    char buf[64];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
        wb_report("sock_recv", fd, errno, "");
    } else {
        snprintf(extra, sizeof extra, "n=%d", (int)n);
        wb_report("sock_recv", fd, 0, extra);
    }
    wb_report_read(fd, read(fd, buf, sizeof buf), buf);
    return 0;
}
