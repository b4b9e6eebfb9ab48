/* SPDX-License-Identifier: MIT */
/* test_config.c - kubeconfig search, merge, fields and error reports */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <kinformer/config.h>
#include <kinformer/error.h>

#include "config.h"

#ifndef PATH_MAX
#  define PATH_MAX 4096
#endif

#define NBUF 16

/* Each test runs in a fresh temporary directory that is also $HOME, so
   a developer's real ~/.kube/config can never leak in. */
struct fixture {
    char dir[PATH_MAX];
};

static char orig_cwd[PATH_MAX];
static char path_bufs[NBUF][PATH_MAX + 64];
static int path_next;

#define assert_contains(hay, needle) \
    do { \
        if (!strstr((hay), (needle))) { \
            fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
        } \
    } while (0)

#define assert_lacks(hay, needle) \
    do { \
        if (strstr((hay), (needle))) { \
            fail_msg("\"%s\" contains \"%s\"", (hay), (needle)); \
        } \
    } while (0)

/* Shared pieces of YAML. */
#define HEAD "apiVersion: v1\nkind: Config\n"
#define CTX_C1 \
    "contexts:\n" \
    "- name: c1\n" \
    "  context: {cluster: k1, user: u1}\n"
#define CLUSTER_K1 \
    "clusters:\n" \
    "- name: k1\n" \
    "  cluster: {server: \"https://k1.example:6443\"}\n"
#define USER_U1 \
    "users:\n" \
    "- name: u1\n" \
    "  user: {token: t1}\n"

#define CA_PEM \
    "-----BEGIN CERTIFICATE-----\nCA-DATA\n-----END CERTIFICATE-----\n"
#define CA_B64 \
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBLURBVEEKLS0tLS1FTkQgQ0VS" \
    "VElGSUNBVEUtLS0tLQo="

/* ---- helpers ---------------------------------------------------------- */

static void rm_rf(const char *path)
{
    struct stat st;
    DIR *dir;
    struct dirent *ent;
    char child[PATH_MAX];

    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        dir = opendir(path);
        while (dir && (ent = readdir(dir)) != NULL) {
            if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
                continue;
            snprintf(child, sizeof(child), "%s/%s", path, ent->d_name);
            rm_rf(child);
        }
        if (dir) {
            closedir(dir);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* An absolute path inside the test directory; the buffer is reused after
   NBUF calls. */
static const char *tpath(struct fixture *fx, const char *rel)
{
    char *buf = path_bufs[path_next];

    path_next = (path_next + 1) % NBUF;
    snprintf(buf, sizeof(path_bufs[0]), "%s/%s", fx->dir, rel);
    return buf;
}

static void mkdir_parents(const char *path)
{
    char tmp[PATH_MAX];
    char *p;

    snprintf(tmp, sizeof(tmp), "%s", path);
    for (p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0700);
            *p = '/';
        }
    }
}

