/* POSIX file access for frames: full preads/pwrites with clear errors, sparse-frame paths. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"

int tersa__io_pread(int fd, int64_t pos, void *dst, size_t n, const char *what)
{
    uint8_t *p = dst;
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, p + done, n - done, (off_t)(pos + (int64_t)done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            return tersa__fail(TERSA_ERR_IO, "%s: read of %zu bytes at %" PRId64 " failed: %s",
                               what, n, pos, strerror(errno));
        if (r == 0)
            return tersa__fail(TERSA_ERR_TRUNCATED,
                               "%s: file ends after %zu of %zu bytes read at %" PRId64, what,
                               done, n, pos);
        done += (size_t)r;
    }
    return 0;
}

int tersa__io_pwrite(int fd, int64_t pos, const void *src, size_t n, const char *what)
{
    const uint8_t *p = src;
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(fd, p + done, n - done, (off_t)(pos + (int64_t)done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return tersa__fail(TERSA_ERR_IO, "%s: write of %zu bytes at %" PRId64 " failed: %s",
                               what, n, pos, r < 0 ? strerror(errno) : "no progress");
        done += (size_t)r;
    }
    return 0;
}

int tersa__io_file_size(int fd, int64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return tersa__fail(TERSA_ERR_IO, "frame: fstat failed: %s", strerror(errno));
    *size = (int64_t)st.st_size;
    return 0;
}

int tersa__io_truncate(int fd, int64_t size)
{
    if (ftruncate(fd, (off_t)size) != 0)
        return tersa__fail(TERSA_ERR_IO, "frame: truncating to %" PRId64 " bytes failed: %s", size,
                           strerror(errno));
    return 0;
}

char *tersa__io_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = tersa__malloc(a + b + 2);
    if (!p) {
        tersa__fail(TERSA_ERR_NOMEM, "frame: cannot allocate a path");
        return NULL;
    }
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

char *tersa__io_chunk_path(const char *dir, int64_t id)
{
    char name[32];
    if (id < 0 || id > (int64_t)UINT32_MAX) {
        tersa__fail(TERSA_ERR_RANGE, "sparse frame: chunk file number %" PRId64
                    " does not fit 8 hex digits", id);
        return NULL;
    }
    snprintf(name, sizeof name, "%08" PRIX32 ".chunk", (uint32_t)id);
    return tersa__io_join(dir, name);
}

int tersa__io_read_chunk_file(const char *path, uint8_t **buf, size_t *cap, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int64_t size = 0;
    int rc;
    if (fd < 0)
        return tersa__fail(errno == ENOENT ? TERSA_ERR_NOT_FOUND : TERSA_ERR_IO,
                           "sparse frame: cannot open chunk file %s: %s", path, strerror(errno));
    rc = tersa__io_file_size(fd, &size);
    if (rc == 0 && (size < TF_CHUNK_HDR || size > INT32_MAX))
        rc = tersa__fail(TERSA_ERR_CORRUPT, "sparse frame: chunk file %s has %" PRId64
                         " bytes (a chunk needs 32 to 2^31-1)", path, size);
    if (rc == 0 && (size_t)size > *cap) {
        uint8_t *p = tersa__realloc(*buf, (size_t)size);
        if (!p) rc = tersa__fail(TERSA_ERR_NOMEM, "sparse frame: no memory for %s", path);
        else {
            *buf = p;
            *cap = (size_t)size;
        }
    }
    if (rc == 0) rc = tersa__io_pread(fd, 0, *buf, (size_t)size, path);
    close(fd);
    *len = (size_t)size;
    return rc;
}

int tersa__io_write_file(const char *path, const void *src, size_t n, bool sync)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc;
    if (fd < 0)
        return tersa__fail(TERSA_ERR_IO, "frame: cannot create %s: %s", path, strerror(errno));
    rc = tersa__io_pwrite(fd, 0, src, n, path);
    if (rc == 0 && sync) rc = tersa__io_sync(fd, path);
    if (close(fd) != 0 && rc == 0)
        rc = tersa__fail(TERSA_ERR_IO, "frame: closing %s failed: %s", path, strerror(errno));
    return rc;
}

int tersa__io_sync(int fd, const char *what)
{
    if (fdatasync(fd) != 0)
        return tersa__fail(TERSA_ERR_IO, "%s: fdatasync failed: %s", what, strerror(errno));
    return 0;
}

int tersa__io_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    char *dir = tersa__malloc(n + 2);
    if (!dir) return tersa__fail(TERSA_ERR_NOMEM, "frame: no memory for a path");
    if (slash) memcpy(dir, path, n ? n : 1);
    else dir[0] = '.';
    dir[n ? n : 1] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
    if (fd < 0 || fsync(fd) != 0)
        rc = tersa__fail(TERSA_ERR_IO, "frame: cannot sync folder %s: %s", dir, strerror(errno));
    if (fd >= 0) close(fd);
    tersa__free(dir);
    return rc;
}

int tersa__io_is_dir(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return tersa__fail(errno == ENOENT ? TERSA_ERR_NOT_FOUND : TERSA_ERR_IO,
                           "frame: cannot stat %s: %s", path, strerror(errno));
    return S_ISDIR(st.st_mode) ? 1 : 0;
}
