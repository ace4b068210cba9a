/* logscan._native, the vector scan: where a literal can start, 32 places at a time.
 *
 * scan_into (_native_literals.c) moves over text where no literal can start. By the skip
 * table it looks at one place in four, but each look waits for the last (the table says how
 * far the next one is), so it runs at the memory's latency. With AVX2 this file tells it, for
 * 32 places at once and with no such wait, which of them can start a literal: the first three
 * characters of each literal leave a fingerprint (a method known as Teddy, from Hyperscan).
 *
 * The literals go into 8 buckets (sorted by their first characters, so those that look alike
 * share one). For each of a literal's first three places k and each half of its character
 * there, a table of 16 says which buckets have that half there: lo[k][c & 15] and
 * hi[k][c >> 4]. A place can start a literal of bucket b only if bit b is set in all six
 * lookups of the characters there and in the next two; _mm256_shuffle_epi8 does 32 lookups in
 * one instruction. A place so marked is only a candidate: scan_into checks it as before. A
 * place not marked starts no literal, so nothing is missed (tests/test_native.py compares
 * the scan with `re`, with and without this).
 *
 * Built only for x86-64 with GCC or clang, and used only where the CPU has AVX2; elsewhere
 * the skip table does it all.
 */
#include "_native.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_VECTOR 1
#else
#define HAVE_VECTOR 0
#endif

/* The literals' order for the buckets: by their first three characters. */
static const Literals *sorting;

static int
by_fingerprint(const void *a, const void *b)
{
    const Py_UCS1 *x = sorting->text[*(const Py_ssize_t *)a];
    const Py_UCS1 *y = sorting->text[*(const Py_ssize_t *)b];
    return memcmp(x, y, VECTOR_PLACES);
}

/* Fills self->fingerprint and sets self->vector when `wanted`, the CPU has AVX2 and every
 * literal has VECTOR_PLACES characters or more; -1 with an error set when out of memory. */
int
vector_table(Literals *self, int wanted)
{
    self->vector = 0;
    memset(self->fingerprint, 0, sizeof self->fingerprint);
#if HAVE_VECTOR
    if (!wanted || self->count == 0 || self->shortest < VECTOR_PLACES
        || !__builtin_cpu_supports("avx2"))
        return 0;
    Py_ssize_t *order = PyMem_Malloc((size_t)self->count * sizeof *order);
    if (order == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < self->count; i++)
        order[i] = i;
    sorting = self; /* under the GIL */
    qsort(order, (size_t)self->count, sizeof *order, by_fingerprint);
    Py_ssize_t per_bucket = (self->count + 7) / 8;
    for (Py_ssize_t at = 0; at < self->count; at++) {
        unsigned char bucket = (unsigned char)(1u << (at / per_bucket));
        const Py_UCS1 *text = self->text[order[at]];
        for (int k = 0; k < VECTOR_PLACES; k++) {
            self->fingerprint[2 * k][text[k] & 15] |= bucket;
            self->fingerprint[2 * k + 1][text[k] >> 4] |= bucket;
        }
    }
    PyMem_Free(order);
    self->vector = 1;
#else
    (void)wanted;
#endif
    return 0;
}

#if HAVE_VECTOR
/* The bit mask of the places s[0..31] that can start a literal (reads s[0..33]). */
__attribute__((target("avx2"))) static inline unsigned
candidates(const unsigned char (*fingerprint)[16], const Py_UCS1 *s)
{
    const __m256i halves = _mm256_set1_epi8(15);
    __m256i all = _mm256_set1_epi8(-1);
    for (int k = 0; k < VECTOR_PLACES; k++) {
        __m256i chars = _mm256_loadu_si256((const __m256i *)(s + k));
        __m256i lo = _mm256_broadcastsi128_si256(
            _mm_loadu_si128((const __m128i *)fingerprint[2 * k]));
        __m256i hi = _mm256_broadcastsi128_si256(
            _mm_loadu_si128((const __m128i *)fingerprint[2 * k + 1]));
        __m256i low_half = _mm256_and_si256(chars, halves);
        __m256i high_half = _mm256_and_si256(_mm256_srli_epi16(chars, 4), halves);
        all = _mm256_and_si256(all, _mm256_and_si256(_mm256_shuffle_epi8(lo, low_half),
                                                     _mm256_shuffle_epi8(hi, high_half)));
    }
    __m256i none = _mm256_cmpeq_epi8(all, _mm256_setzero_si256());
    return ~(unsigned)_mm256_movemask_epi8(none);
}

__attribute__((target("avx2"))) int
vector_next(const Literals *self, const Py_UCS1 *s, Py_ssize_t n, Py_ssize_t *at)
{
    Py_ssize_t p = *at;
    while (p <= n - (32 + VECTOR_PLACES - 1)) {
        unsigned found = candidates(self->fingerprint, s + p);
        if (found) {
            *at = p + __builtin_ctz(found);
            return 1;
        }
        p += 32;
    }
    *at = p;
    return 0;
}
#else
int
vector_next(const Literals *self, const Py_UCS1 *s, Py_ssize_t n, Py_ssize_t *at)
{
    (void)self, (void)s, (void)n, (void)at;
    return 0;
}
#endif