/* Write content to rel (creating directories); returns its path. */
static const char *write_file(struct fixture *fx, const char *rel,
                              const char *content)
{
    const char *path = tpath(fx, rel);
    FILE *fp;

    mkdir_parents(path);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(content, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    return path;
}

/* 1-based line and column where needle first occurs in text. */
static void pos_of(const char *text, const char *needle, int *line,
                   int *column)
{
    const char *hit = strstr(text, needle);
    const char *p;

    assert_non_null(hit);
    *line = 1;
    *column = 1;
    for (p = text; p < hit; p++) {
        if (*p == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

/* Load expecting KINF_ECONFIG; the message must name file (if given). */
static void expect_error(const char *path, const char *context,
                         const char *file, kinf_error *err)
{
    kinf_config *cfg = (kinf_config *)(uintptr_t)0x1;
    int rc;

    rc = kinf_config_load_kubeconfig(&cfg, path, context, err);
    assert_int_equal(rc, KINF_ECONFIG);
    assert_int_equal(err->code, KINF_ECONFIG);
    /* out is untouched on failure */
    assert_ptr_equal(cfg, (kinf_config *)(uintptr_t)0x1);
    if (file) {
        assert_contains(err->message, file);
    }
}

/* Expect an error at the position of needle in yaml. */
static void expect_error_at(const char *path, const char *yaml,
                            const char *needle, kinf_error *err)
{
    int line;
    int column;

    expect_error(path, NULL, path, err);
    pos_of(yaml, needle, &line, &column);
    assert_int_equal(err->line, line);
    assert_int_equal(err->column, column);
}

static kinf_config *load_ok(const char *path, const char *context)
{
    kinf_config *cfg = NULL;
    kinf_error err;
    int rc;

    rc = kinf_config_load_kubeconfig(&cfg, path, context, &err);
    if (rc != 0) {
        fail_msg("load failed (%d): %s", rc, err.message);
    }
    assert_non_null(cfg);
    assert_int_equal(err.code, 0);
    return cfg;
}

static void assert_blob(const struct kinf__blob *blob, const char *text)
{
    assert_non_null(blob->data);
    assert_int_equal(blob->len, strlen(text));
    assert_memory_equal(blob->data, text, strlen(text));
    assert_int_equal(blob->data[blob->len], '\0');
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    char templ[PATH_MAX];

    if (!fx)
        return -1;
    snprintf(templ, sizeof(templ), "%s/kinf-config-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    /* realpath: the library reports absolute paths built from getcwd() */
    if (!mkdtemp(templ) || !realpath(templ, fx->dir)) {
        free(fx);
        return -1;
    }
    unsetenv("KUBECONFIG");
    setenv("HOME", fx->dir, 1);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    if (chdir(orig_cwd) < 0)
        return -1;
    rm_rf(fx->dir);
    free(fx);
    return 0;
}

/* ---- fields ----------------------------------------------------------- */

static void test_all_path_fields(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg;

    write_file(fx, "pki/ca.crt", CA_PEM);
    write_file(fx, "pki/client.crt", "cert");
    write_file(fx, "pki/client.key", "key");
    path = write_file(fx, "config",
        HEAD
        "current-context: dev\n"
        "clusters:\n"
        "- name: kdev\n"
        "  cluster:\n"
        "    server: https://10.0.0.1:6443\n"
        "    certificate-authority: pki/ca.crt\n"
        "    insecure-skip-tls-verify: false\n"
        "    tls-server-name: api.internal\n"
        "users:\n"
        "- name: udev\n"
        "  user:\n"
        "    client-certificate: pki/client.crt\n"
        "    client-key: ./pki/../pki/client.key\n"
        "contexts:\n"
        "- name: dev\n"
        "  context:\n"
        "    cluster: kdev\n"
        "    user: udev\n"
        "    namespace: team-a\n");

    cfg = load_ok(path, NULL);
    assert_string_equal(kinf_config_server(cfg), "https://10.0.0.1:6443");
    assert_string_equal(kinf_config_namespace(cfg), "team-a");
    assert_string_equal(kinf_config_context(cfg), "dev");
    assert_string_equal(kinf_config_source(cfg), path);
    assert_string_equal(cfg->cluster, "kdev");
    assert_string_equal(cfg->user, "udev");
    assert_string_equal(cfg->tls_server_name, "api.internal");
    assert_false(cfg->insecure_skip_tls_verify);
    assert_string_equal(cfg->ca_file, tpath(fx, "pki/ca.crt"));
    assert_null(cfg->ca_data.data);
    assert_string_equal(cfg->client_cert_file, tpath(fx, "pki/client.crt"));
    assert_string_equal(cfg->client_key_file, tpath(fx, "pki/client.key"));
    assert_null(cfg->client_cert_data.data);
    assert_null(cfg->client_key_data.data);
    assert_null(cfg->token);
    assert_null(cfg->token_file);
    kinf_config_free(cfg);
}

static void test_data_fields_win_over_paths(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg;

    /* The path variants name files that do not exist: with -data given
       they are not even looked at. */
    path = write_file(fx, "config",
        HEAD
        "current-context: c1\n"
        "clusters:\n"
        "- name: k1\n"
        "  cluster:\n"
        "    server: https://k1.example\n"
        "    certificate-authority: missing/ca.crt\n"
        "    certificate-authority-data: |\n"
        "      LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBLURBVEEKLS0tLS1FTkQg\n"
        "      Q0VSVElGSUNBVEUtLS0tLQo=\n"
        "users:\n"
        "- name: u1\n"
        "  user:\n"
        "    client-certificate: missing/client.crt\n"
        "    client-certificate-data: Q0VSVC1EQVRBCg==\n"
        "    client-key: missing/client.key\n"
        "    client-key-data: S0VZLURBVEEK\n"
        CTX_C1);

    cfg = load_ok(path, NULL);
    assert_null(cfg->ca_file);
    assert_blob(&cfg->ca_data, CA_PEM);
    assert_null(cfg->client_cert_file);
    assert_blob(&cfg->client_cert_data, "CERT-DATA\n");
    assert_null(cfg->client_key_file);
    assert_blob(&cfg->client_key_data, "KEY-DATA\n");
    assert_string_equal(kinf_config_namespace(cfg), "default");
    kinf_config_free(cfg);
}

static void test_base64_forms(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg;

    /* Line-wrapped data, unpadded data and padded data all decode. */
    path = write_file(fx, "config",
        HEAD
        "current-context: c1\n"
        "clusters:\n"
        "- name: k1\n"
        "  cluster:\n"
        "    server: http://127.0.0.1:8080\n"
        "    certificate-authority-data: \"QUJD\\nREVG\\n\"\n"
        "users:\n"
        "- name: u1\n"
        "  user:\n"
        "    client-certificate-data: QUI\n"
        "    client-key-data: QUI=\n"
        CTX_C1);

    cfg = load_ok(path, NULL);
    assert_string_equal(cfg->server, "http://127.0.0.1:8080");
    assert_blob(&cfg->ca_data, "ABCDEF");
    assert_blob(&cfg->client_cert_data, "AB");
    assert_blob(&cfg->client_key_data, "AB");
    kinf_config_free(cfg);
}

static void test_token_wins_over_token_file(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg;

    path = write_file(fx, "config",
        HEAD "current-context: c1\n" CLUSTER_K1 CTX_C1
        "users:\n"
        "- name: u1\n"
        "  user:\n"
        "    token: abc.def\n"
        "    tokenFile: does-not-exist\n");

    cfg = load_ok(path, NULL);
    assert_string_equal(cfg->token, "abc.def");
    assert_null(cfg->token_file);
    kinf_config_free(cfg);
}

static void test_token_file_resolved(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg;

    write_file(fx, "b/secrets/tok", "token-from-file\n");
    path = write_file(fx, "b/config",
        HEAD "current-context: c1\n" CLUSTER_K1 CTX_C1
        "users:\n"
        "- name: u1\n"
        "  user:\n"
        "    token: \"\"\n"
        "    tokenFile: secrets/tok\n");

    /* the CWD is elsewhere: only the kubeconfig's directory counts */
    assert_int_equal(chdir("/"), 0);
    cfg = load_ok(path, NULL);
    assert_null(cfg->token);
    assert_string_equal(cfg->token_file, tpath(fx, "b/secrets/tok"));
    kinf_config_free(cfg);
}

static void test_relative_paths_follow_their_file(void **state)
{
    struct fixture *fx = *state;
    const char *abs_ca;
    kinf_config *cfg;
    char yaml[2048];

    /* BC-16: "../shared/ca2.crt" from b/, absolute paths untouched, and
       the kubeconfig itself named relative to the CWD. */
    write_file(fx, "shared/ca2.crt", CA_PEM);
    write_file(fx, "b/pki/client.crt", "cert");
    abs_ca = write_file(fx, "elsewhere/abs.key", "key");
    snprintf(yaml, sizeof(yaml),
             HEAD
             "current-context: c1\n"
             "clusters:\n"
             "- name: k1\n"
             "  cluster:\n"
             "    server: https://k1.example\n"
             "    certificate-authority: ../shared/ca2.crt\n"
             "users:\n"
             "- name: u1\n"
             "  user:\n"
             "    client-certificate: pki//client.crt\n"
             "    client-key: %s\n"
             CTX_C1, abs_ca);
    write_file(fx, "b/config", yaml);

    assert_int_equal(chdir(fx->dir), 0);
    cfg = load_ok("./b/config", NULL);
    assert_string_equal(cfg->source, tpath(fx, "b/config"));
    assert_string_equal(cfg->ca_file, tpath(fx, "shared/ca2.crt"));
    assert_string_equal(cfg->client_cert_file, tpath(fx, "b/pki/client.crt"));
    assert_string_equal(cfg->client_key_file, tpath(fx, "elsewhere/abs.key"));
    kinf_config_free(cfg);
}

static void test_insecure_with_ca_is_refused(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg;
    kinf_error err;

    /* BC-20: the contradictory pair is a configuration error naming the
       cluster, as client-go has it. */
    path = write_file(fx, "config",
        HEAD "current-context: c1\n" USER_U1 CTX_C1
        "clusters:\n"
        "- name: k1\n"
        "  cluster:\n"
        "    server: https://k1.example\n"
        "    insecure-skip-tls-verify: true\n"
        "    certificate-authority-data: " CA_B64 "\n");

    expect_error(path, NULL, path, &err);
    assert_contains(err.message,
                    "clusters[0].cluster.insecure-skip-tls-verify");
    assert_contains(err.message, "\"k1\"");
    assert_contains(err.message, "insecure flag is not allowed");

    /* YAML 1.1 spellings of true, and insecure without any CA */
    path = write_file(fx, "config2",
        HEAD "current-context: c1\n" USER_U1 CTX_C1
        "clusters:\n"
        "- name: k1\n"
        "  cluster: {server: https://k1.example, "
        "insecure-skip-tls-verify: yes}\n");
    cfg = load_ok(path, NULL);
    assert_true(cfg->insecure_skip_tls_verify);
    assert_null(cfg->ca_file);
    assert_null(cfg->ca_data.data);
    kinf_config_free(cfg);
}

static void test_insecure_not_boolean(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] =
        HEAD "current-context: c1\n" USER_U1 CTX_C1
        "clusters:\n"
        "- name: k1\n"
        "  cluster:\n"
        "    server: https://k1.example\n"
        "    insecure-skip-tls-verify: \"true\"\n";
    const char *path = write_file(fx, "config", yaml);
    kinf_error err;

    expect_error_at(path, yaml, "\"true\"", &err);
    assert_contains(err.message,
                    "clusters[0].cluster.insecure-skip-tls-verify");
    assert_contains(err.message, "not a boolean");
}

/* ---- file search and merging ------------------------------------------ */

/* Two files for the merge tests. a defines c1/k1/u1 and no
   current-context; b redefines all three (to be ignored) and adds
   c2/k2/u2 and current-context c2. */
static void write_merge_pair(struct fixture *fx, const char *a_head,
                             const char **a, const char **b)
{
    char yaml[2048];

    snprintf(yaml, sizeof(yaml),
             HEAD "%s"
             "contexts:\n"
             "- name: c1\n"
             "  context: {cluster: k1, user: u1}\n"
             "clusters:\n"
             "- name: k1\n"
             "  cluster: {server: \"https://from-a:6443\"}\n"
             "users:\n"
             "- name: u1\n"
             "  user: {token: token-a}\n", a_head);
    *a = write_file(fx, "a/config", yaml);

    write_file(fx, "b/ca.crt", CA_PEM);
    write_file(fx, "b/tok", "t");
    *b = write_file(fx, "b/config",
        HEAD
        "current-context: c2\n"
        "contexts:\n"
        "- name: c1\n"
        "  context: {cluster: k2, user: u2, namespace: from-b}\n"
        "- name: c2\n"
        "  context: {cluster: k2, user: u2, namespace: ns-b}\n"
        "clusters:\n"
        "- name: k1\n"
        "  cluster:\n"
        "    server: https://from-b-k1:6443\n"
        "    certificate-authority: ca.crt\n"
        "    insecure-skip-tls-verify: true\n"
        "- name: k2\n"
        "  cluster:\n"
        "    server: https://from-b-k2:6443\n"
        "    certificate-authority: ca.crt\n"
        "users:\n"
        "- name: u1\n"
        "  user: {token: token-b, client-key-data: S0VZLURBVEEK,\n"
        "         client-certificate-data: Q0VSVC1EQVRBCg==}\n"
        "- name: u2\n"
        "  user: {tokenFile: tok}\n");
}

static void set_kubeconfig(const char *a, const char *b, const char *c)
{
    char list[3 * PATH_MAX];

    snprintf(list, sizeof(list), "%s:%s%s%s", a, b, c ? ":" : "",
             c ? c : "");
    assert_int_equal(setenv("KUBECONFIG", list, 1), 0);
}

static void test_kubeconfig_merge_first_wins(void **state)
{
    struct fixture *fx = *state;
    const char *a;
    const char *b;
    kinf_config *cfg;

    write_merge_pair(fx, "", &a, &b);
    set_kubeconfig(a, b, NULL);

    /* current-context comes from b, the first file that sets it */
    cfg = load_ok(NULL, NULL);
    assert_string_equal(cfg->context, "c2");
    assert_string_equal(cfg->source, b);
    assert_string_equal(cfg->server, "https://from-b-k2:6443");
    assert_string_equal(cfg->namespace_, "ns-b");
    assert_string_equal(cfg->ca_file, tpath(fx, "b/ca.crt"));
    assert_string_equal(cfg->token_file, tpath(fx, "b/tok"));
    kinf_config_free(cfg);

    /* c1, k1 and u1 come from a; b's versions are ignored entirely, not
       merged field by field */
    cfg = load_ok(NULL, "c1");
    assert_string_equal(cfg->source, a);
    assert_string_equal(cfg->server, "https://from-a:6443");
    assert_string_equal(cfg->namespace_, "default");
    assert_false(cfg->insecure_skip_tls_verify);
    assert_null(cfg->ca_file);
    assert_string_equal(cfg->token, "token-a");
    assert_null(cfg->client_key_data.data);
    assert_null(cfg->client_cert_data.data);
    kinf_config_free(cfg);
}

static void test_kubeconfig_current_context_first_file(void **state)
{
    struct fixture *fx = *state;
    const char *a;
    const char *b;
    kinf_config *cfg;

    write_merge_pair(fx, "current-context: c1\n", &a, &b);
    set_kubeconfig(a, b, NULL);
    cfg = load_ok(NULL, NULL);
    assert_string_equal(cfg->context, "c1");
    assert_string_equal(cfg->server, "https://from-a:6443");
    kinf_config_free(cfg);

    /* an empty current-context does not count as set */
    write_merge_pair(fx, "current-context: \"\"\n", &a, &b);
    set_kubeconfig(a, b, NULL);
    cfg = load_ok(NULL, NULL);
    assert_string_equal(cfg->context, "c2");
    kinf_config_free(cfg);
}

static void test_kubeconfig_missing_files_skipped(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    char list[3 * PATH_MAX];
    kinf_config *cfg;

    path = write_file(fx, "real",
                      HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1 USER_U1);
    snprintf(list, sizeof(list), "%s::%s:%s", tpath(fx, "missing1"), path,
             tpath(fx, "nodir/missing2"));
    assert_int_equal(setenv("KUBECONFIG", list, 1), 0);

    cfg = load_ok(NULL, NULL);
    assert_string_equal(cfg->source, path);
    assert_string_equal(cfg->token, "t1");
    kinf_config_free(cfg);

    /* "" for the path and the context means "not given" */
    cfg = load_ok("", "");
    assert_string_equal(cfg->source, path);
    assert_string_equal(cfg->context, "c1");
    kinf_config_free(cfg);
}

static void test_kubeconfig_none_exists(void **state)
{
    struct fixture *fx = *state;
    kinf_error err;

    /* a valid ~/.kube/config is not a fallback once $KUBECONFIG is set */
    write_file(fx, ".kube/config",
               HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1 USER_U1);
    set_kubeconfig(tpath(fx, "gone1"), tpath(fx, "gone2"), NULL);

    expect_error(NULL, NULL, tpath(fx, "gone1"), &err);
    assert_contains(err.message, "no kubeconfig found");
    assert_contains(err.message, "$KUBECONFIG");
    assert_contains(err.message, tpath(fx, "gone2"));
    assert_int_equal(err.line, 0);
}

static void test_kubeconfig_invalid_file_is_error(void **state)
{
    struct fixture *fx = *state;
    static const char bad[] = HEAD "clusters: [\n  - name: x\n";
    const char *good;
    const char *path;
    kinf_error err;

    good = write_file(fx, "good",
                      HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1 USER_U1);
    path = write_file(fx, "bad", bad);
    set_kubeconfig(good, path, NULL);

    expect_error(NULL, NULL, path, &err);
    assert_contains(err.message, "invalid YAML");
    assert_true(err.line >= 3);
}

static void test_kubeconfig_directory_is_error(void **state)
{
    struct fixture *fx = *state;
    const char *good;
    kinf_error err;

    good = write_file(fx, "good",
                      HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1 USER_U1);
    assert_int_equal(mkdir(tpath(fx, "adir"), 0700), 0);
    set_kubeconfig(good, tpath(fx, "adir"), NULL);

    expect_error(NULL, NULL, tpath(fx, "adir"), &err);
    assert_contains(err.message, "is a directory");
}

static void test_home_config(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg;

    path = write_file(fx, ".kube/config",
                      HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1 USER_U1);
    cfg = load_ok(NULL, NULL);
    assert_string_equal(cfg->source, path);
    assert_string_equal(cfg->server, "https://k1.example:6443");
    kinf_config_free(cfg);
}

static void test_home_config_missing(void **state)
{
    struct fixture *fx = *state;
    kinf_error err;

    expect_error(NULL, NULL, tpath(fx, ".kube/config"), &err);
    assert_contains(err.message, "no kubeconfig found");
    assert_contains(err.message, "$KUBECONFIG is not set");

    assert_int_equal(unsetenv("HOME"), 0);
    expect_error(NULL, NULL, "$HOME", &err);
}

static void test_explicit_path(void **state)
{
    struct fixture *fx = *state;
    const char *env;
    const char *path;
    kinf_config *cfg;
    kinf_error err;

    /* the explicit path wins over $KUBECONFIG ... */
    env = write_file(fx, "env",
                     HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1 USER_U1);
    path = write_file(fx, "explicit",
        HEAD "current-context: c1\n" CTX_C1 USER_U1
        "clusters:\n"
        "- name: k1\n"
        "  cluster: {server: \"https://explicit:6443\"}\n");
    assert_int_equal(setenv("KUBECONFIG", env, 1), 0);
    cfg = load_ok(path, NULL);
    assert_string_equal(cfg->server, "https://explicit:6443");
    kinf_config_free(cfg);

    /* ... and must exist: no fallback to $KUBECONFIG */
    expect_error(tpath(fx, "nope/config"), NULL, tpath(fx, "nope/config"),
                 &err);
    assert_contains(err.message, "No such file");
}

static void test_explicit_context(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg;
    kinf_error err;

    /* BC-19f: no current-context, but the caller names c2 */
    path = write_file(fx, "config",
        HEAD
        "clusters:\n"
        "- name: k1\n"
        "  cluster: {server: \"https://one\"}\n"
        "- name: k2\n"
        "  cluster: {server: \"https://two\"}\n"
        "users:\n"
        "- name: u1\n"
        "  user: {token: one}\n"
        "- name: u2\n"
        "  user: {token: two}\n"
        "contexts:\n"
        "- name: c1\n"
        "  context: {cluster: k1, user: u1}\n"
        "- name: c2\n"
        "  context: {cluster: k2, user: u2, namespace: ns2}\n");

    cfg = load_ok(path, "c2");
    assert_string_equal(kinf_config_context(cfg), "c2");
    assert_string_equal(kinf_config_server(cfg), "https://two");
    assert_string_equal(kinf_config_namespace(cfg), "ns2");
    assert_string_equal(cfg->cluster, "k2");
    assert_string_equal(cfg->user, "u2");
    assert_string_equal(cfg->token, "two");
    kinf_config_free(cfg);

    expect_error(path, "c3", path, &err);
    assert_contains(err.message, "context \"c3\" not found");
}

/* ---- context selection errors (BC-19) --------------------------------- */

static void test_no_current_context(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_error err;

    /* 19a: must fail, not pick the first context */
    path = write_file(fx, "config", HEAD CTX_C1 CLUSTER_K1 USER_U1);
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "no current-context");
    assert_int_equal(err.line, 0);

    /* an empty file is an empty config, with no current-context either */
    path = write_file(fx, "empty", "# nothing here\n");
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "no current-context");
}

static void test_empty_current_context(void **state)
{
    struct fixture *fx = *state;
    static const char quoted[] =
        HEAD "current-context: \"\"\n" CTX_C1 CLUSTER_K1 USER_U1;
    static const char unset[] =
        HEAD CTX_C1 CLUSTER_K1 USER_U1 "current-context:\n";
    const char *path;
    kinf_error err;

    /* 19b */
    path = write_file(fx, "quoted", quoted);
    expect_error_at(path, quoted, "\"\"", &err);
    assert_contains(err.message, "current-context is empty");

    path = write_file(fx, "unset", unset);
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "current-context is empty");
    /* an empty value sits right after its ':' */
    assert_int_equal(err.line, 12);
    assert_int_equal(err.column, 17);
}

static void test_dangling_current_context(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] =
        HEAD "current-context: ghost\n" CTX_C1 CLUSTER_K1 USER_U1;
    const char *path = write_file(fx, "config", yaml);
    char want[PATH_MAX + 64];
    kinf_error err;

    /* 19c */
    expect_error_at(path, yaml, "ghost", &err);
    snprintf(want, sizeof(want),
             "%s:3:18: current-context \"ghost\" names no context", path);
    assert_string_equal(err.message, want);
}

