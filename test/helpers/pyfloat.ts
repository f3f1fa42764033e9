/**
 * Python's `repr(float)` in TypeScript, written independently of src/ so tests do not check the
 * library against itself. Python prints the shortest digits that round-trip (as JS does), but places
 * the decimal point differently: scientific notation when the exponent is < -4 or >= 16, a two-digit
 * minimum exponent (`1e-05`, `1e+16`), and `.0` after integral values in positional form.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // JS's String() yields the shortest round-trip digits; only their layout needs changing.
  let s = String(Math.abs(x));
  let exp = 0;
  const ei = s.indexOf('e');
  if (ei >= 0) {
    exp = Number(s.slice(ei + 1));
    s = s.slice(0, ei);
  }
  const dot = s.indexOf('.');
  const intPart = dot >= 0 ? s.slice(0, dot) : s;
  const frac = dot >= 0 ? s.slice(dot + 1) : '';
  let digits = intPart + frac;
  // value = 0.<digits> * 10**decpt
  let decpt = intPart.length + exp;
  while (digits.length > 1 && digits[0] === '0') {
    digits = digits.slice(1);
    decpt--;
  }
  digits = digits.replace(/0+$/, '');
  const e = decpt - 1; // value = d.ddd * 10**e
  if (e < -4 || e >= 16) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ae = Math.abs(e);
    return `${sign}${mant}e${e < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (digits.length <= decpt) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}
