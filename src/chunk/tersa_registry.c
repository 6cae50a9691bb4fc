/* User registries of plugin codecs and filters (ids 160..255). Owned by the caller; no global
 * state. */
#include "chunk/tersa_chunk_internal.h"

struct tersa_registry {
    tersa_codec_plugin codecs[96];
    bool has_codec[96];
    tersa_filter_plugin filters[96];
    bool has_filter[96];
};

tersa_registry *tersa_registry_create(void) { return tersa__calloc(1, sizeof(tersa_registry)); }

void tersa_registry_free(tersa_registry *r) { tersa__free(r); }

static int check_plugin_id(const char *what, int id)
{
    if (id < TERSA_CODEC_USER_FIRST || id > 255)
        return tersa__fail(TERSA_ERR_PARAM, "registry: %s id %d outside the user range 160..255",
                           what, id);
    return 0;
}

int tersa_registry_add_codec(tersa_registry *r, const tersa_codec_plugin *c)
{
    if (!r || !c) return tersa__fail(TERSA_ERR_PARAM, "registry: NULL argument");
    if (c->struct_size < sizeof *c)
        return tersa__fail(TERSA_ERR_PARAM, "registry: codec struct_size %zu < %zu",
                           c->struct_size, sizeof *c);
    TERSA_TRY(check_plugin_id("codec", c->id));
    if (!c->encode || !c->decode)
        return tersa__fail(TERSA_ERR_PARAM, "registry: codec %d lacks encode or decode", c->id);
    int i = c->id - TERSA_CODEC_USER_FIRST;
    if (r->has_codec[i]) return tersa__fail(TERSA_ERR_EXISTS, "registry: codec %d exists", c->id);
    r->codecs[i] = *c;
    r->has_codec[i] = true;
    return 0;
}

int tersa_registry_add_filter(tersa_registry *r, const tersa_filter_plugin *f)
{
    if (!r || !f) return tersa__fail(TERSA_ERR_PARAM, "registry: NULL argument");
    if (f->struct_size < sizeof *f)
        return tersa__fail(TERSA_ERR_PARAM, "registry: filter struct_size %zu < %zu",
                           f->struct_size, sizeof *f);
    TERSA_TRY(check_plugin_id("filter", f->id));
    if (!f->forward || !f->backward)
        return tersa__fail(TERSA_ERR_PARAM, "registry: filter %d lacks forward or backward",
                           f->id);
    int i = f->id - TERSA_FILTER_USER_FIRST;
    if (r->has_filter[i])
        return tersa__fail(TERSA_ERR_EXISTS, "registry: filter %d exists", f->id);
    r->filters[i] = *f;
    r->has_filter[i] = true;
    return 0;
}

const tersa_codec_plugin *tersa__registry_codec(const tersa_registry *r, int id)
{
    if (!r || id < TERSA_CODEC_USER_FIRST || id > 255) return NULL;
    return r->has_codec[id - TERSA_CODEC_USER_FIRST] ? &r->codecs[id - TERSA_CODEC_USER_FIRST]
                                                     : NULL;
}

const tersa_filter_plugin *tersa__registry_filter(const tersa_registry *r, int id)
{
    if (!r || id < TERSA_FILTER_USER_FIRST || id > 255) return NULL;
    return r->has_filter[id - TERSA_FILTER_USER_FIRST] ? &r->filters[id - TERSA_FILTER_USER_FIRST]
                                                       : NULL;
}
