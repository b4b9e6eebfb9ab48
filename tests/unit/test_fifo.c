/* SPDX-License-Identifier: MIT */
/* test_fifo.c - DeltaFIFO sequences, tombstones and has_synced */
#include "test_util.h"

#include "fifo.h"

/* What one pop handed over, flattened to text: "key:Type@rv,Type@rv". */
struct popped {
    char text[512];
    bool initial;
};

static int describe(const struct kinf__deltas *d, bool initial, void *ud)
{
    struct popped *p = ud;
    size_t off = (size_t)snprintf(p->text, sizeof(p->text), "%s:", d->key);

    for (size_t i = 0; i < d->count; i++) {
        const struct kinf__delta *x = &d->items[i];
        const char *rv = x->obj ? kinf_object_resource_version(x->obj)
                                : "-";

        off += (size_t)snprintf(p->text + off, sizeof(p->text) - off,
                                "%s%s%s@%s", i ? "," : "",
                                kinf__delta_type_name(x->type),
                                x->tombstone ? "?" : "", rv);
    }
    p->initial = initial;
    return 0;
}

static const char *pop(struct kinf__fifo *f, struct popped *p)
{
    assert_int_equal(kinf__fifo_pop(f, describe, p), 0);
    return p->text;
}

static void act(int (*fn)(struct kinf__fifo *, kinf_object *),
                struct kinf__fifo *f, const char *name, const char *rv)
{
    kinf_object *obj = test_object("ns", name, rv);

    assert_int_equal(fn(f, obj), 0);
    kinf_object_unref(obj);
}

static void replace(struct kinf__fifo *f, const char **names,
                    const char **rvs, size_t n)
{
    kinf_object *objs[8] = {0};

    for (size_t i = 0; i < n; i++)
        objs[i] = test_object("ns", names[i], rvs[i]);
    assert_int_equal(kinf__fifo_replace(f, objs, n), 0);
    for (size_t i = 0; i < n; i++)
        kinf_object_unref(objs[i]);
}

static void test_order_per_key_and_across_keys(void **state)
{
    struct kinf__fifo *f = kinf__fifo_new(NULL);
    struct popped p;

    (void)state;
    act(kinf__fifo_add, f, "a", "1");
    act(kinf__fifo_add, f, "b", "2");
    act(kinf__fifo_update, f, "a", "3");
    act(kinf__fifo_delete, f, "a", "4");
    assert_int_equal(kinf__fifo_len(f), 2);
    assert_string_equal(pop(f, &p), "ns/a:Added@1,Updated@3,Deleted@4");
    assert_string_equal(pop(f, &p), "ns/b:Added@2");
    assert_int_equal(kinf__fifo_len(f), 0);
    kinf__fifo_free(f);
}

static void test_delete_of_unknown_key_is_ignored(void **state)
{
    kinf_store *known = NULL;
    struct kinf__fifo *f;

    (void)state;
    assert_int_equal(kinf_store_new(&known), 0);
    f = kinf__fifo_new(known);
    act(kinf__fifo_delete, f, "ghost", "9");
    assert_int_equal(kinf__fifo_len(f), 0);
    kinf__fifo_free(f);
    kinf_store_free(known);
}

static void test_replace_tombstones(void **state)
{
    const char *names[] = { "a", "b" };
    const char *rvs[] = { "10", "10" };
    kinf_store *known = NULL;
    kinf_object *gone = test_object("ns", "gone", "5");
    kinf_object *kept = test_object("ns", "a", "4");
    struct kinf__fifo *f;
    struct popped p;

    (void)state;
    assert_int_equal(kinf_store_new(&known), 0);
    kinf_store_add(known, gone);
    kinf_store_add(known, kept);
    f = kinf__fifo_new(known);

    /* A queued key missing from the list is a tombstone too, carrying
       its newest queued state. */
    act(kinf__fifo_add, f, "queued", "7");
    replace(f, names, rvs, 2);
    assert_string_equal(pop(f, &p), "ns/queued:Added@7,Deleted?@7");
    assert_string_equal(pop(f, &p), "ns/a:Replaced@10");
    assert_string_equal(pop(f, &p), "ns/b:Replaced@10");
    assert_string_equal(pop(f, &p), "ns/gone:Deleted?@5");
    assert_int_equal(kinf__fifo_len(f), 0);

    kinf_object_unref(gone);
    kinf_object_unref(kept);
    kinf__fifo_free(f);
    kinf_store_free(known);
}

