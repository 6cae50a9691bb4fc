/* The parameter table and the codec/filter name tables. */
#include <string.h>

#include "chunk/tersa_chunk_internal.h"

static const tersa_param_desc param_table[] = {
    {TERSA_P_TYPESIZE, "typesize", 1, 255, 8, 1, 0, "element size in bytes"},
    {TERSA_P_CLEVEL, "clevel", 0, 9, 5, 1, 0, "compression level, 0 (store) to 9"},
    {TERSA_P_CODEC, "codec", 0, 255, TERSA_CODEC_BLOSCLZ, 1, 0,
     "codec: blosclz, lz4, lz4hc, zlib, zstd, or a registered user codec id"},
    {TERSA_P_CODEC_META, "codec-meta", 0, 255, 0, 1, 0, "meta byte handed to the codec"},
    {TERSA_P_BLOCKSIZE, "blocksize", 0, TERSA_MAX_BLOCKSIZE, 0, 1, 0,
     "bytes per block, 0 = automatic"},
    {TERSA_P_SPLITMODE, "splitmode", 1, 4, TERSA_SPLIT_FORWARD_COMPAT, 1, 0,
     "1 always, 2 never, 3 auto, 4 forward-compat"},
    {TERSA_P_NTHREADS, "nthreads", 1, 256, 1, 1, 1, "threads of the context's own pool"},
    {TERSA_P_FILTER0, "filter0", 0, 255, 0, 1, 0, "filter in pipeline slot 0"},
    {TERSA_P_FILTER1, "filter1", 0, 255, 0, 1, 0, "filter in pipeline slot 1"},
    {TERSA_P_FILTER2, "filter2", 0, 255, 0, 1, 0, "filter in pipeline slot 2"},
    {TERSA_P_FILTER3, "filter3", 0, 255, 0, 1, 0, "filter in pipeline slot 3"},
    {TERSA_P_FILTER4, "filter4", 0, 255, 0, 1, 0, "filter in pipeline slot 4"},
    {TERSA_P_FILTER5, "filter5", 0, 255, TERSA_FILTER_SHUFFLE, 1, 0, "filter in pipeline slot 5"},
    {TERSA_P_FILTER_META0, "filter-meta0", -128, 255, 0, 1, 0, "meta of slot 0"},
    {TERSA_P_FILTER_META1, "filter-meta1", -128, 255, 0, 1, 0, "meta of slot 1"},
    {TERSA_P_FILTER_META2, "filter-meta2", -128, 255, 0, 1, 0, "meta of slot 2"},
    {TERSA_P_FILTER_META3, "filter-meta3", -128, 255, 0, 1, 0, "meta of slot 3"},
    {TERSA_P_FILTER_META4, "filter-meta4", -128, 255, 0, 1, 0, "meta of slot 4"},
    {TERSA_P_FILTER_META5, "filter-meta5", -128, 255, 0, 1, 0, "meta of slot 5"},
    {TERSA_P_DETECT_SPECIAL, "detect-special", 0, 1, 1, 1, 0,
     "write zeros/NaN/repeated-value chunks when the data allow"},
    {TERSA_P_USE_DICT, "use-dict", 0, 1, 0, 1, 0, "train and store a dictionary (zstd, lz4)"},
    {TERSA_P_FRAME_TYPESIZE, "frame-typesize", 0, INT32_MAX, 0, 1, 1,
     "typesize of the enclosing container, used by bytedelta meta 0"},
};

const tersa_param_desc *tersa_param_table(size_t *count)
{
    if (count) *count = sizeof param_table / sizeof param_table[0];
    return param_table;
}

const tersa_param_desc *tersa_param_get(tersa_param id)
{
    for (size_t i = 0; i < sizeof param_table / sizeof param_table[0]; i++)
        if (param_table[i].id == id) return &param_table[i];
    return NULL;
}

const tersa_param_desc *tersa_param_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof param_table / sizeof param_table[0]; i++)
        if (strcmp(param_table[i].name, name) == 0) return &param_table[i];
    return NULL;
}

typedef struct name_entry {
    int id;
    const char *name;
} name_entry;

static const name_entry codec_names[] = {
    {TERSA_CODEC_BLOSCLZ, "blosclz"}, {TERSA_CODEC_LZ4, "lz4"},   {TERSA_CODEC_LZ4HC, "lz4hc"},
    {TERSA_CODEC_ZLIB, "zlib"},       {TERSA_CODEC_ZSTD, "zstd"},
};
static const name_entry filter_names[] = {
    {TERSA_FILTER_NONE, "none"},
    {TERSA_FILTER_SHUFFLE, "shuffle"},
    {TERSA_FILTER_BITSHUFFLE, "bitshuffle"},
    {TERSA_FILTER_DELTA, "delta"},
    {TERSA_FILTER_TRUNC_PREC, "trunc-prec"},
    {TERSA_FILTER_BYTEDELTA_BUGGY, "bytedelta-buggy"},
    {TERSA_FILTER_BYTEDELTA, "bytedelta"},
};

static const char *name_of(const name_entry *t, size_t n, int id)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].id == id) return t[i].name;
    return NULL;
}

static int id_of(const name_entry *t, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(t[i].name, name) == 0) return t[i].id;
    return -1;
}

const char *tersa_codec_name(int codec)
{
    return name_of(codec_names, sizeof codec_names / sizeof codec_names[0], codec);
}

const char *tersa_filter_name(int filter)
{
    return name_of(filter_names, sizeof filter_names / sizeof filter_names[0], filter);
}

int tersa_codec_from_name(const char *name)
{
    int id = id_of(codec_names, sizeof codec_names / sizeof codec_names[0], name);
    if (id < 0)
        return tersa__fail(TERSA_ERR_UNKNOWN_CODEC,
                           "unknown codec '%s' (blosclz, lz4, lz4hc, zlib, zstd)",
                           name ? name : "(null)");
    return id;
}

int tersa_filter_from_name(const char *name)
{
    int id = id_of(filter_names, sizeof filter_names / sizeof filter_names[0], name);
    if (id < 0)
        return tersa__fail(TERSA_ERR_UNKNOWN_FILTER,
                           "unknown filter '%s' (none, shuffle, bitshuffle, delta, trunc-prec, "
                           "bytedelta)",
                           name ? name : "(null)");
    return id;
}
