/* SPDX-License-Identifier: MIT */
/* watch-pods.c - the README's example: print pod changes for a while */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <kinformer.h>

static void on_add(const kinf_object *pod, bool initial, void *user_data)
{
    (void)user_data;
    printf("add %s%s\n", kinf_object_key(pod), initial ? " (initial)" : "");
}

static void on_delete(const char *key, const kinf_object *last,
                      bool unknown, void *user_data)
{
    (void)last;
    (void)user_data;
    printf("delete %s%s\n", key, unknown ? " (final state unknown)" : "");
}

int main(int argc, char **argv)
{
    kinf_informer_options opts = KINF_INFORMER_OPTIONS_INIT;
    kinf_handler handler = KINF_HANDLER_INIT;
    kinf_config *config = NULL;
    kinf_client *client = NULL;
    kinf_informer *informer = NULL;
    kinf_error err = {0};
    int seconds = argc > 2 ? atoi(argv[2]) : 30;
    int rc;

    setvbuf(stdout, NULL, _IOLBF, 0);     /* a line at a time */
    opts.resource = "pods";               /* core group, v1 */
    handler.on_add = on_add;
    handler.on_delete = on_delete;

    rc = kinf_global_init();
    if (rc < 0) {
        fprintf(stderr, "error: %s\n", kinf_strerror(rc));
        return 1;
    }
    /* err says what failed, for the calls that take it. */
    rc = kinf_config_load_kubeconfig(&config, argc > 1 ? argv[1] : NULL,
                                     NULL, &err);
    if (rc < 0)
        goto out;
    rc = kinf_client_new(&client, config, &err);
    if (rc < 0)
        goto out;
    rc = kinf_informer_new(&informer, client, &opts, &err);
    if (rc < 0)
        goto out;
    rc = kinf_informer_add_handler(NULL, informer, &handler, NULL, NULL);
    if (rc < 0)
        goto out;
    rc = kinf_informer_start(informer, &err);
    if (rc < 0)
        goto out;
    rc = kinf_informer_wait_for_sync(informer, 10000, &err);
    if (rc < 0)
        goto out;
    printf("synced: %zu pods\n",
           kinf_store_len(kinf_informer_store(informer)));
    sleep((unsigned)seconds);             /* events arrive meanwhile */

out:
    if (rc < 0) {
        fprintf(stderr, "error: %s\n",
                err.message[0] ? err.message : kinf_strerror(rc));
    }
    kinf_informer_free(informer);
    kinf_client_free(client);
    kinf_config_free(config);
    kinf_global_cleanup();
    return rc == 0 ? 0 : 1;
}
