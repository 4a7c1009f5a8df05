// A Bluesky AppView for the tests (dev-env's TestBsky): it reads the PDS's
// firehose from the start, keeps its index in a PostgreSQL schema, and
// answers the app.bsky.* reads the PDS hands on to it (profiles,
// notifications, posts, search). When it listens it prints
// "APPVIEW_DID <did>": the PDS needs that DID to address it.
//
//   APPVIEW_PORT    the loopback port to listen on
//   APPVIEW_DB_URL  a PostgreSQL database of its own (postgresql://...)
//   PLC_URL         the PLC directory (plc.js)
//   PDS_PORT        the loopback port of the PDS (pds.js)
require('./loopback')
const http = require('node:http')
const { HandleResolver } = require('@atproto/identity')

const port = Number(process.env.APPVIEW_PORT)
const pdsPort = Number(process.env.PDS_PORT)
const dbURL = process.env.APPVIEW_DB_URL
const plcURL = process.env.PLC_URL
if (!port || !pdsPort || !dbURL || !plcURL) throw new Error('set APPVIEW_PORT, PDS_PORT, APPVIEW_DB_URL and PLC_URL')

// Handles under .test have no DNS: ask the PDS which DID a handle is, as
// the well-known HTTPS lookup would, with the handle as the Host header.
const resolve = HandleResolver.prototype.resolve
HandleResolver.prototype.resolve = function (handle) {
  if (!handle.endsWith('.test')) return resolve.call(this, handle)
  return new Promise((done) => {
    const req = http.get(
      { host: '127.0.0.1', port: pdsPort, path: '/.well-known/atproto-did', headers: { host: handle }, timeout: 3000 },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => done(res.statusCode === 200 ? body.trim() : undefined))
      },
    )
    req.on('error', () => done(undefined))
    req.on('timeout', () => {
      req.destroy()
      done(undefined)
    })
  })
}

const { TestBsky } = require('@atproto/dev-env')

TestBsky.create({
  plcUrl: plcURL,
  repoProvider: `ws://localhost:${pdsPort}`,
  dbPostgresUrl: dbURL,
  dbPostgresSchema: 'appview',
  port,
})
  .then((bsky) => console.log(`APPVIEW_DID ${bsky.serverDid}`))
  .catch((err) => {
    console.error('AppView failed:', err)
    process.exit(1)
  })
