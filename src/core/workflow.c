/* core/workflow.c - Jumio workflow rules of mod_jumio: status ranks and the overall decision of
 * a details document (docs/DESIGN.md "Decisions"). Only jansson; no httpd calls. Every jansson object made here is
 * released here, except the documented "new reference" results. */
#include <stdio.h>
#include <string.h>

#include "core/workflow.h"

/* Tally of capability entries by decision type (docs/DESIGN.md "Decisions"). */
typedef struct {
    int rejected;
    int warning;
    int passed;
    int other; /* executed, but neither PASSED, WARNING nor REJECTED (unknown or missing) */
} jumio_workflow_tally_t;

/* Rank of a workflow status: INITIATED 0, ACQUIRED 1, PROCESSED/SESSION_EXPIRED/TOKEN_EXPIRED 2,
 * anything else (or NULL) -1. */
int jumio_status_rank(const char *status)
{
    if (!status)
        return -1;
    if (strcmp(status, "INITIATED") == 0)
        return 0;
    if (strcmp(status, "ACQUIRED") == 0)
        return 1;
    if (strcmp(status, "PROCESSED") == 0 || strcmp(status, "SESSION_EXPIRED") == 0
        || strcmp(status, "TOKEN_EXPIRED") == 0)
        return 2;
    return -1;
}

/* 1 when status is final (rank 2). */
int jumio_status_is_final(const char *status)
{
    return jumio_status_rank(status) == 2;
}

/* The decision.type string of a JSON object, or NULL. */
static const char *jumio_workflow_decision_type(json_t *obj)
{
    return json_string_value(json_object_get(json_object_get(obj, "decision"), "type"));
}

/* Count one capability entry into t by its decision.type. */
static void jumio_workflow_tally_entry(jumio_workflow_tally_t *t, json_t *entry)
{
    const char *type = jumio_workflow_decision_type(entry);

    if (!type)
        t->other++;
    else if (strcmp(type, "REJECTED") == 0)
        t->rejected++;
    else if (strcmp(type, "WARNING") == 0)
        t->warning++;
    else if (strcmp(type, "PASSED") == 0)
        t->passed++;
    else if (strcmp(type, "NOT_EXECUTED") != 0)
        t->other++;
}

/* Count every entry of one capability value (an array; anything else counts as one entry). */
static void jumio_workflow_tally_capability(jumio_workflow_tally_t *t, json_t *cap)
{
    size_t i;
    json_t *entry;

    if (!json_is_array(cap)) {
        jumio_workflow_tally_entry(t, cap);
        return;
    }
    json_array_foreach(cap, i, entry)
    {
        jumio_workflow_tally_entry(t, entry);
    }
}

/* The decision a tally stands for (docs/DESIGN.md "Decisions"); a static string. */
static const char *jumio_workflow_tally_result(const jumio_workflow_tally_t *t)
{
    if (t->rejected > 0)
        return "REJECTED";
    if (t->warning > 0)
        return "WARNING";
    if (t->passed > 0 && t->other == 0)
        return "PASSED";
    return "NOT_EXECUTED";
}

/* The static name of a known decision type; unknown ones count as NOT_EXECUTED (never PASSED). */
static const char *jumio_workflow_known_decision(const char *type)
{
    static const char *const known[] = { "PASSED", "WARNING", "REJECTED", "NOT_EXECUTED" };
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(type, known[i]) == 0)
            return known[i];
    return "NOT_EXECUTED";
}

/* Overall decision of a details object (docs/DESIGN.md "Decisions"): top-level decision.type when it is a string,
 * else derived from the capabilities. Returns a static string. */
const char *jumio_decision_of_details(json_t *details)
{
    jumio_workflow_tally_t t = { 0, 0, 0, 0 };
    const char *top = jumio_workflow_decision_type(details);
    const char *name;
    json_t *cap;

    if (top)
        return jumio_workflow_known_decision(top);
    json_object_foreach(json_object_get(details, "capabilities"), name, cap)
    {
        jumio_workflow_tally_capability(&t, cap);
    }
    return jumio_workflow_tally_result(&t);
}

/* workflow.definitionKey of details as a new JSON value: the string as given (an integer as its
 * decimal text), else null. */
static json_t *jumio_workflow_definition_key(json_t *details)
{
    json_t *key = json_object_get(json_object_get(details, "workflow"), "definitionKey");
    char buf[32];

    if (json_is_string(key))
        return json_string(json_string_value(key));
    if (json_is_integer(key)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(key));
        return json_string(buf);
    }
    return json_null();
}

/* {"<capability>": "<derived type>", ...} of details; only names and types, no data. */
static json_t *jumio_workflow_capability_types(json_t *details)
{
    json_t *out = json_object(), *cap;
    const char *name;

    if (!out)
        return NULL;
    json_object_foreach(json_object_get(details, "capabilities"), name, cap)
    {
        jumio_workflow_tally_t t = { 0, 0, 0, 0 };
        jumio_workflow_tally_capability(&t, cap);
        if (json_object_set_new(out, name, json_string(jumio_workflow_tally_result(&t))) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* The decision-mode data object: {"definitionKey": workflow.definitionKey (or null),
 * "capabilities": {"<name>": "<derived type>", ...}}. New reference; NULL when out of memory. */
json_t *jumio_decision_data(json_t *details)
{
    json_t *out = json_object();

    if (!out)
        return NULL;
    if (json_object_set_new(out, "definitionKey", jumio_workflow_definition_key(details)) != 0
        || json_object_set_new(out, "capabilities", jumio_workflow_capability_types(details))
               != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}
