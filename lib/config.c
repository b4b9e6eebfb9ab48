/* SPDX-License-Identifier: MIT */
/* config.c - kubeconfig search, merge and resolution of one context */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <yaml.h>

#include "config.h"
#include "hashmap.h"
#include "internal.h"

/* One parsed kubeconfig file. Every path in it is absolute so that
   messages and resolved file references do not depend on the CWD. */
struct kc_file {
    char *path;
    char *dir;              /* relative references resolve against it */
    yaml_document_t doc;
    bool loaded;            /* doc must be deleted */
    yaml_node_t *root;      /* top-level mapping; NULL for an empty file */
};

/* The files to merge, in precedence order: the first one to define a
   name wins. */
struct kc_set {
    struct kc_file *files;
    size_t count;
    size_t cap;
};

/* The named lists of a kubeconfig and the key of each element's body. */
struct kc_section {
    const char *list;
    const char *body;
};

enum { SEC_CLUSTERS, SEC_USERS, SEC_CONTEXTS, SEC_COUNT };

/* Kubeconfig files hold a few kilobytes, nested a few levels; these
   bounds only stop a broken or hostile file from costing minutes. */
#define KUBECONFIG_MAX_BYTES (64 << 20)
#define KUBECONFIG_MAX_DEPTH 100

static const struct kc_section sections[SEC_COUNT] = {
    { "clusters", "cluster" },
    { "users", "user" },
    { "contexts", "context" },
};

/* One element of a named list, found in the file that defined it. */
struct kc_entry {
    struct kc_file *file;
    yaml_node_t *item;      /* the list element */
    yaml_node_t *name;      /* its "name" scalar */
    yaml_node_t *body;      /* its body mapping; NULL when absent or null */
    char where[64];         /* "clusters[3].cluster", for messages */
};

static int oom(kinf_error *err)
{
    kinf__error(err, KINF_ENOMEM, "out of memory");
    return KINF_ENOMEM;
}

/* A KINF_ECONFIG naming the file and, when node is known, the 1-based
   line and column of that node. */
static int fail(kinf_error *err, const struct kc_file *f,
                const yaml_node_t *node, const char *fmt, ...)
    KINF__PRINTF(4, 5);

/* The message names the file, and the position of mark when given. */
static int vfail_at(kinf_error *err, const struct kc_file *f,
                    const yaml_mark_t *mark, const char *fmt, va_list ap)
{
    char msg[896];
    int line;
    int column;

    if (!err)
        return KINF_ECONFIG;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (!mark) {
        kinf__error(err, KINF_ECONFIG, "%s: %s", f->path, msg);
        return KINF_ECONFIG;
    }
    line = (int)mark->line + 1;
    column = (int)mark->column + 1;
    kinf__error(err, KINF_ECONFIG, "%s:%d:%d: %s", f->path, line, column,
                msg);
    err->line = line;
    err->column = column;
    return KINF_ECONFIG;
}

static int fail(kinf_error *err, const struct kc_file *f,
                const yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail_at(err, f, node ? &node->start_mark : NULL, fmt, ap);
    va_end(ap);
    return rc;
}

static int fail_at(kinf_error *err, const struct kc_file *f,
                   const yaml_mark_t *mark, const char *fmt, ...)
    KINF__PRINTF(4, 5);

static int fail_at(kinf_error *err, const struct kc_file *f,
                   const yaml_mark_t *mark, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail_at(err, f, mark, fmt, ap);
    va_end(ap);
    return rc;
}

static const char *sval(const yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

static bool scalar_is(const yaml_node_t *node, const char *s)
{
    size_t len = strlen(s);

    if (!node || node->type != YAML_SCALAR_NODE)
        return false;
    return node->data.scalar.length == len &&
           memcmp(node->data.scalar.value, s, len) == 0;
}

/* YAML 1.1 null: "~", "null" or nothing at all ("users:" with no value),
   unless quoted. */
static bool is_null(const yaml_node_t *node)
{
    static const char *const words[] = { "", "~", "null", "Null", "NULL" };
    size_t i;

    if (node->type != YAML_SCALAR_NODE)
        return false;
    if (node->tag && strcmp((const char *)node->tag, YAML_NULL_TAG) == 0)
        return true;
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (scalar_is(node, words[i]))
            return true;
    }
    return false;
}

/* The value of key in a mapping, null or not; NULL when absent. */
static yaml_node_t *map_get_raw(yaml_document_t *doc, yaml_node_t *map,
                                const char *key)
{
    yaml_node_pair_t *pair;

    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top; pair++) {
        if (scalar_is(yaml_document_get_node(doc, pair->key), key))
            return yaml_document_get_node(doc, pair->value);
    }
    return NULL;
}

