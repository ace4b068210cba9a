/* logscan._native: logscan's optional C part (see prefilter.py, framing.py, access.py,
 * core.py); pure Python does the same where it is not built. Which file does what:
 * _native.h. Here: the module, and the helpers every file uses.
 */
#include "_native.h"

/* *names[k] = the interned texts[k], for each k < n: the attribute names a file reads. */
int
interned(PyObject **const names[], const char *const texts[], size_t n)
{
    for (size_t k = 0; k < n; k++)
        if ((*names[k] = PyUnicode_InternFromString(texts[k])) == NULL)
            return -1;
    return 0;
}

/* The counts the C part reads and writes in Python objects (windows, incidents) are ints. */

/* *value = object.name */
int
long_attr(PyObject *object, PyObject *name, long long *value)
{
    PyObject *found = PyObject_GetAttr(object, name);
    if (found == NULL)
        return -1;
    *value = PyLong_AsLongLong(found);
    Py_DECREF(found);
    return *value == -1 && PyErr_Occurred() ? -1 : 0;
}

/* object.name = value */
int
set_long(PyObject *object, PyObject *name, long long value)
{
    PyObject *number = PyLong_FromLongLong(value);
    int failed = number == NULL || PyObject_SetAttr(object, name, number) < 0;
    Py_XDECREF(number);
    return failed ? -1 : 0;
}

/* list[index] += by */
int
list_add(PyObject *list, Py_ssize_t index, long long by)
{
    if (!PyList_CheckExact(list) || index < 0 || index >= PyList_GET_SIZE(list)) {
        PyErr_SetString(PyExc_IndexError, "no such count in a list of counts");
        return -1;
    }
    long long value = PyLong_AsLongLong(PyList_GET_ITEM(list, index));
    PyObject *sum = value == -1 && PyErr_Occurred() ? NULL : PyLong_FromLongLong(value + by);
    if (sum == NULL)
        return -1;
    PyList_SetItem(list, index, sum); /* steals the reference */
    return 0;
}

static PyMethodDef module_methods[] = {
    {"longest_line", (PyCFunction)longest_line, METH_O,
     "longest_line(data) -> the length of the longest line, as max(map(len, data.split(b'\\n')))"},
    {"match_access", (PyCFunction)(void (*)(void))match_access, METH_FASTCALL,
     "match_access(text, (literal, shape, table)) -> (method, path, status) of the request "
     "shape's match, or None"},
    {"weigh", (PyCFunction)(void (*)(void))weigh, METH_FASTCALL,
     "weigh(records, start, lanes, watermark, calm_until) -> (end, watermark, counted, "
     "earliest, latest, by_kind): Core.process_all's requests counted (see "
     "_native_weigh.c)"},
    {"reject", (PyCFunction)(void (*)(void))reject, METH_FASTCALL,
     "reject(lane, match, ts, now, cap) -> whether it counted a rejection that changes only "
     "counts and evidence, as Correlator._feed would (see _native_reject.c)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "logscan._native",
    .m_doc = PyDoc_STR("logscan's optional C part (see prefilter.py, framing.py); pure Python "
                       "does the same."),
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    if (PyType_Ready(&LiteralsType) < 0 || lane_ready() < 0 || weigh_ready() < 0
        || reject_ready() < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Literals", (PyObject *)&LiteralsType) < 0
        || PyModule_AddObjectRef(m, "Requests", (PyObject *)&RequestsType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
