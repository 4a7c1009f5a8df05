//go:build tools

// Package tools pins Mailpit, the SMTP server the mail tests talk to.
package tools

import _ "github.com/axllent/mailpit"
