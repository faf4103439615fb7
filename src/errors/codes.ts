/**
 * The one registry of cpiwatch error codes. Every error a user can see carries one of these codes;
 * docs/errors.md documents each (a test checks that every code is documented).
 * Codes are stable: never renumber or reuse one.
 */
export const ErrorCodes = {
  // Configuration (CPW1xx)
  CONFIG_INVALID: { code: 'CPW100', retriable: false, message: 'invalid configuration: %s' },
  CONFIG_FILE_UNREADABLE: { code: 'CPW101', retriable: false, message: 'cannot read configuration file %s: %s' },
  USAGE: { code: 'CPW102', retriable: false, message: 'usage: %s' },

  // Events in (CPW2xx)
  EVENT_NOT_JSON: { code: 'CPW200', retriable: false, message: 'event value is not valid JSON: %s' },
  EVENT_NOT_CLOUDEVENT: { code: 'CPW201', retriable: false, message: 'event is not a CloudEvents 1.0 event: %s' },
  EVENT_UNKNOWN_TYPE: { code: 'CPW202', retriable: false, message: 'unknown event type "%s"' },
  EVENT_DATA_INVALID: { code: 'CPW203', retriable: false, message: 'event data does not match the schema of %s: %s' },
  EVENT_TOO_LARGE: { code: 'CPW204', retriable: false, message: 'event is %s bytes, more than the limit of %s' },
  EVENT_TIME_INVALID: { code: 'CPW205', retriable: false, message: 'event time is unusable: %s' },
  EVENT_MISSING_FIELD: { code: 'CPW206', retriable: false, message: 'event of type %s lacks field %s needed by CPI %s' },
  EVENT_TOO_DEEP: { code: 'CPW207', retriable: false, message: 'event JSON is nested deeper than %s levels' },
  EVENT_CONTENT_TYPE: { code: 'CPW208', retriable: false, message: 'unsupported content type "%s": %s' },
  EVENT_FORBIDDEN_KEY: { code: 'CPW209', retriable: false, message: 'event JSON contains the forbidden key "__proto__" at %s' },

  // Rule files (CPW3xx)
  RULE_YAML_SYNTAX: { code: 'CPW300', retriable: false, message: 'YAML syntax error: %s' },
  RULE_SCHEMA: { code: 'CPW301', retriable: false, message: '%s' },
  RULE_UNKNOWN_FIELD: { code: 'CPW302', retriable: false, message: 'unknown field %s%s' },
  RULE_UNKNOWN_CPI: { code: 'CPW303', retriable: false, message: 'unknown CPI "%s"%s' },
  RULE_UNKNOWN_EVENT_TYPE: { code: 'CPW304', retriable: false, message: 'unknown event type "%s"%s' },
  RULE_DUPLICATE_ID: { code: 'CPW305', retriable: false, message: 'duplicate %s id "%s" (first defined at %s)' },
  RULE_WINDOW_RESOLUTION: { code: 'CPW306', retriable: false, message: 'window %s is not a positive multiple of resolution %s' },
  RULE_FOR_LONGER_THAN_WINDOW: { code: 'CPW307', retriable: false, message: '"for" %s is longer than the CPI window %s' },
  RULE_CLEAR_WRONG_SIDE: { code: 'CPW308', retriable: false, message: 'clear threshold %s is on the wrong side of the fire threshold %s (%s)' },
  RULE_GUARDRAIL_NEVER_ALLOWS: { code: 'CPW309', retriable: false, message: 'guardrails can never allow an offer: %s' },
  RULE_FILE_TOO_LARGE: { code: 'CPW310', retriable: false, message: 'rule file is %s bytes, more than the limit of %s' },
  RULE_AGGREGATE_KIND: { code: 'CPW311', retriable: false, message: 'aggregate %s does not apply to a %s CPI%s' },
  RULE_TARGET: { code: 'CPW312', retriable: false, message: 'target %s cannot be used here: %s' },
  RULE_NO_FILES: { code: 'CPW313', retriable: false, message: 'no rule files (*.yaml, *.yml) found in %s' },
  RULE_UNKNOWN_EVENT_FIELD: { code: 'CPW314', retriable: false, message: 'event type %s has no field "%s"%s' },
  RULE_TIME_ZONE: { code: 'CPW315', retriable: false, message: 'unknown time zone "%s"%s' },
  RULE_POLICY_DUPLICATE: { code: 'CPW316', retriable: false, message: 'policy is already set at %s; at most one rule file may set it' },
  RULE_CONDITION_NEVER_MATCHES: { code: 'CPW317', retriable: false, message: 'condition on %s can never match: %s' },
  RULE_FIELD_NOT_NUMERIC: { code: 'CPW318', retriable: false, message: 'field "%s" of %s is %s, but a number is needed here' },
  RULE_KILL_SWITCH_ON: { code: 'CPW319', retriable: false, message: 'kill switch is on: %s sends no offer (each decision is recorded as suppressed)' },
  RULE_FILE_TOO_COMPLEX: { code: 'CPW320', retriable: false, message: 'rule file is too complex: %s' },
  RULE_FILE_UNREADABLE: { code: 'CPW321', retriable: false, message: 'cannot read rule file: %s' },
  RULE_TEXT_PLACEHOLDER: { code: 'CPW322', retriable: false, message: 'placeholder %s in %s is never filled: cpiwatch sends rule texts exactly as written, so customers would read it%s' },
  RULE_FILE_EMPTY: { code: 'CPW323', retriable: false, message: 'rule file %s is empty (%s): an empty file is taken for a save cut short, not for "no rules"; delete the file to remove its rules' },
  RULE_CONDITION_FORM: { code: 'CPW345', retriable: false, message: 'conditions of the rule: %s' },
  RULE_CONDITIONS_SCOPE: { code: 'CPW346', retriable: false, message: 'CPI "%s" (%s) cannot be in one rule with "%s" (%s): the conditions of a rule are evaluated together, per scope and step, so their CPIs need the same groupBy and resolution' },
  RULE_COMPARE_PERIOD: { code: 'CPW347', retriable: false, message: 'compare period %s must be %s' },
  RULE_CPI_CUSTOMERS: { code: 'CPW349', retriable: false, message: 'customers of CPI "%s": %s' },
  RULE_TIERS: { code: 'CPW348', retriable: false, message: 'threshold tiers: %s' },
  TEMPLATE_FILE_INVALID: { code: 'CPW330', retriable: false, message: 'template file: %s' },
  TEMPLATE_SYNTAX: { code: 'CPW331', retriable: false, message: 'Liquid syntax error: %s' },
  TEMPLATE_UNKNOWN_VARIABLE: { code: 'CPW332', retriable: false, message: 'unknown template variable "%s"%s; the variables are listed in docs/rules.md, "Templates"' },
  TEMPLATE_UNKNOWN_FILTER: { code: 'CPW333', retriable: false, message: 'unknown Liquid filter "%s"%s' },
  TEMPLATE_NO_DEFAULT: { code: 'CPW334', retriable: false, message: 'template "%s" has translations (%s) but no default file %s, which customers of any other locale get' },
  EVENT_TYPE_DECLARATION: { code: 'CPW340', retriable: false, message: 'event type %s: %s' },
  EVENT_TYPE_DUPLICATE: { code: 'CPW341', retriable: false, message: 'event type %s is already declared at %s%s' },
  EVENT_TYPE_BUILTIN: { code: 'CPW342', retriable: false, message: 'event type %s is built in: %s' },

  // State store (CPW4xx)
  STORE_UNAVAILABLE: { code: 'CPW400', retriable: true, message: 'state store unavailable: %s' },
  STORE_SCRIPT: { code: 'CPW401', retriable: false, message: 'state store script %s failed: %s' },
  STATE_LOST: { code: 'CPW402', retriable: false, halts: true, message: 'the state in Redis was lost: %s; processing is stopped until it is rebuilt (docs/operations.md)' },
  REBUILD_REFUSED: { code: 'CPW403', retriable: false, message: 'cpiwatch rebuild refused: %s' },

  // Actions out (CPW5xx)
  OFFER_PUBLISH_FAILED: { code: 'CPW500', retriable: true, message: 'could not publish %s decision(s) to %s: %s' },
  EMAIL_SEND_FAILED: { code: 'CPW501', retriable: true, message: 'e-mail for offer %s failed: %s' },
  EMAIL_TEMPLATE_UNKNOWN: { code: 'CPW502', retriable: false, message: 'unknown %s template "%s"' },
  TEMPLATE_RENDER_FAILED: { code: 'CPW509', retriable: false, message: '%s template %s failed to render for offer %s: %s; %s' },
  OFFER_INVALID: { code: 'CPW503', retriable: false, message: 'record %s of the offers topic is not a %s event, skipped (no e-mail): %s' },
  DECISION_RECORD_INVALID: { code: 'CPW504', retriable: false, message: 'not an offer or decision event, skipped: %s' },

  // Kafka (CPW6xx)
  KAFKA_UNAVAILABLE: { code: 'CPW600', retriable: true, message: 'Kafka unavailable: %s' },
  DEAD_LETTER_FAILED: { code: 'CPW601', retriable: true, message: 'could not write dead letter: %s' },
  DEAD_LETTER_TRUNCATED: { code: 'CPW602', retriable: false, message: 'dead letter of %s truncated: %s bytes as a record, more than the %s bytes a record may take on %s; kept %s of %s bytes of the value' },
  OPS_RECORD_INVALID: { code: 'CPW603', retriable: false, message: 'record of the internal ops topic is unreadable (not written by this cpiwatch version?): %s' },
  KAFKA_RECORD_REJECTED: { code: 'CPW604', retriable: false, message: 'Kafka refused a record of %s: %s' },

  // Processing (CPW7xx)
  PROCESSING_FAILED: { code: 'CPW700', retriable: false, message: 'processing failed at %s: %s' },
} as const;

export type ErrorName = keyof typeof ErrorCodes;
export type ErrorCode = (typeof ErrorCodes)[ErrorName]['code'];
