/* logscan._native, the records: what the quick lane (_native_lane.c) makes of a line it
 * frames. A record it holds is kept as offsets into its block while it runs (Kept), becomes
 * a held tuple (number, ts, text, group, literals) in Framer._pending when the lane returns,
 * and a Line, or a request (access.py: an item of a run of requests, or a request tuple),
 * when it is released.
 */
#include "_native.h"

/* The names of Line's fields, in the order of a held tuple's parts (see new_line). */
static PyObject *LINE_FIELDS[8];
static const char *const LINE_FIELD_NAMES[8] = {
    "source", "number", "text", "ts", "ts_inferred", "group", "truncated", "literals",
};

/* An instance of `type` (a slots dataclass without __post_init__) with each of `names` set
 * to its value, as its __init__ sets them, without running that __init__, which costs more
 * than the rest of framing a line (and, for a frozen one, goes round its __setattr__). */
PyObject *
filled(PyTypeObject *type, PyObject *const *names, PyObject *const *values, int n)
{
    PyObject *made = type->tp_alloc(type, 0);
    for (int k = 0; made != NULL && k < n; k++)
        if (PyObject_GenericSetAttr(made, names[k], values[k]) < 0)
            Py_CLEAR(made);
    return made;
}

/* Framer._line for a held tuple (number, ts, text, group, literals) of `source`. */
static PyObject *
new_line(PyTypeObject *type, PyObject *source, PyObject *held)
{
    PyObject *values[8] = {
        source, PyTuple_GET_ITEM(held, 0), PyTuple_GET_ITEM(held, 2), PyTuple_GET_ITEM(held, 1),
        Py_False, PyTuple_GET_ITEM(held, 3), Py_False, PyTuple_GET_ITEM(held, 4),
    };
    return filled(type, LINE_FIELDS, values, 8);
}

/* The Line of a request (Core._request makes the same): `text` its message. */
PyObject *
request_line(PyTypeObject *type, PyObject *source, long long number, PyObject *text, double ts,
             PyObject *group, PyObject *literals)
{
    PyObject *count = PyLong_FromLongLong(number), *time = PyFloat_FromDouble(ts);
    PyObject *values[8] = {source, count, text, time, Py_False, group, Py_False, literals};
    PyObject *line = count && time ? filled(type, LINE_FIELDS, values, 8) : NULL;
    Py_XDECREF(count);
    Py_XDECREF(time);
    return line;
}

/* What a released held tuple becomes: a request tuple (source, number, ts, text, group,
 * (method, path, status), kind) when its only literal is that of a request shape in
 * `shapes` (the kind-th) and the shape's regex matches its text (access.py's Request), else
 * its Line. */
PyObject *
new_record(PyTypeObject *type, PyObject *source, PyObject *held, const Shapes *shapes,
           Strings *strings)
{
    PyObject *found = PyTuple_GET_ITEM(held, 4), *text = PyTuple_GET_ITEM(held, 2);
    if (shapes->size > 0 && PyFrozenSet_CheckExact(found) && PySet_GET_SIZE(found) == 1
        && PyUnicode_Check(text) && PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND) {
        for (int kind = 0; kind < shapes->size; kind++) {
            int contains = PySet_Contains(found, shapes->items[kind].literal);
            if (contains < 0)
                return NULL;
            if (!contains)
                continue;
            PyObject *values = request_values(&shapes->items[kind], text, 0,
                                              PyUnicode_GET_LENGTH(text), strings);
            if (values == NULL)
                return NULL;
            if (values == Py_None) {
                Py_DECREF(values);
                break;
            }
            PyObject *index = PyLong_FromLong(kind);
            PyObject *request = index == NULL ? NULL
                                : PyTuple_Pack(7, source, PyTuple_GET_ITEM(held, 0),
                                               PyTuple_GET_ITEM(held, 1), text,
                                               PyTuple_GET_ITEM(held, 3), values, index);
            Py_XDECREF(index);
            Py_DECREF(values);
            return request;
        }
    }
    return new_line(type, source, held);
}

/* Put a kept record into the run of requests at the end of `out` (see _native_requests.c)
 * when every hit in its message is one request shape's literal and the shape's regex matches
 * the message (when new_record would make a request tuple of its held tuple): 1; 0 when not
 * (the caller makes the record the usual way); -1 on error. */
