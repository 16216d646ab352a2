// Exact top-k scan over per-row int8 codes (N-API addon, built by tools/build-scan.mjs).
//
// quantize(): rows -> symmetric int8 codes (row stride padded to 4 bytes), per-row scale, ||x - x~||, ||x~||.
// search():   one pass over the codes, fused: int8 dot products of a row tile with a block of queries held in
//             L1/L2 (AVX-512 VNNI vpdpbusd, AVX2 abs/sign + vpmaddubsw, or portable C; chosen at run time),
//             then the provable filter on every (row, query) score:
//               |x.y - x~.y~| <= ||x - x~|| ||y|| + ||x~|| ||y - y~||
//             a row stays a candidate for query i while x~.y~ + bound >= the k-th best lower bound seen so far.
//             Each candidate's float32 row is prefetched while the scan computes and, after the chunk, its
//             reference score is bracketed by a SIMD float64 dot product with a provable error; only the rows
//             whose bracket reaches the k-th best lower bracket are summed exactly as the JS reference kernel
//             does (float64 accumulation in dimension order, rounded to float32), and ranked by (score desc,
//             row asc), so results, scores and ties equal the reference bit for bit.
// Rows are split into chunks taken by one pthread per core from an atomic counter; every thread keeps its own
// thresholds (each is a valid lower bound, so their candidate sets are supersets of what is needed) and the
// rescoring merges them. The work runs off the JS thread (napi async work); search() returns a Promise.
#define NAPI_VERSION 8
#include <node_api.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if (defined(__x86_64__) || defined(__i386__)) && !defined(DUET_SCAN_PORTABLE_ONLY)
#include <immintrin.h>
#define DUET_X86 1
#endif

enum { ISA_PORTABLE = 0, ISA_AVX2 = 1, ISA_AVX512VNNI = 2, ISA_COUNT = 3 };
static const char *const ISA_NAMES[ISA_COUNT] = {"portable", "avx2", "avx512vnni"};
/** Queries per block held in cache while a row tile streams through (per ISA). */
/* Queries per AVX-512 block (64: 4 zmm of 16; 32 measured slower). */
#define VNNI_G 64
static const int GROUP_Q[ISA_COUNT] = {64, 32, VNNI_G};
/** Rows per chunk handed to a thread: a multiple of every row tile (24), ~0.5 MiB of codes at D = 512. */
#define CHUNK_ROWS 1008
#define QMAX 127
/** At most this many queries use the dimension-parallel AVX-512 kernel (see tile_vnni_small). */
#define SMALL_Q 4

static int isa_supported(int isa) {
  if (isa == ISA_PORTABLE) return 1;
#ifdef DUET_X86
  __builtin_cpu_init();
  if (isa == ISA_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == ISA_AVX512VNNI)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma");
#endif
  return 0;
}

