/** Python's spelling of a dict lookup, for error paths: `root['state_dict']['fc.weight']`. */
export function itemPath(parent: string, key: string): string {
  return `${parent}[${JSON.stringify(key).replace(/^"|"$/g, "'")}]`;
}
