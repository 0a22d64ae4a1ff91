/* Test helper: a handle's refusal detail (the *_last_error() functions)
 * read into a buffer and checked: what the function returned must be the
 * length of the text it wrote, so a test reading the detail also sees that
 * the reader sized it right and cut none of it. */
#ifndef DYNMEM_TESTS_LASTERROR_H
#define DYNMEM_TESTS_LASTERROR_H

/* Checks `n`, what a *_last_error() function returned, against the text it
 * wrote into `buf`: not an error code, and the text's length. Returns buf. */
const char *last_error_checked(int n, const char *buf);

/* LAST_ERROR(dynmem_balancer_last_error, b, text): the detail of handle b,
 * read into the array `text` (its size taken with sizeof) and checked. A
 * macro because each handle type has its own function (const
 * dynmem_balancer *, const dynmem_pressure *, ...): one function pointer
 * type for them all would mean calling them through a cast, which C leaves
 * undefined; the macro calls each one directly, its handle type-checked. */
#define LAST_ERROR(last_error, handle, text) \
    last_error_checked((last_error)((handle), (text), sizeof(text)), (text))

#endif
