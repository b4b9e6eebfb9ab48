/* SPDX-License-Identifier: MIT */
/* test_util.h - small helpers shared by the unit tests */
#ifndef KINF_TEST_UTIL_H
#define KINF_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <kinformer.h>

/* A pod-like object; ns may be NULL for cluster-scoped. */
static inline kinf_object *test_object(const char *ns, const char *name,
                                       const char *rv)
{
    json_t *meta = json_pack("{s:s, s:s}", "name", name,
                             "resourceVersion", rv);
    json_t *root;
    kinf_object *obj = NULL;

    if (ns)
        json_object_set_new(meta, "namespace", json_string(ns));
    root = json_pack("{s:s, s:s, s:o}", "kind", "Pod", "apiVersion", "v1",
                     "metadata", meta);
    assert_int_equal(kinf_object_new_from_json(&obj, root, NULL), 0);
    json_decref(root);
    return obj;
}

/* Whole file into memory, NUL-terminated; fails the test if missing. */
static inline char *test_read_file(const char *dir, const char *name,
                                   size_t *len)
{
    char path[1024];
    FILE *f;
    char *buf;
    long size;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static inline const char *test_data_dir(void)
{
    const char *dir = getenv("KINF_TEST_DATA");

    return dir ? dir : "tests/sim";
}

/* The body of a capture in tests/sim/captures: what follows the blank
   line after its headers, NUL-terminated. */
static inline char *test_capture_body(const char *name, size_t *len)
{
    char path[256];
    size_t total;
    char *text;
    char *body;
    char *copy;

    snprintf(path, sizeof(path), "captures/%s", name);
    text = test_read_file(test_data_dir(), path, &total);
    body = strstr(text, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    *len = total - (size_t)(body - text);
    copy = malloc(*len + 1);
    assert_non_null(copy);
    memcpy(copy, body, *len + 1);
    free(text);
    return copy;
}

#endif
