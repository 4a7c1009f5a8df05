//go:build unix

package socialtest

import (
	"syscall"
	"testing"
)

// Freeze stops the server's process (SIGSTOP): it keeps its sockets, so
// connections are accepted by the kernel but nothing answers — a server
// that hangs. Thaw lets it go on; the cleanup thaws it before stopping it.
func (g *GTS) Freeze(tb testing.TB) {
	tb.Helper()
	if err := g.proc.Signal(syscall.SIGSTOP); err != nil {
		tb.Fatalf("freeze GoToSocial: %v", err)
	}
	tb.Cleanup(func() { _ = g.proc.Signal(syscall.SIGCONT) })
}

// Thaw lets a frozen server go on (SIGCONT).
func (g *GTS) Thaw(tb testing.TB) {
	tb.Helper()
	if err := g.proc.Signal(syscall.SIGCONT); err != nil {
		tb.Fatalf("thaw GoToSocial: %v", err)
	}
}
