/* scenario_target.c - the target: key, and the command line's override.
 *
 *   target: local
 *   target: { kind: compose, project: shop }
 *
 * The override (--target, --compose-project) wins over the file, so one
 * scenario file runs against the local and the compose target with only
 * the command line changed. It is applied here, before the faults are
 * checked against the target's operations. */
#include "scenario/scenario_internal.h"
#include "core/target.h"

#include <stdio.h>
#include <string.h>

#define PROJECT_MAX 100

enum { T_KIND, T_PROJECT, T_COUNT };
static const char *const target_keys[T_COUNT] = {[T_KIND] = "kind", [T_PROJECT] = "project"};

/* Compose normalises a project name to lowercase letters, digits, '-'
 * and '_' (and, in v1, strips the rest); faultline only accepts names
 * that need no normalising, so the label it filters on is the name given. */
static int valid_project(const char *s)
{
    if (!s[0] || strlen(s) > PROJECT_MAX)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return 0;
    return 1;
}

static const struct fl_target_type *find_kind(struct fl_sc_loader *ld, const char *name,
                                              struct fl_pos pos, const char *key)
{
    const struct fl_target_type *t = fl_target_find(name);
    if (!t) {
        char names[256] = "";
        size_t n = 0;
        for (size_t i = 0; fl_targets[i] && n < sizeof names; i++)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "",
                                  fl_targets[i]->name);
        fl_sc_diag(ld, pos, "%s: unknown target '%s'; expected one of: %s", key, name, names);
    }
    return t;
}

void fl_sc_target(struct fl_sc_loader *ld, const struct fl_sc_field *f)
{
    struct fl_scenario *sc = ld->sc;
    const char *project = NULL;
    struct fl_pos ppos = f->key_pos;
    if (f->present && f->val && fy_node_is_mapping(f->val)) {
        struct fl_sc_field t[T_COUNT];
        if (fl_sc_fields(ld, f->val, target_keys, T_COUNT, "target", f->key_pos, t))
            return;
        const char *w;
        const char *kind = fl_sc_typed(ld, &t[T_KIND], "kind", "a target name like compose", &w);
        if (!t[T_KIND].present)
            fl_sc_diag(ld, f->key_pos, "target: missing 'kind'; expected {kind: compose, "
                       "project: NAME} or a target name");
        if (kind)
            sc->target = find_kind(ld, kind, fl_sc_pos(ld, t[T_KIND].val, t[T_KIND].key_pos),
                                   "target.kind");
        project = fl_sc_typed(ld, &t[T_PROJECT], "project", "a compose project name", &w);
        ppos = fl_sc_pos(ld, t[T_PROJECT].val, t[T_PROJECT].key_pos);
    } else if (f->present) {
        /* The registry's names are the choices. */
        const char *names[16];
        size_t nt = 0;
        for (; fl_targets[nt] && nt + 1 < sizeof names / sizeof names[0]; nt++)
            names[nt] = fl_targets[nt]->name;
        names[nt] = NULL;
        int k = 0;
        if (fl_sc_choice(ld, f, "target", names, &k) == 0)
            sc->target = fl_targets[k];
    }
    const struct fl_target_override *to = ld->target_ov;
    struct fl_pos cli = {ld->file, 0, 0};
    if (to && to->kind) {
        sc->target = find_kind(ld, to->kind, cli, "--target");
        if (sc->target && strcmp(sc->target->name, "compose") != 0)
            project = NULL;
    }
    if (to && to->project) {
        project = to->project;
        ppos = cli;
        if (!to->kind && (!sc->target || strcmp(sc->target->name, "compose") != 0))
            sc->target = fl_target_find("compose");
    }
    int compose = sc->target && strcmp(sc->target->name, "compose") == 0;
    if (compose && !project) {
        fl_sc_diag(ld, f->present ? f->key_pos : cli, "target compose needs a project: "
                   "target: {kind: compose, project: NAME} or --compose-project NAME");
        return;
    }
    if (project && !compose) {
        fl_sc_diag(ld, ppos, "project: only the compose target has a project");
        return;
    }
    if (project && !valid_project(project)) {
        fl_sc_diag(ld, ppos, "project: '%s' is not a compose project name; expected lowercase "
                   "letters, digits, '-' and '_' (at most %d)", project, PROJECT_MAX);
        return;
    }
    if (project)
        sc->target_project = fl_sc_strndup(ld, project, strlen(project));
}
