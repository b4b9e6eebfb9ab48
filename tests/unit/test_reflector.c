/* SPDX-License-Identifier: MIT */
/* test_reflector.c - the reflector's defaults are client-go's */
#include "test_util.h"

#include "reflector.h"

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

/* Zero asks for the default: pages of 500, waits from 0.8 s doubling to
   30 s and calm for 2 min before they start over, watch timeouts drawn
   from [300, 600) s, stalls noticed 30 s past the watch timeout. */
static void test_zero_means_client_go_default(void **state)
{
    struct kinf__reflector_options o = { .page_size = 0 };

    (void)state;
    kinf__reflector_defaults(&o);
    assert_options(&o, 500, 800, 30000, 120000, 300);
    assert_int_equal(o.watch_stall_ms, 0);
}

/* A negative value is no wait at all, which would spin: it gets the
   default too. */
static void test_negative_means_default(void **state)
{
    struct kinf__reflector_options o = {
        .page_size = -1, .initial_backoff_ms = -5, .max_backoff_ms = -5,
        .backoff_reset_ms = -1, .min_watch_timeout_s = -300,
    };

    (void)state;
    kinf__reflector_defaults(&o);
    assert_options(&o, 500, 800, 30000, 120000, 300);
}

static void test_set_values_are_kept(void **state)
{
    struct kinf__reflector_options o = {
        .page_size = 7, .initial_backoff_ms = 5, .max_backoff_ms = 6,
        .backoff_reset_ms = 8, .min_watch_timeout_s = 9,
    };

    (void)state;
    kinf__reflector_defaults(&o);
    assert_options(&o, 7, 5, 6, 8, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_means_client_go_default),
        cmocka_unit_test(test_negative_means_default),
        cmocka_unit_test(test_set_values_are_kept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