/* The value of key in a mapping; NULL when absent or null. */
static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map,
                            const char *key)
{
    yaml_node_t *value = map_get_raw(doc, map, key);

    return value && !is_null(value) ? value : NULL;
}

/* A scalar holds no "\0" escape, so its C string is all of it. */
static bool nul_free(const yaml_node_t *node)
{
    return strlen(sval(node)) == node->data.scalar.length;
}

static char *scalar_dup(const yaml_node_t *node)
{
    return strndup(sval(node), node->data.scalar.length);
}

static void secret_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void blob_free(struct kinf__blob *blob)
{
    if (blob->data) {
        OPENSSL_cleanse(blob->data, blob->len);
        free(blob->data);
    }
    blob->data = NULL;
    blob->len = 0;
}

/* Lexical clean of an absolute path, as Go's filepath.Clean: client-go
   joins "dir" and "../x" that way, so "/a/b/../x" means "/a/x" even
   when b is a symlink. Works in place; the result is never longer. */
static void path_clean(char *path)
{
    size_t len = strlen(path);
    size_t r = 1;
    size_t w = 1;

    while (r < len) {
        size_t end = r;
        size_t n;

        while (end < len && path[end] != '/') {
            end++;
        }
        n = end - r;
        if (n == 2 && path[r] == '.' && path[r + 1] == '.') {
            while (w > 1 && path[w - 1] != '/') {
                w--;
            }
            if (w > 1) {
                w--;
            }
        } else if (n > 0 && !(n == 1 && path[r] == '.')) {
            if (w > 1) {
                path[w++] = '/';
            }
            memmove(path + w, path + r, n);
            w += n;
        }
        r = end + 1;
    }
    path[w] = '\0';
}

static char *cwd_dup(void)
{
    size_t size = 256;
    char *buf = NULL;

    for (;;) {
        char *grown = realloc(buf, size);

        if (!grown) {
            free(buf);
            errno = ENOMEM;
            return NULL;
        }
        buf = grown;
        if (getcwd(buf, size))
            return buf;
        if (errno != ERANGE) {
            free(buf);
            return NULL;
        }
        size *= 2;
    }
}

/* A kubeconfig file's own path made absolute against the CWD. */
static int abs_path(char **out, const char *path, kinf_error *err)
{
    char *cwd = NULL;
    char *abs = NULL;

    if (path[0] == '/') {
        abs = kinf__strdup(path);
    } else {
        cwd = cwd_dup();
        if (!cwd && errno != ENOMEM) {
            kinf__error(err, KINF_ECONFIG,
                        "%s: cannot resolve kubeconfig path: %s", path,
                        strerror(errno));
            return KINF_ECONFIG;
        }
        abs = cwd ? kinf__asprintf("%s/%s", cwd, path) : NULL;
    }
    free(cwd);
    if (!abs)
        return oom(err);

    path_clean(abs);
    *out = abs;
    return 0;
}

/* A path named inside a kubeconfig: absolute ones are kept as written,
   relative ones are joined to the file's directory (kubectl's rule). */
static char *resolve_ref(const char *dir, const char *ref)
{
    char *path;

    if (ref[0] == '/')
        return kinf__strdup(ref);
    path = kinf__asprintf("%s/%s", dir, ref);
    if (path) {
        path_clean(path);
    }
    return path;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash || slash == path)
        return kinf__strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static bool b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Standard base64 with line breaks allowed and padding optional.
   EVP_DecodeBlock accepts '=' anywhere and counts padding as data, so
   the text is checked and compacted first. Returns 0, KINF_ERROR for
   bad input or KINF_ENOMEM. */
static int b64_decode(struct kinf__blob *out, const char *in, size_t len)
{
    unsigned char *text = NULL;
    unsigned char *data = NULL;
    size_t n = 0;
    size_t pad = 0;
    size_t i;
    int got;
    int rc = KINF_ERROR;

    text = malloc(len + 4);
    if (!text)
        return KINF_ENOMEM;
    for (i = 0; i < len; i++) {
        char c = in[i];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
        } else if (pad > 0 || !b64_char(c)) {
            goto out;
        }
        text[n++] = (unsigned char)c;
    }
    if (pad > 2 || (pad > 0 && n % 4 != 0) || n % 4 == 1)
        goto out;
    while (n % 4 != 0) {
        text[n++] = '=';
        pad++;
    }

    rc = 0;
    if (n == 0)
        goto out;
    data = malloc(n / 4 * 3 + 1);
    if (!data) {
        rc = KINF_ENOMEM;
        goto out;
    }
    got = EVP_DecodeBlock(data, text, (int)n);
    if (got < (int)pad) {
        rc = KINF_ERROR;
        goto out;
    }
    out->len = (size_t)got - pad;
    data[out->len] = '\0';
    out->data = data;
    data = NULL;

