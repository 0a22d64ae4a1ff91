/* Test helper: a host session and a guest session wired back to back
 * through the real codec, with a clock that jumps from deadline to
 * deadline, and a check that both sides' books agree. */
#ifndef DYNMEM_TESTS_SESSPAIR_H
#define DYNMEM_TESTS_SESSPAIR_H

#include <dynmem/dynmem.h>

#define GIB_PAGES (UINT64_C(1) << 18)
#define MIB_PAGES UINT64_C(256)

struct sesspair {
    struct dynmem_memmap *map;
    dynmem_session_host *h;
    dynmem_session_guest *g;
    uint64_t now;
    int host_rc;  /* first refusal of the host, 0 if none */
    int guest_rc; /* first refusal of the guest */
    int drop_to_host; /* >0: drop that many guest->host packets */
};

/* Boot memory [0, boot_pages) on both sides; a hot-add window if
 * window_pages is not 0. alloc may be NULL. Returns 0 or an error. */
int sesspair_init(struct sesspair *p, uint64_t boot_pages, uint64_t window_start,
                  uint64_t window_pages, const struct dynmem_allocator *alloc);
void sesspair_fini(struct sesspair *p);
/* Moves packets both ways until neither side has one. */
void sesspair_pump(struct sesspair *p);
/* Lets time run to `until`, firing every deadline on the way. */
void sesspair_run(struct sesspair *p, uint64_t until);
/* Open, connect and wait out the post-init delay. */
void sesspair_connect(struct sesspair *p);
/* 1 if the host's ballooned pages are exactly the guest's and the map's
 * figures add up. */
int sesspair_books_agree(const struct sesspair *p);
/* 1 if every page the host counts as ballooned the guest ballooned too (the
 * host may count fewer, e.g. after an allocation failure) and the map's
 * CURRENT figure adds up. */
int sesspair_host_within_guest(const struct sesspair *p);
uint64_t sesspair_fig(const struct sesspair *p, enum dynmem_memmap_figure f);
/* Drains the host's events; sums the bytes of FACT events and ORs the flags
 * of the FINAL ones into *final_flags (either pointer may be NULL);
 * returns the number of events. */
int sesspair_drain(struct sesspair *p, uint64_t *fact_bytes, uint32_t *final_flags);

#endif
