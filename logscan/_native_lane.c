#include "_native.h"

/* ---- Block: framing.py's quick lane over one block of lines ------------------------------
 *
 * Literals.block(text) scans a block of whole lines ("\n"-terminated, as Framer._lines has
 * it) and returns a Block, or None when the text is not 1-byte. Block.run(...) then frames
 * the block's lines in order, doing for each what Framer._quick does for the usual kubectl
 * line, and stops at the first line it does not take: it returns that line and its hits for
 * Python to frame (Framer._quick, else Framer._physical), and the caller runs the block on.
 * It declines whenever Framer._quick might not take the line or might do something else, so
 * the result is the same as Python's (tests/test_framing_lanes.py compares). While it runs,
 * the records it holds are kept as offsets into the block (Kept), and only those still held
 * when it returns become held tuples in `pending`. Given access.py's `access`, a record it
 * releases that a request signature's regex matches goes out as a request instead of its
 * Line: into the run of requests at the end of `out` when the lane kept it (kept_request,
 * _native_requests.c), else as a request tuple (new_record); tests/test_access.py compares.
 */

static void
Block_dealloc(Block *self)
{
    Py_XDECREF(self->literals);
    Py_XDECREF(self->text);
    PyMem_Free(self->hits.items);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyObject *
Literals_block(Literals *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "block() takes a str");
        return NULL;
    }
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND)
        Py_RETURN_NONE;
    Block *block = PyObject_New(Block, &BlockType);
    if (block == NULL)
        return NULL;
    block->literals = (Literals *)Py_NewRef(self);
    block->text = Py_NewRef(text);
    block->hits.items = NULL;
    block->hits.size = block->hits.capacity = 0;
    block->at = block->next = 0;
    if (scan_into(self, PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text), &block->hits)) {
        Py_DECREF(block);
        return NULL;
    }
    /* Only the hits found inside a match can be out of order: insertion sort. */
    Hit *items = block->hits.items;
    for (Py_ssize_t k = 1; k < block->hits.size; k++) {
        Hit hit = items[k];
        Py_ssize_t j = k;
        while (j > 0 && (items[j - 1].start > hit.start
                         || (items[j - 1].start == hit.start
                             && self->rank[items[j - 1].literal] > self->rank[hit.literal]))) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = hit;
    }
    return (PyObject *)block;
}

/* text[start:end] (1-byte text), as PyUnicode_Substring makes it; the same str object while
 * its slot (by length and two characters) last held the same characters. */
PyObject *
cached_substring(Strings *strings, PyObject *text, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t n = end - start;
    if (n <= 0)
        return PyUnicode_Substring(text, start, end);
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(text) + start;
    size_t slot = ((size_t)n * 31u + s[n - 1] * 7u + s[n / 2]) % STRING_SLOTS;
    PyObject *known = strings->slot[slot];
    if (known != NULL && PyUnicode_GET_LENGTH(known) == n
        && memcmp(PyUnicode_1BYTE_DATA(known), s, (size_t)n) == 0)
        return Py_NewRef(known);
    PyObject *made = PyUnicode_Substring(text, start, end);
    if (made != NULL)
        Py_XSETREF(strings->slot[slot], Py_NewRef(made));
    return made;
}

void
strings_clear(Strings *strings)
{
    for (int k = 0; k < STRING_SLOTS; k++) {
        Py_CLEAR(strings->slot[k]);
        Py_CLEAR(strings->values[k]);
    }
}

/* The frozenset of the literals of hits[from:to] (framing.py's _literals). */
PyObject *
literal_set(Literals *self, const Hit *hits, Py_ssize_t from, Py_ssize_t to, PyObject *empty)
{
    if (from == to)
        return Py_NewRef(empty);
    unsigned long long mask = 0;
    int cached = self->count <= 64;
    if (cached) {
        for (Py_ssize_t k = from; k < to; k++)
            mask |= 1ULL << hits[k].literal;
    }
    PyObject *key = NULL;
    if (cached) {
        key = PyLong_FromUnsignedLongLong(mask);
        if (key == NULL)
            return NULL;
        PyObject *known = PyDict_GetItemWithError(self->sets, key);
        if (known != NULL) {
            Py_DECREF(key);
            return Py_NewRef(known);
        }
        if (PyErr_Occurred()) {
            Py_DECREF(key);
            return NULL;
        }
    }
    PyObject *members = PyList_New(0);
    PyObject *set = NULL;
    if (members == NULL)
        goto done;
    for (Py_ssize_t k = from; k < to; k++)
        if (PyList_Append(members, PyTuple_GET_ITEM(self->literals, hits[k].literal)) < 0)
            goto done;
    set = PyFrozenSet_New(members);
    if (set != NULL && cached && PyDict_GET_SIZE(self->sets) < 4096
        && PyDict_SetItem(self->sets, key, set) < 0)
        Py_CLEAR(set);
done:
    Py_XDECREF(members);
    Py_XDECREF(key);
    return set;
}

