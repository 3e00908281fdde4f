/* Scenario `write_full_pipe` in C on wasi-libc: stderr O_NONBLOCK, then 5000-byte write()s
 * until one fails; reports each result (errno is the raw WASI value). */
#include "wouldblock_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int main(void) {
    char extra[64];
    int rc = fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
    snprintf(extra, sizeof extra, "flags=%d", O_NONBLOCK);
    wb_report("fd_fdstat_set_flags", 2, rc == 0 ? 0 : errno, extra);
    if (rc != 0) {
        return 1;
    }
    static char chunk[5000];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 16; i++) {
        ssize_t n = write(2, chunk, sizeof chunk);
        if (n < 0) {
            snprintf(extra, sizeof extra, "len=%d", (int)sizeof chunk);
            wb_report("fd_write", 2, errno, extra);
            break;
        }
        snprintf(extra, sizeof extra, "len=%d n=%d", (int)sizeof chunk, (int)n);
        wb_report("fd_write", 2, 0, extra);
    }
    return 0;
}
