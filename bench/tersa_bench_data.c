/* Reproducible benchmark datasets: smooth floats, a ramp, noisy sensor data, sparse data,
 * an 8-bit image and a 16-bit detector stack. Fixed seeds: the same bytes on every run. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tersa_bench_core.h"

/* xorshift64* generator. */
static uint64_t tb_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Uniform in (0, 1). */
static double tb_uniform(uint64_t *s) { return ((double)(tb_next(s) >> 11) + 0.5) * 0x1p-53; }

/* Standard normal variates, two at a time (Box-Muller). */
typedef struct tb_gauss {
    uint64_t state;
    double spare;
    int has_spare;
} tb_gauss;

static double tb_normal(tb_gauss *g)
{
    if (g->has_spare) {
        g->has_spare = 0;
        return g->spare;
    }
    double r = sqrt(-2.0 * log(tb_uniform(&g->state)));
    double t = 6.283185307179586 * tb_uniform(&g->state);
    g->spare = r * sin(t);
    g->has_spare = 1;
    return r * cos(t);
}

/* f64: i * 1000 / (N - 1). */
static void tb_gen_linspace(void *dst, size_t nbytes)
{
    size_t n = nbytes / 8;
    double step = n > 1 ? 1000.0 / (double)(n - 1) : 0.0;
    double *d = dst;
    for (size_t i = 0; i < n; i++) d[i] = (double)i * step;
}

/* i32: i. */
static void tb_gen_ramp(void *dst, size_t nbytes)
{
    int32_t *d = dst;
    for (size_t i = 0; i < nbytes / 4; i++) d[i] = (int32_t)(uint32_t)i;
}

/* f32: 100 sin(i 1e-4) + N(0, 1). */
static void tb_gen_noisy(void *dst, size_t nbytes)
{
    tb_gauss g = {0x9E3779B97F4A7C15ULL, 0.0, 0};
    float *d = dst;
    for (size_t i = 0; i < nbytes / 4; i++)
        d[i] = (float)(100.0 * sin((double)i * 1e-4) + tb_normal(&g));
}

/* f32: zeros with a burst of 1..16 non-zero values after every gap of 1..8192 zeros. */
static void tb_gen_sparse(void *dst, size_t nbytes)
{
    tb_gauss g = {0xD1B54A32D192ED03ULL, 0.0, 0};
    size_t n = nbytes / 4, i = 0;
    float *d = dst;
    memset(dst, 0, nbytes);
    while (i < n) {
        i += 1 + tb_next(&g.state) % 8192;
        size_t burst = 1 + tb_next(&g.state) % 16;
        for (size_t k = 0; k < burst && i < n; k++, i++) d[i] = (float)(50.0 * tb_normal(&g));
    }
}

static double tb_clip(double v, double hi) { return v < 0 ? 0 : v > hi ? hi : v; }

/* u8: 1024x1024 frames, 40 + 0.08x + 0.05y + 25 sin(x/90) cos(y/70) + uniform noise -2..2. */
static void tb_gen_image(void *dst, size_t nbytes)
{
    uint64_t s = 0x8CB92BA72F3D8DD7ULL;
    uint8_t *d = dst;
    for (size_t i = 0; i < nbytes; i++) {
        double x = (double)(i % 1024), y = (double)(i / 1024 % 1024);
        double v = 40 + 0.08 * x + 0.05 * y + 25 * sin(x / 90) * cos(y / 70);
        v += (double)(tb_next(&s) % 5) - 2.0;
        d[i] = (uint8_t)lrint(tb_clip(v, 255));
    }
}

/* u16: 512x512 frames, 1000 + 0.5x + 0.3y + 10 frame + 200 sin(x/40) cos(y/30) + N(0, 15). */
static void tb_gen_detector(void *dst, size_t nbytes)
{
    tb_gauss g = {0x243F6A8885A308D3ULL, 0.0, 0};
    uint16_t *d = dst;
    for (size_t i = 0; i < nbytes / 2; i++) {
        double x = (double)(i % 512), y = (double)(i / 512 % 512), f = (double)(i / (512 * 512));
        double v = 1000 + 0.5 * x + 0.3 * y + 10 * f + 200 * sin(x / 40) * cos(y / 30);
        d[i] = (uint16_t)lrint(tb_clip(v + 15 * tb_normal(&g), 65535));
    }
}

static const tbench_dataset tb_sets[TBENCH_DS_COUNT_] = {
    {"f64_linspace", 8, "float64 i*1000/(N-1)", tb_gen_linspace},
    {"i32_ramp", 4, "int32 i", tb_gen_ramp},
    {"f32_noisy", 4, "float32 100*sin(i*1e-4) + N(0,1)", tb_gen_noisy},
    {"f32_sparse", 4, "float32 zeros, bursts of 1..16 values every 1..8192", tb_gen_sparse},
    {"u8_image", 1, "uint8 1024x1024 gradient + sin*cos + noise", tb_gen_image},
    {"u16_detector", 2, "uint16 512x512 frames gradient + sin*cos + N(0,15)", tb_gen_detector},
};

const tbench_dataset *tbench_datasets(void) { return tb_sets; }

int tbench_dataset_find(const char *name)
{
    for (int i = 0; i < TBENCH_DS_COUNT_; i++)
        if (strcmp(tb_sets[i].name, name) == 0) return i;
    return -1;
}
