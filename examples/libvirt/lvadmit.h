/* dynmem-libvirt admit DOMAIN: can a defined domain start now, and if not,
 * how much memory is missing. */
#ifndef DYNMEM_LIBVIRT_LVADMIT_H
#define DYNMEM_LIBVIRT_LVADMIT_H

#include "lvconf.h"

/* Prints the answer; returns 0 (it can start, or already runs), 1 (it
 * cannot: the line says how much is missing) or 2 (error). */
int lv_admit(const struct lv_options *o);

#endif
