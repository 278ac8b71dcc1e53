// Express 4, installed as the alias `express4` (npm:express@4) to test the middleware on both
// majors; its API for what the tests use matches Express 5's typings.
declare module 'express4' {
  import express from 'express'
  export default express
}
