// Minimal typings for pg-cursor (it ships none), for the tests only.
declare module 'pg-cursor' {
  export default class Cursor<Row = Record<string, unknown>> {
    constructor(text: string, values?: unknown[])
    text: string
    submit(connection: unknown): void
    read(rows: number): Promise<Row[]>
    close(): Promise<void>
  }
}
