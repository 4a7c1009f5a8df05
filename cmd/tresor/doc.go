// Code generated from the command table (commands.go) by `go test ./cmd/tresor -run TestCommandDocs -update`; DO NOT EDIT.

// Command tresor is the Tresor server and its administration tool.
//
//	tresor serve                             start the server; migrates the database forward
//	tresor migrate                           apply database migrations
//	tresor migrate-data --to postgres://… [--dry-run]
//	                                         copy the SQLite data directory into an empty PostgreSQL
//	                                         database, byte for byte, then verify it (counts, keys,
//	                                         audit trail, a sample of people); resumable
//	tresor version                           print the version
//	tresor user create --email E --role R    create a user; prints a generated password once
//	tresor user list                         list users, their roles, second factor and state
//	tresor user set-roles --email E --role R replace a user's roles at once (break-glass: the API makes
//	                                         data roles wait for a second person; audited with the OS
//	                                         user and host)
//	tresor user grants [--state pending|approved|rejected|expired|withdrawn|all]
//	                                         list grants of roles that reach personal data
//	tresor user approve --id ID              approve a pending grant of roles (break-glass, audited)
//	tresor user reject --id ID               reject a pending grant of roles
//	tresor user disable --email E            disable a user: ends every session, stops every token
//	tresor user enable --email E             enable a disabled user
//	tresor user reset-password --email E     print a one-time link (valid 1 hour) to set a new
//	                                         password: the break-glass path when no mail server is
//	                                         configured, audited with the OS user and host
//	tresor token create --email E [--purpose P,Q] [--name N] [--ttl 2160h]
//	                                         create an API token (default: every purpose the user's
//	                                         roles allow; 90 days, at most 366); prints only the token
//	                                         on stdout, stores only its hash
//	tresor token list --email E              list a user's tokens, their purposes and last use
//	tresor token revoke --id ID              revoke a token
//	tresor policy show [--policy FILE]       print the policy in force (the built-in one by default)
//	tresor policy check FILE                 check a policy file; errors name their line
//	tresor policy record --controller F [--format md|html|json] [--lang de|en]
//	                                         the record of processing activities (Art. 30) and the
//	                                         information texts (Art. 13/14), generated from the policy,
//	                                         the controller file and the settings in force
//	tresor policy diff NEW.yaml [--format text|json]
//	                                         what a new policy changes: purposes, categories, legal
//	                                         bases, periods; for a shorter period, whom the next
//	                                         retention run would erase (counted, nothing changed)
//	tresor erase --contact ID --reason TEXT  erase a contact (Art. 17); the reason must not name the
//	                                         person
//	tresor hold place --contact ID --reason TEXT
//	                                         place a legal hold: a held contact is neither erased nor
//	                                         expired
//	tresor hold release --id ID              release a legal hold
//	tresor hold list --contact ID            list a contact's legal holds
//	tresor retention run [--dry-run] [--json]
//	                                         apply the retention policy now and print the report
//	tresor keys status                       the key-encryption key's versions and the data keys under
//	                                         each
//	tresor keys rotate                       add a KEK version and re-wrap every data key under it
//	                                         (online, resumable; the data is not re-encrypted)
//	tresor keys generate                     print a new random key (for TRESOR_KEK)
//	tresor keys backup FILE                  export the KEK (every version) and the index and link
//	                                         keys, encrypted with a passphrase
//	tresor keys restore FILE [--force]       write them back into DATA_DIR/keys
//	tresor backup keygen --identity-file F   make an age identity for backups; prints its public key
//	tresor backup create FILE --recipient R  a consistent online backup, encrypted to R, without keys;
//	                                         its data keys go to a key backup of their own in
//	                                         DATA_DIR/key-backups, kept 35 days
//	                                         (TRESOR_KEY_BACKUP_KEEP), then shredded
//	tresor backup verify FILE --identity F [--keys K]
//	                                         decrypt, check the hash, restore into a temporary place,
//	                                         check integrity, schema, the pairing with the newest key
//	                                         backup (or K) and that every data key unwraps
//	tresor backup restore FILE --identity F [--keys K]
//	                                         restore (the server stopped) with the data keys of the
//	                                         newest key backup (or K); people erased since it stay
//	                                         unreadable (reported), people erased or objecting since
//	                                         the backup stay erased and suppressed
//	tresor backup prune [--json]             delete the key backups older than the window and destroy
//	                                         their keys (backup create and the server's retention run
//	                                         do it too)
//	tresor import FORMAT FILE --purpose P --legal-basis B [--network N] [--mapping F] [--dry-run] [--json]
//	                                         import linkedin, vcard, mastodon-following or csv through
//	                                         the ingestion gate; prints what was created, refused and
//	                                         dropped
//	tresor requests export --id ID --out FILE [--format json|html]
//	                                         write the export that answers a request of access or
//	                                         portability (Art. 15, 20) to a new file, for handing over
//	                                         by post
//	tresor notices list [--overdue]          the Art. 14 information duties of imported people
//	tresor notices send                      mail the open Art. 14 notices
//	tresor notices given --id ID --channel C record a notice given by post, phone or in person
//	tresor channel add mastodon --name N --server URL | bluesky --name N --handle H
//	                                         add a company account (Mastodon: authorize in the browser,
//	                                         paste the code; Bluesky: an app password)
//	tresor channel list                      the company's channels
//	tresor channel delete CHANNEL            delete a channel
//	tresor channel post CHANNEL TEXT [--at T]
//	                                         publish a company post now or later
//	tresor channel posts CHANNEL             list a channel's posts
//	tresor channel poll CHANNEL              read a channel's mentions and direct messages once
//	tresor audit verify [--public-key F]     recompute the audit trail: exit 0 intact, 1 tampered
//	                                         (naming the entry)
//	tresor audit log [--contact ID] [--actor A] [--action X] [--purpose P] [--since T] [--until T] [--json]
//	                                         who accessed a contact; what a user or token accessed
//	tresor audit export --actor A --since T --until T
//	                                         the contacts an actor touched, as CSV, for a breach
//	                                         notification
//	tresor audit prove SEQ                   an entry's inclusion proof against the newest signed
//	                                         checkpoint
//	tresor audit checkpoint                  sign a checkpoint now
//	tresor audit public-key                  print the key that verifies checkpoints
//	tresor audit prune --keep DURATION       remove entries older than the audit retention period
//
// Configuration comes from flags and TRESOR_* environment variables (see -h of each command);
// secrets may also come from a file named by *_FILE.
package main
