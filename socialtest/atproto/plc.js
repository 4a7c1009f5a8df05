// The PLC directory for the tests: DIDs of the PDS's accounts and of the
// AppView are registered here, in memory only, and gone when it stops.
//
//   PLC_PORT  the loopback port to listen on
require('./loopback')
const { PlcServer, Database } = require('@did-plc/server')

const port = Number(process.env.PLC_PORT)
if (!port) throw new Error('set PLC_PORT')

PlcServer.create({ db: Database.mock(), port })
  .start()
  .then(() => console.log(`PLC ready on ${port}`))
  .catch((err) => {
    console.error('PLC failed:', err)
    process.exit(1)
  })
