/* diag_expect.h - loading fixtures and matching their diagnostics, for the
 * scenario loader's tests. Include after <cmocka.h> and scenario.h. */
#ifndef FL_TEST_DIAG_EXPECT_H
#define FL_TEST_DIAG_EXPECT_H

#define DIR "tests/data/scenarios/"

static inline void dump(const struct fl_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        print_message("  %s:%d:%d: %s\n", d->items[i].file, d->items[i].line, d->items[i].col,
                      d->items[i].msg);
}

/* 1 when d holds a diagnostic at file:line:col whose message contains every
 * needle (NULL-terminated list). */
static inline int has(const struct fl_diag *d, const char *file, int line, int col, ...)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct fl_diag_item *it = &d->items[i];
        if (it->line != line || it->col != col || strcmp(it->file, file) != 0)
            continue;
        int ok = 1;
        va_list ap;
        va_start(ap, col);
        for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *))
            if (!strstr(it->msg, n))
                ok = 0;
        va_end(ap);
        if (ok)
            return 1;
    }
    return 0;
}

#define EXPECT_DIAG(d, file, line, col, ...)                                   \
    do {                                                                      \
        if (!has(d, file, line, col, __VA_ARGS__, (const char *)NULL)) {      \
            dump(d);                                                          \
            fail_msg("no diagnostic at %s:%d:%d with the expected text", file, line, col); \
        }                                                                     \
    } while (0)

static inline struct fl_scenario *load_ok(const char *path, const struct fl_var_override *ov, size_t nov)
{
    struct fl_diag d = {0};
    struct fl_scenario *sc = NULL;
    int rc = fl_scenario_load(path, ov, nov, &sc, &d);
    if (rc != 0 || d.n != 0) {
        dump(&d);
        fail_msg("%s: expected a clean load, got rc %d with %zu diagnostics", path, rc, d.n);
    }
    fl_diag_free(&d);
    assert_non_null(sc);
    return sc;
}

/* Load a file that must fail; d receives the diagnostics. */
static inline void load_bad(const char *path, const struct fl_var_override *ov, size_t nov,
                     struct fl_diag *d)
{
    struct fl_scenario *sc = (struct fl_scenario *)1;
    int rc = fl_scenario_load(path, ov, nov, &sc, d);
    assert_int_equal(rc, FL_ESCENARIO);
    assert_null(sc);
    assert_true(d->n > 0);
    /* Reported in file order, each with a position (or 0:0 last). */
    for (size_t i = 1; i < d->n; i++) {
        const struct fl_diag_item *a = &d->items[i - 1], *b = &d->items[i];
        if (b->line == 0)
            continue;
        assert_true(a->line != 0);
        assert_true(a->line < b->line || (a->line == b->line && a->col <= b->col));
    }
}

#endif
