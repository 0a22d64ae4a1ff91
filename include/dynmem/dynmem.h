/**
 * @file dynmem.h
 * @brief Umbrella header: include this one to get the whole public API.
 *
 * libdynmem gives a virtual-machine monitor what Hyper-V Dynamic Memory gives
 * Hyper-V: per-VM demand and pressure, a host-wide memory balancer, the
 * balloon/hot-add protocol codec and the books of what each guest holds.
 * Everything is pure and reentrant: no I/O, no threads, no clocks, no globals.
 */
#ifndef DYNMEM_DYNMEM_H
#define DYNMEM_DYNMEM_H

#include <dynmem/version.h>
#include <dynmem/common.h>
#include <dynmem/proto.h>
#include <dynmem/pages.h>
#include <dynmem/memmap.h>
#include <dynmem/pressure.h>
#include <dynmem/balancer.h>
#include <dynmem/session.h>

#endif /* DYNMEM_DYNMEM_H */