static void test_null_contexts(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_error err;

    /* 19d */
    path = write_file(fx, "config",
        HEAD "current-context: c1\ncontexts: null\n" CLUSTER_K1 USER_U1);
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "\"c1\" names no context");
}

static void test_context_names_missing_cluster(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] =
        HEAD "current-context: c1\n" CLUSTER_K1 USER_U1
        "contexts:\n"
        "- name: c1\n"
        "  context: {cluster: k9, user: u1}\n";
    const char *path = write_file(fx, "config", yaml);
    kinf_error err;

    /* 19e */
    expect_error_at(path, yaml, "k9", &err);
    assert_contains(err.message, "contexts[0].context.cluster");
    assert_contains(err.message, "cluster \"k9\" not found");
}

static void test_context_names_missing_user(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] =
        HEAD "current-context: c2\n" CLUSTER_K1 USER_U1
        "contexts:\n"
        "- name: c1\n"
        "  context: {cluster: k1, user: u1}\n"
        "- name: c2\n"
        "  context: {cluster: k1, user: nobody}\n";
    const char *path = write_file(fx, "config", yaml);
    kinf_error err;

    expect_error_at(path, yaml, "nobody", &err);
    assert_contains(err.message, "contexts[1].context.user");
    assert_contains(err.message, "user \"nobody\" not found");
}

