/* `tersa demo` and `tersa bench`: the engine at work on generated scientific data (and, through
 * tersa_cmd_benchfile.c, `tersa bench FILE` on the user's own data). The demo first runs its
 * HDF5 part (tersa_cli_h5demo.c: direct chunk I/O vs HDF5's filter pipeline), then
 * a small fixed run of the benchmark core (bench/tersa_bench_core.c): a smooth float64
 * simulation field, a noisy uint16 detector stack, an int32 ramp and sparse float32 data
 * (4 MiB each), every built-in codec with shuffle and bitshuffle, clevel 5, 2 threads, every
 * round trip verified byte for byte, plus memcpy of the same chunks for scale. */
#include <string.h>

#include "tersa_cli.h"

static void tcli_demo_usage(FILE *f)
{
    fprintf(f, "usage: tersa demo [--quick] [--threads N] [-o FILE.h5] [-f] [--csv|--json]\n\n"
               "1. HDF5 (when this build has the HDF5 layer): write a noisy uint16 image stack\n"
               "   (64 MiB) and a smooth float32 simulation field (64 MiB), generated, into an\n"
               "   HDF5 file with Blosc2 twice: through tersa's direct chunk path and through\n"
               "   HDF5's filter pipeline (tersa's filter registered in-process); read a frame,\n"
               "   a small region, a line along the first axis and everything both ways, verify\n"
               "   every read against the generated data, and print sizes and speedups.\n"
               "2. The chunk engine: compress and decompress generated scientific data with\n"
               "   every built-in codec (blosclz, lz4, lz4hc, zstd, zlib) and filter (shuffle,\n"
               "   bitshuffle) at clevel 5, verify every round trip, and print ratio and speed\n"
               "   next to memcpy.\n"
               "Exit status 1 if any read or round trip differs.\n\n"
               "Options:\n"
               "  --quick          small data, one timed pass (a smoke test)\n"
               "  --threads N      threads (default 2)\n"
               "  -o, --output F   keep the HDF5 file as F (default: a temporary directory,\n"
               "                   removed afterwards)\n"
               "  -f, --force      replace an existing -o file\n"
               "  --csv            the engine table only, as CSV\n"
               "  --json           the engine table only, as JSON\n"
               "  -h, --help       this help\n");
}

static void tcli_demo_opts(tbench_opts *o, int quick, int threads)
{
    tbench_defaults(o, "tersa demo");
    o->datasets = 1u << TBENCH_DS_F64_LINSPACE | 1u << TBENCH_DS_U16_DETECTOR |
                  1u << TBENCH_DS_I32_RAMP | 1u << TBENCH_DS_F32_SPARSE;
    o->dataset_bytes = (quick ? 1 : 4) * TBENCH_MIB;
    o->runs = quick ? 1 : 3;
    o->max_seconds = 0;
    o->threads[0] = threads;
    o->nthreads = 1;
}

static void tcli_demo_intro(const tbench_opts *o)
{
    printf("The chunk engine: compressing %zu MiB of generated data per dataset in %zu KiB chunks\n",
           o->dataset_bytes / TBENCH_MIB, o->chunk_bytes / 1024);
    for (int d = 0; d < TBENCH_DS_COUNT_; d++)
        if (o->datasets & (1u << d))
            printf("  %-13s %s\n", tbench_datasets()[d].name, tbench_datasets()[d].desc);
    printf("\n");
}

int tcli_cmd_demo(int argc, char **argv)
{
    int quick = 0, csv = 0, json = 0, force = 0, npos = 0;
    const char *threads = "2", *output = NULL, *pos[1];
    const tcli_opt opts[] = {{"--quick", NULL, NULL, &quick},
                             {"--threads", NULL, &threads, NULL},
                             {"--output", "-o", &output, NULL},
                             {"--force", "-f", NULL, &force},
                             {"--csv", NULL, NULL, &csv},
                             {"--json", NULL, NULL, &json},
                             {NULL, NULL, NULL, NULL}};
    int rc = tcli_parse(argc, argv, opts, NULL, NULL, pos, 0, &npos);
    int64_t nthreads = 2;
    if (rc < 0)
        tcli_demo_usage(stdout);
    if (rc != TCLI_OK)
        return rc < 0 ? TCLI_OK : rc;
    if (tbench_param_arg("--threads", TERSA_P_NTHREADS, threads, &nthreads))
        return TCLI_USAGE;
    tbench_opts o;
    tcli_demo_opts(&o, quick, (int)nthreads);
    o.format = json ? TBENCH_JSON : csv ? TBENCH_CSV : TBENCH_TABLE;
    if (o.format == TBENCH_TABLE) {
        tcli_h5demo_opts ho = {.quick = quick, .threads = (int)nthreads, .output = output,
                               .force = force};
        printf("tersa demo%s\n\n", quick ? " (quick)" : "");
        rc = tcli_h5_demo(&ho);
        if (rc != TCLI_OK)
            return rc;
        tcli_demo_intro(&o);
    }
    return tbench_run(&o, stdout);
}

static void tcli_bench_usage(FILE *f)
{
    tbench_usage(f, "usage: tersa bench [FILE] [options]");
    fprintf(f, "\nWith FILE: the same matrix on the file's data (a .npy file, b2nd array, frame\n"
               "or HDF5 dataset gives its items and item size; any other file its bytes).\n"
               "--size caps the bytes used (default 64 MiB), --chunk sets the chunk size, and\n"
               "  --typesize N         element size for other files (default 8)\n");
}

int tcli_cmd_bench(int argc, char **argv)
{
    tbench_opts o;
    int rc;
    for (int i = 1; i < argc; i++)
        if (tcli_is_help(argv[i])) {
            tcli_bench_usage(stdout);
            return TCLI_OK;
        }
    if (argc > 1 && (argv[1][0] != '-' || !argv[1][1]))
        return tcli_bench_file(argc, argv);
    tbench_defaults(&o, "tersa bench");
    rc = tbench_parse(argc - 1, argv + 1, &o);
    return rc != TBENCH_EXIT_OK ? rc : tbench_run(&o, stdout);
}
