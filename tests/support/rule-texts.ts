// Rule file texts the tests write into rules folders of their own.

/** A CPI on its own: the average number of steps of a return, by channel. */
export const RETURNS_CPI = `cpis:
  - id: returns
    measure: { value: { event: return.completed, field: steps } }
    groupBy: channel
    window: 1d
    resolution: 1h
`;

/** A rule on RETURNS_CPI (in another file, or after it in the same one). */
export const RETURNS_RULE = `rules:
  - id: painful-returns
    cpi: returns
    aggregate: avg
    threshold: { above: 4 }
    target: { contributors: {} }
    offer: { kind: apology, code: SORRY, title: Sorry, expiresAfter: 7d }
`;

/** The shipped curbside rule cut down to what the pipeline tests need, with their own timing: a CPI
 * `<name>-wait` (curbside wait over the promised wait, by store) and a rule `<name>-drink` on its p90
 * (above 1.25, clear 1.0, at least 3 samples) offering any customer en route to the store within
 * 45 minutes the drink `<NAME>-DRINK`, with a cooldown and no other guardrail or filter. */
export function curbsideDrinkRules(name: string, o: { window: string; resolution: string; allowedLateness: string; for: string; cooldown: string }): string {
  return `
cpis:
  - id: ${name}-wait
    measure:
      duration:
        start: { event: curbside.arrived, correlate: orderId }
        end: { event: curbside.handed-over, correlate: orderId }
        relativeTo: promisedWaitSeconds
    groupBy: storeId
    window: ${o.window}
    resolution: ${o.resolution}
    allowedLateness: ${o.allowedLateness}
rules:
  - id: ${name}-drink
    cpi: ${name}-wait
    aggregate: p90
    threshold: { above: 1.25, clear: 1.0 }
    for: ${o.for}
    minSamples: 3
    target:
      enRoute: { within: 45m }
    guardrails:
      cooldown: ${o.cooldown}
    offer:
      kind: complimentary-drink
      code: ${name.toUpperCase()}-DRINK
      title: A drink on us
      expiresAfter: 1h
`;
}
