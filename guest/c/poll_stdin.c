/* Scenario `poll_stdin` in C on wasi-libc: poll() stdin for POLLIN with a 100 ms timeout (a
 * clock subscription beside the fd one), report what fired, then read what was announced. */
#include "wouldblock_guest.h"

int main(void) {
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int n = poll(&p, 1, 100);
    char extra[64];
    snprintf(extra, sizeof extra, "nevents=%d", n < 0 ? 0 : n);
    wb_report("poll_oneoff", -1, n < 0 ? errno : 0, extra);
    if (n > 0) {
        snprintf(extra, sizeof extra, "type=fd_read in=%d hup=%d", (p.revents & POLLIN) != 0,
                 (p.revents & POLLHUP) != 0);
        wb_report("event", 0, 0, extra);
        char buf[64];
        wb_report_read(0, read(0, buf, sizeof buf), buf);
    }
    return 0;
}
