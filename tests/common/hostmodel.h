/* Test helper: a reference model of a host session's books, written from
 * docs/sessions.md and docs/protocol.md, not from the engine. One byte per
 * guest page says what the page is; a transaction and an action are a few
 * numbers; the facts the engine must emit follow from the page changes.
 * Small and slow on purpose: tests/api/test_session_model.c drives the real
 * engine and this model with the same random guest and compares them after
 * every step.
 *
 * The model observes the requests the engine chose (the engine plans, the
 * model only checks that a request is legal and books what follows from
 * it), and the guest messages the test sends. */
#ifndef DYNMEM_TESTS_HOSTMODEL_H
#define DYNMEM_TESTS_HOSTMODEL_H

#include <dynmem/dynmem.h>

/* Guest-physical layout: boot memory, a hole, the hot-add window. */
#define HM_BOOT 1024u
#define HM_WIN_START 2048u
#define HM_WIN_PAGES 2048u
#define HM_SPACE (HM_WIN_START + HM_WIN_PAGES)

enum hm_page {
    HM_ABSENT,    /* never guest memory (the hole, beyond the window) */
    HM_PRESENT,   /* the guest's */
    HM_BALLOONED, /* the guest gave it to the host */
    HM_REMOVED,   /* hot-removed: gone until a hot-add gives it back */
    HM_WINDOW,    /* window page not added yet, still usable */
    HM_GIVEN_UP   /* window page given up until a system reset */
};

/* A FINAL fact the engine must emit. */
struct hm_final {
    uint32_t kind;
    uint64_t id;
    uint32_t flags;
    uint64_t requested_pages;
};

#define HM_FINALS_MAX 64u

struct hostmodel {
    unsigned char page[HM_SPACE];
    uint64_t count[HM_GIVEN_UP + 1]; /* pages in each state */
    uint64_t added;                  /* window pages present, ballooned or removed */
    bool reuse_off;                  /* a re-add stopped short: removed pages
                                      * are not offered until a system reset */
    /* settings */
    uint64_t reply_timeout_ms, post_init_wait_ms, chunk_pages;
    /* channel */
    uint32_t state; /* enum dynmem_session_host_state */
    uint32_t version;
    bool cap_balloon, cap_hot_add, cap_hot_remove;
    unsigned align_log2;
    /* timers */
    bool post_init_armed, reply_armed;
    uint64_t post_init_at, reply_at;
    /* the transaction in flight */
    uint32_t tx_kind; /* enum dynmem_action_kind */
    uint64_t tx_asked, tx_got, tx_start, tx_action_id;
    bool tx_for_action;
    bool tx_readd; /* the hot-add gives hot-removed pages back */
    /* the action */
    bool act_live;
    uint32_t act_kind;
    uint64_t act_id, act_pages, act_done;
    /* facts owed: pages moved by kind since the start, and the FINAL facts
     * not yet matched with the engine's */
    uint64_t fact_pages[5];
    struct hm_final finals[HM_FINALS_MAX];
    unsigned nfinals;
};

void hm_init(struct hostmodel *m, uint64_t reply_timeout_ms, uint64_t post_init_wait_ms,
             uint64_t chunk_pages);
uint64_t hm_count(const struct hostmodel *m, enum hm_page p);
/* The memory map figure the model holds (enum dynmem_memmap_figure). */
uint64_t hm_figure(const struct hostmodel *m, int figure);

/* Entry points, each with the time of the engine call it mirrors. */
void hm_open(struct hostmodel *m);
/* Due timers: run before recv, tick, set_target and start_action. */
void hm_timers(struct hostmodel *m, uint64_t now);
/* A guest message the codec accepted; returns the refusal the engine must
 * return (0 if none). */
int hm_recv(struct hostmodel *m, uint64_t now, const struct dynmem_proto_msg *msg);
/* A packet the engine sent; returns a description of what is wrong with it,
 * or NULL. */
const char *hm_sent(struct hostmodel *m, uint64_t now, const struct dynmem_proto_msg *msg);
/* After an engine call that plans (recv, tick, set_target, start_action):
 * an action that is live while the session is idle could not continue. */
void hm_planned(struct hostmodel *m);
void hm_set_target(struct hostmodel *m);
void hm_start_action(struct hostmodel *m, uint32_t kind, uint64_t pages, uint64_t id);
void hm_close(struct hostmodel *m);
void hm_reset(struct hostmodel *m, enum dynmem_session_reset kind);

#endif
