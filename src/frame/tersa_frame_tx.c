/* The crash-safe change protocol for file and sparse frames (doc/frames.md, "Crash safety").
 *
 * Contiguous frame files: the committed offsets index and trailer ("the index") are never
 * overwritten while the header points at them. Before the first write of a change would touch
 * them, they are copied byte for byte beyond everything written so far and a header pointing at
 * the copy is written (the frame is unchanged; only cbytes and frame_len grow). New chunks, the
 * new index and trailer are then written at their final places and one write of the header
 * commits the change; the file is truncated to the new frame_len. When the committed frame or
 * the result is empty (the trailer must then follow the header, C-Blosc2 reads it there), the
 * new frame is written to a temporary file that is renamed over the old one.
 *
 * Sparse frames: chunk files are always new files; the index file is replaced by rename; chunk
 * files that an update or delete made unused are removed after the commit. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame/tersa_frame_internal.h"

/* A header this small is rewritten with one write inside the file's first page, which a killed
 * process completes or never starts. */
#define TF_ATOMIC_HEADER 4096
#define TF_TEMP_SUFFIX ".tersa-tmp"

void tersa__schunk_set_io_hook(tersa_schunk *s, tersa__io_hook_fn fn, void *ctx)
{
    if (!s) return;
    s->hook = fn;
    s->hook_ctx = ctx;
}

int tersa_schunk_set_durable(tersa_schunk *s, int durable)
{
    if (!s) return tersa__fail(TERSA_ERR_PARAM, "schunk_set_durable: NULL schunk");
    s->durable = durable != 0;
    return 0;
}

/* ---- Write-side system calls, through the test hook ----------------------------------- */

static int64_t hook(tersa_schunk *s, int op, int64_t pos, int64_t len)
{
    return s->hook ? s->hook(s->hook_ctx, op, pos, len) : 0;
}

static int hook_stop(const char *what)
{
    return tersa__fail(TERSA_ERR_IO, "%s: stopped by the I/O hook", what);
}

static int tf_pwrite(tersa_schunk *s, int64_t pos, const void *p, size_t n, const char *what)
{
    int64_t h = hook(s, TF_IO_WRITE, pos, (int64_t)n);
    if (h < 0) return hook_stop(what);
    if (h > 0 && (uint64_t)h < n) {
        TERSA_TRY(tersa__io_pwrite(s->fd, pos, p, (size_t)h, what));
        return hook_stop(what);
    }
    return tersa__io_pwrite(s->fd, pos, p, n, what);
}

static int tf_sync(tersa_schunk *s, int fd, const char *what)
{
    if (!s->durable) return 0;
    if (hook(s, TF_IO_SYNC, 0, 0) != 0) return hook_stop(what);
    return tersa__io_sync(fd, what);
}

static int tf_sync_dir(tersa_schunk *s, const char *path)
{
    if (!s->durable) return 0;
    if (hook(s, TF_IO_SYNC, 0, 0) != 0) return hook_stop("directory");
    return tersa__io_sync_dir(path);
}

static int tf_rename(tersa_schunk *s, const char *from, const char *to)
{
    if (hook(s, TF_IO_RENAME, 0, 0) != 0) return hook_stop("rename");
    if (rename(from, to) != 0)
        return tersa__fail(TERSA_ERR_IO, "frame: renaming %s to %s failed: %s", from, to,
                           strerror(errno));
    return 0;
}

int tersa__tx_rename(tersa_schunk *s, const char *from, const char *to)
{
    TERSA_TRY(tf_rename(s, from, to));
    return tf_sync_dir(s, to);
}

int tersa__tx_write_file(tersa_schunk *s, const char *path, const void *p, size_t n)
{
    if (hook(s, TF_IO_CREATE, 0, (int64_t)n) != 0) return hook_stop(path);
    int64_t h = hook(s, TF_IO_WRITE, 0, (int64_t)n);
    if (h < 0) return hook_stop(path);
    size_t len = h > 0 && (uint64_t)h < n ? (size_t)h : n;
    int rc = tersa__io_write_file(path, p, len, s->durable);
    return rc < 0 ? rc : len < n ? hook_stop(path) : 0;
}

/* ---- State -------------------------------------------------------------------------- */

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static bool committed_empty(const tersa_schunk *s)
{
    return tersa__ld64be(s->live_fixed + TF_NBYTES) == 0;
}

static bool temp_mode(const tersa_schunk *s) { return s->tx_oldfd >= 0; }

/* Remember what the last commit left on disk: the fixed header, and for file storage the
 * offsets chunk and trailer bytes (o and t; o NULL: read them from the file). */
