/* The `tersa` command: dispatch to subcommands (see tersa_cli.h for the exit statuses). */
#include <string.h>

#include "tersa_cli.h"

typedef struct tcli_cmd {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} tcli_cmd;

static const tcli_cmd tcli_cmds[] = {
    {"info", "describe a chunk, frame, b2nd array, .npy file or HDF5 dataset", tcli_cmd_info},
    {"cat", "print a slice of an array, or write it as raw bytes or .npy", tcli_cmd_cat},
    {"compress", "compress any file or stdin into a frame (or one chunk)", tcli_cmd_compress},
    {"decompress", "decompress a chunk or frame into its bytes", tcli_cmd_decompress},
    {"convert", "convert between .npy, b2nd arrays and frames, chunk by chunk", tcli_cmd_convert},
    {"ls", "list the groups and datasets of an HDF5 file (filters, chunks, ratio)", tcli_cmd_ls},
    {"verify", "decode every chunk and report damaged ones", tcli_cmd_verify},
    {"bench", "benchmark codecs and filters on generated data or a FILE", tcli_cmd_bench},
    {"demo", "compress generated scientific data with every codec and filter, verified",
     tcli_cmd_demo},
};
#define TCLI_NCMDS (sizeof tcli_cmds / sizeof tcli_cmds[0])

static void tcli_usage(FILE *f)
{
    fprintf(f,
            "usage: tersa COMMAND [options] [arguments]\n\n"
            "tersa %s: compressed storage for numerical arrays, compatible with Blosc2.\n\n"
            "Commands:\n",
            tersa_version());
    for (size_t i = 0; i < TCLI_NCMDS; i++)
        fprintf(f, "  %-11s %s\n", tcli_cmds[i].name, tcli_cmds[i].summary);
    fprintf(f,
            "\nOptions:\n  -h, --help  this help (COMMAND --help: the command's help)\n"
            "  --version   print the version\n\n"
            "PATH[:DATASET] names a file, a sparse frame directory, \"-\" (stdin), or a dataset\n"
            "of an HDF5 file (FILE.h5:/group/dataset%s).\n"
            "Commands are quiet unless asked (-v); errors go to stderr, one line each.\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n",
            tcli_h5_available() ? "" : "; not in this build");
}

static const tcli_cmd *tcli_find(const char *name)
{
    for (size_t i = 0; i < TCLI_NCMDS; i++)
        if (strcmp(tcli_cmds[i].name, name) == 0)
            return &tcli_cmds[i];
    return NULL;
}

/* `tersa help [COMMAND]`. */
static int tcli_help(int argc, char **argv)
{
    if (argc < 2) {
        tcli_usage(stdout);
        return TCLI_OK;
    }
    const tcli_cmd *c = tcli_find(argv[1]);
    char help[] = "--help", *args[] = {argv[1], help, NULL};
    if (!c) {
        fprintf(stderr, "error: %s: unknown command (see tersa --help)\n", argv[1]);
        return TCLI_USAGE;
    }
    return c->run(2, args);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        tcli_usage(stderr);
        return TCLI_USAGE;
    }
    const char *a = argv[1];
    if (tcli_is_help(a)) {
        tcli_usage(stdout);
        return TCLI_OK;
    }
    if (strcmp(a, "--version") == 0) {
        printf("tersa %s\n", tersa_version());
        return TCLI_OK;
    }
    if (strcmp(a, "help") == 0)
        return tcli_help(argc - 1, argv + 1);
    const tcli_cmd *c = tcli_find(a);
    if (c)
        return c->run(argc - 1, argv + 1);
    if (a[0] == '-')
        return tbench_unknown_option(a);
    fprintf(stderr, "error: %s: unknown command (see tersa --help)\n", a);
    return TCLI_USAGE;
}