static void test_context_without_cluster(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] =
        HEAD "current-context: c1\n" CLUSTER_K1 USER_U1
        "contexts:\n"
        "- name: c1\n"
        "  context: {user: u1}\n";
    const char *path = write_file(fx, "config", yaml);
    kinf_error err;

    expect_error_at(path, yaml, "{user: u1}", &err);
    assert_contains(err.message, "contexts[0].context.cluster");
    assert_contains(err.message, "names no cluster");
}

/* ---- cluster and user errors ------------------------------------------ */

static void test_cluster_without_server(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] =
        HEAD "current-context: c1\n" CTX_C1 USER_U1
        "clusters:\n"
        "- name: k1\n"
        "  cluster:\n"
        "    certificate-authority-data: " CA_B64 "\n";
    const char *path = write_file(fx, "config", yaml);
    kinf_error err;

    expect_error_at(path, yaml, "certificate-authority-data", &err);
    assert_contains(err.message, "clusters[0].cluster.server");
    assert_contains(err.message, "cluster \"k1\" has no server");
}

static void test_server_not_http(void **state)
{
    struct fixture *fx = *state;
    static const char ftp[] =
        HEAD "current-context: c1\n" CTX_C1 USER_U1
        "clusters:\n"
        "- name: k1\n"
        "  cluster: {server: \"ftp://admin:hunter2@host\"}\n";
    static const char bare[] =
        HEAD "current-context: c1\n" CTX_C1 USER_U1
        "clusters:\n"
        "- name: k1\n"
        "  cluster: {server: \"10.0.0.1:6443\"}\n";
    const char *path;
    kinf_error err;

    path = write_file(fx, "ftp", ftp);
    expect_error_at(path, ftp, "\"ftp:", &err);
    assert_contains(err.message, "clusters[0].cluster.server");
    assert_contains(err.message, "not an https:// or http:// URL");
    assert_lacks(err.message, "hunter2");

    path = write_file(fx, "bare", bare);
    expect_error_at(path, bare, "\"10.0", &err);
    assert_contains(err.message, "clusters[0].cluster.server");
}

