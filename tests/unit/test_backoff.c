/* SPDX-License-Identifier: MIT */
/* test_backoff.c - client-go's reflector backoff: 0.8 s doubling to 30 s */
#include "test_util.h"

#include "backoff.h"
#include "reflector.h"

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

static void assert_options(const struct kinf__reflector_options *o,
                           long page, int64_t initial_ms, int64_t max_ms,
                           int64_t reset_ms, long min_watch_s)
{
    assert_int_equal(o->page_size, page);
    assert_int_equal(o->initial_backoff_ms, initial_ms);
    assert_int_equal(o->max_backoff_ms, max_ms);
    assert_int_equal(o->backoff_reset_ms, reset_ms);
    assert_int_equal(o->min_watch_timeout_s, min_watch_s);
}

/* Options left at zero get client-go's values; set ones are kept. */
static void test_reflector_defaults(void **state)
{
    struct kinf__reflector_options o = { .page_size = 0 };

    (void)state;
    kinf__reflector_defaults(&o);
    assert_options(&o, 500, 800, 30000, 120000, 300);
    assert_int_equal(o.watch_stall_ms, 0);

    o = (struct kinf__reflector_options){
        .page_size = 7, .initial_backoff_ms = 5, .max_backoff_ms = 6,
        .backoff_reset_ms = 8, .min_watch_timeout_s = 9,
    };
    kinf__reflector_defaults(&o);
    assert_options(&o, 7, 5, 6, 8, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles_to_cap_without_jitter),
        cmocka_unit_test(test_jitter_stays_in_range),
        cmocka_unit_test(test_resets_after_calm),
        cmocka_unit_test(test_retry_after_bounds),
        cmocka_unit_test(test_reflector_defaults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
