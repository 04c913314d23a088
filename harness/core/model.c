/* model.c - lookups in a validated scenario model (model.h). */
#include "core/model.h"

#include <string.h>

/* ---- lookups ------------------------------------------------------------ */

static int eqn(const char *s, const char *name, size_t len)
{
    return strncmp(s, name, len) == 0 && s[len] == '\0';
}

const char *fl_scenario_var(const struct fl_scenario *sc, const char *name, size_t len)
{
    for (size_t i = 0; i < sc->nvars; i++)
        if (eqn(sc->vars[i].key, name, len))
            return sc->vars[i].value;
    return NULL;
}

const struct fl_service *fl_scenario_service(const struct fl_scenario *sc, const char *name,
                                             size_t len)
{
    for (size_t i = 0; i < sc->nservices; i++)
        if (eqn(sc->services[i].name, name, len))
            return &sc->services[i];
    return NULL;
}

const struct fl_workload *fl_scenario_workload(const struct fl_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->nworkloads; i++)
        if (strcmp(sc->workloads[i].name, name) == 0)
            return &sc->workloads[i];
    return NULL;
}

const struct fl_probe *fl_scenario_probe(const struct fl_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->nprobes; i++)
        if (strcmp(sc->probes[i].name, name) == 0)
            return &sc->probes[i];
    return NULL;
}
