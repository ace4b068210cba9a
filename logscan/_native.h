/* logscan._native's shared declarations: the compiled literals, their hits, the two types.
 * The literals: _native_literals.c; the quick lane (Block): _native_lane.c, with the stamps
 * it reads (_native_stamps.c) and the records it makes (_native_records.c); the request
 * lines' matchers: _native_access.c; a run of requests as the lane hands them on:
 * _native_requests.c; the requests' weighing: _native_weigh.c, with the windows it holds
 * (_native_held.c); a rejection's counting: _native_reject.c; the module: _native.c. Where a
 * literal can start, 32 places at a time: _native_vector.c.
 */
#ifndef LOGSCAN_NATIVE_H
#define LOGSCAN_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    Py_ssize_t other;
    Py_ssize_t size;
} Overlap;

/* How many of a literal's first characters the vector scan looks at (_native_vector.c). */
#define VECTOR_PLACES 3

/* Strings made again and again (a pod's key and name, a status, a path): the last one of
 * each slot is kept and given out again while the text is the same (see cached_substring). */
#define STRING_SLOTS 64
typedef struct {
    PyObject *slot[STRING_SLOTS];
    PyObject *values[STRING_SLOTS]; /* a request's (method, path, status) tuple, by content */
} Strings;

typedef struct {
    PyObject_HEAD
    PyObject *literals;        /* tuple of str, alternation order */
    Py_ssize_t count;
    const Py_UCS1 **text;      /* each literal's characters (borrowed from `literals`) */
    Py_ssize_t *length;
    Py_ssize_t *by_first;      /* literal indices grouped by first character, in order */
    Py_ssize_t first_at[257];  /* by_first[first_at[c] : first_at[c + 1]] start with c */
    unsigned char pair[8192];  /* bit (c0 << 8 | c1): a literal of 2+ starts with c0 c1 */
    unsigned char single[256]; /* a literal is this one character */
    Py_ssize_t shortest;       /* the shortest literal's length */
    unsigned char *skip;       /* NULL, or by two characters c0 c1: see scan_into */
    unsigned char vector;      /* scan_into asks vector_next where a literal can start */
    unsigned char fingerprint[2 * VECTOR_PLACES][16]; /* see _native_vector.c */
    Overlap *overlaps;         /* each literal's, in order */
    Py_ssize_t *overlap_at;    /* overlaps[overlap_at[i] : overlap_at[i + 1]] are literal i's */
    Py_ssize_t *rank;          /* each literal's place in str order (how Python sorts hits) */
    PyObject *sets;            /* dict: bit mask of literal indices -> frozenset of literals */
    Strings strings;           /* for the blocks' records (zeroed by tp_alloc) */
} Literals;

/* One literal found: where it starts in the scanned text, and which. */
typedef struct {
    Py_ssize_t start;
    Py_ssize_t literal;
} Hit;

typedef struct {
    Hit *items;
    Py_ssize_t size, capacity;
} Hits;

extern PyTypeObject LiteralsType;
extern PyTypeObject BlockType;
extern PyTypeObject RequestsType;

/* _native.c */
int interned(PyObject **const names[], const char *const texts[], size_t n);
int long_attr(PyObject *object, PyObject *name, long long *value);
int set_long(PyObject *object, PyObject *name, long long value);
int list_add(PyObject *list, Py_ssize_t index, long long by);

/* _native_literals.c */
int scan_into(Literals *self, const Py_UCS1 *s, Py_ssize_t n, Hits *hits);
void *grow(void *items, Py_ssize_t *capacity, size_t size, Py_ssize_t first);
PyObject *hit_tuple(Literals *self, Py_ssize_t start, Py_ssize_t literal);
PyObject *longest_line(PyObject *module, PyObject *data);

/* _native_vector.c */
int vector_table(Literals *self, int wanted);
int vector_next(const Literals *self, const Py_UCS1 *s, Py_ssize_t n, Py_ssize_t *at);

/* _native_access.c: the request lines' shapes (access.py's Access.native) */
#define SHAPE_HTTP 0  /* http.access; its table: the characters \b holds before */
#define SHAPE_BENTO 1 /* bentoml.access; its table: \w's characters */
#define MAX_SHAPES 4

typedef struct {
    PyObject *literal; /* borrowed: the record's only literal */
    int shape;
    const unsigned char *table; /* 256 bytes */
} Shape;

typedef struct {
    Shape items[MAX_SHAPES];
    int size;
} Shapes;

int shapes_of(PyObject *access, Shapes *shapes);
PyObject *request_values(const Shape *shape, PyObject *text, Py_ssize_t start, Py_ssize_t end,
                         Strings *strings);
