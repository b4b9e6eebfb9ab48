/* SPDX-License-Identifier: MIT */
/* e2e_lifecycle.c - start, stop, add, remove and free, racing each other */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define ROUNDS 15
#define SYNC_MS 10000

static char ns[128];

static int lifecycle_setup(void **state)
{
    if (cluster_group_setup(state) < 0)
        return -1;
    make_namespace(&cluster, ns, sizeof(ns), "life");
    create_pod(&cluster, ns, "p1");
    create_pod(&cluster, ns, "p2");
    /* A test that deadlocks fails by this alarm, not by hanging CI. */
    alarm(240);
    return 0;
}

static int lifecycle_teardown(void **state)
{
    delete_namespace(&cluster, ns);
    return cluster_group_teardown(state);
}

static kinf_informer *new_informer(void)
{
    kinf_informer_options opts = fast_options(ns);
    kinf_informer *inf = NULL;
    kinf_error err;

    assert_int_equal(kinf_informer_new(&inf, cluster.client, &opts, &err),
                     0);
    return inf;
}

/* ---- handlers removing each other ------------------------------------ */

struct pair {
    kinf_informer *inf;
    kinf_registration *reg[2];
    atomic_int entered;
    atomic_int removed;
    atomic_int results[2];
};

struct side {
    struct pair *pair;
    int me;
};

static void remove_other(const kinf_object *obj, bool initial, void *ud)
{
    struct side *s = ud;
    int other = 1 - s->me;

    (void)obj;
    (void)initial;
    /* Only the first add of each handler acts. */
    if (atomic_exchange(&s->pair->results[s->me], 1) != 0)
        return;
    /* Both callbacks are running at once before either removes. The
       test thread fails the test if this never happens. */
    atomic_fetch_add(&s->pair->entered, 1);
    for (int64_t until = now_ms() + test_ms(SYNC_MS);
         atomic_load(&s->pair->entered) < 2 && now_ms() < until;)
        sleep_ms(1);
    if (kinf_informer_remove_handler(s->pair->inf,
                                     s->pair->reg[other]) == 0)
        atomic_fetch_add(&s->pair->removed, 1);
}

static void test_handlers_remove_each_other(void **state)
{
    kinf_handler h = KINF_HANDLER_INIT;
    struct pair pair = {0};
    struct side sides[2] = { { &pair, 0 }, { &pair, 1 } };
    kinf_error err;

    (void)state;
    pair.inf = new_informer();
    h.on_add = remove_other;
    for (int i = 0; i < 2; i++)
        assert_int_equal(kinf_informer_add_handler(&pair.reg[i], pair.inf,
                                                   &h, &sides[i], NULL), 0);
    assert_int_equal(kinf_informer_start(pair.inf, &err), 0);
    /* Neither may wait for the other: both removals return. */
    WAIT_UNTIL(atomic_load(&pair.removed) == 2, SYNC_MS);
    kinf_informer_free(pair.inf);
}

/* ---- stops and frees from several places ----------------------------- */

struct stopper {
    kinf_informer *inf;
    atomic_int go;
    atomic_int done;
};

static void *stop_thread(void *arg)
{
    struct stopper *s = arg;

    while (!atomic_load(&s->go))
        ;
    kinf_informer_stop(s->inf);
    atomic_store(&s->done, 1);
    return NULL;
}

static void test_concurrent_stops_then_free(void **state)
{
    kinf_error err;

    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        struct stopper s = { new_informer(), 0, 0 };
        pthread_t t;

        assert_int_equal(kinf_informer_start(s.inf, &err), 0);
        sleep_ms(round % 3 * 20);
        pthread_create(&t, NULL, stop_thread, &s);
        atomic_store(&s.go, 1);
        kinf_informer_stop(s.inf);
        /* Both stops return only once everything has stopped. */
        assert_false(kinf_informer_has_synced(s.inf) &&
                     kinf_informer_wait_for_sync(s.inf, 0, &err) == 0);
        pthread_join(t, NULL);
        assert_int_equal(atomic_load(&s.done), 1);
        kinf_informer_free(s.inf);
    }
}

static void stop_from_handler(const kinf_object *obj, bool initial,
                              void *ud)
{
    struct stopper *s = ud;

    (void)obj;
    (void)initial;
    if (atomic_exchange(&s->go, 1) == 0) {
        kinf_informer_stop(s->inf);
        /* Freeing from here is refused (and logged), not a crash. */
        kinf_informer_free(s->inf);
        atomic_store(&s->done, 1);
    }
}

