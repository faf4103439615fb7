/** Output streams of a CLI command (injected so commands are testable in-process). */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const processIo: CliIo = {
  stdout: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  stderr: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
};