static void test_consecutive_deletes_collapse(void **state)
{
    kinf_store *known = NULL;
    kinf_object *x = test_object("ns", "x", "3");
    struct kinf__fifo *f;
    struct popped p;

    (void)state;
    assert_int_equal(kinf_store_new(&known), 0);
    kinf_store_add(known, x);
    f = kinf__fifo_new(known);

    /* Relist tombstone, then the real delete: one Deleted that knows. */
    replace(f, NULL, NULL, 0);
    act(kinf__fifo_delete, f, "x", "4");
    assert_string_equal(pop(f, &p), "ns/x:Deleted@4");

    kinf_object_unref(x);
    kinf__fifo_free(f);
    kinf_store_free(known);
}

static void test_has_synced_after_initial_list_popped(void **state)
{
    const char *names[] = { "a", "b" };
    const char *rvs[] = { "1", "2" };
    struct kinf__fifo *f = kinf__fifo_new(NULL);
    struct popped p;

    (void)state;
    assert_false(kinf__fifo_has_synced(f));
    replace(f, names, rvs, 2);
    assert_false(kinf__fifo_has_synced(f));
    pop(f, &p);
    assert_true(p.initial);
    assert_false(kinf__fifo_has_synced(f));
    pop(f, &p);
    assert_true(p.initial);
    assert_true(kinf__fifo_has_synced(f));

    /* Later lists do not count as initial. */
    replace(f, names, rvs, 1);
    pop(f, &p);
    assert_false(p.initial);
    kinf__fifo_free(f);
}

static void test_empty_first_list_syncs_at_once(void **state)
{
    struct kinf__fifo *f = kinf__fifo_new(NULL);

    (void)state;
    replace(f, NULL, NULL, 0);
    assert_true(kinf__fifo_has_synced(f));
    kinf__fifo_free(f);
}

static void test_resync_skips_pending_keys(void **state)
{
    kinf_store *known = NULL;
    kinf_object *a = test_object("ns", "a", "1");
    kinf_object *b = test_object("ns", "b", "1");
    struct kinf__fifo *f;
    struct popped p;

    (void)state;
    assert_int_equal(kinf_store_new(&known), 0);
    kinf_store_add(known, a);
    kinf_store_add(known, b);
    f = kinf__fifo_new(known);
    act(kinf__fifo_update, f, "a", "2");
    assert_int_equal(kinf__fifo_resync(f), 0);
    assert_string_equal(pop(f, &p), "ns/a:Updated@2");
    assert_string_equal(pop(f, &p), "ns/b:Sync@1");

    kinf_object_unref(a);
    kinf_object_unref(b);
    kinf__fifo_free(f);
    kinf_store_free(known);
}

static void test_close_wakes_pop(void **state)
{
    struct kinf__fifo *f = kinf__fifo_new(NULL);
    struct popped p;

    (void)state;
    kinf__fifo_close(f);
    assert_int_equal(kinf__fifo_pop(f, describe, &p), KINF_ESTOPPED);
    kinf__fifo_reopen(f);
    act(kinf__fifo_add, f, "a", "1");
    assert_string_equal(pop(f, &p), "ns/a:Added@1");
    kinf__fifo_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_per_key_and_across_keys),
        cmocka_unit_test(test_delete_of_unknown_key_is_ignored),
        cmocka_unit_test(test_replace_tombstones),
        cmocka_unit_test(test_consecutive_deletes_collapse),
        cmocka_unit_test(test_has_synced_after_initial_list_popped),
        cmocka_unit_test(test_empty_first_list_syncs_at_once),
        cmocka_unit_test(test_resync_skips_pending_keys),
        cmocka_unit_test(test_close_wakes_pop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
