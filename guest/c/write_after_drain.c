/* Scenario `write_after_drain` in C on wasi-libc: fill non-blocking stderr with 1000-byte
 * writes until one fails, poll() until POLLOUT (5 s at most), write once more. */
#include "wouldblock_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

static char chunk[1000];

static int write_once(void) {
    char extra[64];
    ssize_t n = write(2, chunk, sizeof chunk);
    if (n < 0) {
        snprintf(extra, sizeof extra, "len=%d", (int)sizeof chunk);
        wb_report("fd_write", 2, errno, extra);
        return -1;
    }
    snprintf(extra, sizeof extra, "len=%d n=%d", (int)sizeof chunk, (int)n);
    wb_report("fd_write", 2, 0, extra);
    return 0;
}

int main(void) {
    char extra[64];
    int rc = fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
    snprintf(extra, sizeof extra, "flags=%d", O_NONBLOCK);
    wb_report("fd_fdstat_set_flags", 2, rc == 0 ? 0 : errno, extra);
    if (rc != 0) {
        return 1;
    }
    memset(chunk, 'y', sizeof chunk);
    while (write_once() == 0) {
    }
    struct pollfd p = {.fd = 2, .events = POLLOUT};
    int n = poll(&p, 1, 5000);
    snprintf(extra, sizeof extra, "nevents=%d out=%d", n < 0 ? 0 : n, (p.revents & POLLOUT) != 0);
    wb_report("poll_oneoff", -1, n < 0 ? errno : 0, extra);
    write_once();
    return 0;
}