static void test_server_not_string(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] =
        "apiVersion: v1\n"
        "kind: Config\n"
        "current-context: c1\n"
        "contexts:\n"
        "- name: c1\n"
        "  context:\n"
        "    cluster: k1\n"
        "    user: u1\n"
        "users:\n"
        "- name: u1\n"
        "  user: {}\n"
        "clusters:\n"
        "- name: k1\n"
        "  cluster:\n"
        "    server: {url: \"https://a\"}\n";
    const char *path = write_file(fx, "config", yaml);
    char want[PATH_MAX + 64];
    kinf_error err;

    expect_error(path, NULL, path, &err);
    snprintf(want, sizeof(want),
             "%s:15:13: clusters[0].cluster.server: not a string", path);
    assert_string_equal(err.message, want);
    assert_int_equal(err.line, 15);
    assert_int_equal(err.column, 13);
}

static void test_exec_and_auth_provider_rejected(void **state)
{
    struct fixture *fx = *state;
    static const char exec[] =
        HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
        "users:\n"
        "- name: u1\n"
        "  user:\n"
        "    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1\n"
        "      command: ./bin/plug\n";
    static const char provider[] =
        HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
        "users:\n"
        "- name: u0\n"
        "  user: {}\n"
        "- name: u1\n"
        "  user:\n"
        "    auth-provider: {name: oidc}\n";
    const char *path;
    kinf_error err;

    path = write_file(fx, "exec", exec);
    expect_error_at(path, exec, "apiVersion: client", &err);
    assert_contains(err.message, "users[0].user.exec");
    assert_contains(err.message, "not supported");

    path = write_file(fx, "provider", provider);
    expect_error_at(path, provider, "{name: oidc}", &err);
    assert_contains(err.message, "users[1].user.auth-provider");
    assert_contains(err.message, "not supported");
}

