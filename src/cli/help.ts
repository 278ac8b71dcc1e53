/**
 * Help texts of the `pindb` CLI.
 *
 * @internal
 * @module
 */

const EXIT_CODES = `Exit codes:
  0  all good (doctor: every alias reachable, in its role, following its primary, within --max-lag-ms;
     explain: always, unless --expect does not match)
  1  problems found: a misrouted or broken topology that should block a deploy (doctor),
     or a classification different from --expect (explain)
  2  usage or configuration error: bad flags, config module missing or invalid
  3  could not check: the database driver (pg or mysql2) is not installed`

/** `pindb --help`. */
export const MAIN_HELP = `pindb — routes database queries between primaries and read replicas, with pinning.

Usage:
  pindb doctor [--config <module>] [--json] [--timeout <ms>] [--max-lag-ms <ms>]
  pindb explain [--dialect postgres|mysql] [--write-functions a,b] [--expect read|write] [--json] "<SQL>" | -
  pindb <command> --help
  pindb --version

Commands:
  doctor    Connect to every alias of your pindb config and check the real topology: each primary is
            a primary, each replica is in recovery / replicating from ITS primary, lag is acceptable.
  explain   Classify one SQL statement exactly as the pindb adapters do, and say where it is routed.

${EXIT_CODES}
`

/** `pindb doctor --help`. */
export const DOCTOR_HELP = `Usage: pindb doctor [options]

Connects to every alias of a pindb configuration (primaries, replicas, unmanaged databases) and checks:
  - reachable, within --timeout;
  - role: PostgreSQL pg_is_in_recovery(); MariaDB/MySQL @@read_only and SHOW REPLICA/SLAVE STATUS;
  - lag of each replica: its replay position (PostgreSQL LSN, MariaDB GTID) against the primary's.
    Caught up = 0, however long ago the last write was. Behind = the time it takes to replay the
    primary's position of that moment, watched for up to --lag-watch-ms. MySQL without GTID:
    Seconds_Behind_Master. PostgreSQL also reports the WAL bytes behind;
  - that a misrouted write would be refused: a PostgreSQL hot standby refuses every write; on
    MariaDB/MySQL the configured user must not bypass read_only (SUPER, READ_ONLY ADMIN,
    CONNECTION_ADMIN, ALL PRIVILEGES on *.*), and read_only must be on;
  - that each replica follows ITS primary: PostgreSQL same system_identifier, in recovery, WAL receiver
    streaming from the primary; MariaDB Master_Host/Master_Port and Master_Server_Id of the primary,
    distinct server ids, consistent GTID positions.
Problems: a primary that is in recovery or read-only, a replica that is not a replica or follows another
server, stopped replication, an unreachable alias, lag above --max-lag-ms, a replica that accepts
the configured user's writes (read_only off, or a privilege that bypasses it).

Options:
  --config <module>    Config module, resolved from the current directory.
                       Default: ./pindb.config.mjs, else ./pindb.config.js.
                       Its default export (or export "pindb") is a PinDb instance (createPinDb(...))
                       or the options object of createPinDb; export const driver = 'pg' | 'mysql2'.
  --driver pg|mysql2   Overrides the module's "driver" export. Without either, the driver is inferred
                       only from unambiguous settings (postgres:// or mysql:// URLs, port 5432 or 3306).
  --timeout <ms>       Connect and query timeout per server. Default 5000.
  --max-lag-ms <ms>    A replica lagging more is a problem. Default 30000.
  --max-lag-bytes <n>  PostgreSQL: a replica more WAL bytes behind is a problem. Default: no limit.
  --lag-watch-ms <ms>  How long to watch a replica that is behind to measure its lag.
                       Default: --max-lag-ms (at most 60000) + 250.
  --json               Print the report as JSON on stdout.
  -h, --help           This help.

The driver (pg, or mysql2 for MariaDB/MySQL) is imported from your project, like your app does.

${EXIT_CODES}
`

/** `pindb explain --help`. */
export const EXPLAIN_HELP = `Usage: pindb explain [options] "<SQL>"
       echo "<SQL>" | pindb explain [options] -

Classifies one SQL statement with pindb's classifier and routing plan — exactly what pindb/pg and
pindb/mysql2 do — and prints: read or write, the reason, hint / transaction / session facts, and where
pindb routes it: a replica; the primary (pins the DB set in greedy mode, needs a pin in strict mode);
or the primary without pinning (session state, hint comment).

Options:
  --dialect postgres|mysql    SQL dialect. Default postgres (mysql also covers MariaDB).
  --write-functions a,b       More function names whose call makes a statement a write
                              (the adapters' writeFunctions option).
  --expect read|write         Exit 1 when the statement is not classified so (guard a query in CI).
  --json                      Print the result as JSON on stdout.
  -h, --help                  This help.

Exit codes:
  0  classified (read or write: explain is informational), and as --expect says if given
  1  --expect given and the classification differs
  2  usage error (no SQL, bad flags)
`
