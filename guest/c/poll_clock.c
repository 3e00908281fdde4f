/* Scenario `poll_clock` in C on wasi-libc: poll() with no descriptors and a 20 ms timeout
 * (a lone clock subscription), then nanosleep(), each checked against the monotonic clock. */
#include "wouldblock_guest.h"

#include <time.h>

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(void) {
    char extra[64];
    long long start = now_ms();
    int n = poll(NULL, 0, 20);
    snprintf(extra, sizeof extra, "nevents=%d", n < 0 ? 0 : n);
    wb_report("poll_oneoff", -1, n < 0 ? errno : 0, extra);
    snprintf(extra, sizeof extra, "waited=%s", now_ms() - start >= 20 ? "true" : "false");
    wb_report("elapsed", -1, 0, extra);
    start = now_ms();
    struct timespec d = {.tv_sec = 0, .tv_nsec = 20 * 1000000};
    int rc = nanosleep(&d, NULL);
    wb_report("nanosleep", -1, rc == 0 ? 0 : errno, "");
    snprintf(extra, sizeof extra, "waited=%s", now_ms() - start >= 20 ? "true" : "false");
    wb_report("elapsed", -1, 0, extra);
    return 0;
}
