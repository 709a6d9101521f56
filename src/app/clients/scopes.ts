/** Treezor scopes (D-scopes). A client is granted a subset; a token carries the intersection asked for. */
export const ALL_SCOPES = ['read_only', 'read_write', 'read_all', 'admin', 'legal', 'keys'] as const;
export type Scope = (typeof ALL_SCOPES)[number];

export function isScope(s: string): s is Scope {
  return (ALL_SCOPES as readonly string[]).includes(s);
}
