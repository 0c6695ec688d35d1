// What GitHub refuses or cuts, in one place: the renderers fit the report under these.

/** GitHub refuses a comment body longer than this (422 "Body is too long"). */
export const COMMENT_CHAR_LIMIT = 65_536;
/** What our comment body may use: room under the limit for whatever the poster adds. */
export const COMMENT_MAX_CHARS = 65_000;
/** A step's job summary is capped at 1 MiB, counted in bytes; ours stays at or under this. */
export const SUMMARY_MAX_BYTES = 1_000_000;
