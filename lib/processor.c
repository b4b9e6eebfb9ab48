/* SPDX-License-Identifier: MIT */
/* processor.c - one thread and one unbounded queue per handler */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "processor.h"

struct item {
    enum kinf__note_type type;
    kinf_object *old_obj;
    kinf_object *obj;
    char *key;
    bool flag;
    kinf_error *err;
};

struct kinf_registration {
    struct kinf_registration *next;   /* processor list, under p->lock */
    struct kinf__processor *processor;
    kinf_handler handler;
    void *user_data;
    kinf_free_fn free_user_data;

    /* One reference for the processor's list, one for a live thread,
       one for each stop waiting on it: whoever drops the last frees. */
    atomic_int refs;

    pthread_mutex_t lock;     /* guards the queue and the flags below */
    pthread_cond_t wake;      /* work or stop for the thread */
    pthread_cond_t exited;    /* the thread has ended */
    struct item *queue;       /* ring buffer */
    size_t head;
    size_t len;
    size_t cap;
    bool stopping;            /* the thread must end */
    bool alive;               /* a thread runs (detached) */
    atomic_size_t pending_initial;
};

struct kinf__processor {
    bool (*source_synced)(void *);
    void *source;
    pthread_mutex_t lock;     /* "blockDeltas": guards the list and
                                 running */
    struct kinf_registration *listeners;
    bool running;             /* listeners get threads */
};

/* The processor whose listener thread this is, if any: such a thread
   must never wait for another listener thread, which may be waiting for
   it. */
static _Thread_local const struct kinf__processor *current_processor;

static void item_clear(struct item *it)
{
    kinf_object_unref(it->old_obj);
    kinf_object_unref(it->obj);
    free(it->key);
    free(it->err);
    memset(it, 0, sizeof(*it));
}

static int push(struct kinf_registration *l, const struct kinf__note *n)
{
    struct item it = {0};
    int rc = 0;

    it.type = n->type;
    it.flag = n->flag;
    if (n->key && !(it.key = strdup(n->key)))
        return KINF_ENOMEM;
    if (n->err) {
        it.err = malloc(sizeof(*it.err));
        if (!it.err) {
            free(it.key);
            return KINF_ENOMEM;
        }
        memcpy(it.err, n->err, sizeof(*it.err));
    }
    it.old_obj = kinf_object_ref(n->old_obj);
    it.obj = kinf_object_ref(n->obj);

    pthread_mutex_lock(&l->lock);
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        struct item *q = malloc(cap * sizeof(*q));

        if (!q) {
            rc = KINF_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < l->len; i++) {
            q[i] = l->queue[(l->head + i) % l->cap];
        }
        free(l->queue);
        l->queue = q;
        l->cap = cap;
        l->head = 0;
    }
    l->queue[(l->head + l->len) % l->cap] = it;
    l->len++;
    if (it.type == KINF__NOTE_ADD && it.flag) {
        atomic_fetch_add(&l->pending_initial, 1);
    }
    pthread_cond_signal(&l->wake);

out:
    pthread_mutex_unlock(&l->lock);
    if (rc < 0) {
        item_clear(&it);
    }
    return rc;
}

static void deliver(struct kinf_registration *l, const struct item *it)
{
    const kinf_handler *h = &l->handler;

    switch (it->type) {
    case KINF__NOTE_ADD:
        if (h->on_add) {
            h->on_add(it->obj, it->flag, l->user_data);
        }
        break;
    case KINF__NOTE_UPDATE:
        if (h->on_update) {
            h->on_update(it->old_obj, it->obj, l->user_data);
        }
        break;
    case KINF__NOTE_DELETE:
        if (h->on_delete) {
            h->on_delete(it->key, it->obj, it->flag, l->user_data);
        }
        break;
    case KINF__NOTE_ERROR:
        if (h->on_error) {
            h->on_error(it->err, l->user_data);
        }
        break;
    }
}

static void registration_free(struct kinf_registration *l)
{
    for (size_t i = 0; i < l->len; i++) {
        item_clear(&l->queue[(l->head + i) % l->cap]);
    }
    free(l->queue);
    if (l->free_user_data) {
        l->free_user_data(l->user_data);
    }
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->wake);
    pthread_cond_destroy(&l->exited);
    free(l);
}

static void registration_ref(struct kinf_registration *l)
{
    atomic_fetch_add(&l->refs, 1);
}

