/* Test-only shim for Wine 8.0 (Debian 12), which lacks bcryptprimitives.dll: Rust's std on
 * Windows 10+ gets random bytes from its ProcessPrng. scripts/check-platforms compiles this into
 * the Wine prefix it runs the Windows binary in; it is never shipped (real Windows has the DLL). */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n; len -= n;
    }
    return TRUE;
}
