/* Scenario `sock_recv_no_data` in C on wasi-libc: accept4(SOCK_NONBLOCK) a client on the
 * listener (fd 3) — wasi-libc's accept4 waits for it — then recv() and read() with nothing sent:
 * both fail with EAGAIN, the raw WASI `again`. */
#include "wouldblock_guest.h"

int main(void) {
    char extra[96];
    int fd = wb_accept_nonblock(3);
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