static void test_exec_in_unused_user_is_fine(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg;

    path = write_file(fx, "config",
        HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
        "users:\n"
        "- name: other\n"
        "  user: {exec: {command: plug}}\n"
        "- name: u1\n"
        "  user: {token: t1}\n");
    cfg = load_ok(path, NULL);
    assert_string_equal(cfg->token, "t1");
    kinf_config_free(cfg);
}

static void test_base64_garbage(void **state)
{
    struct fixture *fx = *state;
    static const char ca[] =
        HEAD "current-context: c1\n" CTX_C1 USER_U1
        "clusters:\n"
        "- name: k1\n"
        "  cluster:\n"
        "    server: https://k1.example\n"
        "    certificate-authority-data: \"not*base64!\"\n";
    static const char key[] =
        HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
        "users:\n"
        "- name: u1\n"
        "  user:\n"
        "    client-certificate-data: Q0VSVC1EQVRBCg==\n"
        "    client-key-data: SECRETKEYMATERIAL*xyz\n";
    static const char pad[] =
        HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
        "users:\n"
        "- name: u1\n"
        "  user:\n"
        "    client-certificate-data: QQ==QQ==\n"
        "    client-key-data: S0VZLURBVEEK\n";
    const char *path;
    kinf_error err;

    path = write_file(fx, "ca", ca);
    expect_error_at(path, ca, "\"not*", &err);
    assert_contains(err.message,
                    "clusters[0].cluster.certificate-authority-data");
    assert_contains(err.message, "invalid base64");

    path = write_file(fx, "key", key);
    expect_error_at(path, key, "SECRETKEY", &err);
    assert_contains(err.message, "users[0].user.client-key-data");
    assert_lacks(err.message, "SECRETKEY");

    path = write_file(fx, "pad", pad);
    expect_error_at(path, pad, "QQ==QQ==", &err);
    assert_contains(err.message, "users[0].user.client-certificate-data");
}

static void test_no_secret_in_messages(void **state)
{
    struct fixture *fx = *state;
    static const char later[] =
        HEAD "current-context: c1\n" CTX_C1
        "users:\n"
        "- name: u1\n"
        "  user:\n"
        "    token: tok-s3cr3t-0001\n"
        "    client-key-data: S0VZLURBVEEK\n"
        "clusters:\n"
        "- name: k1\n"
        "  cluster: {}\n";
    static const char shape[] =
        HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
        "users:\n"
        "- name: u1\n"
        "  user:\n"
        "    token: [tok-s3cr3t-0002]\n";
    const char *path;
    kinf_error err;

    path = write_file(fx, "later", later);
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "has no server");
    assert_lacks(err.message, "s3cr3t");
    assert_lacks(err.message, "S0VZ");

    path = write_file(fx, "shape", shape);
    expect_error_at(path, shape, "[tok-", &err);
    assert_contains(err.message, "users[0].user.token: not a string");
    assert_lacks(err.message, "s3cr3t");
}

static void test_missing_referenced_file(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] =
        HEAD "current-context: c1\n" CTX_C1 USER_U1
        "clusters:\n"
        "- name: k1\n"
        "  cluster:\n"
        "    server: https://k1.example\n"
        "    certificate-authority: pki/../gone.crt\n";
    const char *path = write_file(fx, "sub/config", yaml);
    kinf_error err;

    /* BC-16: the resolved absolute path and the kubeconfig it came from */
    expect_error_at(path, yaml, "pki/../gone.crt", &err);
    assert_contains(err.message, "clusters[0].cluster.certificate-authority");
    assert_contains(err.message, tpath(fx, "sub/gone.crt"));
}

static void test_cert_without_key(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_error err;

    path = write_file(fx, "config",
        HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
        "users:\n"
        "- name: u1\n"
        "  user: {client-certificate-data: Q0VSVC1EQVRBCg==}\n");
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "users[0].user");
    assert_contains(err.message, "without client-key");

    path = write_file(fx, "config2",
        HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
        "users:\n"
        "- name: u1\n"
        "  user: {client-key-data: S0VZLURBVEEK}\n");
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "without client-certificate");
}

/* ---- document shape --------------------------------------------------- */

static void test_yaml_syntax_error(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] =
        HEAD
        "current-context: c1\n"
        "clusters:\n"
        "- name: k1\n"
        "  cluster: {server: https://x\n"
        "users: []\n";
    const char *path = write_file(fx, "config", yaml);
    char want[PATH_MAX + 64];
    kinf_error err;

    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "invalid YAML");
    assert_true(err.line > 0);
    assert_true(err.column > 0);
    snprintf(want, sizeof(want), "%s:%d:%d: ", path, err.line, err.column);
    assert_contains(err.message, want);

    /* a tab where indentation is expected, on line 4 */
    path = write_file(fx, "tab", HEAD "clusters:\n\t- name: k1\n");
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "invalid YAML");
    assert_int_equal(err.line, 4);
}