out:
    OPENSSL_cleanse(text, len + 4);
    free(text);
    free(data);
    return rc;
}

static void file_free(struct kc_file *f)
{
    if (f->loaded) {
        yaml_document_delete(&f->doc);
    }
    free(f->path);
    free(f->dir);
}

static void set_free(struct kc_set *set)
{
    size_t i;

    for (i = 0; i < set->count; i++) {
        file_free(&set->files[i]);
    }
    free(set->files);
}

static bool set_has(const struct kc_set *set, const char *path)
{
    size_t i;

    for (i = 0; i < set->count; i++) {
        if (strcmp(set->files[i].path, path) == 0)
            return true;
    }
    return false;
}

/* Files for set-wide messages: "/a" or "/a, /b". */
static void set_names(const struct kc_set *set, char *buf, size_t size)
{
    size_t used = 0;
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < set->count; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                         set->files[i].path);

        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static int syntax_error(const struct kc_file *f, const yaml_parser_t *p,
                        kinf_error *err)
{
    int line = (int)p->problem_mark.line + 1;
    int column = (int)p->problem_mark.column + 1;
    const char *problem = p->problem ? p->problem : "unknown error";

    if (p->error == YAML_MEMORY_ERROR)
        return oom(err);
    if (p->error == YAML_READER_ERROR) {
        return kinf__error(err, KINF_ECONFIG,
                           "%s: cannot read kubeconfig: %s", f->path,
                           problem);
    }
    kinf__error(err, KINF_ECONFIG, "%s:%d:%d: invalid YAML: %s%s%s%s",
                f->path, line, column, problem,
                p->context ? " (" : "", p->context ? p->context : "",
                p->context ? ")" : "");
    if (err) {
        err->line = line;
        err->column = column;
    }
    return KINF_ECONFIG;
}

/* Shape checks that every element of a named list must pass, whichever
   context is used later: lookups by name rely on them. names holds the
   names of the elements before this one (a map, so that a file with many
   entries is checked in linear time). */
static int check_item(struct kc_file *f, const struct kc_section *s,
                      yaml_node_t *list, size_t index,
                      struct kinf__map *names, kinf_error *err)
{
    yaml_node_t *item = yaml_document_get_node(
        &f->doc, list->data.sequence.items.start[index]);
    yaml_node_t *name;
    yaml_node_t *body;

    if (item->type != YAML_MAPPING_NODE)
        return fail(err, f, item, "%s[%zu]: not a mapping", s->list, index);
    name = map_get(&f->doc, item, "name");
    if (name && name->type != YAML_SCALAR_NODE) {
        return fail(err, f, name, "%s[%zu].name: not a string", s->list,
                    index);
    }
    if (!name || name->data.scalar.length == 0) {
        return fail(err, f, item, "%s[%zu].name: missing", s->list,
                    index);
    }
    /* Names are compared as C strings from here on. */
    if (!nul_free(name)) {
        return fail(err, f, name, "%s[%zu].name: contains a NUL character",
                    s->list, index);
    }
    if (kinf__map_get(names, sval(name))) {
        return fail(err, f, name, "%s[%zu].name: duplicate name \"%s\"",
                    s->list, index, sval(name));
    }
    if (kinf__map_put(names, sval(name), item, NULL) < 0)
        return oom(err);

    body = map_get(&f->doc, item, s->body);
    if (body && body->type != YAML_MAPPING_NODE) {
        return fail(err, f, body, "%s[%zu].%s: not a mapping", s->list,
                    index, s->body);
    }
    return 0;
}

static int check_section(struct kc_file *f, const struct kc_section *s,
                         kinf_error *err)
{
    yaml_node_t *list = map_get(&f->doc, f->root, s->list);
    struct kinf__map *names;
    size_t count;
    size_t i;
    int rc = 0;

    /* "users:" with no value, or "users: null": no users (BC-19) */
    if (!list)
        return 0;
    if (list->type != YAML_SEQUENCE_NODE)
        return fail(err, f, list, "%s: not a list", s->list);

    names = kinf__map_new();
    if (!names)
        return oom(err);
    count = (size_t)(list->data.sequence.items.top -
                     list->data.sequence.items.start);
    for (i = 0; i < count && rc == 0; i++)
        rc = check_item(f, s, list, i, names, err);
    kinf__map_free(names, NULL);
    return rc;
}

