/* Scenario `poll_write` in C on wasi-libc: non-blocking stderr; poll() for POLLOUT while the
 * pipe has room; fill it; poll() again with a 50 ms timeout (only the timeout fires). */
#include "wouldblock_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

static void poll_out(void) {
    char extra[64];
    struct pollfd p = {.fd = 2, .events = POLLOUT};
    int n = poll(&p, 1, 50);
    snprintf(extra, sizeof extra, "nevents=%d out=%d", n < 0 ? 0 : n, (p.revents & POLLOUT) != 0);
    wb_report("poll_oneoff", -1, n < 0 ? errno : 0, extra);
}

int main(void) {
    char extra[64];
    int rc = fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
    snprintf(extra, sizeof extra, "flags=%d", O_NONBLOCK);
    wb_report("fd_fdstat_set_flags", 2, rc == 0 ? 0 : errno, extra);
    if (rc != 0) {
        return 1;
    }
    poll_out();
    static char chunk[4096];
    memset(chunk, 'z', sizeof chunk);
    while (write(2, chunk, sizeof chunk) > 0) {
    }
    poll_out();
    return 0;
}
