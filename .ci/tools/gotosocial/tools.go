//go:build tools

// Package tools pins GoToSocial, the Mastodon-API server the social connector tests talk to.
package tools

import _ "github.com/superseriousbusiness/gotosocial/cmd/gotosocial"
