#!/usr/bin/env node
/**
 * The `pindb` command: `pindb doctor` checks a deployment's real topology against its pindb
 * config; `pindb explain` shows how pindb classifies and routes a SQL statement.
 *
 * Exit codes: 0 all good; 1 problems found (or `explain --expect` mismatch); 2 usage or config
 * error; 3 could not check (driver missing). See `pindb --help`.
 *
 * @module
 */
import { main } from './main.js'

const code = await main(process.argv.slice(2))
// Flush stdout, then exit: a config module may leave pools or timers running.
process.stdout.write('', () => process.exit(code))
