// Which flows a user can touch, for the Flow filters: an admin every flow; anyone else
// the flows they may start, manage or hold any permission of ("<flow>.<anything>"),
// plus flows of tasks already in front of them (an open View needs no permission).
// One order everywhere: by title.

/** Flows sorted by title (then name), a new array. */
export function byTitle(flows) {
  // numeric: "WCP-2" before "WCP-10"
  return (flows || []).slice().sort((a, b) => String(a.title || a.name).localeCompare(String(b.title || b.name), undefined, { numeric: true })
    || String(a.name).localeCompare(String(b.name)));
}

/** The flows of `flows` that `user` can touch; `seen` names flows of listed tasks. */
export function touchableFlows(flows, user, seen = []) {
  if (!user) return [];
  if (user.is_admin) return byTitle(flows);
  const perms = Array.isArray(user.permissions) ? user.permissions : [];
  const named = new Set(seen.filter(Boolean));
  return byTitle((flows || []).filter((f) => named.has(f.name)
    || perms.some((p) => typeof p === 'string' && p.startsWith(`${f.name}.`))
    || (f.start_nodes || []).some((n) => n.can_start)));
}
