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
    /* The backoff alone goes 800, 1600, 3200, ... */
    static const struct {
        int64_t retry_after_s;
        int64_t wait_ms;
    } cases[] = {
        { 0, 800 },                 /* none asked: the backoff's */
        { 5, 5000 },                /* longer than 1600: the server's */
        { 1, 3200 },                /* shorter: the backoff's */
        { 60, 60000 },              /* twice the cap is allowed */
        { 61, 60000 },              /* more is not */
        { INT64_MAX / 2, 60000 },
        { -3, 30000 },              /* nonsense is ignored */
    };
    struct kinf__backoff b;

    (void)state;
    kinf__backoff_init(&b, 800, 30000, 120000, 1.0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        int64_t wait = kinf__backoff_next_with_retry_after(
            &b, (int64_t)i, 0.0, cases[i].retry_after_s);

        if (wait != cases[i].wait_ms)
            fail_msg("step %zu, Retry-After %lld: waited %lld, not %lld", i,
                     (long long)cases[i].retry_after_s, (long long)wait,
                     (long long)cases[i].wait_ms);
    }
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
