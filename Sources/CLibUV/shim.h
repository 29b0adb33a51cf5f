#ifndef ENGRAM_CLIBUV_SHIM_H
#define ENGRAM_CLIBUV_SHIM_H
// Only the public libuv header: Engram's Swift code calls libuv directly.
#include <uv.h>
#endif