/* Read all of fp, refusing more than KUBECONFIG_MAX_BYTES. */
static int read_all(char **out, size_t *out_len, const struct kc_file *f,
                    FILE *fp, kinf_error *err)
{
    size_t cap = 16384;
    size_t len = 0;
    char *buf = malloc(cap);
    char *grown;

    if (!buf)
        return oom(err);
    for (;;) {
        len += fread(buf + len, 1, cap - len, fp);
        if (len < cap)
            break;
        if (len > KUBECONFIG_MAX_BYTES) {
            free(buf);
            return fail(err, f, NULL, "larger than %d MiB",
                        KUBECONFIG_MAX_BYTES >> 20);
        }
        /* One byte past the limit tells a file of exactly the limit. */
        cap = cap * 2 > KUBECONFIG_MAX_BYTES ? KUBECONFIG_MAX_BYTES + 1
                                             : cap * 2;
        grown = realloc(buf, cap);
        if (!grown) {
            free(buf);
            return oom(err);
        }
        buf = grown;
    }
    if (ferror(fp)) {
        free(buf);
        return kinf__error(err, KINF_ECONFIG, "%s: cannot read kubeconfig",
                           f->path);
    }
    *out = buf;
    *out_len = len;
    return 0;
}

/* Refuse nesting deeper than KUBECONFIG_MAX_DEPTH before building the
   document: libyaml's loader takes time quadratic in the depth, so a
   400 KB file of brackets would cost minutes. */
static int check_depth(const struct kc_file *f, const char *buf, size_t len,
                       kinf_error *err)
{
    yaml_parser_t parser;
    yaml_event_t event;
    int depth = 0;
    int rc = 0;

    if (!yaml_parser_initialize(&parser))
        return oom(err);
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    for (;;) {
        yaml_event_type_t type;

        if (!yaml_parser_parse(&parser, &event)) {
            rc = syntax_error(f, &parser, err);
            break;
        }
        type = event.type;
        if (type == YAML_SEQUENCE_START_EVENT ||
            type == YAML_MAPPING_START_EVENT) {
            if (++depth > KUBECONFIG_MAX_DEPTH) {
                rc = fail_at(err, f, &event.start_mark,
                             "nested more than %d levels deep",
                             KUBECONFIG_MAX_DEPTH);
            }
        } else if (type == YAML_SEQUENCE_END_EVENT ||
                   type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&event);
        if (rc < 0 || type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&parser);
    return rc;
}

static int file_parse(struct kc_file *f, FILE *fp, kinf_error *err)
{
    yaml_parser_t parser;
    yaml_node_t *root;
    char *buf = NULL;
    size_t len = 0;
    int rc;
    int i;

    rc = read_all(&buf, &len, f, fp, err);
    if (rc < 0)
        return rc;
    rc = check_depth(f, buf, len, err);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    if (!yaml_parser_initialize(&parser)) {
        free(buf);
        return oom(err);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &f->doc)) {
        rc = syntax_error(f, &parser, err);
        goto out;
    }
    f->loaded = true;

    /* An empty file, or one holding only "null", is an empty config, as
       for client-go; anything else must be a mapping. */
    root = yaml_document_get_root_node(&f->doc);
    if (root && !is_null(root) && root->type != YAML_MAPPING_NODE) {
        rc = fail(err, f, root, "the top level is not a mapping");
        goto out;
    }
    f->root = root && root->type == YAML_MAPPING_NODE ? root : NULL;

    for (i = 0; i < SEC_COUNT; i++) {
        rc = check_section(f, &sections[i], err);
        if (rc < 0)
            goto out;
    }

out:
    yaml_parser_delete(&parser);
    free(buf);
    return rc;
}

/* Takes path, even on failure. */
static int set_append(struct kc_set *set, char *path, kinf_error *err)
{
    struct kc_file *f;

    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 4;
        struct kc_file *files = realloc(set->files, cap * sizeof(*files));

        if (!files) {
            free(path);
            return oom(err);
        }
        set->files = files;
        set->cap = cap;
    }
    f = &set->files[set->count++];
    memset(f, 0, sizeof(*f));
    f->path = path;
    f->dir = dir_of(path);
    if (!f->dir)
        return oom(err);
    return 0;
}

/* Load one file. A missing file is skipped unless required; anything
   else that stops reading it is an error. */