static void test_top_level_not_mapping(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_error err;

    path = write_file(fx, "list", "# a list\n- a\n- b\n");
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "top level is not a mapping");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 1);

    path = write_file(fx, "scalar", "just some text\n");
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "top level is not a mapping");
}

static void test_null_sections(void **state)
{
    struct fixture *fx = *state;
    const char *a;
    const char *b;
    kinf_config *cfg;
    kinf_error err;

    /* null sections are empty: the merge still finds k1 and u1 in b */
    a = write_file(fx, "a",
                   HEAD "current-context: c1\n" CTX_C1 "clusters:\n"
                   "users: null\n");
    b = write_file(fx, "b", HEAD "contexts: ~\n" CLUSTER_K1 USER_U1);
    set_kubeconfig(a, b, NULL);
    cfg = load_ok(NULL, NULL);
    assert_string_equal(cfg->source, a);
    assert_string_equal(cfg->server, "https://k1.example:6443");
    kinf_config_free(cfg);

    /* alone, a has no cluster k1: an error, not a crash */
    expect_error(a, NULL, a, &err);
    assert_contains(err.message, "cluster \"k1\" not found");

    /* and with clusters but "users: null", no user u1 */
    a = write_file(fx, "a2",
                   HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
                   "users: null\n");
    expect_error(a, NULL, a, &err);
    assert_contains(err.message, "user \"u1\" not found");
}

static void test_section_wrong_type(void **state)
{
    struct fixture *fx = *state;
    static const char users[] =
        HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1 "users: {}\n";
    static const char item[] =
        HEAD "current-context: c1\n" CTX_C1 USER_U1
        "clusters:\n"
        "- just-a-name\n";
    static const char body[] =
        HEAD "current-context: c1\n" CTX_C1 USER_U1
        "clusters:\n"
        "- name: k1\n"
        "  cluster: [https://k1]\n";
    const char *path;
    kinf_error err;

    /* 19g */
    path = write_file(fx, "users", users);
    expect_error_at(path, users, "{}", &err);
    assert_contains(err.message, "users: not a list");

    path = write_file(fx, "item", item);
    expect_error_at(path, item, "just-a-name", &err);
    assert_contains(err.message, "clusters[0]: not a mapping");

    path = write_file(fx, "body", body);
    expect_error_at(path, body, "[https", &err);
    assert_contains(err.message, "clusters[0].cluster: not a mapping");
}

static void test_bad_names(void **state)
{
    struct fixture *fx = *state;
    static const char dup[] =
        HEAD "current-context: c1\n" CTX_C1 USER_U1
        "clusters:\n"
        "- name: k1\n"
        "  cluster: {server: \"https://one\"}\n"
        "- name: k1\n"
        "  cluster: {server: \"https://two\"}\n";
    static const char noname[] =
        HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
        "users:\n"
        "- user: {token: x}\n";
    const char *path;
    kinf_error err;

    /* a name defined twice in one file is an error, as in client-go */
    path = write_file(fx, "dup", dup);
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "clusters[1].name: duplicate name \"k1\"");
    assert_int_equal(err.line, 13);

    path = write_file(fx, "noname", noname);
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "users[0].name: missing");
}

/* A NUL inside a name would make two different names look equal. */
static void test_name_with_nul(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] =
        HEAD "current-context: c1\n" CTX_C1 USER_U1
        "clusters:\n"
        "- name: \"k1\\0a\"\n"
        "  cluster: {server: \"https://one\"}\n";
    const char *path = write_file(fx, "nul", yaml);
    kinf_error err;

    expect_error_at(path, yaml, "\"k1", &err);
    assert_contains(err.message, "clusters[0].name: contains a NUL");
}

/* A NUL inside any value would cut it short, naming another cluster,
   server or credential than the file says: each is refused by name. */
static void test_value_with_nul(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *yaml;
        const char *needle;     /* where the error must point */
        const char *message;
    } cases[] = {
        { HEAD "current-context: \"c1\\0x\"\n" CTX_C1 CLUSTER_K1 USER_U1,
          "\"c1", "current-context: contains a NUL" },
        { HEAD "current-context: c1\n"
          "contexts:\n- name: c1\n"
          "  context: {cluster: \"k1\\0evil\", user: u1}\n"
          CLUSTER_K1 USER_U1,
          "\"k1", "contexts[0].context.cluster: contains a NUL" },
        { HEAD "current-context: c1\n" CTX_C1 USER_U1
          "clusters:\n- name: k1\n"
          "  cluster: {server: \"https://k1.example\\0@evil\"}\n",
          "\"https", "clusters[0].cluster.server: contains a NUL" },
        { HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1
          "users:\n- name: u1\n  user: {token: \"t1\\0rest\"}\n",
          "\"t1", "users[0].user.token: contains a NUL" },
    };
    kinf_error err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        const char *path = write_file(fx, "nul-value", cases[i].yaml);

        expect_error_at(path, cases[i].yaml, cases[i].needle, &err);
        assert_contains(err.message, cases[i].message);
        /* The secret's text never reaches the message. */
        assert_null(strstr(err.message, "rest"));
    }
}

/* Many entries: a duplicate at the very end is still found, and the
   check is linear (a pairwise one took minutes on this many). */
static void test_many_entries(void **state)
{
    struct fixture *fx = *state;
    enum { N = 40000 };
    size_t cap = (size_t)N * 64 + 256;
    char *yaml = malloc(cap);
    size_t len = 0;
    time_t started = time(NULL);
    const char *path;
    kinf_error err;

    assert_non_null(yaml);
    len += (size_t)snprintf(yaml + len, cap - len,
                            HEAD "current-context: c1\n" CTX_C1 USER_U1
                            "clusters:\n");
    for (int i = 0; i <= N; i++) {
        len += (size_t)snprintf(yaml + len, cap - len,
                                "- name: k%d\n"
                                "  cluster: {server: \"https://x\"}\n",
                                i == N ? 1 : i);
    }
    path = write_file(fx, "many", yaml);
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "clusters[40000].name: duplicate name");
    free(yaml);
    /* Generous: about 0.2 s here, where the pairwise check took 3 min. */
    assert_true(time(NULL) - started < 60);
}