static void test_stop_from_a_handler(void **state)
{
    kinf_handler h = KINF_HANDLER_INIT;
    struct stopper s = { new_informer(), 0, 0 };
    kinf_error err;

    (void)state;
    h.on_add = stop_from_handler;
    assert_int_equal(kinf_informer_add_handler(NULL, s.inf, &h, &s, NULL),
                     0);
    assert_int_equal(kinf_informer_start(s.inf, &err), 0);
    WAIT_UNTIL(atomic_load(&s.done) == 1, SYNC_MS);
    /* The main thread's stop and free wait for that handler's thread. */
    kinf_informer_stop(s.inf);
    assert_int_equal(kinf_informer_wait_for_sync(s.inf, 0, &err),
                     KINF_ESTOPPED);
    /* Stopped from a callback, it starts again from outside. */
    assert_int_equal(kinf_informer_start(s.inf, &err), 0);
    assert_int_equal(kinf_informer_wait_for_sync(s.inf, test_ms(SYNC_MS),
                                                 &err), 0);
    kinf_informer_free(s.inf);
}

/* ---- registration racing start and stop ------------------------------ */

struct adder {
    kinf_informer *inf;
    kinf_registration *reg;
    atomic_int go;
};

static void *add_thread(void *arg)
{
    struct adder *a = arg;
    kinf_handler h = KINF_HANDLER_INIT;

    while (!atomic_load(&a->go))
        ;
    assert_int_equal(kinf_informer_add_handler(&a->reg, a->inf, &h, NULL,
                                               NULL), 0);
    return NULL;
}

static void test_add_handler_racing_start(void **state)
{
    kinf_error err;

    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        struct adder a = { new_informer(), NULL, 0 };
        pthread_t t;

        pthread_create(&t, NULL, add_thread, &a);
        atomic_store(&a.go, 1);
        assert_int_equal(kinf_informer_start(a.inf, &err), 0);
        pthread_join(t, NULL);
        /* Wherever it landed, the new handler gets a thread and syncs. */
        if (kinf_informer_wait_for_sync(a.inf, test_ms(SYNC_MS), &err) != 0)
            fail_msg("round %d: %s", round, err.message);
        assert_true(kinf_registration_has_synced(a.reg));
        kinf_informer_free(a.inf);
    }
}

static void *remove_thread(void *arg)
{
    struct adder *a = arg;

    while (!atomic_load(&a->go))
        ;
    assert_int_equal(kinf_informer_remove_handler(a->inf, a->reg), 0);
    return NULL;
}

static void count_add(const kinf_object *obj, bool initial, void *ud)
{
    (void)obj;
    (void)initial;
    sleep_ms(5);   /* be inside a callback when the race happens */
    atomic_fetch_add((atomic_int *)ud, 1);
}

static void free_counter(void *ud)
{
    atomic_fetch_add((atomic_int *)ud, 1000);
}

static void test_remove_racing_stop(void **state)
{
    kinf_handler h = KINF_HANDLER_INIT;
    kinf_error err;

    (void)state;
    h.on_add = count_add;
    for (int round = 0; round < ROUNDS; round++) {
        struct adder a = { new_informer(), NULL, 0 };
        atomic_int calls = 0;
        pthread_t t;

        assert_int_equal(kinf_informer_add_handler(&a.reg, a.inf, &h, &calls,
                                                   free_counter), 0);
        assert_int_equal(kinf_informer_start(a.inf, &err), 0);
        WAIT_UNTIL(atomic_load(&calls) >= 1, SYNC_MS);
        pthread_create(&t, NULL, remove_thread, &a);
        atomic_store(&a.go, 1);
        kinf_informer_stop(a.inf);
        pthread_join(t, NULL);
        kinf_informer_free(a.inf);
        /* user_data was released exactly once, after its last call. */
        assert_true(atomic_load(&calls) >= 1000 &&
                    atomic_load(&calls) < 2000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handlers_remove_each_other),
        cmocka_unit_test(test_concurrent_stops_then_free),
        cmocka_unit_test(test_stop_from_a_handler),
        cmocka_unit_test(test_add_handler_racing_start),
        cmocka_unit_test(test_remove_racing_stop),
    };

    return cmocka_run_group_tests(tests, lifecycle_setup,
                                  lifecycle_teardown);
}
