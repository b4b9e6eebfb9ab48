/* SPDX-License-Identifier: MIT */
/* test_log.c - the klog sink's format and verbosity, and silence */
#include <regex.h>
#include <unistd.h>

#include "test_util.h"

#include "log.h"

/* Run fn with stderr sent to a file; return what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
    char path[] = "/tmp/kinf-log-XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);
    size_t len;
    char *text;

    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    text = test_read_file("/tmp", path + 5, &len);
    unlink(path);
    return text;
}

static void all_levels(void)
{
    KINF_KLOG(KINF_LOG_ERROR, "an error %d", 1);
    KINF_KLOG(KINF_LOG_WARN, "a warning");
    KINF_KLOG(KINF_LOG_INFO, "AddFunc %s", "default/nginx");
    KINF_KLOG(KINF_LOG_DEBUG, "a decision");
    KINF_KLOG(KINF_LOG_TRACE, "an event");
}

static void assert_matches(const char *text, const char *pattern)
{
    regex_t re;

    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
    if (regexec(&re, text, 0, NULL, 0) != 0)
        fail_msg("no line matches /%s/ in:\n%s", pattern, text);
    regfree(&re);
}

static void test_klog_line_format(void **state)
{
    char pid[64];
    char *text;

    (void)state;
    kinf_klog_set_verbosity(0);
    text = capture_stderr(all_levels);
    /* I1203 16:02:20.123456   12345 file.c:44] message */
    assert_matches(text, "^E[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} "
                         "+[0-9]+ test_log\\.c:[0-9]+\\] an error 1$");
    /* The process id is right-aligned in seven columns, as in klog. */
    snprintf(pid, sizeof(pid), " %7d test_log.c:", (int)getpid());
    assert_non_null(strstr(text, pid));
    assert_matches(text, "^W[0-9]{4} .* test_log\\.c:[0-9]+\\] a warning$");
    assert_matches(text, "^I[0-9]{4} .*\\] AddFunc default/nginx$");
    assert_null(strstr(text, "a decision"));
    assert_null(strstr(text, "an event"));
    free(text);
}

static void test_verbosity_threshold(void **state)
{
    char *text;

    (void)state;
    kinf_klog_set_verbosity(4);
    assert_int_equal(kinf_klog_max_level(), KINF_LOG_DEBUG);
    text = capture_stderr(all_levels);
    assert_matches(text, "^I[0-9]{4} .*\\] a decision$");
    assert_null(strstr(text, "an event"));
    free(text);

    kinf_klog_set_verbosity(6);
    assert_int_equal(kinf_klog_max_level(), KINF_LOG_TRACE);
    text = capture_stderr(all_levels);
    assert_matches(text, "^I[0-9]{4} .*\\] an event$");
    free(text);
    kinf_klog_set_verbosity(0);
    assert_int_equal(kinf_klog_max_level(), KINF_LOG_INFO);
}

static int hook_calls;

static void hook(kinf_log_level level, const char *subsystem,
                 const char *file, int line, const char *message,
                 void *user_data)
{
    (void)level, (void)file, (void)line;
    assert_string_equal(subsystem, "test");
    assert_string_equal(user_data, "data");
    /* Server text never brings control characters into a line. */
    assert_null(strchr(message, '\n'));
    assert_null(strchr(message, '\033'));
    hook_calls++;
}

static void library_logs(void)
{
    struct kinf__logger silent = { KINF_LOG_TRACE, NULL, NULL };
    struct kinf__logger quiet = { KINF_LOG_WARN, hook, "data" };

    /* No hook: nothing anywhere. */
    KINF__LOG(&silent, KINF_LOG_ERROR, "test", "never %s", "shown");
    /* Levels above the hook's maximum are not even formatted. */
    KINF__LOG(&quiet, KINF_LOG_INFO, "test", "dropped");
    KINF__LOG(&quiet, KINF_LOG_ERROR, "test", "bad name 'a\n\033[2Jb'");
}

static void test_library_is_silent_without_a_hook(void **state)
{
    char *text;

    (void)state;
    hook_calls = 0;
    text = capture_stderr(library_logs);
    assert_string_equal(text, "");
    assert_int_equal(hook_calls, 1);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_klog_line_format),
        cmocka_unit_test(test_verbosity_threshold),
        cmocka_unit_test(test_library_is_silent_without_a_hook),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