static int set_add(struct kc_set *set, const char *path, bool required,
                   kinf_error *err)
{
    struct stat st;
    char *abs = NULL;
    FILE *fp = NULL;
    int rc;

    rc = abs_path(&abs, path, err);
    if (rc < 0 || set_has(set, abs))
        goto out;

    if (stat(abs, &st) < 0) {
        if (!required && (errno == ENOENT || errno == ENOTDIR))
            goto out;
        rc = kinf__error(err, KINF_ECONFIG, "%s: cannot read kubeconfig: %s",
                         abs, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = kinf__error(err, KINF_ECONFIG,
                         "%s: cannot read kubeconfig: is a directory", abs);
        goto out;
    }
    fp = fopen(abs, "r");
    if (!fp) {
        rc = kinf__error(err, KINF_ECONFIG, "%s: cannot read kubeconfig: %s",
                         abs, strerror(errno));
        goto out;
    }

    rc = set_append(set, abs, err);
    abs = NULL;
    if (rc < 0)
        goto out;
    rc = file_parse(&set->files[set->count - 1], fp, err);

out:
    if (fp) {
        fclose(fp);
    }
    free(abs);
    return rc;
}

/* $KUBECONFIG: a ':'-separated list, merged in order. */
static int set_load_list(struct kc_set *set, const char *list,
                         kinf_error *err)
{
    char *copy = kinf__strdup(list);
    char *save = NULL;
    char *path;
    int rc = 0;

    if (!copy)
        return oom(err);
    for (path = strtok_r(copy, ":", &save); path;
         path = strtok_r(NULL, ":", &save)) {
        rc = set_add(set, path, false, err);
        if (rc < 0)
            goto out;
    }
    if (set->count == 0) {
        rc = kinf__error(err, KINF_ECONFIG,
                         "no kubeconfig found: no file in "
                         "$KUBECONFIG=\"%s\" exists", list);
    }

out:
    free(copy);
    return rc;
}

static int set_load(struct kc_set *set, const char *path, kinf_error *err)
{
    const char *env = getenv("KUBECONFIG");
    const char *home = getenv("HOME");
    char *home_config = NULL;
    int rc;

    if (path)
        return set_add(set, path, true, err);
    if (env && *env)
        return set_load_list(set, env, err);
    if (!home || !*home) {
        return kinf__error(err, KINF_ECONFIG, "no kubeconfig found: "
                           "neither $KUBECONFIG nor $HOME is set");
    }

    home_config = kinf__asprintf("%s/.kube/config", home);
    if (!home_config)
        return oom(err);
    rc = set_add(set, home_config, false, err);
    if (rc == 0 && set->count == 0) {
        rc = kinf__error(err, KINF_ECONFIG, "no kubeconfig found: "
                         "$KUBECONFIG is not set and %s does not exist",
                         home_config);
    }
    free(home_config);
    return rc;
}

/* The first definition of name in the merged files. */
static bool find_entry(struct kc_entry *out, struct kc_set *set,
                       const struct kc_section *s, const char *name)
{
    size_t i;
    size_t k;

    for (i = 0; i < set->count; i++) {
        struct kc_file *f = &set->files[i];
        yaml_node_t *list = map_get(&f->doc, f->root, s->list);
        size_t count;

        if (!list)
            continue;
        count = (size_t)(list->data.sequence.items.top -
                         list->data.sequence.items.start);
        for (k = 0; k < count; k++) {
            yaml_node_t *item = yaml_document_get_node(
                &f->doc, list->data.sequence.items.start[k]);
            yaml_node_t *item_name = map_get(&f->doc, item, "name");

            if (!scalar_is(item_name, name))
                continue;
            out->file = f;
            out->item = item;
            out->name = item_name;
            out->body = map_get(&f->doc, item, s->body);
            snprintf(out->where, sizeof(out->where), "%s[%zu].%s", s->list,
                     k, s->body);
            return true;
        }
    }
    return false;
}

static yaml_node_t *entry_pos(const struct kc_entry *e)
{
    return e->body ? e->body : e->item;
}

static yaml_node_t *entry_field(const struct kc_entry *e, const char *key)
{
    return map_get(&e->file->doc, e->body, key);
}

/* An optional string field; *out is NULL when absent, null or empty. */
static int get_string(yaml_node_t **out, const struct kc_entry *e,
                      const char *key, kinf_error *err)
{
    yaml_node_t *node = entry_field(e, key);

    *out = NULL;
    if (!node)
        return 0;
    if (node->type != YAML_SCALAR_NODE)
        return fail(err, e->file, node, "%s.%s: not a string", e->where, key);
    /* Values are used as C strings: a "\0" escape would cut them short
       and quietly name another server, file or credential. */
    if (!nul_free(node)) {
        return fail(err, e->file, node, "%s.%s: contains a NUL character",
                    e->where, key);
    }
    if (node->data.scalar.length > 0) {
        *out = node;
    }
    return 0;
}

static int copy_string(char **out, const struct kc_entry *e,
                       const char *key, kinf_error *err)
{
    yaml_node_t *node;
    int rc;

    rc = get_string(&node, e, key, err);
    if (rc < 0 || !node)
        return rc;
    *out = scalar_dup(node);
    return *out ? 0 : oom(err);
}

/* YAML 1.1 booleans, the set kubectl's YAML reader accepts. */
static int get_bool(bool *out, const struct kc_entry *e, const char *key,
                    kinf_error *err)
{
    static const char *const yes[] = {
        "true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y",
        "on", "On", "ON"
    };
    static const char *const no[] = {
        "false", "False", "FALSE", "no", "No", "NO", "n", "N",
        "off", "Off", "OFF"
    };
    yaml_node_t *node = entry_field(e, key);
    size_t i;

    if (!node)
        return 0;
    if (node->type == YAML_SCALAR_NODE &&
        node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
            if (scalar_is(node, yes[i]) || scalar_is(node, no[i])) {
                *out = scalar_is(node, yes[i]);
                return 0;
            }
        }
    }
    return fail(err, e->file, node, "%s.%s: not a boolean", e->where, key);
}