static int best_isa(void) {
  for (int i = ISA_COUNT - 1; i > 0; i--)
    if (isa_supported(i)) return i;
  return ISA_PORTABLE;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Quantisation                                                                                                  */

/**
 * Symmetric int8 codes of one row in [-qmax, qmax] (zero padding to stride). Writes scale, ||x - x~||, ||x~||
 * (with the scale actually used) and the code sum. A non-finite component gives a NaN bound (all codes 0): the
 * row never ranks, as its reference score is not a number either.
 */
static void quantize_row(const float *x, int dim, int stride, int qmax, int8_t *codes, double *scale, double *err, double *norm, int32_t *sum) {
  float max = 0;
  int finite = 1;
  for (int j = 0; j < dim; j++) {
    const float a = fabsf(x[j]);
    finite &= a <= 3.4028235e38f;
    max = a > max ? a : max;
  }
  memset(codes, 0, stride);
  if (!finite) {
    *scale = 1, *err = NAN, *norm = 0, *sum = 0;
    return;
  }
  const double sc = max > 0 ? (double)max / qmax : 1, inv = 1 / sc;
  // Round half up (as Math.round): v * inv lies in [-qmax, qmax] (up to rounding), so h in [-qmax + 0.5, qmax + 0.5]
  // and floor(h) is the code; truncation then a correction for negative h (no libm call, vectorisable).
  double e[4] = {0, 0, 0, 0}, nn[4] = {0, 0, 0, 0};
  int32_t s = 0;
  int j = 0;
  for (; j + 4 <= dim; j += 4)
    for (int u = 0; u < 4; u++) {
      const double v = x[j + u], h = v * inv + 0.5;
      int c = (int)h;
      c -= (double)c > h;
      c = c > qmax ? qmax : c < -qmax ? -qmax : c;
      codes[j + u] = (int8_t)c;
      s += c;
      const double dq = c * sc;
      e[u] += (v - dq) * (v - dq);
      nn[u] += dq * dq;
    }
  for (; j < dim; j++) {
    const double v = x[j], h = v * inv + 0.5;
    int c = (int)h;
    c -= (double)c > h;
    c = c > qmax ? qmax : c < -qmax ? -qmax : c;
    codes[j] = (int8_t)c;
    s += c;
    const double dq = c * sc;
    e[0] += (v - dq) * (v - dq);
    nn[0] += dq * dq;
  }
  *scale = sc;
  *err = sqrt((e[0] + e[1]) + (e[2] + e[3]));
  *norm = sqrt((nn[0] + nn[1]) + (nn[2] + nn[3]));
  *sum = s;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Search state                                                                                                  */

typedef struct {
  int32_t *rows;
  double *upper;
  double *lo, *hi; /* bracket of the reference score, filled after each chunk for candidates [done, n) */
  int64_t n, cap, done;
} Cands;

typedef struct Search Search;

typedef struct {
  Search *s;
  int id;
  double *heap; /* [q][k] min-heaps of lower bounds */
  int *heapN;   /* [q] */
  double *thr;  /* [q] the k-th best lower bound (-inf until k rows) */
  float *thrf;  /* [qAlloc] float32 pre-filter threshold <= thr - tol (+inf on padded lanes) */
  Cands *cands; /* [q] */
  int32_t *dots; /* [24][64] tile scratch */
  int oom;
} Thread;

struct Search {
  /* inputs (JS-owned buffers, referenced until completion) */
  const int8_t *codes;
  const int32_t *rowsum;
  const double *rowd; /* [n][3] scale, err, norm */
  const float *rowf;  /* [n][4] float32 copies for the pre-filter */
  const float *vectors;
  const float *queries; /* normalised float32 [q][dim] */
  int64_t n;
  int dim, stride, q, k, threads, isa;
  double maxMag; /* max over rows of ||x~|| + ||x - x~|| */
  /* queries */
  uint8_t *qpack; /* per ISA layout, groups of GROUP_Q[isa] queries */
  int64_t *groupOff;
  int groups, qAlloc;
  double *qscale, *qerr, *qnorm;
  float *qsf, *qnf, *qef;
  double *tol; /* [qAlloc] slack of the float32 pre-filter */
  /* scan */
  atomic_long nextChunk, nextQuery;
  int64_t chunks;
  Thread *th;
  /* outputs */
  int32_t *outIdx;
  float *outScore;
  atomic_long rescored, exact;
  double msPrepare, msScan, msRescore; /* wall time of the phases */
  const char *error;
  /* napi */
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[6];
  int nrefs;
};

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int cands_push(Cands *c, int32_t row, double upper) {
  if (c->n == c->cap) {
    int64_t cap = c->cap ? c->cap * 2 : 64;
    int32_t *r = realloc(c->rows, cap * sizeof *r);
    if (!r) return 0;
    c->rows = r;
    double *u = realloc(c->upper, cap * sizeof *u);
    if (!u) return 0;
    c->upper = u;
    if (!(u = realloc(c->lo, cap * sizeof *u))) return 0;
    c->lo = u;
    if (!(u = realloc(c->hi, cap * sizeof *u))) return 0;
    c->hi = u;
    c->cap = cap;
  }
  c->rows[c->n] = row;
  c->upper[c->n++] = upper;
  return 1;
}

/** Adds a lower bound to query qi's min-heap of the k best; returns the new threshold. */
static double heap_push(Thread *t, int qi, double v) {
  const int k = t->s->k;
  double *h = t->heap + (int64_t)qi * k;
  int n = t->heapN[qi];
  if (n < k) {
    int i = n++;
    while (i > 0 && h[(i - 1) / 2] > v) {
      h[i] = h[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    h[i] = v;
    t->heapN[qi] = n;
  } else if (v > h[0]) {
    int i = 0;
    for (;;) {
      int c = 2 * i + 1;
      if (c >= k) break;
      if (c + 1 < k && h[c + 1] < h[c]) c++;
      if (h[c] >= v) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = v;
  }
  return n < k ? -INFINITY : h[0];
}

/** The largest float32 <= x (the pre-filter must never be stricter than the float64 test). */
static float float_down(double x) {
  float f = (float)x;
  if ((double)f > x) f = nextafterf(f, -INFINITY);
  return f;
}

/**
 * The exact (float64) test of one score that passed the float32 pre-filter: candidate when upper >= threshold;
 * a better lower bound raises the threshold.
 */
static void check(Thread *t, int64_t row, int qi, int32_t dot) {
  const Search *s = t->s;
  const double *rd = s->rowd + row * 3;
  const double approx = (double)dot * rd[0] * s->qscale[qi];
  // The bound, plus the reference's float32 rounding of its score (relative 2^-24, taken generously).
  const double bound = rd[1] * s->qnorm[qi] + rd[2] * s->qerr[qi] + 1e-6 * (rd[2] + rd[1]) * s->qnorm[qi] + 1e-30;
  const double thr = t->thr[qi];
  if (!(approx + bound >= thr)) return;
  if (!cands_push(&t->cands[qi], (int32_t)row, approx + bound)) {
    t->oom = 1;
    return;
  }
  /* Its float32 row is needed after this chunk (bracket_pending): start fetching it into L2 now, while the scan
     computes (the scan is compute-bound, so the memory system is idle). */
  const char *fp = (const char *)(s->vectors + row * s->dim);
  for (int64_t b = 0; b < (int64_t)s->dim * 4; b += 64) __builtin_prefetch(fp + b, 0, 2);
  if (approx - bound > thr) {
    double nt = heap_push(t, qi, approx - bound);
    t->thr[qi] = nt;
    t->thrf[qi] = float_down(nt - s->tol[qi]);
  }
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Portable kernel                                                                                               */

static void scan_portable(Thread *t, int64_t r0, int64_t r1) {
  const Search *s = t->s;
  const int stride = s->stride, q = s->q;
  const int8_t *qc = (const int8_t *)s->qpack; /* [q][stride] */
  for (int64_t row = r0; row < r1; row++) {
    const int8_t *x = s->codes + row * stride;
    const float *rf = s->rowf + row * 4;
    for (int qi = 0; qi < q; qi++) {
      const int8_t *y = qc + (int64_t)qi * stride;
      int32_t d = 0;
      for (int j = 0; j < stride; j++) d += (int32_t)x[j] * (int32_t)y[j];
      float up = (float)d * rf[0] * s->qsf[qi] + (rf[1] * s->qnf[qi] + rf[2] * s->qef[qi]);
      if (up >= t->thrf[qi]) check(t, row, qi, d);
    }
  }
}

#ifdef DUET_X86
/* ------------------------------------------------------------------------------------------------------------ */
/* AVX2 kernel: 8 queries per ymm, 2-row tiles. vpmaddubsw needs one unsigned operand: |row| x sign(query, row)  */
/* keeps every int16 pair sum <= 2 * 127 * 127 < 32767, so nothing saturates and the dot is exact.              */

#define TGT_AVX2 __attribute__((target("avx2,fma")))

TGT_AVX2 static void filter_avx2(Thread *t, int64_t row0, int rt, int q0, int gpad, const int32_t *dots) {
  const Search *s = t->s;
  for (int r = 0; r < rt; r++) {
    const int64_t row = row0 + r;
    const float *rf = s->rowf + row * 4;
    const __m256 vrs = _mm256_set1_ps(rf[0]), ve = _mm256_set1_ps(rf[1]), vn = _mm256_set1_ps(rf[2]);
    for (int l = 0; l < gpad; l += 8) {
      const int qi = q0 + l;
      const __m256 d = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(dots + r * gpad + l)));
      const __m256 b = _mm256_fmadd_ps(ve, _mm256_loadu_ps(s->qnf + qi), _mm256_mul_ps(vn, _mm256_loadu_ps(s->qef + qi)));
      const __m256 up = _mm256_fmadd_ps(_mm256_mul_ps(d, vrs), _mm256_loadu_ps(s->qsf + qi), b);
      unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(up, _mm256_loadu_ps(t->thrf + qi), _CMP_GE_OQ));
      while (m) {
        const int bit = __builtin_ctz(m);
        m &= m - 1;
        check(t, row, qi + bit, dots[r * gpad + l + bit]);
      }
    }
  }
}

TGT_AVX2 static inline __attribute__((always_inline)) void tile_avx2(Thread *t, int64_t row0, const int RT, const int NZ, const uint8_t *qp, int q0) {
  const Search *s = t->s;
  const int stride = s->stride, kg4 = stride / 4, gpad = NZ * 8;
  const int8_t *base = s->codes + row0 * stride;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[8];
  for (int i = 0; i < RT * NZ; i++) acc[i] = _mm256_setzero_si256();
  for (int kg = 0; kg < kg4; kg++) {
    const uint8_t *qk = qp + (int64_t)kg * gpad * 4;
    __m256i qv[4];
    for (int j = 0; j < NZ; j++) qv[j] = _mm256_loadu_si256((const __m256i *)(qk + 32 * j));
    for (int r = 0; r < RT; r++) {
      int32_t w;
      memcpy(&w, base + (int64_t)r * stride + 4 * kg, 4);
      const __m256i b = _mm256_set1_epi32(w), ab = _mm256_abs_epi8(b);
      for (int j = 0; j < NZ; j++)
        acc[r * NZ + j] = _mm256_add_epi32(acc[r * NZ + j], _mm256_madd_epi16(_mm256_maddubs_epi16(ab, _mm256_sign_epi8(qv[j], b)), ones));
    }
  }
  int32_t *dots = t->dots;
  for (int r = 0; r < RT; r++)
    for (int j = 0; j < NZ; j++) _mm256_storeu_si256((__m256i *)(dots + r * gpad + 8 * j), acc[r * NZ + j]);
  filter_avx2(t, row0, RT, q0, gpad, dots);
}

#define AVX2_NZ(NZ)                                                                                              \
  TGT_AVX2 static void rows_avx2_##NZ(Thread *t, int64_t r0, int64_t r1, const uint8_t *qp, int q0) {         \
    int64_t row = r0;                                                                                            \
    for (; row + 2 <= r1; row += 2) tile_avx2(t, row, 2, NZ, qp, q0);                                            \
    for (; row < r1; row++) tile_avx2(t, row, 1, NZ, qp, q0);                                                    \
  }
AVX2_NZ(1)
AVX2_NZ(2)
AVX2_NZ(3)
AVX2_NZ(4)

static void scan_portable(Thread *t, int64_t r0, int64_t r1);

static void scan_avx2(Thread *t, int64_t r0, int64_t r1) {
  const Search *s = t->s;
  /* 1-4 queries would leave most of the 8-query lanes idle: the per-row loop (compiler-vectorised) is faster. */
  if (s->q <= SMALL_Q) {
    scan_portable(t, r0, r1);
    return;
  }
  for (int g = 0; g < s->groups; g++) {
    const int q0 = g * 32, gq = s->q - q0 < 32 ? s->q - q0 : 32, nz = (gq + 7) / 8;
    const uint8_t *qp = s->qpack + s->groupOff[g];
    switch (nz) {
      case 1: rows_avx2_1(t, r0, r1, qp, q0); break;
      case 2: rows_avx2_2(t, r0, r1, qp, q0); break;
      case 3: rows_avx2_3(t, r0, r1, qp, q0); break;
      default: rows_avx2_4(t, r0, r1, qp, q0); break;
    }
  }
}

/* ------------------------------------------------------------------------------------------------------------ */
/* AVX-512 VNNI kernel: 16 queries per zmm (up to 4 zmm = 64 queries), row tiles of 24/NZ rows (24 accumulators). */
/* Queries are the unsigned operand (code + 128), rows the signed one, broadcast 4 bytes at a time; the +128      */
/* shift is removed by starting each accumulator at -128 * sum(row codes). Sums stay exact in int32 (D <= 65536). */

#define TGT_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))

TGT_VNNI static void filter_vnni(Thread *t, int64_t row0, int rt, int q0, int gpad, const int32_t *dots) {
  const Search *s = t->s;
  for (int r = 0; r < rt; r++) {
    const int64_t row = row0 + r;
    const float *rf = s->rowf + row * 4;
    const __m512 vrs = _mm512_set1_ps(rf[0]), ve = _mm512_set1_ps(rf[1]), vn = _mm512_set1_ps(rf[2]);
    for (int l = 0; l < gpad; l += 16) {
      const int qi = q0 + l;
      const __m512 d = _mm512_cvtepi32_ps(_mm512_loadu_si512(dots + r * gpad + l));
      const __m512 b = _mm512_fmadd_ps(ve, _mm512_loadu_ps(s->qnf + qi), _mm512_mul_ps(vn, _mm512_loadu_ps(s->qef + qi)));
      const __m512 up = _mm512_fmadd_ps(_mm512_mul_ps(d, vrs), _mm512_loadu_ps(s->qsf + qi), b);
      unsigned m = _mm512_cmp_ps_mask(up, _mm512_loadu_ps(t->thrf + qi), _CMP_GE_OQ);
      while (m) {
        const int bit = __builtin_ctz(m);
        m &= m - 1;
        check(t, row, qi + bit, dots[r * gpad + l + bit]);
      }
    }
  }
}

TGT_VNNI static inline __attribute__((always_inline)) void tile_vnni(Thread *t, int64_t row0, const int RT, const int NZ, const uint8_t *qp, int q0) {
  const Search *s = t->s;
  const int stride = s->stride, kg4 = stride / 4, gpad = NZ * 16;
  const int8_t *base = s->codes + row0 * stride;
  /* The next tile's rows, ahead of the hardware prefetcher (a few % faster). */
  for (int64_t b = 0; b < (int64_t)RT * stride; b += 64) _mm_prefetch((const char *)base + RT * stride + b, _MM_HINT_T0);
  __m512i acc[24];
  for (int r = 0; r < RT; r++) {
    const __m512i init = _mm512_set1_epi32(-128 * s->rowsum[row0 + r]);
    for (int j = 0; j < NZ; j++) acc[r * NZ + j] = init;
  }
  for (int kg = 0; kg < kg4; kg++) {
    const uint8_t *qk = qp + (int64_t)kg * gpad * 4;
    __m512i qv[4];
    for (int j = 0; j < NZ; j++) qv[j] = _mm512_loadu_si512(qk + 64 * j);
    for (int r = 0; r < RT; r++) {
      int32_t w;
      memcpy(&w, base + (int64_t)r * stride + 4 * kg, 4);
      const __m512i b = _mm512_set1_epi32(w);
      for (int j = 0; j < NZ; j++) acc[r * NZ + j] = _mm512_dpbusd_epi32(acc[r * NZ + j], qv[j], b);
    }
  }
  int32_t *dots = t->dots;
  for (int r = 0; r < RT; r++)
    for (int j = 0; j < NZ; j++) _mm512_storeu_si512(dots + r * gpad + 16 * j, acc[r * NZ + j]);
  filter_vnni(t, row0, RT, q0, gpad, dots);
}

#define VNNI_NZ(NZ, RT)                                                                                          \
  TGT_VNNI static void rows_vnni_##NZ(Thread *t, int64_t r0, int64_t r1, const uint8_t *qp, int q0) {         \
    int64_t row = r0;                                                                                            \
    for (; row + RT <= r1; row += RT) tile_vnni(t, row, RT, NZ, qp, q0);                                         \
    for (; row < r1; row++) tile_vnni(t, row, 1, NZ, qp, q0);                                                    \
  }
VNNI_NZ(1, 12)
VNNI_NZ(2, 12)
VNNI_NZ(3, 8)
VNNI_NZ(4, 6)

/* Few queries (q <= SMALL_Q): a 16-lane register per (row, query) accumulates 64 dimensions per vpdpbusd and is  */
/* summed horizontally at the end, instead of leaving 15 of 16 lanes idle in the query-parallel layout.           */
TGT_VNNI static inline __attribute__((always_inline)) void tile_vnni_small(Thread *t, int64_t row0, const int RT, const int Q, const uint8_t *qp) {
  const Search *s = t->s;
  const int stride = s->stride, full = stride / 64, tail = stride % 64, s64 = (stride + 63) / 64 * 64;
  const __mmask64 tm = tail ? (((__mmask64)1 << tail) - 1) : 0;
  const int8_t *base = s->codes + row0 * stride;
  __m512i acc[16];
  for (int i = 0; i < RT * Q; i++) acc[i] = _mm512_setzero_si512();
  for (int c = 0; c < full; c++) {
    __m512i qv[SMALL_Q];
    for (int i = 0; i < Q; i++) qv[i] = _mm512_loadu_si512(qp + (int64_t)i * s64 + 64 * c);
    for (int r = 0; r < RT; r++) {
      const __m512i x = _mm512_loadu_si512(base + (int64_t)r * stride + 64 * c);
      for (int i = 0; i < Q; i++) acc[r * Q + i] = _mm512_dpbusd_epi32(acc[r * Q + i], qv[i], x);
    }
  }
  if (tail) {
    __m512i qv[SMALL_Q];
    for (int i = 0; i < Q; i++) qv[i] = _mm512_loadu_si512(qp + (int64_t)i * s64 + 64 * full);
    for (int r = 0; r < RT; r++) {
      const __m512i x = _mm512_maskz_loadu_epi8(tm, base + (int64_t)r * stride + 64 * full);
      for (int i = 0; i < Q; i++) acc[r * Q + i] = _mm512_dpbusd_epi32(acc[r * Q + i], qv[i], x);
    }
  }
  for (int r = 0; r < RT; r++) {
    const int64_t row = row0 + r;
    const float *rf = s->rowf + row * 4;
    for (int i = 0; i < Q; i++) {
      const int32_t d = _mm512_reduce_add_epi32(acc[r * Q + i]) - 128 * s->rowsum[row];
      const float up = (float)d * rf[0] * s->qsf[i] + (rf[1] * s->qnf[i] + rf[2] * s->qef[i]);
      if (up >= t->thrf[i]) check(t, row, i, d);
    }
  }
}

#define VNNI_SMALL(Q)                                                                                            \
  TGT_VNNI static void rows_vnni_small_##Q(Thread *t, int64_t r0, int64_t r1, const uint8_t *qp) {            \
    int64_t row = r0;                                                                                            \
    for (; row + 4 <= r1; row += 4) tile_vnni_small(t, row, 4, Q, qp);                                           \
    for (; row < r1; row++) tile_vnni_small(t, row, 1, Q, qp);                                                   \
  }
