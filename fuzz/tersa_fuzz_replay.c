/* Replay driver for builds without libFuzzer: runs LLVMFuzzerTestOneInput over every regular
 * file of the directories (or the files) named on the command line. A crash or abort() fails
 * the run, like the fuzzer would. Exit status 1 when a path cannot be read. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len == cap) {
            cap = cap ? 2 * cap : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) break;
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    /* An exact-size copy, so the sanitizers see reads past the end. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact) memcpy(exact, buf, len);
    free(buf);
    if (!exact) return -1;
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int replay_dir(const char *dir, long *count)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (replay_file(path) != 0) rc = -1;
        else (*count)++;
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    long count = 0;
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int rc = -1;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) rc = replay_dir(argv[i], &count);
        else if (stat(argv[i], &st) == 0 && (rc = replay_file(argv[i])) == 0) count++;
        if (rc != 0) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            failed = 1;
        }
    }
    printf("replay: %ld inputs\n", count);
    return failed;
}
