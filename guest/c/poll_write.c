/* Scenario `poll_write` in C on wasi-libc: non-blocking stderr; poll() for POLLOUT while the
 * pipe has room; fill it; poll() again with a 50 ms timeout (only the timeout fires). */
#include "wouldblock_guest.h"

static void poll_out(void) {
    struct pollfd p = {.fd = 2, .events = POLLOUT};
    wb_report_poll_out(poll(&p, 1, 50), &p);
}

int main(void) {
    if (wb_set_nonblock(2) != 0) {
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
