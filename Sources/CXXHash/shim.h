#ifndef ENGRAM_CXXHASH_SHIM_H
#define ENGRAM_CXXHASH_SHIM_H
#include <xxhash.h>
#endif
