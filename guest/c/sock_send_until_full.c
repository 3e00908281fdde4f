/* Scenario `sock_send_until_full` in C on wasi-libc: accept4(SOCK_NONBLOCK) a client that does
 * not read, send() 64 KiB chunks until one fails (the last success may be short), report the
 * total, then shutdown(SHUT_WR) so that the client sees the end. */
#include "wouldblock_guest.h"

static char chunk[65536];

int main(void) {
    char extra[96];
    int fd = wb_accept_nonblock(3);
    if (fd < 0) {
        return 1;
    }
    memset(chunk, 's', sizeof chunk);
    long total = 0;
    for (int i = 0; i < 4096; i++) {
        ssize_t n = send(fd, chunk, sizeof chunk, 0);
        int err = n < 0 ? errno : 0;
        snprintf(extra, sizeof extra, "len=%d n=%d", (int)sizeof chunk, n < 0 ? 0 : (int)n);
        wb_report("sock_send", fd, err, extra);
        if (n < 0) {
            break;
        }
        total += n;
    }
    printf("WB op=total fd=%d errno=0 name=success sent=%ld\n", fd, total);
    fflush(stdout);
    int rc = shutdown(fd, SHUT_WR);
    snprintf(extra, sizeof extra, "how=%d", SHUT_WR);
    wb_report("sock_shutdown", fd, rc == 0 ? 0 : errno, extra);
    return 0;
}