VNNI_SMALL(1)
VNNI_SMALL(2)
VNNI_SMALL(3)
VNNI_SMALL(4)

static void scan_vnni(Thread *t, int64_t r0, int64_t r1) {
  const Search *s = t->s;
  if (s->q <= SMALL_Q) {
    switch (s->q) {
      case 1: rows_vnni_small_1(t, r0, r1, s->qpack); break;
      case 2: rows_vnni_small_2(t, r0, r1, s->qpack); break;
      case 3: rows_vnni_small_3(t, r0, r1, s->qpack); break;
      default: rows_vnni_small_4(t, r0, r1, s->qpack); break;
    }
    return;
  }
  for (int g = 0; g < s->groups; g++) {
    const int q0 = g * VNNI_G, gq = s->q - q0 < VNNI_G ? s->q - q0 : VNNI_G, nz = (gq + 15) / 16;
    const uint8_t *qp = s->qpack + s->groupOff[g];
    switch (nz) {
      case 1: rows_vnni_1(t, r0, r1, qp, q0); break;
      case 2: rows_vnni_2(t, r0, r1, qp, q0); break;
      case 3: rows_vnni_3(t, r0, r1, qp, q0); break;
      default: rows_vnni_4(t, r0, r1, qp, q0); break;
    }
  }
}
#endif

