/* bcryptprimitives.dll for Wine 8, which lacks it: Rust's std on Windows imports ProcessPrng
 * from it (since Rust 1.78) to seed HashMap keys and the like. ProcessPrng fills a buffer with
 * random bytes and always succeeds; this one asks advapi32's RtlGenRandom (SystemFunction036),
 * which Wine has. Used only to run the Windows build here, under Wine (make test-windows);
 * real Windows has its own. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
