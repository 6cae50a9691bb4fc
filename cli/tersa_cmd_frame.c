/* Frame support of the `tersa` command. Contiguous frames (*.b2frame, *.b2nd) are not
 * supported yet: these entry points are where `tersa decompress` and `tersa info` hand a file
 * whose header says "b2frame"; they will decode it once the frame layer exists. */
#include "tersa_cli.h"

static int tcli_frame_unsupported(const char *in_path)
{
    fprintf(stderr, "error: %s: contiguous frames are not supported yet (only bare chunks, "
                    "*.cdata)\n", in_path);
    return TCLI_FAIL;
}

int tcli_frame_decompress(const char *in_path, const uint8_t *buf, size_t len,
                          const char *out_path, int nthreads)
{
    (void)buf, (void)len, (void)out_path, (void)nthreads;
    return tcli_frame_unsupported(in_path);
}

int tcli_frame_info(const char *in_path, const uint8_t *buf, size_t len, int json)
{
    (void)buf, (void)len, (void)json;
    return tcli_frame_unsupported(in_path);
}