/* ------------------------------------------------------------------------------------------------------------ */
/* Queries, threads, rescoring                                                                                   */

/** Quantises the queries and packs their codes for the ISA. Returns 0 on allocation failure. */
static int prepare_queries(Search *s) {
  const int q = s->q, dim = s->dim, stride = s->stride, G = GROUP_Q[s->isa];
  s->groups = (q + G - 1) / G;
  s->qAlloc = s->groups * 64 + 64;
  s->qscale = calloc(q, sizeof(double));
  s->qerr = calloc(q, sizeof(double));
  s->qnorm = calloc(q, sizeof(double));
  s->qsf = calloc(s->qAlloc, sizeof(float));
  s->qnf = calloc(s->qAlloc, sizeof(float));
  s->qef = calloc(s->qAlloc, sizeof(float));
  s->tol = calloc(s->qAlloc, sizeof(double));
  s->groupOff = calloc(s->groups, sizeof(int64_t));
  int8_t *codes = calloc((size_t)q * stride, 1);
  const int64_t kg4 = stride / 4;
  s->qpack = calloc((size_t)s->groups * G * (stride + 64) + 64, 1);
  if (!s->qscale || !s->qerr || !s->qnorm || !s->qsf || !s->qnf || !s->qef || !s->tol || !s->groupOff || !codes || !s->qpack) {
    free(codes);
    return 0;
  }
  for (int i = 0; i < q; i++) {
    double nn = 0;
    int32_t sum;
    const float *y = s->queries + (int64_t)i * dim;
    quantize_row(y, dim, stride, QMAX, codes + (int64_t)i * stride, &s->qscale[i], &s->qerr[i], &nn, &sum);
    double n2 = 0;
    for (int j = 0; j < dim; j++) n2 += (double)y[j] * y[j];
    s->qnorm[i] = sqrt(n2);
    s->qsf[i] = (float)s->qscale[i];
    s->qnf[i] = (float)s->qnorm[i];
    s->qef[i] = (float)s->qerr[i];
    // Slack for the float32 pre-filter: its rounding (<~ 2^-20 relative) plus the float64 test's extra terms
    // (1e-6 relative + 1e-30), all far inside 2^-16 x the largest ||x|| ||y|| bound.
    s->tol[i] = ldexp(1.0, -16) * s->maxMag * (s->qnorm[i] + s->qerr[i]) + 1e-30;
  }
  if (s->isa == ISA_PORTABLE || (s->isa == ISA_AVX2 && q <= SMALL_Q)) {
    memcpy(s->qpack, codes, (size_t)q * stride);
  } else if (s->isa == ISA_AVX512VNNI && q <= SMALL_Q) {
    /* [q][stride rounded up to 64] unsigned codes (+128); the padding meets masked-off row bytes. */
    const int64_t s64 = (stride + 63) / 64 * 64;
    for (int i = 0; i < q; i++)
      for (int64_t j = 0; j < s64; j++) s->qpack[i * s64 + j] = (uint8_t)((j < stride ? codes[(int64_t)i * stride + j] : 0) + 128);
  } else {
    const int lanes = s->isa == ISA_AVX2 ? 8 : 16, shift = s->isa == ISA_AVX512VNNI ? 128 : 0;
    int64_t off = 0;
    for (int g = 0; g < s->groups; g++) {
      const int q0 = g * G, gq = q - q0 < G ? q - q0 : G, gpad = (gq + lanes - 1) / lanes * lanes;
      s->groupOff[g] = off;
      uint8_t *p = s->qpack + off;
      for (int64_t kg = 0; kg < kg4; kg++)
        for (int l = 0; l < gpad; l++)
          for (int b = 0; b < 4; b++) {
            const int c = l < gq ? codes[(int64_t)(q0 + l) * stride + kg * 4 + b] : 0;
            p[(kg * gpad + l) * 4 + b] = (uint8_t)(c + shift);
          }
      off += kg4 * gpad * 4;
    }
  }
  free(codes);
  return 1;
}

