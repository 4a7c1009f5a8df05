package main

import (
	"context"
	"fmt"
	"strings"
)

// command is one row of the command table. The usage text, the dispatch of
// Run, the package doc (doc.go) and the README's list of commands are all
// made from this table; a test keeps doc.go and the README in step.
type command struct {
	name string // "user create": a group and its subcommand, or one word
	args string // the arguments, as the usage shows them
	help string // what it does, wrapped when printed
	run  func(m *Main, ctx context.Context, args []string) error
}

var commands = []command{
	{"serve", "", "start the server; migrates the database forward", (*Main).serve},
	{"migrate", "", "apply database migrations", (*Main).migrate},
	{"migrate-data", "--to postgres://… [--dry-run]", "copy the SQLite data directory into an empty PostgreSQL database, byte for byte, then verify it (counts, keys, audit trail, a sample of people); resumable", (*Main).migrateData},
	{"version", "", "print the version", func(m *Main, _ context.Context, args []string) error { return m.version(args) }},
	{"user create", "--email E --role R", "create a user; prints a generated password once", (*Main).userCreate},
	{"user list", "", "list users, their roles, second factor and state", (*Main).userList},
	{"user set-roles", "--email E --role R", "replace a user's roles at once (break-glass: the API makes data roles wait for a second person; audited with the OS user and host)", (*Main).userSetRoles},
	{"user grants", "[--state pending|approved|rejected|expired|withdrawn|all]", "list grants of roles that reach personal data", (*Main).userGrants},
	{"user approve", "--id ID", "approve a pending grant of roles (break-glass, audited)", (*Main).userApprove},
	{"user reject", "--id ID", "reject a pending grant of roles", (*Main).userReject},
	{"user disable", "--email E", "disable a user: ends every session, stops every token", (*Main).userDisable},
	{"user enable", "--email E", "enable a disabled user", (*Main).userEnable},
	{"user reset-password", "--email E", "print a one-time link (valid 1 hour) to set a new password: the break-glass path when no mail server is configured, audited with the OS user and host", (*Main).userResetPassword},
	{"token create", "--email E [--purpose P,Q] [--name N] [--ttl 2160h]",
		"create an API token (default: every purpose the user's roles allow; 90 days, at most 366); prints only the token on stdout, stores only its hash",
		(*Main).tokenCreate},
	{"token list", "--email E", "list a user's tokens, their purposes and last use", (*Main).tokenList},
	{"token revoke", "--id ID", "revoke a token", (*Main).tokenRevoke},
	{"policy show", "[--policy FILE]", "print the policy in force (the built-in one by default)", (*Main).policyShow},
	{"policy check", "FILE", "check a policy file; errors name their line", (*Main).policyCheck},
	{"policy record", "--controller F [--format md|html|json] [--lang de|en]",
		"the record of processing activities (Art. 30) and the information texts (Art. 13/14), generated from the policy, the controller file and the settings in force", (*Main).policyRecord},
	{"policy diff", "NEW.yaml [--format text|json]", "what a new policy changes: purposes, categories, legal bases, periods; for a shorter period, whom the next retention run would erase (counted, nothing changed)", (*Main).policyDiff},
	{"erase", "--contact ID --reason TEXT", "erase a contact (Art. 17); the reason must not name the person", (*Main).erase},
	{"hold place", "--contact ID --reason TEXT", "place a legal hold: a held contact is neither erased nor expired", (*Main).holdPlace},
	{"hold release", "--id ID", "release a legal hold", (*Main).holdRelease},
	{"hold list", "--contact ID", "list a contact's legal holds", (*Main).holdList},
	{"retention run", "[--dry-run] [--json]", "apply the retention policy now and print the report", (*Main).retentionRun},
	{"keys status", "", "the key-encryption key's versions and the data keys under each", (*Main).keysStatus},
	{"keys rotate", "", "add a KEK version and re-wrap every data key under it (online, resumable; the data is not re-encrypted)", (*Main).keysRotate},
	{"keys generate", "", "print a new random key (for TRESOR_KEK)", (*Main).keysGenerate},
	{"keys backup", "FILE", "export the KEK (every version) and the index and link keys, encrypted with a passphrase", (*Main).keysBackup},
	{"keys restore", "FILE [--force]", "write them back into DATA_DIR/keys", (*Main).keysRestore},
	{"backup keygen", "--identity-file F", "make an age identity for backups; prints its public key", (*Main).backupKeygen},
	{"backup create", "FILE --recipient R", "a consistent online backup, encrypted to R, without keys; its data keys go to a key backup of their own in DATA_DIR/key-backups, kept 35 days (TRESOR_KEY_BACKUP_KEEP), then shredded", (*Main).backupCreate},
	{"backup verify", "FILE --identity F [--keys K]", "decrypt, check the hash, restore into a temporary place, check integrity, schema, the pairing with the newest key backup (or K) and that every data key unwraps", (*Main).backupVerify},
	{"backup restore", "FILE --identity F [--keys K]", "restore (the server stopped) with the data keys of the newest key backup (or K); people erased since it stay unreadable (reported), people erased or objecting since the backup stay erased and suppressed", (*Main).backupRestore},
	{"backup prune", "[--json]", "delete the key backups older than the window and destroy their keys (backup create and the server's retention run do it too)", (*Main).backupPrune},
	{"import", "FORMAT FILE --purpose P --legal-basis B [--network N] [--mapping F] [--dry-run] [--json]",
		"import linkedin, vcard, mastodon-following or csv through the ingestion gate; prints what was created, refused and dropped", (*Main).importCmd},
	{"requests export", "--id ID --out FILE [--format json|html]",
		"write the export that answers a request of access or portability (Art. 15, 20) to a new file, for handing over by post", (*Main).requestsExport},
	{"notices list", "[--overdue]", "the Art. 14 information duties of imported people", (*Main).noticesList},
	{"notices send", "", "mail the open Art. 14 notices", (*Main).noticesSend},
	{"notices given", "--id ID --channel C", "record a notice given by post, phone or in person", (*Main).noticesGiven},
	{"channel add", "mastodon --name N --server URL | bluesky --name N --handle H",
		"add a company account (Mastodon: authorize in the browser, paste the code; Bluesky: an app password)", (*Main).channelAdd},
	{"channel list", "", "the company's channels", (*Main).channelList},
	{"channel delete", "CHANNEL", "delete a channel", (*Main).channelDelete},
	{"channel post", "CHANNEL TEXT [--at T]", "publish a company post now or later", (*Main).channelPost},
	{"channel posts", "CHANNEL", "list a channel's posts", (*Main).channelPosts},
	{"channel poll", "CHANNEL", "read a channel's mentions and direct messages once", (*Main).channelPoll},
	{"audit verify", "[--public-key F]", "recompute the audit trail: exit 0 intact, 1 tampered (naming the entry)", (*Main).auditVerify},
	{"audit log", "[--contact ID] [--actor A] [--action X] [--purpose P] [--since T] [--until T] [--json]",
		"who accessed a contact; what a user or token accessed", (*Main).auditLog},
	{"audit export", "--actor A --since T --until T", "the contacts an actor touched, as CSV, for a breach notification", (*Main).auditExport},
	{"audit prove", "SEQ", "an entry's inclusion proof against the newest signed checkpoint", (*Main).auditProve},
	{"audit checkpoint", "", "sign a checkpoint now", (*Main).auditCheckpoint},
	{"audit public-key", "", "print the key that verifies checkpoints", (*Main).auditPublicKey},
	{"audit prune", "--keep DURATION", "remove entries older than the audit retention period", (*Main).auditPrune},
}