/* Deep nesting is refused where it passes the limit, before libyaml
   builds the document (which takes time quadratic in the depth). */
static void test_deep_nesting(void **state)
{
    struct fixture *fx = *state;
    enum { DEPTH = 1000000 };
    static const char head[] = HEAD "clusters: ";
    size_t len = sizeof(head) - 1;
    char *yaml = malloc(len + 2 * DEPTH + 2);
    const char *path;
    kinf_error err;

    assert_non_null(yaml);
    memcpy(yaml, head, len);
    memset(yaml + len, '[', DEPTH);
    memset(yaml + len + DEPTH, ']', DEPTH);
    memcpy(yaml + len + 2 * DEPTH, "\n", 2);
    path = write_file(fx, "deep", yaml);
    free(yaml);
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "nested more than 100 levels deep");
    /* The top-level mapping is level 1 and the first bracket level 2,
       so the 100th bracket (level 101) is the one refused. */
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, (int)strlen("clusters: ") + 100);
}

/* A file past 64 MiB is refused without parsing it; one of exactly
   64 MiB is read. */
static void test_huge_file(void **state)
{
    struct fixture *fx = *state;
    size_t limit = (size_t)64 << 20;
    char *yaml = malloc(limit + 2);
    const char *path;
    kinf_error err;

    assert_non_null(yaml);
    /* A valid config padded with a comment to the wanted size. */
    strcpy(yaml, HEAD "#");
    memset(yaml + strlen(yaml), 'x', limit + 1 - strlen(yaml));
    yaml[limit] = '\n';
    yaml[limit + 1] = '\0';
    path = write_file(fx, "huge", yaml);
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "larger than 64 MiB");

    yaml[limit - 1] = '\n';
    yaml[limit] = '\0';
    path = write_file(fx, "limit", yaml);
    free(yaml);
    expect_error(path, NULL, path, &err);
    assert_contains(err.message, "no current-context");
}

/* ---- API edges -------------------------------------------------------- */

static void test_api_edges(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg = NULL;
    kinf_error err;

    path = write_file(fx, "config",
                      HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1 USER_U1);

    assert_int_equal(kinf_config_load_kubeconfig(NULL, path, NULL, &err),
                     KINF_EINVAL);
    assert_int_equal(err.code, KINF_EINVAL);

    /* err is optional */
    assert_int_equal(kinf_config_load_kubeconfig(&cfg, path, "zz", NULL),
                     KINF_ECONFIG);
    assert_null(cfg);
    assert_int_equal(kinf_config_load_kubeconfig(&cfg, path, NULL, NULL), 0);
    assert_non_null(cfg);
    kinf_config_free(cfg);

    /* a previous failure does not linger in err after success */
    expect_error(path, "zz", path, &err);
    assert_int_equal(kinf_config_load_kubeconfig(&cfg, path, NULL, &err), 0);
    assert_int_equal(err.code, 0);
    assert_string_equal(err.message, "");
    kinf_config_free(cfg);

    kinf_config_free(NULL);
    assert_null(kinf_config_server(NULL));
    assert_null(kinf_config_namespace(NULL));
    assert_null(kinf_config_context(NULL));
    assert_null(kinf_config_source(NULL));
}

static void test_error_cleared_on_success(void **state)
{
    struct fixture *fx = *state;
    const char *path;
    kinf_config *cfg = NULL;
    kinf_error err;

    path = write_file(fx, "config",
                      HEAD "current-context: c1\n" CTX_C1 CLUSTER_K1 USER_U1);
    memset(&err, 0x5a, sizeof(err));
    assert_int_equal(kinf_config_load_kubeconfig(&cfg, path, NULL, &err), 0);
    assert_int_equal(err.code, 0);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.message, "");
    kinf_config_free(cfg);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_all_path_fields),
        T(test_data_fields_win_over_paths),
        T(test_base64_forms),
        T(test_token_wins_over_token_file),
        T(test_token_file_resolved),
        T(test_relative_paths_follow_their_file),
        T(test_insecure_with_ca_is_refused),
        T(test_insecure_not_boolean),
        T(test_kubeconfig_merge_first_wins),
        T(test_kubeconfig_current_context_first_file),
        T(test_kubeconfig_missing_files_skipped),
        T(test_kubeconfig_none_exists),
        T(test_kubeconfig_invalid_file_is_error),
        T(test_kubeconfig_directory_is_error),
        T(test_home_config),
        T(test_home_config_missing),
        T(test_explicit_path),
        T(test_explicit_context),
        T(test_no_current_context),
        T(test_empty_current_context),
        T(test_dangling_current_context),
        T(test_null_contexts),
        T(test_context_names_missing_cluster),
        T(test_context_names_missing_user),
        T(test_context_without_cluster),
        T(test_cluster_without_server),
        T(test_server_not_http),
        T(test_server_not_string),
        T(test_exec_and_auth_provider_rejected),
        T(test_exec_in_unused_user_is_fine),
        T(test_base64_garbage),
        T(test_no_secret_in_messages),
        T(test_missing_referenced_file),
        T(test_cert_without_key),
        T(test_yaml_syntax_error),
        T(test_top_level_not_mapping),
        T(test_null_sections),
        T(test_section_wrong_type),
        T(test_bad_names),
        T(test_name_with_nul),
        T(test_value_with_nul),
        T(test_many_entries),
        T(test_deep_nesting),
        T(test_huge_file),
        T(test_api_edges),
        T(test_error_cleared_on_success),
    };

    if (!getcwd(orig_cwd, sizeof(orig_cwd)))
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