/* The hits of the line text[start:end] as Python's list of (start - line start, literal). */
static PyObject *
line_hits(Literals *self, const Hit *hits, Py_ssize_t from, Py_ssize_t to, Py_ssize_t start)
{
    PyObject *list = PyList_New(to - from);
    for (Py_ssize_t k = from; list != NULL && k < to; k++) {
        PyObject *hit = hit_tuple(self, hits[k].start - start, hits[k].literal);
        if (hit == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, k - from, hit);
    }
    return list;
}

static PyObject *
Block_run(Block *self, PyObject *const *args, Py_ssize_t nargs)
{
    /* pending, partials, number, last_ts, tally, seconds, parse, Line, source, out, group,
     * empty, access */
    if (nargs != 13) {
        PyErr_SetString(PyExc_TypeError, "run() takes 13 arguments");
        return NULL;
    }
    /* access: None, or the request shapes: a record whose only literal is a shape's and
     * whose text its regex matches goes out as a request (see kept_request, new_record). */
    Shapes shapes;
    if (shapes_of(args[12], &shapes) < 0)
        return NULL;
    PyObject *pending = args[0], *partials = args[1];
    long long number = PyLong_AsLongLong(args[2]);
    if (number == -1 && PyErr_Occurred())
        return NULL;
    PyObject *last_ts = Py_NewRef(args[3]);
    int tally = PyObject_IsTrue(args[4]);
    Stamps stamps = {args[5], args[6], {0}, 0.0, 0};
    PyObject *line_type = args[7], *source = args[8], *out = args[9], *group = args[10];
    PyObject *empty = args[11];
    if (!PyDict_Check(pending) || !PyDict_Check(partials) || !PyDict_Check(stamps.seconds)
        || !PyType_Check(line_type) || !PyList_Check(out)) {
        Py_DECREF(last_ts);
        PyErr_SetString(PyExc_TypeError, "run(): pending, partials, seconds, Line or out");
        return NULL;
    }
    Literals *literals = self->literals;
    PyObject *text = self->text;
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const Hit *hits = self->hits.items;
    Py_ssize_t nhits = self->hits.size;
    long long counted = 0;
    double earliest = Py_HUGE_VAL, latest = -Py_HUGE_VAL;
    double stamp_last = 0.0;
    int stamped = 0;
    PyObject *declined = NULL;
    PyObject *key = NULL;
    Keeping keeping;
    keeping.size = 0;

    while (self->at < n) {
        Py_ssize_t start = self->at;
        const Py_UCS1 *line = s + start;
        const Py_UCS1 *newline = memchr(line, '\n', (size_t)(n - start));
        Py_ssize_t length = newline ? newline - line : n - start;
        Py_ssize_t from = self->next, to = from;
        while (to < nhits && hits[to].start < start + length)
            to++;
        self->at = start + length + 1;
        self->next = to;

        /* Framer._quick's checks, in its order; any doubt declines the line. */
        const Py_UCS1 *close = length >= 5 && memcmp(line, "[pod/", 5) == 0
                                   ? memchr(line, ']', (size_t)length) : NULL;
        Py_ssize_t c = close ? close - line : -1;
        const Py_UCS1 *space = NULL;
        if (c >= 0 && c + 2 <= length && line[c + 1] == ' ')
            space = memchr(line + c + 2, ' ', (size_t)(length - c - 2));
        Py_ssize_t sp = space ? space - line : -1;
        int quick = sp >= 0 && sp + 1 < length && line[length - 1] != ':' && sp > c + 2
                    && line[sp - 1] == 'Z' && PyDict_GET_SIZE(partials) == 0;
        PyObject *held = NULL;
        Py_ssize_t kept = -1;
        if (quick) {
            key = cached_substring(&literals->strings, text, start, start + c + 1);
            if (key == NULL)
                goto error;
            Py_UCS1 head = line[sp + 1];
            int continues = head == ' ' || head == '\t' || head == 'T';
            kept = kept_find(&keeping, key);
            if (kept >= 0)
                quick = !continues;
            else {
                held = Py_XNewRef(PyDict_GetItemWithError(pending, key));
                if (held == NULL && PyErr_Occurred())
                    goto error;
                if (held == NULL)
                    quick = PyDict_GET_SIZE(pending) + keeping.size < MAX_GROUPS;
                else
                    quick = !continues && PyTuple_CheckExact(held) && PyTuple_GET_SIZE(held) == 5;
            }
        }
        double ts = 0.0;
        if (quick) {
            int timed = stamp_time(&stamps, text, start + c + 2, sp - c - 2, &ts);
            if (timed < 0) {
                Py_XDECREF(held);
                goto error;
            }
            quick = timed;
        }
        if (!quick) {
            Py_XDECREF(held);
            Py_CLEAR(key);
            PyObject *string = PyUnicode_Substring(text, start, start + length);
            if (string == NULL)
                goto error;
            PyObject *mine = line_hits(literals, hits, from, to, start);
            if (mine == NULL) {
                Py_DECREF(string);
                goto error;
            }
            declined = PyTuple_Pack(2, string, mine);
            Py_DECREF(string);
            Py_DECREF(mine);
            if (declined == NULL)
                goto error;
            break;
        }
        stamp_last = ts;
        stamped = 1;
        number++;
        if (kept >= 0) { /* release the group's kept record: counted, or made */
            Kept *old = &keeping.items[kept];
            if (tally && old->from == old->to) {
                counted++;
                earliest = old->ts < earliest ? old->ts : earliest;
                latest = old->ts > latest ? old->ts : latest;
            }
            else {
                int request = kept_request(self, old, &shapes, source, out);
                if (request < 0)
                    goto error;
                if (request == 0 && (held = kept_tuple(self, old, empty)) == NULL)
                    goto error; /* (made below) */
            }
            kept_remove(&keeping, kept);
        }
        else if (held != NULL) {
            if (PyDict_DelItem(pending, key) < 0) {
                Py_DECREF(held);
                goto error;
            }
            PyObject *found = PyTuple_GET_ITEM(held, 4);
            PyObject *when = PyTuple_GET_ITEM(held, 1);
            if (tally && PyAnySet_Check(found) && PySet_GET_SIZE(found) == 0
                && PyFloat_Check(when)) {
                double at = PyFloat_AS_DOUBLE(when);
                counted++;
                earliest = at < earliest ? at : earliest;
                latest = at > latest ? at : latest;
                Py_CLEAR(held);
            }
        }
        if (held != NULL) {
            PyObject *made = new_record((PyTypeObject *)line_type, source, held, &shapes,
                                        &literals->strings);
            int failed = made == NULL || PyList_Append(out, made) < 0;
            Py_XDECREF(made);
            Py_DECREF(held);
            if (failed)
                goto error;
        }
        /* the group: the pod, "[pod/" up to the next "/" (or the "]"), else the default */
        const Py_UCS1 *slash = memchr(line + 5, '/', (size_t)(c - 5));
        Py_ssize_t end = slash ? slash - line : c;
        PyObject *record_group = end > 5
                                     ? cached_substring(&literals->strings, text, start + 5,
                                                        start + end)
                                     : Py_NewRef(group);
        if (record_group == NULL)
            goto error;
        Py_ssize_t own = from; /* the hits in the message */
        while (own < to && hits[own].start < start + sp + 1)
            own++;
        Kept *fresh = &keeping.items[keeping.size++];
        fresh->key = key; /* the reference moves into the kept record */
        key = NULL;
        fresh->group = record_group;
        fresh->start = start + sp + 1;
        fresh->end = start + length;
        fresh->from = own;
        fresh->to = to;
        fresh->number = number;
        fresh->ts = ts;
    }
    if (kept_store(self, &keeping, pending, empty) < 0)
        goto error;
    if (stamped)
        Py_SETREF(last_ts, PyFloat_FromDouble(stamp_last));
    if (last_ts == NULL)
        goto error;
    PyObject *stamp = stamped ? PyFloat_FromDouble(stamp_last) : Py_NewRef(Py_None);
    if (stamp == NULL)
        goto error;
    PyObject *result = Py_BuildValue("(LNNLddN)", number, last_ts, stamp, counted, earliest,
                                     latest, declined ? declined : Py_NewRef(Py_None));
    return result;
error:
    kept_clear(&keeping);
    Py_XDECREF(key);
    Py_XDECREF(last_ts);
    Py_XDECREF(declined);
    return NULL;
}

static PyMethodDef Block_methods[] = {
    {"run", (PyCFunction)(void (*)(void))Block_run, METH_FASTCALL,
     "run(pending, partials, number, last_ts, tally, seconds, parse, Line, source, out, group, "
     "empty, access) -> (number, last_ts, stamp, counted, earliest, latest, declined)"},
    {NULL, NULL, 0, NULL},
};

PyTypeObject BlockType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "logscan._native.Block",
    .tp_doc = PyDoc_STR("A block of lines being framed by the quick lane (see Literals.block)."),
    .tp_basicsize = sizeof(Block),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)Block_dealloc,
    .tp_methods = Block_methods,
};

/* The Block type and the names new_line sets, once per process. */
int
lane_ready(void)
{
    return PyType_Ready(&BlockType) < 0 || PyType_Ready(&RequestsType) < 0 ? -1
                                                                           : records_ready();
}
