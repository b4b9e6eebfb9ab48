/* SPDX-License-Identifier: MIT */
/* test_backoff.c - client-go's reflector backoff: 0.8 s doubling to 30 s */
#include "test_util.h"

#include "backoff.h"

static void test_doubles_to_cap_without_jitter(void **state)
{
    static const int64_t want[] = {
        800, 1600, 3200, 6400, 12800, 25600, 30000, 30000
    };
    struct kinf__backoff b;
    int64_t now = 1000;

    (void)state;
    kinf__backoff_init(&b, 800, 30000, 120000, 1.0);
    for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
        assert_int_equal(kinf__backoff_next(&b, now, 0.0), want[i]);
        now += 1000;
    }
}

static void test_jitter_stays_in_range(void **state)
{
    struct kinf__backoff b;

    (void)state;
    kinf__backoff_init(&b, 800, 30000, 120000, 1.0);
    /* jitter 1.0: wait in [d, 2d) */
    assert_int_equal(kinf__backoff_next(&b, 1, 0.999), 1599);
    assert_int_equal(kinf__backoff_next(&b, 2, 0.5), 2400);
}

static void test_resets_after_calm(void **state)
{
    struct kinf__backoff b;

    (void)state;
    kinf__backoff_init(&b, 800, 30000, 120000, 1.0);
    kinf__backoff_next(&b, 0, 0.0);
    kinf__backoff_next(&b, 1000, 0.0);
    assert_int_equal(kinf__backoff_next(&b, 2000, 0.0), 3200);
    assert_int_equal(kinf__backoff_next(&b, 2000 + 120001, 0.0), 800);
}

/* Retry-After lengthens a wait but never shortens one, and a server
   cannot ask for more than twice the cap. */
static void test_retry_after_bounds(void **state)
{
    struct kinf__backoff b;

    (void)state;
    kinf__backoff_init(&b, 800, 30000, 120000, 1.0);
    assert_int_equal(kinf__backoff_next_after(&b, 0, 0.0, 0), 800);
    assert_int_equal(kinf__backoff_next_after(&b, 1, 0.0, 5), 5000);
    assert_int_equal(kinf__backoff_next_after(&b, 2, 0.0, 1), 3200);
    assert_int_equal(kinf__backoff_next_after(&b, 3, 0.0, 60), 60000);
    assert_int_equal(kinf__backoff_next_after(&b, 4, 0.0, 61), 60000);
    assert_int_equal(kinf__backoff_next_after(&b, 5, 0.0, INT64_MAX / 2),
                     60000);
    assert_int_equal(kinf__backoff_next_after(&b, 6, 0.0, -3), 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles_to_cap_without_jitter),
        cmocka_unit_test(test_jitter_stays_in_range),
        cmocka_unit_test(test_resets_after_calm),
        cmocka_unit_test(test_retry_after_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
