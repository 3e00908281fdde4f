/* Scenario `write_full_pipe` in C on wasi-libc: stderr O_NONBLOCK, then 5000-byte write()s
 * until one fails; reports each result (errno is the raw WASI value). */
#include "wouldblock_guest.h"

int main(void) {
    if (wb_set_nonblock(2) != 0) {
        return 1;
    }
    static char chunk[5000];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 16; i++) {
        ssize_t n = write(2, chunk, sizeof chunk);
        wb_report_write(2, sizeof chunk, n);
        if (n < 0) {
            break;
        }
    }
    return 0;
}
