// The bureau's review states on the phone (no imports: downloads.js merges with it).
//
// The 督导室 returns a submitted visit (已退回: the inspector amends and resubmits it)
// or accepts it (已通过: read-only for good). A visit resubmitted on this phone but not
// yet synced must not fall back to 已退回 when the server's list still says so.

/** The local state of a visit the server reports as `v`, given the phone's copy `old` and the usual merge. */
export function reviewedState(old, v, merged) {
  const local = old && old.local_state;
  if (v.state === "accepted") return "accepted";
  if (v.state === "returned") {
    if (local === "submitted" && old.resubmitted_round === v.review_round) return "submitted";
    return "returned";
  }
  return merged;
}

/** Local states in which nothing can be changed on the phone. */
export const LOCKED = new Set(["submitted", "accepted"]);
