// A Personal Data Server for the tests, configured entirely by the PDS_*
// variables @atproto/pds reads itself (port, data directory, secrets, the
// PLC directory and the AppView's URL and DID).
require('./loopback')
const { PDS, envToCfg, envToSecrets, readEnv } = require('@atproto/pds')

const env = readEnv()
PDS.create(envToCfg(env), envToSecrets(env))
  .then((pds) => pds.start())
  .then(() => console.log(`PDS ready on ${env.port}`))
  .catch((err) => {
    console.error('PDS failed:', err)
    process.exit(1)
  })
