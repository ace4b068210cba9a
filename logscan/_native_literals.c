/* logscan._native, the literals: the literal scan of prefilter.py in C.
 *
 * Optional: setup.py builds it when a C compiler is there, and logscan runs the same scan with
 * `re` when it is not (prefilter.py). Both must give the same hits; tests/test_native.py checks.
 *
 * Literals(literals, overlaps) takes the literals in alternation order (longest first, then by
 * text) and, for each, the (index of other literal, overlap size) pairs that prefilter.py works
 * out. Literals.scan(text) returns what Prefilter.scan returns: a list of (start, literal) for
 * the leftmost-first, non-overlapping matches of the alternation, each followed by the literals
 * that start inside it and run past its end. It scans text whose characters are all below 256
 * (CPython's 1-byte strings: ASCII and Latin-1); for other text it returns None and the caller
 * uses `re`. When every literal has 3 or more characters, the scan moves over text where none
 * can start by the vector scan (_native_vector.c: 32 places at a time, where the CPU has AVX2)
 * and then by a skip table (Wu-Manber's, see skip_table: over the 1 M-line bench corpus it
 * looks at about one place in four). `Literals(..., vector=False)` leaves the skip table alone.
 */
#include "_native.h"
#include <structmember.h>

static int skip_table(Literals *self);

static void
Literals_free_arrays(Literals *self)
{
    PyMem_Free(self->text);
    PyMem_Free(self->length);
    PyMem_Free(self->by_first);
    PyMem_Free(self->overlaps);
    PyMem_Free(self->overlap_at);
    PyMem_Free(self->rank);
    PyMem_Free(self->skip);
    self->rank = NULL;
    self->skip = NULL;
    self->text = NULL;
    self->length = NULL;
    self->by_first = NULL;
    self->overlaps = NULL;
    self->overlap_at = NULL;
}

static void
Literals_dealloc(Literals *self)
{
    Literals_free_arrays(self);
    Py_XDECREF(self->literals);
    Py_XDECREF(self->sets);
    strings_clear(&self->strings);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
Literals_init(Literals *self, PyObject *args, PyObject *kwds)
{
    static char *keywords[] = {"literals", "overlaps", "vector", NULL};
    PyObject *literals, *overlaps;
    int vector = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!|p", keywords, &PyTuple_Type, &literals,
                                     &PyTuple_Type, &overlaps, &vector))
        return -1;
    Py_ssize_t count = PyTuple_GET_SIZE(literals);
    if (PyTuple_GET_SIZE(overlaps) != count) {
        PyErr_SetString(PyExc_ValueError, "one tuple of overlaps is needed per literal");
        return -1;
    }
    Literals_free_arrays(self);
    Py_XSETREF(self->literals, Py_NewRef(literals));
    self->count = count;
    memset(self->pair, 0, sizeof self->pair);
    memset(self->single, 0, sizeof self->single);
    memset(self->first_at, 0, sizeof self->first_at);
    self->text = PyMem_Calloc(count ? count : 1, sizeof *self->text);
    self->length = PyMem_Calloc(count ? count : 1, sizeof *self->length);
    self->by_first = PyMem_Calloc(count ? count : 1, sizeof *self->by_first);
    self->overlap_at = PyMem_Calloc(count + 1, sizeof *self->overlap_at);
    self->rank = PyMem_Calloc(count ? count : 1, sizeof *self->rank);
    Py_XSETREF(self->sets, PyDict_New());
    if (self->sets == NULL)
        return -1;
    if (!self->text || !self->length || !self->by_first || !self->overlap_at || !self->rank) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *literal = PyTuple_GET_ITEM(literals, i);
        if (!PyUnicode_Check(literal) || PyUnicode_GET_LENGTH(literal) == 0) {
            PyErr_SetString(PyExc_ValueError, "a literal is a non-empty str");
            return -1;
        }
        if (PyUnicode_KIND(literal) != PyUnicode_1BYTE_KIND) {
            PyErr_SetString(PyExc_ValueError, "a literal has a character above U+00FF");
            return -1;
        }
        self->text[i] = PyUnicode_1BYTE_DATA(literal);
        self->length[i] = PyUnicode_GET_LENGTH(literal);
        Py_UCS1 c0 = self->text[i][0];
        self->first_at[c0 + 1]++;
        if (self->length[i] == 1)
            self->single[c0] = 1;
        else {
            unsigned pair = (unsigned)c0 << 8 | self->text[i][1];
            self->pair[pair >> 3] |= (unsigned char)(1u << (pair & 7));
        }
        PyObject *own = PyTuple_GET_ITEM(overlaps, i);
        if (!PyTuple_Check(own)) {
            PyErr_SetString(PyExc_TypeError, "overlaps: a tuple per literal");
            return -1;
        }
        total += PyTuple_GET_SIZE(own);
    }
    for (int c = 0; c < 256; c++)
        self->first_at[c + 1] += self->first_at[c];
    Py_ssize_t filled[256];
    for (int c = 0; c < 256; c++)
        filled[c] = self->first_at[c];
    for (Py_ssize_t i = 0; i < count; i++) /* stable: alternation order within each group */
        self->by_first[filled[self->text[i][0]]++] = i;

    self->overlaps = PyMem_Calloc(total ? total : 1, sizeof *self->overlaps);
    if (!self->overlaps) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *own = PyTuple_GET_ITEM(overlaps, i);
        self->overlap_at[i] = at;
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(own); k++) {
            Py_ssize_t other, size;
            if (!PyArg_ParseTuple(PyTuple_GET_ITEM(own, k), "nn", &other, &size))
                return -1;
            if (other < 0 || other >= count || size < 1 || size >= self->length[i]) {
                PyErr_SetString(PyExc_ValueError, "overlaps: index or size out of range");
                return -1;
            }
            self->overlaps[at].other = other;
            self->overlaps[at].size = size;
            at++;
        }
    }
    self->overlap_at[count] = at;
    if (skip_table(self) < 0 || vector_table(self, vector) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t below = 0;
        for (Py_ssize_t j = 0; j < count; j++) {
            int order = PyUnicode_Compare(PyTuple_GET_ITEM(literals, j),
                                          PyTuple_GET_ITEM(literals, i));
            below += order < 0;
        }
        self->rank[i] = below;
    }
    return 0;
}