static int thread_init(Search *s, Thread *t, int id) {
  t->s = s;
  t->id = id;
  t->heap = malloc((size_t)s->q * s->k * sizeof(double));
  t->heapN = calloc(s->q, sizeof(int));
  t->thr = malloc((size_t)s->q * sizeof(double));
  t->thrf = malloc((size_t)s->qAlloc * sizeof(float));
  t->cands = calloc(s->q, sizeof(Cands));
  t->dots = malloc(24 * 64 * sizeof(int32_t));
  if (!t->heap || !t->heapN || !t->thr || !t->thrf || !t->cands || !t->dots) return 0;
  for (int i = 0; i < s->q; i++) t->thr[i] = -INFINITY;
  for (int i = 0; i < s->qAlloc; i++) t->thrf[i] = i < s->q ? -INFINITY : INFINITY;
  return 1;
}

static void thread_free(Search *s, Thread *t) {
  if (t->cands)
    for (int i = 0; i < s->q; i++) {
      free(t->cands[i].rows);
      free(t->cands[i].upper);
      free(t->cands[i].lo);
      free(t->cands[i].hi);
    }
  free(t->cands);
  free(t->heap);
  free(t->heapN);
  free(t->thr);
  free(t->thrf);
  free(t->dots);
}

typedef struct {
  float score;
  int32_t row;
} Hit;

static int hit_cmp(const void *a, const void *b) {
  const Hit *x = a, *y = b;
  if (x->score != y->score) return x->score > y->score ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row);
}

static int dbl_desc(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

/** float32(sum over j in order of x[j] * y[j] in float64): the JS reference kernel's arithmetic. */
static float ref_dot(const float *x, const float *y, int dim) {
  double s = 0;
  for (int j = 0; j < dim; j++) s += (double)x[j] * (double)y[j];
  return (float)s;
}

/**
 * ref_dot of four rows at once: four independent float64 chains (each still summed in dimension order, so every
 * score is bit-identical to ref_dot) hide the add latency and overlap the rows' cache misses.
 */
static void ref_dot4(const float *x0, const float *x1, const float *x2, const float *x3, const float *y, int dim, float *out) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int j = 0; j < dim; j++) {
    const double yj = y[j];
    s0 += (double)x0[j] * yj;
    s1 += (double)x1[j] * yj;
    s2 += (double)x2[j] * yj;
    s3 += (double)x3[j] * yj;
  }
  out[0] = (float)s0, out[1] = (float)s1, out[2] = (float)s2, out[3] = (float)s3;
}

/*
 * A float64 dot product in any order (SIMD, FMA): |a - x.y| <= gamma_D sum|x_j y_j| <= ~D 2^-53 ||x|| ||y||. It
 * brackets the reference score (float32 of the in-order float64 sum) tightly, so only rows whose bracket reaches
 * the k-th best lower bracket need the in-order sum.
 */
static double approx_dot_portable(const float *x, const float *y, int dim) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= dim; j += 8)
    for (int u = 0; u < 8; u++) a[u] += (double)x[j + u] * y[j + u];
  for (; j < dim; j++) a[0] += (double)x[j] * y[j];
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

#ifdef DUET_X86
TGT_AVX2 static double approx_dot_avx2(const float *x, const float *y, int dim) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  int j = 0;
  for (; j + 8 <= dim; j += 8) {
    const __m256 xv = _mm256_loadu_ps(x + j), yv = _mm256_loadu_ps(y + j);
    a0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(xv)), _mm256_cvtps_pd(_mm256_castps256_ps128(yv)), a0);
    a1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(xv, 1)), _mm256_cvtps_pd(_mm256_extractf128_ps(yv, 1)), a1);
  }
  double t[4];
  _mm256_storeu_pd(t, _mm256_add_pd(a0, a1));
  double r = (t[0] + t[1]) + (t[2] + t[3]);
  for (; j < dim; j++) r += (double)x[j] * y[j];
  return r;
}

TGT_VNNI static double approx_dot_avx512(const float *x, const float *y, int dim) {
  __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
  int j = 0;
  for (; j + 16 <= dim; j += 16) {
    const __m512 xv = _mm512_loadu_ps(x + j), yv = _mm512_loadu_ps(y + j);
    a0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(xv)), _mm512_cvtps_pd(_mm512_castps512_ps256(yv)), a0);
    a1 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xv), 1))),
                         _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(yv), 1))), a1);
  }
  double r = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
  for (; j < dim; j++) r += (double)x[j] * y[j];
  return r;
}
#endif

static double approx_dot(int isa, const float *x, const float *y, int dim) {
#ifdef DUET_X86
  if (isa == ISA_AVX512VNNI) return approx_dot_avx512(x, y, dim);
  if (isa == ISA_AVX2) return approx_dot_avx2(x, y, dim);
#endif
  (void)isa;
  return approx_dot_portable(x, y, dim);
}

/**
 * Brackets the reference score of a candidate, float32(in-order float64 sum), around a SIMD float64 estimate a:
 * |sum - x.y| and |a - x.y| <= gamma_D ||x|| ||y|| (gamma_D < 1e-11 for D <= 65536; ||x|| <= ||x~|| + ||x - x~||),
 * plus float32 rounding (2^-24 relative, 2^-149 absolute). NaN estimates (the row never ranks) get lo = NaN;
 * scores that may overflow float32 get no bracket (-inf, +inf).
 */