static int set_live(tersa_schunk *s, const tersa__buf *o, const tersa__buf *t)
{
    memcpy(s->live_fixed, s->hdr, TF_HEADER_MIN);
    s->live_flen = s->frame_len;
    s->live_cb = s->cbytes;
    if (s->storage != TERSA_STORAGE_FILE) return 0;
    int64_t at = s->header_len + s->cbytes, n = s->frame_len - at;
    if (n < 0 || n > INT32_MAX)
        return tersa__fail(TERSA_ERR_CORRUPT, "frame: %" PRId64 " bytes between the chunks and "
                           "the frame end", n);
    s->live.len = 0;
    s->live.err = 0;
    if (o) {
        tersa__buf_put(&s->live, o->p, o->len);
        tersa__buf_put(&s->live, t->p, t->len);
        return tersa__buf_status(&s->live);
    }
    uint8_t *dst = tersa__buf_grow(&s->live, (size_t)n);
    if (!dst) return tersa__buf_status(&s->live);
    return tersa__io_pread(s->fd, s->foffset + at, dst, (size_t)n, "frame index");
}

int tersa__tx_capture_live(tersa_schunk *s) { return set_live(s, NULL, NULL); }

void tersa__tx_hint(tersa_schunk *s, int64_t bytes)
{
    if (bytes > s->tx_hint) s->tx_hint = bytes;
}

/* ---- Temporary files (empty frames, sparse indexes) --------------------------------- */

static char *temp_path(const tersa_schunk *s)
{
    const char *base = s->path;
    char *index = NULL;
    if (s->storage == TERSA_STORAGE_SPARSE) {
        base = index = tersa__io_join(s->path, "chunks.b2frame");
        if (!index) return NULL;
    }
    size_t n = strlen(base);
    char *p = tersa__malloc(n + sizeof TF_TEMP_SUFFIX);
    if (p) {
        memcpy(p, base, n);
        memcpy(p + n, TF_TEMP_SUFFIX, sizeof TF_TEMP_SUFFIX);
    } else {
        tersa__fail(TERSA_ERR_NOMEM, "frame: no memory for a path");
    }
    tersa__free(index);
    return p;
}

/* Point s->fd at a new temporary file with the old file's permissions. */
static int begin_temp(tersa_schunk *s)
{
    struct stat st;
    char *tmp = temp_path(s);
    if (!tmp) return TERSA_ERR_NOMEM;
    int fd = -1, rc = hook(s, TF_IO_CREATE, 0, 0) != 0 ? hook_stop(tmp) : 0;
    if (rc == 0) {
        fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) rc = tersa__fail(TERSA_ERR_IO, "frame: cannot create %s: %s", tmp, strerror(errno));
    }
    if (rc == 0 && fstat(s->fd, &st) == 0) (void)fchmod(fd, st.st_mode & 07777);
    tersa__free(tmp);
    if (rc < 0) return rc;
    s->tx_oldfd = s->fd;
    s->fd = fd;
    return 0;
}

/* Give up a temporary file: the committed file is untouched. */
static void abort_temp(tersa_schunk *s)
{
    if (!temp_mode(s)) return;
    close(s->fd);
    s->fd = s->tx_oldfd;
    s->tx_oldfd = -1;
    char *tmp = temp_path(s);
    if (tmp) unlink(tmp);
    tersa__free(tmp);
}

/* Make the temporary file the frame: sync it, rename it over the old one, sync the folder. */
static int finish_temp(tersa_schunk *s)
{
    char *tmp = temp_path(s), *target = NULL;
    if (!tmp) return TERSA_ERR_NOMEM;
    target = s->storage == TERSA_STORAGE_SPARSE ? tersa__io_join(s->path, "chunks.b2frame") : NULL;
    int rc = s->storage == TERSA_STORAGE_SPARSE && !target ? TERSA_ERR_NOMEM : 0;
    if (rc == 0) rc = tf_sync(s, s->fd, "frame");
    if (rc == 0) rc = tf_rename(s, tmp, target ? target : s->path);
    if (rc == 0) rc = tf_sync_dir(s, target ? target : s->path);
    tersa__free(tmp);
    tersa__free(target);
    TERSA_TRY(rc);
    close(s->tx_oldfd);
    s->tx_oldfd = -1;
    return 0;
}

/* ---- File frames: moving the committed index out of the way ------------------------- */

/* Copy the committed index to q (beyond everything written) and commit a header that points
 * at the copy. The frame's contents do not change. */
