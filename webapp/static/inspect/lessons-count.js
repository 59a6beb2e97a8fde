// The 教研员's progress counted on the phone, so records made offline move it at once.
//
// The same rule as the server's (checklists/quotas.py `tally` and `pace_text`): a record
// counts when it is live, of a counted kind and form, dated in the quota's window, and at
// a school that fits — assigned (包片) to the 教研员 on that day when the quota says so,
// and of the item's school profile. The target (prorated for a mid-term assignment)
// comes from the server with the bundle. Pure functions: no DOM, no storage.

/** Today on the phone as YYYY-MM-DD (local time: the phone is in China). */
export function localToday() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** Days from `a` to `b` (YYYY-MM-DD), b − a. */
export function daysBetween(a, b) {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86400000);
}

/** Whether `school` (from the bundle) was assigned to the 教研员 on `day`. */
export function isAssignedOn(school, day) {
  return Boolean(school) && school.postings.some((p) => p.starts_on <= day && (!p.ends_on || day <= p.ends_on));
}

function fitsProfile(appliesTo, school) {
  if (appliesTo.stages.length && !appliesTo.stages.includes(school.stage)) return false;
  if (appliesTo.locations.length && !appliesTo.locations.includes(school.location)) return false;
  return !(appliesTo.boarding_only && !school.is_boarding);
}

function isRestricted(quota) {
  const a = quota.applies_to;
  return quota.schools === "assigned" || a.stages.length > 0 || a.locations.length > 0 || a.boarding_only;
}

/** Whether a record at `school` (or none) counts toward `quota`. */
export function countsAt(quota, school, day) {
  if (quota.schools === "assigned" && !isAssignedOn(school, day)) return false;
  if (!school) return !isRestricted(quota);
  return fitsProfile(quota.applies_to, school);
}

/** {counted, apart} of `records` toward `quota`; `schools` maps id → bundle school. */
export function tally(quota, records, schools) {
  let counted = 0;
  let apart = 0;
  for (const record of records) {
    if (record.is_deleted) continue;
    const day = record.occurred_on;
    if (day < quota.window.start || day > quota.window.end) continue;
    if (!quota.kinds.includes(record.kind)) continue;
    if (quota.forms.length && !quota.forms.includes(record.form)) continue;
    const school = record.school_id == null ? null : schools.get(record.school_id);
    if (countsAt(quota, school, day)) counted += 1;
    else apart += 1;
  }
  return { counted, apart };
}

/** "还需 6 节，剩余 5 周" and friends, as the server words them. */
export function paceText(target, done, today, quota) {
  const remaining = Math.max(0, target - done);
  const unit = quota.unit;
  if (target === 0) return "本期无计入的包片学校";
  if (remaining === 0) return "已达标";
  const start = quota.active_start;
  const end = quota.window.end;
  if (today > end) return `已结束，差 ${remaining} ${unit}`;
  if (today < start) return `未开始，需 ${remaining} ${unit}`;
  const days = daysBetween(today, end) + 1;
  return `还需 ${remaining} ${unit}，${days >= 7 ? `剩余 ${Math.ceil(days / 7)} 周` : `剩余 ${days} 天`}`;
}

/**
 * Per quota of the bundle: {quota, done, apart, target, pace}.
 * The server's standing when the bundle came (it counts every record, also those older than
 * the ones the phone keeps) plus what changed on the phone since: a record whose write is not
 * the one the bundle had counts as it is now, minus how the bundle's copy of it counted.
 */
export function progress(bundle, records, today = localToday()) {
  const schools = new Map(bundle.schools.map((s) => [s.id, s]));
  const changed = records.filter((r) => r.write_id !== r.bundle_write_id);
  const before = changed.filter((r) => r.bundle_copy).map((r) => r.bundle_copy);
  return bundle.quotas.map((quota) => {
    let { counted, apart } = tally(quota, records, schools);
    if (quota.standing) {
      const now = tally(quota, changed, schools);
      const then = tally(quota, before, schools);
      counted = quota.standing.done + now.counted - then.counted;
      apart = quota.standing.apart + now.apart - then.apart;
    }
    return { quota, done: counted, apart, target: quota.target, pace: paceText(quota.target, counted, today, quota) };
  });
}

/** The 教研员's schools this term with their lesson count; those with none come first. */
export function schoolsThisTerm(bundle, records) {
  const term = bundle.term;
  if (!term) return [];
  const mine = bundle.schools.filter((s) =>
    s.postings.some((p) => p.starts_on <= term.ends_on && (!p.ends_on || p.ends_on >= term.starts_on)),
  );
  const rows = mine.map((school) => ({
    school,
    lessons: records.filter(
      (r) =>
        !r.is_deleted &&
        r.kind === "lesson" &&
        r.school_id === school.id &&
        r.occurred_on >= term.starts_on &&
        r.occurred_on <= term.ends_on,
    ).length,
  }));
  return rows.sort((a, b) => a.lessons - b.lessons);
}

/** Whether a record dated `day` can no longer change (its term has ended). */
export function isLockedDay(bundle, day) {
  const term = bundle && bundle.term;
  if (!term) return false;
  return day < term.starts_on || (term.is_closed && day <= term.ends_on);
}