static int get_blob(struct kinf__blob *out, const struct kc_entry *e,
                    const char *key, kinf_error *err)
{
    yaml_node_t *node;
    int rc;

    rc = get_string(&node, e, key, err);
    if (rc < 0 || !node)
        return rc;
    rc = b64_decode(out, sval(node), node->data.scalar.length);
    if (rc == KINF_ENOMEM)
        return oom(err);
    if (rc < 0)
        return fail(err, e->file, node, "%s.%s: invalid base64", e->where, key);
    return 0;
}

/* A file reference, resolved and checked to exist so that the message
   can name both the file and the kubeconfig entry (BC-16). */
static int get_path(char **out, const struct kc_entry *e, const char *key,
                    kinf_error *err)
{
    yaml_node_t *node;
    struct stat st;
    char *path = NULL;
    int rc;

    rc = get_string(&node, e, key, err);
    if (rc < 0 || !node)
        return rc;
    path = resolve_ref(e->file->dir, sval(node));
    if (!path)
        return oom(err);

    if (stat(path, &st) < 0) {
        rc = fail(err, e->file, node, "%s.%s: cannot use \"%s\": %s",
                  e->where, key, path, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = fail(err, e->file, node, "%s.%s: \"%s\" is a directory",
                  e->where, key, path);
        goto out;
    }
    *out = path;
    path = NULL;

out:
    free(path);
    return rc;
}

/* key-data wins over key, as in client-go. */
static int get_file_or_data(char **out_file, struct kinf__blob *out_data,
                            const struct kc_entry *e, const char *key,
                            kinf_error *err)
{
    char data_key[48];
    int rc;

    snprintf(data_key, sizeof(data_key), "%s-data", key);
    rc = get_blob(out_data, e, data_key, err);
    if (rc < 0 || out_data->len > 0)
        return rc;
    return get_path(out_file, e, key, err);
}

static int current_context(const char **out, struct kc_file **out_file,
                           yaml_node_t **out_node, struct kc_set *set,
                           kinf_error *err)
{
    struct kc_file *empty_file = NULL;
    yaml_node_t *empty_node = NULL;
    char names[512];
    size_t i;

    for (i = 0; i < set->count; i++) {
        struct kc_file *f = &set->files[i];
        /* raw: a null current-context is reported where it is */
        yaml_node_t *node = map_get_raw(&f->doc, f->root, "current-context");

        if (!node)
            continue;
        if (node->type != YAML_SCALAR_NODE)
            return fail(err, f, node, "current-context: not a string");
        if (is_null(node) || node->data.scalar.length == 0) {
            if (!empty_file) {
                empty_file = f;
                empty_node = node;
            }
            continue;
        }
        if (!nul_free(node))
            return fail(err, f, node, "current-context: contains a NUL "
                        "character");
        *out = sval(node);
        *out_file = f;
        *out_node = node;
        return 0;
    }

    /* Never fall back to the first context (BC-19). */
    if (empty_file) {
        return fail(err, empty_file, empty_node,
                    "current-context is empty and no context was given");
    }
    set_names(set, names, sizeof(names));
    return kinf__error(err, KINF_ECONFIG, "no current-context set in %s "
                       "and no context was given", names);
}

static int choose_context(struct kc_entry *out, struct kc_set *set,
                          const char *name, kinf_error *err)
{
    struct kc_file *cc_file = NULL;
    yaml_node_t *cc_node = NULL;
    char names[512];
    int rc;

    if (name) {
        if (find_entry(out, set, &sections[SEC_CONTEXTS], name))
            return 0;
        set_names(set, names, sizeof(names));
        return kinf__error(err, KINF_ECONFIG, "context \"%s\" not found in %s",
                           name, names);
    }

    rc = current_context(&name, &cc_file, &cc_node, set, err);
    if (rc < 0)
        return rc;
    if (find_entry(out, set, &sections[SEC_CONTEXTS], name))
        return 0;
    return fail(err, cc_file, cc_node,
                "current-context \"%s\" names no context", name);
}

/* The cluster or user a context names (key is "cluster" or "user"). */
static int context_ref(struct kc_entry *out, char **out_name,
                       struct kc_set *set, const struct kc_entry *ctx,
                       int section, kinf_error *err)
{
    const char *key = sections[section].body;
    yaml_node_t *node;
    int rc;

    rc = get_string(&node, ctx, key, err);
    if (rc < 0)
        return rc;
    if (!node) {
        return fail(err, ctx->file, entry_pos(ctx),
                    "%s.%s: context \"%s\" names no %s", ctx->where, key,
                    sval(ctx->name), key);
    }
    if (!find_entry(out, set, &sections[section], sval(node))) {
        return fail(err, ctx->file, node, "%s.%s: %s \"%s\" not found",
                    ctx->where, key, key, sval(node));
    }
    *out_name = scalar_dup(node);
    return *out_name ? 0 : oom(err);
}

static bool is_http_url(const char *s)
{
    if (strncasecmp(s, "https://", 8) == 0)
        return s[8] != '\0';
    if (strncasecmp(s, "http://", 7) == 0)
        return s[7] != '\0';
    return false;
}

static int fill_cluster(struct kinf_config *cfg, const struct kc_entry *e,
                        kinf_error *err)
{
    yaml_node_t *server;
    int rc;

    /* The URL is not echoed: it may carry user:password. */
    rc = get_string(&server, e, "server", err);
    if (rc < 0)
        return rc;
    if (!server) {
        return fail(err, e->file, entry_pos(e),
                    "%s.server: cluster \"%s\" has no server", e->where,
                    cfg->cluster);
    }
    if (!is_http_url(sval(server))) {
        return fail(err, e->file, server,
                    "%s.server: not an https:// or http:// URL", e->where);
    }
    cfg->server = scalar_dup(server);
    if (!cfg->server)
        return oom(err);

    rc = get_bool(&cfg->insecure_skip_tls_verify, e,
                  "insecure-skip-tls-verify", err);
    if (rc < 0)
        return rc;
    rc = copy_string(&cfg->tls_server_name, e, "tls-server-name", err);
    if (rc < 0)
        return rc;
    rc = get_file_or_data(&cfg->ca_file, &cfg->ca_data, e,
                          "certificate-authority", err);
    if (rc < 0)
        return rc;

    /* A CA and the insecure flag contradict each other; client-go
       refuses the pair rather than guess which one was meant (BC-20). */
    if (cfg->insecure_skip_tls_verify && (cfg->ca_file || cfg->ca_data.data)) {
        return fail(err, e->file, entry_pos(e),
                    "%s.insecure-skip-tls-verify: cluster \"%s\" also "
                    "names a certificate authority; specifying a root "
                    "certificates file with the insecure flag is not "
                    "allowed", e->where, cfg->cluster);
    }
    return 0;
}

static int reject_plugins(const struct kc_entry *e, kinf_error *err)
{
    static const char *const keys[] = { "exec", "auth-provider" };
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        yaml_node_t *node = entry_field(e, keys[i]);

        if (node) {
            return fail(err, e->file, node,
                        "%s.%s: %s credentials are not supported yet",
                        e->where, keys[i], keys[i]);
        }
    }
    return 0;
}