static void bracket(const Search *s, int qi, int32_t row, double *lo, double *hi) {
  const int dim = s->dim;
  const double a = approx_dot(s->isa, s->vectors + (int64_t)row * dim, s->queries + (int64_t)qi * dim, dim);
  const double *rd = s->rowd + (int64_t)row * 3;
  const double delta = ldexp(fabs(a), -23) + 1e-10 * (rd[1] + rd[2]) * s->qnorm[qi] + 1e-40;
  if (a != a) *lo = *hi = NAN;
  else if (!(fabs(a) + delta < 1e38)) *lo = -INFINITY, *hi = INFINITY;
  else *lo = a - delta, *hi = a + delta;
}

/** Brackets the candidates this thread found since the last call (their rows were prefetched by check()). */
static void bracket_pending(Thread *t) {
  const Search *s = t->s;
  for (int qi = 0; qi < s->q; qi++) {
    Cands *c = &t->cands[qi];
    for (int64_t j = c->done; j < c->n; j++) bracket(s, qi, c->rows[j], &c->lo[j], &c->hi[j]);
    c->done = c->n;
  }
}

/** Merges the threads' bounds for query qi, rescores the surviving candidates, writes the top-k. */
static int rescore_query(Search *s, int qi) {
  const int k = s->k, T = s->threads;
  double *lows = malloc((size_t)T * k * sizeof(double));
  if (!lows) return 0;
  int nl = 0;
  int64_t total = 0;
  for (int t = 0; t < T; t++) {
    const Thread *th = &s->th[t];
    for (int j = 0; j < th->heapN[qi]; j++) lows[nl++] = th->heap[(int64_t)qi * k + j];
    total += th->cands[qi].n;
  }
  double thr = -INFINITY;
  if (nl >= k) {
    qsort(lows, nl, sizeof(double), dbl_desc);
    thr = lows[k - 1];
  }
  free(lows);
  Hit *hits = malloc((size_t)(total > 0 ? total : 1) * sizeof(Hit));
  if (!hits) return 0;
  /* 1. The rows the int8 bound keeps, with the brackets of their reference scores (bracket()). */
  int64_t m = 0;
  const int dim = s->dim;
  const float *y = s->queries + (int64_t)qi * dim;
  const float *v = s->vectors;
  double *est = malloc((size_t)(total > 0 ? total : 1) * 2 * sizeof(double));
  if (!est) {
    free(hits);
    return 0;
  }
  int64_t kept = 0;
  for (int t = 0; t < T; t++) {
    const Cands *c = &s->th[t].cands[qi];
    for (int64_t j = 0; j < c->n; j++) {
      if (!(c->upper[j] >= thr)) continue;
      kept++;
      if (c->lo[j] != c->lo[j]) continue; /* NaN never ranks */
      hits[m].row = c->rows[j];
      est[2 * m] = c->lo[j];
      est[2 * m + 1] = c->hi[j];
      m++;
    }
  }
  atomic_fetch_add(&s->rescored, kept);
  /* 2. The k-th best lower bracket; rows whose upper bracket reaches it get the exact in-order sum. */
  double thr2 = -INFINITY;
  if (m >= k) {
    double *lw = malloc((size_t)m * sizeof(double));
    if (!lw) {
      free(est);
      free(hits);
      return 0;
    }
    for (int64_t j = 0; j < m; j++) lw[j] = est[2 * j];
    qsort(lw, m, sizeof(double), dbl_desc);
    thr2 = lw[k - 1];
    free(lw);
  }
  int64_t e = 0;
  for (int64_t j = 0; j < m; j++)
    if (est[2 * j + 1] >= thr2) hits[e++] = hits[j];
  free(est);
  m = e;
  atomic_fetch_add(&s->exact, m);
  int64_t j = 0;
  for (; j + 4 <= m; j += 4) {
    float sc[4];
    ref_dot4(v + (int64_t)hits[j].row * dim, v + (int64_t)hits[j + 1].row * dim, v + (int64_t)hits[j + 2].row * dim, v + (int64_t)hits[j + 3].row * dim, y, dim, sc);
    for (int u = 0; u < 4; u++) hits[j + u].score = sc[u];
  }
  for (; j < m; j++) hits[j].score = ref_dot(v + (int64_t)hits[j].row * dim, y, dim);
  int64_t w = 0; /* NaN never ranks */
  for (j = 0; j < m; j++)
    if (hits[j].score == hits[j].score) hits[w++] = hits[j];
  m = w;
  qsort(hits, m, sizeof(Hit), hit_cmp);
  for (int j = 0; j < k; j++) {
    s->outIdx[(int64_t)qi * k + j] = j < m ? hits[j].row : 0;
    s->outScore[(int64_t)qi * k + j] = j < m ? hits[j].score : 0;
  }
  free(hits);
  return 1;
}

static void *scan_worker(void *arg) {
  Thread *t = arg;
  Search *s = t->s;
  for (;;) {
    const int64_t c = atomic_fetch_add(&s->nextChunk, 1);
    if (c >= s->chunks || t->oom) break;
    const int64_t r0 = c * CHUNK_ROWS, r1 = r0 + CHUNK_ROWS < s->n ? r0 + CHUNK_ROWS : s->n;
    switch (s->isa) {
#ifdef DUET_X86
      case ISA_AVX512VNNI: scan_vnni(t, r0, r1); break;
      case ISA_AVX2: scan_avx2(t, r0, r1); break;
#endif
      default: scan_portable(t, r0, r1); break;
    }
    bracket_pending(t);
  }
  return NULL;
}

static void *rescore_worker(void *arg) {
  Thread *t = arg;
  Search *s = t->s;
  for (;;) {
    const long qi = atomic_fetch_add(&s->nextQuery, 1);
    if (qi >= s->q) break;
    if (!rescore_query(s, (int)qi)) t->oom = 1;
  }
  return NULL;
}

/**
 * Runs fn on the calling thread and threads - 1 pthreads. Work is handed out by atomic counters, so a thread that
 * could not be created only means fewer workers, never missing work.
 */
static void run_parallel(Search *s, void *(*fn)(void *)) {
  pthread_t ids[1024];
  int ok[1024] = {0};
  for (int i = 1; i < s->threads; i++) ok[i] = pthread_create(&ids[i], NULL, fn, &s->th[i]) == 0;
  fn(&s->th[0]);
  for (int i = 1; i < s->threads; i++)
    if (ok[i]) pthread_join(ids[i], NULL);
}

