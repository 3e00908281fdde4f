/* Scenario `stdin_nonblock_read` in C on wasi-libc: fcntl(O_NONBLOCK) on stdin, one read(),
 * report errno (the raw WASI value) or the data. Exits 1 when stdin cannot be made
 * non-blocking, without reading. */
#include "wouldblock_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int main(void) {
    char extra[128];
    int flags = fcntl(0, F_GETFL);
    int rc = fcntl(0, F_SETFL, flags | O_NONBLOCK);
    snprintf(extra, sizeof extra, "flags=%d", O_NONBLOCK);
    wb_report("fd_fdstat_set_flags", 0, rc == 0 ? 0 : errno, extra);
    if (rc != 0) {
        return 1;
    }
    flags = fcntl(0, F_GETFL);
    snprintf(extra, sizeof extra, "flags=%d", flags < 0 ? 0 : (flags & O_NONBLOCK));
    wb_report("fd_fdstat_get", 0, flags < 0 ? errno : 0, flags < 0 ? "" : extra);

    char buf[64];
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0) {
        wb_report("fd_read", 0, errno, "");
    } else {
        snprintf(extra, sizeof extra, "n=%d data=%.*s", (int)n, (int)n, buf);
        wb_report("fd_read", 0, 0, extra);
    }
    return 0;
}
