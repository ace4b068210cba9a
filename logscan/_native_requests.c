/* logscan._native, a run of requests: what the C lane hands on for a block's requests.
 *
 * Block.run puts a request it releases from its block into a Requests object at the end of
 * `out` (a new one when the last record there is not this block's run), not a tuple: its
 * number, time, where its message is in the block, its group, its (method, path, status) and
 * its kind. weigh counts them where they are (_native_weigh.c); run[i] makes request i's
 * tuple (access.py's Request) for Python, the one the lane would have made, and iterating a
 * run gives them in order. A run holds its block's text while it lives (one batch).
 */
#include "_native.h"

static void
Requests_dealloc(Requests *self)
{
    for (Py_ssize_t k = 0; k < self->size; k++) {
        Py_DECREF(self->items[k].group);
        Py_DECREF(self->items[k].values);
    }
    PyMem_Free(self->items);
    Py_XDECREF(self->source);
    Py_XDECREF(self->text);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The run at the end of `out` for this block's `text`, or a new one put there (borrowed). */
Requests *
requests_open(PyObject *out, PyObject *source, PyObject *text)
{
    Py_ssize_t n = PyList_GET_SIZE(out);
    if (n > 0) {
        PyObject *last = PyList_GET_ITEM(out, n - 1);
        if (Py_IS_TYPE(last, &RequestsType) && ((Requests *)last)->text == text
            && ((Requests *)last)->source == source)
            return (Requests *)last;
    }
    Requests *run = PyObject_New(Requests, &RequestsType);
    if (run == NULL)
        return NULL;
    run->source = Py_NewRef(source);
    run->text = Py_NewRef(text);
    run->items = NULL;
    run->size = run->capacity = 0;
    int failed = PyList_Append(out, (PyObject *)run) < 0;
    Py_DECREF(run); /* `out` holds it */
    return failed ? NULL : run;
}

/* Add a request (group and values are taken as new references); -1 on error. */
int
requests_add(Requests *run, const Item *item)
{
    if (run->size == run->capacity) {
        Item *items = grow(run->items, &run->capacity, sizeof *items, 64);
        if (items == NULL)
            return -1;
        run->items = items;
    }
    Item *fresh = &run->items[run->size++];
    *fresh = *item;
    Py_INCREF(fresh->group);
    Py_INCREF(fresh->values);
    return 0;
}

static Py_ssize_t
Requests_length(Requests *self)
{
    return self->size;
}

/* run[i]: (source, number, ts, text, group, (method, path, status), kind) */
static PyObject *
Requests_item(Requests *self, Py_ssize_t i)
{
    if (i < 0 || i >= self->size) {
        PyErr_SetString(PyExc_IndexError, "request index out of range");
        return NULL;
    }
    const Item *item = &self->items[i];
    PyObject *number = PyLong_FromLongLong(item->number);
    PyObject *ts = number ? PyFloat_FromDouble(item->ts) : NULL;
    PyObject *text = ts ? PyUnicode_Substring(self->text, item->start, item->end) : NULL;
    PyObject *kind = text ? PyLong_FromLong(item->kind) : NULL;
    PyObject *request = kind ? PyTuple_Pack(7, self->source, number, ts, text, item->group,
                                            item->values, kind)
                             : NULL;
    Py_XDECREF(number);
    Py_XDECREF(ts);
    Py_XDECREF(text);
    Py_XDECREF(kind);
    return request;
}

static PySequenceMethods Requests_sequence = {
    .sq_length = (lenfunc)Requests_length,
    .sq_item = (ssizeargfunc)Requests_item,
};

PyTypeObject RequestsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "logscan._native.Requests",
    .tp_doc = PyDoc_STR("A run of requests the C lane released from one block (see Block.run); "
                        "run[i] is a request tuple."),
    .tp_basicsize = sizeof(Requests),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)Requests_dealloc,
    .tp_as_sequence = &Requests_sequence,
};