static int relocate(tersa_schunk *s, int64_t q)
{
    uint8_t fixed[TF_HEADER_MIN];
    int64_t base = s->foffset + s->header_len;
    TERSA_TRY(tf_pwrite(s, q, s->live.p, s->live.len, "frame index copy"));
    TERSA_TRY(tf_sync(s, s->fd, "frame index copy"));
    memcpy(fixed, s->live_fixed, sizeof fixed);
    tersa__st64be(fixed + TF_CBYTES, (uint64_t)(q - base));
    tersa__st64be(fixed + TF_FRAME_LEN, (uint64_t)(q - s->foffset + (int64_t)s->live.len));
    TERSA_TRY(tf_pwrite(s, s->foffset, fixed, sizeof fixed, "frame header (index moved)"));
    TERSA_TRY(tf_sync(s, s->fd, "frame header"));
    s->tx_relocated = true;
    s->tx_q = q;
    s->tx_end = max64(s->tx_end, q + (int64_t)s->live.len);
    return 0;
}

/* File positions [a, b) are about to be written: move the committed index if they overlap
 * it, beyond everything written and leaving room for the change (the hint: its expected
 * size after the chunk area; when moved again, as much again as already written). */
static int ensure_room(tersa_schunk *s, int64_t a, int64_t b)
{
    if (s->fresh || temp_mode(s)) return 0;
    int64_t area = s->foffset + s->header_len + s->live_cb;
    int64_t lo = s->tx_relocated ? s->tx_q : area, hi = lo + (int64_t)s->live.len;
    if (b > lo && a < hi) {
        int64_t floor = max64(max64(s->foffset + s->live_flen, s->tx_end), max64(hi, b));
        int64_t want = s->tx_relocated ? b + (b - area) : area + s->tx_hint;
        TERSA_TRY(relocate(s, max64(floor, want)));
    }
    s->tx_end = max64(s->tx_end, b);
    return 0;
}

int tersa__tx_write_chunk(tersa_schunk *s, int64_t off, const void *p, size_t n)
{
    int64_t pos = s->foffset + s->header_len + off;
    if (!s->fresh && !temp_mode(s) && committed_empty(s)) TERSA_TRY(begin_temp(s));
    TERSA_TRY(ensure_room(s, pos, pos + (int64_t)n));
    return tf_pwrite(s, pos, p, n, "frame chunk");
}

/* ---- Sparse frames: chunk files to remove after the commit -------------------------- */

int tersa__tx_defer_unlink(tersa_schunk *s, int64_t id)
{
    if (s->nunlink == s->unlinkcap) {
        int cap = s->unlinkcap ? 2 * s->unlinkcap : 8;
        int64_t *p = tersa__realloc(s->unlink_ids, (size_t)cap * sizeof *p);
        if (!p) return tersa__fail(TERSA_ERR_NOMEM, "sparse frame: no memory");
        s->unlink_ids = p;
        s->unlinkcap = cap;
    }
    s->unlink_ids[s->nunlink++] = id;
    return 0;
}

/* After the commit: a file that cannot be removed is only wasted space. */
static void run_unlinks(tersa_schunk *s)
{
    for (int i = 0; i < s->nunlink; i++) {
        char *path = tersa__io_chunk_path(s->path, s->unlink_ids[i]);
        if (path && hook(s, TF_IO_UNLINK, s->unlink_ids[i], 0) == 0) unlink(path);
        tersa__free(path);
    }
    s->nunlink = 0;
    tersa__clear_error();
}

/* ---- Commit ------------------------------------------------------------------------- */

/* The header: in one write when small (the commit point); else metalayers first. */
static int write_header(tersa_schunk *s)
{
    size_t hl = (size_t)s->header_len;
    if (hl <= TF_ATOMIC_HEADER || temp_mode(s) || s->fresh)
        return tf_pwrite(s, s->foffset, s->hdr, hl, "frame header");
    if (s->hdr_dirty) {
        TERSA_TRY(tf_pwrite(s, s->foffset + TF_HEADER_MIN, s->hdr + TF_HEADER_MIN,
                            hl - TF_HEADER_MIN, "frame metalayers"));
        TERSA_TRY(tf_sync(s, s->fd, "frame metalayers"));
    }
    return tf_pwrite(s, s->foffset, s->hdr, TF_HEADER_MIN, "frame header");
}

static void end_change(tersa_schunk *s)
{
    s->idx_dirty = s->hdr_dirty = s->tx_relocated = false;
    s->tx_q = s->tx_end = s->tx_hint = 0;
}

