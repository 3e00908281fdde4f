/* What every C guest scenario shares: the one-line report format (see guest/rust/src/lib.rs)
 * and the witx names of the WASI errnos. wasi-libc's errno values are the WASI values, so
 * `errno` after a failed libc call is the raw WASI errno as it crossed the boundary. */
#ifndef WOULDBLOCK_GUEST_H
#define WOULDBLOCK_GUEST_H

#include <stdio.h>
#include <string.h>

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

#endif