static void registration_unref(struct kinf_registration *l)
{
    if (atomic_fetch_sub(&l->refs, 1) == 1) {
        registration_free(l);
    }
}

static void *listener_main(void *arg)
{
    struct kinf_registration *l = arg;
    bool last;

    current_processor = l->processor;
    for (;;) {
        struct item it;

        pthread_mutex_lock(&l->lock);
        while (l->len == 0 && !l->stopping) {
            pthread_cond_wait(&l->wake, &l->lock);
        }
        if (l->stopping) {
            pthread_mutex_unlock(&l->lock);
            break;
        }
        it = l->queue[l->head];
        l->head = (l->head + 1) % l->cap;
        l->len--;
        pthread_mutex_unlock(&l->lock);

        deliver(l, &it);
        if (it.type == KINF__NOTE_ADD && it.flag) {
            atomic_fetch_sub(&l->pending_initial, 1);
        }
        item_clear(&it);
    }

    /* Drop the thread's own reference before anyone waiting wakes: a
       waiter holds one too, so the last release, and free_user_data,
       happens in the call that waited (remove, stop or free), before it
       returns. Only with no one waiting does the thread free it. */
    pthread_mutex_lock(&l->lock);
    l->alive = false;
    last = atomic_fetch_sub(&l->refs, 1) == 1;
    if (!last) {
        pthread_cond_broadcast(&l->exited);
    }
    pthread_mutex_unlock(&l->lock);
    if (last) {
        registration_free(l);
    }
    return NULL;
}

struct kinf__processor *kinf__processor_new(bool (*source_synced)(void *),
                                            void *user_data)
{
    struct kinf__processor *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    p->source_synced = source_synced;
    p->source = user_data;
    return p;
}

void kinf__processor_lock(struct kinf__processor *p)
{
    pthread_mutex_lock(&p->lock);
}

void kinf__processor_unlock(struct kinf__processor *p)
{
    pthread_mutex_unlock(&p->lock);
}

int kinf__processor_distribute(struct kinf__processor *p,
                               const struct kinf__note *note)
{
    int rc = 0;

    for (struct kinf_registration *l = p->listeners; l; l = l->next) {
        if (push(l, note) < 0) {
            rc = KINF_ENOMEM;
        }
    }
    return rc;
}

/* Wait (unless on a listener thread) until l's thread has ended. */
static void wait_exited(struct kinf_registration *l)
{
    pthread_mutex_lock(&l->lock);
    while (l->alive && !current_processor) {
        pthread_cond_wait(&l->exited, &l->lock);
    }
    pthread_mutex_unlock(&l->lock);
}

/* Give l a thread. A thread that a stop from a callback left finishing
   must have ended first (kinf__processor_run waits for it). */
static int start_thread(struct kinf_registration *l)
{
    pthread_attr_t attr;
    pthread_t thread;
    int rc = 0;

    pthread_mutex_lock(&l->lock);
    if (l->alive && !l->stopping)
        goto out;   /* already running */
    if (l->alive) {
        rc = KINF_EBUSY;   /* an old thread still finishes a callback */
        goto out;
    }
    l->stopping = false;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    registration_ref(l);
    if (pthread_create(&thread, &attr, listener_main, l) != 0) {
        atomic_fetch_sub(&l->refs, 1);
        rc = KINF_ERROR;
    } else {
        l->alive = true;
    }
    pthread_attr_destroy(&attr);

out:
    pthread_mutex_unlock(&l->lock);
    return rc;
}

static void signal_stop(struct kinf_registration *l)
{
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
}

int kinf__processor_add(struct kinf__processor *p, kinf_registration **out,
                        const kinf_handler *handler, void *user_data,
                        kinf_free_fn free_user_data,
                        kinf_object *const *initial, size_t count)
{
    struct kinf_registration *l = calloc(1, sizeof(*l));
    struct kinf__note note = { .type = KINF__NOTE_ADD, .flag = true };
    int rc = 0;

    if (!l)
        return KINF_ENOMEM;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    pthread_cond_init(&l->exited, NULL);
    atomic_init(&l->pending_initial, 0);
    atomic_init(&l->refs, 1);
    l->processor = p;
    l->handler = *handler;
    l->user_data = user_data;

    for (size_t i = 0; rc == 0 && i < count; i++) {
        note.obj = initial[i];
        rc = push(l, &note);
    }
    if (rc == 0 && p->running) {
        rc = start_thread(l);
    }
    if (rc < 0) {
        signal_stop(l);
        registration_unref(l);   /* the caller still owns user_data */
        return rc;
    }
    l->free_user_data = free_user_data;
    l->next = p->listeners;
    p->listeners = l;
    if (out) {
        *out = l;
    }
    return 0;
}