int
kept_request(Block *self, const Kept *kept, const Shapes *shapes, PyObject *source,
             PyObject *out)
{
    const Hit *hits = self->hits.items;
    if (kept->from == kept->to || shapes->size == 0)
        return 0;
    for (Py_ssize_t k = kept->from + 1; k < kept->to; k++)
        if (hits[k].literal != hits[kept->from].literal)
            return 0; /* two literals: not a request's */
    Literals *literals = self->literals;
    PyObject *name = PyTuple_GET_ITEM(literals->literals, hits[kept->from].literal);
    int kind = -1;
    for (int k = 0; k < shapes->size && kind < 0; k++) {
        int same = shapes->items[k].literal == name
                   || PyUnicode_Compare(shapes->items[k].literal, name) == 0;
        if (PyErr_Occurred())
            return -1;
        kind = same ? k : -1;
    }
    if (kind < 0)
        return 0;
    PyObject *values = request_values(&shapes->items[kind], self->text, kept->start, kept->end,
                                      &literals->strings);
    if (values == NULL || values == Py_None) {
        Py_XDECREF(values);
        return values == NULL ? -1 : 0;
    }
    Requests *run = requests_open(out, source, self->text);
    Item item = {kept->number, kept->ts, kept->start, kept->end, kept->group, values, kind};
    int failed = run == NULL || requests_add(run, &item) < 0;
    Py_DECREF(values);
    return failed ? -1 : 1;
}

Py_ssize_t
kept_find(Keeping *keeping, PyObject *key)
{
    for (Py_ssize_t k = 0; k < keeping->size; k++)
        if (keeping->items[k].key == key)
            return k;
    Py_ssize_t n = PyUnicode_GET_LENGTH(key);
    for (Py_ssize_t k = 0; k < keeping->size; k++) {
        PyObject *other = keeping->items[k].key;
        if (PyUnicode_GET_LENGTH(other) == n
            && memcmp(PyUnicode_1BYTE_DATA(other), PyUnicode_1BYTE_DATA(key), (size_t)n) == 0)
            return k;
    }
    return -1;
}

void
kept_remove(Keeping *keeping, Py_ssize_t k)
{
    Py_DECREF(keeping->items[k].key);
    Py_DECREF(keeping->items[k].group);
    memmove(&keeping->items[k], &keeping->items[k + 1],
            (size_t)(keeping->size - k - 1) * sizeof(Kept));
    keeping->size--;
}

void
kept_clear(Keeping *keeping)
{
    while (keeping->size > 0)
        kept_remove(keeping, keeping->size - 1);
}

/* The held tuple (number, ts, message, group, literals) of a kept record. */
PyObject *
kept_tuple(Block *self, const Kept *kept, PyObject *empty)
{
    PyObject *number = PyLong_FromLongLong(kept->number);
    PyObject *ts = PyFloat_FromDouble(kept->ts);
    PyObject *message = PyUnicode_Substring(self->text, kept->start, kept->end);
    PyObject *found = literal_set(self->literals, self->hits.items, kept->from, kept->to, empty);
    PyObject *held = NULL;
    if (number && ts && message && found)
        held = PyTuple_Pack(5, number, ts, message, kept->group, found);
    Py_XDECREF(number);
    Py_XDECREF(ts);
    Py_XDECREF(message);
    Py_XDECREF(found);
    return held;
}

/* Put the kept records into `pending`, in order, and forget them; -1 on error. */
int
kept_store(Block *self, Keeping *keeping, PyObject *pending, PyObject *empty)
{
    int failed = 0;
    for (Py_ssize_t k = 0; k < keeping->size && !failed; k++) {
        PyObject *held = kept_tuple(self, &keeping->items[k], empty);
        failed = held == NULL || PyDict_SetItem(pending, keeping->items[k].key, held) < 0;
        Py_XDECREF(held);
    }
    kept_clear(keeping);
    return failed ? -1 : 0;
}

/* The names new_line sets, once per process. */
int
records_ready(void)
{
    PyObject **names[8];
    for (int k = 0; k < 8; k++)
        names[k] = &LINE_FIELDS[k];
    return interned(names, LINE_FIELD_NAMES, 8);
}
