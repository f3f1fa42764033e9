// Owned by the stdlib family: describes src/python/stdlib.ts values (see DESCRIPTION_FORMAT.md).
// Mirrors `describe_stdlib` in scripts/fixtures_stdlib.py, including its additions: "tz" for every
// tzinfo, "state" for collections carrying instance attributes, SafeUUID members and pytz zones.
import type { Desc, DescribeChild } from './describe.js';
import {
  Counter,
  DefaultDict,
  Deque,
  OrderedDict,
  PyDate,
  PyDateTime,
  PyDecimal,
  PyFraction,
  PyPytzTimezone,
  PySafeUUID,
  PyTime,
  PyTimedelta,
  PyTimezone,
  PyUUID,
  PyZoneInfo,
} from '../../src/python/stdlib.js';
import { isPlainObject } from '../../src/python/values.js';

function timedelta(v: PyTimedelta): Desc {
  return { t: 'timedelta', days: v.days, seconds: v.seconds, microseconds: v.microseconds } as Desc;
}

/** Mirrors Python's `state` check: present only for a non-empty attribute dict (or other non-None state). */
function withState(d: Record<string, unknown>, value: { __state__?: unknown }, child: DescribeChild): Desc {
  const s = value.__state__;
  const empty =
    s === undefined ||
    s === null ||
    (s instanceof Map && s.size === 0) ||
    (isPlainObject(s) && Object.keys(s).length === 0);
  if (!empty) d['state'] = child(s);
  return d as Desc;
}

function track(value: object, child: DescribeChild): { id: number } | { ref: Desc } {
  return child.track(value) as { id: number } | { ref: Desc };
}

function pairs(map: Map<unknown, unknown>, child: DescribeChild): Desc[][] {
  const out: Desc[][] = [];
  for (const [k, v] of map) {
    const kd = child(k);
    out.push([kd, child(v)]);
  }
  return out;
}

export function describeStdlib(value: unknown, child: DescribeChild): Desc | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (value instanceof PyDateTime || value instanceof PyTime) {
    const d: Record<string, unknown> = {
      t: value instanceof PyDateTime ? 'datetime' : 'time',
      v: value.isoformat(),
      fold: value.fold,
    };
    if (value.tzinfo !== null) d['tz'] = child(value.tzinfo);
    return d as Desc;
  }
  if (value instanceof PyDate) return { t: 'date', v: value.isoformat() } as Desc;
  if (value instanceof PyTimedelta) return timedelta(value);
  if (value instanceof PyTimezone) {
    return { t: 'timezone', offset: timedelta(value.offset), name: value.name } as Desc;
  }
  if (value instanceof PyZoneInfo) return { t: 'zoneinfo', key: value.key } as Desc;
  if (value instanceof PyDecimal) return { t: 'decimal', v: value.value } as Desc;
  if (value instanceof PyFraction) {
    return { t: 'fraction', v: `${value.numerator}/${value.denominator}` } as Desc;
  }
  if (value instanceof PyUUID) return { t: 'uuid', v: value.toString() } as Desc;
  if (value instanceof PySafeUUID) return { t: 'SafeUUID', v: value.name } as Desc;
  if (value instanceof PyPytzTimezone) {
    return { t: 'pytz', func: value.func, args: value.args.map((a) => child(a)) } as Desc;
  }
  if (value instanceof OrderedDict || value instanceof DefaultDict || value instanceof Counter) {
    const tr = track(value, child);
    if ('ref' in tr) return tr.ref;
    const t =
      value instanceof OrderedDict ? 'OrderedDict' : value instanceof Counter ? 'Counter' : 'defaultdict';
    const d: Record<string, unknown> = { t, id: tr.id };
    if (value instanceof DefaultDict) {
      d['factory'] = value.defaultFactory === null ? null : child(value.defaultFactory);
    }
    d['v'] = pairs(value, child);
    return withState(d, value, child);
  }
  if (value instanceof Deque) {
    const tr = track(value, child);
    if ('ref' in tr) return tr.ref;
    const d: Record<string, unknown> = { t: 'deque', id: tr.id, maxlen: value.maxlen };
    d['v'] = value.map((x) => child(x));
    return withState(d, value, child);
  }
  return undefined;
}