PyObject *match_access(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* _native_weigh.c */
PyObject *weigh(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
int weigh_ready(void);
int only_touches(PyObject *entry, PyObject *incident, long long count, double rejected,
                 double requests);
int touch(PyObject *incident, double ts);

/* _native_held.c: a ratio window as weigh holds it */
#define MAX_HELD 16 /* windows held at once; a request that needs more: all are written back */
/* A ratio window as weigh holds it within one call: its slots read once, the requests it
 * added to the newest bucket and to the denominator written back by held_write. */
typedef struct {
    PyObject *window;  /* borrowed: the lanes hold it */
    PyObject *buckets; /* the deque */
    PyObject *last;    /* its newest bucket, or NULL when it has none */
    Py_ssize_t size;
    long long oldest, newest, rejected, denominator, selectors;
    long long added; /* requests added to `last`, not yet written */
    int changed;     /* the denominator is not yet written */
} Held;

typedef struct {
    Held items[MAX_HELD];
    int size;
} Holding;

int held_ready(void);
int holding_release(Holding *holding);
Held *held_of(Holding *holding, PyObject *window);
int held_prune(Held *held, double horizon);
int add_one(Held *held, long long second);
PyObject *new_bucket(PyObject *buckets, long long second, long long selectors);

/* _native_reject.c */
PyObject *reject(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
int rejected(PyObject *lane, PyObject *match, double ts, PyObject *now, Py_ssize_t cap);
PyObject *new_match(PyTypeObject *type, PyObject *signature, PyObject *signal, PyObject *fields,
                    PyObject *line);
int reject_ready(void);

#define MAX_GROUPS 256 /* framing.py's _MAX_GROUPS */

typedef struct {
    PyObject_HEAD
    Literals *literals;
    PyObject *text;
    Hits hits;        /* sorted by (start, rank), as Python sorts (start, literal) */
    Py_ssize_t at;    /* where the next line starts */
    Py_ssize_t next;  /* the first hit not before it */
} Block;

/* What stamp_time knows of the seconds it has seen (_native_stamps.c). */
typedef struct {
    PyObject *seconds; /* TimestampParser's dict: "YYYY-MM-DDTHH:MM:SS" -> (utc, local) */
    PyObject *parse;   /* TimestampParser.parse_rfc3339 */
    Py_UCS1 key[19];
    double utc;
    int known;
} Stamps;

/* A record the quick lane holds while it runs, not yet made a held tuple: its key and group,
 * where its message is in the block, its hits, its number and time. Block.run keeps these in
 * the order they were last held, and puts those still held into `pending` (as held tuples,
 * in that order: as Framer._quick leaves the dict) before it returns. */
typedef struct {
    PyObject *key, *group;
    Py_ssize_t start, end, from, to;
    long long number;
    double ts;
} Kept;

typedef struct {
    Kept items[MAX_GROUPS];
    Py_ssize_t size;
} Keeping;

/* _native_stamps.c */
int stamp_time(Stamps *stamps, PyObject *text, Py_ssize_t at, Py_ssize_t n, double *ts);

/* _native_records.c */
PyObject *new_record(PyTypeObject *type, PyObject *source, PyObject *held,
                     const Shapes *shapes, Strings *strings);
PyObject *filled(PyTypeObject *type, PyObject *const *names, PyObject *const *values, int n);
PyObject *request_line(PyTypeObject *type, PyObject *source, long long number, PyObject *text,
                       double ts, PyObject *group, PyObject *literals);
Py_ssize_t kept_find(Keeping *keeping, PyObject *key);
void kept_remove(Keeping *keeping, Py_ssize_t k);
void kept_clear(Keeping *keeping);
PyObject *kept_tuple(Block *self, const Kept *kept, PyObject *empty);
int kept_request(Block *self, const Kept *kept, const Shapes *shapes, PyObject *source,
                 PyObject *out);

/* _native_requests.c: a run of requests, as Block.run hands them on */
typedef struct {
    long long number;
    double ts;
    Py_ssize_t start, end; /* the message, in the run's text */
    PyObject *group, *values;
    int kind;
} Item;

typedef struct {
    PyObject_HEAD
    PyObject *source, *text;
    Item *items;
    Py_ssize_t size, capacity;
} Requests;

Requests *requests_open(PyObject *out, PyObject *source, PyObject *text);
int requests_add(Requests *run, const Item *item);
int kept_store(Block *self, Keeping *keeping, PyObject *pending, PyObject *empty);
int records_ready(void);

/* _native_lane.c */
PyObject *literal_set(Literals *self, const Hit *hits, Py_ssize_t from, Py_ssize_t to,
                      PyObject *empty);
PyObject *cached_substring(Strings *strings, PyObject *text, Py_ssize_t start, Py_ssize_t end);
void strings_clear(Strings *strings);
PyObject *Literals_block(Literals *self, PyObject *text);
int lane_ready(void);

#endif
