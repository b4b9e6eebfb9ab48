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
    (void)last, (void)unknown, (void)user_data;
    printf("delete %s\n", key);
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

    kinf_global_init();
    if (kinf_config_load_kubeconfig(&config, argc > 1 ? argv[1] : NULL,
                                    NULL, &err) ||
        kinf_client_new(&client, config, &err))
        goto out;

    opts.resource = "pods";               /* core group, v1 */
    handler.on_add = on_add;
    handler.on_delete = on_delete;
    kinf_informer_new(&informer, client, &opts, &err);
    kinf_informer_add_handler(NULL, informer, &handler, NULL, NULL);
    if (kinf_informer_start(informer, &err) ||
        kinf_informer_wait_for_sync(informer, 10000, &err))
        goto out;
    printf("synced: %zu pods\n",
           kinf_store_len(kinf_informer_store(informer)));
    sleep((unsigned)seconds);             /* events arrive meanwhile */

out:
    if (err.code) {
        fprintf(stderr, "error: %s\n", err.message);
    }
    kinf_informer_free(informer);
    kinf_client_free(client);
    kinf_config_free(config);
    kinf_global_cleanup();
    return err.code ? 1 : 0;
}
