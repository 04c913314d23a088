/* test_params.c - parameter tables: picks, typo suggestions and the
 * table-driven parse of raw parameters (params.h, params_parse.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "base/params.h"
#include "base/params_parse.h"
#include "scenario/scenario.h"

enum { T_SERVICE, T_PICK, T_SIGNAL, T_WITHIN, T_TAGS, T_COUNT, T_FLAG, T_WORKLOAD, T_N };

static const struct fl_param table[T_N] = {
    [T_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "target service"},
    [T_PICK] = {"pick", FL_PT_PICK, 0, "one", "which instances"},
    [T_SIGNAL] = {"signal", FL_PT_SIGNAL, 0, "TERM", "signal"},
    [T_WITHIN] = {"within", FL_PT_DURATION, 1, NULL, "time allowed"},
    [T_TAGS] = {"tags", FL_PT_STRINGS, 0, "x", "tags"},
    [T_COUNT] = {"count", FL_PT_INT, 0, "3", "a count", .lo = -10, .hi = 10},
    [T_FLAG] = {"flag", FL_PT_BOOL, 0, "false", "a flag"},
    [T_WORKLOAD] = {"workload", FL_PT_WORKLOAD, 0, NULL, "a workload"},
};

static const char *const svc_names[] = {"api", "db"};
static const char *const wl_names[] = {"submit"};
static const struct fl_params_names names = {svc_names, 2, wl_names, 1, NULL, 0};

static const char *const ab[] = {"a", "b"};

/* A raw parameter on line `line`: key at col 3, value at col 10. */
static struct fl_rawparam rs(const char *key, const char *val, int line)
{
    struct fl_rawparam r = {0};
    r.key = key;
    r.key_pos = (struct fl_pos){"t.yaml", line, 3};
    r.scalar = val;
    r.val_pos = (struct fl_pos){"t.yaml", line, 10};
    return r;
}

static struct fl_rawparam rl(const char *key, const char *const *list, size_t n, int line)
{
    struct fl_rawparam r = rs(key, NULL, line);
    r.is_list = 1;
    r.list = list;
    r.nlist = n;
    return r;
}

static const struct fl_pos where = {"t.yaml", 1, 5};

static int has(const struct fl_diag *d, int line, int col, const char *a, const char *b)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].line == line && d->items[i].col == col &&
            strcmp(d->items[i].file, "t.yaml") == 0 && strstr(d->items[i].msg, a) &&
            (!b || strstr(d->items[i].msg, b)))
            return 1;
    for (size_t i = 0; i < d->n; i++)
        print_message("  %d:%d: %s\n", d->items[i].line, d->items[i].col, d->items[i].msg);
    return 0;
}