/** Runs the whole search on the calling thread plus threads - 1 pthreads. Returns an error message or NULL. */
static const char *run_search(Search *s) {
  const double t0 = now_ms();
  s->chunks = (s->n + CHUNK_ROWS - 1) / CHUNK_ROWS;
  if (s->threads > s->chunks) s->threads = (int)s->chunks;
  if (s->threads < 1) s->threads = 1;
  if (!prepare_queries(s)) return "out of memory (queries)";
  s->th = calloc(s->threads, sizeof(Thread));
  if (!s->th) return "out of memory (threads)";
  for (int i = 0; i < s->threads; i++)
    if (!thread_init(s, &s->th[i], i)) return "out of memory (thread state)";
  s->outIdx = calloc((size_t)s->q * s->k, sizeof(int32_t));
  s->outScore = calloc((size_t)s->q * s->k, sizeof(float));
  if (!s->outIdx || !s->outScore) return "out of memory (results)";
  atomic_store(&s->nextChunk, 0);
  atomic_store(&s->nextQuery, 0);
  atomic_store(&s->rescored, 0);
  atomic_store(&s->exact, 0);
  const double t1 = now_ms();
  run_parallel(s, scan_worker);
  const double t2 = now_ms();
  for (int i = 0; i < s->threads; i++)
    if (s->th[i].oom) return "out of memory (candidates)";
  run_parallel(s, rescore_worker);
  s->msPrepare = t1 - t0, s->msScan = t2 - t1, s->msRescore = now_ms() - t2;
  for (int i = 0; i < s->threads; i++)
    if (s->th[i].oom) return "out of memory (rescoring)";
  return NULL;
}

static void search_free(Search *s) {
  if (s->th)
    for (int i = 0; i < s->threads; i++) thread_free(s, &s->th[i]);
  free(s->th);
  free(s->qpack);
  free(s->groupOff);
  free(s->qscale);
  free(s->qerr);
  free(s->qnorm);
  free(s->qsf);
  free(s->qnf);
  free(s->qef);
  free(s->tol);
  free(s->outIdx);
  free(s->outScore);
  free(s);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* N-API                                                                                                         */

#define CALL(env, x)                                                                                             \
  do {                                                                                                           \
    if ((x) != napi_ok) {                                                                                        \
      napi_throw_error(env, NULL, "duet_scan: N-API call failed: " #x);                                          \
      return NULL;                                                                                               \
    }                                                                                                            \
  } while (0)

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/** A typed array argument of the given type with at least `min` elements; NULL (and a JS error) otherwise. */
static void *typed_arg(napi_env env, napi_value v, napi_typedarray_type want, int64_t min, const char *name) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) {
    char msg[160];
    snprintf(msg, sizeof msg, "duet_scan: %s: expected a typed array", name);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  napi_typedarray_type type;
  size_t len;
  void *data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &off) != napi_ok) return NULL;
  if (type != want || (int64_t)len < min) {
    char msg[200];
    snprintf(msg, sizeof msg, "duet_scan: %s: wrong element type or fewer than %lld elements (got %zu)", name, (long long)min, len);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  return data ? data : (void *)"";
}

static int int_arg(napi_env env, napi_value v, int64_t lo, int64_t hi, int64_t *out, const char *name) {
  int64_t x;
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != floor(d) || d < (double)lo || d > (double)hi) {
    char msg[160];
    snprintf(msg, sizeof msg, "duet_scan: %s: expected an integer in [%lld, %lld]", name, (long long)lo, (long long)hi);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  x = (int64_t)d;
  *out = x;
  return 1;
}

typedef struct {
  const float *v;
  int8_t *codes;
  int32_t *rowsum;
  double *rowd;
  float *rowf;
  int64_t r0, r1;
  int dim, stride;
  double maxMag;
} QuantJob;

static void *quantize_rows(void *arg) {
  QuantJob *j = arg;
  double maxMag = 0;
  for (int64_t r = j->r0; r < j->r1; r++) {
    double *d = j->rowd + r * 3;
    quantize_row(j->v + r * j->dim, j->dim, j->stride, QMAX, j->codes + r * j->stride, &d[0], &d[1], &d[2], &j->rowsum[r]);
    j->rowf[r * 4] = (float)d[0];
    j->rowf[r * 4 + 1] = (float)d[1];
    j->rowf[r * 4 + 2] = (float)d[2];
    j->rowf[r * 4 + 3] = 0;
    if (d[1] + d[2] > maxMag) maxMag = d[1] + d[2];
  }
  j->maxMag = maxMag;
  return NULL;
}

/**
 * quantize(vectors, n, dim, stride, codes, rowsum, rowd, rowf, threads): fills the row arrays (rows split over
 * `threads` threads; the caller waits) and returns the max over rows of ||x~|| + ||x - x~|| (NaN rows ignored).
 */
static napi_value js_quantize(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value a[9];
  CALL(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc < 9) return throw_type(env, "duet_scan: quantize(vectors, n, dim, stride, codes, rowsum, rowd, rowf, threads)");
  int64_t n, dim, stride, threads;
  if (!int_arg(env, a[1], 0, INT32_MAX, &n, "n") || !int_arg(env, a[2], 1, 65536, &dim, "dim") || !int_arg(env, a[3], dim, 65536 + 3, &stride, "stride") ||
      !int_arg(env, a[8], 1, 1024, &threads, "threads"))
    return NULL;
  if (stride % 4) return throw_type(env, "duet_scan: stride must be a multiple of 4");
  const float *v = typed_arg(env, a[0], napi_float32_array, n * dim, "vectors");
  int8_t *codes = v ? typed_arg(env, a[4], napi_int8_array, n * stride, "codes") : NULL;
  int32_t *rowsum = codes ? typed_arg(env, a[5], napi_int32_array, n, "rowsum") : NULL;
  double *rowd = rowsum ? typed_arg(env, a[6], napi_float64_array, n * 3, "rowd") : NULL;
  float *rowf = rowd ? typed_arg(env, a[7], napi_float32_array, n * 4, "rowf") : NULL;
  if (!rowf) return NULL;
  if (threads > n / 4096 + 1) threads = n / 4096 + 1;
  QuantJob jobs[1024];
  pthread_t ids[1024];
  int ok[1024] = {0};
  for (int t = 0; t < threads; t++)
    jobs[t] = (QuantJob){v, codes, rowsum, rowd, rowf, n * t / threads, n * (t + 1) / threads, (int)dim, (int)stride, 0};
  for (int t = 1; t < threads; t++) ok[t] = pthread_create(&ids[t], NULL, quantize_rows, &jobs[t]) == 0;
  quantize_rows(&jobs[0]);
  double maxMag = jobs[0].maxMag;
  for (int t = 1; t < threads; t++) {
    if (ok[t]) pthread_join(ids[t], NULL);
    else quantize_rows(&jobs[t]); /* could not start a thread: do its rows here */
    if (jobs[t].maxMag > maxMag) maxMag = jobs[t].maxMag;
  }
  napi_value out;
  CALL(env, napi_create_double(env, maxMag, &out));
  return out;
}

