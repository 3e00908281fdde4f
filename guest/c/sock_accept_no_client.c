/* Scenario `sock_accept_no_client` in C on wasi-libc: the listener (fd 3) O_NONBLOCK, then
 * __wasi_sock_accept, the raw preview1 call (sock_recv_no_data.c goes through libc's accept4),
 * with no client: `again`. */
#include "wouldblock_guest.h"

#include <wasi/api.h>

int main(void) {
    if (wb_set_nonblock(3) != 0) {
        return 1;
    }
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_sock_accept(3, 0, &fd);
    wb_report("sock_accept", 3, e, "flags=0");
    return 0;
}
