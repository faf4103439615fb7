/** `cpiwatch config`: the effective configuration (defaults, CPIWATCH_CONFIG file, environment, *_FILE secrets), secrets masked. */
import { loadSettings, maskedSettings, SETTINGS, type SettingName } from '../../config/settings.js';
import { defineCommand } from '../flags.js';

export const configCommand = defineCommand({
  name: 'config',
  usage: ['cpiwatch config [--format json|env]'],
  description: `Prints the configuration \`cpiwatch run\` would use: defaults, then the JSON file named by
CPIWATCH_CONFIG, then environment variables (a secret may come from <NAME>_FILE). Passwords (in
URLs too), the SASL password and the SMTP password are masked. An invalid setting is reported with
the variable's name (exit 1). Every setting is described in docs/operations.md.`,
  options: {
    format: { type: 'string', choices: ['json', 'env'], default: 'json', description: 'json: one JSON object; env: NAME=value lines, with the documentation of each as a comment' },
  },
}, async ({ format }, _args, io) => {
  const masked = maskedSettings(loadSettings(process.env));
  if (format === 'json') {
    // unset settings print as null, so every setting appears
    io.stdout(JSON.stringify(masked, (_key, value: unknown) => (value === undefined ? null : value), 2));
    return 0;
  }
  const lines: string[] = [];
  for (const [name, value] of Object.entries(masked)) {
    lines.push(`# ${SETTINGS[name as SettingName].doc}`);
    lines.push(`${name}=${value === undefined ? '' : Array.isArray(value) ? value.join(',') : String(value)}`);
  }
  io.stdout(lines.join('\n'));
  return 0;
});