static void exec_search(napi_env env, void *data) {
  (void)env;
  Search *s = data;
  s->error = run_search(s);
}

static void done_search(napi_env env, napi_status status, void *data) {
  Search *s = data;
  napi_value result = NULL, err = NULL;
  if (status != napi_ok || s->error) {
    napi_value msg;
    const char *m = status != napi_ok ? "cancelled" : s->error;
    char buf[200];
    snprintf(buf, sizeof buf, "duet_scan: search failed: %s", m);
    napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
  } else {
    const size_t len = (size_t)s->q * s->k;
    void *pi, *ps;
    napi_value abi, abs_, ti, ts, cnt;
    if (napi_create_arraybuffer(env, len * 4, &pi, &abi) == napi_ok && napi_create_arraybuffer(env, len * 4, &ps, &abs_) == napi_ok &&
        napi_create_typedarray(env, napi_int32_array, len, abi, 0, &ti) == napi_ok &&
        napi_create_typedarray(env, napi_float32_array, len, abs_, 0, &ts) == napi_ok && napi_create_object(env, &result) == napi_ok) {
      memcpy(pi, s->outIdx, len * 4);
      memcpy(ps, s->outScore, len * 4);
      napi_set_named_property(env, result, "indices", ti);
      napi_set_named_property(env, result, "scores", ts);
      napi_create_double(env, (double)atomic_load(&s->rescored), &cnt);
      napi_set_named_property(env, result, "rescored", cnt);
      napi_create_double(env, (double)atomic_load(&s->exact), &cnt);
      napi_set_named_property(env, result, "exact", cnt);
      const double ms[3] = {s->msPrepare, s->msScan, s->msRescore};
      const char *names[3] = {"msPrepare", "msScan", "msRescore"};
      for (int i = 0; i < 3; i++) {
        napi_value x;
        napi_create_double(env, ms[i], &x);
        napi_set_named_property(env, result, names[i], x);
      }
    } else {
      napi_value msg;
      napi_create_string_utf8(env, "duet_scan: could not allocate the results", NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, NULL, msg, &err);
      result = NULL;
    }
  }
  if (result) napi_resolve_deferred(env, s->deferred, result);
  else napi_reject_deferred(env, s->deferred, err);
  for (int i = 0; i < s->nrefs; i++) napi_delete_reference(env, s->refs[i]);
  napi_delete_async_work(env, s->work);
  search_free(s);
}

/**
 * search(codes, rowsum, rowd, rowf, vectors, queries, n, dim, stride, q, k, threads, isa, maxMag)
 *   -> Promise<{ indices: Int32Array, scores: Float32Array, rescored: number }>
 */
static napi_value js_search(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value a[14];
  CALL(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc < 14) return throw_type(env, "duet_scan: search(codes, rowsum, rowd, rowf, vectors, queries, n, dim, stride, q, k, threads, isa, maxMag)");
  int64_t n, dim, stride, q, k, threads, isa;
  if (!int_arg(env, a[6], 1, INT32_MAX, &n, "n") || !int_arg(env, a[7], 1, 65536, &dim, "dim") || !int_arg(env, a[8], dim, 65536 + 3, &stride, "stride") ||
      !int_arg(env, a[9], 1, 1 << 20, &q, "q") || !int_arg(env, a[10], 1, n, &k, "k") || !int_arg(env, a[11], 1, 1024, &threads, "threads") ||
      !int_arg(env, a[12], 0, ISA_COUNT - 1, &isa, "isa"))
    return NULL;
  if (stride % 4) return throw_type(env, "duet_scan: stride must be a multiple of 4");
  if (!isa_supported((int)isa)) return throw_type(env, "duet_scan: this CPU does not support the requested instruction set");
  if (q * k > INT32_MAX / 4) return throw_type(env, "duet_scan: q * k too large");
  double maxMag;
  CALL(env, napi_get_value_double(env, a[13], &maxMag));
  const int64_t mins[6] = {n * stride, n, n * 3, n * 4, n * dim, q * dim};
  const napi_typedarray_type types[6] = {napi_int8_array, napi_int32_array, napi_float64_array, napi_float32_array, napi_float32_array, napi_float32_array};
  const char *names[6] = {"codes", "rowsum", "rowd", "rowf", "vectors", "queries"};
  void *ptr[6];
  for (int i = 0; i < 6; i++)
    if (!(ptr[i] = typed_arg(env, a[i], types[i], mins[i], names[i]))) return NULL;
  Search *s = calloc(1, sizeof(Search));
  if (!s) return throw_type(env, "duet_scan: out of memory");
  s->codes = ptr[0];
  s->rowsum = ptr[1];
  s->rowd = ptr[2];
  s->rowf = ptr[3];
  s->vectors = ptr[4];
  s->queries = ptr[5];
  s->n = n;
  s->dim = (int)dim;
  s->stride = (int)stride;
  s->q = (int)q;
  s->k = (int)k;
  s->threads = (int)threads;
  s->isa = (int)isa;
  s->maxMag = maxMag;
  for (int i = 0; i < 6; i++) {
    if (napi_create_reference(env, a[i], 1, &s->refs[i]) != napi_ok) {
      for (int j = 0; j < i; j++) napi_delete_reference(env, s->refs[j]);
      free(s);
      napi_throw_error(env, NULL, "duet_scan: napi_create_reference failed");
      return NULL;
    }
    s->nrefs = i + 1;
  }
  napi_value promise, name;
  CALL(env, napi_create_promise(env, &s->deferred, &promise));
  CALL(env, napi_create_string_utf8(env, "duet_scan.search", NAPI_AUTO_LENGTH, &name));
  CALL(env, napi_create_async_work(env, NULL, name, exec_search, done_search, s, &s->work));
  CALL(env, napi_queue_async_work(env, s->work));
  return promise;
}

/** isas(): the instruction sets this CPU supports, best last (indices are the `isa` argument of search). */
static napi_value js_isas(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value arr;
  CALL(env, napi_create_array(env, &arr));
  uint32_t j = 0;
  for (int i = 0; i < ISA_COUNT; i++)
    if (isa_supported(i)) {
      napi_value sv;
      CALL(env, napi_create_string_utf8(env, ISA_NAMES[i], NAPI_AUTO_LENGTH, &sv));
      CALL(env, napi_set_element(env, arr, j++, sv));
    }
  return arr;
}

static napi_value init(napi_env env, napi_value exports) {
  (void)best_isa;
  napi_property_descriptor props[] = {
      {"quantize", NULL, js_quantize, NULL, NULL, NULL, napi_enumerable, NULL},
      {"search", NULL, js_search, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isas", NULL, js_isas, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
