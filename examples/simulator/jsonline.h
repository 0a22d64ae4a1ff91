/* The line of a JSON value, by path. */
#ifndef DYNMEM_SIM_JSONLINE_H
#define DYNMEM_SIM_JSONLINE_H

#include <stdbool.h>

/* Line (1-based) where the value at `path` starts ("host.memory_mib",
 * "vms[2]", "vms[2].demand[0].mib"; "" is the whole document), or 0 if the
 * path is not in the text. */
int json_line_of(const char *text, const char *path);

#endif
