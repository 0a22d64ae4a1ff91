/* Negative control of the valgrind setup: a passing Criterion test that
 * leaks a block inside its worker process, the case Criterion itself
 * ignores. tests/valgrind/expect-leak.py runs it through vgrun.py and passes
 * only if the run fails with the leak reported. Not part of any suite run
 * under valgrind. */
#include <criterion/criterion.h>
#include <stdlib.h>

Test(valgrind_control, leaks_one_block)
{
    char *volatile p = malloc(123);
    cr_assert_not_null(p);
    p[0] = 1;
    p = NULL;
}