/* The skip table (Wu-Manber's, with blocks of two characters), when the shortest literal has
 * 3 or more: for the two characters c0 c1 that end a window of `shortest` characters, how far
 * the window can move before a literal could start in it. A literal starting j characters
 * into the window has c0 c1 at its places shortest - 2 - j and shortest - 1 - j, so the
 * window can move by the least (shortest - 1 - q) over the places q (1 <= q < shortest) where
 * a literal has c0 c1 at q - 1 and q, and by shortest - 1 where none has. */
static int
skip_table(Literals *self)
{
    Py_ssize_t shortest = PY_SSIZE_T_MAX;
    for (Py_ssize_t i = 0; i < self->count; i++)
        shortest = self->length[i] < shortest ? self->length[i] : shortest;
    self->shortest = self->count ? shortest : 0;
    if (self->count == 0 || shortest < 3)
        return 0;
    self->skip = PyMem_Malloc(1 << 16);
    if (self->skip == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    unsigned char most = (unsigned char)(shortest - 1 < 255 ? shortest - 1 : 255);
    memset(self->skip, most, 1 << 16);
    for (Py_ssize_t i = 0; i < self->count; i++)
        for (Py_ssize_t q = 1; q < shortest; q++) {
            unsigned pair = (unsigned)self->text[i][q - 1] << 8 | self->text[i][q];
            Py_ssize_t move = shortest - 1 - q;
            if (move < self->skip[pair])
                self->skip[pair] = (unsigned char)move;
        }
    return 0;
}

/* A growable array's items moved to room for twice *capacity (or `first`) items of `size`
 * bytes, and *capacity set to that; NULL with an error set when there is no memory (the
 * array is left as it was). */
void *
grow(void *items, Py_ssize_t *capacity, size_t size, Py_ssize_t first)
{
    Py_ssize_t more = *capacity ? 2 * *capacity : first;
    void *grown = PyMem_Realloc(items, (size_t)more * size);
    if (grown == NULL)
        return PyErr_NoMemory();
    *capacity = more;
    return grown;
}

static int
hits_push(Hits *hits, Py_ssize_t start, Py_ssize_t literal)
{
    if (hits->size == hits->capacity) {
        Hit *items = grow(hits->items, &hits->capacity, sizeof *items, 256);
        if (items == NULL)
            return -1;
        hits->items = items;
    }
    hits->items[hits->size].start = start;
    hits->items[hits->size].literal = literal;
    hits->size++;
    return 0;
}

/* The scan itself: each leftmost-first match, then the literals that start inside it and run
 * past its end (in the order of the overlap table). */
int
scan_into(Literals *self, const Py_UCS1 *s, Py_ssize_t n, Hits *hits)
{
    Py_ssize_t p = 0;
    const unsigned char *skip = self->skip;
    Py_ssize_t shortest = self->shortest;
    int vector = self->vector;
    while (p < n) {
        if (skip != NULL) { /* move the window of `shortest` characters on while it can */
            if (p > n - shortest)
                break; /* no literal fits */
            if (vector) {
                if (vector_next(self, s, n, &p))
                    goto candidate;
                if (p > n - shortest) /* it stopped where fewer than 34 characters are left */
                    break;
            }
            unsigned char move;
            while ((move = skip[(unsigned)s[p + shortest - 2] << 8 | s[p + shortest - 1]]) != 0) {
                p += move;
                if (p > n - shortest)
                    return 0;
            }
        }
    candidate:;
        Py_UCS1 c0 = s[p];
        Py_ssize_t from = self->first_at[c0], to = self->first_at[c0 + 1];
        if (from == to) {
            p++;
            continue;
        }
        if (!self->single[c0]) {
            if (p + 1 >= n) {
                p++;
                continue;
            }
            unsigned pair = (unsigned)c0 << 8 | s[p + 1];
            if (!(self->pair[pair >> 3] & (1u << (pair & 7)))) {
                p++;
                continue;
            }
        }
        Py_ssize_t found = -1;
        for (Py_ssize_t k = from; k < to; k++) {
            Py_ssize_t i = self->by_first[k];
            Py_ssize_t length = self->length[i];
            if (length <= n - p && memcmp(s + p, self->text[i], (size_t)length) == 0) {
                found = i;
                break;
            }
        }
        if (found < 0) {
            p++;
            continue;
        }
        if (hits_push(hits, p, found) < 0)
            return -1;
        Py_ssize_t end = p + self->length[found];
        for (Py_ssize_t k = self->overlap_at[found]; k < self->overlap_at[found + 1]; k++) {
            Py_ssize_t other = self->overlaps[k].other;
            Py_ssize_t start = end - self->overlaps[k].size;
            Py_ssize_t length = self->length[other];
            if (length <= n - start && memcmp(s + start, self->text[other], (size_t)length) == 0
                && hits_push(hits, start, other) < 0)
                return -1;
        }
        p = end;
    }
    return 0;
}

PyObject *
hit_tuple(Literals *self, Py_ssize_t start, Py_ssize_t literal)
{
    PyObject *position = PyLong_FromSsize_t(start);
    if (position == NULL)
        return NULL;
    PyObject *hit = PyTuple_Pack(2, position, PyTuple_GET_ITEM(self->literals, literal));
    Py_DECREF(position);
    return hit;
}

static PyObject *
Literals_scan(Literals *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "scan() takes a str");
        return NULL;
    }
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND)
        Py_RETURN_NONE;
    Hits hits = {NULL, 0, 0};
    if (scan_into(self, PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text), &hits) < 0) {
        PyMem_Free(hits.items);
        return NULL;
    }
    PyObject *list = PyList_New(hits.size);
    for (Py_ssize_t k = 0; list != NULL && k < hits.size; k++) {
        PyObject *hit = hit_tuple(self, hits.items[k].start, hits.items[k].literal);
        if (hit == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, k, hit);
    }
    PyMem_Free(hits.items);
    return list;
}

