/* core/workflow.h - Jumio workflow rules: status ranks and the overall decision of a details
 * document (src/core/workflow.c). Only jansson. */
#ifndef JUMIO_CORE_WORKFLOW_H
#define JUMIO_CORE_WORKFLOW_H

#include <jansson.h>

/* Rank of a workflow status: INITIATED 0, ACQUIRED 1, PROCESSED/SESSION_EXPIRED/TOKEN_EXPIRED 2,
 * anything else (or NULL) -1. */
int jumio_status_rank(const char *status);
/* 1 when status is final (rank 2). */
int jumio_status_is_final(const char *status);
/* Overall decision of a details object (docs/DESIGN.md "Decisions"): top-level decision.type when it is a string,
 * else derived from the capabilities. Returns a static string: PASSED, WARNING, REJECTED or
 * NOT_EXECUTED. */
const char *jumio_decision_of_details(json_t *details);
/* The decision-mode data object: {"definitionKey": workflow.definitionKey (or null),
 * "capabilities": {"<name>": "<derived type>", ...}}. New reference. */
json_t *jumio_decision_data(json_t *details);

#endif
