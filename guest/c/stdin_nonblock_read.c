/* Scenario `stdin_nonblock_read` in C on wasi-libc: fcntl(O_NONBLOCK) on stdin, one read(),
 * report errno (the raw WASI value) or the data. Exits 1 when stdin cannot be made
 * non-blocking, without reading. */
#include "wouldblock_guest.h"

int main(void) {
    if (wb_set_nonblock(0) != 0) {
        return 1;
    }
    char extra[32];
    int flags = fcntl(0, F_GETFL);
    snprintf(extra, sizeof extra, "flags=%d", flags < 0 ? 0 : (flags & O_NONBLOCK));
    wb_report("fd_fdstat_get", 0, flags < 0 ? errno : 0, flags < 0 ? "" : extra);

    char buf[64];
    wb_report_read(0, read(0, buf, sizeof buf), buf);
    return 0;
}
