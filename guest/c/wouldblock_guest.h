/* What every C guest scenario shares: the one-line report format (see guest/rust/src/lib.rs)
 * and the witx names of the WASI errnos. wasi-libc's errno values are the WASI values, so
 * `errno` after a failed libc call is the raw WASI errno as it crossed the boundary. */
#ifndef WOULDBLOCK_GUEST_H
#define WOULDBLOCK_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

static const char *const WB_NAMES[77] = {
    "success", "2big", "acces", "addrinuse", "addrnotavail", "afnosupport", "again", "already",
    "badf", "badmsg", "busy", "canceled", "child", "connaborted", "connrefused", "connreset",
    "deadlk", "destaddrreq", "dom", "dquot", "exist", "fault", "fbig", "hostunreach",
    "idrm", "ilseq", "inprogress", "intr", "inval", "io", "isconn", "isdir",
    "loop", "mfile", "mlink", "msgsize", "multihop", "nametoolong", "netdown", "netreset",
    "netunreach", "nfile", "nobufs", "nodev", "noent", "noexec", "nolck", "nolink",
    "nomem", "nomsg", "noprotoopt", "nospc", "nosys", "notconn", "notdir", "notempty",
    "notrecoverable", "notsock", "notsup", "notty", "nxio", "overflow", "ownerdead", "perm",
    "pipe", "proto", "protonosupport", "prototype", "range", "rofs", "spipe", "srch",
    "stale", "timedout", "txtbsy", "xdev", "notcapable",
};

static inline const char *wb_errno_name(int e) {
    return (e >= 0 && e < 77) ? WB_NAMES[e] : "unknown";
}

/* Prints `WB op=<op> fd=<fd> errno=<e> name=<name>` followed by `extra` (may be "");
 * `fd=none` for a negative fd (calls on no descriptor). */
static inline void wb_report(const char *op, int fd, int e, const char *extra) {
    char fdtext[16];
    if (fd < 0) {
        snprintf(fdtext, sizeof fdtext, "none");
    } else {
        snprintf(fdtext, sizeof fdtext, "%d", fd);
    }
    printf("WB op=%s fd=%s errno=%d name=%s%s%s\n", op, fdtext, e, wb_errno_name(e),
           extra[0] ? " " : "", extra);
    fflush(stdout);
}

/* Sets O_NONBLOCK on `fd` (keeping its other flags) and reports the fd_fdstat_set_flags it
 * made; 0 on success, -1 (errno set) when the runtime refused. */
static inline int wb_set_nonblock(int fd) {
    char extra[32];
    int rc = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int e = rc == 0 ? 0 : errno;
    snprintf(extra, sizeof extra, "flags=%d", O_NONBLOCK);
    wb_report("fd_fdstat_set_flags", fd, e, extra);
    errno = e;
    return rc == 0 ? 0 : -1;
}

/* Reports a read(): `r` is its result (errno read when negative), `buf` the bytes read. */
static inline void wb_report_read(int fd, ssize_t r, const char *buf) {
    char extra[128];
    if (r < 0) {
        wb_report("fd_read", fd, errno, "");
    } else {
        snprintf(extra, sizeof extra, "n=%d data=%.*s", (int)r, (int)r, buf);
        wb_report("fd_read", fd, 0, extra);
    }
}

/* Reports a write() of `len` bytes: `r` is its result (errno read when negative). */
static inline void wb_report_write(int fd, size_t len, ssize_t r) {
    char extra[64];
    if (r < 0) {
        int e = errno;
        snprintf(extra, sizeof extra, "len=%d", (int)len);
        wb_report("fd_write", fd, e, extra);
    } else {
        snprintf(extra, sizeof extra, "len=%d n=%d", (int)len, (int)r);
        wb_report("fd_write", fd, 0, extra);
    }
}

/* Reports a poll() for POLLOUT: `n` is its result (errno read when negative). */
static inline void wb_report_poll_out(int n, const struct pollfd *p) {
    char extra[64];
    snprintf(extra, sizeof extra, "nevents=%d out=%d", n < 0 ? 0 : n, (p->revents & POLLOUT) != 0);
    wb_report("poll_oneoff", -1, n < 0 ? errno : 0, extra);
}

/* accept4(SOCK_NONBLOCK) on `listener` (wasi-libc's waits for a client), reported as the
 * Rust guests report sock_accept; the new descriptor, or -1 with errno set. */
static inline int wb_accept_nonblock(int listener) {
    char extra[96];
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    int e = fd < 0 ? errno : 0;
    int flags = fd < 0 ? 0 : fcntl(fd, F_GETFL) & O_NONBLOCK;
    snprintf(extra, sizeof extra, "flags=%d new_fd=%d new_flags=%d", O_NONBLOCK, fd, flags);
    wb_report("sock_accept", listener, e, fd < 0 ? "flags=4" : extra);
    errno = e;
    return fd;
}

#endif
