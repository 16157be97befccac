/**
 * Returned by a candidate test (and by the router) when deciding needs the request body:
 * a `post_arg.*` var. The pipeline reads the body once, then matches again (admin-api.md §6.4).
 */
export const NEEDS_BODY = Symbol('needs-body');

/** The outcome of testing one route candidate against a request. */
export type CandidateVerdict = boolean | typeof NEEDS_BODY;