static int fill_user(struct kinf_config *cfg, const struct kc_entry *e,
                     kinf_error *err)
{
    int rc;

    rc = reject_plugins(e, err);
    if (rc < 0)
        return rc;

    /* token wins over tokenFile, which is then neither read nor checked */
    rc = copy_string(&cfg->token, e, "token", err);
    if (rc < 0)
        return rc;
    if (!cfg->token) {
        rc = get_path(&cfg->token_file, e, "tokenFile", err);
        if (rc < 0)
            return rc;
    }

    rc = get_file_or_data(&cfg->client_cert_file, &cfg->client_cert_data,
                          e, "client-certificate", err);
    if (rc < 0)
        return rc;
    rc = get_file_or_data(&cfg->client_key_file, &cfg->client_key_data, e,
                          "client-key", err);
    if (rc < 0)
        return rc;

    if (!cfg->client_cert_file && !cfg->client_cert_data.data &&
        (cfg->client_key_file || cfg->client_key_data.data)) {
        return fail(err, e->file, entry_pos(e),
                    "%s: client-key given without client-certificate",
                    e->where);
    }
    if ((cfg->client_cert_file || cfg->client_cert_data.data) &&
        !cfg->client_key_file && !cfg->client_key_data.data) {
        return fail(err, e->file, entry_pos(e),
                    "%s: client-certificate given without client-key",
                    e->where);
    }
    return 0;
}