static void test_parse_valid(void **state)
{
    (void)state;
    struct fl_rawparam raw[] = {
        rs("service", "api", 2), rs("within", "1.5s", 3), rl("tags", ab, 2, 4),
        rs("count", "-2", 5), rs("flag", "true", 6), rs("pick", "50%", 7),
        rs("workload", "submit", 8),
    };
    struct fl_args args;
    struct fl_diag d = {0};
    int rc = fl_params_parse(table, T_N, raw, 7, "test", where, &names, &args, &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    assert_ptr_equal(args.params, table);
    assert_int_equal(args.n, T_N);
    assert_true(args.v[T_SERVICE].set);
    assert_string_equal(args.v[T_SERVICE].s, "api");
    assert_int_equal(args.v[T_SERVICE].pos.line, 2);
    assert_int_equal(args.v[T_SERVICE].pos.col, 10);
    assert_int_equal(args.v[T_WITHIN].ms, 1500);
    assert_int_equal(args.v[T_TAGS].nlist, 2);
    assert_string_equal(args.v[T_TAGS].list[1], "b");
    assert_string_equal(args.v[T_TAGS].s, "a");
    assert_int_equal(args.v[T_COUNT].i, -2);
    assert_int_equal(args.v[T_FLAG].b, 1);
    assert_int_equal(args.v[T_PICK].pick.kind, FL_PICK_PERCENT);
    assert_int_equal(args.v[T_PICK].pick.n, 50);
    assert_string_equal(args.v[T_WORKLOAD].s, "submit");
    /* Not given: the table's default, placed at the owner's key. */
    assert_true(args.v[T_SIGNAL].set);
    assert_int_equal(args.v[T_SIGNAL].sig, SIGTERM);
    assert_int_equal(args.v[T_SIGNAL].pos.line, 1);
    fl_diag_free(&d);
}

static void test_parse_defaults_and_missing(void **state)
{
    (void)state;
    struct fl_args args;
    struct fl_diag d = {0};
    int rc = fl_params_parse(table, T_N, NULL, 0, "fault process.test", where, &names, &args, &d);
    assert_int_equal(rc, FL_ESCENARIO);
    assert_int_equal(d.n, 2);
    assert_true(has(&d, 1, 5, "missing required 'service' in fault process.test",
                    "expected a service name"));
    assert_true(has(&d, 1, 5, "missing required 'within'", "duration like 250ms, 5s, 2m"));
    assert_false(args.v[T_SERVICE].set);
    assert_false(args.v[T_WORKLOAD].set);
    assert_true(args.v[T_PICK].set);
    assert_int_equal(args.v[T_PICK].pick.kind, FL_PICK_ONE);
    assert_int_equal(args.v[T_COUNT].i, 3);
    assert_true(args.v[T_FLAG].set);
    assert_int_equal(args.v[T_FLAG].b, 0);
    /* A STRINGS default is one value. */
    assert_int_equal(args.v[T_TAGS].nlist, 1);
    assert_string_equal(args.v[T_TAGS].list[0], "x");
    fl_diag_free(&d);
}

static void test_parse_unknown_key(void **state)
{
    (void)state;
    struct fl_rawparam raw[] = {rs("servise", "api", 2), rs("within", "1s", 3), rs("zzzzzz", "1", 4)};
    struct fl_args args;
    struct fl_diag d = {0};
    int rc = fl_params_parse(table, T_N, raw, 3, "fault process.test", where, &names, &args, &d);
    assert_int_equal(rc, FL_ESCENARIO);
    assert_int_equal(d.n, 3);
    assert_true(has(&d, 2, 3, "unknown key 'servise' in fault process.test; expected one of: "
                    "service, pick, signal, within, tags, count, flag, workload",
                    "; did you mean 'service'?"));
    assert_true(has(&d, 4, 3, "unknown key 'zzzzzz'", NULL));
    for (size_t i = 0; i < d.n; i++)
        if (d.items[i].line == 4)
            assert_null(strstr(d.items[i].msg, "did you mean"));
    assert_true(has(&d, 1, 5, "missing required 'service'", NULL));
    fl_diag_free(&d);
}

static void test_parse_wrong_types(void **state)
{
    (void)state;
    struct fl_rawparam raw[] = {
        rl("service", ab, 2, 2), rs("within", "fast", 3), rs("count", "x", 4),
        rs("flag", "yes", 5), rs("signal", "NOPE", 6), rs("pick", "0", 7),
        rl("tags", NULL, 0, 8), rs("pick", "all", 9),
    };
    struct fl_args args;
    struct fl_diag d = {0};
    int rc = fl_params_parse(table, T_N, raw, 8, "test", where, &names, &args, &d);
    assert_int_equal(rc, FL_ESCENARIO);
    assert_true(has(&d, 2, 10, "service: expected a service name; got a list", NULL));
    assert_true(has(&d, 3, 10, "within: expected a duration like 250ms, 5s, 2m; got 'fast'", NULL));
    assert_true(has(&d, 4, 10, "count: expected an integer", "got 'x'"));
    assert_true(has(&d, 5, 10, "flag: expected a boolean: true or false; got 'yes'", NULL));
    assert_true(has(&d, 6, 10, "signal: expected a signal", "got 'NOPE'"));
    assert_true(has(&d, 7, 10, "pick: expected a pick", "got '0'"));
    assert_true(has(&d, 8, 10, "tags: expected at least one value", NULL));
    assert_true(has(&d, 9, 3, "duplicate key 'pick'", NULL));
    assert_int_equal(d.n, 8);
    /* Given but wrong: no "missing" on top of the type error. */
    for (size_t i = 0; i < d.n; i++)
        assert_null(strstr(d.items[i].msg, "missing"));
    fl_diag_free(&d);
}

static void test_parse_names(void **state)
{
    (void)state;
    struct fl_rawparam raw[] = {rs("service", "apx", 2), rs("within", "1s", 3),
                                rs("workload", "submit", 4)};
    struct fl_args args;
    struct fl_diag d = {0};
    int rc = fl_params_parse(table, T_N, raw, 3, "test", where, &names, &args, &d);
    assert_int_equal(rc, FL_ESCENARIO);
    assert_int_equal(d.n, 1);
    assert_true(has(&d, 2, 10, "service: no service named 'apx'", "did you mean 'api'?"));
    fl_diag_free(&d);
    /* Without names any name passes (the caller checks later). */
    rc = fl_params_parse(table, T_N, raw, 3, "test", where, NULL, &args, &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    assert_string_equal(args.v[T_SERVICE].s, "apx");
    fl_diag_free(&d);
}

static void test_parse_too_many_params(void **state)
{
    (void)state;
    struct fl_param big[FL_MAX_PARAMS + 1];
    for (size_t i = 0; i < FL_MAX_PARAMS + 1; i++)
        big[i] = (struct fl_param){.name = "p", .type = FL_PT_STRING, .help = ""};
    struct fl_args args;
    struct fl_diag d = {0};
    assert_int_equal(fl_params_parse(big, FL_MAX_PARAMS + 1, NULL, 0, "t", where, NULL, &args, &d),
                     FL_EINVAL);
    fl_diag_free(&d);
}

static void test_pick(void **state)
{
    (void)state;
    struct fl_pick p;
    assert_int_equal(fl_parse_pick("one", &p), 0);
    assert_int_equal(p.kind, FL_PICK_ONE);
    assert_int_equal(fl_parse_pick("all", &p), 0);
    assert_int_equal(p.kind, FL_PICK_ALL);
    assert_int_equal(fl_parse_pick("1", &p), 0);
    assert_int_equal(p.kind, FL_PICK_COUNT);
    assert_int_equal(p.n, 1);
    assert_int_equal(fl_parse_pick("7", &p), 0);
    assert_int_equal(p.n, 7);
    assert_int_equal(fl_parse_pick("256", &p), 0);   /* replicas are at most 256 */
    assert_int_equal(p.n, 256);
    assert_int_equal(fl_parse_pick("1%", &p), 0);
    assert_int_equal(p.kind, FL_PICK_PERCENT);
    assert_int_equal(p.n, 1);
    assert_int_equal(fl_parse_pick("100%", &p), 0);
    assert_int_equal(p.n, 100);
    static const char *const bad[] = {"0", "101%", "0%", "-1", "1.5", "", "%", " 2", "2 ",
                                      "+3", "50 %", "ONE", "some", "-5%", "99999999999",
                                      "257"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (fl_parse_pick(bad[i], &p) != FL_EINVAL)
            fail_msg("pick '%s' should be rejected", bad[i]);
    assert_int_equal(fl_parse_pick(NULL, &p), FL_EINVAL);
}

static void test_suggest(void **state)
{
    (void)state;
    assert_int_equal(fl_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(fl_edit_distance("", "abc"), 3);
    assert_int_equal(fl_edit_distance("same", "same"), 0);
    assert_int_equal(fl_edit_distance("replics", "replicas"), 1);
    static const char *const keys[] = {"command", "env", "replicas", "ready", "restart"};
    assert_string_equal(fl_suggest("replics", keys, 5), "replicas");
    assert_string_equal(fl_suggest("comand", keys, 5), "command");
    assert_string_equal(fl_suggest("redy", keys, 5), "ready");
    assert_null(fl_suggest("xyzzy", keys, 5));
    assert_null(fl_suggest("e", keys, 5));
    static const char *const fk[] = {"at", "for", "process.kill"};
    assert_string_equal(fl_suggest("fr", fk, 3), "for");
    assert_string_equal(fl_suggest("proces.kil", fk, 3), "process.kill");
    assert_int_equal(fl_param_index(table, T_N, "within"), T_WITHIN);
    assert_int_equal(fl_param_index(table, T_N, "withn"), -1);
}

static void test_type_text(void **state)
{
    (void)state;
    for (int t = FL_PT_STRING; t <= FL_PT_ENUM; t++) {
        assert_true(strlen(fl_ptype_expect((enum fl_ptype)t)) > 3);
        assert_true(strlen(fl_ptype_name((enum fl_ptype)t)) > 2);
    }
    assert_string_equal(fl_ptype_expect(FL_PT_DURATION), "duration like 250ms, 5s, 2m");
    assert_string_equal(fl_ptype_name(FL_PT_DURATION), "duration");
    struct fl_pval v = {0};
    assert_int_equal(fl_param_value(FL_PT_SIGNAL, "SIGKILL", &v), 0);
    assert_int_equal(v.sig, SIGKILL);
    assert_int_equal(fl_param_value(FL_PT_DURATION, "2m", &v), 0);
    assert_int_equal(v.ms, 120000);
    assert_int_equal(fl_param_value(FL_PT_BOOL, "True", &v), FL_EINVAL);
}

/* Enums, bounds and the messages that show substituted vars. */
enum { E_MODE, E_LEVEL, E_TIMEOUT, E_GRACE, E_NAME, E_N };
static const char *const modes[] = {"stop", "client", NULL};
static const struct fl_param etable[E_N] = {
    [E_MODE] = {"mode", FL_PT_ENUM, 0, "stop", "how", .choices = modes},
    [E_LEVEL] = {"level", FL_PT_INT, 0, NULL, "a level", .lo = 1, .hi = 5},
    [E_TIMEOUT] = {"timeout", FL_PT_DURATION, 0, "30s", "above 0", .lo = 1},
    [E_GRACE] = {"grace", FL_PT_DURATION, 0, NULL, "default bounds"},
    [E_NAME] = {"name", FL_PT_STRING, 0, NULL, "short", .hi = 8},
};

static void test_enum_and_bounds(void **state)
{
    (void)state;
    struct fl_args args;
    struct fl_diag d = {0};
    struct fl_rawparam ok[] = {rs("mode", "client", 2), rs("level", "5", 3),
                               rs("timeout", "1ms", 4), rs("grace", "24h", 5),
                               rs("name", "abcdefgh", 6)};
    assert_int_equal(fl_params_parse(etable, E_N, ok, 5, "t", where, NULL, &args, &d), 0);
    assert_int_equal(args.v[E_MODE].e, 1);
    assert_string_equal(args.v[E_MODE].s, "client");
    assert_int_equal(args.v[E_LEVEL].i, 5);
    assert_int_equal(args.v[E_TIMEOUT].ms, 1);
    assert_int_equal(args.v[E_GRACE].ms, 24ULL * 3600 * 1000);
    fl_diag_free(&d);

    /* Defaults: an enum's default is one of its choices. */
    assert_int_equal(fl_params_parse(etable, E_N, NULL, 0, "t", where, NULL, &args, &d), 0);
    assert_int_equal(args.v[E_MODE].e, 0);
    assert_int_equal(args.v[E_TIMEOUT].ms, 30000);
    fl_diag_free(&d);

    struct fl_rawparam bad[] = {rs("mode", "clinet", 2), rs("level", "0", 3),
                                rs("timeout", "0s", 4), rs("grace", "25h", 5),
                                rs("name", "abcdefghi", 6)};
    assert_int_equal(fl_params_parse(etable, E_N, bad, 5, "t", where, NULL, &args, &d),
                     FL_ESCENARIO);
    assert_int_equal(d.n, 5);
    assert_true(has(&d, 2, 10, "mode: expected one of: stop, client; got 'clinet'",
                    "; did you mean 'client'?"));
    assert_true(has(&d, 3, 10, "level: expected an integer from 1 to 5; got '0'", NULL));
    assert_true(has(&d, 4, 10, "timeout: expected a duration above 0 and at most 24h; got '0s'",
                    NULL));
    assert_true(has(&d, 5, 10, "grace: expected a duration of at most 24h; got '25h'", NULL));
    assert_true(has(&d, 6, 10, "name: expected at most 8 characters; got 'abcdefghi'", NULL));
    fl_diag_free(&d);

    /* A value the loader substituted: both forms, at the value. */
    struct fl_rawparam sub = rs("mode", "pause", 7);
    sub.written = "${m}";
    assert_int_equal(fl_params_parse(etable, E_N, &sub, 1, "t", where, NULL, &args, &d),
                     FL_ESCENARIO);
    assert_true(has(&d, 7, 10, "mode: '${m}' = 'pause': expected one of: stop, client", NULL));
    fl_diag_free(&d);
    struct fl_rawparam sig = rs("signal", "STOPP", 8);
    sig.written = "${sig}";
    struct fl_rawparam svc = rs("service", "api", 2);
    struct fl_rawparam w = rs("within", "1s", 3);
    struct fl_rawparam three[] = {svc, w, sig};
    assert_int_equal(fl_params_parse(table, T_N, three, 3, "t", where, &names, &args, &d),
                     FL_ESCENARIO);
    assert_true(has(&d, 8, 10, "signal: '${sig}' = 'STOPP': expected a signal like KILL", NULL));
    fl_diag_free(&d);

    /* The reference shows the choices and the bounds a table narrows. */
    char doc[128];
    fl_param_type_doc(&etable[E_MODE], doc, sizeof doc);
    assert_string_equal(doc, "`stop` or `client`");
    fl_param_type_doc(&etable[E_TIMEOUT], doc, sizeof doc);
    assert_string_equal(doc, "duration > 0");
    fl_param_type_doc(&etable[E_GRACE], doc, sizeof doc);
    assert_string_equal(doc, "duration");
    fl_param_type_doc(&etable[E_NAME], doc, sizeof doc);
    assert_string_equal(doc, "string (at most 8 bytes)");
    assert_int_equal(fl_choice_index(modes, "client"), 1);
    assert_int_equal(fl_choice_index(modes, "x"), -1);
    assert_int_equal(fl_choice_count(modes), 2);
    struct fl_pval v = {0};
    assert_int_equal(fl_param_value(FL_PT_ENUM, "stop", &v), FL_EINVAL);
    assert_int_equal(fl_param_parse_value(&etable[E_MODE], "stop", &v), 0);
    assert_int_equal(v.e, 0);
    assert_int_equal(fl_param_parse_value(&etable[E_LEVEL], "6", &v), FL_EINVAL);
}

/* Arguments built by hand: only named parameters, marked as given. */
static void test_args_by_hand(void **state)
{
    (void)state;
    static const struct fl_param table[] = {
        [0] = {"probe", FL_PT_PROBE, 1, NULL, "a probe"},
        [1] = {"within", FL_PT_DURATION, 1, NULL, "a duration"},
    };
    struct fl_args a;
    fl_args_init(&a, table, 2);
    assert_ptr_equal(a.params, table);
    assert_int_equal(a.n, 2);
    assert_false(a.v[0].set || a.v[1].set);
    struct fl_pval *v = fl_args_set(&a, "within");
    assert_ptr_equal(v, &a.v[1]);
    assert_true(a.v[1].set);
    assert_false(a.v[0].set);
    assert_null(fl_args_set(&a, "nosuch"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_by_hand),
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_defaults_and_missing),
        cmocka_unit_test(test_parse_unknown_key),
        cmocka_unit_test(test_parse_wrong_types),
        cmocka_unit_test(test_parse_names),
        cmocka_unit_test(test_parse_too_many_params),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_type_text),
        cmocka_unit_test(test_enum_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