int kinf__processor_remove(struct kinf__processor *p,
                           kinf_registration *reg)
{
    struct kinf_registration **link;

    pthread_mutex_lock(&p->lock);
    for (link = &p->listeners; *link && *link != reg; link = &(*link)->next) {
        ;
    }
    if (!*link) {
        pthread_mutex_unlock(&p->lock);
        return KINF_ENOTFOUND;
    }
    *link = reg->next;
    pthread_mutex_unlock(&p->lock);

    /* A callback in progress finishes first; from a listener thread
       nothing waits, and the last reference frees the registration. */
    signal_stop(reg);
    wait_exited(reg);
    registration_unref(reg);
    return 0;
}

/* New references to every listener, taken under the lock; *n gets the
   count (0 and NULL when out of memory). */
static struct kinf_registration **hold_all(struct kinf__processor *p,
                                           size_t *n)
{
    struct kinf_registration **held;
    size_t count = 0;

    for (struct kinf_registration *l = p->listeners; l; l = l->next) {
        count++;
    }
    *n = 0;
    held = calloc(count ? count : 1, sizeof(*held));
    for (struct kinf_registration *l = p->listeners; held && l;
         l = l->next) {
        registration_ref(l);
        held[(*n)++] = l;
    }
    return held;
}

static void release_all(struct kinf_registration **held, size_t n,
                        bool wait)
{
    for (size_t i = 0; i < n; i++) {
        if (wait) {
            wait_exited(held[i]);
        }
        registration_unref(held[i]);
    }
    free(held);
}

int kinf__processor_run(struct kinf__processor *p)
{
    struct kinf_registration **held;
    size_t n;
    int rc = 0;

    /* Threads left finishing by a stop from a callback end first; wait
       for them without the lock, which their callbacks may need. */
    pthread_mutex_lock(&p->lock);
    held = hold_all(p, &n);
    pthread_mutex_unlock(&p->lock);
    release_all(held, n, true);

    pthread_mutex_lock(&p->lock);
    p->running = true;
    for (struct kinf_registration *l = p->listeners; l; l = l->next) {
        if (start_thread(l) < 0) {
            rc = KINF_ERROR;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void kinf__processor_stop(struct kinf__processor *p)
{
    struct kinf_registration **held;
    size_t n;

    /* Signal under the lock, wait outside it: a callback that is
       finishing may still need the lock (to add a handler, say). The
       references keep the listeners alive while waiting. */
    pthread_mutex_lock(&p->lock);
    p->running = false;
    for (struct kinf_registration *l = p->listeners; l; l = l->next) {
        signal_stop(l);
    }
    held = hold_all(p, &n);
    pthread_mutex_unlock(&p->lock);
    release_all(held, n, true);
}

void kinf__processor_free(struct kinf__processor *p)
{
    struct kinf_registration *l;

    if (!p)
        return;
    kinf__processor_stop(p);
    while ((l = p->listeners)) {
        p->listeners = l->next;
        wait_exited(l);
        registration_unref(l);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

bool kinf__registration_initial_delivered(const kinf_registration *reg)
{
    struct kinf_registration *l = (struct kinf_registration *)reg;

    return atomic_load(&l->pending_initial) == 0;
}

bool kinf__registration_has_synced(const kinf_registration *reg)
{
    const struct kinf__processor *p = reg->processor;

    return p->source_synced(p->source) &&
           kinf__registration_initial_delivered(reg);
}

bool kinf__processor_initial_delivered(struct kinf__processor *p)
{
    bool done = true;

    pthread_mutex_lock(&p->lock);
    for (struct kinf_registration *l = p->listeners; l; l = l->next) {
        done = done && kinf__registration_initial_delivered(l);
    }
    pthread_mutex_unlock(&p->lock);
    return done;
}

bool kinf__processor_is_listener_thread(struct kinf__processor *p)
{
    return current_processor == p;
}
