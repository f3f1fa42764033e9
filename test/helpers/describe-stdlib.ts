// Owned by the stdlib family: describes src/python/stdlib.ts values (see DESCRIPTION_FORMAT.md).
import type { Desc, DescribeChild } from './describe.js';

export function describeStdlib(_value: unknown, _child: DescribeChild): Desc | undefined {
  return undefined;
}
