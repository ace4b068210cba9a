/* logscan._native: logscan's optional C part (see prefilter.py, framing.py, access.py);
 * pure Python does the same where it is not built. The literal scan is in
 * _native_literals.c, the framer's quick lane in _native_lane.c, the request lines' matchers
 * in _native_access.c, a run of requests in _native_requests.c, the quiet request's weighing
 * in _native_weigh.c.
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
