/* cmocka fixtures over the fake platform (the fuzzer links the fake alone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "test_core_fake.h"

struct fake *fake_new(uint64_t budget, uint32_t max_maps, uint64_t client)
{
    struct fake *f = malloc(sizeof(*f));
    uint64_t out[VFA_MAX_SCALARS];

    assert_non_null(f);
    fake_init(f, budget, max_maps);
    assert_non_null(f->core);
    if (client)
        assert_int_equal(CALLN(f, client, VFA_SEL_OPEN, out, VFA_ABI_MAJOR, 0), 0);
    return f;
}

int fake_teardown(void **state)
{
    struct fake *f = *state;

    fake_fini(f);
    assert_int_equal(f->live, 0);   /* destroy released every mapping */
    free(f);
    return 0;
}