static PyMemberDef Literals_members[] = {
    {"vector", T_BOOL, offsetof(Literals, vector), READONLY,
     "whether the scan finds where a literal can start 32 places at a time (AVX2)"},
    {NULL, 0, 0, 0, NULL},
};

static PyMethodDef Literals_methods[] = {
    {"scan", (PyCFunction)Literals_scan, METH_O,
     "scan(text) -> list of (start, literal), or None when text has a character above U+00FF"},
    {"block", (PyCFunction)Literals_block, METH_O,
     "block(text) -> Block for the whole lines of text, or None when it is not 1-byte"},
    {NULL, NULL, 0, NULL},
};

PyTypeObject LiteralsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "logscan._native.Literals",
    .tp_doc = PyDoc_STR("The pack literals, compiled for Prefilter.scan's leftmost-first scan."),
    .tp_basicsize = sizeof(Literals),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Literals_init,
    .tp_dealloc = (destructor)Literals_dealloc,
    .tp_methods = Literals_methods,
    .tp_members = Literals_members,
};

/* longest_line(data): the length of the longest line of `data` ("\n" not counted), as
 * max(map(len, data.split(b"\n"))) gives it, without making the lines. */
PyObject *
longest_line(PyObject *module, PyObject *data)
{
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const char *s = view.buf, *end = s + view.len;
    Py_ssize_t longest = 0;
    while (1) {
        const char *newline = memchr(s, '\n', (size_t)(end - s));
        Py_ssize_t length = (newline ? newline : end) - s;
        longest = length > longest ? length : longest;
        if (newline == NULL)
            break;
        s = newline + 1;
    }
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(longest);
}
