/* White-box tests of the refusal-detail helpers (lib/detail.c): each one
 * writes its line into a handle's detail and returns the code it was
 * given; with a NULL detail (a handle that keeps none) each writes nothing
 * and returns the same code, and the copy out gives the empty text. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <string.h>

#include <dynmem/common.h>
#include <dynmem/pressure.h>
#include "detail.h"

#define MIB (UINT64_C(1) << 20)

DYNMEM__PRINTF(3, 4)
static int vset(char *detail, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = dynmem__detail_vset(detail, rc, fmt, ap);
    va_end(ap);
    return r;
}

/* Each helper once, with `detail` (an array or NULL); every call must
 * return the code it was given. */
static void every_helper(char *detail)
{
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.time_ms = 5000;
    s.committed_bytes = 600 * MIB;
    s.flags = DYNMEM_SAMPLE_HAS_AVAILABLE | DYNMEM_SAMPLE_HAS_TOTAL;
    s.available_bytes = 2048 * MIB;
    s.total_bytes = 1024 * MIB;
    static const int sample_codes[] = {
        DYNMEM_ERR_STRUCT_SIZE,           DYNMEM_ERR_STRUCT_RESERVED,
        DYNMEM_ERR_OUT_OF_RANGE,          DYNMEM_ERR_PRESSURE_INCONSISTENT,
        DYNMEM_ERR_NO_MEMORY,             DYNMEM_ERR_PRESSURE_TIME_BACKWARDS,
        DYNMEM_ERR_BAD_STATE, /* not a sample's: no line */
    };

    cr_assert_eq(dynmem__detail_set(detail, DYNMEM_ERR_BAD_STATE, "vm %d: off", 7),
                 DYNMEM_ERR_BAD_STATE);
    cr_assert_eq(vset(detail, DYNMEM_ERR_ADMISSION, "%s", "short"), DYNMEM_ERR_ADMISSION);
    cr_assert_eq(dynmem__detail_first(detail, DYNMEM_ERR_OUT_OF_RANGE, "first %d", 1),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem__detail_bad_param(detail, DYNMEM_ERR_OUT_OF_RANGE, "X", 9, 0, 4),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem__detail_bad_param(detail, DYNMEM_ERR_PRESSURE_UNALIGNED, "X", 3, 0, 4),
                 DYNMEM_ERR_PRESSURE_UNALIGNED);
    cr_assert_eq(dynmem__detail_no_param(detail, "setting", 42), DYNMEM_ERR_NOT_FOUND);
    for (size_t i = 0; i < sizeof sample_codes / sizeof sample_codes[0]; i++)
        cr_assert_eq(dynmem__detail_bad_sample(detail, sample_codes[i], &s, "the latest", 9000),
                     sample_codes[i]);
}

Test(detail, helpers_write_their_line_and_return_the_code)
{
    char detail[DYNMEM__DETAIL_LEN] = "";
    every_helper(detail);
    cr_assert_str_eq(detail, "sample at 5000 ms is older than the latest, at 9000 ms",
                     "the last line written (a code no sample refusal has writes none)");

    cr_assert_eq(dynmem__detail_first(detail, DYNMEM_ERR_NOT_FOUND, "second"),
                 DYNMEM_ERR_NOT_FOUND);
    cr_assert_str_eq(detail, "sample at 5000 ms is older than the latest, at 9000 ms",
                     "the first refusal of a call keeps its line");
    detail[0] = '\0';
    cr_assert_eq(dynmem__detail_first(detail, DYNMEM_ERR_NOT_FOUND, "second"),
                 DYNMEM_ERR_NOT_FOUND);
    cr_assert_str_eq(detail, "second");

    cr_assert_eq(dynmem__detail_bad_param(detail, DYNMEM_ERR_OUT_OF_RANGE, "X", 9, 0, 4),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_str_eq(detail, "X 9 outside 0..4");
    cr_assert_eq(dynmem__detail_bad_sample(detail, DYNMEM_ERR_PRESSURE_INCONSISTENT, &(struct
                 dynmem_pressure_sample){.time_ms = 1, .committed_bytes = MIB}, "l", 0),
                 DYNMEM_ERR_PRESSURE_INCONSISTENT);
    cr_assert_str_eq(detail, "sample at 1 ms: more memory available than in total "
                             "(committed 1 MiB)");
}

Test(detail, a_line_is_cut_to_the_array)
{
    char detail[DYNMEM__DETAIL_LEN + 8];
    memset(detail, 'g', sizeof detail);
    char long_text[2 * DYNMEM__DETAIL_LEN];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    dynmem__detail_set(detail, DYNMEM_ERR_BAD_STATE, "%s", long_text);
    cr_assert_eq(strlen(detail), DYNMEM__DETAIL_LEN - 1);
    for (size_t i = DYNMEM__DETAIL_LEN; i < sizeof detail; i++)
        cr_assert_eq(detail[i], 'g', "byte %zu past the array is untouched", i);
}

Test(detail, null_detail_writes_nothing_and_returns_the_code)
{
    every_helper(NULL); /* a write through NULL would crash here */
}

Test(detail, null_detail_copies_out_as_empty)
{
    char buf[8];
    memset(buf, 'g', sizeof buf);
    cr_assert_eq(dynmem__detail_copy(NULL, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "");
    cr_assert_eq(buf[1], 'g', "only the terminator is written");
    cr_assert_eq(dynmem__detail_copy(NULL, NULL, 0), 0, "sizing call");

    cr_assert_eq(dynmem__detail_copy("abcdef", buf, 4), 6, "snprintf's count");
    cr_assert_str_eq(buf, "abc");
    cr_assert_eq(dynmem__detail_copy("", buf, 1), 0);
    cr_assert_str_eq(buf, "");
}
