// Owned by the numpy family: describes src/numpy values (see DESCRIPTION_FORMAT.md).
import type { Desc, DescribeChild } from './describe.js';

export function describeNumpy(_value: unknown, _child: DescribeChild): Desc | undefined {
  return undefined;
}
