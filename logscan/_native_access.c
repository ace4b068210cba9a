/* logscan._native, the access line: the http.access signature's regex, as C.
 *
 * access.py turns the fast path on only for a signature whose regex is exactly
 *
 *     "(?P<method>[A-Z]+) (?P<path>[^ "?]*)[^"]* HTTP/[0-9.]+" (?P<status>\d{3})\b
 *
 * and access_match finds what that regex's search finds, in a 1-byte (Latin-1) text: the
 * leftmost match and its three groups. Each part of it can match one way only:
 *   - [A-Z]+ must be followed by a space, which it cannot hold: it is the longest run;
 *   - a shorter path only gives [^"]* more to take, which it could take anyway: the path is
 *     the longest run of [^ "?];
 *   - [^"]* and [0-9.]+ cannot pass a quote, so the pattern's next quote is the text's first
 *     quote after the path; [0-9.]+ is the whole run of digits and dots before it (the
 *     character before it must be the "/" of " HTTP/"), and " HTTP/" must start at or after
 *     the path (a space cannot be inside it);
 *   - \d{3} is three ASCII digits (the only \d below U+0100; access.py checks), and \b holds
 *     when the next character is not a word character: `ends` says which are not (access.py
 *     works it out with the pattern itself).
 * A failed start moves on to the next quote, as the regex search does. tests/test_native.py
 * compares the two on generated lines.
 */
#include "_native.h"

static int
is_version(Py_UCS1 c)
{
    return (c >= '0' && c <= '9') || c == '.';
}

/* 1 and the spans [method, path, status] (start, end pairs) of the match in s[0:n], else 0. */
int
access_match(const Py_UCS1 *s, Py_ssize_t n, const unsigned char *ends, Py_ssize_t spans[6])
{
    const Py_UCS1 *quote = memchr(s, '"', (size_t)n);
    while (quote != NULL) {
        Py_ssize_t open = quote - s;
        Py_ssize_t k = open + 1;
        while (k < n && s[k] >= 'A' && s[k] <= 'Z')
            k++;
        if (k > open + 1 && k < n && s[k] == ' ') {
            Py_ssize_t path = k + 1, path_end = k + 1;
            while (path_end < n && s[path_end] != ' ' && s[path_end] != '"'
                   && s[path_end] != '?')
                path_end++;
            const Py_UCS1 *close = memchr(s + path_end, '"', (size_t)(n - path_end));
            if (close != NULL) {
                Py_ssize_t q = close - s, version = q;
                while (version > path && is_version(s[version - 1]))
                    version--;
                Py_ssize_t status = q + 2;
                if (version < q && version - 6 >= path && memcmp(s + version - 6, " HTTP/", 6) == 0
                    && status + 3 <= n && s[q + 1] == ' ' && s[status] >= '0' && s[status] <= '9'
                    && s[status + 1] >= '0' && s[status + 1] <= '9' && s[status + 2] >= '0'
                    && s[status + 2] <= '9' && (status + 3 == n || ends[s[status + 3]])) {
                    spans[0] = open + 1;
                    spans[1] = k;
                    spans[2] = path;
                    spans[3] = path_end;
                    spans[4] = status;
                    spans[5] = status + 3;
                    return 1;
                }
            }
        }
        quote = open + 1 < n ? memchr(s + open + 1, '"', (size_t)(n - open - 1)) : NULL;
    }
    return 0;
}

/* The groups (method, path, status) of the match in `text` (a 1-byte str), or None; with
 * `strings`, each group's str is given out again while it is the same text. */
PyObject *
access_values(PyObject *text, const unsigned char *ends, Strings *strings)
{
    Py_ssize_t spans[6];
    if (!access_match(PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text), ends, spans))
        Py_RETURN_NONE;
    PyObject *values = PyTuple_New(3);
    for (int k = 0; values != NULL && k < 3; k++) {
        PyObject *value = strings != NULL
                              ? cached_substring(strings, text, spans[2 * k], spans[2 * k + 1])
                              : PyUnicode_Substring(text, spans[2 * k], spans[2 * k + 1]);
        if (value == NULL)
            Py_CLEAR(values);
        else
            PyTuple_SET_ITEM(values, k, value);
    }
    return values;
}

/* The `ends` table of an access argument (bytes of 256), or NULL with an error set. */
const unsigned char *
access_ends(PyObject *ends)
{
    if (!PyBytes_Check(ends) || PyBytes_GET_SIZE(ends) != 256) {
        PyErr_SetString(PyExc_TypeError, "ends must be 256 bytes");
        return NULL;
    }
    return (const unsigned char *)PyBytes_AS_STRING(ends);
}

/* match_access(text, ends): the module function tests compare with the regex. */
PyObject *
match_access(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "match_access(text, ends)");
        return NULL;
    }
    const unsigned char *ends = access_ends(args[1]);
    if (ends == NULL)
        return NULL;
    if (PyUnicode_KIND(args[0]) != PyUnicode_1BYTE_KIND) {
        PyErr_SetString(PyExc_ValueError, "match_access takes 1-byte text only");
        return NULL;
    }
    return access_values(args[0], ends, NULL);
}
