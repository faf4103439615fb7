/** A number as cpiwatch prints it: integers as they are, others to 6 significant digits; none for no value. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return 'none';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}
