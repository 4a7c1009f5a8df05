//go:build !unix

package socialtest

import "testing"

// Freeze is not available here: the test is skipped.
func (g *GTS) Freeze(tb testing.TB) { tb.Skip("freezing a process needs SIGSTOP (unix)") }

// Thaw is not available here.
func (g *GTS) Thaw(tb testing.TB) {}