static int config_resolve(struct kinf_config *cfg, struct kc_set *set,
                          const char *context_name, kinf_error *err)
{
    struct kc_entry ctx;
    struct kc_entry cluster;
    struct kc_entry user;
    int rc;

    rc = choose_context(&ctx, set, context_name, err);
    if (rc < 0)
        return rc;
    cfg->context = scalar_dup(ctx.name);
    cfg->source = kinf__strdup(ctx.file->path);
    if (!cfg->context || !cfg->source)
        return oom(err);

    rc = context_ref(&cluster, &cfg->cluster, set, &ctx, SEC_CLUSTERS, err);
    if (rc < 0)
        return rc;
    rc = context_ref(&user, &cfg->user, set, &ctx, SEC_USERS, err);
    if (rc < 0)
        return rc;
    rc = copy_string(&cfg->namespace_, &ctx, "namespace", err);
    if (rc < 0)
        return rc;
    if (!cfg->namespace_) {
        cfg->namespace_ = kinf__strdup("default");
        if (!cfg->namespace_)
            return oom(err);
    }

    rc = fill_cluster(cfg, &cluster, err);
    if (rc < 0)
        return rc;
    return fill_user(cfg, &user, err);
}

int kinf_config_load_kubeconfig(kinf_config **out, const char *path,
                                const char *context_name, kinf_error *err)
{
    struct kc_set set = { NULL, 0, 0 };
    struct kinf_config *cfg = NULL;
    int rc;

    kinf_error_clear(err);
    if (!out)
        return kinf__error(err, KINF_EINVAL, "out must not be NULL");
    /* An empty string means "not given", as for kubectl's flags. */
    if (path && !*path) {
        path = NULL;
    }
    if (context_name && !*context_name) {
        context_name = NULL;
    }

    rc = set_load(&set, path, err);
    if (rc < 0)
        goto out;
    cfg = calloc(1, sizeof(*cfg));
    if (!cfg) {
        rc = oom(err);
        goto out;
    }
    rc = config_resolve(cfg, &set, context_name, err);
    if (rc < 0)
        goto out;

    *out = cfg;
    cfg = NULL;

out:
    kinf_config_free(cfg);
    set_free(&set);
    return rc;
}

void kinf_config_free(kinf_config *config)
{
    if (!config)
        return;
    free(config->source);
    free(config->context);
    free(config->cluster);
    free(config->user);
    free(config->namespace_);
    free(config->server);
    free(config->tls_server_name);
    free(config->ca_file);
    blob_free(&config->ca_data);
    free(config->client_cert_file);
    blob_free(&config->client_cert_data);
    free(config->client_key_file);
    blob_free(&config->client_key_data);
    secret_free(config->token);
    free(config->token_file);
    free(config);
}

static int blob_copy(struct kinf__blob *dst, const struct kinf__blob *src)
{
    dst->data = NULL;
    dst->len = 0;
    if (!src->data)
        return 0;
    /* One more byte: decoded data is kept NUL-terminated. */
    dst->data = malloc(src->len + 1);
    if (!dst->data)
        return KINF_ENOMEM;
    memcpy(dst->data, src->data, src->len + 1);
    dst->len = src->len;
    return 0;
}

#define COPY_STRING(field) \
    do { \
        copy->field = kinf__strdup(src->field); \
        if (src->field && !copy->field) \
            goto fail; \
    } while (0)

int kinf__config_copy(struct kinf_config **out, const struct kinf_config *src)
{
    struct kinf_config *copy = calloc(1, sizeof(*copy));

    if (!copy)
        return KINF_ENOMEM;
    COPY_STRING(source);
    COPY_STRING(context);
    COPY_STRING(cluster);
    COPY_STRING(user);
    COPY_STRING(namespace_);
    COPY_STRING(server);
    COPY_STRING(tls_server_name);
    COPY_STRING(ca_file);
    COPY_STRING(client_cert_file);
    COPY_STRING(client_key_file);
    COPY_STRING(token);
    COPY_STRING(token_file);
    copy->insecure_skip_tls_verify = src->insecure_skip_tls_verify;
    if (blob_copy(&copy->ca_data, &src->ca_data) < 0 ||
        blob_copy(&copy->client_cert_data, &src->client_cert_data) < 0 ||
        blob_copy(&copy->client_key_data, &src->client_key_data) < 0)
        goto fail;
    *out = copy;
    return 0;

fail:
    kinf_config_free(copy);
    return KINF_ENOMEM;
}

const char *kinf_config_server(const kinf_config *config)
{
    return config ? config->server : NULL;
}

const char *kinf_config_namespace(const kinf_config *config)
{
    return config ? config->namespace_ : NULL;
}

const char *kinf_config_context(const kinf_config *config)
{
    return config ? config->context : NULL;
}

const char *kinf_config_source(const kinf_config *config)
{
    return config ? config->source : NULL;
}
