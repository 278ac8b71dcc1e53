/**
 * The `pindb` command's dispatcher: `doctor`, `explain`, `--help`, `--version`, and the mapping of
 * errors to exit codes.
 *
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs'
import { doctorCommand } from './doctor.js'
import { explainCommand } from './explain.js'
import { MAIN_HELP } from './help.js'
import { CliError, EXIT, errorText, usageError } from './types.js'

/** The version in pindb's package.json (two directories above the built `dist/cli/index.js`). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
  return typeof pkg.version === 'string' ? pkg.version : 'unknown'
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code. Errors
 * become a one-line message on stderr and their exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const [command, ...rest] = argv
    switch (command) {
      case undefined:
        process.stderr.write(MAIN_HELP)
        return EXIT.usage
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(MAIN_HELP)
        return EXIT.ok
      case '-v':
      case '--version':
        process.stdout.write(`${version()}\n`)
        return EXIT.ok
      case 'doctor':
        return await doctorCommand(rest)
      case 'explain':
        return await explainCommand(rest)
      default:
        throw usageError(`unknown command ${JSON.stringify(command)}. Commands: doctor, explain. See \`pindb --help\`.`)
    }
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`pindb: ${err.message}\n`)
      return err.exitCode
    }
    process.stderr.write(`pindb: unexpected error: ${err instanceof Error && err.stack !== undefined ? err.stack : errorText(err)}\n`)
    return EXIT.cannotCheck
  }
}