/* Contiguous file: index and trailer after the chunks, then the header, then truncate. */
static int commit_file(tersa_schunk *s, const tersa__buf *t)
{
    int64_t pos = s->foffset + s->header_len + s->cbytes;
    int64_t end = s->foffset + s->frame_len;
    if (!s->fresh && !temp_mode(s) && (committed_empty(s) || s->nchunks == 0))
        TERSA_TRY(begin_temp(s));
    TERSA_TRY(ensure_room(s, pos, end));
    TERSA_TRY(tf_pwrite(s, pos, s->offchunk.p, s->offchunk.len, "frame offsets index"));
    TERSA_TRY(tf_pwrite(s, pos + (int64_t)s->offchunk.len, t->p, t->len, "frame trailer"));
    TERSA_TRY(tf_sync(s, s->fd, "frame"));
    TERSA_TRY(write_header(s));
    if (temp_mode(s)) return finish_temp(s);
    TERSA_TRY(tf_sync(s, s->fd, "frame header"));
    if (hook(s, TF_IO_TRUNCATE, end, 0) != 0) return hook_stop("truncate");
    return tersa__io_truncate(s->fd, end);
}

/* Sparse index: a new chunks.b2frame renamed over the old one. */
static int commit_sparse(tersa_schunk *s, const tersa__buf *t)
{
    if (!s->fresh) TERSA_TRY(begin_temp(s));
    int64_t pos = s->header_len;
    TERSA_TRY(tf_pwrite(s, 0, s->hdr, (size_t)s->header_len, "sparse index header"));
    TERSA_TRY(tf_pwrite(s, pos, s->offchunk.p, s->offchunk.len, "sparse offsets index"));
    TERSA_TRY(tf_pwrite(s, pos + (int64_t)s->offchunk.len, t->p, t->len, "sparse trailer"));
    if (temp_mode(s)) return finish_temp(s);
    if (hook(s, TF_IO_TRUNCATE, s->frame_len, 0) != 0) return hook_stop("truncate");
    return tersa__io_truncate(s->fd, s->frame_len);
}

/* Only header metalayer bytes changed (file storage). */
static int commit_header_only(tersa_schunk *s)
{
    TERSA_TRY(write_header(s));
    return tf_sync(s, s->fd, "frame header");
}

static int commit(tersa_schunk *s)
{
    tersa__buf t;
    if (s->storage == TERSA_STORAGE_MEMORY) return 0; /* serialised on demand */
    bool sparse = s->storage == TERSA_STORAGE_SPARSE;
    if (!s->idx_dirty && !s->fresh && !temp_mode(s) && !(sparse && s->hdr_dirty))
        return s->hdr_dirty ? commit_header_only(s) : 0;
    if (s->nchunks == 0) s->cbytes = 0; /* readers look for the trailer right after the header */
    TERSA_TRY(tersa__schunk_prepare_offsets(s));
    tersa__frame_sync_header(s);
    tersa__buf_init(&t);
    int rc = tersa__frame_build_trailer(s, &t);
    if (rc == 0) rc = sparse ? commit_sparse(s, &t) : commit_file(s, &t);
    if (rc == 0) rc = set_live(s, &s->offchunk, &t);
    tersa__buf_free(&t);
    return rc;
}

static int check_not_broken(const tersa_schunk *s)
{
    if (!s->broken) return 0;
    return tersa__fail(TERSA_ERR_STATE, "schunk: an earlier change failed midway; reopen the "
                       "frame (the file holds the last committed state)");
}

int tersa__schunk_commit(tersa_schunk *s)
{
    TERSA_TRY(check_not_broken(s));
    int rc = commit(s);
    if (rc < 0) return tersa__tx_fail(s, rc);
    if (s->storage == TERSA_STORAGE_SPARSE) run_unlinks(s);
    end_change(s);
    s->pending = false;
    return 0;
}

int tersa__schunk_flush(tersa_schunk *s)
{
    if (!s->batch || s->fresh || s->storage == TERSA_STORAGE_MEMORY)
        return tersa__schunk_commit(s);
    TERSA_TRY(check_not_broken(s));
    s->pending = true;
    return 0;
}

int tersa_schunk_commit(tersa_schunk *s)
{
    if (!s) return tersa__fail(TERSA_ERR_PARAM, "schunk_commit: NULL schunk");
    return s->pending ? tersa__schunk_commit(s) : check_not_broken(s);
}

int tersa_schunk_set_autocommit(tersa_schunk *s, int autocommit)
{
    if (!s) return tersa__fail(TERSA_ERR_PARAM, "schunk_set_autocommit: NULL schunk");
    s->batch = autocommit == 0;
    return s->batch ? 0 : tersa_schunk_commit(s);
}

int tersa__tx_fail(tersa_schunk *s, int rc)
{
    s->broken = true;
    abort_temp(s);
    s->nunlink = 0;
    return rc;
}

void tersa__tx_release(tersa_schunk *s)
{
    if (s->pending && !s->broken) (void)tersa__schunk_commit(s); /* best effort, see header */
    abort_temp(s);
    tersa__buf_free(&s->live);
    tersa__free(s->unlink_ids);
}
