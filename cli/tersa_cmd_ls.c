/* `tersa ls FILE.h5[:/GROUP] [-r] [--json]`: list the groups and datasets of an HDF5 file
 * (the walk itself is in tersa_cli_h5ls.c, built with the HDF5 layer). */
#include "tersa_cli.h"

static void tcli_ls_usage(FILE *f)
{
    fprintf(f, "usage: tersa ls FILE.h5[:/GROUP] [-r] [--json]\n\n"
               "List the members of an HDF5 file's root group (or of GROUP), like h5ls: groups,\n"
               "and for each dataset its shape, dtype, layout and chunk shape, its filters with\n"
               "their cd_values (for Blosc2, filter 32026: codec, clevel and shuffle filter),\n"
               "its size, the bytes it occupies in the file and their ratio.\n"
               "Soft and external links are shown, not followed.\n\n"
               "Options:\n"
               "  -r, --recursive  list the whole tree below the group\n"
               "  --json           one JSON document: {\"file\", \"group\", \"recursive\",\n"
               "                   \"objects\": [{\"path\", \"type\", ...}], \"count\"}\n"
               "  -h, --help       this help\n");
}

int tcli_cmd_ls(int argc, char **argv)
{
    int recursive = 0, json = 0, npos = 0;
    const char *pos[2];
    const tcli_opt opts[] = {{"--recursive", "-r", NULL, &recursive},
                             {"--json", NULL, NULL, &json},
                             {NULL, NULL, NULL, NULL}};
    int rc = tcli_parse(argc, argv, opts, NULL, NULL, pos, 1, &npos);
    if (rc < 0)
        tcli_ls_usage(stdout);
    if (rc != TCLI_OK)
        return rc < 0 ? TCLI_OK : rc;
    if (npos != 1)
        return tcli_usage_error("ls", "an HDF5 file expected (tersa ls FILE.h5)");
    return tcli_h5_ls(pos[0], recursive, json);
}
