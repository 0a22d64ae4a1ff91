/* Internal: the compiler-specific pieces lib/ uses, in one place. Each has
 * a plain-C11 fallback except the 128-bit integers, which the exact
 * arithmetic of the trend and the peer policies' growth trim needs. */
#ifndef DYNMEM_LIB_COMPILER_H
#define DYNMEM_LIB_COMPILER_H

/* printf-style argument checking of a function's format (argument `fmt`)
 * and its variadic arguments (from `first`). */
#if defined(__GNUC__)
#define DYNMEM__PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define DYNMEM__PRINTF(fmt, first)
#endif

/* A hint to start loading the cache line at `addr`; never changes a
 * result. */
#if defined(__GNUC__)
#define DYNMEM__PREFETCH(addr) __builtin_prefetch(addr)
#else
#define DYNMEM__PREFETCH(addr) ((void)(addr))
#endif

/* 128-bit integers, for products of two 64-bit figures. */
#ifndef __SIZEOF_INT128__
#error "libdynmem needs a compiler with 128-bit integers (exact trend and policy arithmetic)"
#endif
__extension__ typedef __int128 dynmem__i128;
__extension__ typedef unsigned __int128 dynmem__u128;

#endif
