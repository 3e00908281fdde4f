/* Scenario `write_after_drain` in C on wasi-libc: fill non-blocking stderr with 1000-byte
 * writes until one fails, poll() until POLLOUT (5 s at most), write once more. */
#include "wouldblock_guest.h"

static char chunk[1000];

static int write_once(void) {
    ssize_t n = write(2, chunk, sizeof chunk);
    wb_report_write(2, sizeof chunk, n);
    return n < 0 ? -1 : 0;
}

int main(void) {
    if (wb_set_nonblock(2) != 0) {
        return 1;
    }
    memset(chunk, 'y', sizeof chunk);
    while (write_once() == 0) {
    }
    struct pollfd p = {.fd = 2, .events = POLLOUT};
    wb_report_poll_out(poll(&p, 1, 5000), &p);
    write_once();
    return 0;
}
