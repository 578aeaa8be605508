/* The formats layer's door to jansson: typed reads of outside JSON that
 * name the field they fail on, and builders that track allocation failure.
 *
 * Every read checks the type it expects and says which field was wrong
 * ("Event.Attribute[2].to_ids: expected true or false"); nothing here
 * interprets a value beyond its JSON type and MISP's habit of writing
 * numbers and booleans as strings.
 */
#include <stdlib.h>
#include <string.h>

#include "fmt_internal.h"

cdx_err cdx__fmt_json_load(json_t **out, const char *text, size_t len, const char *what,
                           cdx_errbuf *eb)
{
    *out = NULL;
    if (len > CDX_FMT_INPUT_MAX)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "%s: %zu bytes, more than the %u this reads", what,
                        len, CDX_FMT_INPUT_MAX);
    json_error_t err;
    /* jansson refuses invalid UTF-8, NUL escapes (without JSON_ALLOW_NUL)
     * and nesting past JSON_PARSER_MAX_DEPTH, each with a position. */
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: JSON error at line %d, column %d: %s", what,
                        err.line, err.column, err.text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s: expected a JSON object", what);
    }
    *out = doc;
    return CDX_OK;
}

static cdx_err s_type(const char *path, const char *key, const char *want, cdx_errbuf *eb)
{
    return cdx_errf(eb, CDX_ERR_FORMAT, "%s.%s: expected %s", path, key, want);
}

cdx_err cdx__fmt_jstr(json_t *obj, const char *path, const char *key, const char **out,
                      cdx_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return CDX_OK;
    if (!json_is_string(v))
        return s_type(path, key, "a string", eb);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.%s: contains a NUL character", path, key);
    *out = json_string_value(v);
    return CDX_OK;
}

cdx_err cdx__fmt_jstr_req(json_t *obj, const char *path, const char *key, const char **out,
                          cdx_errbuf *eb)
{
    cdx_err rc = cdx__fmt_jstr(obj, path, key, out, eb);
    if (rc == CDX_OK && !*out)
        return cdx_errf(eb, CDX_ERR_FORMAT, "%s.%s: required field is missing", path, key);
    return rc;
}

cdx_err cdx__fmt_jnum(json_t *obj, const char *path, const char *key, uint64_t *out, bool *present,
                      cdx_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    *present = false;
    if (!v || json_is_null(v))
        return CDX_OK;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
    } else if (!json_is_string(v) || !cdx_parse_u64(json_string_value(v), out)) {
        return s_type(path, key, "a whole number (as MISP writes it, \"3\" or 3)", eb);
    }
    *present = true;
    return CDX_OK;
}

cdx_err cdx__fmt_jbool(json_t *obj, const char *path, const char *key, bool *out, bool *present,
                       cdx_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    *present = false;
    if (!v || json_is_null(v))
        return CDX_OK;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
    } else if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = json_integer_value(v) == 1;
    } else if (json_is_string(v) &&
               (strcmp(json_string_value(v), "0") == 0 || strcmp(json_string_value(v), "1") == 0)) {
        *out = json_string_value(v)[0] == '1';
    } else {
        return s_type(path, key, "true or false", eb);
    }
    *present = true;
    return CDX_OK;
}

cdx_err cdx__fmt_jarr(json_t *obj, const char *path, const char *key, json_t **out, cdx_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return CDX_OK;
    if (!json_is_array(v))
        return s_type(path, key, "an array", eb);
    if (json_array_size(v) > CDX_FMT_ITEMS_MAX)
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "%s.%s: %zu entries, more than the %u this reads",
                        path, key, json_array_size(v), CDX_FMT_ITEMS_MAX);
    *out = v;
    return CDX_OK;
}

cdx_err cdx__fmt_jobj(json_t *obj, const char *path, const char *key, json_t **out, cdx_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return CDX_OK;
    if (!json_is_object(v))
        return s_type(path, key, "an object", eb);
    *out = v;
    return CDX_OK;
}

bool cdx__fmt_jhas(json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return false;
    if (json_is_string(v))
        return json_string_length(v) > 0 && strcmp(json_string_value(v), "0") != 0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_object(v))
        return json_object_size(v) > 0;
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    return true;
}

void cdx__fmt_jset(json_t *o, const char *key, json_t *v, bool *ok)
{
    if (!o || !v || json_object_set_new(o, key, v) != 0)
        *ok = false;
}

void cdx__fmt_jsets(json_t *o, const char *key, const char *s, bool *ok)
{
    cdx__fmt_jset(o, key, json_string(s ? s : ""), ok);
}

void cdx__fmt_jpush(json_t *arr, json_t *v, bool *ok)
{
    if (!arr || !v || json_array_append_new(arr, v) != 0)
        *ok = false;
}

cdx_err cdx__fmt_json_dump(char **out, json_t *o, bool pretty)
{
    *out = NULL;
    if (!o)
        return CDX_ERR_NOMEM;
    size_t flags = JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    *out = json_dumps(o, flags);
    json_decref(o);
    return *out ? CDX_OK : CDX_ERR_NOMEM;
}
