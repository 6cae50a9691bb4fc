/* tersa_bench_chunk: the chunk engine benchmark (see tersa_bench_core.h for the method).
 *   tersa_bench_chunk [--quick] [--size MIB] [--runs N] [--codecs LIST] [--csv|--json] ...
 * Exit status: 0 when every round trip verified, 1 when one failed, 2 on a usage error. */
#include <stdio.h>

#include "tersa_bench_core.h"

int main(int argc, char **argv)
{
    tbench_opts o;
    tbench_defaults(&o, "tersa_bench_chunk");
    int rc = tbench_parse(argc - 1, argv + 1, &o);
    if (rc < 0) {
        tbench_usage(stdout, "usage: tersa_bench_chunk [options]");
        return TBENCH_EXIT_OK;
    }
    if (rc != TBENCH_EXIT_OK) return rc;
    return tbench_run(&o, stdout);
}