// lookup finds the command that args name and returns it with the
// remaining arguments; nil when there is none (the reason is printed).
func (m *Main) lookup(args []string) (*command, []string) {
	group := false
	for i, c := range commands {
		word, sub, isGroup := strings.Cut(c.name, " ")
		if word != args[0] {
			continue
		}
		if !isGroup {
			return &commands[i], args[1:]
		}
		group = true
		if len(args) > 1 && sub == args[1] {
			return &commands[i], args[2:]
		}
	}
	if group {
		fmt.Fprintf(m.Stderr, "tresor: %s needs a subcommand\n\n%s", args[0], usage())
	} else {
		fmt.Fprintf(m.Stderr, "tresor: unknown command %q\n\n%s", args[0], usage())
	}
	return nil, nil
}

// The columns of the command list.
const (
	useWidth  = 41 // "tresor NAME ARGS", padded
	helpWidth = 58 // the description, wrapped
)

// commandList renders the table, each line after indent.
func commandList(indent string) string {
	var b strings.Builder
	for _, c := range commands {
		use := strings.TrimSpace("tresor " + c.name + " " + c.args)
		lines := wrap(c.help, helpWidth)
		if len([]rune(use)) < useWidth {
			fmt.Fprintf(&b, "%s%-*s%s\n", indent, useWidth, use, lines[0])
			lines = lines[1:]
		} else {
			fmt.Fprintf(&b, "%s%s\n", indent, use)
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "%s%*s%s\n", indent, useWidth, "", l)
		}
	}
	return b.String()
}

// wrap breaks text into lines of at most width runes, between words.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case len([]rune(line))+1+len([]rune(w)) > width:
			lines = append(lines, line)
			line = w
		default:
			line += " " + w
		}
	}
	return append(lines, line)
}

// usage is the text of `tresor help`.
func usage() string {
	return "Tresor — the privacy-by-design social CRM.\n\nUsage:\n" + commandList("  ") + `
Run "tresor COMMAND -h" for the flags of a command. Every flag has a TRESOR_*
environment variable; secrets may also come from a file named by *_FILE.
`
}
